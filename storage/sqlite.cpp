#include "storage/sqlite.hpp"

#include <utility>

#include <sqlite3.h>

namespace authnode {

// storage/sql.cpp spells these without sqlite3.h.
static_assert(SQLITE_CONSTRAINT_UNIQUE == 2067);
static_assert(SQLITE_CONSTRAINT_PRIMARYKEY == 1555);

namespace {

sql_status status_of(sqlite3* db, int rc) {
  if (rc == SQLITE_OK)
    return {};
  // sqlite3_errmsg describes the latest call on the connection; fall back to
  // the generic text when there is no connection (or it was not that call).
  const char* msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return {rc, {}, msg != nullptr ? msg : sqlite3_errstr(rc)};
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
  sql_status st{rc, {}, msg != nullptr ? msg : sqlite3_errstr(rc)};
  sqlite3_free(msg);
  return st;
}

int64_t sqlite_db::changes() const {
  return sqlite3_changes64(db_);
}

bool sqlite_db::in_transaction() const {
  return sqlite3_get_autocommit(db_) == 0;
}

sql_status sqlite_db::last_status() const {
  return status_of(db_, sqlite3_extended_errcode(db_));
}

// -- the cursor ---------------------------------------------------------------

namespace {

class sqlite_cursor final : public sql_cursor {
public:
  explicit sqlite_cursor(sqlite3_stmt* stmt) : stmt_(stmt) {}
  sqlite_cursor(const sqlite_cursor&) = delete;
  sqlite_cursor& operator=(const sqlite_cursor&) = delete;
  ~sqlite_cursor() override {
    sqlite3_finalize(stmt_);
  }

  void bind_int64(int index, int64_t value) override {
    remember_bind(sqlite3_bind_int64(stmt_, index, value));
  }

  void bind_text(int index, std::string_view value) override {
    remember_bind(sqlite3_bind_text64(stmt_, index, non_null(value),
                                      value.size(), SQLITE_TRANSIENT,
                                      SQLITE_UTF8));
  }

  void bind_blob(int index, std::string_view bytes) override {
    remember_bind(sqlite3_bind_blob64(stmt_, index, non_null(bytes),
                                      bytes.size(), SQLITE_TRANSIENT));
  }

  void bind_null(int index) override {
    remember_bind(sqlite3_bind_null(stmt_, index));
  }

  step_result step() override {
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

  const sql_status& status() const override {
    return status_;
  }

  bool column_is_null(int col) const override {
    return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
  }

  int64_t column_int64(int col) const override {
    return sqlite3_column_int64(stmt_, col);
  }

  std::string column_text(int col) const override {
    auto data = sqlite3_column_text(stmt_, col);
    // Size after the pointer: the conversion to text may change the size.
    auto size = sqlite3_column_bytes(stmt_, col);
    if (data == nullptr)
      return {};
    return std::string(reinterpret_cast<const char*>(data),
                       static_cast<size_t>(size));
  }

  std::string column_blob(int col) const override {
    auto data = sqlite3_column_blob(stmt_, col);
    auto size = sqlite3_column_bytes(stmt_, col);
    if (data == nullptr)
      return {};
    return std::string(static_cast<const char*>(data),
                       static_cast<size_t>(size));
  }

  void reset() override {
    // sqlite3_reset repeats the last step's error, which was reported
    // already.
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    status_ = {};
  }

private:
  void remember_bind(int rc) {
    if (rc != SQLITE_OK && status_.ok())
      status_ = status_of(sqlite3_db_handle(stmt_), rc);
  }

  sqlite3_stmt* stmt_;
  sql_status status_;
};

} // namespace

std::unique_ptr<sql_cursor> sqlite_db::prepare(std::string_view sql,
                                               sql_status& st) {
  sqlite3_stmt* stmt = nullptr;
  // SQLITE_PREPARE_PERSISTENT: these statements live as long as the store.
  auto rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                               SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    st = status_of(db_, rc);
    st.message += " in: ";
    st.message += sql;
    return nullptr;
  }
  st = {};
  return std::make_unique<sqlite_cursor>(stmt);
}

// -- transactions -------------------------------------------------------------

sql_status sqlite_db::begin() {
  return exec("BEGIN IMMEDIATE");
}

sql_status sqlite_db::commit() {
  return exec("COMMIT");
}

} // namespace authnode
