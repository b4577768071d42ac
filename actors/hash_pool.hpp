// The hash pool: one queue in front of several detached hashers.
//
// Why not CAF's actor_pool with round robin? Round robin hands a job to a
// hasher that may still be busy while another sits idle; with jobs of tens of
// milliseconds that wastes whole cores. The pool keeps the waiting jobs
// itself and gives each to the first idle hasher, so all cores stay busy and
// the queue is visible, bounded and ordered: urgent verifications (logins
// with a valid device token) go ahead of everything else.
//
// Hasher nodes (--hasher-nodes) join a gateway's pool as extra workers: a
// node that runs n hashes at once is handed out n times. The pool watches
// them; when one is lost, the jobs it had are sent to the other workers
// again (hashing has no side effect, so a job done twice is harmless), and
// with no worker left at all a job is answered `unavailable` at once
// rather than waiting for a worker that may never come.
//
// A reload of the breached-password index (breached_reload_atom) goes to
// every local hasher at once, past the queue: each maps the file itself
// (actors/hasher.hpp). Hasher nodes reload on their own (SIGHUP there).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <unordered_map>
#include <vector>

#include <caf/actor_addr.hpp>

#include "actors/hasher.hpp"
#include "actors/interfaces.hpp"
#include "core/counters.hpp"

namespace authnode {

struct hash_pool_state {
  std::vector<hasher_actor> idle;
  /// This node's own hashers, busy or not: a reload goes to each.
  std::vector<hasher_actor> local;
  /// --breached-passwords, for a reload's answer when no hasher is local.
  std::string breached_path;
  using job = std::function<void(hasher_actor)>;
  /// Jobs handed to a remote worker, by job number: sent again elsewhere if
  /// that worker is lost before it answers.
  struct remote_job {
    caf::actor_addr worker;
    job run;
  };
  std::unordered_map<uint64_t, remote_job> at_remote;
  uint64_t next_job = 0;
  /// Every worker, idle or not: local hashers, and remote ones once for each
  /// hash they run at once.
  size_t workers = 0;
  /// How many places each remote worker has in `workers`.
  std::unordered_map<caf::actor_addr, uint32_t> remote_slots;
  /// Served first, in arrival order.
  std::deque<job> urgent;
  std::deque<job> waiting;
  /// Jobs that may wait for a hasher, counted per queue: past it, `busy` at
  /// once. The urgent queue has its own bound, so a flood of anonymous
  /// guesses that fills the normal queue never refuses a known device.
  size_t max_queue = 0;
  /// Where the queue length is published for `stats`; may be null.
  std::shared_ptr<node_counters> counters;
  static inline const char* name = "hash_pool";
};

/// Spawns `workers` detached hashers linked to the pool (0: only hasher
/// nodes will work for it).
hash_pool_actor::behavior_type
hash_pool(hash_pool_actor::stateful_pointer<hash_pool_state> self,
          size_t workers, size_t max_queue,
          std::shared_ptr<node_counters> counters, breached_settings breached);

} // namespace authnode
