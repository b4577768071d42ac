// Files of breached-index entries while an index is built: the index
// itself, written at a temporary path and renamed into place only when
// whole, and the sorted runs of an external sort (authctl breached build
// --sort) spilled next to it. Both hold the same 12-byte entries, so one
// writer and one reader serve both; every temporary file is removed by its
// owner's destructor, on every path out, error or not.
//
// The external sort keeps at most `memory_bytes` of entries (12 bytes each)
// in memory, sorts them, spills a run, and at the end merges all runs with a
// heap (k-way). Runs never exceed max_open_runs: when that many are on disk
// they are merged into one first, so no corpus size runs out of file
// descriptors. Equal prefixes are merged on write, counts summed and
// clamped (a repeated hash in an unordered corpus, or two hashes that share
// 64 bits).
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace authnode {

/// A file of entries in ascending prefix order being written. With a
/// header it becomes an index on commit().
class entry_file {
public:
  /// Creates (or empties) `path`; see ok() and error().
  entry_file(std::string path, bool with_header);
  entry_file(const entry_file&) = delete;
  entry_file& operator=(const entry_file&) = delete;
  /// Removes the file unless it was committed.
  ~entry_file();

  bool ok() const {
    return error_.empty();
  }
  const std::string& error() const {
    return error_;
  }
  const std::string& path() const {
    return path_;
  }
  uint64_t entries() const {
    return entries_;
  }

  /// Adds an entry; one equal to the last one's prefix is merged into it.
  /// Prefixes must not go down (the callers sort or check first).
  void add(uint64_t prefix, uint32_t count);
  /// Writes what is pending (and the header), flushes and syncs.
  bool finish();
  /// finish(), then renames the file to `target`.
  bool commit(const std::string& target);

private:
  void flush_pending();
  void fail(const std::string& what);

  std::string path_;
  bool with_header_;
  std::FILE* file_ = nullptr;
  bool committed_ = false;
  bool have_pending_ = false;
  uint64_t pending_prefix_ = 0;
  uint32_t pending_count_ = 0;
  uint32_t max_count_ = 0;
  uint64_t entries_ = 0;
  std::string error_;
};

/// Sorts entries in bounded memory, spilling runs to `run_prefix`-N.tmp.
class external_sort {
public:
  static constexpr size_t max_open_runs = 64;

  /// `interrupted`, if set, is asked now and then while runs are merged:
  /// true stops the merge with an error.
  external_sort(std::string run_prefix, size_t memory_bytes,
                std::function<bool()> interrupted = {});
  ~external_sort();

  /// false: a run could not be written (error()).
  bool add(uint64_t prefix, uint32_t count);
  /// Every entry added, in order, into `out`. false: error().
  bool finish_into(entry_file& out);

  /// Runs spilled to disk so far (merged ones count once each).
  size_t runs_written() const {
    return runs_written_;
  }
  const std::string& error() const {
    return error_;
  }

  struct packed_entry {
    uint32_t hi, lo, count;
  };

private:
  bool spill();
  bool merge_runs(entry_file& out);

  std::string run_prefix_;
  size_t capacity_;
  std::function<bool()> interrupted_;
  std::vector<packed_entry> chunk_;
  std::vector<std::unique_ptr<entry_file>> runs_;
  size_t runs_written_ = 0;
  std::string error_;
};

} // namespace authnode
