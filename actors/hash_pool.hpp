// The hash pool: one queue in front of several detached hashers.
//
// Why not CAF's actor_pool with round robin? Round robin hands a job to a
// hasher that may still be busy while another sits idle; with jobs of tens of
// milliseconds that wastes whole cores. The pool keeps the waiting jobs
// itself and gives each to the first idle hasher, so all cores stay busy and
// the queue is visible, bounded and ordered: urgent verifications (logins
// with a valid device token) go ahead of everything else.
#pragma once

#include <deque>
#include <functional>
#include <vector>

#include "actors/interfaces.hpp"
#include "core/counters.hpp"

namespace authnode {

struct hash_pool_state {
  std::vector<hasher_actor> idle;
  using job = std::function<void(hasher_actor)>;
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

/// Spawns `workers` detached hashers linked to the pool.
hasher_actor::behavior_type
hash_pool(hasher_actor::stateful_pointer<hash_pool_state> self, size_t workers,
          size_t max_queue, std::shared_ptr<node_counters> counters);

} // namespace authnode
