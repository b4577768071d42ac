// The libpq wrappers (storage/postgres) against a real PostgreSQL server of
// the test's own: values go through as they are, failures say what kind they
// are (a duplicate, a transaction to run again, a server gone), and an
// uncommitted transaction leaves nothing.
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <memory>
#include <string>

#include "storage/postgres.hpp"
#include "support/postgres_server.hpp"

using namespace authnode;
using authnode::test::postgres_server;

namespace {

pg_db connect(const postgres_server& server) {
  pg_db db;
  auto st = db.open(server.uri());
  INFO(st.message);
  REQUIRE(st.ok());
  return db;
}

void ok(const pg_status& st) {
  INFO(st.sqlstate << " " << st.message);
  REQUIRE(st.ok());
}

int64_t count_rows(pg_db& db, const std::string& table) {
  static int asked = 0; // a statement's name is the connection's for good
  auto name = "count_" + table + std::to_string(++asked);
  ok(db.prepare(name, "SELECT count(*) FROM " + table));
  pg_rows rows;
  ok(db.run(name, pg_params{}, rows));
  return rows.int64(0, 0);
}

} // namespace

TEST_CASE("values go to PostgreSQL and come back as they were", "[postgres]") {
  postgres_server server;
  auto db = connect(server);
  ok(db.exec("CREATE TABLE t (id bigint PRIMARY KEY, name text, raw bytea, "
             "note text)"));
  ok(db.prepare("put", "INSERT INTO t VALUES ($1, $2, $3, $4)"));
  ok(db.prepare("get", "SELECT id, name, raw, note FROM t WHERE id = $1"));
  auto big = std::numeric_limits<int64_t>::max();
  std::string raw{"\0\x01\xff\\x00'", 7};
  pg_rows done;
  ok(db.run("put",
            pg_params{}.int64(big).text("Zoë 'o' \"quoted\"").bytes(raw).null(),
            done));
  CHECK(done.changed() == 1);
  ok(db.run("put", pg_params{}.int64(-1).text("").bytes("").text("n"), done));
  pg_rows rows;
  ok(db.run("get", pg_params{}.int64(big), rows));
  REQUIRE(rows.count() == 1);
  CHECK(rows.int64(0, 0) == big);
  CHECK(rows.text(0, 1) == "Zoë 'o' \"quoted\"");
  CHECK(rows.bytes(0, 2) == raw);
  CHECK(rows.is_null(0, 3));
  ok(db.run("get", pg_params{}.int64(-1), rows));
  REQUIRE(rows.count() == 1);
  CHECK(rows.text(0, 1).empty());
  CHECK_FALSE(rows.is_null(0, 2)); // an empty bytea is not NULL
  CHECK(rows.bytes(0, 2).empty());
  ok(db.run("get", pg_params{}.int64(7), rows));
  CHECK(rows.count() == 0);
}

TEST_CASE("a PostgreSQL failure says what kind it is", "[postgres]") {
  postgres_server server;
  auto db = connect(server);
  ok(db.exec("CREATE TABLE u (email text PRIMARY KEY)"));
  ok(db.prepare("add", "INSERT INTO u VALUES ($1)"));
  pg_rows rows;
  ok(db.run("add", pg_params{}.text("ann@example.org"), rows));
  auto twice = db.run("add", pg_params{}.text("ann@example.org"), rows);
  CHECK(twice.unique_violation());
  CHECK_FALSE(twice.retry());
  CHECK_FALSE(twice.connection_lost());
  auto bad = db.exec("SELEC 1");
  CHECK(bad.sqlstate == "42601");
  CHECK_FALSE(bad.connection_lost());
  CHECK_FALSE(db.run("no such statement", pg_params{}, rows).ok());
}

TEST_CASE("a transaction not committed leaves nothing", "[postgres]") {
  postgres_server server;
  auto db = connect(server);
  ok(db.exec("CREATE TABLE v (n bigint)"));
  ok(db.prepare("add", "INSERT INTO v VALUES ($1)"));
  pg_rows rows;
  {
    pg_transaction tx{db};
    ok(tx.begun());
    ok(db.run("add", pg_params{}.int64(1), rows));
  }
  CHECK(count_rows(db, "v") == 0);
  {
    pg_transaction tx{db, "SERIALIZABLE"};
    ok(db.run("add", pg_params{}.int64(2), rows));
    ok(tx.commit());
    CHECK_FALSE(tx.commit().ok()); // once
  }
  CHECK(count_rows(db, "v") == 1);
}

TEST_CASE("of two serializable transactions that conflict, one is told to "
          "run again",
          "[postgres]") {
  postgres_server server;
  auto a = connect(server);
  auto b = connect(server);
  ok(a.exec("CREATE TABLE duty (doctor text, on_call boolean)"));
  ok(a.exec("INSERT INTO duty VALUES ('ann', true), ('bob', true)"));
  for (auto* db : {&a, &b}) {
    ok(db->prepare("count", "SELECT count(*) FROM duty WHERE on_call"));
    ok(db->prepare("off", "UPDATE duty SET on_call = false WHERE doctor = $1"));
  }
  // Write skew: each sees two on call and takes one off.
  pg_transaction ta{a, "SERIALIZABLE"};
  pg_transaction tb{b, "SERIALIZABLE"};
  pg_rows rows;
  ok(a.run("count", pg_params{}, rows));
  CHECK(rows.int64(0, 0) == 2);
  ok(b.run("count", pg_params{}, rows));
  ok(a.run("off", pg_params{}.text("ann"), rows));
  ok(b.run("off", pg_params{}.text("bob"), rows));
  ok(ta.commit());
  auto second = tb.commit();
  CHECK(second.retry());
  CHECK_FALSE(second.connection_lost());
}

TEST_CASE("a PostgreSQL server that is gone is a lost connection",
          "[postgres]") {
  auto server = std::make_unique<postgres_server>();
  auto uri = server->uri();
  auto db = connect(*server);
  ok(db.prepare("one", "SELECT 1"));
  server.reset(); // stopped at once, as a crash would
  pg_rows rows;
  auto lost = db.run("one", pg_params{}, rows);
  CHECK(lost.connection_lost());
  CHECK_FALSE(lost.retry());
  pg_db again;
  auto refused = again.open(uri + "?connect_timeout=2");
  CHECK(refused.connection_lost());
  CHECK_FALSE(again.connected());
}
