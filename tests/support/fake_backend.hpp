// A database and a hasher kept in memory, recording what they were asked,
// for tests of the auth actor under CAF's deterministic test coordinator
// (support/auth_fixture.hpp). Their state is shared with the test; safe
// because the test coordinator runs every actor on the test's thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor_clock.hpp>
#include <caf/response_promise.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/interfaces.hpp"

namespace authnode::test {

/// The fake database's tables and a log of what it was asked. Shared with the
/// test; safe because the test coordinator runs every actor on this thread.
struct fake_store {
  std::map<std::string, user_record> users;      // by email
  std::map<std::string, session_owner> sessions; // by token digest
  int64_t next_id = 1;
  std::vector<std::string> user_lookups;
  std::vector<new_user> added;
  std::vector<login_commit> commits;
  std::vector<std::string> session_lookups;
  std::vector<std::string> session_deletes;
  std::vector<password_change> password_changes;
  std::vector<password_rehash> rehashes;
  /// Live codes by (email, purpose): the fake mails nothing, the test reads
  /// the code here. A code is "C-" + the email.
  std::map<std::pair<std::string, code_purpose>, std::string> codes;
  std::vector<code_request> issued;
  std::vector<account_recovery> recoveries;
  /// When set, every request is accepted and never answered.
  bool silent = false;
  /// When set, rehash requests are recorded and never answered.
  bool hold_rehashes = false;
  std::vector<caf::response_promise> unanswered;
  /// Run (once) inside the fake database after it deleted a session, and
  /// before it looks one up: to deliver held answers in a chosen order.
  std::function<void()> after_delete;
  std::function<void()> before_lookup;
  /// Logins waiting for a second factor: the user's email by challenge.
  /// The one right code is `second_factor_code`; the time of every code
  /// checked is in `code_checks` (the test coordinator's clock).
  std::map<std::string, std::string> challenges;
  /// The device digest a challenge's login presented (none: empty).
  std::map<std::string, std::string> challenge_devices;
  /// Device digests a wrong password or code was counted against.
  std::vector<std::string> device_failures;
  std::string second_factor_code = "246810";
  std::vector<caf::actor_clock::time_point> code_checks;
};

using store_ptr = std::shared_ptr<fake_store>;

/// A database actor on `store`.
database_actor::behavior_type fake_database(database_actor::pointer self,
                                            store_ptr store);

/// What the fake hasher was asked. Its "hash" of p is "H:" + p; a stored
/// "OLD:" + p also matches p but was made with other parameters, so it asks
/// for a rehash, like an argon2id hash made with a lower cost would.
struct hash_log {
  std::vector<std::string> hashed;   // passwords
  std::vector<std::string> verified; // PHC strings
};

using hash_log_ptr = std::shared_ptr<hash_log>;

/// A hasher actor whose "hash" of p is "H:" + p; it logs to `log`.
hasher_actor::behavior_type fake_hasher(hasher_actor::pointer,
                                        hash_log_ptr log);

} // namespace authnode::test
