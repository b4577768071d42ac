// A password change, top to bottom. The change is a value (password_flow:
// its promise, the session to keep, both passwords, the source and the
// session's user) carried through the steps below, declared and
// defined in the order they run:
//
//   start_change_password --> find_session (the database; checks the new
//     password against the user) --> admit (the guard; then the old
//     password checked by the hash pool, recheck_password) --> hash_new (the
//     hash pool) --> store (the database: the new hash, and every other
//     session of the user revoked)
//
// Guessing the old password with a stolen token is guessing all the same:
// it is throttled like a login to this account, and a wrong one fails like
// a wrong login. The flow is shared (shared_ptr) because a step's answer and
// error callbacks both hold it and exactly one of them runs.
#include "actors/password_flow.hpp"

#include <memory>
#include <string>
#include <utility>

#include "core/account_rules.hpp"
#include "core/source_key.hpp"

namespace authnode {

namespace {

struct password_flow {
  caf::typed_response_promise<caf::ok_atom> rp;
  /// The digest of the session's token: the session that stays.
  std::string keep_digest;
  secret old_password;
  secret new_password;
  /// The source's throttling key, also what the audit line records.
  std::string source;
  /// The session's user, as found.
  int64_t user_id = 0;
  std::string email;
  std::string phc;
};

using password_ptr = std::shared_ptr<password_flow>;

// The steps, in the order they run.
void find_session(auth_ptr self, password_ptr change, const secret& token);
void admit(auth_ptr self, password_ptr change);
void hash_new(auth_ptr self, password_ptr change);
void store(auth_ptr self, password_ptr change, std::string phc);

} // namespace

caf::result<caf::ok_atom> start_change_password(auth_ptr self,
                                                password_change_request& req) {
  auto source = effective_source(self, req.source, req.client_addr);
  if (!source)
    return std::move(source.error());
  auto change = std::make_shared<password_flow>();
  change->rp = self->make_response_promise<caf::ok_atom>();
  change->keep_digest = token_digest(req.token.reveal());
  change->old_password = std::move(req.old_password);
  change->new_password = std::move(req.new_password);
  change->source = source_key(*source);
  find_session(self, change, req.token);
  return change->rp;
}

namespace {

/// The token's session and its user; a new password that does not suit the
/// user fails here, before anything is hashed.
void find_session(auth_ptr self, password_ptr change, const secret& token) {
  with_session(
    self, token,
    [=](session_owner& session) {
      auto& user = session.owner;
      if (auto err = check_new_password(change->new_password, user.user.email,
                                        self->state.cfg.min_password)) {
        change->rp.deliver(std::move(err));
        return;
      }
      if (auto err = check_context(change->new_password, user.user.email,
                                   user.user.name,
                                   self->state.cfg.context_words)) {
        change->rp.deliver(std::move(err));
        return;
      }
      change->user_id = user.user.id;
      change->email = user.user.email;
      change->phc = user.password_hash;
      admit(self, change);
    },
    answer_error(change));
}

/// Keyed like a login to this account, from this source.
void admit(auth_ptr self, password_ptr change) {
  admit_then(
    self, throttle_keys{change->source, change->email}, change->old_password,
    [=](maybe_guarded attempt) {
      // A wrong old password fails like a wrong login: counted, reported
      // to the guard and held for failure-delay.
      recheck_password(self,
                       password_recheck{"change_password", change->phc,
                                        std::move(change->old_password),
                                        std::move(attempt), change->source,
                                        change->email, "wrong old password"},
                       [=] { hash_new(self, change); }, answer_error(change));
    },
    audited_refusal(self, "change_password", change->source, change->email,
                    answer_error(change)));
}

void hash_new(auth_ptr self, password_ptr change) {
  self
    ->request(self->state.hasher, caf::infinite, hash_new_atom::value,
              std::move(change->new_password), self->state.cfg.params)
    .then(
      [=](std::string& phc) {
        store(self, change, std::move(phc));
      },
      counted_breach(self, "change_password", change->source, change->email,
                     answer_error(change)));
}

/// The other sessions are revoked with the new hash, in one transaction;
/// the cache drops them once that is done.
void store(auth_ptr self, password_ptr change, std::string phc) {
  password_change row{change->user_id, std::move(phc), change->keep_digest};
  ask_db<caf::ok_atom>(
    self,
    [=](caf::ok_atom ok) {
      forget_sessions(
        self, change->user_id, change->keep_digest,
        [=] { change->rp.deliver(ok); }, answer_error(change));
    },
    answer_error(change), password_set_atom::value, std::move(row));
}

} // namespace

} // namespace authnode
