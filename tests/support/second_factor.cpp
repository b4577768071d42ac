#include "support/second_factor.hpp"

#include <ctime>

#include <catch2/catch.hpp>

#include "core/totp.hpp"

namespace authnode::test {

int64_t now_step() {
  return totp_step(static_cast<int64_t>(std::time(nullptr)));
}

std::string code_at(const std::string& seed, int64_t step) {
  return totp_code(seed, step);
}

enrolled enroll(line_client& c, const std::string& email,
                const std::string& password) {
  REQUIRE(succeeded(register_user(c, email, password)));
  enrolled e;
  e.token = session_token(c, email, password);
  auto setup = c.call({{"op", "totp_setup"}, {"token", e.token}});
  REQUIRE(succeeded(setup));
  e.secret = setup["secret"].get<std::string>();
  e.seed = *totp_seed_of(e.secret);
  e.step = now_step();
  auto on = c.call({{"op", "totp_enable"},
                    {"token", e.token},
                    {"code", code_at(e.seed, e.step)}});
  REQUIRE(succeeded(on));
  e.recovery_codes = on["recovery_codes"];
  return e;
}

std::string challenge_of(line_client& c, const std::string& email,
                         const std::string& device_token) {
  auto reply = login(c, email, default_password, device_token);
  REQUIRE(error_code(reply) == "second_factor_required");
  return reply["challenge"].get<std::string>();
}

json second_factor(line_client& c, const std::string& challenge,
                   const std::string& code) {
  return c.call({{"op", "login_second_factor"},
                 {"challenge", challenge},
                 {"code", code}});
}

} // namespace authnode::test
