// The database actor on PostgreSQL, where the server can go away and other
// connections write at the same time: a lost server answers `unavailable`
// and is connected to again, a transaction that met a conflicting write runs
// again, the pool serves while one of its actors waits, backups are
// pg_dump's job, and two connections never take the same mail.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <caf/scoped_actor.hpp>

#include "actors/interfaces.hpp"
#include "core/clock.hpp"
#include "core/error_code.hpp"
#include "storage/database.hpp"
#include "storage/outbox_store.hpp"
#include "storage/postgres_sql.hpp"
#include "support/database_actor.hpp"
#include "support/databases.hpp"

using namespace authnode;
using namespace std::chrono_literals;
using authnode::test::alice;
using authnode::test::ask;
using authnode::test::login_of;
using authnode::test::query;
using authnode::test::running_database;
using authnode::test::system_fixture;

namespace {

database_actor spawn_on(caf::actor_system& sys, const std::string& uri,
                        int pool = 1) {
  database_settings cfg;
  cfg.pool = pool;
  return authnode::test::spawn_or_fail(sys, uri, cfg);
}

/// A connection of the test's own to the database at `uri`.
struct test_connection {
  postgres_db db;

  explicit test_connection(const std::string& uri) {
    auto st = db.open(uri);
    INFO(st.message);
    REQUIRE(st.ok());
  }

  void exec(const char* sql) {
    auto st = db.exec(sql);
    INFO(sql << ": " << st.message);
    REQUIRE(st.ok());
  }

  /// Asks `sql` (a count) until it is no longer `value`: the server's
  /// other sessions get there in their own time. Bounded: 10 s.
  void wait_while(const char* sql, const std::string& value) {
    for (int i = 0; i < 1000; ++i) {
      if (query(db, sql) != value)
        return;
      std::this_thread::sleep_for(10ms);
    }
    FAIL("still " << value << ": " << sql);
  }
};

/// A gate on the users table: while the test holds it, an UPDATE of users
/// in another session waits at its start, after its transaction took its
/// snapshot (a statement trigger asking for an advisory lock the test
/// holds). Whatever the test writes meanwhile conflicts with it.
struct update_gate : test_connection {
  explicit update_gate(const std::string& uri) : test_connection(uri) {
    exec("CREATE FUNCTION wait_at_gate() RETURNS trigger LANGUAGE plpgsql "
         "AS $$ BEGIN PERFORM pg_advisory_xact_lock_shared(42); RETURN NULL; "
         "END $$");
    exec("CREATE TRIGGER gate BEFORE UPDATE ON users FOR EACH STATEMENT "
         "EXECUTE FUNCTION wait_at_gate()");
    exec("SELECT pg_advisory_lock(42)");
  }

  /// Returns once another session waits at the gate.
  void wait_for_waiter() {
    wait_while("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
               "AND NOT granted",
               "0");
  }

  void open() {
    exec("SELECT pg_advisory_unlock(42)");
  }
};

/// The next reply in the mailbox: "ok", "found", or the error's wire code.
std::string next_reply(caf::scoped_actor& self) {
  std::string what = "timeout";
  self->receive(
    [&](caf::ok_atom) {
      what = "ok";
    },
    [&](user_record&) {
      what = "found";
    },
    [&](caf::error& err) {
      what = std::string{wire_name(to_wire(err).code)};
    },
    caf::after(std::chrono::seconds(20)) >> [] {});
  return what;
}

/// Alice's login, sent to a database of `pool` actors on a fresh
/// PostgreSQL database, and waiting at the gate when the constructor
/// returns.
struct login_at_gate {
  system_fixture fx;
  caf::scoped_actor self{*fx.sys};
  std::string uri = authnode::test::postgres_database();
  running_database db;
  std::unique_ptr<update_gate> gate;
  int64_t now = now_seconds();
  int64_t user_id = 0;

  explicit login_at_gate(int pool) : db{self, spawn_on(*fx.sys, uri, pool)} {
    auto user = ask<user_view>(self, db.hdl, user_add_atom::value, alice());
    REQUIRE(user);
    user_id = user->id;
    gate = std::make_unique<update_gate>(uri);
    self->send(db.hdl, login_commit_atom::value,
               login_of(user->id, "digest", now, now + 60));
    gate->wait_for_waiter();
  }
};

} // namespace

TEST_CASE("a lost PostgreSQL server answers unavailable, and the next "
          "request connects again",
          "[database][postgres]") {
  system_fixture fx;
  caf::scoped_actor self{*fx.sys};
  auto uri = authnode::test::postgres_database();
  running_database db{self, spawn_on(*fx.sys, uri)};
  REQUIRE(ask<user_view>(self, db.hdl, user_add_atom::value, alice()));

  test_connection admin{uri};
  admin.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
             "datname = current_database() AND pid <> pg_backend_pid()");
  admin.wait_while("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                   "current_database() AND pid <> pg_backend_pid()",
                   "1");

  std::string email = "alice@example.org";
  auto lost = ask<user_record>(self, db.hdl, user_get_atom::value, email);
  REQUIRE(!lost);
  CHECK(lost.error() == caf::make_error(ec::unavailable));
  auto found = ask<user_record>(self, db.hdl, user_get_atom::value, email);
  REQUIRE(found);
  CHECK(found->user.email == email);
}

TEST_CASE("a login that met a conflicting write runs again and is kept",
          "[database][postgres]") {
  login_at_gate t{1};
  // Written and committed after the login's snapshot: its own UPDATE of
  // the row cannot be serialized after this one.
  t.gate->exec("UPDATE users SET name = 'Alice B.' WHERE email = "
               "'alice@example.org'");
  t.gate->open();

  CHECK(next_reply(t.self) == "ok");
  CHECK(query(t.gate->db, "SELECT count(*) FROM sessions") == "1");
  auto both = "SELECT name || ' ' || (last_login_at = " + std::to_string(t.now)
    + ")::text FROM users";
  CHECK(query(t.gate->db, both.c_str()) == "Alice B. true");
}

TEST_CASE("a request that meets a conflict on every run answers unavailable",
          "[database][postgres]") {
  system_fixture fx;
  caf::scoped_actor self{*fx.sys};
  auto uri = authnode::test::postgres_database();
  running_database db{self, spawn_on(*fx.sys, uri)};
  auto user = ask<user_view>(self, db.hdl, user_add_atom::value, alice());
  REQUIRE(user);
  // Every UPDATE of users fails as a serialization conflict would; a
  // sequence, which no rollback takes back, counts the runs.
  test_connection admin{uri};
  admin.exec("CREATE SEQUENCE runs");
  admin.exec("CREATE FUNCTION conflict() RETURNS trigger LANGUAGE plpgsql AS "
             "$$ BEGIN PERFORM nextval('runs'); RAISE EXCEPTION 'conflict' "
             "USING ERRCODE = 'serialization_failure'; END $$");
  admin.exec("CREATE TRIGGER conflict BEFORE UPDATE ON users FOR EACH "
             "STATEMENT EXECUTE FUNCTION conflict()");

  auto now = now_seconds();
  self->send(db.hdl, login_commit_atom::value,
             login_of(user->id, "digest", now, now + 60));
  CHECK(next_reply(self) == "unavailable");
  CHECK(query(admin.db, "SELECT last_value FROM runs") == "5");
  CHECK(query(admin.db, "SELECT count(*) FROM sessions") == "0");
}

TEST_CASE("the pool serves other requests while one of its actors waits",
          "[database][postgres]") {
  login_at_gate t{2};
  // One actor waits at the gate. Of two lookups, handed out in turn, one
  // goes to the other actor and is answered at once.
  for (int i = 0; i < 2; ++i)
    t.self->send(t.db.hdl, user_get_atom::value,
                 std::string{"alice@example.org"});
  CHECK(next_reply(t.self) == "found");
  t.gate->open();
  std::multiset<std::string> rest{next_reply(t.self), next_reply(t.self)};
  CHECK(rest == std::multiset<std::string>{"found", "ok"});
}

TEST_CASE("a user's logins on a pool take turns on one connection",
          "[database][postgres]") {
  login_at_gate t{4};
  // Seven more of alice's logins while the first waits at the gate: on
  // four connections they would wait there too and then fail on each
  // other's SERIALIZABLE writes of her row.
  for (int i = 1; i < 8; ++i)
    t.self->send(t.db.hdl, login_commit_atom::value,
                 login_of(t.user_id, "digest " + std::to_string(i), t.now,
                          t.now + 60));
  const char* waiting = "SELECT count(*) FROM pg_locks WHERE locktype = "
                        "'advisory' AND NOT granted";
  for (int i = 0; i < 20; ++i) {
    CHECK(query(t.gate->db, waiting) == "1");
    std::this_thread::sleep_for(10ms);
  }
  t.gate->open();
  for (int i = 0; i < 8; ++i)
    CHECK(next_reply(t.self) == "ok");
  CHECK(query(t.gate->db, "SELECT count(*) FROM sessions") == "8");
}

TEST_CASE("a backup on PostgreSQL is refused with the tools to use instead",
          "[database][postgres][backup]") {
  system_fixture fx;
  caf::scoped_actor self{*fx.sys};
  running_database db{self,
                      spawn_on(*fx.sys, authnode::test::postgres_database())};
  auto done = ask<backup_result>(self, db.hdl, backup_atom::value,
                                 std::string{"/tmp/never.db"});
  REQUIRE(!done);
  CHECK(done.error() == caf::make_error(ec::backup_failed));
  REQUIRE(done.error().context().match_elements<std::string>());
  CHECK_THAT(done.error().context().get_as<std::string>(0),
             Catch::Contains("pg_dump"));
}

TEST_CASE("two connections taking mail at once never take the same one",
          "[database][postgres][outbox]") {
  auto uri = authnode::test::postgres_database();
  authnode::test::open_store(uri); // migrated
  constexpr int mails = 60;
  {
    test_connection writer{uri};
    outbox_store outbox;
    std::string error;
    REQUIRE(outbox.prepare(writer.db, error));
    for (int i = 0; i < mails; ++i)
      REQUIRE(outbox.enqueue("sealed " + std::to_string(i), 1000));
  }
  // Two takers, as two nodes would be: each takes two at a time until
  // nothing is due, running a take again that met the other's.
  auto take_all = [&](std::vector<int64_t>& taken, int& conflicts) {
    postgres_db db;
    if (!db.open(uri).ok())
      return;
    outbox_store outbox;
    std::string error;
    if (!outbox.prepare(db, error))
      return;
    for (int round = 0; round < 10 * mails; ++round) {
      auto got = outbox.claim(2000, 2, 999999);
      if (!got) {
        ++conflicts;
        continue;
      }
      if (got->empty())
        return;
      for (auto& row : *got)
        taken.push_back(row.id);
    }
  };
  std::vector<int64_t> a, b;
  int conflicts_a = 0, conflicts_b = 0;
  std::thread other{[&] {
    take_all(b, conflicts_b);
  }};
  take_all(a, conflicts_a);
  other.join();
  UNSCOPED_INFO("conflicts " << conflicts_a << " + " << conflicts_b);
  std::set<int64_t> all(a.begin(), a.end());
  all.insert(b.begin(), b.end());
  CHECK(a.size() + b.size() == mails);
  CHECK(all.size() == mails);
}
