// A load client for line protocols, shared by the benchmarks: N connections
// on one epoll thread, each keeping `depth` requests in flight, for a bounded
// time and count. The same client drives authnode and redis-server, so their
// figures are comparable.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace authnode::bench {

struct load_spec {
  uint16_t port = 0;
  int connections = 50;
  int depth = 1;
  /// One request, with its line ending.
  std::string line;
  std::chrono::milliseconds duration{3000};
  /// Stop early after this many replies.
  uint64_t max_replies = 50'000'000;
  /// Count a reply as a success when it contains this (empty: all).
  std::string success_marker;
  /// Lines that make one reply: 1 for authnode and Redis's simple replies,
  /// 2 for a Redis bulk string ("$<length>", then the value).
  int lines_per_reply = 1;
};

struct load_result {
  double seconds = 0;
  uint64_t replies = 0;
  uint64_t successes = 0;
  /// Microseconds from sending a request to reading its reply, assuming
  /// replies on a connection come back in order (true for the ops measured).
  std::vector<double> latencies_us;

  double rate() const {
    return seconds > 0 ? successes / seconds : 0;
  }
  double percentile(double p) const;
};

load_result run_load(const load_spec& spec);

/// Connects (blocking) to 127.0.0.1:port; -1 on failure.
int connect_to(uint16_t port);

/// Like connect_to, but from the local address `from` (bound before the
/// connect), so that the node sees another source: on Linux every address
/// of 127.0.0.0/8 is the loopback. -1 on failure.
int connect_from(uint16_t port, const std::string& from);

/// Sends one line and returns the first reply line (blocking, 10 s at most).
std::string call(int fd, const std::string& line);

/// Resident set size of a process in KiB (VmRSS), or -1.
long rss_kib(int pid);

double median(std::vector<double> xs);

/// The value of `--name=value` among the arguments, or `fallback`.
long flag(int argc, char** argv, const char* name, long fallback);

} // namespace authnode::bench
