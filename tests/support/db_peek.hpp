// Reads a node's database file directly, through a read-only SQLite
// connection of its own: WAL mode lets it in while the node (or a database
// actor) runs. For tests of what is stored when no reply shows it (a hash
// re-made after a login, expired sessions purged). Nothing it reads is
// printed by the helpers.
//
// In the end-to-end suite's run on PostgreSQL (support/node_process.cpp)
// the node's database is not the file but the PostgreSQL database named in
// the directory's postgres-uri: the helpers read that one instead.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace authnode::test {

/// The PostgreSQL database of the nodes started on `dir`, or empty when
/// they use the SQLite file there.
std::string postgres_uri_of(const std::string& dir);

/// Every row of every table of the PostgreSQL database at `uri`, one line
/// each as PostgreSQL prints a row (bytea as \x and hex): what a test that
/// looks for secrets in the database files reads there instead.
std::string postgres_rows(const std::string& uri);

/// The stored password hash of `email` in the database at `db_path`; empty
/// if there is no such user.
std::string stored_hash(const std::string& db_path, const std::string& email);

/// How many users the database at `db_path` holds.
int64_t user_count(const std::string& db_path);

/// How many sessions the database at `db_path` holds, expired ones too.
int64_t session_count(const std::string& db_path);

/// Reads the stored hash until `done(hash)` holds or `limit` has passed;
/// returns the last hash read.
std::string wait_for_stored_hash(
  const std::string& db_path, const std::string& email,
  const std::function<bool(const std::string&)>& done,
  std::chrono::milliseconds limit = std::chrono::seconds(10));

} // namespace authnode::test
