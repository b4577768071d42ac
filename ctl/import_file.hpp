// The users file of `authctl import`: CSV with a header line (columns
// email, name, hash and optionally created_at, in any order; other columns
// are ignored) or JSON Lines (one object per line with those members).
// Rows are read one at a time, so a file of millions of users needs no
// more memory than a batch; a row that cannot be read is reported with its
// line number and the rest go on.
#pragma once

#include <cstdint>
#include <fstream>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace authnode::ctl {

enum class import_format { csv, jsonl };

struct import_row {
  /// Where the row starts in the file, from 1.
  size_t line = 0;
  std::string email;
  std::string name;
  std::string hash;
  /// Unix seconds.
  std::optional<int64_t> created_at;
};

struct import_problem {
  size_t line = 0;
  std::string reason;
};

using import_item = std::variant<import_row, import_problem>;

/// Unix seconds from an integer or an ISO 8601 / RFC 3339 time
/// ("2024-03-01T12:00:00Z", "2024-03-01 12:00:00.123456+02:00"; without an
/// offset: UTC). nullopt: neither.
std::optional<int64_t> parse_created_at(const std::string& text);

/// csv for ".csv", jsonl for ".jsonl", ".ndjson" and ".json"; nullopt for
/// anything else.
std::optional<import_format> format_from_path(const std::string& path);

class import_reader {
public:
  /// Opens `path`; for CSV, reads and checks the header. On failure,
  /// `error` says why and ok() is false.
  import_reader(const std::string& path, import_format format,
                std::string& error);

  bool ok() const {
    return ok_;
  }

  /// The next row or problem; nullopt at the end of the file.
  std::optional<import_item> next();

private:
  /// One CSV record (quoted fields may span lines); false at the end.
  bool read_csv_record(std::vector<std::string>& fields, size_t& first_line,
                       std::string& error);
  std::optional<import_item> next_csv();
  std::optional<import_item> next_jsonl();

  std::ifstream in_;
  import_format format_;
  bool ok_ = false;
  size_t line_ = 0;
  /// Column positions of the CSV header; -1: absent.
  int email_col_ = -1, name_col_ = -1, hash_col_ = -1, created_col_ = -1;
};

/// Lines in the file (for the progress bar's total); 0 if unreadable.
size_t count_lines(const std::string& path);

} // namespace authnode::ctl
