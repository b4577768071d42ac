// The second factor, top to bottom. Every op but the login's second step
// starts from the session behind its token; the steps are declared and
// defined below in the order they run:
//
//   start_totp_setup --> find the session --> setup (the database: a new
//     seed, sealed, pending) --> the seed and its otpauth:// URI
//   enable_totp, renew_recovery_codes --> find the session --> admit (the
//     guard, on the TOTP keys) --> use (the database checks the code and
//     does what it proves, in one transaction)
//   disable_totp --> find the session --> admit on the login's keys (a
//     password guess; then the password checked, recheck_password) --> admit
//     on the TOTP keys
//     --> use (the database: code used up, seed and codes gone)
//   ask_second_factor (a login's password matched, TOTP on) --> open a
//     challenge --> second_factor_required, carrying it
//   finish_second_factor_login --> whose challenge (the database) --> admit
//     on the TOTP keys, or the device's --> answer it (the database: code
//     used up, challenge gone, or one wrong code more) --> the session, as
//     after a login
//
// A wrong code is held like a wrong password and reported to the guard on
// keys of their own ("totp:" + source and account, code_keys), so that a
// code guesser does not slow the owner's password login, nor a password
// guesser their second factor; and only who knew the password (or holds a
// session) can guess at all. A login that presented a valid device token
// keeps that exemption for its code: its challenge's codes are keyed by the
// device ("totp-device:" + its digest), not the account an attacker is
// penalizing, and a wrong one counts against the device token as a wrong
// password does. Replay is the database's: a time step once
// accepted never is again. Cached sessions of the user are dropped when
// TOTP is turned on or off, as they hold the user as it was.
#include "actors/second_factor_flow.hpp"

#include <memory>
#include <utility>

#include <sodium.h>

#include "core/source_key.hpp"
#include "core/totp.hpp"

namespace authnode {

namespace {

constexpr guess_kind keys_kind = guess_kind::totp;

/// An op that checks a code of the token's user: what it asks the
/// database, and how it answers.
template <class Result>
struct code_flow {
  caf::typed_response_promise<Result> rp;
  const char* op = "";
  secret code;
  secret password;
  std::string source;
  std::string email;
  std::string phc;
  int64_t user_id = 0;
  maybe_guarded attempt;
};

template <class Result>
using code_ptr = std::shared_ptr<code_flow<Result>>;

struct login_step {
  caf::typed_response_promise<session_grant> rp;
  secret challenge;
  secret code;
  std::string source;
  std::string email;
  /// The device token the challenge's login presented; empty: none.
  std::string device_digest;
  maybe_guarded attempt;
};

using login_ptr = std::shared_ptr<login_step>;

// The steps, in the order they run.
template <class Result, class Atom>
void admit_code(auth_ptr self, code_ptr<Result> flow, Atom atom);
template <class Result, class Atom>
void use(auth_ptr self, code_ptr<Result> flow, Atom atom);
void admit(auth_ptr self, login_ptr flow);
void answer(auth_ptr self, login_ptr flow);

/// A flow for the session behind `token`; runs `next` once it is found.
template <class Result, class Next>
caf::result<Result> from_session(auth_ptr self, const char* op,
                                 const secret& token, secret code,
                                 std::string source, Next next) {
  auto flow = std::make_shared<code_flow<Result>>();
  flow->rp = self->make_response_promise<Result>();
  flow->op = op;
  flow->code = std::move(code);
  flow->source = source_key(source);
  with_session(
    self, token,
    [=](session_owner& session) {
      flow->email = session.owner.user.email;
      flow->user_id = session.owner.user.id;
      flow->phc = session.owner.password_hash;
      next(flow);
    },
    answer_error(flow));
  return flow->rp;
}

/// The guard's key for the codes of a device's logins: printable (the
/// admin channel shows keys), and the digest's first half is unique enough.
std::string device_key(const std::string& digest) {
  std::string hex(digest.size() + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(),
                 reinterpret_cast<const unsigned char*>(digest.data()),
                 digest.size() / 2);
  hex.resize(digest.size());
  return "totp-device:" + hex;
}

/// A wrong, replayed or used code: the guard hears of it, the answer is
/// held.
template <class Flow>
void refuse_code(auth_ptr self, Flow& flow, const char* op) {
  self->state.counters->second_factor_failed_total += 1;
  audit_outcome(self, op, "invalid_code", flow->source, flow->email,
                "wrong, replayed or used code");
  report_failure(self, flow->attempt, [=] {
    flow->rp.deliver(failed_code(self));
  });
}

} // namespace

caf::result<totp_setup_reply> start_totp_setup(auth_ptr self,
                                               token_request& req) {
  auto rp = self->make_response_promise<totp_setup_reply>();
  auto source = source_key(req.source);
  with_session(
    self, req.token,
    [=](session_owner& session) mutable {
      auto email = session.owner.user.email;
      ask_db<secret>(
        self,
        [=](secret& seed) mutable {
          audit_outcome(self, "totp_setup", "ok", source, email,
                        "pending until enabled");
          auto uri = otpauth_uri(self->state.cfg.totp_issuer, email,
                                 seed.reveal());
          rp.deliver(totp_setup_reply{std::move(seed), secret{std::move(uri)}});
        },
        [=](caf::error err) mutable {
          rp.deliver(std::move(err));
        },
        totp_setup_atom::value, session.owner.user.id);
    },
    [=](caf::error err) mutable {
      rp.deliver(std::move(err));
    });
  return rp;
}

caf::result<recovery_code_list> enable_totp(auth_ptr self,
                                            token_code_request& req) {
  auto source = effective_source(self, req.source, req.client_addr);
  if (!source)
    return std::move(source.error());
  return from_session<recovery_code_list>(
    self, "totp_enable", req.token, std::move(req.code), *source,
    [=](code_ptr<recovery_code_list> flow) {
      admit_code(self, flow, totp_enable_atom::value);
    });
}

caf::result<recovery_code_list> renew_recovery_codes(auth_ptr self,
                                                     token_code_request& req) {
  auto source = effective_source(self, req.source, req.client_addr);
  if (!source)
    return std::move(source.error());
  return from_session<recovery_code_list>(
    self, "recovery_codes_renew", req.token, std::move(req.code), *source,
    [=](code_ptr<recovery_code_list> flow) {
      admit_code(self, flow, codes_renew_atom::value);
    });
}

caf::result<caf::ok_atom> disable_totp(auth_ptr self,
                                       totp_disable_request& req) {
  auto source = effective_source(self, req.source, req.client_addr);
  if (!source)
    return std::move(source.error());
  auto password = std::move(req.password);
  return from_session<caf::ok_atom>(
    self, "totp_disable", req.token, std::move(req.code), *source,
    [=](code_ptr<caf::ok_atom> flow) {
      flow->password = password;
      // The password first, keyed like a login: it is a password guess.
      admit_then(
        self, throttle_keys{flow->source, flow->email}, flow->password,
        [=](maybe_guarded attempt) {
          recheck_password(self,
                           password_recheck{flow->op, flow->phc,
                                            std::move(flow->password),
                                            std::move(attempt), flow->source,
                                            flow->email, "wrong password"},
                           [=] {
                             admit_code(self, flow, totp_disable_atom::value);
                           },
                           answer_error(flow));
        },
        audited_refusal(self, flow->op, flow->source, flow->email,
                        answer_error(flow)));
    });
}

void ask_second_factor(auth_ptr self, const char* op, const user_view& user,
                       const std::string& source,
                       const std::string& device_digest,
                       caf::typed_response_promise<session_grant> rp,
                       bool breached) {
  auto email = user.email;
  ask_db<second_factor_challenge>(
    self,
    [=](second_factor_challenge& ch) mutable {
      self->state.counters->second_factor_challenges_total += 1;
      audit_outcome(self, op, "second_factor_required", source, email,
                    "password");
      rp.deliver(make_second_factor_required(
        std::move(ch.challenge), ch.expires_at, std::move(ch.methods),
        breached));
    },
    [=](caf::error err) mutable {
      rp.deliver(std::move(err));
    },
    challenge_new_atom::value,
    challenge_request{user.id, source, device_digest, breached});
}

caf::result<session_grant>
finish_second_factor_login(auth_ptr self, second_factor_login& req) {
  auto source = effective_source(self, req.source, req.client_addr);
  if (!source)
    return std::move(source.error());
  auto flow = std::make_shared<login_step>();
  flow->rp = self->make_response_promise<session_grant>();
  flow->challenge = std::move(req.challenge);
  flow->code = std::move(req.code);
  flow->source = std::move(*source);
  ask_db<challenge_info>(
    self,
    [=](challenge_info& info) {
      flow->email = info.user.email;
      flow->device_digest = std::move(info.device_digest);
      admit(self, flow);
    },
    [=](caf::error err) {
      if (to_wire(err).code != ec::invalid_code) {
        flow->rp.deliver(std::move(err));
        return;
      }
      // No such challenge (or it died): nobody's account to count it on.
      self->state.counters->second_factor_failed_total += 1;
      audit_outcome(self, "login_second_factor", "invalid_code",
                    flow->source, std::string{}, "unknown or expired challenge");
      flow->rp.deliver(failed_code(self));
    },
    challenge_owner_atom::value, flow->challenge);
  return flow->rp;
}

namespace {

template <class Result, class Atom>
void admit_code(auth_ptr self, code_ptr<Result> flow, Atom atom) {
  admit_then(
    self, code_keys(keys_kind, flow->source, flow->email), flow->code,
    [=](maybe_guarded attempt) {
      flow->attempt = std::move(attempt);
      use(self, flow, atom);
    },
    audited_refusal(self, flow->op, flow->source, flow->email,
                    answer_error(flow)));
}

template <class Result, class Atom>
void use(auth_ptr self, code_ptr<Result> flow, Atom atom) {
  ask_db<Result>(
    self,
    [=](Result& result) {
      report(self, flow->attempt, attempt_result::success);
      self->state.counters->second_factor_ok_total += 1;
      audit_outcome(self, flow->op, "ok", flow->source, flow->email, "code");
      // totp_enable and totp_disable change the user that cached sessions
      // hold; a renewal does not, and forgetting costs one lookup.
      forget_sessions(
        self, flow->user_id, std::string{},
        [=]() mutable { flow->rp.deliver(std::move(result)); },
        answer_error(flow));
    },
    [=](caf::error err) {
      if (to_wire(err).code == ec::invalid_code) {
        refuse_code(self, flow, flow->op);
        return;
      }
      report(self, flow->attempt, attempt_result::aborted);
      flow->rp.deliver(std::move(err));
    },
    atom, factor_attempt{flow->user_id, flow->code});
}

void admit(auth_ptr self, login_ptr flow) {
  auto keys = code_keys(keys_kind, flow->source, flow->email);
  if (!flow->device_digest.empty()) {
    auto device = device_key(flow->device_digest);
    keys = throttle_keys{device, device};
  }
  admit_then(
    self, std::move(keys), flow->code,
    [=](maybe_guarded attempt) {
      flow->attempt = std::move(attempt);
      answer(self, flow);
    },
    audited_refusal(self, "login_second_factor", flow->source, flow->email,
                    answer_error(flow)));
}

void answer(auth_ptr self, login_ptr flow) {
  ask_db<factor_used>(
    self,
    [=](factor_used& used) {
      report(self, flow->attempt, attempt_result::success);
      self->state.counters->second_factor_ok_total += 1;
      audit_outcome(self, "login_second_factor", "ok", flow->source,
                    flow->email, used.method.c_str());
      // A login that presented a valid device token keeps it, as a
      // login without a second factor does.
      commit_grant(self, std::move(used.user), flow->source,
                   !flow->device_digest.empty(), flow->rp,
                   used.password_breached);
    },
    [=](caf::error err) {
      if (to_wire(err).code == ec::invalid_code) {
        if (!flow->device_digest.empty())
          tell_db<caf::ok_atom>(self, device_fail_atom::value,
                                flow->device_digest);
        refuse_code(self, flow, "login_second_factor");
        return;
      }
      report(self, flow->attempt, attempt_result::aborted);
      flow->rp.deliver(std::move(err));
    },
    challenge_use_atom::value, challenge_attempt{flow->challenge, flow->code});
}

} // namespace

} // namespace authnode
