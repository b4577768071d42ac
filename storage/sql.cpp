#include "storage/sql.hpp"

namespace authnode {

namespace {

// SQLite's codes, spelled here so that this header-neutral file needs no
// sqlite3.h: SQLITE_CONSTRAINT_PRIMARYKEY and SQLITE_CONSTRAINT_UNIQUE
// (storage/sqlite.cpp checks them against the real ones).
constexpr int sqlite_constraint_primarykey = 1555;
constexpr int sqlite_constraint_unique = 2067;

} // namespace

bool sql_status::unique_violation() const {
  return code == sqlite_constraint_unique
    || code == sqlite_constraint_primarykey || sqlstate == "23505";
}

bool sql_status::retry() const {
  return sqlstate == "40001" || sqlstate == "40P01";
}

bool sql_status::connection_lost() const {
  // SQLite has no server to lose; a PostgreSQL failure without SQLSTATE is
  // one the server never answered.
  if (code != postgres_failure)
    return false;
  return sqlstate.empty() || sqlstate.rfind("08", 0) == 0
    || sqlstate.rfind("57", 0) == 0;
}

sql_status statement::prepare(sql_db& db, std::string_view sql) {
  db_ = &db;
  sql_status st;
  cursor_ = db.prepare(sql, st);
  return st;
}

step_result statement::step() {
  auto result = cursor_->step();
  if (result == step_result::error)
    db_->note_failure(cursor_->status());
  return result;
}

transaction::transaction(sql_db& db) : db_(db) {
  status_ = db_.begin();
  db_.note_failure(status_);
  active_ = status_.ok();
}

transaction::~transaction() {
  // A failed COMMIT may already have rolled back (SQLite on SQLITE_FULL,
  // PostgreSQL always), and a second ROLLBACK would fail: ask the
  // connection whether one is still open.
  if (active_ && db_.in_transaction())
    db_.exec("ROLLBACK");
}

sql_status transaction::commit() {
  if (!active_)
    return status_;
  status_ = db_.commit();
  db_.note_failure(status_);
  if (status_.ok())
    active_ = false;
  return status_;
}

bool prepare_statements(sql_db& db, const statement_text* first, size_t count,
                        std::string& error) {
  for (auto x = first; x != first + count; ++x) {
    if (auto st = x->stmt.prepare(db, x->sql); !st.ok()) {
      error = "cannot prepare statement: " + st.message;
      return false;
    }
  }
  return true;
}

} // namespace authnode
