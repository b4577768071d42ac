// Builds a breached-password index (core/breached_index.hpp) from Have I
// Been Pwned's Pwned Passwords text: `<40 hex SHA-1>:<count>` a line,
// upper- or lowercase hex, CRLF or LF, streaming, in one pass.
//
// Blank lines are skipped (they still count for the line numbers).
//
// The corpus as HIBP ships it is ordered by hash, so by default each hash
// must be strictly greater than the one before: a line out of order, or a
// hash that repeats the previous line's (HIBP lists each once: a repeat
// means files were concatenated or damaged), stops the build with its line
// number, like a malformed line. With `sort`, any order is accepted and
// sorted within `sort_memory_bytes` (core/breached_runs.hpp); there a
// repeated hash is not an error but one entry with the counts summed, since
// an unordered corpus is often several lists put together.
//
// The index is written to OUT.tmp and renamed to OUT only when whole, so a
// failed or interrupted build never leaves a half index at OUT (and a node
// that has the old OUT mapped keeps reading the old file).
#pragma once

#include <cstdint>
#include <functional>
#include <istream>
#include <string>

namespace authnode {

struct breached_build_options {
  /// Accept the corpus in any order.
  bool sort = false;
  /// With `sort`: memory for entries being sorted (12 bytes each).
  size_t sort_memory_bytes = size_t{256} << 20;
  /// Called now and then with the bytes of the corpus read so far.
  std::function<void(uint64_t)> progress;
  /// With `sort`: called once when the corpus is read and sorted runs on
  /// disk are about to be merged (not when it all fitted in memory).
  std::function<void()> merging;
  /// Asked as often (and while runs are merged): true stops the build
  /// with an error and removes every file it made (authctl: on SIGINT).
  std::function<bool()> interrupted;
};

struct breached_build_result {
  /// Lines of the corpus read.
  uint64_t lines = 0;
  /// Entries in the index (fewer than lines when prefixes were merged).
  uint64_t entries = 0;
  uint64_t file_bytes = 0;
  /// With `sort`: sorted runs spilled to disk (0: it fitted in memory).
  size_t runs = 0;
  /// The line the error is about; 0 when it is about no one line.
  uint64_t error_line = 0;
  /// Empty: the index is at OUT.
  std::string error;

  bool ok() const {
    return error.empty();
  }
};

/// What is wrong with one corpus line, or nullptr when it is well formed
/// (then `sha1` and `count` hold it; a count past 2^32 - 1 is clamped).
const char* parse_corpus_line(std::string_view line, unsigned char* sha1,
                              uint32_t& count);

breached_build_result
build_breached_index(std::istream& corpus, const std::string& out,
                     const breached_build_options& opts = {});

} // namespace authnode
