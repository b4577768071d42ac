// Small RAII owners for libpq (issue 17's PostgreSQL backend), the twins of
// storage/sqlite.hpp: a connection with its prepared statements, a query's
// parameters, its result, and a transaction.
//
// Nothing here throws: calls report a `pg_status`, whose SQLSTATE says what
// kind of failure it was (a unique violation, a serialization failure to
// retry, a lost connection). Every value is sent as a parameter of a
// prepared statement; SQL text is never built from values. Bytes (bytea)
// travel in binary, so any byte goes through as it is; everything else as
// text, which is PostgreSQL's own exact form for integers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

struct pg_conn;
struct pg_result;

namespace authnode {

/// The outcome of a libpq call.
struct pg_status {
  /// The five-character SQLSTATE, "" on success or when the server never
  /// answered (then `message` says why: no connection, a lost one).
  std::string sqlstate;
  std::string message;

  bool ok() const {
    return sqlstate.empty() && message.empty();
  }
  /// 23505: a UNIQUE or PRIMARY KEY constraint refused the row.
  bool unique_violation() const {
    return sqlstate == "23505";
  }
  /// 40001 (serialization failure) or 40P01 (deadlock): run the
  /// transaction again.
  bool retry() const {
    return sqlstate == "40001" || sqlstate == "40P01";
  }
  /// The server is not (or no longer) there: no SQLSTATE at all, class 08
  /// (connection exception) or 57 (shut down, crashed, cancelled by an
  /// operator). What a failover looks like from here.
  bool connection_lost() const {
    if (ok())
      return false;
    return sqlstate.empty() || sqlstate.rfind("08", 0) == 0
      || sqlstate.rfind("57", 0) == 0;
  }
};

/// A query's parameters, in order ($1, $2, ...).
class pg_params {
public:
  pg_params& text(std::string_view value);
  pg_params& int64(int64_t value);
  /// Raw bytes (a bytea parameter); an empty value is empty, not NULL.
  pg_params& bytes(std::string_view value);
  pg_params& null();

  int size() const {
    return static_cast<int>(values_.size());
  }
  /// What PQexecPrepared takes.
  std::vector<const char*> values() const;
  const int* lengths() const {
    return lengths_.data();
  }
  const int* formats() const {
    return formats_.data();
  }

private:
  std::vector<std::string> values_;
  std::vector<bool> is_null_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
};

/// Owns one result. Row and column indexes start at 0.
class pg_rows {
public:
  pg_rows() = default;
  explicit pg_rows(::pg_result* res) : res_(res) {}
  pg_rows(const pg_rows&) = delete;
  pg_rows& operator=(const pg_rows&) = delete;
  pg_rows(pg_rows&& other) noexcept;
  pg_rows& operator=(pg_rows&& other) noexcept;
  ~pg_rows();

  int count() const;
  /// Rows an INSERT, UPDATE or DELETE changed.
  int64_t changed() const;
  bool is_null(int row, int col) const;
  std::string text(int row, int col) const;
  int64_t int64(int row, int col) const;
  /// A bytea column (sent back as text: \x and hex digits), decoded.
  std::string bytes(int row, int col) const;

private:
  friend class pg_db;
  ::pg_result* res_ = nullptr;
};

/// Owns one connection. Not thread-safe: one owner (a database actor)
/// uses it at a time.
class pg_db {
public:
  pg_db() = default;
  pg_db(const pg_db&) = delete;
  pg_db& operator=(const pg_db&) = delete;
  pg_db(pg_db&& other) noexcept;
  pg_db& operator=(pg_db&& other) noexcept;
  ~pg_db();

  /// Connects with any libpq connection string or URI (multi-host with
  /// target_session_attrs=read-write included), closing any previous one.
  /// Statements prepared on an earlier connection are gone with it. A
  /// connect_timeout of 5 s applies unless the string sets one. The
  /// server's notices go to the node's log (debug), not to stderr.
  pg_status open(const std::string& conninfo);

  bool connected() const;

  /// Whether a transaction is open (or failed and not yet rolled back).
  bool in_transaction() const;

  /// The command tag of the last exec() ("COMMIT", "ROLLBACK", ...).
  const std::string& last_command() const {
    return last_command_;
  }

  /// Runs SQL without parameters (schema, BEGIN/COMMIT, SET).
  pg_status exec(const char* sql);

  /// Prepares `sql` (with $1, $2, ...) under `name` on this connection.
  pg_status prepare(const std::string& name, const std::string& sql);

  /// Runs the statement prepared as `name`; its rows (or rows changed) go
  /// to `out`.
  pg_status run(const std::string& name, const pg_params& params, pg_rows& out);

private:
  void close() noexcept;
  pg_status status_of(::pg_result* res) const;
  ::pg_conn* conn_ = nullptr;
  std::string last_command_;
};

/// A transaction: BEGIN (at `isolation`, e.g. "SERIALIZABLE") on
/// construction, ROLLBACK on destruction unless commit() succeeded.
class pg_transaction {
public:
  explicit pg_transaction(pg_db& db, const char* isolation = "READ COMMITTED");
  pg_transaction(const pg_transaction&) = delete;
  pg_transaction& operator=(const pg_transaction&) = delete;
  ~pg_transaction();

  /// Whether BEGIN succeeded.
  const pg_status& begun() const {
    return begun_;
  }
  pg_status commit();

private:
  pg_db& db_;
  pg_status begun_;
  bool open_ = false;
};

} // namespace authnode
