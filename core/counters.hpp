// Process-wide counters behind the `stats` op and /metrics. Atomics rather
// than an actor: every connection bumps requests_total on its hot path, and
// a round trip to a counting actor per request would cost more than the
// request.
//
// The scalar counters are the rows of core/counter_table.hpp; this struct
// holds the `atomic` ones, and take_stats() reads them all at once.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "core/counter_table.hpp"
#include "core/metrics.hpp"

namespace authnode {

struct stats_snapshot; // actors/interfaces.hpp

struct node_counters {
#define AUTHNODE_COUNTER_atomic(name) std::atomic<int64_t> name{0};
#define AUTHNODE_COUNTER_uptime(name)
#define AUTHNODE_COUNTER(name, source, ...) AUTHNODE_COUNTER_##source(name)
  AUTHNODE_STATS(AUTHNODE_COUNTER)
#undef AUTHNODE_COUNTER
#undef AUTHNODE_COUNTER_uptime
#undef AUTHNODE_COUNTER_atomic
  /// Answers by op and result, counted by the connection actors (/metrics).
  request_matrix requests;
  /// From a login's arrival at its connection to auth's answer, without the
  /// deliberate failure-delay hold (docs/operations.md#metrics).
  histogram login_duration;
  /// One argon2id hash or verification on a hasher, without the queue wait.
  histogram hash_duration;
  /// --breached-passwords, set before any actor starts and never after.
  std::string breached_path;
  std::chrono::steady_clock::time_point started
    = std::chrono::steady_clock::now();
};

/// Every row of core/counter_table.hpp as it is at `now`. Each atomic is
/// read on its own, so a request may show in one counter and not yet in
/// another; each value on its own is exact.
stats_snapshot take_stats(const node_counters& c,
                          std::chrono::steady_clock::time_point now
                          = std::chrono::steady_clock::now());

} // namespace authnode
