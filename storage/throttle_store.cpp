#include "storage/throttle_store.hpp"

#include "storage/store_errors.hpp"

namespace authnode {

bool throttle_store::prepare(sql_db& db, std::string& error) {
  db_ = &db;
  // The window is compared in SQL, so that two nodes adding at once count
  // on the row as the other left it. A clock of one node behind another's
  // does not move the last failure back.
  const statement_text entries[] = {
    {add_,
     "INSERT INTO throttle_failures(key_hash, failures, last_failure_ms)"
     " VALUES (?1, 1, ?2)"
     " ON CONFLICT(key_hash) DO UPDATE SET"
     " failures = CASE WHEN throttle_failures.last_failure_ms"
     " > CAST(?2 AS BIGINT) - CAST(?3 AS BIGINT)"
     " THEN throttle_failures.failures + 1 ELSE 1 END,"
     " last_failure_ms = CASE WHEN throttle_failures.last_failure_ms > ?2"
     " THEN throttle_failures.last_failure_ms ELSE ?2 END"
     " RETURNING failures, last_failure_ms"},
    {get_,
     "SELECT failures, last_failure_ms FROM throttle_failures"
     " WHERE key_hash = ?1"
     " AND last_failure_ms > CAST(?2 AS BIGINT) - CAST(?3 AS BIGINT)"},
    {clear_, "DELETE FROM throttle_failures WHERE key_hash = ?1"},
    {purge_, "DELETE FROM throttle_failures WHERE last_failure_ms < ?1"},
  };
  return prepare_statements(db, entries, error);
}

caf::expected<throttle_record>
throttle_store::add_failure(const std::string& digest, int64_t now_ms,
                            int64_t window_ms) {
  reset_guard guard{add_};
  add_.bind_blob(1, digest).bind_int64(2, now_ms).bind_int64(3, window_ms);
  if (add_.step() != step_result::row)
    return db_failure("cannot count a failure", add_.status());
  return throttle_record{add_.column_int64(0), add_.column_int64(1)};
}

caf::expected<throttle_record> throttle_store::get(const std::string& digest,
                                                   int64_t now_ms,
                                                   int64_t window_ms) {
  reset_guard guard{get_};
  get_.bind_blob(1, digest).bind_int64(2, now_ms).bind_int64(3, window_ms);
  switch (get_.step()) {
    case step_result::row:
      return throttle_record{get_.column_int64(0), get_.column_int64(1)};
    case step_result::done:
      return throttle_record{};
    default:
      return db_failure("cannot read failures", get_.status());
  }
}

caf::expected<bool> throttle_store::clear(const std::string& digest) {
  reset_guard guard{clear_};
  clear_.bind_blob(1, digest);
  if (clear_.step() != step_result::done)
    return db_failure("cannot forget failures", clear_.status());
  return db_->changes() > 0;
}

caf::expected<int64_t> throttle_store::purge(int64_t before_ms) {
  reset_guard guard{purge_};
  purge_.bind_int64(1, before_ms);
  if (purge_.step() != step_result::done)
    return db_failure("cannot purge failures", purge_.status());
  return db_->changes();
}

} // namespace authnode
