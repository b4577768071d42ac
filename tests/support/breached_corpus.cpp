#include "support/breached_corpus.hpp"

#include <algorithm>
#include <random>
#include <utility>

namespace authnode::test {

std::string corpus_word(size_t i) {
  return "breached-word-" + std::to_string(i);
}

uint32_t corpus_count(size_t i) {
  return static_cast<uint32_t>(i % 1000 + 1);
}

std::string sha1_hex(const sha1_digest& d, bool upper) {
  static const char* digits[] = {"0123456789abcdef", "0123456789ABCDEF"};
  std::string out;
  for (auto b : d) {
    out += digits[upper][b >> 4];
    out += digits[upper][b & 15];
  }
  return out;
}

std::vector<std::string> corpus_lines(size_t n, bool shuffle) {
  std::vector<std::pair<sha1_digest, size_t>> hashes;
  hashes.reserve(n);
  for (size_t i = 0; i < n; ++i)
    hashes.emplace_back(sha1_of(corpus_word(i)), i);
  std::sort(hashes.begin(), hashes.end());
  std::vector<std::string> lines;
  lines.reserve(n);
  for (auto& [digest, i] : hashes)
    lines.push_back(sha1_hex(digest) + ":" + std::to_string(corpus_count(i)));
  if (shuffle)
    std::shuffle(lines.begin(), lines.end(), std::mt19937{16});
  return lines;
}

} // namespace authnode::test
