#include "storage/sql_open.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "storage/database_name.hpp"
#include "storage/postgres_sql.hpp"
#include "storage/sqlite.hpp"

namespace authnode {

namespace {

constexpr const char* memory_path = ":memory:";

// The file holds password hashes: create it readable by its owner only.
// SQLite gives the -wal and -shm files the mode of the database file. An
// existing file keeps the mode its administrator chose.
bool create_private_file(const std::string& path, std::string& error) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    error = "cannot open database file " + path + ": " + std::strerror(errno);
    return false;
  }
  struct stat info {};
  bool regular = ::fstat(fd, &info) == 0 && S_ISREG(info.st_mode);
  ::close(fd);
  if (!regular) {
    error = "database path " + path + " is not a regular file";
    return false;
  }
  return true;
}

// The first read of the file header is where SQLite notices garbage; do it
// here so that the message names the problem instead of a later pragma.
bool check_readable(sqlite_db& db, const std::string& path,
                    std::string& error) {
  statement stmt;
  auto st = stmt.prepare(db, "SELECT count(*) FROM sqlite_master");
  if (st.ok() && stmt.step() != step_result::row)
    st = stmt.status();
  if (st.ok())
    return true;
  if (st.primary() == SQLITE_NOTADB)
    error = path + " is not an SQLite database (or it is corrupt)";
  else
    error = "cannot read database " + path + ": " + st.message;
  return false;
}

bool configure(sqlite_db& db, bool in_memory, std::string& error) {
  // WAL lets readers of other processes (backups, sqlite3 CLI) coexist with
  // the writer; FULL syncs the WAL on every commit, so a reply sent after a
  // commit survives a power cut.
  const char* pragmas[] = {
    "PRAGMA busy_timeout = 5000",
    in_memory ? nullptr : "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = FULL",
    "PRAGMA foreign_keys = ON",
  };
  for (auto sql : pragmas) {
    if (sql == nullptr)
      continue;
    if (auto st = db.exec(sql); !st.ok()) {
      error = std::string{"cannot set "} + sql + ": " + st.message;
      return false;
    }
  }
  return true;
}

std::unique_ptr<sql_db> open_sqlite(const std::string& path,
                                    std::string& error) {
  bool in_memory = path == memory_path;
  if (!in_memory && !create_private_file(path, error))
    return nullptr;
  auto db = std::make_unique<sqlite_db>();
  // NOMUTEX: only the database actor's thread ever touches the connection.
  auto flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  if (auto st = db->open(path, flags); !st.ok()) {
    error = "cannot open database " + path + ": " + st.message;
    return nullptr;
  }
  if (!check_readable(*db, path, error) || !configure(*db, in_memory, error))
    return nullptr;
  return db;
}

std::unique_ptr<sql_db> open_postgres(const std::string& conninfo,
                                      std::string& error) {
  auto db = std::make_unique<postgres_db>();
  if (auto st = db->open(conninfo); !st.ok()) {
    // The message, not the string: it may hold a password.
    error = "cannot connect to PostgreSQL: " + st.message;
    return nullptr;
  }
  return db;
}

} // namespace

std::unique_ptr<sql_db> open_sql(const std::string& path, std::string& error) {
  return is_postgres_conninfo(path) ? open_postgres(path, error)
                                    : open_sqlite(path, error);
}

} // namespace authnode
