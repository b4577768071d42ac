#include "core/breached_index.hpp"

#include <cerrno>
#include <cstring>
#include <utility>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

namespace authnode {

namespace {

/// Interpolation probes before a lookup goes on by bisection: uniform
/// hashes need about 5 on average; the rare lookup that needs more (or a
/// file that is not uniform) costs at most log2 n further probes.
constexpr int max_interpolation_probes = 8;

uint64_t load_le(const unsigned char* p, size_t bytes) {
  uint64_t v = 0;
  for (size_t i = bytes; i-- > 0;)
    v = (v << 8) | p[i];
  return v;
}

void store_le(unsigned char* p, uint64_t v, size_t bytes) {
  for (size_t i = 0; i < bytes; ++i, v >>= 8)
    p[i] = static_cast<unsigned char>(v);
}

/// A file descriptor closed at scope exit.
struct fd_guard {
  int fd;
  ~fd_guard() {
    if (fd >= 0)
      ::close(fd);
  }
};

/// What is wrong with the header, or an empty string.
std::string check_header(const unsigned char* h, size_t size) {
  if (std::memcmp(h, breached_magic, sizeof(breached_magic)) != 0)
    return "is not a breached-password index (it does not start with "
           "ANBREACH; build one with authctl breached build)";
  auto version = load_le(h + 8, 4);
  if (version != breached_format_version)
    return "is a breached-password index of format version "
      + std::to_string(version) + "; this authnode reads version "
      + std::to_string(breached_format_version)
      + " (build it again with this authctl)";
  if (load_le(h + 12, 4) != breached_entry_bytes)
    return "has " + std::to_string(load_le(h + 12, 4))
      + " bytes per entry, not " + std::to_string(breached_entry_bytes)
      + ": not an index this authnode can read";
  auto entries = load_le(h + 16, 8);
  auto expected = load_le(h + 24, 8);
  if (entries > (UINT64_MAX - breached_header_bytes) / breached_entry_bytes
      || expected != breached_header_bytes + entries * breached_entry_bytes)
    return "has a damaged header (its size does not match its entry count)";
  if (size < expected)
    return "is truncated: " + std::to_string(size) + " bytes of the "
      + std::to_string(expected) + " its header announces";
  if (size > expected)
    return "has " + std::to_string(size - expected)
      + " bytes more than its header announces (" + std::to_string(expected)
      + "): not a whole index";
  return {};
}

} // namespace

sha1_digest sha1_of(std::string_view text) {
  sha1_digest out{};
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), out.data(), &len, EVP_sha1(), nullptr);
  return out;
}

uint64_t breached_prefix(const unsigned char* sha1) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i)
    v = (v << 8) | sha1[i];
  return v;
}

uint32_t breached_count(const unsigned char* entry) {
  return static_cast<uint32_t>(load_le(entry + 8, 4));
}

void encode_breached_entry(unsigned char* out, uint64_t prefix,
                           uint32_t count) {
  for (size_t i = 0; i < 8; ++i)
    out[i] = static_cast<unsigned char>(prefix >> (56 - 8 * i));
  store_le(out + 8, count, 4);
}

std::array<unsigned char, breached_header_bytes>
encode_breached_header(uint64_t entries, uint32_t max_count) {
  std::array<unsigned char, breached_header_bytes> h{};
  std::memcpy(h.data(), breached_magic, sizeof(breached_magic));
  store_le(h.data() + 8, breached_format_version, 4);
  store_le(h.data() + 12, breached_entry_bytes, 4);
  store_le(h.data() + 16, entries, 8);
  store_le(h.data() + 24,
           breached_header_bytes + entries * breached_entry_bytes, 8);
  store_le(h.data() + 32, max_count, 4);
  return h;
}

std::optional<breached_index> breached_index::open(const std::string& path,
                                                   std::string& error) {
  auto what = "breached-password index " + path;
  fd_guard file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0) {
    error = "cannot open " + what + ": " + std::strerror(errno);
    return std::nullopt;
  }
  struct stat info {};
  if (::fstat(file.fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    error = what + " is not a regular file";
    return std::nullopt;
  }
  auto size = static_cast<size_t>(info.st_size);
  if (size < breached_header_bytes) {
    error = what + " is truncated or not an index: " + std::to_string(size)
      + " bytes, less than its 64-byte header";
    return std::nullopt;
  }
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, file.fd, 0);
  if (map == MAP_FAILED) {
    error = "cannot map " + what + ": " + std::strerror(errno);
    return std::nullopt;
  }
  auto bytes = static_cast<const unsigned char*>(map);
  if (auto problem = check_header(bytes, size); !problem.empty()) {
    ::munmap(map, size);
    error = what + " " + problem;
    return std::nullopt;
  }
  // Lookups touch a few pages each, far apart: read-ahead would only
  // evict pages another lookup needs.
  ::madvise(map, size, MADV_RANDOM);
  return breached_index{bytes, size, load_le(bytes + 16, 8),
                        static_cast<uint32_t>(load_le(bytes + 32, 4))};
}

breached_index::breached_index(const unsigned char* map, size_t size,
                               uint64_t entries, uint32_t max_count)
  : map_(map), size_(size), entries_(entries), max_count_(max_count) {}

breached_index::breached_index(breached_index&& other) noexcept
  : map_(std::exchange(other.map_, nullptr)),
    size_(std::exchange(other.size_, 0)),
    entries_(std::exchange(other.entries_, 0)),
    max_count_(std::exchange(other.max_count_, 0)) {}

breached_index& breached_index::operator=(breached_index&& other) noexcept {
  if (this != &other) {
    std::swap(map_, other.map_);
    std::swap(size_, other.size_);
    std::swap(entries_, other.entries_);
    std::swap(max_count_, other.max_count_);
  }
  return *this;
}

breached_index::~breached_index() {
  if (map_ != nullptr)
    ::munmap(const_cast<unsigned char*>(map_), size_);
}

uint64_t breached_index::prefix_at(uint64_t i) const {
  return breached_prefix(map_ + breached_header_bytes
                         + i * breached_entry_bytes);
}

uint32_t breached_index::count_at(uint64_t i) const {
  return breached_count(map_ + breached_header_bytes
                        + i * breached_entry_bytes);
}

std::optional<uint64_t> breached_index::find(uint64_t key) const {
  // Entries [lo, hi) hold the values in [lo_value, hi_value], and so does
  // the key if it is there at all.
  uint64_t lo = 0, hi = entries_;
  uint64_t lo_value = 0, hi_value = UINT64_MAX;
  int probes = 0;
  while (lo < hi) {
    uint64_t n = hi - lo;
    uint64_t pos = lo + n / 2;
    if (probes < max_interpolation_probes && n > 8) {
      ++probes;
      // (key - lo_value) <= (hi_value - lo_value), so the offset is < n.
      auto span = static_cast<unsigned __int128>(hi_value - lo_value) + 1;
      pos = lo
        + static_cast<uint64_t>(static_cast<unsigned __int128>(key - lo_value)
                                * n / span);
    }
    auto value = prefix_at(pos);
    if (value == key)
      return pos;
    if (value < key) {
      lo = pos + 1;
      lo_value = value;
    } else {
      hi = pos;
      hi_value = value;
    }
  }
  return std::nullopt;
}

std::optional<uint32_t> breached_index::count(const unsigned char* sha1) const {
  auto at = find(breached_prefix(sha1));
  if (!at)
    return std::nullopt;
  return count_at(*at);
}

bool breached_index::breached(std::string_view password,
                              uint32_t min_count) const {
  auto digest = sha1_of(password);
  auto n = count(digest.data());
  return n && *n >= min_count;
}

} // namespace authnode
