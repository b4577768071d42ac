// user_store::import_users against real SQLite: one transaction per batch,
// new users added, existing ones skipped or updated, and nothing of a batch
// stored when any of it fails.
#include <catch2/catch.hpp>

#include <string>

#include <sqlite3.h>

#include "core/error_code.hpp"
#include "storage/user_store.hpp"
#include "support/databases.hpp"
#include "support/db_peek.hpp"
#include "support/passlib_hashes.hpp"
#include "support/temp_dir.hpp"

using namespace authnode;
using namespace authnode::test;

namespace {

const std::string bcrypt_hash = passlib_hashes[3].hash;
const std::string sha512_hash = passlib_hashes[6].hash;

new_user row(const std::string& email, const std::string& hash = bcrypt_hash,
             const std::string& name = "Imported") {
  return new_user{email, name, hash, 1700000000};
}

import_outcome import_ok(user_store& store, import_batch batch) {
  auto done = store.import_users(batch);
  if (!done)
    FAIL("import failed: " << to_wire(done.error()).message);
  return *done;
}

user_record stored(user_store& store, const std::string& email) {
  auto found = store.user_by_email(email);
  REQUIRE(found);
  return *found;
}

} // namespace

TEST_CASE("an import adds new users with their hashes and creation times",
          "[user_store][import]") {
  auto store = open_store(authnode::test::each_database());
  auto done = import_ok(
    *store,
    {false, {row("a@example.org"), row("b@example.org", sha512_hash, "Bea")}});
  CHECK(done.counts.imported == 2);
  CHECK(done.counts.updated == 0);
  CHECK(done.counts.skipped == 0);
  CHECK(done.replaced.empty());
  auto b = stored(*store, "b@example.org");
  CHECK(b.password_hash == sha512_hash);
  CHECK(b.user.name == "Bea");
  CHECK(b.user.created_at == 1700000000);
  CHECK(b.user.last_login_at == 0);
  auto detail = store->user_detail_of("b@example.org", 0);
  REQUIRE(detail);
  CHECK(detail->hash_scheme == "sha512_crypt");
  CHECK(store->user_detail_of("a@example.org", 0)->hash_scheme == "bcrypt");
}

TEST_CASE("without update an existing user is skipped and left alone",
          "[user_store][import]") {
  auto store = open_store(authnode::test::each_database());
  import_ok(*store, {false, {row("a@example.org")}});
  auto id = stored(*store, "a@example.org").user.id;
  log_in(*store, id, "digest-1");
  auto done = import_ok(
    *store,
    {false,
     {row("a@example.org", sha512_hash, "Other"), row("c@example.org")}});
  CHECK(done.counts.imported == 1);
  CHECK(done.counts.skipped == 1);
  CHECK(done.counts.updated == 0);
  auto a = stored(*store, "a@example.org");
  CHECK(a.password_hash == bcrypt_hash);
  CHECK(a.user.name == "Imported");
  CHECK(store->session_owner_of("digest-1", 3000));
}

TEST_CASE("with update a new hash replaces the old and revokes every session",
          "[user_store][import]") {
  auto store = open_store(authnode::test::each_database());
  import_ok(*store, {false, {row("a@example.org")}});
  auto a = stored(*store, "a@example.org");
  log_in(*store, a.user.id, "digest-1", far_future, "device-1");
  log_in(*store, a.user.id, "digest-2");
  auto done = import_ok(
    *store, {true, {row("a@example.org", sha512_hash, " New name ")}});
  CHECK(done.counts.imported == 0);
  CHECK(done.counts.updated == 1);
  CHECK(done.counts.skipped == 0);
  REQUIRE(done.replaced.size() == 1);
  CHECK(done.replaced[0].id == a.user.id);
  CHECK(done.replaced[0].email == "a@example.org");
  auto after = stored(*store, "a@example.org");
  CHECK(after.password_hash == sha512_hash);
  CHECK(after.user.name == " New name "); // trimmed by the admin actor
  CHECK(after.user.id == a.user.id);
  CHECK(after.user.created_at == a.user.created_at);
  CHECK_FALSE(store->session_owner_of("digest-1", 3000));
  CHECK_FALSE(store->session_owner_of("digest-2", 3000));
  // Device tokens stay, as after user_set_password: they only let a known
  // device skip the throttle, and the password is still needed.
  CHECK(store->device_of("device-1"));
}

TEST_CASE("with update an unchanged user is skipped and a new name alone "
          "keeps the sessions",
          "[user_store][import]") {
  auto store = open_store(authnode::test::each_database());
  import_ok(*store, {false, {row("a@example.org"), row("b@example.org")}});
  log_in(*store, stored(*store, "a@example.org").user.id, "digest-a");
  log_in(*store, stored(*store, "b@example.org").user.id, "digest-b");
  auto done = import_ok(
    *store,
    {true,
     {row("a@example.org"), row("b@example.org", bcrypt_hash, "Renamed")}});
  CHECK(done.counts.skipped == 1);
  CHECK(done.counts.updated == 1);
  CHECK(done.replaced.empty());
  CHECK(stored(*store, "b@example.org").user.name == "Renamed");
  CHECK(store->session_owner_of("digest-a", 3000));
  CHECK(store->session_owner_of("digest-b", 3000));
}

TEST_CASE("an email twice in one batch is stored once",
          "[user_store][import]") {
  // The admin actor rejects such rows as duplicate before they get here;
  // the store still never stores two.
  auto store = open_store(authnode::test::each_database());
  auto done = import_ok(
    *store, {false, {row("a@example.org"), row("a@example.org", sha512_hash)}});
  CHECK(done.counts.imported == 1);
  CHECK(done.counts.skipped == 1);
  CHECK(stored(*store, "a@example.org").password_hash == bcrypt_hash);
}

TEST_CASE("a batch that fails part way stores nothing of itself",
          "[user_store][import]") {
  temp_dir dir;
  auto db_path = dir.path() + "/auth.db";
  auto store = open_store(db_path);
  import_ok(*store, {false, {row("first@example.org")}});
  {
    // Another connection makes the 4th row of the next batch fail, as a
    // full disk or a constraint would, after three rows went in.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(db_path.c_str(), &db) == SQLITE_OK);
    char* err = nullptr;
    auto rc = sqlite3_exec(db,
                           "CREATE TRIGGER boom BEFORE INSERT ON users"
                           " WHEN NEW.email = 'boom@example.org'"
                           " BEGIN SELECT RAISE(ABORT, 'boom'); END",
                           nullptr, nullptr, &err);
    INFO((err ? err : ""));
    sqlite3_free(err);
    sqlite3_close(db);
    REQUIRE(rc == SQLITE_OK);
  }
  // SQLite prepares the store's statements again for the new schema.
  log_in(*store, stored(*store, "first@example.org").user.id, "digest-1");
  import_batch batch{true,
                     {row("x1@example.org"), row("x2@example.org"),
                      row("first@example.org", sha512_hash),
                      row("boom@example.org"), row("x3@example.org")}};
  auto done = store->import_users(batch);
  REQUIRE_FALSE(done);
  CHECK(to_wire(done.error()).code == ec::internal);
  CHECK(user_count(db_path) == 1);
  CHECK_FALSE(store->user_by_email("x1@example.org"));
  // The update of the existing user and its revoked session rolled back too.
  CHECK(stored(*store, "first@example.org").password_hash == bcrypt_hash);
  CHECK(store->session_owner_of("digest-1", 3000));
  // The store goes on working: the same batch without the bad row.
  batch.users.erase(batch.users.begin() + 3);
  auto again = import_ok(*store, batch);
  CHECK(again.counts.imported == 3);
  CHECK(again.counts.updated == 1);
  CHECK(user_count(db_path) == 4);
}
