#include "support/db_peek.hpp"

#include <fstream>
#include <optional>
#include <stdexcept>
#include <thread>

#include <sqlite3.h>

#include "storage/database_name.hpp"
#include "storage/postgres_sql.hpp"

namespace authnode::test {

namespace {

/// The first column of the first row of `sql` (with `text` bound to ?1, if
/// given) on a read-only SQLite connection, or on the PostgreSQL database
/// that stands in for the file (postgres_uri_of); nothing if there is no
/// row.
std::optional<std::string> first_column(const std::string& db_path,
                                        const char* sql,
                                        const std::string* text) {
  auto dir = db_path.substr(0, db_path.rfind('/'));
  if (auto uri = postgres_uri_of(dir); !uri.empty()) {
    postgres_db db;
    statement stmt;
    if (!db.open(uri).ok() || !stmt.prepare(db, sql).ok())
      throw std::runtime_error("cannot open " + describe_database(uri));
    if (text)
      stmt.bind_text(1, *text);
    auto r = stmt.step();
    if (r == step_result::error)
      throw std::runtime_error("cannot read " + describe_database(uri));
    if (r == step_result::done)
      return std::nullopt;
    return stmt.column_text(0);
  }
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr)
      != SQLITE_OK) {
    sqlite3_close(db);
    throw std::runtime_error("cannot open " + db_path);
  }
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt* stmt = nullptr;
  auto ok = sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK
    && (text == nullptr
        || sqlite3_bind_text(stmt, 1, text->data(),
                             static_cast<int>(text->size()), SQLITE_TRANSIENT)
          == SQLITE_OK);
  auto rc = ok ? sqlite3_step(stmt) : SQLITE_ERROR;
  std::optional<std::string> out;
  if (rc == SQLITE_ROW)
    out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    throw std::runtime_error("cannot read " + db_path);
  return out;
}

int64_t count(const std::string& db_path, const char* sql) {
  return std::stoll(first_column(db_path, sql, nullptr).value_or("0"));
}

} // namespace

std::string postgres_uri_of(const std::string& dir) {
  std::string uri;
  std::ifstream in{dir + "/postgres-uri"};
  std::getline(in, uri);
  return uri;
}

std::string postgres_rows(const std::string& uri) {
  postgres_db db;
  if (!db.open(uri).ok())
    throw std::runtime_error("cannot open " + describe_database(uri));
  statement tables;
  if (!tables
         .prepare(db,
                  "SELECT table_name FROM information_schema.tables"
                  " WHERE table_schema = 'public'")
         .ok())
    throw std::runtime_error("cannot list the tables");
  std::string rows;
  while (tables.step() == step_result::row) {
    // A name from the catalogue, quoted as an identifier.
    auto table = tables.column_text(0);
    statement all;
    auto sql = "SELECT CAST(t AS TEXT) FROM \"" + table + "\" t";
    if (!all.prepare(db, sql).ok())
      throw std::runtime_error("cannot read " + table);
    while (all.step() == step_result::row)
      rows += all.column_text(0) + "\n";
  }
  return rows;
}

std::string stored_hash(const std::string& db_path, const std::string& email) {
  return first_column(
           db_path, "SELECT password_hash FROM users WHERE email = ?1", &email)
    .value_or("");
}

int64_t user_count(const std::string& db_path) {
  return count(db_path, "SELECT count(*) FROM users");
}

int64_t session_count(const std::string& db_path) {
  return count(db_path, "SELECT count(*) FROM sessions");
}

std::string
wait_for_stored_hash(const std::string& db_path, const std::string& email,
                     const std::function<bool(const std::string&)>& done,
                     std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    auto hash = stored_hash(db_path, email);
    if (done(hash) || std::chrono::steady_clock::now() >= deadline)
      return hash;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

} // namespace authnode::test
