#include "storage/postgres_sql.hpp"

#include <cctype>
#include <cstdlib>
#include <optional>
#include <vector>

namespace authnode {

sql_status to_sql_status(const pg_status& st) {
  if (st.ok())
    return {};
  return {sql_status::postgres_failure, st.sqlstate, st.message};
}

std::string to_postgres_parameters(std::string_view sql, int& count) {
  std::string out;
  out.reserve(sql.size());
  count = 0;
  bool quoted = false;
  for (size_t i = 0; i < sql.size(); ++i) {
    char c = sql[i];
    if (c == '\'')
      quoted = !quoted; // '' inside a literal toggles twice: still quoted
    if (quoted || c != '?') {
      out += c;
      continue;
    }
    size_t j = i + 1;
    int n = 0;
    while (j < sql.size() && std::isdigit(static_cast<unsigned char>(sql[j])))
      n = n * 10 + (sql[j++] - '0');
    out += '$';
    out.append(sql.substr(i + 1, j - i - 1));
    count = std::max(count, n);
    i = j - 1;
  }
  return out;
}

// -- the cursor ---------------------------------------------------------------

namespace {

/// A bound parameter; nullopt is NULL (also for one never bound, as in
/// SQLite).
struct pg_value {
  std::optional<std::string> value;
  bool bytes = false;
};

class postgres_cursor final : public sql_cursor {
public:
  postgres_cursor(postgres_db& db, std::string name, std::string sql,
                  int params)
    : db_(db), name_(std::move(name)), sql_(std::move(sql)),
      params_(static_cast<size_t>(params)), prepared_(db.generation()) {
    // nop
  }
  postgres_cursor(const postgres_cursor&) = delete;
  postgres_cursor& operator=(const postgres_cursor&) = delete;

  // A statement made for one use (a lock, a migration's version) would
  // otherwise stay prepared on the server for the connection's life.
  ~postgres_cursor() override {
    if (prepared_ == db_.generation() && db_.connected())
      db_.connection().exec(("DEALLOCATE " + name_).c_str());
  }

  void bind_int64(int index, int64_t value) override {
    set(index, std::to_string(value), false);
  }
  void bind_text(int index, std::string_view value) override {
    set(index, std::string{value}, false);
  }
  void bind_blob(int index, std::string_view bytes) override {
    set(index, std::string{bytes}, true);
  }
  void bind_null(int index) override {
    if (in_range(index))
      params_[index - 1] = {};
  }

  step_result step() override {
    if (!status_.ok())
      return step_result::error;
    if (!ran_ && !run())
      return step_result::error;
    return ++row_ < rows_.count() ? step_result::row : step_result::done;
  }

  const sql_status& status() const override {
    return status_;
  }

  bool column_is_null(int col) const override {
    return rows_.is_null(row_, col);
  }

  int64_t column_int64(int col) const override {
    // SQLite's 0 and 1 for what PostgreSQL answers as a boolean (EXISTS).
    auto text = rows_.text(row_, col);
    if (text == "t")
      return 1;
    if (text == "f")
      return 0;
    return std::strtoll(text.c_str(), nullptr, 10);
  }

  std::string column_text(int col) const override {
    return rows_.text(row_, col);
  }

  std::string column_blob(int col) const override {
    return rows_.bytes(row_, col);
  }

  void reset() override {
    for (auto& p : params_)
      p = {};
    rows_ = pg_rows{};
    row_ = -1;
    ran_ = false;
    status_ = {};
  }

private:
  bool in_range(int index) {
    if (index >= 1 && static_cast<size_t>(index) <= params_.size())
      return true;
    if (status_.ok())
      status_ = {sql_status::postgres_failure, "",
                 "parameter " + std::to_string(index) + " is out of range"};
    return false;
  }

  void set(int index, std::string value, bool bytes) {
    if (in_range(index))
      params_[index - 1] = {std::move(value), bytes};
  }

  bool run() {
    ran_ = true;
    auto& conn = db_.connection();
    // A new connection (after a lost one) has none of our statements.
    if (prepared_ != db_.generation()) {
      if (auto st = conn.prepare(name_, sql_); !st.ok()) {
        status_ = to_sql_status(st);
        return false;
      }
      prepared_ = db_.generation();
    }
    pg_params params;
    for (auto& p : params_) {
      if (!p.value)
        params.null();
      else if (p.bytes)
        params.bytes(*p.value);
      else
        params.text(*p.value);
    }
    if (auto st = conn.run(name_, params, rows_); !st.ok()) {
      status_ = to_sql_status(st);
      return false;
    }
    db_.set_changes(rows_.changed());
    return true;
  }

  postgres_db& db_;
  std::string name_;
  std::string sql_;
  std::vector<pg_value> params_;
  uint64_t prepared_;
  pg_rows rows_;
  int row_ = -1;
  bool ran_ = false;
  sql_status status_;
};

} // namespace

// -- postgres_db --------------------------------------------------------------

sql_status postgres_db::open(const std::string& conninfo) {
  conninfo_ = conninfo;
  ++generation_;
  if (auto st = conn_.open(conninfo); !st.ok())
    return to_sql_status(st);
  // What SQLite's one writer gives, for every transaction including a
  // single statement's (see the header).
  return exec("SET default_transaction_isolation = 'serializable'");
}

sql_status postgres_db::reconnect() {
  if (connected())
    return {};
  return open(conninfo_);
}

sql_status postgres_db::exec(const char* sql) {
  return to_sql_status(conn_.exec(sql));
}

bool postgres_db::in_transaction() const {
  return conn_.in_transaction();
}

sql_status postgres_db::begin() {
  return exec("BEGIN ISOLATION LEVEL SERIALIZABLE");
}

sql_status postgres_db::commit() {
  auto st = exec("COMMIT");
  if (st.ok() && conn_.last_command() == "ROLLBACK")
    return {sql_status::postgres_failure, "25P02",
            "the transaction met an error and was rolled back"};
  return st;
}

std::unique_ptr<sql_cursor> postgres_db::prepare(std::string_view sql,
                                                 sql_status& st) {
  int params = 0;
  auto text = to_postgres_parameters(sql, params);
  auto name = "s" + std::to_string(++statements_);
  // Prepared now, so that a statement the server refuses fails the open.
  if (auto pst = conn_.prepare(name, text); !pst.ok()) {
    st = to_sql_status(pst);
    st.message += " in: ";
    st.message += sql;
    return nullptr;
  }
  st = {};
  return std::make_unique<postgres_cursor>(*this, std::move(name),
                                           std::move(text), params);
}

} // namespace authnode
