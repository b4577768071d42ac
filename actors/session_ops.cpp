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

namespace {

/// The session behind `req`'s token, from the cache or the database (then
/// cached); `view` makes the answer of it.
template <class Result, class View>
caf::result<Result> look_up(auth_ptr self, token_request& req, View view) {
  auto& cache = self->state.sessions;
  auto digest = token_digest(req.token.reveal());
  int64_t expires_at = 0;
  if (auto cached = cache.find(digest, now_seconds(), &expires_at))
    return view(*cached, expires_at);
  auto rp = self->make_response_promise<Result>();
  auto epoch = cache.epoch();
  with_session(
    self, req.token,
    [=](session_owner& owner) mutable {
      auto& cache = self->state.sessions;
      if (cache.epoch() == epoch)
        cache.put(digest, owner.owner.user, owner.expires_at);
      rp.deliver(view(owner.owner.user, owner.expires_at));
    },
    [=](caf::error err) mutable {
      rp.deliver(std::move(err));
    });
  return rp;
}

} // namespace

caf::result<user_view> start_whoami(auth_ptr self, token_request& req) {
  return look_up<user_view>(self, req,
                            [](const user_view& user, int64_t) {
                              return user;
                            });
}

caf::result<session_view> start_whoami_io(auth_ptr self, token_request& req) {
  return look_up<session_view>(self, req,
                               [](const user_view& user, int64_t expires_at) {
                                 return session_view{user, expires_at};
                               });
}

caf::result<caf::ok_atom> start_logout(auth_ptr self, token_request& req) {
  auto rp = self->make_response_promise<caf::ok_atom>();
  auto digest = token_digest(req.token.reveal());
  self->state.sessions.forget(digest);
  ask_db<caf::ok_atom>(
    self,
    [=](caf::ok_atom ok) mutable {
      forget_session(
        self, digest, [=]() mutable { rp.deliver(ok); }, answer_error(rp));
    },
    [=](caf::error err) mutable {
      auto answer = is_not_found(err) ? caf::make_error(ec::invalid_token)
                                      : std::move(err);
      forget_session(
        self, digest, [=]() mutable { rp.deliver(std::move(answer)); },
        answer_error(rp));
    },
    session_del_atom::value, digest, int64_t{now_seconds()});
  return rp;
}

} // namespace authnode
