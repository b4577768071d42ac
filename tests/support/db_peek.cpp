#include "support/db_peek.hpp"

#include <stdexcept>
#include <thread>

#include <sqlite3.h>

namespace authnode::test {

namespace {

/// Runs `sql` with `text` bound to ?1 (if given) on a read-only connection
/// and hands the first row, if there is one, to `read`.
template <class Read>
void query_one(const std::string& db_path, const char* sql,
               const std::string* text, Read read) {
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
  if (rc == SQLITE_ROW)
    read(stmt);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    throw std::runtime_error("cannot read " + db_path);
}

} // namespace

std::string stored_hash(const std::string& db_path, const std::string& email) {
  std::string out;
  query_one(db_path, "SELECT password_hash FROM users WHERE email = ?1", &email,
            [&](sqlite3_stmt* stmt) {
              out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
            });
  return out;
}

namespace {

int64_t count(const std::string& db_path, const char* sql) {
  int64_t out = 0;
  query_one(db_path, sql, nullptr, [&](sqlite3_stmt* stmt) {
    out = sqlite3_column_int64(stmt, 0);
  });
  return out;
}

} // namespace

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
