// The admin actor: carries out the operator's commands of the admin channel
// (docs/protocol.md, "Admin channel"), and answers requests that came
// without the right admin key.
//
// It owns nothing: users come from the database actor, hashes from the hash
// pool, counters from auth. After a change that ends sessions (a new
// password, disabling, deleting, an import that replaced hashes) it tells
// auth to drop the user's cached sessions before it answers, so a whoami
// after the reply fails. After user_verify too: a cached session holds the
// user object, email_verified with it.
//
// user_import checks each row here (email, name, hash format, created_at,
// duplicates within the batch), cheaply and without hashing anything, and
// hands the rows that pass to the database as one batch, stored in one
// transaction.
//
// A denial is treated like a failed login of the account "admin:" (which no
// email can be) from the request's source: the guard admits it (or holds
// or refuses it, as it would a login), is told it failed, and the answer is
// forbidden held for failure-delay. So guessing keys earns the same
// penalties as guessing passwords, and from the same budget of the source.
#pragma once

#include <chrono>

#include "actors/interfaces.hpp"

namespace authnode {

/// The guard's account key for admin denials: not an email, so it cannot
/// collide with an account.
inline constexpr const char* admin_account_key = "admin:";

struct admin_settings {
  caf::timespan failure_delay = std::chrono::seconds(2);
  caf::timespan backend_timeout = std::chrono::seconds(10);
  uint32_t min_password = 8;
  /// --password-context-words (core/password_context.hpp).
  std::vector<std::string> context_words;
  hash_params params;
};

struct admin_state {
  admin_settings cfg;
  database_actor db;
  hasher_actor hasher;
  auth_actor auth;
  /// Invalid: throttling is off.
  guard_actor guard;
  /// Invalid: no audit log.
  audit_actor audit;
  static inline const char* name = "admin";
};

admin_actor::behavior_type
admin(admin_actor::stateful_pointer<admin_state> self, admin_settings cfg,
      database_actor db, hasher_actor hasher, auth_actor auth,
      guard_actor guard, audit_actor audit);

} // namespace authnode
