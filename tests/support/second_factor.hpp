// The second factor as a client does it (docs/protocol.md, Second factor):
// set up and confirm TOTP, then answer login challenges. Codes are computed
// from the seed the node hands out, as an authenticator app would
// (core/totp agrees with pyotp: tests/totp_test.cpp).
#pragma once

#include <cstdint>
#include <string>

#include "support/line_client.hpp"
#include "support/protocol.hpp"

namespace authnode::test {

/// A user with a session and TOTP on.
struct enrolled {
  std::string token;
  std::string secret; ///< The seed as the node showed it (base32).
  std::string seed;   ///< Its raw bytes.
  int64_t step = 0;   ///< The time step whose code confirmed the setup.
  json recovery_codes;
};

/// The time step of now.
int64_t now_step();

std::string code_at(const std::string& seed, int64_t step);

/// Registers `email` on `c`, logs in and turns TOTP on (the secret
/// registry notes the seed and codes from the replies, as it sees them).
enrolled enroll(line_client& c, const std::string& email,
                const std::string& password = default_password);

/// A login whose password matched: the challenge it must answer.
std::string challenge_of(line_client& c, const std::string& email,
                         const std::string& device_token = {});

json second_factor(line_client& c, const std::string& challenge,
                   const std::string& code);

} // namespace authnode::test
