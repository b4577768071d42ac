// Proving an address and changing it, top to bottom. Every op starts from
// the session behind its token; the steps are declared and defined below in
// the order they run:
//
//   start_verify_email --> find the session --> issue (the database mails
//     a code, unless the address is proven already)
//   finish_verify_email, finish_change_email --> find the session
//     --> admit (the guard, on the code keys) --> use (the database checks
//     the code and does what it proves, in one transaction)
//   start_change_email --> find the session --> admit (the guard, on the
//     login's keys: it is a password guess; then the password checked by
//     the hash pool, recheck_password) --> issue (a code to the new
//     address, a notice to the old)
//
// A wrong code is held and reported to the guard like a wrong password,
// but on keys of its own (code_keys). After a code was used the cached
// sessions of the user are dropped, as they hold the user as it was.
#include "actors/email_flow.hpp"

#include <memory>
#include <string>
#include <utility>

#include "core/email.hpp"
#include "core/source_key.hpp"

namespace authnode {

namespace {

constexpr guess_kind keys_kind = guess_kind::code;

/// A code finish (verification or email change).
struct code_flow {
  caf::typed_response_promise<user_view> rp;
  code_purpose purpose = code_purpose::verification;
  secret code;
  std::string source;
  std::string email;
  int64_t user_id = 0;
  maybe_guarded attempt;
};

struct change_flow {
  caf::typed_response_promise<caf::ok_atom> rp;
  secret password;
  std::string new_email;
  std::string source;
  std::string email;
  std::string phc;
};

using code_ptr = std::shared_ptr<code_flow>;
using change_ptr = std::shared_ptr<change_flow>;

const char* op_name(code_purpose purpose) {
  return purpose == code_purpose::email_change ? "change_email_finish"
                                               : "verify_email_finish";
}

/// The budget of an authenticated user is theirs to know: spent, it is
/// said (not an ok that sent nothing).
caf::error over_budget() {
  return caf::make_error(ec::rate_limited,
                         std::string{"too many code mails for this account; "
                                     "try again in an hour"});
}

// The steps, in the order they run.
void admit(auth_ptr self, code_ptr flow);
void use(auth_ptr self, code_ptr flow);
void admit(auth_ptr self, change_ptr flow);
void issue(auth_ptr self, change_ptr flow);

caf::result<user_view> start_code_finish(auth_ptr self,
                                         token_code_request& req,
                                         code_purpose purpose) {
  // Code guesses are keyed by the end user's address, not the app
  // server's that sends every user's codes.
  auto source = effective_source(self, req.source, req.client_addr);
  if (!source)
    return std::move(source.error());
  auto flow = std::make_shared<code_flow>();
  flow->rp = self->make_response_promise<user_view>();
  flow->purpose = purpose;
  flow->code = std::move(req.code);
  flow->source = std::move(*source);
  with_session(
    self, req.token,
    [=](session_owner& session) {
      flow->email = session.owner.user.email;
      flow->user_id = session.owner.user.id;
      admit(self, flow);
    },
    answer_error(flow));
  return flow->rp;
}

} // namespace

caf::result<bool> start_verify_email(auth_ptr self, token_request& req) {
  auto rp = self->make_response_promise<bool>();
  auto source = req.source;
  with_session(
    self, req.token,
    [=](session_owner& session) mutable {
      auto& user = session.owner.user;
      if (user.email_verified) {
        rp.deliver(false);
        return;
      }
      ask_db<code_issued>(
        self,
        [=](code_issued& issued) mutable {
          audit_outcome(self, "verify_email_start", "ok", source, user.email,
                        issued.reason.c_str());
          if (!issued.sent && issued.reason == code_issued::budget_spent)
            rp.deliver(over_budget());
          else
            rp.deliver(issued.sent);
        },
        [=](caf::error err) mutable {
          rp.deliver(std::move(err));
        },
        code_issue_atom::value,
        code_request{user.email, code_purpose::verification, std::string{}});
    },
    [=](caf::error err) mutable {
      rp.deliver(std::move(err));
    });
  return rp;
}

caf::result<user_view> finish_verify_email(auth_ptr self,
                                           token_code_request& req) {
  return start_code_finish(self, req, code_purpose::verification);
}

caf::result<user_view> finish_change_email(auth_ptr self,
                                           token_code_request& req) {
  return start_code_finish(self, req, code_purpose::email_change);
}

caf::result<caf::ok_atom> start_change_email(auth_ptr self,
                                             email_change_request& req) {
  auto source = effective_source(self, req.source, req.client_addr);
  if (!source)
    return std::move(source.error());
  auto new_email = normalize_email(req.new_email);
  if (!is_valid_email(new_email))
    return caf::make_error(ec::invalid_email);
  auto flow = std::make_shared<change_flow>();
  flow->rp = self->make_response_promise<caf::ok_atom>();
  flow->password = std::move(req.password);
  flow->new_email = std::move(new_email);
  flow->source = source_key(*source);
  with_session(
    self, req.token,
    [=](session_owner& session) {
      flow->email = session.owner.user.email;
      flow->phc = session.owner.password_hash;
      if (flow->email == flow->new_email) {
        flow->rp.deliver(caf::make_error(
          ec::bad_request, std::string{"new_email is the current address"}));
        return;
      }
      admit(self, flow);
    },
    answer_error(flow));
  return flow->rp;
}

void mail_verification(auth_ptr self, const std::string& email,
                       const std::string& source) {
  ask_db<code_issued>(
    self,
    [=](code_issued& issued) {
      audit_outcome(self, "verify_email_start", "ok", source, email,
                    issued.reason.c_str());
    },
    [=](caf::error err) {
      audit_outcome(self, "verify_email_start",
                    std::string{wire_name(to_wire(err).code)}.c_str(), source,
                    email, "at registration");
    },
    code_issue_atom::value,
    code_request{email, code_purpose::verification, std::string{}});
}

namespace {

void admit(auth_ptr self, code_ptr flow) {
  admit_then(
    self, code_keys(keys_kind, flow->source, flow->email), flow->code,
    [=](maybe_guarded attempt) {
      flow->attempt = std::move(attempt);
      use(self, flow);
    },
    audited_refusal(self, op_name(flow->purpose), flow->source, flow->email,
                    answer_error(flow)));
}

void use(auth_ptr self, code_ptr flow) {
  ask_db<user_view>(
    self,
    [=](user_view& user) {
      report(self, flow->attempt, attempt_result::success);
      audit_outcome(self, op_name(flow->purpose), "ok", flow->source,
                    flow->email, "code");
      forget_sessions(
        self, flow->user_id, std::string{},
        [=]() mutable { flow->rp.deliver(std::move(user)); },
        answer_error(flow));
    },
    [=](caf::error err) {
      if (to_wire(err).code != ec::invalid_code) {
        report(self, flow->attempt, attempt_result::aborted);
        flow->rp.deliver(std::move(err));
        return;
      }
      audit_outcome(self, op_name(flow->purpose), "invalid_code",
                    flow->source, flow->email, "wrong, expired or used code");
      report_failure(self, flow->attempt, [=] {
        flow->rp.deliver(failed_code(self));
      });
    },
    code_use_atom::value, code_attempt{flow->email, flow->purpose, flow->code});
}

/// Keyed like a login to this account, from this source.
void admit(auth_ptr self, change_ptr flow) {
  admit_then(
    self, throttle_keys{flow->source, flow->email}, flow->password,
    [=](maybe_guarded attempt) {
      recheck_password(self,
                       password_recheck{"change_email_start", flow->phc,
                                        std::move(flow->password),
                                        std::move(attempt), flow->source,
                                        flow->email, "wrong password"},
                       [=] { issue(self, flow); }, answer_error(flow));
    },
    audited_refusal(self, "change_email_start", flow->source, flow->email,
                    answer_error(flow)));
}

void issue(auth_ptr self, change_ptr flow) {
  ask_db<code_issued>(
    self,
    [=](code_issued& issued) {
      audit_outcome(self, "change_email_start", "ok", flow->source,
                    flow->email, issued.reason.c_str());
      if (!issued.sent && issued.reason == code_issued::budget_spent)
        flow->rp.deliver(over_budget());
      else
        flow->rp.deliver(caf::ok_atom::value);
    },
    answer_error(flow), code_issue_atom::value,
    code_request{flow->email, code_purpose::email_change, flow->new_email});
}

} // namespace

} // namespace authnode
