// The database schema and its forward migrations.
//
// The schema version lives in `PRAGMA user_version` (SQLite) or the table
// authnode_schema (PostgreSQL), one list of migrations per backend with the
// same versions. Each migration runs in
// its own transaction together with the version bump, so a crash leaves the
// database at the previous version, never half-way. A database written by a
// newer authnode is refused rather than guessed at.
#pragma once

#include <string>

namespace authnode {

class sql_db;

/// The schema version this build writes and understands.
int schema_version();

/// Brings `db` up to schema_version(). On failure returns false and puts a
/// message for people into `error`.
bool migrate(sql_db& db, std::string& error);

} // namespace authnode
