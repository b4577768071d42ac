#include "storage/database_pool.hpp"

#include <caf/actor_cast.hpp>
#include <caf/message_view.hpp>

namespace authnode {

caf::behavior database_pool(database_pool_ptr self,
                            std::vector<database_actor> members) {
  for (auto& m : members) {
    auto member = caf::actor_cast<caf::actor>(m);
    self->link_to(member);
    self->state.members.push_back(std::move(member));
  }
  self->set_default_handler(
    [](caf::scheduled_actor* ptr,
       caf::message_view& msg) -> caf::result<caf::message> {
      auto self = static_cast<database_pool_ptr>(ptr);
      auto& st = self->state;
      auto& member = st.members[st.next];
      st.next = (st.next + 1) % st.members.size();
      self->delegate(member, msg.move_content_to_message());
      return caf::delegated<caf::message>{};
    });
  return {
    // Each member queues mail and wakes the mailer.
    [=](mailer_atom atom, const mailer_actor& mailer) {
      for (auto& member : self->state.members)
        self->send(member, atom, mailer);
    },
  };
}

} // namespace authnode
