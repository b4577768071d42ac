#include "storage/outbox_store.hpp"

#include "storage/store_errors.hpp"
#include <algorithm>

#include "core/error_code.hpp"

namespace authnode {

namespace {

// The lease is written by the statement that takes the mails. On
// PostgreSQL, SKIP LOCKED lets two nodes' takes pass each other instead of
// one waiting for the other's rows; SQLite has one writer and no such
// clause.
std::string claim_sql(sql_db& db) {
  std::string pick = "SELECT id FROM mail_outbox WHERE next_at_ms <= ?1"
                     " ORDER BY next_at_ms, id LIMIT ?2";
  if (db.dialect() == sql_dialect::postgresql)
    pick += " FOR UPDATE SKIP LOCKED";
  return "UPDATE mail_outbox SET next_at_ms = ?3 WHERE id IN (" + pick
    + ") RETURNING id, sealed, created_at_ms, attempts";
}

} // namespace

bool outbox_store::prepare(sql_db& db, std::string& error) {
  db_ = &db;
  auto claim = claim_sql(db);
  const statement_text entries[] = {
    {insert_,
     "INSERT INTO mail_outbox(created_at_ms, next_at_ms, sealed)"
     " VALUES (?1, ?1, ?2) RETURNING id"},
    {claim_, claim.c_str()},
    {count_, "SELECT count(*) FROM mail_outbox"},
    {next_due_,
     "SELECT min(next_at_ms) FROM mail_outbox WHERE next_at_ms > ?1"},
    {remove_, "DELETE FROM mail_outbox WHERE id = ?1"},
    {retry_,
     "UPDATE mail_outbox SET attempts = attempts + 1, next_at_ms = ?2,"
     " last_error = ?3 WHERE id = ?1"},
    {status_,
     "SELECT count(*), coalesce(min(created_at_ms), 0),"
     " coalesce(max(attempts), 0) FROM mail_outbox"},
    {last_error_,
     "SELECT last_error FROM mail_outbox WHERE attempts > 0"
     " ORDER BY next_at_ms DESC LIMIT 1"},
  };
  if (!prepare_statements(db, entries, error))
    return false;
  return true;
}

caf::expected<int64_t> outbox_store::enqueue(const std::string& sealed,
                                             int64_t now_ms) {
  reset_guard guard{insert_};
  insert_.bind_int64(1, now_ms).bind_blob(2, sealed);
  if (insert_.step() != step_result::row)
    return db_failure("cannot queue mail", insert_.status());
  return insert_.column_int64(0);
}

caf::expected<std::vector<outbox_row>>
outbox_store::claim(int64_t now_ms, int64_t limit, int64_t lease_until_ms) {
  reset_guard guard{claim_};
  claim_.bind_int64(1, now_ms).bind_int64(2, limit).bind_int64(3,
                                                               lease_until_ms);
  std::vector<outbox_row> rows;
  for (;;) {
    switch (claim_.step()) {
      case step_result::row:
        rows.push_back(outbox_row{claim_.column_int64(0), claim_.column_blob(1),
                                  claim_.column_int64(2),
                                  claim_.column_int64(3)});
        break;
      case step_result::done:
        // RETURNING keeps no order: oldest (lowest id) first again.
        std::sort(rows.begin(), rows.end(), [](auto& a, auto& b) {
          return a.id < b.id;
        });
        return rows;
      default:
        return db_failure("cannot take mail from the outbox", claim_.status());
    }
  }
}

caf::expected<std::pair<int64_t, int64_t>>
outbox_store::pending(int64_t now_ms) {
  int64_t count = 0;
  {
    reset_guard guard{count_};
    if (count_.step() != step_result::row)
      return db_failure("cannot count the outbox", count_.status());
    count = count_.column_int64(0);
  }
  reset_guard guard{next_due_};
  next_due_.bind_int64(1, now_ms);
  if (next_due_.step() != step_result::row)
    return db_failure("cannot read the outbox", next_due_.status());
  // min() of no rows is NULL, which reads as 0: none.
  return std::make_pair(count, next_due_.column_int64(0));
}

caf::expected<caf::ok_atom> outbox_store::remove(int64_t id) {
  reset_guard guard{remove_};
  remove_.bind_int64(1, id);
  return run(remove_, "cannot remove mail");
}

caf::expected<caf::ok_atom> outbox_store::retry(int64_t id, int64_t next_at_ms,
                                                const std::string& error) {
  reset_guard guard{retry_};
  retry_.bind_int64(1, id).bind_int64(2, next_at_ms).bind_text(3, error);
  return run(retry_, "cannot reschedule mail");
}

caf::expected<outbox_status> outbox_store::status() {
  outbox_status st;
  {
    reset_guard guard{status_};
    if (status_.step() != step_result::row)
      return db_failure("cannot read the outbox", status_.status());
    st.pending = status_.column_int64(0);
    st.oldest_created_ms = status_.column_int64(1);
    st.most_attempts = status_.column_int64(2);
  }
  reset_guard guard{last_error_};
  switch (last_error_.step()) {
    case step_result::row:
      st.last_error = last_error_.column_text(0);
      break;
    case step_result::done:
      break;
    default:
      return db_failure("cannot read the outbox", last_error_.status());
  }
  return st;
}

} // namespace authnode
