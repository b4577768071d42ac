// The breached-password index: Have I Been Pwned's Pwned Passwords corpus
// (about a billion SHA-1 hashes) in a file that a process maps read-only
// and searches in place, so there is no load time and every process on the
// machine shares the same page-cache pages.
//
// Structure: sorted truncated hashes, found by interpolation search. Each
// entry is the first 8 bytes of the SHA-1 (64 bits) and the count, 12 bytes
// in all: 12 GB for a billion hashes, of which only the pages lookups touch
// are ever in memory. Why not a filter (Bloom, binary fuse): it has no
// count, which `--breached-min-count` needs; with 8- or 16-bit fingerprints
// (1.1 to 2.3 bytes an entry) it would be 5 to 10 times smaller but refuse
// 1 in 256 or 1 in 65,536 fresh passwords (the complaint that made
// Keycloak cut its filter's rate), and it is built over all keys at once in
// memory (tens of GB for the whole corpus), where sorted prefixes stream in
// the corpus's own order with no more memory than a buffer. Why a 4-byte
// count and not 1 byte on a log scale (9 bytes an entry, 25% smaller):
// exact counts keep any --breached-min-count meaningful, and 4 bytes keep
// the layout plain.
//
// Lookups: SHA-1 is uniform, so interpolation finds an entry in about
// log log n probes (measured on 100 million uniform prefixes: 5.4 probes
// on average, in 2.1 distinct 4 KiB pages, so a cold lookup costs about
// two page reads); after 8 interpolation probes a lookup goes on by
// bisection, so a damaged or hostile file costs at most 8 + log2 n.
//
// False positives: a password not in the corpus is reported only when its
// SHA-1 shares 64 leading bits with one of the n entries: n / 2^64, about
// 5e-11 for a billion entries (1 in 18 billion checks). The count is exact
// up to 2^32 - 1 (HIBP's largest is some tens of millions), clamped above.
//
// File layout (all integers little-endian, the prefixes big-endian so that
// byte order is hash order):
//   0   magic "ANBREACH"
//   8   u32 format version (1)
//   12  u32 bytes per entry (12)
//   16  u64 entries
//   24  u64 file size in bytes (64 + 12 * entries): a truncated copy is
//       refused at open, without reading the entries
//   32  u32 largest count
//   36  28 bytes zero
//   64  entries: u8[8] hash prefix, u32 count; strictly ascending prefixes
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace authnode {

constexpr size_t breached_header_bytes = 64;
constexpr size_t breached_entry_bytes = 12;
constexpr uint32_t breached_format_version = 1;
inline constexpr char breached_magic[8] = {'A', 'N', 'B', 'R',
                                           'E', 'A', 'C', 'H'};

using sha1_digest = std::array<unsigned char, 20>;

/// SHA-1 of `text` (OpenSSL), as HIBP hashes passwords (UTF-8 bytes).
sha1_digest sha1_of(std::string_view text);

/// The 64-bit prefix of a digest, as the index orders and stores it.
uint64_t breached_prefix(const unsigned char* sha1);

/// The count of an entry as the file stores it (after its prefix).
uint32_t breached_count(const unsigned char* entry);

/// One entry as the file stores it.
void encode_breached_entry(unsigned char* out, uint64_t prefix, uint32_t count);

/// The 64-byte header for an index of `entries` entries.
std::array<unsigned char, breached_header_bytes>
encode_breached_header(uint64_t entries, uint32_t max_count);

class breached_index {
public:
  /// Maps the index at `path`. Nothing, with a message that names the file
  /// and says what is wrong in `error`, when it is missing, unreadable,
  /// truncated or not an index of this format.
  static std::optional<breached_index> open(const std::string& path,
                                            std::string& error);

  breached_index(breached_index&& other) noexcept;
  breached_index& operator=(breached_index&& other) noexcept;
  breached_index(const breached_index&) = delete;
  breached_index& operator=(const breached_index&) = delete;
  ~breached_index();

  /// The count of the entry whose prefix `sha1` (20 bytes) has; nothing
  /// when the corpus does not have it.
  std::optional<uint32_t> count(const unsigned char* sha1) const;

  /// Whether the corpus has `password` at least `min_count` times.
  bool breached(std::string_view password, uint32_t min_count) const;

  uint64_t entries() const {
    return entries_;
  }
  uint32_t max_count() const {
    return max_count_;
  }
  size_t file_bytes() const {
    return size_;
  }

private:
  breached_index(const unsigned char* map, size_t size, uint64_t entries,
                 uint32_t max_count);
  uint64_t prefix_at(uint64_t i) const;
  uint32_t count_at(uint64_t i) const;
  std::optional<uint64_t> find(uint64_t prefix) const;

  const unsigned char* map_ = nullptr;
  size_t size_ = 0;
  uint64_t entries_ = 0;
  uint32_t max_count_ = 0;
};

} // namespace authnode
