// Opens the node's database by its name (--db): an SQLite file (created
// with mode 0600, in WAL mode, every commit synced), ":memory:", or a
// PostgreSQL URI or connection string (storage/database_name.hpp). Shared
// by the stores and by `authctl migrate`, which copies one into the other.
#pragma once

#include <memory>
#include <string>

#include "storage/sql.hpp"

namespace authnode {

/// The connection, not yet migrated (storage/schema.hpp); null and a
/// message for people in `error` on failure, which never holds a
/// PostgreSQL password.
std::unique_ptr<sql_db> open_sql(const std::string& path, std::string& error);

} // namespace authnode
