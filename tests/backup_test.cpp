// The online backup at the storage level (storage/backup.hpp): a backup in
// small steps with writes between them, what it leaves behind when it
// fails, and what it refuses. The database actor's side (stepping through
// its mailbox, busy, shutdown) is in database_actor_test.cpp; over TCP in
// e2e_backup_test.cpp.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <sqlite3.h>

#include "core/error_code.hpp"
#include "storage/backup.hpp"
#include "storage/sqlite.hpp"
#include "storage/user_store.hpp"
#include "support/databases.hpp"
#include "support/temp_dir.hpp"

using namespace authnode;
using authnode::test::file_mode;
using authnode::test::open_store;
using authnode::test::query;
namespace fs = std::filesystem;

namespace {

new_user user_number(int n) {
  return {"live" + std::to_string(n) + "@example.org", "Live",
          "$argon2id$v=19$m=8,t=1,p=1$live", 2000};
}

/// Runs `job` to its end, `pages` per step, calling `between` after every
/// step that left more to do. At most `max_steps` steps.
template <class F>
caf::expected<backup_result> run(backup_job& job, int pages, int max_steps,
                                 F between) {
  for (int i = 0; i < max_steps; ++i) {
    auto done = job.step(pages);
    if (!done)
      return std::move(done.error());
    if (*done)
      return job.finish();
    between();
  }
  return caf::make_error(ec::internal, std::string{"too many steps"});
}

/// A database of `users` bulk users, its store, and a target for a backup.
struct source_db {
  explicit source_db(int users) {
    test::add_bulk_users(path, users);
    store = open_store(path);
  }

  test::temp_dir dir;
  std::string path = dir.path() + "/auth.db";
  std::string target = dir.path() + "/copy.db";
  std::unique_ptr<user_store> store;

  std::unique_ptr<backup_job> begin() {
    auto job = store->begin_backup(target);
    REQUIRE(job);
    return std::move(*job);
  }
};

ec code_of(const caf::error& err) {
  return static_cast<ec>(err.code());
}

std::string message_of(const caf::error& err) {
  return to_wire(err).message;
}

} // namespace

TEST_CASE("a stepped backup holds every write made through the store before "
          "it ended",
          "[backup]") {
  source_db db{3000};
  auto& target = db.target;
  auto job = db.begin();
  // Between any two steps the store writes: same connection, so the copy is
  // updated in place instead of starting over.
  int written = 0;
  auto result = run(*job, 2, 10000, [&] {
    REQUIRE(db.store->add_user(user_number(written++)));
  });
  INFO((result ? "" : message_of(result.error())));
  REQUIRE(result);
  REQUIRE(written > 30); // the copy took many steps
  // About one pass over the pages: never restarted.
  CHECK(job->steps() <= result->pages / 2 + 2);
  CHECK(result->path == target);
  CHECK(result->bytes == static_cast<int64_t>(fs::file_size(target)));
  CHECK(result->bytes == result->pages * 4096);
  CHECK_FALSE(fs::exists(target + ".partial"));
  CHECK(file_mode(target) == 0600);

  // One self-contained file: a rollback journal, nothing to replay.
  job.reset();
  sqlite_db copy;
  REQUIRE(copy.open(target, SQLITE_OPEN_READONLY).ok());
  CHECK(query(copy, "PRAGMA journal_mode") == "delete");
  CHECK(query(copy, "PRAGMA integrity_check") == "ok");
  CHECK(query(copy, "SELECT count(*) FROM users")
        == std::to_string(3000 + written));
  CHECK(query(copy,
              "SELECT count(*) FROM users WHERE email = 'live"
              "0@example.org'")
        == "1");
  for (auto suffix : {"-wal", "-shm", "-journal", ".partial"})
    CHECK_FALSE(fs::exists(target + suffix));
  // And the node's own store opens it (as a node started on it would).
  auto restored = open_store(target);
  CHECK(restored->user_by_email("live" + std::to_string(written - 1)
                                + "@example.org"));
}

TEST_CASE("a backup gives up when another connection keeps writing the "
          "source",
          "[backup]") {
  source_db db{300};
  // Another process, as far as SQLite can tell: each of its writes makes
  // the copy start over.
  auto other = open_store(db.path);
  auto job = db.begin();
  int written = 0;
  auto result = run(*job, 1, 100000, [&] {
    REQUIRE(other->add_user(user_number(written++)));
  });
  REQUIRE_FALSE(result);
  CHECK(code_of(result.error()) == ec::backup_failed);
  CHECK_THAT(message_of(result.error()), Catch::Contains("kept changing"));
  job.reset();
  CHECK_FALSE(fs::exists(db.target));
  CHECK_FALSE(fs::exists(db.target + ".partial"));
}

TEST_CASE("an abandoned backup leaves no partial file", "[backup]") {
  source_db db{1000};
  auto job = db.begin();
  auto more = job->step(2);
  REQUIRE(more);
  REQUIRE_FALSE(*more);
  auto partial = job->partial_path();
  CHECK(partial == db.target + ".partial");
  REQUIRE(fs::exists(partial));
  CHECK(file_mode(partial) == 0600);
  job.reset();
  CHECK_FALSE(fs::exists(partial));
  CHECK_FALSE(fs::exists(db.target));
}

TEST_CASE("a backup refuses targets it must not write", "[backup]") {
  test::temp_dir dir;
  auto store = open_store(dir.path() + "/auth.db");
  auto refused = [&](const std::string& path) {
    auto job = store->begin_backup(path);
    REQUIRE_FALSE(job);
    return job.error();
  };

  SECTION("an existing file is never overwritten") {
    auto target = dir.path() + "/there.db";
    std::ofstream{target} << "precious";
    CHECK(code_of(refused(target)) == ec::exists);
    CHECK(code_of(refused(dir.path())) == ec::exists);
    std::ifstream in{target};
    std::string content;
    in >> content;
    CHECK(content == "precious");
    CHECK_FALSE(fs::exists(target + ".partial"));
  }
  SECTION("a relative path") {
    CHECK(code_of(refused("copy.db")) == ec::bad_request);
    CHECK(code_of(refused("")) == ec::bad_request);
    CHECK_FALSE(fs::exists("copy.db.partial"));
  }
  SECTION("a file of the live database, there or not") {
    // A copy named like the database's journal would be taken for a hot
    // journal at the next start, and deleted.
    for (auto suffix : {"", "-journal", "-wal", "-shm"}) {
      INFO(suffix);
      CHECK(code_of(refused(dir.path() + "/auth.db" + suffix))
            == ec::bad_request);
    }
    CHECK_FALSE(fs::exists(dir.path() + "/auth.db-journal"));
  }
  SECTION("a directory that does not exist") {
    auto err = refused(dir.path() + "/missing/copy.db");
    CHECK(code_of(err) == ec::backup_failed);
    CHECK_THAT(message_of(err), Catch::Contains("No such file or directory"));
    CHECK_FALSE(fs::exists(dir.path() + "/missing"));
  }
  SECTION("leftovers of an interrupted backup are not ours to remove") {
    auto target = dir.path() + "/copy.db";
    for (auto suffix : {".partial", ".partial-wal", ".partial-journal"}) {
      auto leftover = target + suffix;
      std::ofstream{leftover} << "left";
      auto err = refused(target);
      INFO(suffix);
      CHECK(code_of(err) == ec::backup_failed);
      CHECK_THAT(message_of(err), Catch::Contains(leftover));
      CHECK(fs::file_size(leftover) == 4);
      fs::remove(leftover);
    }
    CHECK_FALSE(fs::exists(target));
    CHECK(store->begin_backup(target));
  }
}
