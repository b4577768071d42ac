// Account recovery, top to bottom. Each half is a value carried through
// its steps, declared and defined below in the order they run:
//
//   start_recovery --> spend_budget (the guard: the source's budget)
//     --> issue (the database: a code and its mail in one transaction, or
//         why not) --> ok, whatever the database found
//
//   finish_recovery (checks the new password) --> admit (the guard, on the
//     recovery keys) --> check (the database: is it the live code?) --> hash
//     (the hash pool) --> recover (the database: code used up, new hash,
//     every session revoked, address proven, new session, all or nothing)
//     --> the session granted, as after a login; with TOTP on, no session
//     but second_factor_required (actors/second_factor_flow.hpp)
//
// The code is checked before the new password is hashed, so a wrong code
// costs no hash; it is held and reported to the guard like a wrong
// password, on keys of its own (code_keys). The flows are shared
// (shared_ptr) because a step's answer and error callbacks both hold them
// and exactly one of them runs.
#include "actors/recovery_flow.hpp"

#include <memory>
#include <string>
#include <utility>

#include "actors/second_factor_flow.hpp"
#include "core/account_rules.hpp"
#include "core/email.hpp"
#include "core/source_key.hpp"

namespace authnode {

namespace {

constexpr guess_kind keys_kind = guess_kind::recovery;

struct start_flow {
  caf::typed_response_promise<caf::ok_atom> rp;
  std::string email;
  std::string source;
};

struct finish_flow {
  caf::typed_response_promise<session_grant> rp;
  std::string email;
  secret code;
  secret new_password;
  std::string source;
  maybe_guarded attempt;
  user_view user;
};

using start_ptr = std::shared_ptr<start_flow>;
using finish_ptr = std::shared_ptr<finish_flow>;

// The steps, in the order they run.
void spend_budget(auth_ptr self, start_ptr flow);
void issue(auth_ptr self, start_ptr flow);
void admit(auth_ptr self, finish_ptr flow);
void check(auth_ptr self, finish_ptr flow);
void refuse(auth_ptr self, finish_ptr flow);
void hash(auth_ptr self, finish_ptr flow);
void recover(auth_ptr self, finish_ptr flow, std::string phc);

/// A check or the recovery failed: a wrong (or meanwhile used) code is
/// refused like a wrong password, anything else ends the attempt.
error_fn on_code_error(auth_ptr self, finish_ptr flow);

} // namespace

caf::result<caf::ok_atom> start_recovery(auth_ptr self,
                                         recovery_start_request& req) {
  auto source = effective_source(self, req.source, req.client_addr);
  if (!source)
    return std::move(source.error());
  auto email = normalize_email(req.email);
  if (!is_valid_email(email))
    return caf::make_error(ec::invalid_email);
  auto flow = std::make_shared<start_flow>();
  flow->rp = self->make_response_promise<caf::ok_atom>();
  flow->email = std::move(email);
  flow->source = std::move(*source);
  spend_budget(self, flow);
  return flow->rp;
}

caf::result<session_grant> finish_recovery(auth_ptr self,
                                           recovery_finish_request& req) {
  auto source = effective_source(self, req.source, req.client_addr);
  if (!source)
    return std::move(source.error());
  auto flow = std::make_shared<finish_flow>();
  flow->email = normalize_email(req.email);
  if (auto err = check_new_password(req.new_password, flow->email,
                                    self->state.cfg.min_password))
    return err;
  // The name is not known before the code is checked: the email's words
  // and the site's are.
  if (auto err = check_context(req.new_password, flow->email, "",
                               self->state.cfg.context_words))
    return err;
  flow->rp = self->make_response_promise<session_grant>();
  flow->code = std::move(req.code);
  flow->new_password = std::move(req.new_password);
  flow->source = std::move(*source);
  admit(self, flow);
  return flow->rp;
}

namespace {

/// Every recovery mail is paid from the source's budget (the rate of
/// --register-rate, a bucket of its own), so that nobody floods inboxes or
/// the outbox from one address.
void spend_budget(auth_ptr self, start_ptr flow) {
  if (!self->state.guard) {
    issue(self, flow);
    return;
  }
  ask_guard<caf::ok_atom>(
    self,
    [=](caf::ok_atom) {
      issue(self, flow);
    },
    audited_refusal(self, "recovery_start", flow->source, flow->email,
                    answer_error(flow)),
    guard_spend_atom::value,
    key_prefix(keys_kind) + source_key(flow->source));
}

/// Whether a mail went out is for the audit log only.
void issue(auth_ptr self, start_ptr flow) {
  ask_db<code_issued>(
    self,
    [=](code_issued& issued) {
      audit_outcome(self, "recovery_start", "ok", flow->source, flow->email,
                    issued.reason.c_str());
      flow->rp.deliver(caf::ok_atom::value);
    },
    answer_error(flow), code_issue_atom::value,
    code_request{flow->email, code_purpose::recovery, std::string{}});
}

void admit(auth_ptr self, finish_ptr flow) {
  admit_then(
    self, code_keys(keys_kind, flow->source, flow->email), flow->code,
    [=](maybe_guarded attempt) {
      flow->attempt = std::move(attempt);
      check(self, flow);
    },
    audited_refusal(self, "recovery_finish", flow->source, flow->email,
                    answer_error(flow)));
}

void check(auth_ptr self, finish_ptr flow) {
  ask_db<user_view>(
    self,
    [=](user_view& user) {
      flow->user = std::move(user);
      hash(self, flow);
    },
    on_code_error(self, flow), code_check_atom::value,
    code_attempt{flow->email, code_purpose::recovery, flow->code});
}

/// A wrong, expired, used or replaced code, or an unknown address: the
/// guard hears of it and the answer is held.
void refuse(auth_ptr self, finish_ptr flow) {
  audit_outcome(self, "recovery_finish", "invalid_code", flow->source,
                flow->email, "wrong, expired or used code");
  report_failure(self, flow->attempt, [=] {
    flow->rp.deliver(failed_code(self));
  });
}

void hash(auth_ptr self, finish_ptr flow) {
  self
    ->request(self->state.hasher, caf::infinite, hash_new_atom::value,
              std::move(flow->new_password), self->state.cfg.params)
    .then(
      [=](std::string& phc) {
        recover(self, flow, std::move(phc));
      },
      [=](caf::error& err) {
        report(self, flow->attempt, attempt_result::aborted);
        counted_breach(self, "recovery_finish", flow->source, flow->email,
                       answer_error(flow))(std::move(err));
      });
}

void recover(auth_ptr self, finish_ptr flow, std::string phc) {
  account_recovery x;
  x.attempt = code_attempt{flow->email, code_purpose::recovery, flow->code};
  x.password_hash = std::move(phc);
  auto granted = make_grant(self, flow->user, flow->source, x.login);
  auto digest = x.login.session.token_digest;
  ask_db<user_view>(
    self,
    [=](user_view& user) mutable {
      report(self, flow->attempt, attempt_result::success);
      audit_outcome(self, "recovery_finish", "ok", flow->source, flow->email,
                    "code");
      // Every session of the user was revoked with the old password: the
      // caches drop them before anything is answered.
      forget_sessions(self, user.id, std::string{}, [=]() mutable {
        // Recovery by mail does not remove a second factor: the database
        // stored no session, and the login goes on with a code.
        if (user.totp) {
          ask_second_factor(self, "recovery_finish", user, flow->source, "",
                            flow->rp);
          return;
        }
        self->state.counters->logins_ok += 1;
        granted.user = std::move(user);
        self->state.sessions.put(digest, granted.user, granted.expires_at);
        flow->rp.deliver(std::move(granted));
      }, answer_error(flow));
    },
    // invalid_code here: the code was used or replaced since the check.
    on_code_error(self, flow), recover_atom::value, std::move(x));
}

error_fn on_code_error(auth_ptr self, finish_ptr flow) {
  return [=](caf::error err) {
    if (to_wire(err).code == ec::invalid_code) {
      refuse(self, flow);
      return;
    }
    report(self, flow->attempt, attempt_result::aborted);
    flow->rp.deliver(std::move(err));
  };
}

} // namespace

} // namespace authnode
