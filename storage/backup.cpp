#include "storage/backup.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/error_code.hpp"

namespace authnode {

namespace {

/// What SQLite may keep next to a database file. A leftover one would be
/// taken for the new copy's own (a hot journal is rolled back into it, a WAL
/// replayed), so none may exist when the copy is begun.
constexpr const char* sidecars[] = {"-journal", "-wal", "-shm"};

caf::error failed(std::string message) {
  return caf::make_error(ec::backup_failed, std::move(message));
}

caf::error failed_errno(const std::string& what, const std::string& path) {
  return failed(what + " " + path + ": " + std::strerror(errno));
}

caf::error failed_sql(const char* what, int rc) {
  return failed(std::string{what} + ": " + sqlite3_errstr(rc));
}

/// Whether something (a dangling symlink included) is at `path`, or why
/// that cannot be told.
caf::expected<bool> occupied(const std::string& path) {
  struct stat info {};
  if (::lstat(path.c_str(), &info) == 0)
    return true;
  if (errno == ENOENT)
    return false;
  return failed_errno("cannot look at", path);
}

/// Whether `path` names a file of the live database: the copy would be
/// taken for one of its journals at the next start, and deleted.
bool names_live_file(const std::string& path, const char* live) {
  if (live == nullptr || *live == '\0')
    return false; // an in-memory source has no files
  for (auto suffix : {"", "-journal", "-wal", "-shm"})
    if (path == std::string{live} + suffix)
      return true;
  return false;
}

caf::error check_target(const std::string& path, const std::string& partial,
                        const char* live) {
  if (path.empty() || path.front() != '/')
    return caf::make_error(ec::bad_request,
                           std::string{"the backup path must be absolute"});
  if (path.find('\0') != std::string::npos)
    return caf::make_error(ec::bad_request,
                           std::string{"the backup path contains a NUL"});
  if (names_live_file(path, live))
    return caf::make_error(ec::bad_request,
                           path + " is a file of the live database");
  auto there = occupied(path);
  if (!there)
    return std::move(there.error());
  if (*there)
    return caf::make_error(ec::exists,
                           path
                             + " exists; a backup never "
                               "overwrites a file");
  for (auto suffix : sidecars) {
    auto leftover = occupied(partial + suffix);
    if (!leftover)
      return std::move(leftover.error());
    if (*leftover)
      return failed(partial + suffix
                    + " is left from an interrupted backup; remove it");
  }
  return {};
}

/// Syncs the file's data and returns its size.
caf::expected<int64_t> sync_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return failed_errno("cannot open", path);
  struct stat info {};
  bool ok = ::fsync(fd) == 0 && ::fstat(fd, &info) == 0;
  auto err = errno;
  ::close(fd);
  if (!ok) {
    errno = err;
    return failed_errno("cannot sync", path);
  }
  return static_cast<int64_t>(info.st_size);
}

/// Makes a rename into the directory of `path` durable.
bool sync_directory_of(const std::string& path) {
  auto slash = path.rfind('/');
  auto dir = slash == 0 ? std::string{"/"} : path.substr(0, slash);
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return false;
  bool ok = ::fsync(fd) == 0;
  auto err = errno;
  ::close(fd);
  errno = err;
  return ok;
}

/// Renames `from` to `to` unless something is at `to` (then EEXIST), as one
/// step: a check before a plain rename could lose a file made in between.
bool rename_no_replace(const std::string& from, const std::string& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(),
                  RENAME_NOREPLACE)
      == 0)
    return true;
  if (errno != EINVAL && errno != ENOSYS)
    return false;
  // A file system without RENAME_NOREPLACE: link() refuses to replace too.
  if (::link(from.c_str(), to.c_str()) != 0)
    return false;
  ::unlink(from.c_str());
  return true;
}

/// Prepares `sql` into `stmt` and steps to its first row; false if that
/// fails or there is none.
bool query_one(sqlite_db& db, const char* sql, statement& stmt) {
  return stmt.prepare(db, sql).ok() && stmt.step() == step_result::row;
}

} // namespace

backup_job::backup_job(std::string path, std::string partial)
  : path_(std::move(path)), partial_(std::move(partial)) {
  // nop
}

backup_job::~backup_job() {
  remove_partial();
}

void backup_job::remove_partial() noexcept {
  if (backup_ != nullptr)
    sqlite3_backup_finish(backup_);
  backup_ = nullptr;
  dest_ = sqlite_db{};
  if (placed_)
    return;
  ::unlink(partial_.c_str());
  // None of these existed when the job began (check_target): any there now
  // is the copy's own.
  for (auto suffix : sidecars)
    ::unlink((partial_ + suffix).c_str());
}

caf::expected<std::unique_ptr<backup_job>> backup_job::start(sqlite3* source,
                                                             std::string path) {
  auto partial = path + ".partial";
  if (auto err = check_target(path, partial,
                              sqlite3_db_filename(source, "main")))
    return err;
  // O_EXCL: a partial file that is there belongs to a backup running
  // elsewhere or to one that was interrupted; it is not ours to remove.
  int fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                  0600);
  if (fd < 0)
    return errno == EEXIST
      ? failed(partial
               + " exists: another backup is writing it, or one was "
                 "interrupted; remove it if none is running")
      : failed_errno("cannot create", partial);
  ::close(fd);
  std::unique_ptr<backup_job> job{
    new backup_job{std::move(path), std::move(partial)}};
  auto& dest = job->dest_;
  auto flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (auto st = dest.open(job->partial_, flags); !st.ok())
    return failed("cannot open " + job->partial_ + ": " + st.message);
  // The partial file is thrown away on any failure, so a journal and syncs
  // per step would buy nothing: finish() syncs once, before the rename.
  for (auto sql : {"PRAGMA journal_mode = OFF", "PRAGMA synchronous = OFF"})
    if (auto st = dest.exec(sql); !st.ok())
      return failed(std::string{"cannot set "} + sql + ": " + st.message);
  job->backup_ = sqlite3_backup_init(dest.handle(), "main", source, "main");
  if (job->backup_ == nullptr)
    return failed("cannot start the backup: " + dest.last_status().message);
  return job;
}

caf::expected<bool> backup_job::step(int pages) {
  if (backup_ == nullptr)
    return failed("the backup was not started");
  ++steps_;
  auto rc = sqlite3_backup_step(backup_, pages);
  if (rc == SQLITE_DONE)
    return true;
  if (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
    return failed_sql("cannot copy the database", rc);
  // Writes of the source's own connection never restart the copy, so it
  // needs about pagecount / pages steps; allow for growth and a few
  // restarts by other writers, then give up instead of copying forever.
  auto total = static_cast<int64_t>(sqlite3_backup_pagecount(backup_));
  if (steps_ > 4 * (total / pages + 1) + 16)
    return failed("the database kept changing during the backup (is "
                  "another process writing to it?)");
  return false;
}

caf::expected<int64_t> backup_job::make_self_contained() {
  // The copy's header came from the WAL-mode source: as it is, opening it
  // would expect a -wal. A rollback journal makes it one self-contained
  // file, which SQLite writes into its header when switching.
  statement mode;
  if (!query_one(dest_, "PRAGMA journal_mode = DELETE", mode)
      || mode.column_text(0) != "delete")
    return failed("cannot make the copy self-contained: "
                  + dest_.last_status().message);
  statement count;
  if (!query_one(dest_, "PRAGMA page_count", count))
    return failed("cannot count the copy's pages: "
                  + dest_.last_status().message);
  return count.column_int64(0);
}

caf::expected<backup_result> backup_job::finish() {
  if (backup_ == nullptr)
    return failed("the backup was not started");
  auto rc = sqlite3_backup_finish(std::exchange(backup_, nullptr));
  if (rc != SQLITE_OK)
    return failed_sql("cannot finish the backup", rc);
  auto pages = make_self_contained();
  if (!pages)
    return std::move(pages.error());
  dest_ = sqlite_db{}; // closed before it is synced and moved
  auto bytes = sync_file(partial_);
  if (!bytes)
    return std::move(bytes.error());
  if (!rename_no_replace(partial_, path_)) {
    if (errno == EEXIST)
      return caf::make_error(ec::exists,
                             path_
                               + " was created during the backup; "
                                 "a backup never overwrites a "
                                 "file");
    return failed_errno("cannot rename the copy to", path_);
  }
  if (!sync_directory_of(path_)) {
    // Only an ok reply promises a durable backup at the path.
    auto err = failed_errno("cannot sync the directory of", path_);
    ::unlink(path_.c_str());
    return err;
  }
  placed_ = true;
  return backup_result{path_, *bytes, *pages, 0};
}

} // namespace authnode
