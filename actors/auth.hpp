// The auth actor: decides every request a connection forwards.
//
// It owns no data and does no slow work itself: users and sessions come from
// the database actor, hashes from the hash pool, so one auth actor on a
// cooperative scheduler thread keeps up with many connections. A failed
// password check is answered with an error that carries its hold
// (`failure-delay`); the connection sends it when the hold is over, so a
// pending failure costs a heap entry and a timer, never a thread.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "actors/deadline_queue.hpp"
#include "actors/interfaces.hpp"
#include "actors/session_cache.hpp"
#include "actors/throttle.hpp"
#include "core/account_rules.hpp"
#include "core/cidr.hpp"
#include "core/counters.hpp"

namespace authnode {

struct auth_settings {
  caf::timespan failure_delay = std::chrono::seconds(2);
  caf::timespan session_ttl = std::chrono::hours(24);
  caf::timespan backend_timeout = std::chrono::seconds(10);
  uint32_t min_password = 8;
  /// --password-context-words: refused in new passwords, like the
  /// account's own email and name (core/password_context.hpp).
  std::vector<std::string> context_words;
  hash_params params;
  /// A hash of a random password made with `params`: unknown emails are
  /// verified against it so they cost the same time as a wrong password.
  std::string dummy_hash;
  /// Sessions kept in memory for whoami; 0 turns the cache off. Only
  /// coherent while this actor sees every session change (one node).
  size_t session_cache_size = 0;
  /// Peers whose requests may name the end user's address (client_addr).
  std::vector<cidr> trusted_sources;
  /// --verify-email: a registration mails the new user a code.
  bool verify_on_register = false;
  /// --require-verified-email: a login of an account whose address is not
  /// proven fails with email_not_verified, once its password matched.
  bool require_verified = false;
  /// --totp-issuer: the name authenticator apps show beside the account.
  std::string totp_issuer = "authnode";
  /// Passkeys: the relying party (rp_id empty: passkeys off), its origins,
  /// user verification; the name browsers show; how long a challenge
  /// lives.
  webauthn_policy webauthn;
  std::string webauthn_rp_name;
  caf::timespan webauthn_challenge_ttl = std::chrono::minutes(5);
};

struct auth_state {
  auth_settings cfg;
  database_actor db;
  hasher_actor hasher;
  std::shared_ptr<node_counters> counters;
  /// Time limits of the requests out to the database.
  deadline_queue deadlines;
  bool tick_armed = false;
  session_cache sessions;
  /// The connections' session cache (net/session_keeper), emptied with
  /// `sessions`; invalid: there is none.
  caf::actor io_sessions;
  /// Consulted before every login verification; invalid: throttling off.
  guard_actor guard;
  /// Where login outcomes are written down; invalid: nowhere.
  audit_actor audit;
  std::array<unsigned char, 32> fingerprint_key{};
  static inline const char* name = "auth";
};

auth_actor::behavior_type auth(auth_actor::stateful_pointer<auth_state> self,
                               auth_settings cfg, database_actor db,
                               hasher_actor hasher, guard_actor guard,
                               audit_actor audit,
                               std::shared_ptr<node_counters> counters,
                               caf::actor io_sessions);

/// Wrong passwords after which a device token is no longer honoured.
constexpr int64_t max_device_failures = 5;

} // namespace authnode
