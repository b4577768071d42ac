// What a --db value names, and how to name it in a log line.
//
// --db is a SQLite file path or a PostgreSQL connection string; the
// connection string may carry a password, so it is never logged as it is.
#pragma once

#include <string>

namespace authnode {

/// Whether `db` (a --db value) names a PostgreSQL database: a libpq URI
/// (postgresql:// or postgres://) or a key=value connection string.
bool is_postgres_conninfo(const std::string& db);

/// `db` for a log line: a SQLite path as it is; for PostgreSQL its hosts,
/// ports and database name only ("postgresql db1:5432,db2:5432/authnode"),
/// never a password or any other parameter.
std::string describe_database(const std::string& db);

} // namespace authnode
