// Account recovery by a mailed code, run by the auth actor
// (actors/recovery_flow.cpp has its steps, in the order they run).
#pragma once

#include "actors/auth_steps.hpp"
#include "actors/interfaces.hpp"

namespace authnode {

/// recovery_start: mails a code if the address has an enabled account with
/// mail budget left; answers ok whichever it is (the connection holds the
/// reply until --recovery-reply-time has passed, so that its timing does not
/// tell either).
caf::result<caf::ok_atom> start_recovery(auth_ptr self,
                                         recovery_start_request& req);

/// recovery_finish: the code and a new password; answers with a session,
/// or a held invalid_code.
caf::result<session_grant> finish_recovery(auth_ptr self,
                                           recovery_finish_request& req);

} // namespace authnode
