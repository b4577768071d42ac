#include "support/db_peek.hpp"

#include <fstream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <thread>

#include <sqlite3.h>

#include "storage/database_name.hpp"
#include "storage/postgres_sql.hpp"
#include "storage/sqlite.hpp"

namespace authnode::test {

namespace {

/// A read-only connection to the database at `db_path`: the SQLite file,
/// or the PostgreSQL database that stands in for it (postgres_uri_of).
std::unique_ptr<sql_db> open_peek(const std::string& db_path) {
  auto dir = db_path.substr(0, db_path.rfind('/'));
  if (auto uri = postgres_uri_of(dir); !uri.empty()) {
    auto db = std::make_unique<postgres_db>();
    if (!db->open(uri).ok())
      throw std::runtime_error("cannot open " + describe_database(uri));
    return db;
  }
  auto db = std::make_unique<sqlite_db>();
  if (!db->open(db_path, SQLITE_OPEN_READONLY).ok()
      || !db->exec("PRAGMA busy_timeout = 5000").ok())
    throw std::runtime_error("cannot open " + db_path);
  return db;
}

/// The first column of the first row of `sql` (with `text` bound to ?1, if
/// given) on open_peek's connection; nothing if there is no row.
std::optional<std::string> first_column(const std::string& db_path,
                                        const char* sql,
                                        const std::string* text) {
  auto db = open_peek(db_path);
  statement stmt;
  if (!stmt.prepare(*db, sql).ok())
    throw std::runtime_error("cannot read " + db_path);
  if (text)
    stmt.bind_text(1, *text);
  auto r = stmt.step();
  if (r == step_result::error)
    throw std::runtime_error("cannot read " + db_path);
  if (r == step_result::done)
    return std::nullopt;
  return stmt.column_text(0);
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
