// The guard's failures in the database (storage/throttle_store), on both
// backends: counted per key within the window, started again after it,
// kept by digest only, and shared by two connections (two nodes) that
// count at once.
#include <catch2/catch.hpp>

#include <string>
#include <thread>

#include "actors/throttle.hpp"
#include "storage/postgres_sql.hpp"
#include "storage/throttle_store.hpp"
#include "support/databases.hpp"

using namespace authnode;
using authnode::test::open_store;
using authnode::test::query;

namespace {

constexpr int64_t window = 15 * 60 * 1000;

throttle_store prepared(sql_db& db) {
  throttle_store t;
  std::string error;
  auto ready = t.prepare(db, error);
  INFO(error);
  REQUIRE(ready);
  return t;
}

} // namespace

TEST_CASE("failures of a key are counted in the window and start again "
          "after it",
          "[throttle][store]") {
  auto store = open_store(authnode::test::each_database());
  auto t = prepared(store->connection());
  auto key = throttle_key_digest(true, "ann@example.org");

  CHECK(t.get(key, 1000, window)->failures == 0);
  CHECK(t.add_failure(key, 1000, window)->failures == 1);
  CHECK(t.add_failure(key, 2000, window)->failures == 2);
  auto third = t.add_failure(key, 3000, window);
  REQUIRE(third);
  CHECK(third->failures == 3);
  CHECK(third->last_failure_ms == 3000);
  CHECK(t.get(key, 4000, window)->failures == 3);
  // Another key, and the same text as the other kind of key, are apart.
  CHECK(
    t.get(throttle_key_digest(false, "ann@example.org"), 4000, window)->failures
    == 0);

  // A node whose clock is behind counts, without moving the last back.
  auto behind = t.add_failure(key, 2500, window);
  CHECK(behind->failures == 4);
  CHECK(behind->last_failure_ms == 3000);

  // Out of the window: forgotten when read, counted from 1 when added.
  CHECK(t.get(key, 3000 + window, window)->failures == 0);
  CHECK(t.add_failure(key, 3000 + window, window)->failures == 1);
}

TEST_CASE("a key's failures are forgotten on clear and purged when old",
          "[throttle][store]") {
  auto store = open_store(authnode::test::each_database());
  auto t = prepared(store->connection());
  auto ann = throttle_key_digest(true, "ann@example.org");
  auto source = throttle_key_digest(false, "192.0.2.7");
  REQUIRE(t.add_failure(ann, 1000, window));
  REQUIRE(t.add_failure(source, 5000, window));

  CHECK(*t.clear(ann) == true);
  CHECK(*t.clear(ann) == false);
  CHECK(t.get(ann, 6000, window)->failures == 0);
  CHECK(*t.purge(5000) == 0);
  CHECK(*t.purge(5001) == 1);
  CHECK(query(store->connection(), "SELECT count(*) FROM throttle_failures")
        == "0");
}

TEST_CASE("keys are stored by digest, never as the address or email",
          "[throttle][store]") {
  auto store = open_store(authnode::test::each_database());
  auto t = prepared(store->connection());
  REQUIRE(
    t.add_failure(throttle_key_digest(true, "ann@example.org"), 1000, window));
  CHECK(query(store->connection(),
              "SELECT count(*) FROM throttle_failures WHERE length(key_hash) "
              "= 32")
        == "1");
  CHECK(throttle_key_digest(true, "ann@example.org").find("ann")
        == std::string::npos);
}

TEST_CASE("two nodes counting one key at once lose no failure",
          "[throttle][store][postgres]") {
  auto uri = authnode::test::postgres_database();
  open_store(uri); // migrated
  auto key = throttle_key_digest(false, "192.0.2.7");
  constexpr int each = 50;
  // Each connection adds its failures and runs one again that met the
  // other's (a serialization failure, as the database actor would).
  auto count = [&](int& added) {
    postgres_db db;
    if (!db.open(uri).ok())
      return;
    throttle_store t;
    std::string error;
    if (!t.prepare(db, error))
      return;
    for (int tries = 0; added < each && tries < 20 * each; ++tries)
      if (t.add_failure(key, 1000 + tries, window))
        ++added;
  };
  int a = 0, b = 0;
  std::thread other{[&] {
    count(b);
  }};
  count(a);
  other.join();
  REQUIRE(a == each);
  REQUIRE(b == each);
  postgres_db db;
  REQUIRE(db.open(uri).ok());
  auto t = prepared(db);
  CHECK(t.get(key, 2000, window)->failures == 2 * each);
}
