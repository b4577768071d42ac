#include "support/databases.hpp"

#include <catch2/catch.hpp>

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage/postgres.hpp"
#include "storage/sqlite.hpp"
#include "support/postgres_server.hpp"

namespace authnode::test {

std::string each_database() {
  auto backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  auto path = backend == "sqlite" ? std::string{":memory:"}
                                  : postgres_database();
  UNSCOPED_INFO("database: " << path);
  return path;
}

std::string postgres_database() {
  // One server per test process, stopped when the process ends.
  static postgres_server server;
  static int made = 0;
  auto name = "test_" + std::to_string(::getpid()) + "_"
    + std::to_string(++made);
  pg_db admin;
  auto st = admin.open(server.uri());
  INFO(st.message);
  REQUIRE(st.ok());
  // The name is ours, made of digits and underscores.
  st = admin.exec(("CREATE DATABASE " + name).c_str());
  INFO(st.message);
  REQUIRE(st.ok());
  return server.uri(name);
}

std::unique_ptr<user_store> open_store(const std::string& path) {
  std::string error;
  auto store = user_store::open(path, error);
  INFO(error);
  REQUIRE(store != nullptr);
  return store;
}

new_user alice() {
  return {"alice@example.org", "Alice", "$argon2id$v=19$m=1$old", 1000};
}

login_commit login_of(int64_t user_id, std::string digest, int64_t at,
                      int64_t expires_at, std::string device) {
  login_commit c;
  c.user_id = user_id;
  c.at = at;
  c.session = {std::move(digest), user_id, at, expires_at, "127.0.0.1"};
  c.device_digest = std::move(device);
  return c;
}

void log_in(user_store& store, int64_t user_id, const std::string& digest,
            int64_t expires_at, const std::string& device) {
  REQUIRE(
    store.commit_login(login_of(user_id, digest, 2000, expires_at, device)));
}

void add_bulk_users(const std::string& path, int count,
                    const std::string& prefix) {
  open_store(path); // the node's own schema, migrations included
  sqlite_db db;
  REQUIRE(db.open(path, SQLITE_OPEN_READWRITE).ok());
  statement insert;
  REQUIRE(insert
            .prepare(db,
                     "INSERT INTO users(email, name, password_hash,"
                     " created_at)"
                     " WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL"
                     "  SELECT i + 1 FROM n WHERE i + 1 < ?1)"
                     " SELECT ?2 || i || '@example.org', 'Bulk ' || i,"
                     "  '$argon2id$v=19$m=8,t=1,p=1$placeholder', 1000"
                     " FROM n")
            .ok());
  insert.bind_int64(1, count).bind_text(2, prefix);
  INFO(insert.status().message);
  REQUIRE(insert.step() == step_result::done);
}

std::string query(sql_db& db, const char* sql) {
  statement stmt;
  INFO(sql);
  REQUIRE(stmt.prepare(db, sql).ok());
  REQUIRE(stmt.step() == step_result::row);
  return stmt.column_text(0);
}

int file_mode(const std::string& path) {
  struct stat info {};
  REQUIRE(::stat(path.c_str(), &info) == 0);
  return static_cast<int>(info.st_mode & 0777);
}

} // namespace authnode::test
