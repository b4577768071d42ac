// Copies a node's SQLite database into PostgreSQL (`authctl migrate`,
// issue 17): every table, in batches, with the rows' own ids.
//
// Both sides are brought to this build's schema version first, so the
// columns are the same on both. The source is read in one read transaction
// (a consistent snapshot, even with a node still writing to it); each batch
// is written in a transaction of its own. A row is written by its primary
// key, replacing what the target holds under that key, so a run that was
// cut short, or a second run after the node wrote more, simply runs again.
// The one table without a primary key (code_mails, the mail budget) is
// replaced whole, in one transaction. At the end the identity sequences
// continue after the highest id copied, and every table's count is
// compared: a target that holds rows the source does not (another
// database's users, rows deleted from the source since an earlier run) is
// reported, not hidden.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "storage/sql.hpp"

namespace authnode {

/// One table copied: rows on each side at the end.
struct table_count {
  std::string table;
  int64_t source = 0;
  int64_t target = 0;
};

struct migration_report {
  std::vector<table_count> tables;
  /// Rows written (inserted or replaced) by this run.
  int64_t copied = 0;

  /// Whether every table holds as many rows on both sides.
  bool counts_match() const;
};

struct migration_options {
  /// Rows per batch, one write transaction each.
  size_t batch_size = 500;
  /// After each batch: rows copied so far, of how many.
  std::function<void(int64_t done, int64_t total)> progress;
};

/// The tables copied, in the order they are (users first: the rest refer
/// to them). A table of the source that is not in this list stops the
/// copy before anything is written.
const std::vector<std::string>& migrated_tables();

/// Copies `from` (SQLite) into `to` (PostgreSQL, or any sql_db), both
/// already migrated to schema_version(). False and a message for people in
/// `error` if a step failed; what was committed before stays, and running
/// again completes it.
bool copy_database(sql_db& from, sql_db& to, const migration_options& opts,
                   migration_report& report, std::string& error);

} // namespace authnode
