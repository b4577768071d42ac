#include "core/breached_runs.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <queue>

#include <unistd.h>

#include "core/breached_index.hpp"

namespace authnode {

namespace {

constexpr size_t write_buffer_bytes = 1 << 20;
constexpr size_t run_read_buffer_bytes = 1 << 16;
/// Entries merged between two questions whether to stop.
constexpr uint64_t merged_between_checks = 1 << 16;

uint32_t saturating_add(uint32_t a, uint32_t b) {
  return a > UINT32_MAX - b ? UINT32_MAX : a + b;
}

/// Reads back an entry file without a header (a run), entry by entry.
class run_reader {
public:
  explicit run_reader(const std::string& path)
    : file_(std::fopen(path.c_str(), "rbe")) {
    if (file_ != nullptr)
      std::setvbuf(file_, nullptr, _IOFBF, run_read_buffer_bytes);
  }
  run_reader(const run_reader&) = delete;
  run_reader& operator=(const run_reader&) = delete;
  ~run_reader() {
    if (file_ != nullptr)
      std::fclose(file_);
  }

  bool ok() const {
    return file_ != nullptr;
  }

  bool next(uint64_t& prefix, uint32_t& count) {
    unsigned char e[breached_entry_bytes];
    if (std::fread(e, 1, sizeof(e), file_) != sizeof(e))
      return false;
    prefix = breached_prefix(e);
    count = breached_count(e);
    return true;
  }

private:
  std::FILE* file_;
};

uint64_t prefix_of(const external_sort::packed_entry& e) {
  return static_cast<uint64_t>(e.hi) << 32 | e.lo;
}

} // namespace

// -- entry_file ---------------------------------------------------------------

entry_file::entry_file(std::string path, bool with_header)
  : path_(std::move(path)), with_header_(with_header) {
  file_ = std::fopen(path_.c_str(), "wbe");
  if (file_ == nullptr) {
    fail("cannot create");
    return;
  }
  std::setvbuf(file_, nullptr, _IOFBF, write_buffer_bytes);
  if (with_header_) {
    auto header = encode_breached_header(0, 0);
    if (std::fwrite(header.data(), 1, header.size(), file_) != header.size())
      fail("cannot write");
  }
}

entry_file::~entry_file() {
  if (file_ != nullptr)
    std::fclose(file_);
  if (!committed_)
    ::unlink(path_.c_str());
}

void entry_file::fail(const std::string& what) {
  if (error_.empty())
    error_ = what + " " + path_ + ": " + std::strerror(errno);
}

void entry_file::add(uint64_t prefix, uint32_t count) {
  if (have_pending_ && prefix == pending_prefix_) {
    pending_count_ = saturating_add(pending_count_, count);
    return;
  }
  flush_pending();
  have_pending_ = true;
  pending_prefix_ = prefix;
  pending_count_ = count;
}

void entry_file::flush_pending() {
  if (!have_pending_ || !ok())
    return;
  unsigned char e[breached_entry_bytes];
  encode_breached_entry(e, pending_prefix_, pending_count_);
  if (std::fwrite(e, 1, sizeof(e), file_) != sizeof(e))
    fail("cannot write");
  max_count_ = std::max(max_count_, pending_count_);
  ++entries_;
  have_pending_ = false;
}

bool entry_file::finish() {
  flush_pending();
  if (!ok())
    return false;
  if (with_header_) {
    auto header = encode_breached_header(entries_, max_count_);
    if (std::fseek(file_, 0, SEEK_SET) != 0
        || std::fwrite(header.data(), 1, header.size(), file_) != header.size())
      fail("cannot write");
  }
  if (ok() && std::fflush(file_) != 0)
    fail("cannot write");
  // The index must be on disk before it is renamed over the old one; a run
  // is read back at once and removed, and a crash loses it either way.
  if (ok() && with_header_ && ::fsync(fileno(file_)) != 0)
    fail("cannot write");
  return ok();
}

bool entry_file::commit(const std::string& target) {
  if (!finish())
    return false;
  if (std::fclose(file_) != 0) {
    file_ = nullptr;
    fail("cannot write");
    return false;
  }
  file_ = nullptr;
  if (std::rename(path_.c_str(), target.c_str()) != 0) {
    fail("cannot rename to " + target + ":");
    return false;
  }
  committed_ = true;
  return true;
}

// -- external_sort ------------------------------------------------------------

external_sort::external_sort(std::string run_prefix, size_t memory_bytes,
                             std::function<bool()> interrupted)
  : run_prefix_(std::move(run_prefix)),
    capacity_(std::max<size_t>(memory_bytes / sizeof(packed_entry), 16)),
    interrupted_(std::move(interrupted)) {
  static_assert(sizeof(packed_entry) == breached_entry_bytes);
}

external_sort::~external_sort() = default;

bool external_sort::add(uint64_t prefix, uint32_t count) {
  if (chunk_.capacity() == 0)
    chunk_.reserve(capacity_);
  chunk_.push_back({static_cast<uint32_t>(prefix >> 32),
                    static_cast<uint32_t>(prefix), count});
  return chunk_.size() < capacity_ || spill();
}

bool external_sort::spill() {
  std::sort(chunk_.begin(), chunk_.end(),
            [](const packed_entry& a, const packed_entry& b) {
              return prefix_of(a) < prefix_of(b);
            });
  auto run = std::make_unique<entry_file>(
    run_prefix_ + "-" + std::to_string(runs_written_++) + ".tmp", false);
  for (auto& e : chunk_)
    run->add(prefix_of(e), e.count);
  chunk_.clear();
  if (!run->finish()) {
    error_ = run->error();
    return false;
  }
  runs_.push_back(std::move(run));
  if (runs_.size() < max_open_runs)
    return true;
  // Too many runs to merge at once: make them one.
  auto merged = std::make_unique<entry_file>(
    run_prefix_ + "-" + std::to_string(runs_written_++) + ".tmp", false);
  if (!merge_runs(*merged) || !merged->finish()) {
    if (error_.empty())
      error_ = merged->error();
    return false;
  }
  runs_.clear();
  runs_.push_back(std::move(merged));
  return true;
}

bool external_sort::finish_into(entry_file& out) {
  if (runs_.empty()) {
    // Everything fitted in memory: no run on disk at all.
    std::sort(chunk_.begin(), chunk_.end(),
              [](const packed_entry& a, const packed_entry& b) {
                return prefix_of(a) < prefix_of(b);
              });
    for (auto& e : chunk_)
      out.add(prefix_of(e), e.count);
    chunk_.clear();
    return out.ok();
  }
  if (!chunk_.empty() && !spill())
    return false;
  chunk_.shrink_to_fit();
  return merge_runs(out);
}

bool external_sort::merge_runs(entry_file& out) {
  std::vector<std::unique_ptr<run_reader>> readers;
  for (auto& run : runs_) {
    readers.push_back(std::make_unique<run_reader>(run->path()));
    if (!readers.back()->ok()) {
      error_ = "cannot read " + run->path() + ": " + std::strerror(errno);
      return false;
    }
  }
  struct head {
    uint64_t prefix;
    uint32_t count;
    size_t run;
    bool operator>(const head& other) const {
      return prefix > other.prefix;
    }
  };
  std::priority_queue<head, std::vector<head>, std::greater<head>> heap;
  for (size_t i = 0; i < readers.size(); ++i) {
    head h{0, 0, i};
    if (readers[i]->next(h.prefix, h.count))
      heap.push(h);
  }
  for (uint64_t merged = 1; !heap.empty(); ++merged) {
    if (merged % merged_between_checks == 0 && interrupted_ && interrupted_()) {
      error_ = "interrupted";
      return false;
    }
    auto h = heap.top();
    heap.pop();
    out.add(h.prefix, h.count);
    if (readers[h.run]->next(h.prefix, h.count))
      heap.push(h);
  }
  return out.ok();
}

} // namespace authnode
