#include "storage/sqlite.hpp"

#include <utility>

#include <sqlite3.h>

namespace authnode {

namespace {

sql_status status_of(sqlite3* db, int rc) {
  if (rc == SQLITE_OK)
    return {};
  // sqlite3_errmsg describes the latest call on the connection; fall back to
  // the generic text when there is no connection (or it was not that call).
  const char* msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return {rc, msg != nullptr ? msg : sqlite3_errstr(rc)};
}

// sqlite3_bind_{text,blob} bind NULL when given a null pointer, which an
// empty std::string_view may hold.
const char* non_null(std::string_view s) {
  return s.data() != nullptr ? s.data() : "";
}

} // namespace

// -- sqlite_db ----------------------------------------------------------------

sqlite_db::sqlite_db(sqlite_db&& other) noexcept
  : db_(std::exchange(other.db_, nullptr)) {
  // nop
}

sqlite_db& sqlite_db::operator=(sqlite_db&& other) noexcept {
  if (this != &other) {
    close();
    db_ = std::exchange(other.db_, nullptr);
  }
  return *this;
}

sqlite_db::~sqlite_db() {
  close();
}

void sqlite_db::close() noexcept {
  // sqlite3_close_v2 defers the close until all statements are finalized, so
  // the order in which owners are destroyed does not matter.
  if (db_ != nullptr)
    sqlite3_close_v2(db_);
  db_ = nullptr;
}

sql_status sqlite_db::open(const std::string& path, int flags) {
  close();
  auto rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    // SQLite hands out a connection even on failure, to carry the message.
    auto st = status_of(db_, rc);
    close();
    return st;
  }
  sqlite3_extended_result_codes(db_, 1);
  return {};
}

sql_status sqlite_db::exec(const char* sql) {
  char* msg = nullptr;
  auto rc = sqlite3_exec(db_, sql, nullptr, nullptr, &msg);
  if (rc == SQLITE_OK)
    return {};
  sql_status st{rc, msg != nullptr ? msg : sqlite3_errstr(rc)};
  sqlite3_free(msg);
  return st;
}

int64_t sqlite_db::changes() const {
  return sqlite3_changes64(db_);
}

int64_t sqlite_db::last_insert_rowid() const {
  return sqlite3_last_insert_rowid(db_);
}

bool sqlite_db::autocommit() const {
  return sqlite3_get_autocommit(db_) != 0;
}

sql_status sqlite_db::last_status() const {
  return status_of(db_, sqlite3_extended_errcode(db_));
}

// -- statement ----------------------------------------------------------------

statement::statement(statement&& other) noexcept
  : stmt_(std::exchange(other.stmt_, nullptr)),
    status_(std::move(other.status_)) {
  // nop
}

statement& statement::operator=(statement&& other) noexcept {
  if (this != &other) {
    finalize();
    stmt_ = std::exchange(other.stmt_, nullptr);
    status_ = std::move(other.status_);
  }
  return *this;
}

statement::~statement() {
  finalize();
}

void statement::finalize() noexcept {
  if (stmt_ != nullptr)
    sqlite3_finalize(stmt_);
  stmt_ = nullptr;
}

sql_status statement::prepare(sqlite_db& db, std::string_view sql) {
  finalize();
  status_ = {};
  // SQLITE_PREPARE_PERSISTENT: these statements live as long as the store.
  auto rc = sqlite3_prepare_v3(db.handle(), sql.data(),
                               static_cast<int>(sql.size()),
                               SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
  if (rc != SQLITE_OK) {
    finalize();
    auto st = status_of(db.handle(), rc);
    st.message += " in: ";
    st.message += sql;
    return st;
  }
  return {};
}

void statement::remember_bind(int rc) {
  if (rc != SQLITE_OK && status_.ok())
    status_ = status_of(sqlite3_db_handle(stmt_), rc);
}

statement& statement::bind_int64(int index, int64_t value) {
  remember_bind(sqlite3_bind_int64(stmt_, index, value));
  return *this;
}

statement& statement::bind_text(int index, std::string_view value) {
  remember_bind(sqlite3_bind_text64(stmt_, index, non_null(value), value.size(),
                                    SQLITE_TRANSIENT, SQLITE_UTF8));
  return *this;
}

statement& statement::bind_blob(int index, std::string_view bytes) {
  remember_bind(sqlite3_bind_blob64(stmt_, index, non_null(bytes), bytes.size(),
                                    SQLITE_TRANSIENT));
  return *this;
}

statement& statement::bind_null(int index) {
  remember_bind(sqlite3_bind_null(stmt_, index));
  return *this;
}

step_result statement::step() {
  if (!status_.ok())
    return step_result::error;
  auto rc = sqlite3_step(stmt_);
  switch (rc) {
    case SQLITE_ROW:
      return step_result::row;
    case SQLITE_DONE:
      return step_result::done;
    default:
      status_ = status_of(sqlite3_db_handle(stmt_), rc);
      return step_result::error;
  }
}

bool statement::column_is_null(int col) const {
  return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}

int64_t statement::column_int64(int col) const {
  return sqlite3_column_int64(stmt_, col);
}

std::string statement::column_text(int col) const {
  auto data = sqlite3_column_text(stmt_, col);
  // Size after the pointer: the conversion to text may change the size.
  auto size = sqlite3_column_bytes(stmt_, col);
  if (data == nullptr)
    return {};
  return std::string(reinterpret_cast<const char*>(data),
                     static_cast<size_t>(size));
}

std::string statement::column_blob(int col) const {
  auto data = sqlite3_column_blob(stmt_, col);
  auto size = sqlite3_column_bytes(stmt_, col);
  if (data == nullptr)
    return {};
  return std::string(static_cast<const char*>(data), static_cast<size_t>(size));
}

void statement::reset() {
  if (stmt_ == nullptr)
    return;
  // sqlite3_reset repeats the last step's error, which was reported already.
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  status_ = {};
}

// -- transaction --------------------------------------------------------------

transaction::transaction(sqlite_db& db) : db_(db) {
  status_ = db_.exec("BEGIN IMMEDIATE");
  active_ = status_.ok();
}

transaction::~transaction() {
  // A failed COMMIT may already have rolled back (e.g. on SQLITE_FULL), and
  // a second ROLLBACK would fail: ask SQLite whether one is still open.
  if (active_ && !db_.autocommit())
    db_.exec("ROLLBACK");
}

sql_status transaction::commit() {
  if (!active_)
    return status_;
  status_ = db_.exec("COMMIT");
  if (status_.ok())
    active_ = false;
  return status_;
}

} // namespace authnode
