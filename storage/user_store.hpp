// Users and sessions in the database (SQLite, or PostgreSQL for a --db
// that names one: storage/sql.hpp), as plain blocking calls.
//
// The database actor owns the one store and calls it from its own thread, so
// the connection is opened without SQLite's mutexes. Every statement is
// prepared once at open and reused. Tokens never reach the database: sessions
// are keyed by the token's digest (raw bytes, stored as a BLOB).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <caf/atom.hpp>
#include <caf/expected.hpp>

#include "actors/interfaces.hpp"
#include "storage/backup.hpp"
#include "storage/sql.hpp"

namespace authnode {

class user_store {
public:
  user_store(const user_store&) = delete;
  user_store& operator=(const user_store&) = delete;

  /// Opens (creating if needed, with mode 0600) and migrates the database at
  /// `path`; ":memory:" gives a private in-memory database, and a PostgreSQL
  /// URI or connection string (is_postgres_conninfo) that database. Returns
  /// null and a message for people in `error` on failure.
  static std::unique_ptr<user_store> open(const std::string& path,
                                          std::string& error);

  /// Fails with ec::email_taken if the email is registered already.
  caf::expected<user_view> add_user(const new_user& x);

  caf::expected<user_record> user_by_email(const std::string& email);

  /// The user with this id; ec::not_found if there is none.
  caf::expected<user_record> user_by_id(int64_t id);

  /// Records the login time and inserts the session (and the device token,
  /// if any), all or nothing. The session belongs to `user_id`
  /// (session.user_id may be 0; any other value must match); a session
  /// created_at of 0 means `at`. Fails with ec::not_found for an unknown user.
  caf::expected<caf::ok_atom> commit_login(const login_commit& x);

  /// The live session whose token hashes to `token_digest`, unless it expired
  /// at or before `now`.
  caf::expected<session_owner> session_owner_of(const std::string& token_digest,
                                                int64_t now);

  /// Removes the session; ec::not_found unless it was live at `now`.
  caf::expected<caf::ok_atom> delete_session(const std::string& token_digest,
                                             int64_t now);

  /// Replaces the hash and revokes every other session of the user, all or
  /// nothing.
  caf::expected<caf::ok_atom> set_password(const password_change& x);

  /// The device token whose digest this is; ec::not_found if none.
  caf::expected<device_record> device_of(const std::string& token_digest);

  /// Counts a wrong password presented with this device token.
  caf::expected<caf::ok_atom> device_failed(const std::string& token_digest);

  /// The user with this email as operators see it; sessions count if live
  /// at `now`. ec::not_found if none.
  caf::expected<user_detail> user_detail_of(const std::string& email,
                                            int64_t now);

  /// One page of users in email order (see user_query); `limit` must be
  /// positive.
  caf::expected<user_page> list_users(const user_query& q);

  /// Disables (revoking every session of the user, all or nothing) or
  /// enables the user; returns the user's id, or ec::not_found.
  caf::expected<int64_t> set_disabled(const std::string& email, bool disabled);

  /// Removes the user with its sessions and device tokens, all or nothing;
  /// returns the id it had, or ec::not_found.
  caf::expected<int64_t> delete_user(const std::string& email);

  /// The user's sessions live at `now`, oldest first; ec::not_found for an
  /// unknown email.
  caf::expected<session_list> sessions_of(const std::string& email,
                                          int64_t now);

  /// Removes the user's session `session_id`, or all of them for 0; returns
  /// the user and how many were removed (0 for an id that is not the
  /// user's). ec::not_found for an unknown email.
  caf::expected<revoke_result> revoke_sessions(const std::string& email,
                                               int64_t session_id);

  /// Replaces the user's hash with `new_hash` if it is still `old_hash`;
  /// returns whether it did.
  caf::expected<bool> rehash_password(const password_rehash& x);

  /// Stores a checked user_import batch in one transaction, all or nothing.
  /// A new email is added; an existing one is skipped, or with `update` its
  /// name and hash are replaced (skipped still if both are the same). A
  /// replaced hash revokes every session of the user, as set_password does.
  caf::expected<import_outcome> import_users(const import_batch& batch);

  /// Removes the sessions that expired at or before `now`; returns how many.
  caf::expected<int64_t> purge_expired(int64_t now);

  /// Starts an online backup of this store to `path` (see backup_job). The
  /// store must outlive the job; writes through the store go on meanwhile.
  caf::expected<std::unique_ptr<backup_job>>
  begin_backup(const std::string& path);

  /// Marks the user's address proven (or not); returns the user's id, or
  /// ec::not_found.
  caf::expected<int64_t> set_verified(const std::string& email, bool verified);

  // -- pieces of a caller's transaction --------------------------------------
  //
  // The account store (storage/account_store.hpp) writes a code, a user
  // change and a session in one transaction on this connection; these run
  // inside it and begin none of their own.

  sql_db& connection() {
    return *db_;
  }

  /// What commit_login writes.
  caf::expected<caf::ok_atom> write_login(const login_commit& x);

  /// Replaces the user's hash and revokes every session of the user.
  caf::expected<caf::ok_atom> replace_hash(int64_t user_id,
                                           const std::string& password_hash);

  /// Marks the user's address proven.
  caf::expected<caf::ok_atom> mark_verified(int64_t user_id);

  /// Gives the user a new, proven address; ec::email_taken if another user
  /// has it.
  caf::expected<caf::ok_atom> change_email(int64_t user_id,
                                           const std::string& email);

private:
  user_store() = default;

  bool prepare_all(std::string& error);

  std::unique_ptr<sql_db> db_;
  statement insert_user_;
  statement user_by_email_;
  statement user_by_id_;
  statement touch_login_;
  statement set_hash_;
  statement insert_session_;
  statement insert_device_;
  statement device_of_;
  statement device_failed_;
  statement session_owner_;
  statement delete_session_;
  statement revoke_others_;
  statement purge_;
  statement user_detail_;
  statement list_users_;
  statement set_disabled_;
  statement revoke_all_;
  statement delete_devices_;
  statement delete_user_;
  statement sessions_of_;
  statement revoke_one_;
  statement rehash_;
  statement update_imported_;
  statement set_verified_;
  statement verify_user_;
  statement set_email_;
};

} // namespace authnode
