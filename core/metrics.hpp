// Lock-free metrics behind /metrics: a matrix of request counters by op and
// result, and fixed-bucket histograms. Everything is a std::atomic bumped
// with relaxed ordering, like core/counters.hpp: the connection actors and
// the hash pool record on their hot paths, and a lock or an allocation per
// request would cost more than the figure is worth. A scrape reads the
// atomics one by one, so it may see a request in one counter and not yet in
// another; each value on its own is exact.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/error_code.hpp"

namespace authnode {

/// The `op` label of authnode_requests_total. `invalid`: a line that did not
/// decode to a request (bad_json, bad_request, unknown_op, line_too_long).
enum class op_label : uint8_t {
  ping,
  register_,
  login,
  whoami,
  logout,
  change_password,
  stats,
  recovery_start,
  recovery_finish,
  verify_email_start,
  verify_email_finish,
  change_email_start,
  change_email_finish,
  totp_setup,
  totp_enable,
  totp_disable,
  recovery_codes_renew,
  login_second_factor,
  passkey_register_begin,
  passkey_register_finish,
  passkey_login_begin,
  passkey_login_finish,
  passkeys_list,
  passkey_delete,
  invalid,
};

constexpr size_t op_label_count = static_cast<size_t>(op_label::invalid) + 1;

std::string_view op_label_name(op_label op);

/// Room for every error code (ec is a uint8_t enum with fewer than this);
/// a code past it is counted as `internal`.
constexpr size_t result_slots = 32;

/// Bucket bounds shared by every histogram: from half a millisecond (a hash
/// at the cheapest cost) to a minute (a login held by the longest default
/// penalty). Text and nanoseconds side by side, so that the `le` labels are
/// printed exactly as written here.
struct bucket_bound {
  std::string_view le;
  int64_t ns;
};

inline constexpr std::array<bucket_bound, 16> histogram_bounds{{
  {"0.0005", 500'000},
  {"0.001", 1'000'000},
  {"0.0025", 2'500'000},
  {"0.005", 5'000'000},
  {"0.01", 10'000'000},
  {"0.025", 25'000'000},
  {"0.05", 50'000'000},
  {"0.1", 100'000'000},
  {"0.25", 250'000'000},
  {"0.5", 500'000'000},
  {"1", 1'000'000'000},
  {"2.5", 2'500'000'000},
  {"5", 5'000'000'000},
  {"10", 10'000'000'000},
  {"30", 30'000'000'000},
  {"60", 60'000'000'000},
}};

class histogram {
public:
  void observe(std::chrono::nanoseconds d) {
    auto ns = d.count() < 0 ? 0 : d.count();
    size_t i = 0;
    while (i < histogram_bounds.size() && ns > histogram_bounds[i].ns)
      ++i;
    buckets_[i].fetch_add(1, std::memory_order_relaxed);
    sum_ns_.fetch_add(ns, std::memory_order_relaxed);
  }

  /// Observations in bucket i alone (not cumulative); the last one is
  /// everything above the largest bound.
  int64_t bucket(size_t i) const {
    return buckets_[i].load(std::memory_order_relaxed);
  }

  int64_t sum_ns() const {
    return sum_ns_.load(std::memory_order_relaxed);
  }

  static constexpr size_t bucket_count = histogram_bounds.size() + 1;

private:
  std::array<std::atomic<int64_t>, bucket_count> buckets_{};
  std::atomic<int64_t> sum_ns_{0};
};

class request_matrix {
public:
  /// `result` ec::none means the request succeeded.
  void count(op_label op, ec result) {
    auto r = static_cast<size_t>(result);
    if (r >= result_slots)
      r = static_cast<size_t>(ec::internal);
    cells_[static_cast<size_t>(op)][r].fetch_add(1, std::memory_order_relaxed);
  }

  int64_t get(op_label op, size_t result) const {
    return cells_[static_cast<size_t>(op)][result].load(
      std::memory_order_relaxed);
  }

private:
  std::array<std::array<std::atomic<int64_t>, result_slots>, op_label_count>
    cells_{};
};

} // namespace authnode
