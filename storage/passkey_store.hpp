// Passkeys in SQLite, on the user store's connection (the database actor's
// thread only): each user's WebAuthn handle, their credentials (COSE public
// key, signature counter, name, times) and the challenges issued.
//
// Challenges live here rather than in the actor that issued them so that
// every gateway of a cluster sees them: a login begun through one gateway
// may finish through another. They are kept by digest only (like session
// tokens), are single use (the statement that finds one deletes it, so two
// finishes of one challenge cannot both get it) and die after their TTL.
//
// Verification is not done here (the hashers do it, core/webauthn.hpp):
// the store says what an assertion is to be checked against, and stores
// the counter afterwards only if it still moves on, in the one UPDATE that
// checks it, so two assertions racing with one counter value cannot both
// pass.
//
// For an email without passkeys (or without an account), login_begin's
// allow list is made of decoys: ids keyed with the node's key from the
// email, so the list looks like a real one and is the same every time for
// that email.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <caf/expected.hpp>

#include "actors/interfaces.hpp"
#include "core/node_keys.hpp"
#include "storage/user_store.hpp"

namespace authnode {

class passkey_store {
public:
  /// Prepares the statements on the users' connection; `users` must
  /// outlive the store. `keys.codes` keys the decoys.
  static std::unique_ptr<passkey_store>
  open(user_store& users, const node_keys& keys, std::string& error);

  /// Stores a registration challenge; the user's handle (made now if it
  /// has none) and their credentials' ids, for excludeCredentials.
  caf::expected<passkey_owner> begin_registration(const webauthn_challenge& c);

  /// Uses up the registration challenge `challenge` of `user_id`, if live
  /// at `now`; ec::invalid_code if there is none.
  caf::expected<webauthn_challenge>
  take_registration(const std::string& challenge, int64_t user_id,
                    int64_t now);

  /// Stores a verified credential; ec::conflict if its id is registered.
  caf::expected<passkey_info> add(const passkey_new& x);

  /// Stores a login challenge; the allow list for its email: the user's
  /// credentials, decoys if there are none, nothing without an email.
  caf::expected<passkey_owner> begin_login(const webauthn_challenge& c);

  /// Uses up the login challenge and finds the credential the assertion
  /// names (whether or not the challenge was live: the guard keys the
  /// failure on its owner).
  caf::expected<passkey_claim> claim(const passkey_lookup& x);

  /// Stores the counter of a verified assertion and its time, if the
  /// counter still moves on (or stays 0 on a counterless authenticator);
  /// ec::conflict if it does not.
  caf::expected<caf::ok_atom> use(const passkey_use& x);

  caf::expected<passkey_list> list(int64_t user_id);

  /// ec::not_found if the user has no passkey with that id.
  caf::expected<caf::ok_atom> remove(int64_t user_id,
                                     const std::string& credential_id);

  /// Removes expired challenges.
  void purge(int64_t now);

private:
  passkey_store(user_store& users, const node_keys& keys)
    : users_(users), keys_(keys) {
  }

  caf::expected<caf::ok_atom> put_challenge(const webauthn_challenge& c);
  caf::expected<webauthn_challenge> take_challenge(const std::string& challenge,
                                                   webauthn_purpose purpose,
                                                   int64_t now);
  caf::expected<std::vector<std::string>> ids_of(int64_t user_id);
  std::vector<std::string> decoys(const std::string& email) const;

  user_store& users_;
  node_keys keys_;
  statement handle_of_;
  statement set_handle_;
  statement ids_of_;
  statement insert_;
  statement list_;
  statement by_credential_;
  statement use_;
  statement delete_;
  statement put_challenge_;
  statement take_challenge_;
  statement purge_;
};

} // namespace authnode
