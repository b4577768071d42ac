// End to end: passkeys over TCP against a real node, with the software
// authenticator of support/soft_authenticator.hpp playing the browser and
// the authenticator. The options the node sends go to the authenticator
// unchanged, and what it answers goes back unchanged, as a web page does
// with navigator.credentials.
#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <string>

#include "core/secrets.hpp"
#include "support/admin_client.hpp"
#include "support/line_client.hpp"
#include "support/node_process.hpp"
#include "support/protocol.hpp"
#include "support/second_factor.hpp"
#include "support/soft_authenticator.hpp"

using namespace authnode::test;
using namespace std::chrono_literals;
using std::chrono::steady_clock;

namespace {

const std::string ann = "ann@example.org";
const std::string bob = "bob@example.org";

std::vector<std::string> passkey_options(std::vector<std::string> extra = {}) {
  auto out = fast_options();
  out.push_back("--webauthn-rp-id=example.com");
  out.push_back("--webauthn-rp-name=Example");
  for (auto& x : extra)
    out.push_back(std::move(x));
  return out;
}

/// Registers `email`, logs in, and adds a passkey made by `key`: the
/// session's token.
std::string with_passkey(line_client& c, soft_authenticator& key,
                         const std::string& email) {
  REQUIRE(succeeded(register_user(c, email)));
  auto token = session_token(c, email);
  auto begun = c.call({{"op", "passkey_register_begin"},
                       {"token", token},
                       {"name", "laptop"}});
  REQUIRE(succeeded(begun));
  auto made = key.create(begun["options"]);
  REQUIRE(!made.is_null());
  auto finished = c.call({{"op", "passkey_register_finish"},
                          {"token", token},
                          {"credential", made}});
  REQUIRE(succeeded(finished));
  return token;
}

/// passkey_login_begin (for `email`, or discoverable when empty).
json login_begin(line_client& c, const std::string& email = {}) {
  json request{{"op", "passkey_login_begin"}};
  if (!email.empty())
    request["email"] = email;
  auto begun = c.call(request);
  REQUIRE(succeeded(begun));
  return begun;
}

json login_finish(line_client& c, const json& begun, const json& assertion) {
  return c.call({{"op", "passkey_login_finish"},
                 {"challenge_id", begun["challenge_id"]},
                 {"credential", assertion}});
}

/// A whole passkey sign-in with `key`: the reply of login_finish.
json passkey_login(line_client& c, soft_authenticator& key,
                   const std::string& email = {}) {
  auto begun = login_begin(c, email);
  auto assertion = key.get(begun["options"]);
  REQUIRE(!assertion.is_null());
  return login_finish(c, begun, assertion);
}

} // namespace

TEST_CASE("passkey: registered with the options as given, then a sign-in "
          "without a password, with and without an email",
          "[e2e][passkey]") {
  node_process node{passkey_options()};
  line_client c{node.port()};
  REQUIRE(succeeded(register_user(c, ann)));
  auto token = session_token(c, ann);
  auto begun = c.call({{"op", "passkey_register_begin"},
                       {"token", token},
                       {"name", "laptop"}});
  REQUIRE(succeeded(begun));
  auto& options = begun["options"];
  CHECK(options["rp"] == json({{"id", "example.com"}, {"name", "Example"}}));
  CHECK(options["user"]["name"] == ann);
  std::string handle;
  REQUIRE(authnode::from_base64url(options["user"]["id"].get<std::string>(),
                                   handle));
  CHECK(handle.size() == 32);
  CHECK(handle.find("ann") == std::string::npos);
  CHECK(options["pubKeyCredParams"]
        == json::parse(R"([{"type":"public-key","alg":-7},
                           {"type":"public-key","alg":-8},
                           {"type":"public-key","alg":-257}])"));
  CHECK(options["excludeCredentials"] == json::array());
  CHECK(options["authenticatorSelection"]["residentKey"] == "preferred");
  CHECK(options["timeout"] == 300000);

  soft_authenticator key;
  auto made = key.create(options);
  auto finished = c.call({{"op", "passkey_register_finish"},
                          {"token", token},
                          {"credential", made}});
  REQUIRE(succeeded(finished));
  CHECK(finished["passkey"]["id"] == made["id"]);
  CHECK(finished["passkey"]["name"] == "laptop");
  CHECK(finished["passkey"]["created_at"].is_string());
  CHECK(finished["passkey"]["last_used_at"].is_null());

  // With an email: allowCredentials names the passkey.
  auto for_ann = login_begin(c, ann);
  CHECK(for_ann["challenge_id"] == for_ann["options"]["challenge"]);
  CHECK(for_ann["options"]["rpId"] == "example.com");
  CHECK(for_ann["options"]["allowCredentials"]
        == json::array({{{"type", "public-key"}, {"id", made["id"]}}}));
  auto granted = login_finish(c, for_ann, key.get(for_ann["options"]));
  REQUIRE(succeeded(granted));
  CHECK(granted["user"]["email"] == ann);
  CHECK(succeeded(whoami(c, granted["token"].get<std::string>())));

  // Without one: a discoverable credential names its user.
  auto discoverable = passkey_login(c, key);
  REQUIRE(succeeded(discoverable));
  CHECK(discoverable["user"]["email"] == ann);

  auto listed = c.call({{"op", "passkeys_list"}, {"token", token}});
  REQUIRE(succeeded(listed));
  REQUIRE(listed["passkeys"].size() == 1);
  CHECK(listed["passkeys"][0]["last_used_at"].is_string());

  // The same authenticator is excluded from registering twice.
  auto again = c.call({{"op", "passkey_register_begin"}, {"token", token}});
  REQUIRE(succeeded(again));
  CHECK(again["options"]["excludeCredentials"].size() == 1);
  CHECK(key.create(again["options"]).is_null());
}

TEST_CASE("passkey: a deleted passkey signs in no more, an operator sees "
          "and deletes passkeys too",
          "[e2e][passkey]") {
  node_process node{passkey_options()};
  line_client c{node.port()};
  soft_authenticator key, other{soft_key::eddsa};
  auto token = with_passkey(c, key, ann);
  auto begun = c.call({{"op", "passkey_register_begin"}, {"token", token}});
  auto second = c.call({{"op", "passkey_register_finish"},
                        {"token", token},
                        {"credential", other.create(begun["options"])}});
  REQUIRE(succeeded(second));
  CHECK(second["passkey"]["name"] == "Passkey");

  admin_client admin{node};
  auto shown = show_user(admin, ann);
  REQUIRE(succeeded(shown));
  REQUIRE(shown["user"]["passkeys"].size() == 2);
  CHECK(shown["user"]["passkeys"][0]["name"] == "laptop");

  auto first_id = shown["user"]["passkeys"][0]["id"];
  CHECK(succeeded(c.call(
    {{"op", "passkey_delete"}, {"token", token}, {"passkey_id", first_id}})));
  CHECK(error_code(c.call({{"op", "passkey_delete"},
                           {"token", token},
                           {"passkey_id", first_id}}))
        == "no_such_passkey");
  CHECK(error_code(passkey_login(c, key, {})) == "invalid_credentials");
  CHECK(succeeded(passkey_login(c, other, ann)));

  CHECK(succeeded(admin.call({{"op", "passkey_delete"},
                              {"email", ann},
                              {"passkey_id", second["passkey"]["id"]}})));
  CHECK(show_user(admin, ann)["user"]["passkeys"] == json::array());
  // Named by email, the account now gets decoys the authenticator does not
  // hold; unnamed, the authenticator signs and the node refuses.
  CHECK(other.get(login_begin(c, ann)["options"]).is_null());
  CHECK(error_code(passkey_login(c, other, {})) == "invalid_credentials");
}

TEST_CASE("passkey: what the node refuses, each failure held like a wrong "
          "password",
          "[e2e][passkey]") {
  node_process node{passkey_options()};
  line_client c{node.port()};
  soft_authenticator key;
  with_passkey(c, key, ann);

  auto refused_held = [&](const json& reply) {
    return error_code(reply) == "invalid_credentials";
  };

  SECTION("another origin") {
    key.knobs().origin = "https://evil.example.net";
    auto started = steady_clock::now();
    CHECK(refused_held(passkey_login(c, key, ann)));
    CHECK(steady_clock::now() - started >= 300ms);
  }
  SECTION("a replayed assertion, its challenge used") {
    auto begun = login_begin(c, ann);
    auto assertion = key.get(begun["options"]);
    REQUIRE(succeeded(login_finish(c, begun, assertion)));
    CHECK(refused_held(login_finish(c, begun, assertion)));
  }
  SECTION("an assertion for another challenge") {
    auto first = login_begin(c, ann);
    auto second = login_begin(c, ann);
    CHECK(refused_held(login_finish(c, second, key.get(first["options"]))));
  }
  SECTION("a broken signature") {
    key.knobs().corrupt_signature = true;
    CHECK(refused_held(passkey_login(c, key, ann)));
  }
  SECTION("a counter that went back: a possible clone, audited") {
    REQUIRE(succeeded(passkey_login(c, key)));
    key.set_counter(key.counter() - 2);
    CHECK(refused_held(passkey_login(c, key)));
    CHECK(node.wait_for_log("possibly cloned authenticator"));
  }
  SECTION("an authenticator that was never registered") {
    soft_authenticator stranger;
    auto begun = login_begin(c);
    stranger.create(authnode::test::creation_options(
      "example.com", "unrelated", "someone"));
    CHECK(refused_held(login_finish(c, begun, stranger.get(begun["options"]))));
  }
  SECTION("the passkey of another account than the one named") {
    REQUIRE(succeeded(register_user(c, bob)));
    auto begun = login_begin(c, bob);
    auto options = begun["options"];
    options["allowCredentials"] = json::array(); // ann's, discoverable
    CHECK(refused_held(login_finish(c, begun, key.get(options))));
  }
  SECTION("no user presence") {
    key.knobs().user_present = false;
    CHECK(refused_held(passkey_login(c, key, ann)));
  }
  // Every one of them was counted on the passkey keys, not the password's.
  admin_client admin{node};
  auto passkey_keys = admin.call({{"op", "throttle_show"},
                                  {"source", "127.0.0.1"},
                                  {"kind", "passkey"}});
  REQUIRE(succeeded(passkey_keys));
  CHECK(passkey_keys["throttle"]["failures"].get<int64_t>() >= 1);
  auto password_keys
    = admin.call({{"op", "throttle_show"}, {"source", "127.0.0.1"}});
  REQUIRE(succeeded(password_keys));
  CHECK(password_keys["throttle"]["failures"] == 0);
}

TEST_CASE("passkey: guessed assertions are throttled on the source and the "
          "account, and the owner's password login is not",
          "[e2e][passkey]") {
  node_process node{passkey_options()};
  line_client c{node.port()};
  soft_authenticator key;
  with_passkey(c, key, ann);
  auto first = passkey_login(c, key, ann);
  REQUIRE(succeeded(first));
  auto device = first["device_token"].get<std::string>();

  // Six forged sign-ins pipelined from one address at ann's account, each
  // on a challenge of its own: past the first, the penalty holds one and
  // refuses the rest, as for guessed passwords.
  line_client guesser{node.port(), "127.0.0.3"};
  key.knobs().corrupt_signature = true;
  std::string burst;
  for (int i = 0; i < 6; ++i) {
    auto begun = login_begin(guesser, ann);
    burst += line_of(with_id(100 + i, {{"op", "passkey_login_finish"},
                                       {"challenge_id", begun["challenge_id"]},
                                       {"credential",
                                        key.get(begun["options"])}}));
  }
  guesser.send_raw(burst);
  std::map<std::string, int> codes;
  for (int i = 0; i < 6; ++i)
    ++codes[outcome(guesser.read(std::chrono::seconds(10)))];
  CHECK(codes["invalid_credentials"] > 0);
  CHECK(codes["rate_limited"] > 0);
  CHECK(codes["invalid_credentials"] + codes["rate_limited"] == 6);

  admin_client admin{node};
  auto source = admin.call({{"op", "throttle_show"},
                            {"source", "127.0.0.3"},
                            {"kind", "passkey"}});
  CHECK(source["throttle"]["failures"].get<int64_t>() >= 1);
  CHECK(source["throttle"]["key"].get<std::string>().rfind("passkey:", 0)
        == 0);
  auto account = admin.call(
    {{"op", "throttle_show"}, {"account", ann}, {"kind", "passkey"}});
  CHECK(account["throttle"]["failures"].get<int64_t>() >= 1);
  CHECK(account["throttle"]["penalty_ms"].get<int64_t>() > 0);

  // The owner, with the device token of their earlier sign-in, gets in at
  // once all the same (and keeps that token: no new one).
  key.knobs().corrupt_signature = false;
  auto begun = login_begin(c, ann);
  auto started = steady_clock::now();
  auto owner = c.call({{"op", "passkey_login_finish"},
                       {"challenge_id", begun["challenge_id"]},
                       {"credential", key.get(begun["options"])},
                       {"device_token", device}});
  CHECK(succeeded(owner));
  CHECK(steady_clock::now() - started < 300ms);
  CHECK_FALSE(owner.contains("device_token"));

  // The password keys saw none of it: the owner logs in at once.
  auto password_account
    = admin.call({{"op", "throttle_show"}, {"account", ann}});
  CHECK(password_account["throttle"]["failures"] == 0);
  CHECK(succeeded(login(c, ann)));
}

TEST_CASE("passkey: a registration that does not verify is refused with "
          "the check that failed",
          "[e2e][passkey]") {
  node_process node{passkey_options()};
  line_client c{node.port()};
  REQUIRE(succeeded(register_user(c, ann)));
  auto token = session_token(c, ann);
  auto finish_with = [&](soft_authenticator& key) {
    auto begun = c.call({{"op", "passkey_register_begin"}, {"token", token}});
    return c.call({{"op", "passkey_register_finish"},
                   {"token", token},
                   {"credential", key.create(begun["options"])}});
  };
  soft_authenticator wrong_origin, wrong_rp, self_attested;
  wrong_origin.knobs().origin = "https://example.com.evil.net";
  wrong_rp.knobs().rp_id = "evil.net";
  self_attested.knobs().fmt = "packed";
  auto a = finish_with(wrong_origin);
  CHECK(error_code(a) == "passkey_refused");
  CHECK(a["error"]["message"] == "wrong_origin");
  CHECK(error_code(finish_with(wrong_rp)) == "passkey_refused");
  CHECK(succeeded(finish_with(self_attested)));
  // A challenge is used once: the same response again is refused.
  auto begun = c.call({{"op", "passkey_register_begin"}, {"token", token}});
  soft_authenticator key;
  auto made = key.create(begun["options"]);
  REQUIRE(succeeded(c.call({{"op", "passkey_register_finish"},
                            {"token", token},
                            {"credential", made}})));
  CHECK(error_code(c.call({{"op", "passkey_register_finish"},
                           {"token", token},
                           {"credential", made}}))
        == "passkey_refused");
  CHECK(error_code(c.call({{"op", "passkey_register_finish"},
                           {"token", token},
                           {"credential", {{"id", "***"}}}}))
        == "bad_request");
}

TEST_CASE("passkey: an unknown email gets an allow list that looks real and "
          "stays the same",
          "[e2e][passkey]") {
  node_process node{passkey_options()};
  line_client c{node.port()};
  soft_authenticator key;
  with_passkey(c, key, ann);
  auto real = login_begin(c, ann)["options"]["allowCredentials"];
  auto first = login_begin(c, "nobody@example.org")["options"];
  auto second = login_begin(c, "NoBody@example.org")["options"];
  CHECK(first["allowCredentials"] == second["allowCredentials"]);
  REQUIRE(first["allowCredentials"].size() == real.size());
  CHECK(first["allowCredentials"][0]["type"] == "public-key");
  CHECK(first["allowCredentials"][0]["id"] != real[0]["id"]);
  CHECK(first["allowCredentials"][0]["id"].get<std::string>().size()
        == 43); // 32 bytes, base64url
}

TEST_CASE("passkey: with TOTP on, a passkey that verified the user is both "
          "factors, one that did not asks for a code",
          "[e2e][passkey][totp]") {
  node_process node{passkey_options()};
  line_client c{node.port()};
  auto user = enroll(c, ann);
  soft_authenticator key;
  auto begun = c.call({{"op", "passkey_register_begin"}, {"token", user.token}});
  REQUIRE(succeeded(c.call({{"op", "passkey_register_finish"},
                            {"token", user.token},
                            {"credential", key.create(begun["options"])}})));
  CHECK(succeeded(passkey_login(c, key)));
  key.knobs().user_verified = false;
  auto half = passkey_login(c, key);
  REQUIRE(error_code(half) == "second_factor_required");
  CHECK(succeeded(second_factor(c, half["challenge"].get<std::string>(),
                                code_at(user.seed, now_step() + 1))));
}

TEST_CASE("passkey: user verification required refuses an assertion "
          "without it",
          "[e2e][passkey]") {
  node_process node{passkey_options({"--webauthn-user-verification=required"})};
  line_client c{node.port()};
  soft_authenticator key;
  with_passkey(c, key, ann);
  auto begun = login_begin(c, ann);
  CHECK(begun["options"]["userVerification"] == "required");
  key.knobs().user_verified = false;
  CHECK(error_code(login_finish(c, begun, key.get(begun["options"])))
        == "invalid_credentials");
}

TEST_CASE("passkey: without --webauthn-rp-id the ops answer unavailable",
          "[e2e][passkey]") {
  node_process node;
  line_client c{node.port()};
  auto reply = c.call({{"op", "passkey_login_begin"}});
  CHECK(error_code(reply) == "unavailable");
  CHECK(reply["error"]["message"].get<std::string>().find("--webauthn-rp-id")
        != std::string::npos);
}
