// Proving an address and moving to another, by a mailed code, run by the
// auth actor (actors/email_flow.cpp has the steps, in the order they run).
#pragma once

#include "actors/auth_steps.hpp"
#include "actors/interfaces.hpp"

namespace authnode {

/// verify_email_start: mails the token's user a code; false if the address
/// is proven already.
caf::result<bool> start_verify_email(auth_ptr self, token_request& req);

/// verify_email_finish: the code; answers with the user, address proven.
caf::result<user_view> finish_verify_email(auth_ptr self,
                                           token_code_request& req);

/// change_email_start: the password again (a wrong one fails like a wrong
/// login), then a code to the new address and a notice to the old one.
caf::result<caf::ok_atom> start_change_email(auth_ptr self,
                                             email_change_request& req);

/// change_email_finish: the code; answers with the user at the new address.
caf::result<user_view> finish_change_email(auth_ptr self,
                                           token_code_request& req);

/// After a registration with --verify-email: mails the new user a code.
/// Nobody waits for it; the audit log says how it went.
void mail_verification(auth_ptr self, const std::string& email,
                       const std::string& source);

} // namespace authnode
