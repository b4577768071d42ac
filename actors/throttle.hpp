// The throttling policy as plain data: who may spend a password verification
// now, who must wait, who is refused. No actors and no clock here (time is
// passed in), so the schedule is tested exactly; actors/guard.cpp puts it
// behind a message interface and keeps the waiting attempts.
//
// Keys are a source (IPv4 address, IPv6 /64) and an account (the normalized
// email, whether or not it exists, so throttling reveals nothing). After
// failures on a key, its next verification waits
//   failure_delay * 2^(failures - 1), capped at max_penalty,
// counted from its last failure; failures are forgotten after
// failure_window without one, and a success clears the account's count.
// A failure with the same wrong password as a recent one (a client with a
// stale saved password) does not escalate: keys remember short keyed hashes
// of recent failed passwords, never the passwords. And at most
// max_verifying_per_key verifications per key run at once, so a burst that
// arrives before any failure is known costs a handful of hashes, not one per
// request.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>

#include <caf/actor_clock.hpp>
#include <caf/timestamp.hpp>

#include "actors/interfaces.hpp"

namespace authnode {

/// The digest a shared database keeps a key by (storage/throttle_store.hpp):
/// BLAKE2b-256 of "source:" or "account:" and the key, so that attacked
/// addresses, and emails that may belong to no one, are not stored.
std::string throttle_key_digest(bool account, const std::string& key);

struct throttle_settings {
  caf::timespan failure_delay = std::chrono::seconds(2);
  caf::timespan max_penalty = std::chrono::seconds(60);
  caf::timespan failure_window = std::chrono::minutes(15);
  uint32_t max_verifying_per_key = 2;
  size_t max_pending = 10000;
  size_t max_pending_per_source = 16;
  /// Hashes for registrations per source and minute: a token bucket that
  /// holds this many.
  uint32_t register_rate = 10;
};

class throttle {
public:
  using time_point = caf::actor_clock::time_point;

  enum class decision {
    go,     ///< verify now; call finished() when done
    wait,   ///< hold the attempt and ask again at `until` (or when told)
    refuse, ///< answer rate_limited, retry after `until`
  };

  struct verdict {
    decision what = decision::go;
    time_point until{};
  };

  explicit throttle(throttle_settings cfg = {}) : cfg_(cfg) {}

  /// Decides about one attempt. `go` counts it as verifying on both keys;
  /// `wait` counts it as held on the keys that hold it up, until it is asked
  /// about again with `was_held` set.
  verdict admit(const throttle_keys& keys, time_point now,
                bool was_held = false);

  /// An attempt `admit` said to hold is answered otherwise (the node is
  /// stopping): it is no longer counted as held.
  void drop_hold(const throttle_keys& keys);

  /// Which keys a failure counted on: a failure with the same wrong
  /// password as a recent one does not.
  struct counted {
    bool source = false;
    bool account = false;
  };

  /// A verification admitted with `go` has ended. `fingerprint` is a keyed
  /// hash of the password tried (only read for failures).
  counted finished(const throttle_keys& keys, attempt_result result,
                   uint64_t fingerprint, time_point now);

  /// Failures of a key counted elsewhere (other nodes on one database, or
  /// before a restart): from now on the key has at least `failures`, the
  /// last no earlier than `last_failure`. With `exact` (the database has
  /// every failure this node counted), it has exactly that many, fewer
  /// too: a success on another node forgave the rest.
  void adopt(bool account, const std::string& key, int64_t failures,
             time_point last_failure, time_point now, bool exact = false);

  /// Drops keys with nothing to remember; returns how many remain penalized
  /// (with failures in the window) as {sources, accounts}.
  std::pair<size_t, size_t> sweep(time_point now);

  /// Takes one hash from a source's registration budget. Returns zero when
  /// granted, else how long until the next one is.
  caf::timespan spend(const std::string& source, time_point now);

  size_t held() const {
    return held_total_;
  }

  /// What is remembered of a source key (`account` false) or an account
  /// key, as of `now`: failures in the window, the wait the next
  /// verification has left, attempts held and verifying. All zero for a key
  /// with nothing remembered.
  throttle_status status(bool account, const std::string& key,
                         time_point now) const;

  /// Forgets a key's failures (the operator's "unlock"); attempts held or
  /// verifying stay counted, so held ones are asked about again by the
  /// caller. Returns whether the key had failures in the window.
  bool reset(bool account, const std::string& key, time_point now);

  /// The wait before the next verification after `failures` failures.
  caf::timespan penalty(uint32_t failures) const;

private:
  struct key_state {
    uint32_t failures = 0;
    time_point last_failure{};
    uint32_t verifying = 0;
    uint32_t holding = 0;
    std::array<uint64_t, 4> recent{}; // fingerprints of failed passwords
    size_t next_recent = 0;
    size_t held_by_source = 0; // only used on source keys
  };

  using table = std::unordered_map<std::string, key_state>;

  key_state& entry(table& t, const std::string& key, time_point now);
  time_point ready_at(const key_state& k) const;
  bool slot_free(const key_state& k) const {
    return k.verifying < cfg_.max_verifying_per_key;
  }
  bool record_failure(key_state& k, uint64_t fingerprint, time_point now);

  throttle_settings cfg_;
  struct bucket {
    double tokens = 0;
    time_point updated{};
  };

  std::unordered_map<std::string, bucket> budgets_;
  table sources_;
  table accounts_;
  size_t held_total_ = 0;
};

} // namespace authnode
