// The steps every flow of the auth actor is built from: asking the database
// and the guard, being admitted and reporting the attempt, writing the audit
// line, failing a password check.
//
// A flow (actors/login_flow.cpp, register_flow.cpp, password_flow.cpp,
// session_ops.cpp) is a value carried from step to step; its steps run
// inside the auth actor and share its state (the session cache, the deadline
// queue, the fingerprint key, the counters), so these helpers take the
// actor's pointer. Each asks one question and runs exactly one of its two
// callbacks: the answer, or an error (the database's or guard's own, a time
// limit, the loss of the storage node). ask_db and friends are templates on
// the answer's type, so they live here in the header.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/sec.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/auth.hpp"
#include "actors/interfaces.hpp"
#include "core/error_code.hpp"
#include "core/secrets.hpp"

namespace authnode {

using auth_ptr = auth_actor::stateful_pointer<auth_state>;

/// What a step runs when its question failed.
using error_fn = std::function<void(caf::error)>;

/// Answers the flow's requester with the error (every flow has an `rp`).
template <class Flow>
error_fn answer_error(std::shared_ptr<Flow> flow) {
  return [flow](caf::error err) {
    flow->rp.deliver(std::move(err));
  };
}

/// Answers `rp` with the error (for promises outside a flow).
template <class T>
error_fn answer_error(caf::typed_response_promise<T> rp) {
  return [rp](caf::error err) mutable {
    rp.deliver(std::move(err));
  };
}

bool is_not_found(const caf::error& err);

/// The address a request is throttled and recorded under: the peer's, or
/// the end user's when a trusted application server names it.
caf::expected<std::string> effective_source(auth_ptr self,
                                            const std::string& peer,
                                            const std::string& client_addr);

/// One line in the audit log, if there is one. Never a secret.
void audit_outcome(auth_ptr self, const char* op, const char* outcome,
                   const std::string& source, const std::string& account,
                   const char* reason);

/// Runs `on_error` for a refusal by the guard, after writing it down.
error_fn audited_refusal(auth_ptr self, const char* op, std::string source,
                         std::string account, error_fn on_error);

/// Runs `on_error` for a hasher's refusal of a new password, after counting
/// and writing down a breached_password one (never the password).
error_fn counted_breach(auth_ptr self, const char* op, std::string source,
                        std::string account, error_fn on_error);

/// Counts a failed password check and makes its error, held for
/// failure-delay.
caf::error failed_credentials(auth_ptr self);

/// A wrong, expired or used code: held for failure-delay like a wrong
/// password, so that a code guesser waits as a password guesser does.
caf::error failed_code(auth_ptr self);

/// The guard's keys for guessing codes of `kind` (core/guess_kind.hpp): a
/// namespace of their own beside the login's keys, so that a code guesser
/// cannot slow the owner's password login, nor a password guesser the
/// owner's recovery.
throttle_keys code_keys(guess_kind kind, const std::string& source,
                        const std::string& email);

/// The user of the device token whose digest is `digest`, if the token is
/// honoured (the database knows it, with fewer than max_device_failures
/// wrong answers on it): `honoured(user id)`, else `not_honoured()`.
void with_device(auth_ptr self, const std::string& digest,
                 std::function<void(int64_t)> honoured,
                 std::function<void()> not_honoured);

/// Drops a session (a token digest) from the auth actor's cache and from
/// the connections' (net/session_keeper; on a gateway, every gateway's,
/// through the storage node's session hub), then runs `then`: the op that
/// ended the session answers only once no cache can still vouch for it. If
/// that cannot be known (the storage node is out of reach, or took longer
/// than --backend-timeout), `failed` runs instead: the op answers the error,
/// though the database may have made its change.
void forget_session(auth_ptr self, const std::string& digest,
                    std::function<void()> then, error_fn failed);

/// The same for every session of `user_id` but `keep` (a token digest, or
/// empty), after a password change, a recovery, a disabled account or any
/// change to what whoami says of the user.
void forget_sessions(auth_ptr self, int64_t user_id, const std::string& keep,
                     std::function<void()> then, error_fn failed);

/// Grants a session to `user` as a login does: a token, its expiry, a
/// device token when throttling is on. `commit` gets what must be stored.
session_grant make_grant(auth_ptr self, user_view user, std::string source,
                         login_commit& commit);

/// Grants a session to `user` (make_grant), commits it, caches it and
/// answers `rp` with it. `keep_device`: the login presented a valid device
/// token, which it keeps (no new one is made). `breached`: the password
/// is in the breached index, which the grant says (password_breached).
void commit_grant(auth_ptr self, user_view user, std::string source,
                  bool keep_device,
                  caf::typed_response_promise<session_grant> rp,
                  bool breached = false);

/// Sends a request tracked as `call` in the deadline queue: its answer is
/// taken only while the call is open, so that exactly one of the callbacks
/// runs, whether the answer, the time limit or the loss of the storage node
/// comes first.
template <class Result, class Dest, class OnResult, class... Ts>
void ask_tracked(auth_ptr self, const Dest& dest, deadline_queue::call_id call,
                 OnResult on_result, error_fn on_error, Ts&&... xs) {
  self->request(dest, caf::infinite, std::forward<Ts>(xs)...)
    .then(
      [=](Result& result) mutable {
        if (self->state.deadlines.close(call))
          on_result(result);
      },
      [=](caf::error& err) mutable {
        if (self->state.deadlines.close(call))
          on_error(std::move(err));
      });
}

/// Arms the deadline queue's timer if it is not armed (see on_tick).
void arm_tick(auth_ptr self);

/// Asks `dest` under the backend time limit, which the deadline queue keeps
/// instead of a CAF timer per request. Exactly one of the callbacks runs:
/// `on_error` with the answer's error, or with request_timeout when the
/// limit passes first (a late answer is then dropped).
template <class Result, class Dest, class OnResult, class... Ts>
void ask_timed(auth_ptr self, const Dest& dest, OnResult on_result,
               error_fn on_error, Ts&&... xs) {
  auto& st = self->state;
  auto now = self->clock().now();
  auto call = st.deadlines.open(now + st.cfg.backend_timeout, [on_error] {
    on_error(caf::make_error(caf::sec::request_timeout));
  });
  arm_tick(self);
  ask_tracked<Result>(self, dest, call, std::move(on_result),
                      std::move(on_error), std::forward<Ts>(xs)...);
}

/// Asks the database (ask_timed).
template <class Result, class OnResult, class... Ts>
void ask_db(auth_ptr self, OnResult on_result, error_fn on_error, Ts&&... xs) {
  ask_timed<Result>(self, self->state.db, std::move(on_result),
                    std::move(on_error), std::forward<Ts>(xs)...);
}

/// Tells the database something whose answer nobody waits for (it still
/// runs under the time limit, like every database request).
template <class Result, class... Ts>
void tell_db(auth_ptr self, Ts&&... xs) {
  ask_db<Result>(
    self, [](Result&) {}, [](caf::error) {}, std::forward<Ts>(xs)...);
}

/// Asks the guard, with no time limit (it holds an admission for as long as
/// a penalty lasts), but failed with unavailable if the storage node that
/// runs the guard is lost meanwhile (storage_lost_atom).
template <class Result, class OnResult, class... Ts>
void ask_guard(auth_ptr self, OnResult on_result, error_fn on_error,
               Ts&&... xs) {
  auto& st = self->state;
  auto call = st.deadlines.open_untimed([on_error] {
    on_error(caf::make_error(ec::unavailable, "the storage node was lost"));
  });
  ask_tracked<Result>(self, st.guard, call, std::move(on_result),
                      std::move(on_error), std::forward<Ts>(xs)...);
}

/// The deadline queue's timer fired: answers the calls that are overdue.
void on_tick(auth_ptr self);

/// A password check that the guard admitted: it must hear how it ended.
struct guarded_attempt {
  throttle_keys keys;
  uint64_t fingerprint = 0;
};

/// No attempt when throttling is off (or the check is exempt from it).
using maybe_guarded = std::optional<guarded_attempt>;

/// Asks the guard whether a password check for `keys` may start; runs
/// `on_go` with the attempt to report (none when throttling is off), or
/// `on_refused` with rate_limited.
void admit_then(auth_ptr self, throttle_keys keys, const secret& password,
                std::function<void(maybe_guarded)> on_go, error_fn on_refused);

/// Tells the guard how an admitted attempt ended; nothing if there is none.
void report(auth_ptr self, const maybe_guarded& attempt, attempt_result result);

/// Tells the guard of a failed attempt and runs `answer` (which sends the
/// failure's reply) once the guard has recorded it: on a shared database
/// the failure is written before the client can hear of it, so a guess
/// sent to another node next meets it. At once if there is no attempt.
void report_failure(auth_ptr self, const maybe_guarded& attempt,
                    std::function<void()> answer);

/// A password asked again before a change (change_password,
/// change_email_start, totp_disable): the account's hash, what was typed,
/// the guard's attempt for it, and what the audit line says.
struct password_recheck {
  const char* op;
  std::string phc;
  secret password;
  maybe_guarded attempt;
  std::string source;
  std::string email;
  /// The audit line's reason for a wrong one ("wrong password").
  const char* wrong;
};

/// Checks the password with a hasher and tells the guard how it went. A
/// match runs `on_match`; a wrong password is audited and goes to
/// `on_error` as failed_credentials (held for failure-delay, like a wrong
/// login); a hasher's error goes to `on_error` as it is.
void recheck_password(auth_ptr self, password_recheck check,
                      std::function<void()> on_match, error_fn on_error);

/// Looks up the session behind a token; not_found becomes invalid_token.
void with_session(auth_ptr self, const secret& token,
                  std::function<void(session_owner&)> on_found,
                  error_fn on_error);

} // namespace authnode
