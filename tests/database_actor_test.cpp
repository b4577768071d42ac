// The database actor in a real actor system: requests in, store results out.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <sqlite3.h>

#include "actors/interfaces.hpp"
#include "core/clock.hpp"
#include "core/error_code.hpp"
#include "storage/database.hpp"
#include "storage/sqlite.hpp"
#include "support/database_actor.hpp"
#include "support/databases.hpp"
#include "support/db_peek.hpp"
#include "support/temp_dir.hpp"

using namespace authnode;
using namespace std::chrono_literals;
using authnode::test::alice;
using authnode::test::ask;
using authnode::test::login_of;
using authnode::test::running_database;
using authnode::test::session_count;
using authnode::test::system_fixture;
using authnode::test::temp_dir;

namespace {

database_actor spawn_or_fail(caf::actor_system& sys, const std::string& path,
                             caf::timespan purge_interval,
                             int backup_step_pages
                             = default_backup_step_pages) {
  return authnode::test::spawn_or_fail(sys, path,
                                       {purge_interval, backup_step_pages});
}

} // namespace

TEST_CASE("the database actor answers with the store's results", "[database]") {
  system_fixture fx;
  caf::scoped_actor self{*fx.sys};
  running_database db{
    self, spawn_or_fail(*fx.sys, authnode::test::each_database(), 0s)};

  auto added = ask<user_view>(self, db.hdl, user_add_atom::value, alice());
  REQUIRE(added);
  CHECK(added->id > 0);
  CHECK(added->email == "alice@example.org");

  auto dup = ask<user_view>(self, db.hdl, user_add_atom::value, alice());
  REQUIRE(!dup);
  CHECK(dup.error() == caf::make_error(ec::email_taken));
  CHECK(dup.error().category() == caf::atom("authnode"));
  CHECK(dup.error().code() == static_cast<uint8_t>(ec::email_taken));

  auto found = ask<user_record>(self, db.hdl, user_get_atom::value,
                                std::string{"alice@example.org"});
  REQUIRE(found);
  CHECK(found->user.id == added->id);
  CHECK(found->password_hash == "$argon2id$v=19$m=1$old");

  auto missing = ask<user_record>(self, db.hdl, user_get_atom::value,
                                  std::string{"bob@example.org"});
  REQUIRE(!missing);
  CHECK(missing.error() == caf::make_error(ec::not_found));
}

TEST_CASE("sessions travel through the database actor", "[database]") {
  system_fixture fx;
  caf::scoped_actor self{*fx.sys};
  running_database db{
    self, spawn_or_fail(*fx.sys, authnode::test::each_database(), 0s)};
  auto user = ask<user_view>(self, db.hdl, user_add_atom::value, alice());
  REQUIRE(user);
  auto now = now_seconds();
  std::string keep("\x00keep", 5);
  std::string drop("\x00drop", 5);

  for (auto& digest : {keep, drop})
    REQUIRE(ask<caf::ok_atom>(self, db.hdl, login_commit_atom::value,
                              login_of(user->id, digest, now, now + 60)));
  auto owner = ask<session_owner>(self, db.hdl, session_get_atom::value, keep,
                                  now);
  REQUIRE(owner);
  CHECK(owner->owner.user.id == user->id);
  CHECK(owner->owner.user.last_login_at == now);

  auto expired = ask<session_owner>(self, db.hdl, session_get_atom::value, keep,
                                    now + 60);
  REQUIRE(!expired);
  CHECK(expired.error() == caf::make_error(ec::not_found));

  password_change change{user->id, "$argon2id$new", keep};
  REQUIRE(ask<caf::ok_atom>(self, db.hdl, password_set_atom::value, change));
  CHECK(!ask<session_owner>(self, db.hdl, session_get_atom::value, drop, now));

  REQUIRE(ask<caf::ok_atom>(self, db.hdl, session_del_atom::value, keep, now));
  auto gone = ask<caf::ok_atom>(self, db.hdl, session_del_atom::value, keep,
                                now);
  REQUIRE(!gone);
  CHECK(gone.error() == caf::make_error(ec::not_found));

  auto unknown = ask<caf::ok_atom>(self, db.hdl, login_commit_atom::value,
                                   login_of(4711, drop, now, now + 60));
  REQUIRE(!unknown);
  CHECK(unknown.error() == caf::make_error(ec::not_found));
}

TEST_CASE("a bad database path fails before anything is spawned",
          "[database]") {
  system_fixture fx;
  temp_dir dir;
  std::string error;
  auto db = spawn_database(*fx.sys, dir.file("missing/users.db"), {0s}, error);
  REQUIRE(!db);
  CHECK(db.error() == caf::make_error(ec::unavailable));
  CHECK_THAT(error, Catch::Contains("missing/users.db"));
  CHECK(fx.sys->registry().running() == 0);
}

TEST_CASE("the database actor purges expired sessions on its timer",
          "[database]") {
  system_fixture fx;
  temp_dir dir;
  auto path = dir.file("users.db");
  caf::scoped_actor self{*fx.sys};
  running_database db{self, spawn_or_fail(*fx.sys, path, 20ms)};
  auto user = ask<user_view>(self, db.hdl, user_add_atom::value, alice());
  REQUIRE(user);
  auto now = now_seconds();
  REQUIRE(ask<caf::ok_atom>(self, db.hdl, login_commit_atom::value,
                            login_of(user->id, "old", now - 20, now - 10)));
  REQUIRE(ask<caf::ok_atom>(self, db.hdl, login_commit_atom::value,
                            login_of(user->id, "live", now, now + 3600)));
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (session_count(path) != 1
         && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  CHECK(session_count(path) == 1);
  // Several ticks later the timer still runs: a new expired session goes too.
  REQUIRE(ask<caf::ok_atom>(self, db.hdl, login_commit_atom::value,
                            login_of(user->id, "old2", now - 20, now - 10)));
  deadline = std::chrono::steady_clock::now() + 5s;
  while (session_count(path) != 1
         && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  CHECK(session_count(path) == 1);
}

TEST_CASE("a purge can be requested by message", "[database]") {
  system_fixture fx;
  temp_dir dir;
  auto path = dir.file("users.db");
  caf::scoped_actor self{*fx.sys};
  // No timer: only the message below can purge.
  running_database db{self, spawn_or_fail(*fx.sys, path, 0s)};
  auto user = ask<user_view>(self, db.hdl, user_add_atom::value, alice());
  REQUIRE(user);
  auto now = now_seconds();
  REQUIRE(ask<caf::ok_atom>(self, db.hdl, login_commit_atom::value,
                            login_of(user->id, "old", now - 20, now - 10)));
  std::this_thread::sleep_for(50ms);
  CHECK(session_count(path) == 1);
  self->send(db.hdl, purge_atom::value);
  // Messages from one sender arrive in order: once this is answered, the
  // purge has run.
  REQUIRE(ask<user_record>(self, db.hdl, user_get_atom::value,
                           std::string{"alice@example.org"}));
  CHECK(session_count(path) == 0);
}

namespace {

/// A file database of many users, backed up one page per step by the
/// database actor: hundreds of steps.
struct backup_fixture {
  system_fixture fx;
  temp_dir dir;
  caf::scoped_actor self{*fx.sys};
  std::string path = dir.file("users.db");
  std::string target = dir.file("copy.db");
  running_database db{self, make_db()};
  /// Held by stall(): a write lock of another connection.
  sqlite_db lock;

  database_actor make_db() {
    test::add_bulk_users(path, 10000);
    return spawn_or_fail(*fx.sys, path, 0s, 1);
  }

  /// Keeps the database actor in a write that waits for another
  /// connection's lock until resume(): what a test sends meanwhile is all in
  /// the actor's mailbox, in order, before it goes on, however the threads
  /// are scheduled.
  void stall() {
    REQUIRE(lock.open(path, SQLITE_OPEN_READWRITE).ok());
    REQUIRE(lock.exec("BEGIN IMMEDIATE").ok());
    self->send(db.hdl, user_add_atom::value,
               new_user{"stall@example.org", "Stall", "$argon2id$stall", 1});
  }

  void resume() {
    REQUIRE(lock.exec("COMMIT").ok());
    REQUIRE(next_reply() == "add");
  }

  /// What the next reply in the mailbox is: "add", "backup", "lookup", or
  /// the error's wire code.
  std::string next_reply() {
    std::string what = "timeout";
    self->receive(
      [&](user_view&) {
        what = "add";
      },
      [&](backup_result&) {
        what = "backup";
      },
      [&](user_record&) {
        what = "lookup";
      },
      [&](caf::error& err) {
        what = std::string{wire_name(to_wire(err).code)};
      },
      caf::after(std::chrono::seconds(20)) >> [] {});
    return what;
  }

  bool partial_left() const {
    return std::filesystem::exists(target + ".partial");
  }
};

} // namespace

TEST_CASE("the database actor serves requests between backup steps",
          "[database][backup]") {
  backup_fixture bk;
  bk.stall();
  bk.self->send(bk.db.hdl, backup_atom::value, bk.target);
  bk.self->send(bk.db.hdl, user_get_atom::value,
                std::string{"bulk7@example.org"});
  bk.resume();
  // The lookup waits behind the backup's first step only.
  CHECK(bk.next_reply() == "lookup");
  CHECK(bk.next_reply() == "backup");
  CHECK(std::filesystem::exists(bk.target));
  CHECK_FALSE(bk.partial_left());
}

TEST_CASE("a second backup while one runs is busy", "[database][backup]") {
  backup_fixture bk;
  auto other = bk.dir.file("other.db");
  bk.stall();
  bk.self->send(bk.db.hdl, backup_atom::value, bk.target);
  bk.self->send(bk.db.hdl, backup_atom::value, other);
  bk.resume();
  CHECK(bk.next_reply() == "busy");
  CHECK(bk.next_reply() == "backup");
  CHECK_FALSE(std::filesystem::exists(other));
  CHECK_FALSE(std::filesystem::exists(other + ".partial"));
  // Once it is done, the next one may start.
  CHECK(ask<backup_result>(bk.self, bk.db.hdl, backup_atom::value, other));
}

TEST_CASE("a backup abandoned at shutdown is answered and leaves no partial "
          "file",
          "[database][backup]") {
  backup_fixture bk;
  bk.stall();
  bk.self->send(bk.db.hdl, backup_atom::value, bk.target);
  SECTION("told by the node") {
    bk.self->send(bk.db.hdl, backup_abort_atom::value);
    bk.resume();
    CHECK(bk.next_reply() == "backup_failed");
    CHECK_FALSE(bk.partial_left());
    // The database goes on, and takes the next backup.
    CHECK(
      ask<backup_result>(bk.self, bk.db.hdl, backup_atom::value, bk.target));
  }
  SECTION("stopped") {
    // An exit message queues like any other (CAF 0.17: normal priority).
    bk.self->send_exit(bk.db.hdl, caf::exit_reason::user_shutdown);
    bk.resume();
    CHECK(bk.next_reply() == "backup_failed");
    CHECK_FALSE(bk.partial_left());
  }
}
