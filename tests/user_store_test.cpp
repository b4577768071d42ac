// user_store against real SQLite, in memory and on disk.
#include <catch2/catch.hpp>

#include <fstream>
#include <string>

#include <sqlite3.h>

#include "core/error_code.hpp"
#include "storage/schema.hpp"
#include "storage/sqlite.hpp"
#include "storage/user_store.hpp"
#include "support/databases.hpp"
#include "support/db_peek.hpp"
#include "support/temp_dir.hpp"

using namespace authnode;
using authnode::test::alice;
using authnode::test::file_mode;
using authnode::test::login_of;
using authnode::test::open_store;
using authnode::test::session_count;
using authnode::test::temp_dir;

namespace Catch {

template <>
struct StringMaker<authnode::ec> {
  static std::string convert(authnode::ec x) {
    return "ec(" + std::to_string(static_cast<int>(x)) + ")";
  }
};

} // namespace Catch

namespace {

ec code_of(const caf::error& err) {
  REQUIRE(err.category() == caf::atom("authnode"));
  return static_cast<ec>(err.code());
}

user_view add_or_fail(user_store& store, const new_user& x) {
  auto added = store.add_user(x);
  REQUIRE(added);
  return *added;
}

// A digest is raw bytes: make sure NUL and high bytes survive the BLOB.
const std::string digest_a = std::string("\0\x01\xff", 3) + "a-digest";
const std::string digest_b = std::string("\0\x02\xfe", 3) + "b-digest";
const std::string digest_c = std::string("\0\x03\xfd", 3) + "c-digest";

} // namespace

TEST_CASE("a new user can be read back by email", "[user_store]") {
  auto store = open_store(authnode::test::each_database());
  auto added = add_or_fail(*store, alice());
  CHECK(added.id > 0);
  CHECK(added.email == "alice@example.org");
  CHECK(added.name == "Alice");
  CHECK(added.created_at == 1000);
  CHECK(added.last_login_at == 0);
  auto found = store->user_by_email("alice@example.org");
  REQUIRE(found);
  CHECK(found->user.id == added.id);
  CHECK(found->user.name == "Alice");
  CHECK(found->user.created_at == 1000);
  CHECK(found->user.last_login_at == 0);
  CHECK(found->password_hash == "$argon2id$v=19$m=1$old");
}

TEST_CASE("an unknown email is not_found", "[user_store]") {
  auto store = open_store(authnode::test::each_database());
  auto found = store->user_by_email("nobody@example.org");
  REQUIRE(!found);
  CHECK(code_of(found.error()) == ec::not_found);
}

TEST_CASE("a second user with the same email is email_taken", "[user_store]") {
  auto store = open_store(authnode::test::each_database());
  add_or_fail(*store, alice());
  auto again = alice();
  again.name = "Mallory";
  auto dup = store->add_user(again);
  REQUIRE(!dup);
  CHECK(code_of(dup.error()) == ec::email_taken);
  auto found = store->user_by_email("alice@example.org");
  REQUIRE(found);
  CHECK(found->user.name == "Alice");
}

TEST_CASE("values are bound, never spliced into SQL", "[user_store]") {
  auto store = open_store(authnode::test::each_database());
  auto x = alice();
  x.email = "x'); DROP TABLE users; --@example.org";
  x.name = "Robert'); --";
  add_or_fail(*store, x);
  auto found = store->user_by_email(x.email);
  REQUIRE(found);
  CHECK(found->user.name == x.name);
  CHECK(store->user_by_email("alice@example.org").error()
        == caf::make_error(ec::not_found));
}

TEST_CASE("a login records its time and opens a session", "[user_store]") {
  auto store = open_store(authnode::test::each_database());
  auto user = add_or_fail(*store, alice());
  auto done = store->commit_login(login_of(user.id, digest_a, 2000, 5000));
  REQUIRE(done);
  auto found = store->user_by_email("alice@example.org");
  REQUIRE(found);
  CHECK(found->user.last_login_at == 2000);
  // Without a rehash the stored hash stays.
  CHECK(found->password_hash == "$argon2id$v=19$m=1$old");
  auto owner = store->session_owner_of(digest_a, 2001);
  REQUIRE(owner);
  CHECK(owner->session_id > 0);
  CHECK(owner->owner.user.id == user.id);
  CHECK(owner->owner.user.email == "alice@example.org");
  CHECK(owner->owner.user.last_login_at == 2000);
  CHECK(owner->owner.password_hash == "$argon2id$v=19$m=1$old");
}

TEST_CASE("a rehash replaces the stored hash only if it is still the old one",
          "[user_store]") {
  auto store = open_store(authnode::test::each_database());
  auto user = add_or_fail(*store, alice());
  auto stored = [&] {
    auto found = store->user_by_email("alice@example.org");
    REQUIRE(found);
    return found->password_hash;
  };
  password_rehash stale{user.id, "$2b$04$not-the-stored-one",
                        "$argon2id$v=19$m=65536$stale"};
  auto done = store->rehash_password(stale);
  REQUIRE(done);
  CHECK_FALSE(*done);
  CHECK(stored() == "$argon2id$v=19$m=1$old");
  password_rehash fresh{user.id, "$argon2id$v=19$m=1$old",
                        "$argon2id$v=19$m=65536$new"};
  done = store->rehash_password(fresh);
  REQUIRE(done);
  CHECK(*done);
  CHECK(stored() == "$argon2id$v=19$m=65536$new");
  // The same rehash again finds the old hash gone.
  done = store->rehash_password(fresh);
  REQUIRE(done);
  CHECK_FALSE(*done);
  CHECK_FALSE(
    *store->rehash_password({user.id + 1, "$argon2id$v=19$m=65536$new", "x"}));
}

TEST_CASE("a session's created_at defaults to the login time", "[user_store]") {
  auto store = open_store(authnode::test::each_database());
  auto user = add_or_fail(*store, alice());
  auto c = login_of(user.id, digest_a, 2000, 5000);
  c.session.created_at = 0;
  c.session.user_id = 0;
  REQUIRE(store->commit_login(c));
  CHECK(store->session_owner_of(digest_a, 2001));
}

TEST_CASE("a login for an unknown user changes nothing", "[user_store]") {
  auto store = open_store(authnode::test::each_database());
  auto done = store->commit_login(login_of(4711, digest_a, 2000, 5000));
  REQUIRE(!done);
  CHECK(code_of(done.error()) == ec::not_found);
  CHECK(!store->session_owner_of(digest_a, 2001));
}

TEST_CASE("a login whose session belongs to someone else is refused",
          "[user_store]") {
  auto store = open_store(authnode::test::each_database());
  auto user = add_or_fail(*store, alice());
  auto c = login_of(user.id, digest_a, 2000, 5000);
  c.session.user_id = user.id + 1;
  auto done = store->commit_login(c);
  REQUIRE(!done);
  CHECK(code_of(done.error()) == ec::internal);
  CHECK(!store->session_owner_of(digest_a, 2001));
}

TEST_CASE("a failed login commit rolls back all of its writes",
          "[user_store]") {
  auto store = open_store(authnode::test::each_database());
  auto user = add_or_fail(*store, alice());
  REQUIRE(store->commit_login(login_of(user.id, digest_a, 2000, 5000)));
  // The same digest again violates UNIQUE after last_login_at was updated
  // in the same transaction.
  auto c = login_of(user.id, digest_a, 3000, 6000);
  auto done = store->commit_login(c);
  REQUIRE(!done);
  CHECK(code_of(done.error()) == ec::internal);
  // The context names what went wrong, for the operator's log.
  REQUIRE(done.error().context().match_elements<std::string>());
  CHECK_THAT(done.error().context().get_as<std::string>(0),
             Catch::Contains("cannot insert session"));
  auto found = store->user_by_email("alice@example.org");
  REQUIRE(found);
  CHECK(found->user.last_login_at == 2000);
  CHECK(found->password_hash == "$argon2id$v=19$m=1$old");
  // The store is still usable after the rollback.
  REQUIRE(store->commit_login(login_of(user.id, digest_b, 3000, 6000)));
}

TEST_CASE("a session is valid until, not at, its expiry", "[user_store]") {
  auto store = open_store(authnode::test::each_database());
  auto user = add_or_fail(*store, alice());
  REQUIRE(store->commit_login(login_of(user.id, digest_a, 2000, 5000)));
  CHECK(store->session_owner_of(digest_a, 4999));
  auto expired = store->session_owner_of(digest_a, 5000);
  REQUIRE(!expired);
  CHECK(code_of(expired.error()) == ec::not_found);
  CHECK(!store->session_owner_of(digest_a, 9999));
  CHECK(!store->session_owner_of(digest_b, 2001));
}

TEST_CASE("a deleted session is gone", "[user_store]") {
  auto store = open_store(authnode::test::each_database());
  auto user = add_or_fail(*store, alice());
  REQUIRE(store->commit_login(login_of(user.id, digest_a, 2000, 5000)));
  REQUIRE(store->commit_login(login_of(user.id, digest_b, 2000, 5000)));
  REQUIRE(store->delete_session(digest_a, 2001));
  auto lookup = store->session_owner_of(digest_a, 2001);
  REQUIRE(!lookup);
  CHECK(code_of(lookup.error()) == ec::not_found);
  CHECK(store->session_owner_of(digest_b, 2001));
  auto again = store->delete_session(digest_a, 2001);
  REQUIRE(!again);
  CHECK(code_of(again.error()) == ec::not_found);
}

TEST_CASE("a password change revokes every other session of the user",
          "[user_store]") {
  auto store = open_store(authnode::test::each_database());
  auto user = add_or_fail(*store, alice());
  auto bob = alice();
  bob.email = "bob@example.org";
  auto other = add_or_fail(*store, bob);
  REQUIRE(store->commit_login(login_of(user.id, digest_a, 2000, 5000)));
  REQUIRE(store->commit_login(login_of(user.id, digest_b, 2000, 5000)));
  REQUIRE(store->commit_login(login_of(other.id, digest_c, 2000, 5000)));
  password_change change{user.id, "$argon2id$v=19$m=65536$changed", digest_a};
  REQUIRE(store->set_password(change));
  auto found = store->user_by_email("alice@example.org");
  REQUIRE(found);
  CHECK(found->password_hash == "$argon2id$v=19$m=65536$changed");
  CHECK(store->session_owner_of(digest_a, 2001));
  CHECK(!store->session_owner_of(digest_b, 2001));
  // Other users keep their sessions.
  CHECK(store->session_owner_of(digest_c, 2001));
}

TEST_CASE("a password change without a kept token revokes all sessions",
          "[user_store]") {
  auto store = open_store(authnode::test::each_database());
  auto user = add_or_fail(*store, alice());
  REQUIRE(store->commit_login(login_of(user.id, digest_a, 2000, 5000)));
  REQUIRE(store->set_password({user.id, "$argon2id$new", ""}));
  CHECK(!store->session_owner_of(digest_a, 2001));
}

TEST_CASE("a password change for an unknown user is not_found",
          "[user_store]") {
  auto store = open_store(authnode::test::each_database());
  auto done = store->set_password({4711, "$argon2id$new", digest_a});
  REQUIRE(!done);
  CHECK(code_of(done.error()) == ec::not_found);
}

TEST_CASE("purge removes the expired sessions only", "[user_store]") {
  auto store = open_store(authnode::test::each_database());
  auto user = add_or_fail(*store, alice());
  REQUIRE(store->commit_login(login_of(user.id, digest_a, 2000, 3000)));
  REQUIRE(store->commit_login(login_of(user.id, digest_b, 2000, 4000)));
  REQUIRE(store->commit_login(login_of(user.id, digest_c, 2000, 9000)));
  auto purged = store->purge_expired(4000);
  REQUIRE(purged);
  CHECK(*purged == 2);
  auto again = store->purge_expired(4000);
  REQUIRE(again);
  CHECK(*again == 0);
  CHECK(store->session_owner_of(digest_c, 4000));
  // Deleting the purged session reports that it is gone.
  CHECK(!store->delete_session(digest_a, 4000));
}

TEST_CASE("deleting an expired session reports it was not live",
          "[user_store]") {
  auto store = open_store(authnode::test::each_database());
  auto user = add_or_fail(*store, alice());
  REQUIRE(store->commit_login(login_of(user.id, digest_a, 2000, 3000)));
  auto late = store->delete_session(digest_a, 3000);
  REQUIRE(!late);
  CHECK(code_of(late.error()) == ec::not_found);
  // It is removed all the same.
  CHECK(store->purge_expired(9999).value() == 0);
}

TEST_CASE("a file database keeps users and sessions across reopen",
          "[user_store]") {
  temp_dir dir;
  auto path = dir.file("users.db");
  int64_t id = 0;
  {
    auto store = open_store(path);
    id = add_or_fail(*store, alice()).id;
    REQUIRE(store->commit_login(login_of(id, digest_a, 2000, 5000)));
  }
  auto store = open_store(path);
  auto found = store->user_by_email("alice@example.org");
  REQUIRE(found);
  CHECK(found->user.id == id);
  CHECK(found->user.last_login_at == 2000);
  auto owner = store->session_owner_of(digest_a, 2001);
  REQUIRE(owner);
  CHECK(owner->owner.user.id == id);
  CHECK(code_of(store->add_user(alice()).error()) == ec::email_taken);
}

TEST_CASE("a new database file is private to its owner", "[user_store]") {
  temp_dir dir;
  auto path = dir.file("users.db");
  auto store = open_store(path);
  add_or_fail(*store, alice());
  for (auto name : {"users.db", "users.db-wal"}) {
    INFO(name);
    CHECK(file_mode(dir.file(name)) == 0600);
  }
}

TEST_CASE("a file that is not a database fails to open", "[user_store]") {
  temp_dir dir;
  auto path = dir.file("garbage.db");
  // Shorter and longer than the 100-byte header SQLite reads first.
  std::string text = GENERATE(std::string{"this is not a database"},
                              std::string(4096, 'x'));
  {
    std::ofstream out{path};
    out << text;
  }
  std::string error;
  auto store = user_store::open(path, error);
  CHECK(store == nullptr);
  CHECK_THAT(error, Catch::Contains("not an SQLite database"));
  CHECK_THAT(error, Catch::Contains(path));
}

TEST_CASE("a database path in a missing directory fails to open",
          "[user_store]") {
  temp_dir dir;
  std::string error;
  auto store = user_store::open(dir.file("missing/users.db"), error);
  CHECK(store == nullptr);
  CHECK_THAT(error, Catch::Contains("cannot open database file"));
}

TEST_CASE("a database from a newer authnode is refused", "[user_store]") {
  temp_dir dir;
  auto path = dir.file("future.db");
  {
    sqlite_db db;
    REQUIRE(db.open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE).ok());
    REQUIRE(db.exec("PRAGMA user_version = 99").ok());
  }
  std::string error;
  auto store = user_store::open(path, error);
  CHECK(store == nullptr);
  CHECK_THAT(error,
             Catch::Contains("database schema version 99 is newer "
                             "than this authnode supports ("
                             + std::to_string(schema_version()) + ")"));
}

TEST_CASE("migrating a current database changes nothing", "[user_store]") {
  temp_dir dir;
  auto path = dir.file("users.db");
  open_store(path);
  sqlite_db db;
  REQUIRE(db.open(path, SQLITE_OPEN_READWRITE).ok());
  std::string error;
  CHECK(migrate(db, error));
  CHECK(error.empty());
  statement stmt;
  REQUIRE(stmt.prepare(db, "PRAGMA user_version").ok());
  REQUIRE(stmt.step() == step_result::row);
  CHECK(stmt.column_int64(0) == schema_version());
}

TEST_CASE("two connections see each other's commits", "[user_store]") {
  temp_dir dir;
  auto path = dir.file("users.db");
  auto writer = open_store(path);
  auto reader = open_store(path);
  auto user = add_or_fail(*writer, alice());
  REQUIRE(writer->commit_login(login_of(user.id, digest_a, 2000, 3000)));
  CHECK(reader->session_owner_of(digest_a, 2001));
  CHECK(session_count(path) == 1);
  auto purged = reader->purge_expired(3000);
  REQUIRE(purged);
  CHECK(*purged == 1);
  CHECK(session_count(path) == 0);
}
