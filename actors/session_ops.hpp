// whoami and logout, run by the auth actor: one step each, both around the
// session cache (actors/session_cache.hpp).
#pragma once

#include "actors/auth_steps.hpp"
#include "actors/interfaces.hpp"

namespace authnode {

/// The user behind a session token: from the cache, or from the database
/// (and then cached).
caf::result<user_view> start_whoami(auth_ptr self, token_request& req);

/// The same with the session's expiry, for the connections' cache.
caf::result<session_view> start_whoami_io(auth_ptr self, token_request& req);

/// Ends a session; invalid_token if there is none.
caf::result<caf::ok_atom> start_logout(auth_ptr self, token_request& req);

} // namespace authnode
