// The breached-password index (issue 16): makes a Pwned Passwords-style
// corpus and measures lookups in an index built from it; bench/run.sh
// breached times `authctl breached build` between the two.
//
//   bench_breached generate N FILE   N lines "<SHA-1 of pw-i>:<count>",
//                                    ordered by hash as HIBP ships them
//   bench_breached lookup N INDEX    lookups/s, warm and cold, of hashes
//                                    present (pw-i, i < N) and absent
//
// Lookups are timed on digests computed beforehand, so the figure is the
// index's, not SHA-1's (which is timed apart). "Cold" evicts the file's
// pages from the page cache with posix_fadvise(DONTNEED) (no root needed;
// pages another process has mapped stay) and maps it afresh, then times
// the first lookups, each of which faults its pages in from disk. On a
// small index the later cold lookups find pages an earlier one brought in,
// so only the first `cold` lookups, far fewer than the index's pages,
// are counted.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include "core/breached_index.hpp"

using namespace authnode;
using clock_type = std::chrono::steady_clock;

namespace {

std::string hex(const sha1_digest& d) {
  static const char* digits = "0123456789ABCDEF";
  std::string out(40, '0');
  for (size_t i = 0; i < d.size(); ++i) {
    out[2 * i] = digits[d[i] >> 4];
    out[2 * i + 1] = digits[d[i] & 15];
  }
  return out;
}

sha1_digest digest_of(uint64_t i) {
  return sha1_of("pw-" + std::to_string(i));
}

int generate(uint64_t n, const char* path) {
  std::vector<sha1_digest> hashes(n);
  for (uint64_t i = 0; i < n; ++i)
    hashes[i] = digest_of(i);
  std::sort(hashes.begin(), hashes.end());
  std::FILE* out = std::fopen(path, "wb");
  if (out == nullptr) {
    std::perror(path);
    return 1;
  }
  std::mt19937_64 rng{16};
  for (auto& h : hashes) {
    // HIBP's counts are heavy-tailed: most are small.
    auto count = 1 + (rng() % 8 == 0 ? rng() % 100000 : rng() % 10);
    std::fprintf(out, "%s:%llu\r\n", hex(h).c_str(),
                 static_cast<unsigned long long>(count));
  }
  return std::fclose(out) == 0 ? 0 : 1;
}

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

std::vector<sha1_digest> sample(uint64_t from, uint64_t to, size_t k,
                                std::mt19937_64& rng) {
  std::vector<sha1_digest> out;
  out.reserve(k);
  for (size_t i = 0; i < k; ++i)
    out.push_back(digest_of(from + rng() % (to - from)));
  return out;
}

/// Lookups of `keys` `rounds` times over; returns lookups/s and how many
/// were found.
std::pair<double, size_t> time_lookups(const breached_index& index,
                                       const std::vector<sha1_digest>& keys,
                                       int rounds) {
  size_t found = 0;
  auto start = clock_type::now();
  for (int r = 0; r < rounds; ++r)
    for (auto& k : keys)
      found += index.count(k.data()) ? 1 : 0;
  return {keys.size() * rounds / seconds_since(start), found};
}

std::optional<breached_index> open_index(const char* path) {
  std::string error;
  auto index = breached_index::open(path, error);
  if (!index)
    std::fprintf(stderr, "%s\n", error.c_str());
  return index;
}

bool evict(const char* path) {
  int fd = ::open(path, O_RDONLY);
  if (fd < 0)
    return false;
  bool ok = ::fdatasync(fd) == 0
    && ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0;
  ::close(fd);
  return ok;
}

int lookup(uint64_t n, const char* path) {
  std::mt19937_64 rng{63};
  auto present = sample(0, n, 100000, rng);
  auto absent = sample(n, 2 * n, 100000, rng);
  {
    auto start = clock_type::now();
    for (int i = 0; i < 1000000; ++i)
      sha1_of("pw-" + std::to_string(i));
    std::printf("sha1 of a short password: %.0f /s\n",
                1e6 / seconds_since(start));
  }
  auto index = open_index(path);
  if (!index)
    return 1;
  std::printf("index: %llu entries, %zu bytes, %.2f bytes per entry\n",
              static_cast<unsigned long long>(index->entries()),
              index->file_bytes(),
              static_cast<double>(index->file_bytes()) / index->entries());
  time_lookups(*index, present, 1); // warms the pages
  time_lookups(*index, absent, 1);
  auto [warm_present, hits] = time_lookups(*index, present, 20);
  auto [warm_absent, false_hits] = time_lookups(*index, absent, 20);
  std::printf("warm: %.0f lookups/s present (%zu of %zu found), %.0f "
              "lookups/s absent (%zu found)\n",
              warm_present, hits, present.size() * 20, warm_absent, false_hits);
  index.reset();

  size_t cold = std::min<size_t>(2000, n / 5000 + 1);
  if (!evict(path)) {
    std::printf("cold: could not evict %s from the page cache\n", path);
    return 0;
  }
  index = open_index(path);
  if (!index)
    return 1;
  std::vector<sha1_digest> keys(present.begin(), present.begin() + cold);
  auto [cold_rate, cold_hits] = time_lookups(*index, keys, 1);
  std::printf("cold: %.0f lookups/s (%.1f us each) over the first %zu "
              "lookups after evicting the file (%zu found)\n",
              cold_rate, 1e6 / cold_rate, cold, cold_hits);
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: bench_breached generate|lookup N FILE\n");
    return 2;
  }
  std::string mode = argv[1];
  auto n = std::strtoull(argv[2], nullptr, 10);
  if (mode == "generate")
    return generate(n, argv[3]);
  if (mode == "lookup" && n > 0)
    return lookup(n, argv[3]);
  std::fprintf(stderr, "usage: bench_breached generate|lookup N FILE\n");
  return 2;
}
