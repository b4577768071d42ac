// The change_password op, run by the auth actor (actors/password_flow.cpp
// has its steps, in the order they run).
#pragma once

#include "actors/auth_steps.hpp"
#include "actors/interfaces.hpp"

namespace authnode {

/// Starts a password change; answers ok once the new hash is stored and the
/// user's other sessions are revoked, or an error (invalid_token,
/// weak_password, a wrong old password's held invalid_credentials, ...).
caf::result<caf::ok_atom> start_change_password(auth_ptr self,
                                                password_change_request& req);

} // namespace authnode
