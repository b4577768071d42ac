// The register op, run by the auth actor (actors/register_flow.cpp has its
// steps, in the order they run).
#pragma once

#include "actors/auth_steps.hpp"
#include "actors/interfaces.hpp"

namespace authnode {

/// Starts a registration; answers with the new user, or an error
/// (email_taken, weak_password, rate_limited, ...).
caf::result<user_view> start_register(auth_ptr self, register_request& req);

} // namespace authnode
