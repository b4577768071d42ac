// whoami and logout: one question to the database each, so no flow value of
// their own; what needs care is the session cache. A whoami answered from the
// database puts its answer into the cache only if no session was dropped
// while it asked (the cache's epoch), and a logout forgets its session both
// when it starts and when it is done, so that no lookup answered in between
// can bring the session back.
#include "actors/session_ops.hpp"

#include <string>
#include <utility>

#include "core/clock.hpp"
#include "core/error_code.hpp"

namespace authnode {

caf::result<user_view> start_whoami(auth_ptr self, token_request& req) {
  auto& cache = self->state.sessions;
  auto digest = token_digest(req.token.reveal());
  if (auto cached = cache.find(digest, now_seconds()))
    return *cached;
  auto rp = self->make_response_promise<user_view>();
  auto epoch = cache.epoch();
  with_session(
    self, req.token,
    [=](session_owner& owner) mutable {
      auto& cache = self->state.sessions;
      if (cache.epoch() == epoch)
        cache.put(digest, owner.owner.user, owner.expires_at);
      rp.deliver(owner.owner.user);
    },
    [=](caf::error err) mutable {
      rp.deliver(std::move(err));
    });
  return rp;
}

caf::result<caf::ok_atom> start_logout(auth_ptr self, token_request& req) {
  auto rp = self->make_response_promise<caf::ok_atom>();
  auto digest = token_digest(req.token.reveal());
  self->state.sessions.forget(digest);
  ask_db<caf::ok_atom>(
    self,
    [=](caf::ok_atom ok) mutable {
      self->state.sessions.forget(digest);
      rp.deliver(ok);
    },
    [=](caf::error err) mutable {
      self->state.sessions.forget(digest);
      rp.deliver(is_not_found(err) ? caf::make_error(ec::invalid_token)
                                   : std::move(err));
    },
    session_del_atom::value, digest, int64_t{now_seconds()});
  return rp;
}

} // namespace authnode
