#include "storage/passkey_store.hpp"
#include "storage/store_errors.hpp"

#include <sodium.h>

#include "core/error_code.hpp"
#include "core/secrets.hpp"

namespace authnode {

namespace {

/// A user's WebAuthn handle: 32 random bytes (WebAuthn allows up to 64).
constexpr size_t handle_bytes = 32;

/// Decoy credential ids are as long as those of common platform
/// authenticators and password managers.
constexpr size_t decoy_bytes = 32;

passkey_info read_info(const statement& stmt) {
  return passkey_info{stmt.column_blob(0), stmt.column_text(1),
                      stmt.column_int64(2), stmt.column_int64(3)};
}

} // namespace

std::unique_ptr<passkey_store> passkey_store::open(user_store& users,
                                                   const node_keys& keys,
                                                   std::string& error) {
  std::unique_ptr<passkey_store> s{new passkey_store(users, keys)};
  const statement_text entries[] = {
    {s->handle_of_, "SELECT webauthn_handle FROM users WHERE id = ?1"},
    {s->set_handle_,
     "UPDATE users SET webauthn_handle = ?2"
     " WHERE id = ?1 AND webauthn_handle IS NULL"},
    {s->ids_of_,
     "SELECT credential_id FROM passkeys WHERE user_id = ?1 ORDER BY id"},
    {s->insert_,
     "INSERT INTO passkeys(user_id, credential_id, public_key, alg,"
     " sign_count, name, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"},
    {s->list_,
     "SELECT credential_id, name, created_at, last_used_at FROM passkeys"
     " WHERE user_id = ?1 ORDER BY id"},
    {s->by_credential_,
     "SELECT p.user_id, p.public_key, p.alg, p.sign_count, u.webauthn_handle"
     " FROM passkeys p JOIN users u ON u.id = p.user_id"
     " WHERE p.credential_id = ?1"},
    // The counter rule in the statement that stores it (see the header).
    {s->use_,
     "UPDATE passkeys SET sign_count = ?2, last_used_at = ?3"
     " WHERE credential_id = ?1"
     "   AND (sign_count < ?2 OR (sign_count = 0 AND ?2 = 0))"},
    {s->delete_,
     "DELETE FROM passkeys WHERE user_id = ?1 AND credential_id = ?2"},
    {s->put_challenge_,
     "INSERT INTO webauthn_challenges(challenge_hash, purpose, user_id,"
     " email, name, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"},
    // Found means used up: whatever the finish makes of it, it is gone.
    {s->take_challenge_,
     "DELETE FROM webauthn_challenges WHERE challenge_hash = ?1"
     " RETURNING purpose, user_id, email, name, expires_at"},
    {s->purge_, "DELETE FROM webauthn_challenges WHERE expires_at <= ?1"},
  };
  if (!prepare_statements(users.connection(), entries, error))
    return nullptr;
  return s;
}

caf::expected<passkey_owner>
passkey_store::begin_registration(const webauthn_challenge& c) {
  transaction tx{users_.connection()};
  if (!tx.active())
    return db_failure("cannot begin a passkey registration", tx.status());
  passkey_owner out;
  {
    reset_guard guard{handle_of_};
    handle_of_.bind_int64(1, c.user_id);
    auto step = handle_of_.step();
    if (step == step_result::error)
      return db_failure("cannot read a WebAuthn handle", handle_of_.status());
    if (step == step_result::done)
      return caf::make_error(ec::not_found);
    if (!handle_of_.column_is_null(0))
      out.user_handle = handle_of_.column_blob(0);
  }
  if (out.user_handle.empty()) {
    out.user_handle.assign(handle_bytes, '\0');
    randombytes_buf(out.user_handle.data(), out.user_handle.size());
    reset_guard guard{set_handle_};
    set_handle_.bind_int64(1, c.user_id).bind_blob(2, out.user_handle);
    if (auto ok = run(set_handle_, "cannot store a WebAuthn handle"); !ok)
      return std::move(ok.error());
  }
  auto ids = ids_of(c.user_id);
  if (!ids)
    return std::move(ids.error());
  out.credential_ids = std::move(*ids);
  if (auto ok = put_challenge(c); !ok)
    return std::move(ok.error());
  if (auto st = tx.commit(); !st.ok())
    return db_failure("cannot commit a passkey registration", st);
  return out;
}

caf::expected<webauthn_challenge>
passkey_store::take_registration(const std::string& challenge, int64_t user_id,
                                 int64_t now) {
  auto found = take_challenge(challenge, webauthn_purpose::registration, now);
  if (found && found->user_id != user_id)
    return caf::make_error(ec::invalid_code);
  return found;
}

caf::expected<passkey_info> passkey_store::add(const passkey_new& x) {
  reset_guard guard{insert_};
  auto& c = x.credential;
  insert_.bind_int64(1, x.user_id)
    .bind_blob(2, c.credential_id)
    .bind_blob(3, c.cose_key)
    .bind_int64(4, static_cast<int64_t>(c.alg))
    .bind_int64(5, c.sign_count)
    .bind_text(6, x.name)
    .bind_int64(7, x.at);
  if (insert_.step() != step_result::done) {
    if (insert_.status().unique_violation())
      return caf::make_error(ec::conflict,
                             std::string{"this passkey is registered already"});
    return db_failure("cannot store a passkey", insert_.status());
  }
  return passkey_info{c.credential_id, x.name, x.at, 0};
}

caf::expected<passkey_owner>
passkey_store::begin_login(const webauthn_challenge& c) {
  passkey_owner out;
  if (!c.email.empty()) {
    auto user = users_.user_by_email(c.email);
    if (!user && user.error() != caf::make_error(ec::not_found))
      return std::move(user.error());
    if (user) {
      auto ids = ids_of(user->user.id);
      if (!ids)
        return std::move(ids.error());
      out.credential_ids = std::move(*ids);
    }
    if (out.credential_ids.empty())
      out.credential_ids = decoys(c.email);
  }
  if (auto ok = put_challenge(c); !ok)
    return std::move(ok.error());
  return out;
}

caf::expected<passkey_claim> passkey_store::claim(const passkey_lookup& x) {
  passkey_claim out;
  auto challenge = take_challenge(x.challenge, webauthn_purpose::login, x.now);
  if (challenge) {
    out.live = true;
    out.challenge = std::move(*challenge);
  } else if (challenge.error() != caf::make_error(ec::invalid_code)) {
    return std::move(challenge.error());
  }
  int64_t user_id = 0;
  {
    reset_guard guard{by_credential_};
    by_credential_.bind_blob(1, x.credential_id);
    auto step = by_credential_.step();
    if (step == step_result::error)
      return db_failure("cannot look up a passkey", by_credential_.status());
    if (step == step_result::done)
      return out; // known: false
    user_id = by_credential_.column_int64(0);
    out.credential.credential_id = x.credential_id;
    out.credential.cose_key = by_credential_.column_blob(1);
    out.credential.alg = static_cast<cose_alg>(by_credential_.column_int64(2));
    out.credential.sign_count
      = static_cast<uint32_t>(by_credential_.column_int64(3));
    if (!by_credential_.column_is_null(4))
      out.user_handle = by_credential_.column_blob(4);
  }
  auto owner = users_.user_by_id(user_id);
  if (!owner)
    return std::move(owner.error());
  out.owner = std::move(*owner);
  out.known = true;
  return out;
}

caf::expected<caf::ok_atom> passkey_store::use(const passkey_use& x) {
  reset_guard guard{use_};
  use_.bind_blob(1, x.credential_id)
    .bind_int64(2, x.sign_count)
    .bind_int64(3, x.at);
  if (auto ok = run(use_, "cannot store a passkey's counter"); !ok)
    return ok;
  if (users_.connection().changes() == 0)
    return caf::make_error(ec::conflict,
                           std::string{"the signature counter went back"});
  return caf::ok_atom::value;
}

caf::expected<passkey_list> passkey_store::list(int64_t user_id) {
  reset_guard guard{list_};
  list_.bind_int64(1, user_id);
  passkey_list out;
  for (;;) {
    switch (list_.step()) {
      case step_result::row:
        out.passkeys.push_back(read_info(list_));
        continue;
      case step_result::done:
        return out;
      default:
        return db_failure("cannot list passkeys", list_.status());
    }
  }
}

caf::expected<caf::ok_atom>
passkey_store::remove(int64_t user_id, const std::string& credential_id) {
  reset_guard guard{delete_};
  delete_.bind_int64(1, user_id).bind_blob(2, credential_id);
  if (auto ok = run(delete_, "cannot delete a passkey"); !ok)
    return ok;
  if (users_.connection().changes() == 0)
    return caf::make_error(ec::not_found);
  return caf::ok_atom::value;
}

void passkey_store::purge(int64_t now) {
  reset_guard guard{purge_};
  purge_.bind_int64(1, now);
  purge_.step();
}

caf::expected<caf::ok_atom>
passkey_store::put_challenge(const webauthn_challenge& c) {
  reset_guard guard{put_challenge_};
  put_challenge_.bind_blob(1, token_digest(c.challenge))
    .bind_int64(2, static_cast<int64_t>(c.purpose))
    .bind_int64(3, c.user_id)
    .bind_text(4, c.email)
    .bind_text(5, c.name)
    .bind_int64(6, c.expires_at);
  return run(put_challenge_, "cannot store a WebAuthn challenge");
}

caf::expected<webauthn_challenge>
passkey_store::take_challenge(const std::string& challenge,
                              webauthn_purpose purpose, int64_t now) {
  reset_guard guard{take_challenge_};
  take_challenge_.bind_blob(1, token_digest(challenge));
  auto step = take_challenge_.step();
  if (step == step_result::error)
    return db_failure("cannot take a WebAuthn challenge",
                      take_challenge_.status());
  if (step == step_result::done)
    return caf::make_error(ec::invalid_code);
  webauthn_challenge out;
  out.challenge = challenge;
  out.purpose
    = static_cast<webauthn_purpose>(take_challenge_.column_int64(0));
  out.user_id = take_challenge_.column_int64(1);
  out.email = take_challenge_.column_text(2);
  out.name = take_challenge_.column_text(3);
  out.expires_at = take_challenge_.column_int64(4);
  // Finish the DELETE ... RETURNING before answering: only then is the row
  // gone.
  while (take_challenge_.step() == step_result::row) {
  }
  if (out.purpose != purpose || out.expires_at <= now)
    return caf::make_error(ec::invalid_code);
  return out;
}

caf::expected<std::vector<std::string>> passkey_store::ids_of(int64_t user_id) {
  reset_guard guard{ids_of_};
  ids_of_.bind_int64(1, user_id);
  std::vector<std::string> out;
  for (;;) {
    switch (ids_of_.step()) {
      case step_result::row:
        out.push_back(ids_of_.column_blob(0));
        continue;
      case step_result::done:
        return out;
      default:
        return db_failure("cannot list passkeys", ids_of_.status());
    }
  }
}

std::vector<std::string>
passkey_store::decoys(const std::string& email) const {
  static constexpr char context[] = "authnode passkey decoy\n";
  std::string input = context + email;
  std::string id(decoy_bytes, '\0');
  crypto_generichash(reinterpret_cast<unsigned char*>(id.data()), id.size(),
                     reinterpret_cast<const unsigned char*>(input.data()),
                     input.size(), keys_.codes.data(), keys_.codes.size());
  return {std::move(id)};
}

} // namespace authnode
