// Passkeys (WebAuthn): registering one for the token's user, signing in
// with one, listing and deleting them, run by the auth actor
// (actors/passkey_flow.cpp has the steps, in the order they run).
#pragma once

#include "actors/auth_steps.hpp"
#include "actors/interfaces.hpp"

namespace authnode {

/// passkey_register_begin: creation options with a fresh challenge.
caf::result<webauthn_options> start_passkey_register(auth_ptr self,
                                                     passkey_begin_request& req);

/// passkey_register_finish: the new credential, checked and stored.
caf::result<passkey_info>
finish_passkey_register(auth_ptr self, passkey_register_request& req);

/// passkey_login_begin: request options with a fresh challenge.
caf::result<passkey_login_options>
start_passkey_login(auth_ptr self, passkey_login_begin_request& req);

/// passkey_login_finish: the assertion, through the guard, checked; the
/// session of a login (or second_factor_required).
caf::result<session_grant> finish_passkey_login(auth_ptr self,
                                                passkey_login_request& req);

/// passkeys_list and passkey_delete, for the token's user.
caf::result<passkey_list> list_passkeys(auth_ptr self, token_request& req);
caf::result<caf::ok_atom> delete_passkey(auth_ptr self,
                                         passkey_delete_request& req);

} // namespace authnode
