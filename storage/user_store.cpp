#include "storage/user_store.hpp"
#include "storage/store_errors.hpp"

#include <optional>

#include <sqlite3.h>

#include "core/error_code.hpp"
#include "core/hash_format.hpp"
#include "storage/postgres_sql.hpp"
#include "storage/schema.hpp"
#include "storage/sql_open.hpp"
#include "storage/sqlite.hpp"

namespace authnode {

namespace {

user_record read_user(const statement& stmt, int first) {
  user_record r;
  r.user.id = stmt.column_int64(first);
  r.user.email = stmt.column_text(first + 1);
  r.user.name = stmt.column_text(first + 2);
  r.password_hash = stmt.column_text(first + 3);
  r.user.created_at = stmt.column_int64(first + 4);
  // NULL (never logged in) reads as 0, which user_view defines as never.
  r.user.last_login_at = stmt.column_int64(first + 5);
  r.disabled = stmt.column_int64(first + 6) != 0;
  r.user.email_verified = stmt.column_int64(first + 7) != 0;
  r.user.totp = stmt.column_int64(first + 8) != 0;
  return r;
}

/// Whether the user u has TOTP on: the column read_user reads last.
#define AUTHNODE_TOTP_COLUMN                                                   \
  " EXISTS(SELECT 1 FROM second_factors f WHERE f.user_id = u.id"              \
  " AND f.totp_sealed IS NOT NULL)"

/// Columns: id, email, name, created_at, last_login_at, disabled, live
/// sessions, device tokens, password hash, email_verified, totp, recovery
/// codes left (see the user_detail_ and list_users_ queries). Of the hash
/// only its scheme leaves the store.
user_detail read_detail(const statement& stmt) {
  user_detail d;
  d.user.id = stmt.column_int64(0);
  d.user.email = stmt.column_text(1);
  d.user.name = stmt.column_text(2);
  d.user.created_at = stmt.column_int64(3);
  d.user.last_login_at = stmt.column_int64(4);
  d.disabled = stmt.column_int64(5) != 0;
  d.sessions = stmt.column_int64(6);
  d.devices = stmt.column_int64(7);
  d.hash_scheme = std::string{scheme_name(scheme_of(stmt.column_text(8)))};
  d.user.email_verified = stmt.column_int64(9) != 0;
  d.user.totp = stmt.column_int64(10) != 0;
  d.recovery_codes = stmt.column_int64(11);
  return d;
}

/// What an operator sees of a user; ?1 is the time sessions must outlive.
#define AUTHNODE_DETAIL_COLUMNS                                                \
  "SELECT u.id, u.email, u.name, u.created_at, u.last_login_at, u.disabled,"   \
  " (SELECT count(*) FROM sessions s WHERE s.user_id = u.id"                   \
  "  AND s.expires_at > ?1),"                                                  \
  " (SELECT count(*) FROM device_tokens d WHERE d.user_id = u.id),"            \
  " u.password_hash, u.email_verified," AUTHNODE_TOTP_COLUMN ","              \
  " (SELECT count(*) FROM recovery_codes c WHERE c.user_id = u.id)"          \
  " FROM users u"

} // namespace

std::unique_ptr<user_store> user_store::open(const std::string& path,
                                             std::string& error) {
  if (path.empty()) {
    error = "the database path is empty";
    return nullptr;
  }
  bool postgres = is_postgres_conninfo(path);
  std::unique_ptr<user_store> store{new user_store};
  store->db_ = open_sql(path, error);
  if (!store->db_)
    return nullptr;
  if (!migrate(*store->db_, error)) {
    error = (postgres ? std::string{"PostgreSQL"} : path) + ": " + error;
    return nullptr;
  }
  if (!store->prepare_all(error))
    return nullptr;
  return store;
}

bool user_store::prepare_all(std::string& error) {
  const statement_text entries[] = {
    {insert_user_,
     "INSERT INTO users(email, name, password_hash, created_at)"
     " VALUES (?1, ?2, ?3, ?4) RETURNING id"},
    {user_by_email_,
     "SELECT id, email, name, password_hash, created_at, last_login_at,"
     " disabled, email_verified," AUTHNODE_TOTP_COLUMN
     " FROM users u WHERE email = ?1"},
    {user_by_id_,
     "SELECT id, email, name, password_hash, created_at, last_login_at,"
     " disabled, email_verified," AUTHNODE_TOTP_COLUMN
     " FROM users u WHERE id = ?1"},
    {touch_login_, "UPDATE users SET last_login_at = ?2 WHERE id = ?1"},
    {insert_device_,
     "INSERT INTO device_tokens (token_hash, user_id, created_at)"
     " VALUES (?1, ?2, ?3)"},
    {device_of_,
     "SELECT user_id, failures FROM device_tokens WHERE token_hash = ?1"},
    {device_failed_,
     "UPDATE device_tokens SET failures = failures + 1 WHERE token_hash = ?1"},
    {set_hash_, "UPDATE users SET password_hash = ?2 WHERE id = ?1"},
    {insert_session_,
     "INSERT INTO sessions(token_hash, user_id, created_at, expires_at,"
     " source) VALUES (?1, ?2, ?3, ?4, ?5)"},
    {session_owner_,
     "SELECT s.id, u.id, u.email, u.name, u.password_hash, u.created_at,"
     " u.last_login_at, u.disabled, u.email_verified," AUTHNODE_TOTP_COLUMN
     ", s.expires_at"
     " FROM sessions s JOIN users u ON u.id = s.user_id"
     " WHERE s.token_hash = ?1 AND s.expires_at > ?2 AND u.disabled = 0"},
    {delete_session_,
     "DELETE FROM sessions WHERE token_hash = ?1 RETURNING expires_at"},
    {revoke_others_,
     "DELETE FROM sessions WHERE user_id = ?1 AND token_hash != ?2"},
    {purge_, "DELETE FROM sessions WHERE expires_at <= ?1"},
    {user_detail_, AUTHNODE_DETAIL_COLUMNS " WHERE u.email = ?2"},
    {list_users_,
     AUTHNODE_DETAIL_COLUMNS " WHERE u.email > ?2"
                             " AND substr(u.email, 1, length(CAST(?3 AS TEXT))) = ?3"
                             " ORDER BY u.email LIMIT ?4"},
    {set_disabled_,
     "UPDATE users SET disabled = ?2 WHERE email = ?1 RETURNING id"},
    {revoke_all_, "DELETE FROM sessions WHERE user_id = ?1"},
    {delete_devices_, "DELETE FROM device_tokens WHERE user_id = ?1"},
    {delete_user_, "DELETE FROM users WHERE email = ?1 RETURNING id"},
    {sessions_of_,
     "SELECT id, created_at, expires_at, source FROM sessions"
     " WHERE user_id = ?1 AND expires_at > ?2 ORDER BY id"},
    {revoke_one_, "DELETE FROM sessions WHERE user_id = ?1 AND id = ?2"},
    {rehash_,
     "UPDATE users SET password_hash = ?3"
     " WHERE id = ?1 AND password_hash = ?2"},
    {update_imported_,
     "UPDATE users SET name = ?2, password_hash = ?3 WHERE id = ?1"},
    {set_verified_,
     "UPDATE users SET email_verified = ?2 WHERE email = ?1 RETURNING id"},
    {verify_user_, "UPDATE users SET email_verified = 1 WHERE id = ?1"},
    {set_email_,
     "UPDATE users SET email = ?2, email_verified = 1 WHERE id = ?1"},
  };
  if (!prepare_statements(*db_, entries, error))
    return false;
  return true;
}

caf::expected<user_view> user_store::add_user(const new_user& x) {
  reset_guard guard{insert_user_};
  insert_user_.bind_text(1, x.email)
    .bind_text(2, x.name)
    .bind_text(3, x.password_hash)
    .bind_int64(4, x.created_at);
  if (insert_user_.step() != step_result::row) {
    // email is the only UNIQUE column a new row can collide on.
    if (insert_user_.status().unique_violation())
      return caf::make_error(ec::email_taken);
    return db_failure("cannot add user", insert_user_.status());
  }
  user_view result;
  result.id = insert_user_.column_int64(0);
  result.email = x.email;
  result.name = x.name;
  result.created_at = x.created_at;
  return result;
}

caf::expected<user_record> user_store::user_by_id(int64_t id) {
  reset_guard guard{user_by_id_};
  user_by_id_.bind_int64(1, id);
  switch (user_by_id_.step()) {
    case step_result::row:
      return read_user(user_by_id_, 0);
    case step_result::done:
      return caf::make_error(ec::not_found);
    default:
      return db_failure("cannot look up user", user_by_id_.status());
  }
}

caf::expected<user_record> user_store::user_by_email(const std::string& email) {
  reset_guard guard{user_by_email_};
  user_by_email_.bind_text(1, email);
  switch (user_by_email_.step()) {
    case step_result::row:
      return read_user(user_by_email_, 0);
    case step_result::done:
      return caf::make_error(ec::not_found);
    default:
      return db_failure("cannot look up user", user_by_email_.status());
  }
}

caf::expected<caf::ok_atom> user_store::commit_login(const login_commit& x) {
  const auto& s = x.session;
  if (s.user_id != 0 && s.user_id != x.user_id)
    return caf::make_error(ec::internal,
                           "login of user " + std::to_string(x.user_id)
                             + " carries a session of user "
                             + std::to_string(s.user_id));
  transaction tx{*db_};
  if (!tx.active())
    return db_failure("cannot begin login", tx.status());
  if (auto written = write_login(x); !written)
    return written;
  if (auto st = tx.commit(); !st.ok())
    return db_failure("cannot commit login", st);
  return caf::ok_atom::value;
}

caf::expected<caf::ok_atom> user_store::write_login(const login_commit& x) {
  const auto& s = x.session;
  {
    reset_guard guard{touch_login_};
    touch_login_.bind_int64(1, x.user_id).bind_int64(2, x.at);
    if (touch_login_.step() != step_result::done)
      return db_failure("cannot record login", touch_login_.status());
    if (db_->changes() == 0)
      return caf::make_error(ec::not_found);
  }
  {
    reset_guard guard{insert_session_};
    insert_session_.bind_blob(1, s.token_digest)
      .bind_int64(2, x.user_id)
      .bind_int64(3, s.created_at != 0 ? s.created_at : x.at)
      .bind_int64(4, s.expires_at)
      .bind_text(5, s.source);
    if (insert_session_.step() != step_result::done)
      return db_failure("cannot insert session", insert_session_.status());
  }
  if (!x.device_digest.empty()) {
    reset_guard guard{insert_device_};
    insert_device_.bind_blob(1, x.device_digest)
      .bind_int64(2, x.user_id)
      .bind_int64(3, x.at);
    if (insert_device_.step() != step_result::done)
      return db_failure("cannot insert device token", insert_device_.status());
  }
  return caf::ok_atom::value;
}

caf::expected<session_owner>
user_store::session_owner_of(const std::string& token_digest, int64_t now) {
  reset_guard guard{session_owner_};
  session_owner_.bind_blob(1, token_digest).bind_int64(2, now);
  switch (session_owner_.step()) {
    case step_result::row: {
      session_owner result;
      result.session_id = session_owner_.column_int64(0);
      result.owner = read_user(session_owner_, 1);
      result.expires_at = session_owner_.column_int64(10);
      return result;
    }
    case step_result::done:
      return caf::make_error(ec::not_found);
    default:
      return db_failure("cannot look up session", session_owner_.status());
  }
}

caf::expected<caf::ok_atom>
user_store::delete_session(const std::string& token_digest, int64_t now) {
  reset_guard guard{delete_session_};
  delete_session_.bind_blob(1, token_digest);
  auto step = delete_session_.step();
  if (step == step_result::done)
    return caf::make_error(ec::not_found);
  if (step != step_result::row)
    return db_failure("cannot delete session", delete_session_.status());
  // An expired session is removed all the same, but it was not live.
  auto live = delete_session_.column_int64(0) > now;
  if (delete_session_.step() != step_result::done)
    return db_failure("cannot delete session", delete_session_.status());
  if (!live)
    return caf::make_error(ec::not_found);
  return caf::ok_atom::value;
}

caf::expected<device_record>
user_store::device_of(const std::string& token_digest) {
  reset_guard guard{device_of_};
  device_of_.bind_blob(1, token_digest);
  switch (device_of_.step()) {
    case step_result::row:
      return device_record{device_of_.column_int64(0),
                           device_of_.column_int64(1)};
    case step_result::done:
      return caf::make_error(ec::not_found);
    default:
      return db_failure("cannot look up device token", device_of_.status());
  }
}

caf::expected<caf::ok_atom>
user_store::device_failed(const std::string& token_digest) {
  reset_guard guard{device_failed_};
  device_failed_.bind_blob(1, token_digest);
  if (device_failed_.step() != step_result::done)
    return db_failure("cannot count device failure", device_failed_.status());
  if (db_->changes() == 0)
    return caf::make_error(ec::not_found);
  return caf::ok_atom::value;
}

caf::expected<caf::ok_atom> user_store::set_password(const password_change& x) {
  transaction tx{*db_};
  if (!tx.active())
    return db_failure("cannot begin password change", tx.status());
  {
    reset_guard guard{set_hash_};
    set_hash_.bind_int64(1, x.user_id).bind_text(2, x.password_hash);
    if (set_hash_.step() != step_result::done)
      return db_failure("cannot store password", set_hash_.status());
    if (db_->changes() == 0)
      return caf::make_error(ec::not_found);
  }
  {
    reset_guard guard{revoke_others_};
    revoke_others_.bind_int64(1, x.user_id).bind_blob(2, x.keep_token_digest);
    if (revoke_others_.step() != step_result::done)
      return db_failure("cannot revoke sessions", revoke_others_.status());
  }
  if (auto st = tx.commit(); !st.ok())
    return db_failure("cannot commit password change", st);
  return caf::ok_atom::value;
}

caf::expected<user_detail> user_store::user_detail_of(const std::string& email,
                                                      int64_t now) {
  reset_guard guard{user_detail_};
  user_detail_.bind_int64(1, now).bind_text(2, email);
  switch (user_detail_.step()) {
    case step_result::row:
      return read_detail(user_detail_);
    case step_result::done:
      return caf::make_error(ec::not_found);
    default:
      return db_failure("cannot look up user", user_detail_.status());
  }
}

caf::expected<user_page> user_store::list_users(const user_query& q) {
  reset_guard guard{list_users_};
  list_users_.bind_int64(1, q.now)
    .bind_text(2, q.after)
    .bind_text(3, q.prefix)
    .bind_int64(4, q.limit);
  user_page page;
  for (;;) {
    switch (list_users_.step()) {
      case step_result::row:
        page.users.push_back(read_detail(list_users_));
        continue;
      case step_result::done:
        return page;
      default:
        return db_failure("cannot list users", list_users_.status());
    }
  }
}

/// Runs a statement that takes one user id and returns no rows.
namespace {

bool run_for_user(statement& stmt, int64_t user_id) {
  reset_guard guard{stmt};
  stmt.bind_int64(1, user_id);
  return stmt.step() == step_result::done;
}

/// Runs a "... WHERE email = ?1 RETURNING id" statement, with `flag` as ?2
/// if given; 0 when no row matched, -1 on failure.
int64_t id_of_changed(statement& stmt, const std::string& email,
                      std::optional<bool> flag = std::nullopt) {
  reset_guard guard{stmt};
  stmt.bind_text(1, email);
  if (flag)
    stmt.bind_int64(2, *flag ? 1 : 0);
  auto step = stmt.step();
  if (step == step_result::done)
    return 0;
  if (step != step_result::row)
    return -1;
  auto id = stmt.column_int64(0);
  return stmt.step() == step_result::done ? id : -1;
}

} // namespace

caf::expected<int64_t> user_store::set_disabled(const std::string& email,
                                                bool disabled) {
  transaction tx{*db_};
  if (!tx.active())
    return db_failure("cannot begin disabling", tx.status());
  auto id = id_of_changed(set_disabled_, email, disabled);
  if (id < 0)
    return db_failure("cannot disable user", set_disabled_.status());
  if (id == 0)
    return caf::make_error(ec::not_found);
  if (disabled && !run_for_user(revoke_all_, id))
    return db_failure("cannot revoke sessions", revoke_all_.status());
  if (auto st = tx.commit(); !st.ok())
    return db_failure("cannot commit disabling", st);
  return id;
}

caf::expected<int64_t> user_store::delete_user(const std::string& email) {
  transaction tx{*db_};
  if (!tx.active())
    return db_failure("cannot begin deleting", tx.status());
  // The foreign keys cascade too; deleting explicitly does not depend on
  // PRAGMA foreign_keys being on for this connection.
  auto found = user_by_email(email);
  if (!found)
    return std::move(found.error());
  auto id = found->user.id;
  if (!run_for_user(revoke_all_, id))
    return db_failure("cannot delete sessions", revoke_all_.status());
  if (!run_for_user(delete_devices_, id))
    return db_failure("cannot delete device tokens", delete_devices_.status());
  if (id_of_changed(delete_user_, email) != id)
    return db_failure("cannot delete user", delete_user_.status());
  if (auto st = tx.commit(); !st.ok())
    return db_failure("cannot commit deleting", st);
  return id;
}

caf::expected<session_list> user_store::sessions_of(const std::string& email,
                                                    int64_t now) {
  auto found = user_by_email(email);
  if (!found)
    return std::move(found.error());
  reset_guard guard{sessions_of_};
  sessions_of_.bind_int64(1, found->user.id).bind_int64(2, now);
  session_list out;
  for (;;) {
    switch (sessions_of_.step()) {
      case step_result::row:
        out.sessions.push_back(session_info{
          sessions_of_.column_int64(0), sessions_of_.column_int64(1),
          sessions_of_.column_int64(2), sessions_of_.column_text(3)});
        continue;
      case step_result::done:
        return out;
      default:
        return db_failure("cannot list sessions", sessions_of_.status());
    }
  }
}

caf::expected<revoke_result>
user_store::revoke_sessions(const std::string& email, int64_t session_id) {
  auto found = user_by_email(email);
  if (!found)
    return std::move(found.error());
  auto id = found->user.id;
  auto& stmt = session_id == 0 ? revoke_all_ : revoke_one_;
  reset_guard guard{stmt};
  stmt.bind_int64(1, id);
  if (session_id != 0)
    stmt.bind_int64(2, session_id);
  if (stmt.step() != step_result::done)
    return db_failure("cannot revoke sessions", stmt.status());
  return revoke_result{id, db_->changes()};
}

caf::expected<bool> user_store::rehash_password(const password_rehash& x) {
  reset_guard guard{rehash_};
  rehash_.bind_int64(1, x.user_id)
    .bind_text(2, x.old_hash)
    .bind_text(3, x.new_hash);
  if (rehash_.step() != step_result::done)
    return db_failure("cannot store rehashed password", rehash_.status());
  return db_->changes() == 1;
}

caf::expected<import_outcome>
user_store::import_users(const import_batch& batch) {
  transaction tx{*db_};
  if (!tx.active())
    return db_failure("cannot begin import", tx.status());
  import_outcome out;
  for (auto& u : batch.users) {
    auto found = user_by_email(u.email);
    if (!found && found.error() != caf::make_error(ec::not_found))
      return std::move(found.error());
    if (!found) {
      auto added = add_user(u);
      if (!added)
        return std::move(added.error());
      ++out.counts.imported;
      continue;
    }
    auto new_hash = found->password_hash != u.password_hash;
    if (!batch.update || (!new_hash && found->user.name == u.name)) {
      ++out.counts.skipped;
      continue;
    }
    auto id = found->user.id;
    {
      reset_guard guard{update_imported_};
      update_imported_.bind_int64(1, id).bind_text(2, u.name).bind_text(
        3, u.password_hash);
      if (update_imported_.step() != step_result::done)
        return db_failure("cannot update imported user",
                          update_imported_.status());
    }
    ++out.counts.updated;
    if (!new_hash)
      continue;
    if (!run_for_user(revoke_all_, id))
      return db_failure("cannot revoke sessions", revoke_all_.status());
    out.replaced.push_back(found->user);
  }
  if (auto st = tx.commit(); !st.ok())
    return db_failure("cannot commit import", st);
  return out;
}

caf::expected<int64_t> user_store::purge_expired(int64_t now) {
  reset_guard guard{purge_};
  purge_.bind_int64(1, now);
  if (purge_.step() != step_result::done)
    return db_failure("cannot purge sessions", purge_.status());
  return db_->changes();
}

caf::expected<std::unique_ptr<backup_job>>
user_store::begin_backup(const std::string& path) {
  if (db_->dialect() != sql_dialect::sqlite)
    return caf::make_error(
      ec::backup_failed,
      std::string{"backup copies SQLite databases only; back PostgreSQL up "
                  "with pg_dump or pg_basebackup (see docs/operations.md)"});
  return backup_job::start(static_cast<sqlite_db&>(*db_).handle(), path);
}

caf::expected<int64_t> user_store::set_verified(const std::string& email,
                                                bool verified) {
  auto id = id_of_changed(set_verified_, email, verified);
  if (id < 0)
    return db_failure("cannot mark the address", set_verified_.status());
  if (id == 0)
    return caf::make_error(ec::not_found);
  return id;
}

caf::expected<caf::ok_atom>
user_store::replace_hash(int64_t user_id, const std::string& password_hash) {
  {
    reset_guard guard{set_hash_};
    set_hash_.bind_int64(1, user_id).bind_text(2, password_hash);
    if (set_hash_.step() != step_result::done)
      return db_failure("cannot store password", set_hash_.status());
    if (db_->changes() == 0)
      return caf::make_error(ec::not_found);
  }
  if (!run_for_user(revoke_all_, user_id))
    return db_failure("cannot revoke sessions", revoke_all_.status());
  return caf::ok_atom::value;
}

caf::expected<caf::ok_atom> user_store::mark_verified(int64_t user_id) {
  if (!run_for_user(verify_user_, user_id))
    return db_failure("cannot mark the address", verify_user_.status());
  if (db_->changes() == 0)
    return caf::make_error(ec::not_found);
  return caf::ok_atom::value;
}

caf::expected<caf::ok_atom> user_store::change_email(int64_t user_id,
                                                     const std::string& email) {
  reset_guard guard{set_email_};
  set_email_.bind_int64(1, user_id).bind_text(2, email);
  if (set_email_.step() != step_result::done) {
    if (set_email_.status().unique_violation())
      return caf::make_error(ec::email_taken);
    return db_failure("cannot change the address", set_email_.status());
  }
  if (db_->changes() == 0)
    return caf::make_error(ec::not_found);
  return caf::ok_atom::value;
}

} // namespace authnode
