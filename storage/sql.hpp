// The SQL port the stores are written against (issue 17): a connection, a
// prepared statement with parameters and a cursor over its rows, and a write
// transaction, with two implementations, SQLite (storage/sqlite.hpp) and
// PostgreSQL (storage/postgres_sql.hpp).
//
// Why one port and not a store per backend: the stores' statements are the
// same SQL on both (numbered parameters ?1, ?2 ..., RETURNING, ON CONFLICT,
// which SQLite 3.35+ and PostgreSQL both speak), so each store is written
// once and its tests run against both backends. What differs lives in the
// backends: parameter syntax ($n), how results come back (rows of text and
// bytea), transactions (BEGIN IMMEDIATE vs SERIALIZABLE) and the schema's
// column types (storage/schema.cpp keeps one migration list per dialect).
//
// Nothing here throws: calls report a `sql_status`. Binding errors are
// remembered by the statement and reported by the next step(), so a
// bind-bind-step sequence needs one check. Every value is bound as a
// parameter; SQL text is never built from values.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace authnode {

enum class sql_dialect { sqlite, postgresql };

/// The outcome of a call on either backend.
struct sql_status {
  /// The code of every PostgreSQL failure, which no SQLite code is.
  static constexpr int postgres_failure = -1;

  /// SQLite's extended result code, or postgres_failure for any PostgreSQL
  /// failure; 0 on success.
  int code = 0;
  /// PostgreSQL's SQLSTATE ("" for SQLite, and when the server never
  /// answered).
  std::string sqlstate;
  std::string message;

  bool ok() const {
    return code == 0;
  }

  /// The primary SQLite result code (SQLITE_CONSTRAINT for
  /// SQLITE_CONSTRAINT_UNIQUE).
  int primary() const {
    return code & 0xff;
  }

  /// A UNIQUE or PRIMARY KEY constraint refused the row.
  bool unique_violation() const;

  /// PostgreSQL's 40001 (serialization failure) or 40P01 (deadlock): the
  /// transaction did nothing and may simply run again.
  bool retry() const;

  /// The PostgreSQL server is not (or no longer) there: what a failover looks
  /// like. Whether a COMMIT sent meanwhile took effect is unknown.
  bool connection_lost() const;
};

enum class step_result { row, done, error };

/// One backend's prepared statement; used through `statement`.
class sql_cursor {
public:
  virtual ~sql_cursor() = default;
  virtual void bind_int64(int index, int64_t value) = 0;
  virtual void bind_text(int index, std::string_view value) = 0;
  virtual void bind_blob(int index, std::string_view bytes) = 0;
  virtual void bind_null(int index) = 0;
  virtual step_result step() = 0;
  virtual const sql_status& status() const = 0;
  virtual bool column_is_null(int col) const = 0;
  virtual int64_t column_int64(int col) const = 0;
  virtual std::string column_text(int col) const = 0;
  virtual std::string column_blob(int col) const = 0;
  virtual void reset() = 0;
};

/// One connection of either backend. Not thread-safe: one owner (a database
/// actor) uses it at a time.
class sql_db {
public:
  virtual ~sql_db() = default;

  virtual sql_dialect dialect() const = 0;

  /// Runs SQL without parameters (schema, pragmas, BEGIN/COMMIT).
  virtual sql_status exec(const char* sql) = 0;

  /// Rows changed by the most recent INSERT, UPDATE or DELETE.
  virtual int64_t changes() const = 0;

  /// False while no transaction is open.
  virtual bool in_transaction() const = 0;

  /// Starts a write transaction as serializable as the backend makes it:
  /// SQLite's BEGIN IMMEDIATE (one writer), PostgreSQL's SERIALIZABLE (whose
  /// conflicts fail with retry()).
  virtual sql_status begin() = 0;

  /// Commits the open transaction. On PostgreSQL a transaction that met an
  /// error cannot commit, and COMMIT says ROLLBACK: that is a failure here.
  virtual sql_status commit() = 0;

  /// Connects again if the server was lost (PostgreSQL: a failover); SQLite
  /// has nothing to lose.
  virtual sql_status reconnect() {
    return {};
  }

  /// Prepares `sql`; null and the reason in `st` on failure.
  virtual std::unique_ptr<sql_cursor>
  prepare(std::string_view sql, sql_status& st) = 0;

  /// The last failure a statement or transaction met on this connection
  /// since forget_failure(): what the database actor looks at to decide
  /// whether a request may run again.
  const sql_status& last_failure() const {
    return last_failure_;
  }
  void forget_failure() {
    last_failure_ = {};
  }
  void note_failure(const sql_status& st) {
    if (!st.ok())
      last_failure_ = st;
  }

private:
  sql_status last_failure_;
};

/// Owns one prepared statement, meant to be prepared once and reused.
///
/// Parameter indexes start at 1, column indexes at 0 (as in SQLite).
class statement {
public:
  statement() = default;
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;
  statement(statement&&) noexcept = default;
  statement& operator=(statement&&) noexcept = default;

  sql_status prepare(sql_db& db, std::string_view sql);

  statement& bind_int64(int index, int64_t value) {
    cursor_->bind_int64(index, value);
    return *this;
  }
  statement& bind_text(int index, std::string_view value) {
    cursor_->bind_text(index, value);
    return *this;
  }
  /// Raw bytes; an empty value is a zero-length blob, not NULL.
  statement& bind_blob(int index, std::string_view bytes) {
    cursor_->bind_blob(index, bytes);
    return *this;
  }
  statement& bind_null(int index) {
    cursor_->bind_null(index);
    return *this;
  }

  /// Runs the statement to the next row. After `error`, status() tells why.
  step_result step();

  /// The failure of the last bind or step; ok() if there was none.
  const sql_status& status() const {
    return cursor_->status();
  }

  bool column_is_null(int col) const {
    return cursor_->column_is_null(col);
  }
  int64_t column_int64(int col) const {
    return cursor_->column_int64(col);
  }
  std::string column_text(int col) const {
    return cursor_->column_text(col);
  }
  std::string column_blob(int col) const {
    return cursor_->column_blob(col);
  }

  /// Readies the statement for its next use and drops all bindings.
  void reset() {
    if (cursor_)
      cursor_->reset();
  }

  explicit operator bool() const {
    return cursor_ != nullptr;
  }

private:
  std::unique_ptr<sql_cursor> cursor_;
  sql_db* db_ = nullptr;
};

/// Resets a reused statement when leaving scope: a SELECT that is not reset
/// keeps its read transaction open, which pins SQLite's WAL and blocks
/// checkpoints.
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

/// A write transaction (sql_db::begin) on construction, and a rollback on
/// destruction unless commit() succeeded.
class transaction {
public:
  explicit transaction(sql_db& db);
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
  sql_db& db_;
  bool active_ = false;
  sql_status status_;
};

/// A store's statement and its SQL, for prepare_statements.
struct statement_text {
  statement& stmt;
  const char* sql;
};

/// Prepares every statement of a store on `db`; false at the first that
/// fails, with `error` saying why.
bool prepare_statements(sql_db& db, const statement_text* first, size_t count,
                        std::string& error);

template <size_t N>
bool prepare_statements(sql_db& db, const statement_text (&list)[N],
                        std::string& error) {
  return prepare_statements(db, list, N, error);
}

} // namespace authnode
