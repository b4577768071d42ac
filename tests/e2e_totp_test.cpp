// End to end: the second factor over TCP against a real node, codes
// computed as an app would (support/second_factor.hpp). A test never waits
// for a step to pass: a code one step ahead is inside the window.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "core/totp.hpp"
#include "support/admin_client.hpp"
#include "support/line_client.hpp"
#include "support/node_process.hpp"
#include "support/protocol.hpp"
#include "support/second_factor.hpp"

using namespace authnode::test;
using namespace std::chrono_literals;
using std::chrono::steady_clock;

namespace {

const std::string ann = "ann@example.org";

json call_op(line_client& c, json request) {
  return c.call(std::move(request));
}

} // namespace

TEST_CASE("totp: set up, confirmed with a code, then every login asks for "
          "one",
          "[e2e][totp]") {
  node_process node;
  line_client c{node.port()};
  REQUIRE(succeeded(register_user(c, ann)));
  auto token = session_token(c, ann);
  CHECK(whoami(c, token)["user"]["second_factors"] == json::array());

  auto setup = call_op(c, {{"op", "totp_setup"}, {"token", token}});
  REQUIRE(succeeded(setup));
  auto b32 = setup["secret"].get<std::string>();
  CHECK(b32.size() == 32);
  CHECK(setup["uri"] == "otpauth://totp/authnode:ann%40example.org?secret="
                          + b32
                          + "&issuer=authnode&algorithm=SHA1&digits=6"
                            "&period=30");
  auto seed = *authnode::totp_seed_of(b32);
  // Pending: the password alone still logs in.
  CHECK(succeeded(login(c, ann)));

  auto started = steady_clock::now();
  auto wrong = code_at(seed, now_step()) == "000000" ? "111111" : "000000";
  CHECK(error_code(call_op(
          c, {{"op", "totp_enable"}, {"token", token}, {"code", wrong}}))
        == "invalid_code");
  CHECK(steady_clock::now() - started >= 300ms); // held, --failure-delay
  auto on = call_op(c, {{"op", "totp_enable"},
                        {"token", token},
                        {"code", code_at(seed, now_step())}});
  REQUIRE(succeeded(on));
  CHECK(on["recovery_codes"].size() == 10);
  CHECK(whoami(c, token)["user"]["second_factors"]
        == json({"totp", "recovery_code"}));

  auto first = login(c, ann);
  REQUIRE(error_code(first) == "second_factor_required");
  CHECK(!first.contains("token"));
  CHECK(first["methods"] == json({"totp", "recovery_code"}));
  CHECK(first["expires_at"].is_string());
  auto granted
    = second_factor(c, first["challenge"].get<std::string>(),
                    code_at(seed, now_step() + 1));
  REQUIRE(succeeded(granted));
  CHECK(granted["user"]["email"] == ann);
  CHECK(succeeded(whoami(c, granted["token"].get<std::string>())));
}

TEST_CASE("totp: an accepted code is never accepted again, nor an older one",
          "[e2e][totp]") {
  node_process node;
  line_client c{node.port()};
  auto e = enroll(c, ann);
  auto step = e.step; // used to turn TOTP on
  CHECK(error_code(second_factor(c, challenge_of(c, ann), code_at(e.seed, step)))
        == "invalid_code");
  auto ahead = code_at(e.seed, step + 1);
  CHECK(succeeded(second_factor(c, challenge_of(c, ann), ahead)));
  CHECK(error_code(second_factor(c, challenge_of(c, ann), ahead))
        == "invalid_code");
}

TEST_CASE("totp: a recovery code logs in once", "[e2e][totp]") {
  node_process node;
  line_client c{node.port()};
  auto e = enroll(c, ann);
  auto code = e.recovery_codes[0].get<std::string>();
  auto granted = second_factor(c, challenge_of(c, ann), code);
  REQUIRE(succeeded(granted));
  CHECK(error_code(second_factor(c, challenge_of(c, ann), code))
        == "invalid_code");
  // An admin sees the nine left.
  admin_client admin{node};
  auto shown = show_user(admin, ann);
  CHECK(shown["user"]["recovery_codes"] == 9);
  CHECK(shown["user"]["second_factors"] == json({"totp", "recovery_code"}));
}

TEST_CASE("totp: a wrong password says nothing of a second factor",
          "[e2e][totp]") {
  node_process node;
  line_client c{node.port()};
  enroll(c, ann);
  REQUIRE(succeeded(register_user(c, "bob@example.org")));
  auto with_totp = login(c, ann, "not the password");
  auto without = login(c, "bob@example.org", "not the password");
  CHECK(error_code(with_totp) == "invalid_credentials");
  with_totp.erase("id");
  without.erase("id");
  CHECK(with_totp == without);
}

TEST_CASE("totp: a device token does not skip the second factor",
          "[e2e][totp]") {
  node_process node;
  line_client c{node.port()};
  auto e = enroll(c, ann);
  auto granted = second_factor(c, challenge_of(c, ann),
                               code_at(e.seed, now_step() + 1));
  REQUIRE(succeeded(granted));
  REQUIRE(granted.contains("device_token"));
  challenge_of(c, ann, granted["device_token"].get<std::string>());
}

TEST_CASE("totp: while someone who knows the password guesses codes, the "
          "owner's device answers its code at once",
          "[e2e][totp]") {
  node_process node{[] {
    auto o = fast_options();
    o.push_back("--max-penalty=10s");
    return o;
  }()};
  line_client owner{node.port()};
  auto e = enroll(owner, ann);
  auto granted = second_factor(owner, challenge_of(owner, ann),
                               code_at(e.seed, e.step + 1));
  REQUIRE(succeeded(granted));
  auto device = granted["device_token"].get<std::string>();

  // The guesser's wrong codes penalize the account's code keys: its next
  // guess, even from a fresh address, waits.
  for (int i = 0; i < 3; ++i) {
    line_client from{node.port(), "127.0.0." + std::to_string(i + 2)};
    auto reply = second_factor(from, challenge_of(from, ann),
                               i % 2 == 0 ? "000000" : "111111");
    CHECK(outcome(reply) != "ok");
  }
  admin_client admin{node};
  auto key = admin.call(
    {{"op", "throttle_show"}, {"account", ann}, {"kind", "totp"}});
  REQUIRE(succeeded(key));
  CHECK(key["throttle"]["failures"] >= 2);

  auto challenge = challenge_of(owner, ann, device);
  auto started = steady_clock::now();
  // (Its TOTP step is used up for now: a recovery code is what remains.)
  auto in = second_factor(owner, challenge,
                          e.recovery_codes[0].get<std::string>());
  CHECK(succeeded(in));
  CHECK(steady_clock::now() - started < 300ms);
  // The device keeps its token, as after a login without a second factor.
  CHECK_FALSE(in.contains("device_token"));
}

TEST_CASE("totp: a challenge dies at the fifth wrong code", "[e2e][totp]") {
  node_process node{[] {
    auto o = fast_options();
    o.push_back("--failure-delay=0s");
    return o;
  }()};
  line_client c{node.port()};
  auto e = enroll(c, ann);
  auto challenge = challenge_of(c, ann);
  for (int i = 0; i < 5; ++i) {
    line_client from{node.port(), "127.0.0." + std::to_string(i + 2)};
    CHECK(outcome(second_factor(from, challenge, "000000")) != "ok");
  }
  line_client fresh{node.port(), "127.0.0.9"};
  CHECK(error_code(second_factor(fresh, challenge,
                                 code_at(e.seed, now_step() + 1)))
        == "invalid_code");
}

TEST_CASE("totp: code guesses are throttled on keys of their own, not the "
          "password's",
          "[e2e][totp]") {
  node_process node;
  line_client c{node.port()};
  auto e = enroll(c, ann);
  auto challenge = challenge_of(c, ann);
  CHECK(error_code(second_factor(c, challenge, "000000")) == "invalid_code");
  admin_client admin{node};
  auto totp_key = [&](const char* op, const char* target,
                      const std::string& key) {
    return admin.call({{"op", op}, {target, key}, {"kind", "totp"}});
  };
  auto code_key = totp_key("throttle_show", "account", ann);
  REQUIRE(succeeded(code_key));
  CHECK(code_key["throttle"]["key"] == "totp:" + ann);
  CHECK(code_key["throttle"]["failures"] == 1);
  auto source = totp_key("throttle_show", "source", "127.0.0.1");
  REQUIRE(succeeded(source));
  CHECK(source["throttle"]["key"] == "totp:127.0.0.1");
  CHECK(source["throttle"]["failures"] == 1);
  auto password_key
    = admin.call({{"op", "throttle_show"}, {"account", ann}});
  REQUIRE(succeeded(password_key));
  CHECK(password_key["throttle"]["failures"] == 0);
  // The owner's password is not slowed by the code guess.
  auto started = steady_clock::now();
  challenge_of(c, ann);
  CHECK(steady_clock::now() - started < 300ms);

  // An operator forgets the code guesses, of the source and the account.
  CHECK(totp_key("throttle_reset", "source", "127.0.0.1")["reset"] == true);
  CHECK(totp_key("throttle_reset", "account", ann)["reset"] == true);
  CHECK(totp_key("throttle_show", "account", ann)["throttle"]["failures"]
        == 0);
}

TEST_CASE("totp: renewing voids the old recovery codes, disabling needs the "
          "password and a code",
          "[e2e][totp]") {
  node_process node;
  line_client c{node.port()};
  auto e = enroll(c, ann);
  auto renewed = call_op(c, {{"op", "recovery_codes_renew"},
                             {"token", e.token},
                             {"code", e.recovery_codes[0]}});
  REQUIRE(succeeded(renewed));
  CHECK(renewed["recovery_codes"].size() == 10);
  CHECK(error_code(second_factor(c, challenge_of(c, ann), e.recovery_codes[1]))
        == "invalid_code");

  auto code = renewed["recovery_codes"][0];
  CHECK(error_code(call_op(c, {{"op", "totp_disable"},
                               {"token", e.token},
                               {"password", "not the password"},
                               {"code", code}}))
        == "invalid_credentials");
  CHECK(succeeded(call_op(c, {{"op", "totp_disable"},
                              {"token", e.token},
                              {"password", default_password},
                              {"code", code}})));
  CHECK(succeeded(login(c, ann)));
  CHECK(error_code(call_op(c, {{"op", "recovery_codes_renew"},
                               {"token", e.token},
                               {"code", renewed["recovery_codes"][1]}}))
        == "conflict");
}

TEST_CASE("totp: authctl user mfa-reset lets the password alone log in",
          "[e2e][totp]") {
  node_process node;
  line_client c{node.port()};
  enroll(c, ann);
  admin_client admin{node};
  CHECK(succeeded(admin.call({{"op", "user_mfa_reset"}, {"email", ann}})));
  CHECK(succeeded(login(c, ann)));
  CHECK(error_code(admin.call({{"op", "user_mfa_reset"},
                               {"email", "nobody@example.org"}}))
        == "no_such_user");
}

TEST_CASE("totp: behind a trusted app server, code guesses are keyed by the "
          "end user's client_addr",
          "[e2e][totp]") {
  node_process node{[] {
    auto o = fast_options();
    o.push_back("--trusted-sources=127.0.0.5/32");
    return o;
  }()};
  line_client app{node.port(), "127.0.0.5"};
  auto setup = [&](const std::string& email) {
    REQUIRE(succeeded(register_user(app, email)));
    auto token = session_token(app, email);
    REQUIRE(succeeded(app.call({{"op", "totp_setup"}, {"token", token}})));
    return token;
  };
  auto wrong = [&](const std::string& token, const char* op,
                   const char* client_addr) {
    return app.call({{"op", op},
                     {"token", token},
                     {"code", "000000"},
                     {"client_addr", client_addr}});
  };
  // One user of the app mistypes three times (penalties of 0.3, 0.6 and
  // 1.2 s on their address and account)...
  auto ann_token = setup(ann);
  for (auto op : {"totp_enable", "recovery_codes_renew", "totp_enable"})
    CHECK(outcome(wrong(ann_token, op, "10.1.1.1")) != "ok");
  // ...and another user's first wrong code is only held for failure-delay:
  // the app server's own address was not penalized.
  auto bob_token = setup("bob@example.org");
  auto started = steady_clock::now();
  CHECK(error_code(wrong(bob_token, "totp_enable", "10.2.2.2"))
        == "invalid_code");
  CHECK(steady_clock::now() - started < 900ms);
  // From an untrusted peer, client_addr is refused.
  line_client c{node.port()};
  CHECK(error_code(c.call({{"op", "totp_enable"},
                           {"token", bob_token},
                           {"code", "000000"},
                           {"client_addr", "10.1.1.1"}}))
        == "bad_request");
}
