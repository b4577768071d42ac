// The PostgreSQL backend of the SQL port (storage/sql.hpp), over the libpq
// owners of storage/postgres.hpp.
//
// The stores' statements are written with SQLite's numbered parameters
// (?1, ?2 ...); each is rewritten once to PostgreSQL's ($1, $2 ...) when it
// is prepared. The text outside string literals is all that changes.
//
// Every transaction, explicit or a single statement's, is SERIALIZABLE, the
// guarantee SQLite's one writer gives: two nodes (or two database actors)
// that race on the same rows see one of them fail with a retry status
// instead of both committing a write skew. The database actor runs such a
// request again (storage/database.cpp).
//
// A lost server (a failover) leaves the connection broken; reconnect()
// opens it again with the same connection string, so a multi-host string
// with target_session_attrs=read-write finds the promoted standby.
// Statements are prepared again on the new connection before their next
// use.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "storage/database_name.hpp"
#include "storage/postgres.hpp"
#include "storage/sql.hpp"

namespace authnode {

class postgres_db final : public sql_db {
public:
  postgres_db() = default;
  postgres_db(const postgres_db&) = delete;
  postgres_db& operator=(const postgres_db&) = delete;

  /// Connects with `conninfo` (see pg_db::open); connect_timeout is 5 s
  /// unless the string says otherwise.
  sql_status open(const std::string& conninfo);

  /// Whether the connection is up; after a lost server it is not.
  bool connected() const {
    return conn_.connected();
  }

  /// Connects again with the same string, unless connected.
  sql_status reconnect() override;

  sql_dialect dialect() const override {
    return sql_dialect::postgresql;
  }
  sql_status exec(const char* sql) override;
  int64_t changes() const override {
    return changes_;
  }
  bool in_transaction() const override;
  sql_status begin() override;
  sql_status commit() override;
  std::unique_ptr<sql_cursor> prepare(std::string_view sql,
                                      sql_status& st) override;

  // -- for the cursors --------------------------------------------------------

  pg_db& connection() {
    return conn_;
  }
  /// Counts connections made, so that a cursor knows when its statement
  /// must be prepared again.
  uint64_t generation() const {
    return generation_;
  }
  void set_changes(int64_t n) {
    changes_ = n;
  }

private:
  pg_db conn_;
  std::string conninfo_;
  uint64_t generation_ = 0;
  uint64_t statements_ = 0;
  int64_t changes_ = 0;
};

/// A pg_status as the port's sql_status.
sql_status to_sql_status(const pg_status& st);

/// `sql` with ?N parameters as $N (outside string literals), and the
/// highest N in `count`.
std::string to_postgres_parameters(std::string_view sql, int& count);

} // namespace authnode
