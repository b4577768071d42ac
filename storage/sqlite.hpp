// The SQLite backend of the SQL port (storage/sql.hpp): a connection that
// owns its sqlite3 handle, whose statements are SQLite's own prepared
// statements.
//
// A store holds one connection opened without SQLite's mutexes, since one
// database actor uses it. The backup (storage/backup.hpp) reaches the raw
// handle, which only SQLite has.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "storage/sql.hpp"

struct sqlite3;

namespace authnode {

/// Owns one connection. Not thread-safe: one owner uses it at a time.
class sqlite_db final : public sql_db {
public:
  sqlite_db() = default;
  sqlite_db(const sqlite_db&) = delete;
  sqlite_db& operator=(const sqlite_db&) = delete;
  sqlite_db(sqlite_db&& other) noexcept;
  sqlite_db& operator=(sqlite_db&& other) noexcept;
  ~sqlite_db() override;

  /// Opens `path` with SQLITE_OPEN_* `flags`, closing any previous connection.
  /// Extended result codes are switched on.
  sql_status open(const std::string& path, int flags);

  sql_dialect dialect() const override {
    return sql_dialect::sqlite;
  }
  sql_status exec(const char* sql) override;
  int64_t changes() const override;
  bool in_transaction() const override;
  /// BEGIN IMMEDIATE: takes the write lock up front, so that a transaction
  /// cannot fail half-way with SQLITE_BUSY on an upgrade.
  sql_status begin() override;
  sql_status commit() override;
  std::unique_ptr<sql_cursor> prepare(std::string_view sql,
                                      sql_status& st) override;

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

} // namespace authnode
