// Successful logins per second end to end, against the raw argon2id verify
// rate of this machine (crypto_pwhash_str_verify on every core), measured in
// the same run and printed as a ratio. Start the node at the cost to measure
// (default: INTERACTIVE) with one hasher per core, then:
//
//   login_rate --port=7411 [--seconds=10] [--ops=2] [--mem=67108864]
//
// --ops/--mem must match the node's --hash-ops/--hash-mem.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <sodium.h>

#include "load.hpp"

using namespace authnode::bench;

namespace {

/// Verifications per second with one thread per core, for `seconds`.
double raw_verify_rate(unsigned long long ops, size_t mem, int seconds) {
  const std::string password = "bench password";
  char phc[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(phc, password.data(), password.size(), ops, mem) != 0)
    std::exit(1);
  auto cores = std::max(1u, std::thread::hardware_concurrency());
  std::atomic<long> done{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  auto start = std::chrono::steady_clock::now();
  for (unsigned i = 0; i < cores; ++i)
    threads.emplace_back([&] {
      while (!stop.load()) {
        if (crypto_pwhash_str_verify(phc, password.data(), password.size())
            != 0)
          std::abort();
        ++done;
      }
    });
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  stop = true;
  for (auto& t : threads)
    t.join();
  auto elapsed
    = std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
        .count();
  return done.load() / elapsed;
}

} // namespace

int main(int argc, char** argv) {
  auto port = static_cast<uint16_t>(flag(argc, argv, "--port", 0));
  auto seconds = static_cast<int>(flag(argc, argv, "--seconds", 10));
  auto ops = static_cast<unsigned long long>(flag(argc, argv, "--ops", 2));
  auto mem = static_cast<size_t>(flag(argc, argv, "--mem", 67108864));
  if (port == 0 || sodium_init() < 0) {
    std::fprintf(stderr,
                 "usage: login_rate --port=N [--seconds=10] "
                 "[--ops=2] [--mem=67108864]\n");
    return 2;
  }
  int fd = connect_to(port);
  if (fd < 0) {
    std::fprintf(stderr, "cannot connect\n");
    return 1;
  }
  call(fd,
       R"({"op":"register","email":"rate@example.org",)"
       R"("password":"bench password","name":"Rate"})"
       "\n");
  auto cores = std::max(1u, std::thread::hardware_concurrency());
  std::printf("raw crypto_pwhash_str_verify, %u threads, ops=%llu mem=%zu\n",
              cores, ops, mem);
  auto raw = raw_verify_rate(ops, mem, seconds);
  std::printf("  %.2f verifications/s\n", raw);
  load_spec spec;
  spec.port = port;
  // Enough logins in flight to keep every hasher busy all the time.
  spec.connections = static_cast<int>(cores) * 2;
  spec.depth = 2;
  spec.line = R"({"op":"login","email":"rate@example.org",)"
              R"("password":"bench password"})"
              "\n";
  spec.success_marker = "\"token\"";
  spec.duration = std::chrono::seconds(seconds);
  auto res = run_load(spec);
  std::printf("end-to-end logins, %d connections x %d in flight\n",
              spec.connections, spec.depth);
  std::printf("  %.2f logins/s (%llu ok of %llu), p50 %.1f ms, p99 %.1f ms\n",
              res.rate(), static_cast<unsigned long long>(res.successes),
              static_cast<unsigned long long>(res.replies),
              res.percentile(50) / 1000, res.percentile(99) / 1000);
  std::printf("ratio end-to-end / raw = %.3f\n", res.rate() / raw);
  return 0;
}
