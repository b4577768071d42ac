// The copy behind `authctl migrate` (storage/migration.hpp): an SQLite
// database with a row in every table, copied into a PostgreSQL database of
// the test's own, and copied again.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "storage/migration.hpp"
#include "storage/schema.hpp"
#include "storage/sql_open.hpp"
#include "support/databases.hpp"
#include "support/temp_dir.hpp"

using namespace authnode;
using namespace authnode::test;

namespace {

std::unique_ptr<sql_db> opened(const std::string& name) {
  std::string error;
  auto db = open_sql(name, error);
  INFO(error);
  REQUIRE(db);
  REQUIRE(migrate(*db, error));
  return db;
}

void run(sql_db& db, const char* sql) {
  auto st = db.exec(sql);
  INFO(sql << ": " << st.message);
  REQUIRE(st.ok());
}

/// Two users and a row in every other table, with NULLs, blobs and ids
/// that are not 1, 2, 3.
void fill(sql_db& db) {
  run(db,
      "INSERT INTO users (id, email, name, password_hash, created_at,"
      " last_login_at, disabled, email_verified, webauthn_handle) VALUES"
      " (7, 'ann@example.org', 'Ann', '$argon2id$ann', 1000, NULL, 0, 1,"
      " X'00ff10'),"
      " (9, 'bob@example.org', 'Bob', '$argon2id$bob', 1001, 1500, 1, 0,"
      " NULL)");
  run(db,
      "INSERT INTO sessions (id, token_hash, user_id, created_at,"
      " expires_at, source) VALUES (40, X'0a0b', 7, 2000, 99999999999,"
      " '127.0.0.1')");
  run(db,
      "INSERT INTO device_tokens (id, token_hash, user_id, created_at,"
      " failures) VALUES (3, X'0c0d', 7, 2000, 1)");
  run(db,
      "INSERT INTO account_codes (user_id, purpose, code_hash, new_email,"
      " created_at, expires_at, failures) VALUES (9, 2, X'beef',"
      " 'bob2@example.org', 3000, 4000, 0)");
  run(db,
      "INSERT INTO code_mails (user_id, purpose, sent_at) VALUES"
      " (9, 2, 3000), (9, 2, 3000)");
  run(db,
      "INSERT INTO mail_outbox (id, created_at_ms, next_at_ms, attempts,"
      " last_error, sealed) VALUES (12, 5000, 6000, 2, 'timeout',"
      " X'5eeded')");
  run(db,
      "INSERT INTO second_factors (user_id, totp_sealed, pending_sealed,"
      " last_step, enabled_at) VALUES (7, X'70', NULL, 55, 7000)");
  run(db,
      "INSERT INTO recovery_codes (user_id, code_hash) VALUES"
      " (7, X'01'), (7, X'02')");
  run(db,
      "INSERT INTO login_challenges (challenge_hash, user_id, source,"
      " created_at, expires_at, failures, device_hash, password_breached)"
      " VALUES (X'cc', 7, '127.0.0.1', 8000, 8300, 0, NULL, 1)");
  run(db,
      "INSERT INTO passkeys (id, user_id, credential_id, public_key, alg,"
      " sign_count, name, created_at, last_used_at) VALUES (5, 7, X'c1',"
      " X'a5', -7, 3, 'phone', 9000, 9100)");
  run(db,
      "INSERT INTO webauthn_challenges (challenge_hash, purpose, user_id,"
      " email, name, expires_at) VALUES (X'dd', 1, 7, '', '', 9500)");
  run(db,
      "INSERT INTO throttle_failures (key_hash, failures,"
      " last_failure_ms) VALUES (X'ee', 4, 10000)");
}

int64_t rows(const migration_report& r, const std::string& table,
             bool target = true) {
  for (auto& t : r.tables)
    if (t.table == table)
      return target ? t.target : t.source;
  FAIL("no table " << table << " in the report");
  return -1;
}

/// A fresh SQLite file filled as above and a fresh PostgreSQL database.
struct two_databases {
  temp_dir dir;
  std::unique_ptr<sql_db> from = opened(dir.file("auth.db"));
  std::string uri = postgres_database();
  std::unique_ptr<sql_db> to = opened(uri);

  two_databases() {
    fill(*from);
  }

  migration_report copy(size_t batch = 2) {
    migration_options opts;
    opts.batch_size = batch;
    migration_report report;
    std::string error;
    bool ok = copy_database(*from, *to, opts, report, error);
    INFO(error);
    REQUIRE(ok);
    return report;
  }
};

} // namespace

TEST_CASE_METHOD(two_databases,
                 "migrate copies every table with its ids nulls and bytes",
                 "[migrate][postgres]") {
  std::vector<std::pair<int64_t, int64_t>> progress;
  migration_options opts;
  opts.batch_size = 1;
  opts.progress = [&](int64_t done, int64_t total) {
    progress.emplace_back(done, total);
  };
  migration_report report;
  std::string error;
  bool ok = copy_database(*from, *to, opts, report, error);
  INFO(error);
  REQUIRE(ok);
  CHECK(report.counts_match());
  CHECK(report.tables.size() == migrated_tables().size());
  for (auto& t : report.tables) {
    INFO(t.table);
    CHECK(t.source > 0); // every table was filled, so every one is tested
  }
  CHECK(report.copied == 15);
  REQUIRE(progress.size() == 15); // one batch per row here
  CHECK(progress.back() == std::make_pair(int64_t{15}, int64_t{15}));

  CHECK(query(*to,
              "SELECT email || ' ' || name || ' ' || password_hash"
              " FROM users WHERE id = 9")
        == "bob@example.org Bob $argon2id$bob");
  CHECK(query(*to, "SELECT last_login_at IS NULL FROM users WHERE id = 7")
        == "t");
  CHECK(query(*to,
              "SELECT encode(webauthn_handle, 'hex') FROM users WHERE"
              " id = 7")
        == "00ff10");
  CHECK(query(*to,
              "SELECT encode(token_hash, 'hex') || ' ' || user_id FROM"
              " sessions WHERE id = 40")
        == "0a0b 7");
  CHECK(query(*to, "SELECT pending_sealed IS NULL FROM second_factors") == "t");
  CHECK(query(*to, "SELECT alg FROM passkeys WHERE id = 5") == "-7");
  CHECK(query(*to, "SELECT count(*) FROM code_mails") == "2");
}

TEST_CASE_METHOD(two_databases,
                 "ids made after a migration continue after the copied ones",
                 "[migrate][postgres]") {
  copy();
  CHECK(query(*to,
              "INSERT INTO users (email, name, password_hash,"
              " created_at) VALUES ('new@example.org', 'New', 'h', 1)"
              " RETURNING id")
        == "10");
  CHECK(query(*to,
              "INSERT INTO sessions (token_hash, user_id, created_at,"
              " expires_at, source) VALUES ('\\x99', 7, 1, 2, 'x')"
              " RETURNING id")
        == "41");
}

TEST_CASE_METHOD(two_databases,
                 "migrate run again brings what changed and duplicates "
                 "nothing",
                 "[migrate][postgres]") {
  copy();
  run(*from, "UPDATE users SET name = 'Ann Smith' WHERE id = 7");
  run(*from,
      "INSERT INTO users (id, email, name, password_hash, created_at)"
      " VALUES (11, 'cy@example.org', 'Cy', 'h', 1)");
  run(*from, "DELETE FROM code_mails");
  run(*from,
      "INSERT INTO code_mails (user_id, purpose, sent_at) VALUES"
      " (9, 2, 3600)");
  auto again = copy();
  CHECK(again.counts_match());
  CHECK(rows(again, "users") == 3);
  CHECK(rows(again, "recovery_codes") == 2);
  CHECK(query(*to, "SELECT name FROM users WHERE id = 7") == "Ann Smith");
  CHECK(query(*to, "SELECT string_agg(sent_at::text, ',') FROM code_mails")
        == "3600");
}

TEST_CASE_METHOD(two_databases,
                 "migrate reports a target that holds rows the source "
                 "does not",
                 "[migrate][postgres]") {
  copy();
  run(*to,
      "INSERT INTO users (id, email, name, password_hash, created_at)"
      " VALUES (100, 'other@example.org', 'Other', 'h', 1)");
  auto again = copy();
  CHECK_FALSE(again.counts_match());
  CHECK(rows(again, "users", false) == 2);
  CHECK(rows(again, "users") == 3);
}

TEST_CASE_METHOD(two_databases,
                 "migrate refuses a source with a table it does not know "
                 "and writes nothing",
                 "[migrate][postgres]") {
  run(*from, "CREATE TABLE later_feature (x INTEGER)");
  migration_report report;
  std::string error;
  CHECK_FALSE(copy_database(*from, *to, {}, report, error));
  CHECK(error.find("later_feature") != std::string::npos);
  CHECK(query(*to, "SELECT count(*) FROM users") == "0");
}
