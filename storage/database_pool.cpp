#include "storage/database_pool.hpp"

#include <caf/actor_cast.hpp>
#include <caf/message_view.hpp>

#include <algorithm>
#include <functional>
#include <optional>
#include <string>

namespace authnode {

namespace {

/// The member for a request that writes a row many requests write at
/// once: all of them on one connection, one after another, rather than on
/// several whose SERIALIZABLE transactions fail on each other until the
/// reruns run out (logins of one user all touch its row; failures of one
/// throttle key all count in its row; the batches of an import, sent
/// without waiting, each look up and insert hundreds of users). Nothing:
/// any member.
std::optional<size_t> member_for(const caf::message& msg, size_t members) {
  auto by = [&](auto key) {
    return std::hash<decltype(key)>{}(key) % members;
  };
  if (msg.match_elements<login_commit_atom, login_commit>())
    return by(msg.get_as<login_commit>(1).user_id);
  if (msg.match_elements<throttle_fail_atom, throttle_lookup>()) {
    auto& x = msg.get_as<throttle_lookup>(1);
    return by(x.account.empty() ? x.source : x.account);
  }
  if (msg.match_elements<user_import_atom, import_batch>())
    return 0;
  if (msg.match_elements<throttle_forget_atom, std::string>()
      || msg.match_elements<device_fail_atom, std::string>())
    return by(msg.get_as<std::string>(1));
  return std::nullopt;
}

bool is_member(database_pool_ptr self, const caf::actor_addr& who) {
  auto& members = self->state.members;
  return std::any_of(members.begin(), members.end(), [&](const caf::actor& m) {
    return m.address() == who;
  });
}

} // namespace

caf::behavior database_pool(database_pool_ptr self,
                            std::vector<database_actor> members) {
  for (auto& m : members) {
    auto member = caf::actor_cast<caf::actor>(m);
    self->link_to(member);
    self->monitor(member);
    self->state.members.push_back(std::move(member));
  }
  self->state.running = self->state.members.size();
  // Ends when every member has: see database_pool.hpp. Members are counted
  // by their down messages: a member told to exit unlinks from the pool.
  auto stop = [=](const caf::error& reason, const caf::actor_addr& from) {
    auto& st = self->state;
    if (!st.stopping) {
      st.stopping = true;
      st.reason = reason;
      for (auto& m : st.members)
        if (m.address() != from)
          self->send_exit(m, reason);
    }
    if (st.running == 0)
      self->quit(st.reason);
  };
  // (A normal exit of a linked actor stops no one that does not trap it.)
  self->set_exit_handler([=](caf::exit_msg& msg) {
    if (msg.reason != caf::exit_reason::normal && !is_member(self, msg.source))
      stop(msg.reason, msg.source);
  });
  self->set_down_handler([=](caf::down_msg& msg) {
    if (!is_member(self, msg.source))
      return;
    --self->state.running;
    stop(msg.reason, msg.source);
  });
  self->set_default_handler(
    [](caf::scheduled_actor* ptr,
       caf::message_view& msg) -> caf::result<caf::message> {
      auto self = static_cast<database_pool_ptr>(ptr);
      auto& st = self->state;
      auto content = msg.move_content_to_message();
      auto index = member_for(content, st.members.size());
      if (!index) {
        index = st.next;
        st.next = (st.next + 1) % st.members.size();
      }
      self->delegate(st.members[*index], std::move(content));
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
