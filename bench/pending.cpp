// What 10,000 pending failed logins cost: the node's RSS growth while they
// are all held, and the latency of `ping` meanwhile, against the same
// figures before the wave. Start the node with a failure delay long enough
// to hold the whole wave and a cheap hash so the wave is quick to verify:
//
//   authnode --failure-delay=60s --hash-ops=1 --hash-mem=8192 &
//   pending --port=7411 --pid=$! [--count=10000] [--connections=100]
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

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

} // namespace

int main(int argc, char** argv) {
  auto port = static_cast<uint16_t>(flag(argc, argv, "--port", 0));
  auto pid = static_cast<int>(flag(argc, argv, "--pid", 0));
  auto count = flag(argc, argv, "--count", 10000);
  auto nconn = flag(argc, argv, "--connections", 100);
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
  std::printf("pending failed logins: %ld on %ld connections\n", pending,
              nconn);
  std::printf("RSS before %ld KiB, while held %ld KiB: growth %.2f MiB, "
              "%.0f bytes per pending failure\n",
              rss_before, rss_held, growth / 1024.0,
              growth * 1024.0 / static_cast<double>(pending));
  std::printf("ping before: p50 %.0f us, p99 %.0f us\n", p50_before,
              p99_before);
  std::printf("ping while held: p50 %.0f us, p99 %.0f us\n", p50_held,
              p99_held);
  for (auto fd : fds)
    close(fd);
  return 0;
}
