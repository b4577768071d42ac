// What the stores (storage/*_store) answer when SQLite fails: `internal`,
// with what was being done and SQLite's message. One place, so that every
// store words its failures alike.
#pragma once

#include <string>

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/atom.hpp>

#include "core/error_code.hpp"
#include "storage/sqlite.hpp"

namespace authnode {

/// `internal`: "<what>: <SQLite's message>".
inline caf::error db_failure(const char* what, const sql_status& st) {
  return caf::make_error(ec::internal, std::string{what} + ": " + st.message);
}

/// Runs a statement that returns no row.
inline caf::expected<caf::ok_atom> run(statement& stmt, const char* what) {
  if (stmt.step() != step_result::done)
    return db_failure(what, stmt.status());
  return caf::ok_atom::value;
}

} // namespace authnode
