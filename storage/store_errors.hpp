// What the stores (storage/*_store) answer when the database fails:
// `internal`, with what was being done and the database's message, or
// `unavailable` when the PostgreSQL server is gone (a failover: the request
// may have taken effect, as the protocol says of `unavailable`). One place,
// so that every store words its failures alike.
#pragma once

#include <string>

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/atom.hpp>

#include "core/error_code.hpp"
#include "storage/sql.hpp"

namespace authnode {

/// `internal` (or `unavailable`): "<what>: <the database's message>".
inline caf::error db_failure(const char* what, const sql_status& st) {
  auto code = st.connection_lost() ? ec::unavailable : ec::internal;
  return caf::make_error(code, std::string{what} + ": " + st.message);
}

/// Runs a statement that returns no row.
inline caf::expected<caf::ok_atom> run(statement& stmt, const char* what) {
  if (stmt.step() != step_result::done)
    return db_failure(what, stmt.status());
  return caf::ok_atom::value;
}

} // namespace authnode
