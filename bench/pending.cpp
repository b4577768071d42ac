// What 10,000 pending failed logins cost: the node's RSS growth while they
// are all held, and the latency of `ping` meanwhile, against the same
// figures before the wave. Start the node with a failure delay long enough
// to hold the whole wave and a cheap hash so the wave is quick to verify:
//
//   authnode --failure-delay=60s --hash-ops=1 --hash-mem=8192 &
//   pending --port=7411 --pid=$! [--count=10000] [--connections=100]
//           [--half-close=1]
//
// With --half-close=1 each connection shuts its sending side down
// (shutdown(SHUT_WR), as `nc -N` does) right after its burst: the node must
// still hold and then send every failure, and close each connection after
// its last reply. The run then waits for all of them (up to the failure
// delay plus 30 s) and says how many replies and closes it got.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "load.hpp"

using namespace authnode::bench;

namespace {

long stat_field(int fd, const char* name) {
  auto reply = call(fd, "{\"op\":\"stats\"}\n");
  auto key = std::string{"\""} + name + "\":";
  auto at = reply.find(key);
  return at == std::string::npos ? -1
                                 : std::atol(reply.c_str() + at + key.size());
}

/// p50/p99 of `n` sequential pings on one connection, in microseconds.
std::pair<double, double> ping_latency(uint16_t port, int n) {
  load_spec spec;
  spec.port = port;
  spec.connections = 1;
  spec.depth = 1;
  spec.line = "{\"op\":\"ping\"}\n";
  spec.max_replies = static_cast<uint64_t>(n);
  spec.duration = std::chrono::seconds(10);
  auto res = run_load(spec);
  return {res.percentile(50), res.percentile(99)};
}

/// Reads every connection until the node closes it; replies (lines) and
/// closes seen before `deadline`.
std::pair<long, long> drain(const std::vector<int>& fds,
                            std::chrono::steady_clock::time_point deadline) {
  long lines = 0;
  long closed = 0;
  std::vector<pollfd> open;
  for (auto fd : fds)
    open.push_back({fd, POLLIN, 0});
  char buf[4096];
  while (!open.empty() && std::chrono::steady_clock::now() < deadline) {
    if (poll(open.data(), open.size(), 200) <= 0)
      continue;
    for (size_t i = 0; i < open.size();) {
      if (open[i].revents == 0) {
        ++i;
        continue;
      }
      auto n = read(open[i].fd, buf, sizeof buf);
      if (n <= 0) {
        ++closed;
        open.erase(open.begin() + static_cast<long>(i));
        continue;
      }
      for (ssize_t k = 0; k < n; ++k)
        lines += buf[k] == '\n';
      open[i].revents = 0;
      ++i;
    }
  }
  return {lines, closed};
}

} // namespace

int main(int argc, char** argv) {
  auto port = static_cast<uint16_t>(flag(argc, argv, "--port", 0));
  auto pid = static_cast<int>(flag(argc, argv, "--pid", 0));
  auto count = flag(argc, argv, "--count", 10000);
  auto nconn = flag(argc, argv, "--connections", 100);
  bool half_close = flag(argc, argv, "--half-close", 0) != 0;
  if (port == 0 || pid == 0) {
    std::fprintf(stderr,
                 "usage: pending --port=N --pid=N [--count=10000] "
                 "[--connections=100]\n");
    return 2;
  }
  int ctl = connect_to(port);
  call(ctl,
       R"({"op":"register","email":"held@example.org",)"
       R"("password":"bench password","name":"Held"})"
       "\n");
  // Open the attack connections first: they cost memory of their own, which
  // is not what this measures.
  // Each one answers a ping first, so that its buffers are in use before
  // the baseline is taken.
  std::vector<int> fds;
  for (long i = 0; i < nconn; ++i) {
    fds.push_back(connect_to(port));
    call(fds.back(), "{\"op\":\"ping\"}\n");
  }
  ping_latency(port, 2000); // warm up
  auto [p50_before, p99_before] = ping_latency(port, 5000);
  auto rss_before = rss_kib(pid);
  auto per_conn = count / nconn;
  for (long i = 0; i < nconn; ++i) {
    std::string burst;
    for (long k = 0; k < per_conn; ++k)
      burst += R"({"id":)" + std::to_string(i * per_conn + k)
        + R"(,"op":"login","email":"held@example.org",)"
          R"("password":"wrong guess"})"
          "\n";
    if (write(fds[i], burst.data(), burst.size())
        != static_cast<ssize_t>(burst.size()))
      return 1;
    if (half_close)
      shutdown(fds[i], SHUT_WR);
  }
  long pending = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(50);
  while (pending < per_conn * nconn
         && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    pending = stat_field(ctl, "pending_delayed");
  }
  if (pending < per_conn * nconn) {
    std::fprintf(stderr, "only %ld of %ld failures held in time\n", pending,
                 per_conn * nconn);
    return 1;
  }
  auto rss_held = rss_kib(pid);
  auto [p50_held, p99_held] = ping_latency(port, 5000);
  auto growth = rss_held - rss_before;
  std::printf("pending failed logins: %ld on %ld connections%s\n", pending,
              nconn, half_close ? ", each half-closed after its burst" : "");
  std::printf("RSS before %ld KiB, while held %ld KiB: growth %.2f MiB, "
              "%.0f bytes per pending failure\n",
              rss_before, rss_held, growth / 1024.0,
              growth * 1024.0 / static_cast<double>(pending));
  std::printf("ping before: p50 %.0f us, p99 %.0f us\n", p50_before,
              p99_before);
  std::printf("ping while held: p50 %.0f us, p99 %.0f us\n", p50_held,
              p99_held);
  if (half_close) {
    // Every held failure still goes out, then the node closes.
    auto [lines, closed] = drain(
      fds, std::chrono::steady_clock::now() + std::chrono::seconds(120));
    std::printf("after the delay: %ld of %ld replies, %ld of %ld connections "
                "closed by the node\n",
                lines, pending, closed, nconn);
    if (lines != pending || closed != nconn)
      return 1;
  }
  for (auto fd : fds)
    close(fd);
  return 0;
}
