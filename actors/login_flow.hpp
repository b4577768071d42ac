// The login op, run by the auth actor (actors/login_flow.cpp has its steps,
// in the order they run).
#pragma once

#include "actors/auth_steps.hpp"
#include "actors/interfaces.hpp"

namespace authnode {

/// Starts a login; answers with a session grant, or an error (a wrong
/// password's held for failure-delay).
caf::result<session_grant> start_login(auth_ptr self, login_request& req);

} // namespace authnode
