#include "storage/code_store.hpp"
#include "storage/store_errors.hpp"

#include "core/error_code.hpp"

namespace authnode {

namespace {

int64_t as_int(code_purpose p) {
  return static_cast<int64_t>(p);
}

} // namespace

bool code_store::prepare(sql_db& db, std::string& error) {
  db_ = &db;
  const statement_text entries[] = {
    {mails_since_,
     "SELECT count(*) FROM code_mails"
     " WHERE user_id = ?1 AND purpose = ?2 AND sent_at >= ?3"},
    {log_mail_,
     "INSERT INTO code_mails(user_id, purpose, sent_at) VALUES (?1, ?2, ?3)"},
    {put_,
     "INSERT INTO account_codes(user_id, purpose, code_hash,"
     " new_email, created_at, expires_at, failures)"
     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0)"
     " ON CONFLICT(user_id, purpose) DO UPDATE SET code_hash = ?3,"
     " new_email = ?4, created_at = ?5, expires_at = ?6, failures = 0"},
    {get_,
     "SELECT code_hash, new_email, expires_at, failures FROM account_codes"
     " WHERE user_id = ?1 AND purpose = ?2"},
    {count_failure_,
     "UPDATE account_codes SET failures = failures + 1"
     " WHERE user_id = ?1 AND purpose = ?2"},
    {consume_,
     "DELETE FROM account_codes WHERE user_id = ?1 AND purpose = ?2"
     " AND code_hash = ?3 AND expires_at > ?4"},
    {remove_, "DELETE FROM account_codes WHERE user_id = ?1 AND purpose = ?2"},
    {purge_codes_, "DELETE FROM account_codes WHERE expires_at <= ?1"},
    {purge_mails_, "DELETE FROM code_mails WHERE sent_at < ?1"},
  };
  if (!prepare_statements(db, entries, error))
    return false;
  return true;
}

caf::expected<int64_t> code_store::mails_since(int64_t user_id,
                                               code_purpose purpose,
                                               int64_t since) {
  reset_guard guard{mails_since_};
  mails_since_.bind_int64(1, user_id)
    .bind_int64(2, as_int(purpose))
    .bind_int64(3, since);
  if (mails_since_.step() != step_result::row)
    return db_failure("cannot count mails", mails_since_.status());
  return mails_since_.column_int64(0);
}

caf::expected<caf::ok_atom> code_store::put(int64_t user_id,
                                            code_purpose purpose,
                                            const code_row& row, int64_t now) {
  {
    reset_guard guard{put_};
    put_.bind_int64(1, user_id)
      .bind_int64(2, as_int(purpose))
      .bind_blob(3, row.digest)
      .bind_text(4, row.new_email)
      .bind_int64(5, now)
      .bind_int64(6, row.expires_at);
    if (auto ok = run(put_, "cannot store code"); !ok)
      return ok;
  }
  reset_guard guard{log_mail_};
  log_mail_.bind_int64(1, user_id).bind_int64(2, as_int(purpose)).bind_int64(
    3, now);
  return run(log_mail_, "cannot count mail");
}

caf::expected<code_row> code_store::get(int64_t user_id, code_purpose purpose) {
  reset_guard guard{get_};
  get_.bind_int64(1, user_id).bind_int64(2, as_int(purpose));
  switch (get_.step()) {
    case step_result::row:
      return code_row{get_.column_blob(0), get_.column_text(1),
                      get_.column_int64(2), get_.column_int64(3)};
    case step_result::done:
      return caf::make_error(ec::not_found);
    default:
      return db_failure("cannot look up code", get_.status());
  }
}

caf::expected<caf::ok_atom> code_store::count_failure(int64_t user_id,
                                                      code_purpose purpose) {
  reset_guard guard{count_failure_};
  count_failure_.bind_int64(1, user_id).bind_int64(2, as_int(purpose));
  return run(count_failure_, "cannot count a wrong code");
}

caf::expected<caf::ok_atom> code_store::consume(int64_t user_id,
                                                code_purpose purpose,
                                                const std::string& digest,
                                                int64_t now) {
  reset_guard guard{consume_};
  consume_.bind_int64(1, user_id)
    .bind_int64(2, as_int(purpose))
    .bind_blob(3, digest)
    .bind_int64(4, now);
  if (auto ok = run(consume_, "cannot use up code"); !ok)
    return ok;
  if (db_->changes() == 0)
    return caf::make_error(ec::not_found);
  return caf::ok_atom::value;
}

caf::expected<caf::ok_atom> code_store::remove(int64_t user_id,
                                               code_purpose purpose) {
  reset_guard guard{remove_};
  remove_.bind_int64(1, user_id).bind_int64(2, as_int(purpose));
  return run(remove_, "cannot remove code");
}

caf::expected<caf::ok_atom> code_store::purge(int64_t now,
                                              int64_t mails_before) {
  {
    reset_guard guard{purge_codes_};
    purge_codes_.bind_int64(1, now);
    if (auto ok = run(purge_codes_, "cannot purge codes"); !ok)
      return ok;
  }
  reset_guard guard{purge_mails_};
  purge_mails_.bind_int64(1, mails_before);
  return run(purge_mails_, "cannot purge the mail budget");
}

} // namespace authnode
