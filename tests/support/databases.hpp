// Databases for tests: the node's store opened or the test fails, a first
// column read back, a file's mode, and databases with many users made fast
// for tests of what size changes (a backup in steps): one INSERT of
// generated rows in one transaction, rather than a registration (an
// argon2id hash and a synced commit) per user.
#pragma once

#include <memory>
#include <string>

#include "storage/sqlite.hpp"
#include "storage/user_store.hpp"

namespace authnode::test {

/// The node's store at `path` (created and migrated if need be), or the
/// running test fails.
std::unique_ptr<user_store> open_store(const std::string& path);

/// Creates (or migrates) the database at `path` as the node would and adds
/// `count` (at least 1) users `<prefix><n>@example.org`, n from 0, all with
/// the same placeholder hash: they fill pages, they cannot log in.
void add_bulk_users(const std::string& path, int count,
                    const std::string& prefix = "bulk");

/// The first column of the one row `sql` gives on `db`, as text.
std::string query(sqlite_db& db, const char* sql);

/// The permission bits of the file at `path`.
int file_mode(const std::string& path);

} // namespace authnode::test
