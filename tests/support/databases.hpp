// Databases for tests: the node's store opened or the test fails, the
// sample rows store tests write (a user, a login), a first column read back,
// a file's mode, and databases with many users made fast for tests of what
// size changes (a backup in steps): one INSERT of generated rows in one
// transaction, rather than a registration (an argon2id hash and a synced
// commit) per user. A directory for such files is support/temp_dir.hpp.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "storage/sqlite.hpp"
#include "storage/user_store.hpp"

namespace authnode::test {

/// A fresh, empty database for a store test, once for each backend: the
/// test case runs twice, with ":memory:" (SQLite) and with a PostgreSQL
/// database of its own on the test process's server (support/
/// postgres_server.hpp, started at the first use). Call it once per test
/// case, directly in its body (a Catch generator); its value says which
/// backend a failure happened on.
std::string each_database();

/// A new, empty PostgreSQL database on the test process's server; its URI.
std::string postgres_database();

/// The node's store at `path` (created and migrated if need be), or the
/// running test fails.
std::unique_ptr<user_store> open_store(const std::string& path = ":memory:");

/// Alice, the user store tests add: created at 1000, with a placeholder
/// hash (which nothing verifies).
new_user alice();

/// A session expiry later than any time a test uses.
constexpr int64_t far_future = 99999999999;

/// A login of `user_id` at `at` from 127.0.0.1: its session, `digest`,
/// lasts until `expires_at`; with `device`, a device token's digest too.
login_commit login_of(int64_t user_id, std::string digest, int64_t at,
                      int64_t expires_at, std::string device = {});

/// Commits login_of(user_id, digest, 2000, expires_at, device) to `store`,
/// or the running test fails.
void log_in(user_store& store, int64_t user_id, const std::string& digest,
            int64_t expires_at = far_future, const std::string& device = {});

/// Creates (or migrates) the database at `path` as the node would and adds
/// `count` (at least 1) users `<prefix><n>@example.org`, n from 0, all with
/// the same placeholder hash: they fill pages, they cannot log in.
void add_bulk_users(const std::string& path, int count,
                    const std::string& prefix = "bulk");

/// The first column of the one row `sql` gives on `db`, as text.
std::string query(sql_db& db, const char* sql);

/// The permission bits of the file at `path`.
int file_mode(const std::string& path);

} // namespace authnode::test
