#include "storage/postgres.hpp"

#include <cstdlib>
#include <utility>

#include <libpq-fe.h>

#include "core/log.hpp"

namespace authnode {

// -- pg_params ----------------------------------------------------------------

namespace {

constexpr int text_format = 0;
constexpr int binary_format = 1;

} // namespace

pg_params& pg_params::text(std::string_view value) {
  values_.emplace_back(value);
  is_null_.push_back(false);
  lengths_.push_back(0); // ignored for text
  formats_.push_back(text_format);
  return *this;
}

pg_params& pg_params::int64(int64_t value) {
  return text(std::to_string(value));
}

pg_params& pg_params::bytes(std::string_view value) {
  values_.emplace_back(value);
  is_null_.push_back(false);
  lengths_.push_back(static_cast<int>(value.size()));
  formats_.push_back(binary_format);
  return *this;
}

pg_params& pg_params::null() {
  values_.emplace_back();
  is_null_.push_back(true);
  lengths_.push_back(0);
  formats_.push_back(text_format);
  return *this;
}

std::vector<const char*> pg_params::values() const {
  std::vector<const char*> out;
  out.reserve(values_.size());
  for (size_t i = 0; i < values_.size(); ++i)
    out.push_back(is_null_[i] ? nullptr : values_[i].c_str());
  return out;
}

// -- pg_rows ------------------------------------------------------------------

pg_rows::pg_rows(pg_rows&& other) noexcept
  : res_(std::exchange(other.res_, nullptr)) {
  // nop
}

pg_rows& pg_rows::operator=(pg_rows&& other) noexcept {
  if (this != &other) {
    if (res_ != nullptr)
      PQclear(res_);
    res_ = std::exchange(other.res_, nullptr);
  }
  return *this;
}

pg_rows::~pg_rows() {
  if (res_ != nullptr)
    PQclear(res_);
}

int pg_rows::count() const {
  return res_ != nullptr ? PQntuples(res_) : 0;
}

int64_t pg_rows::changed() const {
  if (res_ == nullptr)
    return 0;
  const char* n = PQcmdTuples(res_);
  return n != nullptr && *n != '\0' ? std::strtoll(n, nullptr, 10) : 0;
}

bool pg_rows::is_null(int row, int col) const {
  return res_ == nullptr || PQgetisnull(res_, row, col) != 0;
}

std::string pg_rows::text(int row, int col) const {
  if (is_null(row, col))
    return {};
  return std::string(PQgetvalue(res_, row, col),
                     static_cast<size_t>(PQgetlength(res_, row, col)));
}

int64_t pg_rows::int64(int row, int col) const {
  if (is_null(row, col))
    return 0;
  return std::strtoll(PQgetvalue(res_, row, col), nullptr, 10);
}

std::string pg_rows::bytes(int row, int col) const {
  if (is_null(row, col))
    return {};
  size_t n = 0;
  auto* raw = PQunescapeBytea(
    reinterpret_cast<const unsigned char*>(PQgetvalue(res_, row, col)), &n);
  if (raw == nullptr)
    return {};
  std::string out(reinterpret_cast<const char*>(raw), n);
  PQfreemem(raw);
  return out;
}

// -- pg_db --------------------------------------------------------------------

pg_db::pg_db(pg_db&& other) noexcept
  : conn_(std::exchange(other.conn_, nullptr)) {
  // nop
}

pg_db& pg_db::operator=(pg_db&& other) noexcept {
  if (this != &other) {
    close();
    conn_ = std::exchange(other.conn_, nullptr);
  }
  return *this;
}

pg_db::~pg_db() {
  close();
}

void pg_db::close() noexcept {
  if (conn_ != nullptr)
    PQfinish(conn_);
  conn_ = nullptr;
}

namespace {

void log_notice(void*, const char* message) {
  std::string text = message != nullptr ? message : "";
  while (!text.empty() && text.back() == '\n')
    text.pop_back();
  log_debug("postgresql notice", {{"notice", text}});
}

} // namespace

pg_status pg_db::open(const std::string& conninfo) {
  close();
  // Later keywords override earlier ones, and dbname expands to everything
  // the string says: the default timeout goes first.
  const char* keys[] = {"connect_timeout", "dbname", nullptr};
  const char* values[] = {"5", conninfo.c_str(), nullptr};
  conn_ = PQconnectdbParams(keys, values, 1 /* expand dbname */);
  if (conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK) {
    PQsetNoticeProcessor(conn_, log_notice, nullptr);
    return {};
  }
  pg_status st;
  st.message = conn_ != nullptr ? PQerrorMessage(conn_)
                                : "out of memory for a connection";
  close();
  return st;
}

bool pg_db::connected() const {
  return conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK;
}

bool pg_db::in_transaction() const {
  if (conn_ == nullptr)
    return false;
  auto st = PQtransactionStatus(conn_);
  return st == PQTRANS_INTRANS || st == PQTRANS_INERROR;
}

pg_status pg_db::status_of(::pg_result* res) const {
  auto code = res != nullptr ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  if (code == PGRES_COMMAND_OK || code == PGRES_TUPLES_OK)
    return {};
  pg_status st;
  if (res != nullptr) {
    if (const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE))
      st.sqlstate = state;
    st.message = PQresultErrorMessage(res);
  }
  if (st.message.empty())
    st.message = conn_ != nullptr ? PQerrorMessage(conn_) : "no connection";
  if (st.message.empty())
    st.message = "the server did not answer";
  return st;
}

pg_status pg_db::exec(const char* sql) {
  if (conn_ == nullptr)
    return {"", "no connection"};
  pg_rows res{PQexec(conn_, sql)};
  last_command_ = res.res_ != nullptr ? PQcmdStatus(res.res_) : "";
  return status_of(res.res_);
}

pg_status pg_db::prepare(const std::string& name, const std::string& sql) {
  if (conn_ == nullptr)
    return {"", "no connection"};
  // Parameter types are left to the server, which infers them from the SQL.
  pg_rows res{PQprepare(conn_, name.c_str(), sql.c_str(), 0, nullptr)};
  return status_of(res.res_);
}

pg_status pg_db::run(const std::string& name, const pg_params& params,
                     pg_rows& out) {
  out = pg_rows{};
  if (conn_ == nullptr)
    return {"", "no connection"};
  auto values = params.values();
  out = pg_rows{PQexecPrepared(conn_, name.c_str(), params.size(),
                               values.data(), params.lengths(),
                               params.formats(), 0 /* text results */)};
  return status_of(out.res_);
}

// -- pg_transaction
// -------------------------------------------------------------

pg_transaction::pg_transaction(pg_db& db, const char* isolation) : db_(db) {
  begun_
    = db_.exec(("BEGIN ISOLATION LEVEL " + std::string{isolation}).c_str());
  open_ = begun_.ok();
}

pg_transaction::~pg_transaction() {
  if (open_)
    db_.exec("ROLLBACK");
}

pg_status pg_transaction::commit() {
  if (!open_)
    return begun_.ok() ? pg_status{"", "the transaction has ended"} : begun_;
  open_ = false;
  return db_.exec("COMMIT");
}

} // namespace authnode
