// The second factor: TOTP set up, turned on and off, recovery codes
// renewed, and the login's second step, run by the auth actor
// (actors/second_factor_flow.cpp has the steps, in the order they run).
#pragma once

#include <string>

#include "actors/auth_steps.hpp"
#include "actors/interfaces.hpp"

namespace authnode {

/// totp_setup: a new seed for the token's user, pending until enabled.
caf::result<totp_setup_reply> start_totp_setup(auth_ptr self,
                                               token_request& req);

/// totp_enable: a code of the pending seed turns TOTP on; answers with the
/// recovery codes, shown this once.
caf::result<recovery_code_list> enable_totp(auth_ptr self,
                                            token_code_request& req);

/// totp_disable: the password and a TOTP or recovery code turn it off.
caf::result<caf::ok_atom> disable_totp(auth_ptr self,
                                       totp_disable_request& req);

/// recovery_codes_renew: a TOTP or recovery code; ten new recovery codes,
/// the old ones void.
caf::result<recovery_code_list> renew_recovery_codes(auth_ptr self,
                                                     token_code_request& req);

/// login_second_factor: the challenge and a code; the session, as a login
/// grants it.
caf::result<session_grant> finish_second_factor_login(auth_ptr self,
                                                      second_factor_login& req);

/// The password of `user`, who has TOTP on, matched (in `op`: login,
/// recovery_finish): opens a challenge and answers `rp` with
/// second_factor_required, which carries it. `device_digest`: the device
/// token the login presented, if it was honoured (else empty).
/// `breached`: the password is in the breached index, which the reply says
/// (password_breached), and the challenge keeps for the second step's
/// grant.
void ask_second_factor(auth_ptr self, const char* op, const user_view& user,
                       const std::string& source,
                       const std::string& device_digest,
                       caf::typed_response_promise<session_grant> rp,
                       bool breached = false);

} // namespace authnode
