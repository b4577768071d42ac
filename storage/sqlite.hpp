// Small RAII owners for the SQLite C API: a connection, a prepared statement
// and a write transaction.
//
// Nothing here throws: calls report a `sql_status` (SQLite's extended result
// code and its message). Binding errors are remembered by the statement and
// reported by the next step(), so a bind-bind-step sequence needs one check.
// Every value is bound as a parameter; SQL text is never built from values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace authnode {

/// The outcome of a SQLite call.
struct sql_status {
  /// SQLite's extended result code; 0 (SQLITE_OK) on success.
  int code = 0;
  std::string message;

  bool ok() const {
    return code == 0;
  }

  /// The primary result code (SQLITE_CONSTRAINT for SQLITE_CONSTRAINT_UNIQUE).
  int primary() const {
    return code & 0xff;
  }
};

/// Owns one connection. Not thread-safe: one owner uses it at a time.
class sqlite_db {
public:
  sqlite_db() = default;
  sqlite_db(const sqlite_db&) = delete;
  sqlite_db& operator=(const sqlite_db&) = delete;
  sqlite_db(sqlite_db&& other) noexcept;
  sqlite_db& operator=(sqlite_db&& other) noexcept;
  ~sqlite_db();

  /// Opens `path` with SQLITE_OPEN_* `flags`, closing any previous connection.
  /// Extended result codes are switched on.
  sql_status open(const std::string& path, int flags);

  /// Runs SQL without parameters (schema, pragmas, BEGIN/COMMIT).
  sql_status exec(const char* sql);

  /// Rows changed by the most recent INSERT, UPDATE or DELETE.
  int64_t changes() const;

  int64_t last_insert_rowid() const;

  /// False while a transaction is open.
  bool autocommit() const;

  /// The status of the most recent failed call on this connection.
  sql_status last_status() const;

  sqlite3* handle() const {
    return db_;
  }

  explicit operator bool() const {
    return db_ != nullptr;
  }

private:
  void close() noexcept;

  sqlite3* db_ = nullptr;
};

enum class step_result { row, done, error };

/// Owns one prepared statement, meant to be prepared once and reused.
///
/// Parameter indexes start at 1, column indexes at 0 (as in SQLite).
class statement {
public:
  statement() = default;
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;
  statement(statement&& other) noexcept;
  statement& operator=(statement&& other) noexcept;
  ~statement();

  sql_status prepare(sqlite_db& db, std::string_view sql);

  statement& bind_int64(int index, int64_t value);
  statement& bind_text(int index, std::string_view value);
  /// Raw bytes; an empty value is a zero-length blob, not NULL.
  statement& bind_blob(int index, std::string_view bytes);
  statement& bind_null(int index);

  /// Runs the statement to the next row. After `error`, status() tells why.
  step_result step();

  /// The failure of the last bind or step; ok() if there was none.
  const sql_status& status() const {
    return status_;
  }

  bool column_is_null(int col) const;
  int64_t column_int64(int col) const;
  std::string column_text(int col) const;
  std::string column_blob(int col) const;

  /// Readies the statement for its next use and drops all bindings.
  void reset();

  explicit operator bool() const {
    return stmt_ != nullptr;
  }

private:
  void remember_bind(int rc);
  void finalize() noexcept;

  sqlite3_stmt* stmt_ = nullptr;
  sql_status status_;
};

/// Resets a reused statement when leaving scope: a SELECT that is not reset
/// keeps its read transaction open, which pins the WAL and blocks checkpoints.
class reset_guard {
public:
  explicit reset_guard(statement& stmt) : stmt_(stmt) {
    stmt_.reset();
  }
  reset_guard(const reset_guard&) = delete;
  reset_guard& operator=(const reset_guard&) = delete;
  ~reset_guard() {
    stmt_.reset();
  }

private:
  statement& stmt_;
};

/// A write transaction: BEGIN IMMEDIATE on construction (taking the write lock
/// up front, so it cannot fail half-way with SQLITE_BUSY on an upgrade), and a
/// rollback on destruction unless commit() succeeded.
class transaction {
public:
  explicit transaction(sqlite_db& db);
  transaction(const transaction&) = delete;
  transaction& operator=(const transaction&) = delete;
  ~transaction();

  /// Whether BEGIN succeeded; if not, status() tells why.
  bool active() const {
    return active_;
  }

  const sql_status& status() const {
    return status_;
  }

  sql_status commit();

private:
  sqlite_db& db_;
  bool active_ = false;
  sql_status status_;
};

} // namespace authnode
