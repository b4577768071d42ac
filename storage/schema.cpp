#include "storage/schema.hpp"

#include <array>

#include "storage/sql.hpp"

namespace authnode {

namespace {

// migrations[i] takes the schema from version i to version i + 1. Append
// only: a released migration never changes.
constexpr std::array<const char*, 8> migrations{{
  // Version 1. last_login_at is NULL until the first login.
  R"sql(
    CREATE TABLE users (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      email TEXT NOT NULL UNIQUE,
      name TEXT NOT NULL,
      password_hash TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      last_login_at INTEGER
    );
    CREATE TABLE sessions (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      token_hash BLOB NOT NULL UNIQUE,
      user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      created_at INTEGER NOT NULL,
      expires_at INTEGER NOT NULL,
      source TEXT NOT NULL
    );
    CREATE INDEX sessions_user_id ON sessions(user_id);
    CREATE INDEX sessions_expires_at ON sessions(expires_at);
  )sql",
  // Version 2. Device tokens: a device that logged in before may log in
  // while its account is penalized; only the token's digest is stored.
  R"sql(
    CREATE TABLE device_tokens (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      token_hash BLOB NOT NULL UNIQUE,
      user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      created_at INTEGER NOT NULL,
      failures INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX device_tokens_user_id ON device_tokens(user_id);
  )sql",
  // Version 3. An operator may disable an account (admin channel): its
  // logins then fail like a wrong password.
  R"sql(
    ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
  )sql",
  // Version 4. Proven email addresses; one-time codes (only their keyed
  // digests, one live code per user and purpose); the mails sent per user
  // and purpose, for the hourly budget; the outbox of mail to deliver,
  // each sealed with the node's secret key (core/node_keys.hpp).
  R"sql(
    ALTER TABLE users ADD COLUMN email_verified INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE account_codes (
      user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      purpose INTEGER NOT NULL,
      code_hash BLOB NOT NULL,
      new_email TEXT NOT NULL DEFAULT '',
      created_at INTEGER NOT NULL,
      expires_at INTEGER NOT NULL,
      failures INTEGER NOT NULL DEFAULT 0,
      PRIMARY KEY (user_id, purpose)
    );
    CREATE INDEX account_codes_expires_at ON account_codes(expires_at);
    CREATE TABLE code_mails (
      user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      purpose INTEGER NOT NULL,
      sent_at INTEGER NOT NULL
    );
    CREATE INDEX code_mails_user ON code_mails(user_id, purpose, sent_at);
    CREATE TABLE mail_outbox (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      created_at_ms INTEGER NOT NULL,
      next_at_ms INTEGER NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0,
      last_error TEXT NOT NULL DEFAULT '',
      sealed BLOB NOT NULL
    );
    CREATE INDEX mail_outbox_next_at ON mail_outbox(next_at_ms);
  )sql",
  // Version 5. Second factors (storage/second_factor_store.hpp): a user's
  // TOTP seed, sealed with the node's secret key (NULL while TOTP is off),
  // a pending one not yet confirmed, and the last time step accepted, never
  // accepted again; recovery codes as keyed digests, each used once; the
  // logins waiting for a second factor, by their challenge's digest, with
  // the digest of the device token their login presented (NULL: none).
  R"sql(
    CREATE TABLE second_factors (
      user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
      totp_sealed BLOB,
      pending_sealed BLOB,
      last_step INTEGER NOT NULL DEFAULT -1,
      enabled_at INTEGER
    );
    CREATE TABLE recovery_codes (
      user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      code_hash BLOB NOT NULL,
      PRIMARY KEY (user_id, code_hash)
    );
    CREATE TABLE login_challenges (
      challenge_hash BLOB PRIMARY KEY,
      user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      source TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      expires_at INTEGER NOT NULL,
      failures INTEGER NOT NULL DEFAULT 0,
      device_hash BLOB
    );
    CREATE INDEX login_challenges_user ON login_challenges(user_id);
    CREATE INDEX login_challenges_expires_at ON login_challenges(expires_at);
  )sql",
  // Version 6. Whether the password of a login waiting for its second
  // factor is in the breached-password index, so that the session grant
  // of the second step says so as a login's grant does.
  R"sql(
    ALTER TABLE login_challenges
      ADD COLUMN password_breached INTEGER NOT NULL DEFAULT 0;
  )sql",
  // Version 7. Passkeys (storage/passkey_store.hpp): each user's WebAuthn
  // handle (random, made at the first registration; never the email or the
  // id), their credentials with the COSE public key and the signature
  // counter, and the challenges issued, by keyed digest, single use, where
  // every gateway of a cluster sees them.
  R"sql(
    ALTER TABLE users ADD COLUMN webauthn_handle BLOB;
    CREATE UNIQUE INDEX users_webauthn_handle ON users(webauthn_handle);
    CREATE TABLE passkeys (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      credential_id BLOB NOT NULL UNIQUE,
      public_key BLOB NOT NULL,
      alg INTEGER NOT NULL,
      sign_count INTEGER NOT NULL DEFAULT 0,
      name TEXT NOT NULL DEFAULT '',
      created_at INTEGER NOT NULL,
      last_used_at INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX passkeys_user ON passkeys(user_id);
    CREATE TABLE webauthn_challenges (
      challenge_hash BLOB PRIMARY KEY,
      purpose INTEGER NOT NULL,
      user_id INTEGER NOT NULL DEFAULT 0,
      email TEXT NOT NULL DEFAULT '',
      name TEXT NOT NULL DEFAULT '',
      expires_at INTEGER NOT NULL
    );
    CREATE INDEX webauthn_challenges_expires_at
      ON webauthn_challenges(expires_at);
  )sql",
  // Version 8. The guard's failures per key, where every node on the
  // database counts them and a restart keeps them (storage/
  // throttle_store.hpp). A key is stored by its digest: attacked addresses
  // and emails that belong to no one are not kept in the clear.
  R"sql(
    CREATE TABLE throttle_failures (
      key_hash BLOB PRIMARY KEY,
      failures INTEGER NOT NULL,
      last_failure_ms INTEGER NOT NULL
    );
    CREATE INDEX throttle_failures_last ON throttle_failures(last_failure_ms);
  )sql",
}};

// The same versions for PostgreSQL: the same tables, columns and indexes,
// with its types (BIGINT for every integer, since a time in milliseconds
// does not fit INTEGER there; BYTEA for BLOB; identity columns for
// AUTOINCREMENT). Emails sort byte by byte (COLLATE "C"), as in SQLite, so
// that a user list pages alike on both. Append only, in step with
// `migrations`.
constexpr std::array<const char*, 8> postgres_migrations{{
  R"sql(
    CREATE TABLE users (
      id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
      email TEXT COLLATE "C" NOT NULL UNIQUE,
      name TEXT NOT NULL,
      password_hash TEXT NOT NULL,
      created_at BIGINT NOT NULL,
      last_login_at BIGINT
    );
    CREATE TABLE sessions (
      id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
      token_hash BYTEA NOT NULL UNIQUE,
      user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      created_at BIGINT NOT NULL,
      expires_at BIGINT NOT NULL,
      source TEXT NOT NULL
    );
    CREATE INDEX sessions_user_id ON sessions(user_id);
    CREATE INDEX sessions_expires_at ON sessions(expires_at);
  )sql",
  R"sql(
    CREATE TABLE device_tokens (
      id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
      token_hash BYTEA NOT NULL UNIQUE,
      user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      created_at BIGINT NOT NULL,
      failures BIGINT NOT NULL DEFAULT 0
    );
    CREATE INDEX device_tokens_user_id ON device_tokens(user_id);
  )sql",
  R"sql(
    ALTER TABLE users ADD COLUMN disabled BIGINT NOT NULL DEFAULT 0;
  )sql",
  R"sql(
    ALTER TABLE users ADD COLUMN email_verified BIGINT NOT NULL DEFAULT 0;
    CREATE TABLE account_codes (
      user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      purpose BIGINT NOT NULL,
      code_hash BYTEA NOT NULL,
      new_email TEXT NOT NULL DEFAULT '',
      created_at BIGINT NOT NULL,
      expires_at BIGINT NOT NULL,
      failures BIGINT NOT NULL DEFAULT 0,
      PRIMARY KEY (user_id, purpose)
    );
    CREATE INDEX account_codes_expires_at ON account_codes(expires_at);
    CREATE TABLE code_mails (
      user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      purpose BIGINT NOT NULL,
      sent_at BIGINT NOT NULL
    );
    CREATE INDEX code_mails_user ON code_mails(user_id, purpose, sent_at);
    CREATE TABLE mail_outbox (
      id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
      created_at_ms BIGINT NOT NULL,
      next_at_ms BIGINT NOT NULL,
      attempts BIGINT NOT NULL DEFAULT 0,
      last_error TEXT NOT NULL DEFAULT '',
      sealed BYTEA NOT NULL
    );
    CREATE INDEX mail_outbox_next_at ON mail_outbox(next_at_ms);
  )sql",
  R"sql(
    CREATE TABLE second_factors (
      user_id BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
      totp_sealed BYTEA,
      pending_sealed BYTEA,
      last_step BIGINT NOT NULL DEFAULT -1,
      enabled_at BIGINT
    );
    CREATE TABLE recovery_codes (
      user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      code_hash BYTEA NOT NULL,
      PRIMARY KEY (user_id, code_hash)
    );
    CREATE TABLE login_challenges (
      challenge_hash BYTEA PRIMARY KEY,
      user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      source TEXT NOT NULL,
      created_at BIGINT NOT NULL,
      expires_at BIGINT NOT NULL,
      failures BIGINT NOT NULL DEFAULT 0,
      device_hash BYTEA
    );
    CREATE INDEX login_challenges_user ON login_challenges(user_id);
    CREATE INDEX login_challenges_expires_at ON login_challenges(expires_at);
  )sql",
  R"sql(
    ALTER TABLE login_challenges
      ADD COLUMN password_breached BIGINT NOT NULL DEFAULT 0;
  )sql",
  R"sql(
    ALTER TABLE users ADD COLUMN webauthn_handle BYTEA;
    CREATE UNIQUE INDEX users_webauthn_handle ON users(webauthn_handle);
    CREATE TABLE passkeys (
      id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
      user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      credential_id BYTEA NOT NULL UNIQUE,
      public_key BYTEA NOT NULL,
      alg BIGINT NOT NULL,
      sign_count BIGINT NOT NULL DEFAULT 0,
      name TEXT NOT NULL DEFAULT '',
      created_at BIGINT NOT NULL,
      last_used_at BIGINT NOT NULL DEFAULT 0
    );
    CREATE INDEX passkeys_user ON passkeys(user_id);
    CREATE TABLE webauthn_challenges (
      challenge_hash BYTEA PRIMARY KEY,
      purpose BIGINT NOT NULL,
      user_id BIGINT NOT NULL DEFAULT 0,
      email TEXT NOT NULL DEFAULT '',
      name TEXT NOT NULL DEFAULT '',
      expires_at BIGINT NOT NULL
    );
    CREATE INDEX webauthn_challenges_expires_at
      ON webauthn_challenges(expires_at);
  )sql",
  R"sql(
    CREATE TABLE throttle_failures (
      key_hash BYTEA PRIMARY KEY,
      failures BIGINT NOT NULL,
      last_failure_ms BIGINT NOT NULL
    );
    CREATE INDEX throttle_failures_last ON throttle_failures(last_failure_ms);
  )sql",
}};

static_assert(postgres_migrations.size() == migrations.size(),
              "every schema version exists for both backends");

// Where each backend keeps the version: SQLite in its header (PRAGMA
// user_version), PostgreSQL in a table of one row, made in the first
// migration's transaction. Two nodes that start at once on one PostgreSQL
// database take turns at an advisory lock, held to the transaction's end.
constexpr const char* postgres_version_table
  = "SELECT pg_advisory_xact_lock(7303010001);"
    "CREATE TABLE IF NOT EXISTS authnode_schema (version BIGINT NOT NULL);"
    "INSERT INTO authnode_schema SELECT 0"
    " WHERE NOT EXISTS (SELECT 1 FROM authnode_schema)";

bool read_version(sql_db& db, int& version, std::string& error) {
  bool postgres = db.dialect() == sql_dialect::postgresql;
  statement stmt;
  auto st = stmt.prepare(db,
                         postgres ? "SELECT version FROM authnode_schema"
                                  : "PRAGMA user_version");
  if (!st.ok()) {
    error = "cannot read the schema version: " + st.message;
    return false;
  }
  if (stmt.step() != step_result::row) {
    error = "cannot read the schema version: " + stmt.status().message;
    return false;
  }
  version = static_cast<int>(stmt.column_int64(0));
  return true;
}

std::string version_update(sql_db& db, int target) {
  // Neither takes a parameter here; `target` is a number from this file.
  if (db.dialect() == sql_dialect::postgresql)
    return "UPDATE authnode_schema SET version = " + std::to_string(target);
  return "PRAGMA user_version = " + std::to_string(target);
}

const char* migration(sql_db& db, int target) {
  if (db.dialect() == sql_dialect::postgresql)
    return postgres_migrations[target - 1];
  return migrations[target - 1];
}

std::string too_new(int version) {
  return "database schema version " + std::to_string(version)
    + " is newer than this authnode supports ("
    + std::to_string(schema_version()) + ")";
}

// Reads the version inside the write transaction, so two processes that
// migrate the same file at once cannot both apply a step.
bool apply(sql_db& db, int target, std::string& error) {
  transaction tx{db};
  if (!tx.active()) {
    error = "cannot start a migration: " + tx.status().message;
    return false;
  }
  if (db.dialect() == sql_dialect::postgresql) {
    if (auto st = db.exec(postgres_version_table); !st.ok()) {
      error = "cannot read the schema version: " + st.message;
      return false;
    }
  }
  int version = 0;
  if (!read_version(db, version, error))
    return false;
  if (version > schema_version()) {
    error = too_new(version);
    return false;
  }
  if (version >= target)
    return true;
  auto fail = [&](const std::string& what, const sql_status& st) {
    error = "migration to schema version " + std::to_string(target)
      + " failed: " + what + ": " + st.message;
    return false;
  };
  if (auto st = db.exec(migration(db, target)); !st.ok())
    return fail("schema change", st);
  if (auto st = db.exec(version_update(db, target).c_str()); !st.ok())
    return fail("version update", st);
  if (auto st = tx.commit(); !st.ok())
    return fail("commit", st);
  return true;
}

} // namespace

int schema_version() {
  return static_cast<int>(migrations.size());
}

bool migrate(sql_db& db, std::string& error) {
  int version = 0;
  // A PostgreSQL database without the version table is at version 0; the
  // first apply() makes the table.
  if (db.dialect() == sql_dialect::sqlite && !read_version(db, version, error))
    return false;
  if (version > schema_version()) {
    error = too_new(version);
    return false;
  }
  for (int target = version + 1; target <= schema_version(); ++target)
    if (!apply(db, target, error))
      return false;
  return true;
}

} // namespace authnode
