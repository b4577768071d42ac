// A login, top to bottom. The login is a value (login_flow: its promise, the
// email and password, the source, the device token, the guard's admission,
// the user found) carried through these steps, declared and defined below in
// the order they run:
//
//   start_login
//   check_device        a device token was presented (and throttling is on):
//   check_device_owner  is it live, and this account's? Then the login skips
//                       the guard and goes on to verify; else to admit
//   admit               the guarded path: may a password check start now?
//   look_up             the user, or the dummy hash for an unknown email
//   verify              the hash pool (ahead of the queue with a device token)
//   refuse | grant      a held invalid_credentials | the session, committed,
//                       cached and answered; or, with TOTP on, no session
//                       but second_factor_required and a challenge
//                       (actors/second_factor_flow.cpp goes on from there)
//   rehash_later        after a grant, if the stored hash is outdated
//
// Each step asks one actor one question and hands the login to the next
// step from its answer. The flow is shared (shared_ptr) because a step's
// answer callback and its error callback both hold it and exactly one of
// them runs. Why the flow runs inside the auth actor rather than as an actor
// of its own: docs/architecture.md, "Flows".
#include "actors/login_flow.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "actors/second_factor_flow.hpp"
#include "core/clock.hpp"
#include "core/email.hpp"
#include "core/error_code.hpp"
#include "core/source_key.hpp"

namespace authnode {

namespace {

struct login_flow {
  caf::typed_response_promise<session_grant> rp;
  /// Normalized: the account's throttling key and its name in the audit log.
  std::string email;
  secret password;
  /// Where the login is throttled and recorded (effective_source).
  std::string source;
  /// Digest of the device token presented, while it is honoured: empty on
  /// the guarded path (admit and after).
  std::string device_digest;
  /// Whose that device token is.
  int64_t device_user = 0;
  /// The guard's admission; none on the device path or with throttling off.
  maybe_guarded attempt;
  /// Empty for an unknown email, which is verified against the dummy hash.
  std::optional<user_view> user;
  std::string phc;
  bool disabled = false;
  /// The password matched and the breached index has it: the grant says so.
  bool breached = false;
};

using login_ptr = std::shared_ptr<login_flow>;

// The steps, in the order they run.
void check_device(auth_ptr self, login_ptr login);
void check_device_owner(auth_ptr self, login_ptr login);
void admit(auth_ptr self, login_ptr login);
void look_up(auth_ptr self, login_ptr login);
void verify(auth_ptr self, login_ptr login);
void refuse(auth_ptr self, login_ptr login, const char* reason);
void grant(auth_ptr self, login_ptr login);
void rehash_later(auth_ptr self, login_ptr login, secret password);

void take_user(login_flow& login, user_record& found) {
  login.user = std::move(found.user);
  login.phc = std::move(found.password_hash);
  login.disabled = found.disabled;
}

} // namespace

caf::result<session_grant> start_login(auth_ptr self, login_request& req) {
  auto source = effective_source(self, req.source, req.client_addr);
  if (!source)
    return std::move(source.error());
  auto login = std::make_shared<login_flow>();
  login->rp = self->make_response_promise<session_grant>();
  login->email = normalize_email(req.email);
  login->password = std::move(req.password);
  login->source = std::move(*source);
  // Device tokens serve the throttle only: without it, they are ignored.
  if (req.device_token.empty() || !self->state.guard) {
    admit(self, login);
  } else {
    login->device_digest = token_digest(req.device_token.reveal());
    check_device(self, login);
  }
  return login->rp;
}

namespace {

/// A device token with too many wrong passwords, or none the database
/// knows, is not honoured: the login takes the guarded path.
void check_device(auth_ptr self, login_ptr login) {
  with_device(
    self, login->device_digest,
    [=](int64_t user_id) {
      login->device_user = user_id;
      check_device_owner(self, login);
    },
    [=] { admit(self, login); });
}

/// A login that presented a valid device token for this account: exempt
/// from the account's and the source's penalty, so that its owner gets in
/// while the account is under attack. Anything else falls back to the
/// guarded path.
void check_device_owner(auth_ptr self, login_ptr login) {
  ask_db<user_record>(
    self,
    [=](user_record& found) {
      if (found.user.id != login->device_user) {
        admit(self, login);
        return;
      }
      take_user(*login, found);
      verify(self, login);
    },
    [=](caf::error) {
      admit(self, login);
    },
    user_get_atom::value, login->email);
}

/// The guarded path: the guard decides before anything is looked up or
/// hashed.
void admit(auth_ptr self, login_ptr login) {
  login->device_digest.clear();
  throttle_keys keys{source_key(login->source), login->email};
  admit_then(
    self, std::move(keys), login->password,
    [=](maybe_guarded attempt) {
      login->attempt = std::move(attempt);
      look_up(self, login);
    },
    audited_refusal(self, "login", login->source, login->email,
                    answer_error(login)));
}

/// An unknown email is verified against the dummy hash, so that it costs
/// the same time as a wrong password.
void look_up(auth_ptr self, login_ptr login) {
  ask_db<user_record>(
    self,
    [=](user_record& found) {
      take_user(*login, found);
      verify(self, login);
    },
    [=](caf::error err) {
      if (!is_not_found(err)) {
        report(self, login->attempt, attempt_result::aborted);
        login->rp.deliver(std::move(err));
        return;
      }
      login->phc = self->state.cfg.dummy_hash;
      verify(self, login);
    },
    user_get_atom::value, login->email);
}

/// A disabled account is verified like any other, so its failure costs the
/// same time, and then fails like a wrong password; only the audit line
/// tells why.
void verify(auth_ptr self, login_ptr login) {
  auto params = self->state.cfg.params;
  auto& hasher = self->state.hasher;
  // A valid device token goes ahead of anonymous guesses in the hash queue:
  // under a spray from many addresses, its owner still gets in quickly.
  auto verification = login->device_digest.empty()
    ? self->request(hasher, caf::infinite, verify_atom::value, login->phc,
                    login->password, params)
    : self->request(hasher, caf::infinite, urgent_atom::value,
                    verify_atom::value, login->phc, login->password, params);
  verification.then(
    [=](verify_outcome& out) {
      // Counted once done: a check refused busy by the hash pool cost nothing.
      self->state.counters->hash_verifications_total += 1;
      auto password = std::move(login->password); // needed no further
      if (!login->user || !out.match || login->disabled) {
        refuse(self, login,
               !login->user   ? "unknown account"
                 : !out.match ? "wrong password"
                              : "disabled");
        return;
      }
      report(self, login->attempt, attempt_result::success);
      // Only someone who knows the password learns that the address is
      // not proven yet.
      if (self->state.cfg.require_verified && !login->user->email_verified) {
        audit_outcome(self, "login", "email_not_verified", login->source,
                      login->email, "password");
        login->rp.deliver(caf::make_error(ec::email_not_verified));
        return;
      }
      // With TOTP on the login is not done yet: the audit line is
      // second_factor_required, then login_second_factor's outcome.
      login->breached = out.breached;
      if (out.breached)
        self->state.counters->breached_login_total += 1;
      if (!login->user->totp)
        audit_outcome(self, "login", "ok", login->source, login->email,
                      out.breached       ? "password, breached"
                      : out.needs_rehash ? "password, re-hashing"
                                         : "password");
      if (out.needs_rehash)
        rehash_later(self, login, std::move(password));
      grant(self, login);
    },
    [=](caf::error& err) {
      report(self, login->attempt, attempt_result::aborted);
      if (to_wire(err).code == ec::busy)
        audit_outcome(self, "login", "busy", login->source, login->email,
                      "hash queue full");
      login->rp.deliver(std::move(err));
    });
}

/// A wrong password (or an unknown or disabled account): the guard hears
/// of it, a device token presented counts one failure more, and the answer
/// is held for failure-delay.
void refuse(auth_ptr self, login_ptr login, const char* reason) {
  audit_outcome(self, "login", "invalid_credentials", login->source,
                login->email, reason);
  if (!login->device_digest.empty())
    tell_db<caf::ok_atom>(self, device_fail_atom::value, login->device_digest);
  report_failure(self, login->attempt, [=] {
    login->rp.deliver(failed_credentials(self));
  });
}

/// Commits the session (and a new device token, if the login did not
/// present a valid one) in one transaction, caches it and answers; or, for
/// an account with a second factor, answers second_factor_required.
void grant(auth_ptr self, login_ptr login) {
  if (login->user->totp) {
    ask_second_factor(self, "login", *login->user, login->source,
                      login->device_digest, login->rp, login->breached);
    return;
  }
  commit_grant(self, std::move(*login->user), std::move(login->source),
               !login->device_digest.empty(), login->rp, login->breached);
}

/// Replaces a hash that verified but is not argon2id at today's cost (an
/// imported one, or one made before --hash-ops/--hash-mem changed): hashes
/// the password again and has the database store it if the user's hash is
/// still the one that verified. Runs after the login was answered, so the
/// login waits for one hash, not two; if anything fails the old hash stays
/// and the next login tries again.
void rehash_later(auth_ptr self, login_ptr login, secret password) {
  auto user_id = login->user->id;
  auto old_hash = login->phc;
  self
    ->request(self->state.hasher, caf::infinite, hash_atom::value,
              std::move(password), self->state.cfg.params)
    .then(
      [=](std::string& fresh) mutable {
        tell_db<bool>(self, rehash_atom::value,
                      password_rehash{user_id, std::move(old_hash),
                                      std::move(fresh)});
      },
      [](caf::error&) {});
}

} // namespace

} // namespace authnode
