// An online backup of a live SQLite connection into a new file, in steps.
//
// SQLite's backup API copies the database a few pages per call; between
// calls the owner of the source connection goes on using it, and writes it
// makes through that same connection are copied into the backup as they
// happen (a write through another connection, such as a second process,
// restarts the copy instead: the step count is bounded so that such a
// backup fails rather than running forever).
//
// What lands at PATH is always a finished, durable backup. The copy is
// written to PATH.partial (created with O_EXCL and mode 0600: it holds
// password hashes), made self-contained (the source runs in WAL mode and
// its header says so; the copy is switched to a rollback journal, so it is
// one file that opens without a -wal), fsynced, then renamed to PATH without
// replacing anything there, and the directory is fsynced. Any failure, or
// destroying an unfinished job, removes the partial file. Files this job did
// not create are never removed or overwritten: an existing PATH is refused
// with `exists`, a leftover PATH.partial (or its -journal, -wal, -shm, which
// SQLite would replay into the new copy) with `backup_failed`.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <caf/expected.hpp>

#include "actors/interfaces.hpp"
#include "storage/sqlite.hpp"

struct sqlite3;
struct sqlite3_backup;

namespace authnode {

class backup_job {
public:
  backup_job(const backup_job&) = delete;
  backup_job& operator=(const backup_job&) = delete;
  /// Abandons an unfinished backup: removes the partial file.
  ~backup_job();

  /// Starts a backup of `source`'s main database to the absolute `path`.
  /// Fails with bad_request (path not absolute, or a file of the live
  /// database), exists (something is at `path`) or backup_failed. `source`
  /// must outlive the job.
  static caf::expected<std::unique_ptr<backup_job>> start(sqlite3* source,
                                                          std::string path);

  /// Copies up to `pages` more pages. True once everything is copied (then
  /// call finish()); after an error the job is only good for destroying.
  caf::expected<bool> step(int pages);

  /// Makes the copy self-contained, syncs it and moves it to its path.
  /// `duration_ms` of the result is left 0 for the caller to fill in.
  caf::expected<backup_result> finish();

  /// Steps taken so far.
  int64_t steps() const {
    return steps_;
  }

  const std::string& partial_path() const {
    return partial_;
  }

private:
  backup_job(std::string path, std::string partial);

  caf::expected<int64_t> make_self_contained();
  void remove_partial() noexcept;

  std::string path_;
  std::string partial_;
  sqlite_db dest_;
  sqlite3_backup* backup_ = nullptr;
  int64_t steps_ = 0;
  /// The copy is at path_: nothing of this job is left to remove.
  bool placed_ = false;
};

} // namespace authnode
