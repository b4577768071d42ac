// Process-wide counters behind the `stats` op. Atomics rather than an actor:
// every connection bumps requests_total on its hot path, and a round trip to
// a counting actor per request would cost more than the request.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "core/metrics.hpp"

namespace authnode {

struct node_counters {
  std::atomic<int64_t> connections{0};
  std::atomic<int64_t> requests_total{0};
  std::atomic<int64_t> registrations_total{0};
  std::atomic<int64_t> logins_ok{0};
  std::atomic<int64_t> logins_failed{0};
  std::atomic<int64_t> pending_delayed{0};
  std::atomic<int64_t> hash_verifications_total{0};
  std::atomic<int64_t> rate_limited_total{0};
  std::atomic<int64_t> penalized_sources{0};
  std::atomic<int64_t> penalized_accounts{0};
  std::atomic<int64_t> throttle_held{0};
  std::atomic<int64_t> hash_queue_depth{0};
  std::atomic<int64_t> idle_closed_total{0};
  /// Connections made to wait for ignoring retry_after_ms.
  std::atomic<int64_t> tarpitted_total{0};
  /// Answers by op and result, counted by the connection actors (/metrics).
  request_matrix requests;
  /// From a login's arrival at its connection to auth's answer, without the
  /// deliberate failure-delay hold (docs/operations.md#metrics).
  histogram login_duration;
  /// One argon2id hash or verification on a hasher, without the queue wait.
  histogram hash_duration;
  std::chrono::steady_clock::time_point started
    = std::chrono::steady_clock::now();
};

} // namespace authnode
