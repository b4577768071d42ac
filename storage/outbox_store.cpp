#include "storage/outbox_store.hpp"
#include "storage/store_errors.hpp"

#include "core/error_code.hpp"

namespace authnode {

bool outbox_store::prepare(sqlite_db& db, std::string& error) {
  db_ = &db;
  struct entry {
    statement& stmt;
    const char* sql;
  };
  entry entries[] = {
    {insert_,
     "INSERT INTO mail_outbox(created_at_ms, next_at_ms, sealed)"
     " VALUES (?1, ?1, ?2)"},
    {due_,
     "SELECT id, sealed, created_at_ms, attempts FROM mail_outbox"
     " WHERE next_at_ms <= ?1 ORDER BY next_at_ms, id LIMIT ?2"},
    {count_, "SELECT count(*) FROM mail_outbox"},
    {next_due_, "SELECT min(next_at_ms) FROM mail_outbox WHERE next_at_ms > ?1"},
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
  for (auto& e : entries) {
    if (auto st = e.stmt.prepare(db, e.sql); !st.ok()) {
      error = "cannot prepare statement: " + st.message;
      return false;
    }
  }
  return true;
}

caf::expected<int64_t> outbox_store::enqueue(const std::string& sealed,
                                             int64_t now_ms) {
  reset_guard guard{insert_};
  insert_.bind_int64(1, now_ms).bind_blob(2, sealed);
  if (insert_.step() != step_result::done)
    return db_failure("cannot queue mail", insert_.status());
  return db_->last_insert_rowid();
}

caf::expected<std::vector<outbox_row>> outbox_store::due(int64_t now_ms,
                                                         int64_t limit) {
  reset_guard guard{due_};
  due_.bind_int64(1, now_ms).bind_int64(2, limit);
  std::vector<outbox_row> rows;
  for (;;) {
    switch (due_.step()) {
      case step_result::row:
        rows.push_back(outbox_row{due_.column_int64(0), due_.column_blob(1),
                                  due_.column_int64(2), due_.column_int64(3)});
        break;
      case step_result::done:
        return rows;
      default:
        return db_failure("cannot read the outbox", due_.status());
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
