#include "cluster/forwarder.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/message_view.hpp>

#include "actors/interfaces.hpp"
#include "core/error_code.hpp"

namespace authnode {

caf::behavior forwarder(forwarder_ptr self, std::string what) {
  self->state.what = std::move(what);
  self->set_default_handler(
    [](caf::scheduled_actor* ptr,
       caf::message_view& msg) -> caf::result<caf::message> {
      auto self = static_cast<forwarder_ptr>(ptr);
      auto& st = self->state;
      if (!st.target)
        return caf::make_error(ec::unavailable, st.what + " is unreachable");
      self->delegate(st.target, msg.move_content_to_message());
      return caf::delegated<caf::message>{};
    });
  return {
    [=](route_atom, caf::actor target) {
      self->state.target = std::move(target);
    },
  };
}

} // namespace authnode
