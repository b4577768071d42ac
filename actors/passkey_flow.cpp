// Passkeys, top to bottom. The steps are declared and defined below in the
// order they run:
//
//   start_passkey_register --> find the session --> the database stores the
//     challenge (and makes the user's handle) --> creation options
//   finish_passkey_register --> find the session --> the database uses up
//     the challenge the clientDataJSON names, if it is this user's --> a
//     hasher verifies the registration (core/webauthn.hpp) --> the database
//     stores the credential
//   start_passkey_login --> the database stores the challenge, and gives
//     the allow list for the email (decoys for one without passkeys)
//   finish_passkey_login --> claim (the database uses up the challenge and
//     finds the credential and its owner) --> check_device (a device token
//     of the owner's skips the guard, as for a password login) or admit
//     (the guard, on the passkey keys of the source and the owner) -->
//     check (a hasher
//     verifies the assertion) --> count (the database stores the counter,
//     if it still moves on) --> grant, or second_factor_required for an
//     account with TOTP whose passkey did not verify the user
//
// A failed assertion (no live challenge, an unknown credential, another
// account's, a bad signature, a counter that went back, a disabled
// account) is one answer, invalid_credentials held for failure-delay like a
// wrong password, reported to the guard on keys of its own ("passkey:" +
// source and account) so that a passkey guesser slows neither the owner's
// password login nor the reverse; only the audit line says which it was. A
// counter that went back is audited as a possibly cloned authenticator.
// Whoever knows an email can keep its passkey account key penalized (the
// allow list names its credential ids); the owner's device token is what
// gets them in all the same, and a failure on it counts against the token.
//
// Verification runs in the hashers, not here: it is CPU work (a signature
// check, CBOR decoding of untrusted input), and the hash pool runs it
// ahead of argon2's queue because it is short.
#include "actors/passkey_flow.hpp"

#include <memory>
#include <utility>

#include <sodium.h>

#include "core/clock.hpp"
#include "core/email.hpp"
#include "core/source_key.hpp"

#include "actors/second_factor_flow.hpp"

namespace authnode {

namespace {

/// Challenges are 32 random bytes: WebAuthn asks for at least 16.
constexpr size_t challenge_bytes = 32;

/// The name a passkey gets when its owner gives none, and the longest one.
constexpr const char* default_name = "Passkey";
constexpr size_t max_name = 64;

struct register_flow {
  caf::typed_response_promise<passkey_info> rp;
  std::string source;
  webauthn_registration credential;
  /// The challenge the clientDataJSON names (raw).
  std::string challenge;
  user_view user;
  webauthn_challenge issued;
};

using register_ptr = std::shared_ptr<register_flow>;

// The registration's steps, in the order they run.
void take_challenge(auth_ptr self, register_ptr reg);
void verify(auth_ptr self, register_ptr reg);
void store(auth_ptr self, register_ptr reg, webauthn_credential credential);

struct login_flow {
  caf::typed_response_promise<session_grant> rp;
  std::string source;
  webauthn_assertion assertion;
  passkey_claim claim;
  maybe_guarded attempt;
  webauthn_proof proof;
  /// Digest of the device token presented, while it is honoured.
  std::string device_digest;
};

using login_ptr = std::shared_ptr<login_flow>;

// The login's steps, in the order they run.
void claim(auth_ptr self, login_ptr login, std::string challenge);
void check_device(auth_ptr self, login_ptr login);
void admit(auth_ptr self, login_ptr login);
void check(auth_ptr self, login_ptr login);
void count(auth_ptr self, login_ptr login);
void grant(auth_ptr self, login_ptr login);
void refuse(auth_ptr self, login_ptr login, const char* reason);

bool passkeys_off(auth_ptr self) {
  return self->state.cfg.webauthn.rp_id.empty();
}

caf::error not_configured() {
  return caf::make_error(ec::unavailable,
                         std::string{"passkeys are not configured: start the "
                                     "node with --webauthn-rp-id"});
}

std::string fresh_challenge() {
  std::string out(challenge_bytes, '\0');
  randombytes_buf(out.data(), out.size());
  return out;
}

int64_t challenge_expiry(auth_ptr self) {
  return now_seconds()
         + std::chrono::duration_cast<std::chrono::seconds>(
             self->state.cfg.webauthn_challenge_ttl)
             .count();
}

/// The options of both ceremonies share the relying party's settings.
webauthn_options options_for(auth_ptr self, webauthn_purpose purpose,
                             std::string challenge,
                             std::vector<std::string> ids) {
  auto& cfg = self->state.cfg;
  webauthn_options out;
  out.purpose = purpose;
  out.challenge = std::move(challenge);
  out.rp_id = cfg.webauthn.rp_id;
  out.rp_name = cfg.webauthn_rp_name;
  out.credential_ids = std::move(ids);
  out.user_verification = cfg.webauthn.user_verification;
  out.timeout_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                     cfg.webauthn_challenge_ttl)
                     .count();
  return out;
}

caf::error refused_registration(const std::string& why) {
  return caf::make_error(ec::passkey_refused, why);
}

} // namespace

// -- registration ---------------------------------------------------------------

caf::result<webauthn_options>
start_passkey_register(auth_ptr self, passkey_begin_request& req) {
  if (passkeys_off(self))
    return not_configured();
  auto name = req.name.empty() ? std::string{default_name} : req.name;
  if (name.size() > max_name)
    return caf::make_error(ec::bad_request,
                           std::string{"field name must be at most 64 bytes"});
  auto rp = self->make_response_promise<webauthn_options>();
  with_session(
    self, req.token,
    [=](session_owner& session) mutable {
      auto user = session.owner.user;
      webauthn_challenge c{fresh_challenge(), webauthn_purpose::registration,
                           user.id, {}, name, challenge_expiry(self)};
      auto challenge = c.challenge;
      ask_db<passkey_owner>(
        self,
        [=](passkey_owner& owner) mutable {
          auto out = options_for(self, webauthn_purpose::registration,
                                 challenge, std::move(owner.credential_ids));
          out.user_handle = std::move(owner.user_handle);
          out.user_name = user.email;
          out.display_name = user.name.empty() ? user.email : user.name;
          rp.deliver(std::move(out));
        },
        [=](caf::error err) mutable { rp.deliver(std::move(err)); },
        pk_reg_begin_atom::value, std::move(c));
    },
    [=](caf::error err) mutable { rp.deliver(std::move(err)); });
  return rp;
}

caf::result<passkey_info>
finish_passkey_register(auth_ptr self, passkey_register_request& req) {
  if (passkeys_off(self))
    return not_configured();
  auto challenge = webauthn_client_challenge(req.credential.client_data_json);
  if (challenge.empty())
    return refused_registration("malformed: clientDataJSON names no challenge");
  auto reg = std::make_shared<register_flow>();
  reg->rp = self->make_response_promise<passkey_info>();
  reg->source = req.source;
  reg->credential = std::move(req.credential);
  reg->challenge = std::move(challenge);
  with_session(
    self, req.token,
    [=](session_owner& session) {
      reg->user = session.owner.user;
      take_challenge(self, reg);
    },
    [=](caf::error err) { reg->rp.deliver(std::move(err)); });
  return reg->rp;
}

namespace {

/// Uses up the challenge, if it is a live one of this user's.
void take_challenge(auth_ptr self, register_ptr reg) {
  ask_db<webauthn_challenge>(
    self,
    [=](webauthn_challenge& found) {
      reg->issued = std::move(found);
      verify(self, reg);
    },
    [=](caf::error err) {
      if (err == caf::make_error(ec::invalid_code))
        err = refused_registration("no live challenge of this account: "
                                   "begin again");
      reg->rp.deliver(std::move(err));
    },
    pk_reg_finish_atom::value, reg->challenge, reg->user.id,
    int64_t{now_seconds()});
}

/// A hasher checks the credential (core/webauthn.hpp); a refusal names the
/// check that failed.
void verify(auth_ptr self, register_ptr reg) {
  self
    ->request(self->state.hasher, caf::infinite, wa_register_atom::value,
              reg->credential, reg->challenge, self->state.cfg.webauthn)
    .then(
      [=](registration_verdict& verdict) {
        if (verdict.refusal != webauthn_refusal::none) {
          auto why = webauthn_refusal_name(verdict.refusal);
          audit_outcome(self, "passkey_register", "passkey_refused",
                        reg->source, reg->user.email, why);
          reg->rp.deliver(refused_registration(why));
          return;
        }
        store(self, reg, std::move(verdict.credential));
      },
      [=](caf::error& err) { reg->rp.deliver(std::move(err)); });
}

void store(auth_ptr self, register_ptr reg, webauthn_credential credential) {
  ask_db<passkey_info>(
    self,
    [=](passkey_info& added) {
      audit_outcome(self, "passkey_register", "ok", reg->source,
                    reg->user.email, "passkey added");
      reg->rp.deliver(std::move(added));
    },
    [=](caf::error err) { reg->rp.deliver(std::move(err)); },
    pk_add_atom::value,
    passkey_new{reg->user.id, reg->issued.name, std::move(credential),
                now_seconds()});
}

} // namespace

// -- sign-in --------------------------------------------------------------------

caf::result<passkey_login_options>
start_passkey_login(auth_ptr self, passkey_login_begin_request& req) {
  if (passkeys_off(self))
    return not_configured();
  if (auto source = effective_source(self, req.source, req.client_addr);
      !source)
    return std::move(source.error());
  auto rp = self->make_response_promise<passkey_login_options>();
  webauthn_challenge c{fresh_challenge(), webauthn_purpose::login, 0,
                       req.email.empty() ? std::string{}
                                         : normalize_email(req.email),
                       {}, challenge_expiry(self)};
  auto challenge = c.challenge;
  ask_db<passkey_owner>(
    self,
    [=](passkey_owner& owner) mutable {
      rp.deliver(passkey_login_options{
        base64url(challenge),
        options_for(self, webauthn_purpose::login, challenge,
                    std::move(owner.credential_ids))});
    },
    [=](caf::error err) mutable { rp.deliver(std::move(err)); },
    pk_login_begin_atom::value, std::move(c));
  return rp;
}

caf::result<session_grant> finish_passkey_login(auth_ptr self,
                                                passkey_login_request& req) {
  if (passkeys_off(self))
    return not_configured();
  auto source = effective_source(self, req.source, req.client_addr);
  if (!source)
    return std::move(source.error());
  auto login = std::make_shared<login_flow>();
  login->rp = self->make_response_promise<session_grant>();
  login->source = std::move(*source);
  login->assertion = std::move(req.credential);
  // Device tokens serve the throttle only: without it, they are ignored.
  if (!req.device_token.empty() && self->state.guard)
    login->device_digest = token_digest(req.device_token.reveal());
  claim(self, login, std::move(req.challenge_id));
  return login->rp;
}

namespace {

/// The challenge is used up whatever comes of it; an unknown credential
/// still goes on to the guard, so that it fails like any other.
void claim(auth_ptr self, login_ptr login, std::string challenge) {
  ask_db<passkey_claim>(
    self,
    [=](passkey_claim& found) {
      login->claim = std::move(found);
      check_device(self, login);
    },
    [=](caf::error err) { login->rp.deliver(std::move(err)); },
    pk_find_atom::value,
    passkey_lookup{std::move(challenge), login->assertion.credential_id,
                   int64_t{now_seconds()}});
}

/// The account key is the credential's owner, else the email the login
/// began with, else the credential id: a guesser of unknown ids pays on
/// its source without making anyone else pay.
std::string account_key(const login_flow& login) {
  auto& c = login.claim;
  if (c.known)
    return c.owner.user.email;
  if (!c.challenge.email.empty())
    return c.challenge.email;
  return "credential:" + base64url(login.assertion.credential_id);
}

/// A device token of the credential's owner, with fewer than
/// max_device_failures wrong answers on it: exempt from the passkey keys'
/// penalties. Anything else takes the guarded path.
void check_device(auth_ptr self, login_ptr login) {
  if (login->device_digest.empty() || !login->claim.known)
    return admit(self, login);
  with_device(
    self, login->device_digest,
    [=](int64_t user_id) {
      if (user_id != login->claim.owner.user.id)
        return admit(self, login);
      check(self, login);
    },
    [=] { admit(self, login); });
}

void admit(auth_ptr self, login_ptr login) {
  login->device_digest.clear();
  auto account = account_key(*login);
  auto keys = code_keys(guess_kind::passkey, login->source, account);
  admit_then(
    self, std::move(keys), secret{login->assertion.signature},
    [=](maybe_guarded attempt) {
      login->attempt = std::move(attempt);
      check(self, login);
    },
    audited_refusal(self, "passkey_login", login->source, account,
                    answer_error(login)));
}

/// What the database knew decides first; the signature only for a
/// credential that may answer this challenge.
void check(auth_ptr self, login_ptr login) {
  auto& c = login->claim;
  auto& a = login->assertion;
  if (!c.live)
    return refuse(self, login, "no live challenge");
  if (!c.known)
    return refuse(self, login, "unknown credential");
  if (!c.challenge.email.empty() && c.challenge.email != c.owner.user.email)
    return refuse(self, login, "credential of another account");
  if (!a.user_handle.empty() && a.user_handle != c.user_handle)
    return refuse(self, login, "user handle of another account");
  self
    ->request(self->state.hasher, caf::infinite, wa_assert_atom::value, a,
              c.challenge.challenge, c.credential, self->state.cfg.webauthn)
    .then(
      [=](assertion_verdict& verdict) {
        if (verdict.refusal == webauthn_refusal::counter_regressed)
          return refuse(self, login,
                        "possibly cloned authenticator: counter went back");
        if (verdict.refusal != webauthn_refusal::none)
          return refuse(self, login, webauthn_refusal_name(verdict.refusal));
        login->proof = verdict.proof;
        count(self, login);
      },
      [=](caf::error& err) {
        report(self, login->attempt, attempt_result::aborted);
        login->rp.deliver(std::move(err));
      });
}

/// The counter is stored only if it still moves on: of two assertions
/// with one counter value (a clone racing its original), one passes.
void count(auth_ptr self, login_ptr login) {
  ask_db<caf::ok_atom>(
    self,
    [=](caf::ok_atom) { grant(self, login); },
    [=](caf::error err) {
      if (err == caf::make_error(ec::conflict))
        return refuse(self, login,
                      "possibly cloned authenticator: counter went back");
      report(self, login->attempt, attempt_result::aborted);
      login->rp.deliver(std::move(err));
    },
    pk_use_atom::value,
    passkey_use{login->assertion.credential_id, login->proof.sign_count,
                int64_t{now_seconds()}});
}

/// As after a password: disabled fails like a wrong credential, an
/// unproven address with --require-verified-email says so, and TOTP is
/// asked for unless the passkey verified the user (a passkey with user
/// verification is two factors already: something held and something
/// known or been).
void grant(auth_ptr self, login_ptr login) {
  auto& owner = login->claim.owner;
  if (owner.disabled)
    return refuse(self, login, "disabled");
  report(self, login->attempt, attempt_result::success);
  auto& user = owner.user;
  if (self->state.cfg.require_verified && !user.email_verified) {
    audit_outcome(self, "passkey_login", "email_not_verified", login->source,
                  user.email, "passkey");
    login->rp.deliver(caf::make_error(ec::email_not_verified));
    return;
  }
  if (user.totp && !login->proof.user_verified) {
    ask_second_factor(self, "passkey_login", user, login->source,
                      login->device_digest, login->rp, false);
    return;
  }
  audit_outcome(self, "passkey_login", "ok", login->source, user.email,
                login->proof.user_verified ? "passkey, user verified"
                                           : "passkey");
  commit_grant(self, user, login->source, !login->device_digest.empty(),
               login->rp);
}

void refuse(auth_ptr self, login_ptr login, const char* reason) {
  auto& c = login->claim;
  audit_outcome(self, "passkey_login", "invalid_credentials", login->source,
                c.known ? c.owner.user.email : c.challenge.email, reason);
  if (!login->device_digest.empty())
    tell_db<caf::ok_atom>(self, device_fail_atom::value, login->device_digest);
  report_failure(self, login->attempt, [=] {
    login->rp.deliver(failed_credentials(self));
  });
}

} // namespace

// -- the user's passkeys --------------------------------------------------------

caf::result<passkey_list> list_passkeys(auth_ptr self, token_request& req) {
  if (passkeys_off(self))
    return not_configured();
  auto rp = self->make_response_promise<passkey_list>();
  with_session(
    self, req.token,
    [=](session_owner& session) mutable {
      ask_db<passkey_list>(
        self, [=](passkey_list& list) mutable { rp.deliver(std::move(list)); },
        [=](caf::error err) mutable { rp.deliver(std::move(err)); },
        pk_list_atom::value, session.owner.user.id);
    },
    [=](caf::error err) mutable { rp.deliver(std::move(err)); });
  return rp;
}

caf::result<caf::ok_atom> delete_passkey(auth_ptr self,
                                         passkey_delete_request& req) {
  if (passkeys_off(self))
    return not_configured();
  auto rp = self->make_response_promise<caf::ok_atom>();
  auto id = req.passkey_id;
  auto source = req.source;
  with_session(
    self, req.token,
    [=](session_owner& session) mutable {
      auto email = session.owner.user.email;
      ask_db<caf::ok_atom>(
        self,
        [=](caf::ok_atom ok) mutable {
          audit_outcome(self, "passkey_delete", "ok", source, email,
                        "passkey removed");
          rp.deliver(ok);
        },
        [=](caf::error err) mutable {
          rp.deliver(is_not_found(err) ? caf::make_error(ec::no_such_passkey)
                                       : std::move(err));
        },
        pk_delete_atom::value, session.owner.user.id, id);
    },
    [=](caf::error err) mutable { rp.deliver(std::move(err)); });
  return rp;
}

} // namespace authnode
