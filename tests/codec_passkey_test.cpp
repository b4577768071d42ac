// The passkey ops on the wire without a network: the WebAuthn JSON forms a
// browser sends decode into raw bytes, what is wrong with one is named,
// and the options are written as navigator.credentials takes them.
#include <catch2/catch.hpp>

#include "core/secrets.hpp"
#include "net/public_codec.hpp"

using namespace authnode;
using nlohmann::json;

namespace {

std::variant<decoded_request, decode_failure> decode(const json& line) {
  return decode_request(line.dump(), "127.0.0.9");
}

std::string problem_of(const json& line) {
  auto out = decode(line);
  REQUIRE(std::holds_alternative<decode_failure>(out));
  auto& f = std::get<decode_failure>(out);
  CHECK(f.code == ec::bad_request);
  return f.message;
}

const json assertion{
  {"id", base64url("cred")},
  {"rawId", base64url("cred")},
  {"type", "public-key"},
  {"response",
   {{"clientDataJSON", base64url("{}")},
    {"authenticatorData", base64url("auth data")},
    {"signature", base64url("sig")},
    {"userHandle", base64url("handle")}}},
  {"clientExtensionResults", json::object()}};

} // namespace

TEST_CASE("passkey_login_finish decodes the assertion's fields to bytes",
          "[passkey][codec]") {
  auto out = decode({{"id", 3},
                     {"op", "passkey_login_finish"},
                     {"challenge_id", base64url("the challenge")},
                     {"credential", assertion},
                     {"client_addr", "10.1.2.3"}});
  REQUIRE(std::holds_alternative<decoded_request>(out));
  auto& req = std::get<passkey_login_request>(
    std::get<decoded_request>(out).body);
  CHECK(req.challenge_id == "the challenge");
  CHECK(req.credential.credential_id == "cred");
  CHECK(req.credential.client_data_json == "{}");
  CHECK(req.credential.authenticator_data == "auth data");
  CHECK(req.credential.signature == "sig");
  CHECK(req.credential.user_handle == "handle");
  CHECK(req.client_addr == "10.1.2.3");
  CHECK(req.source == "127.0.0.9");
  auto without_handle = assertion;
  without_handle["response"]["userHandle"] = nullptr;
  auto again = decode({{"op", "passkey_login_finish"},
                       {"challenge_id", "AA"},
                       {"credential", without_handle}});
  REQUIRE(std::holds_alternative<decoded_request>(again));
  CHECK(std::get<passkey_login_request>(std::get<decoded_request>(again).body)
          .credential.user_handle.empty());
}

TEST_CASE("what is wrong with a credential is named", "[passkey][codec]") {
  json base{{"op", "passkey_login_finish"}, {"challenge_id", "AA"}};
  CHECK(problem_of(base) == "missing field: credential");
  auto x = base;
  x["credential"] = "a string";
  CHECK(problem_of(x) == "field credential must be an object");
  x["credential"] = assertion;
  x["credential"]["response"]["signature"] = "not base64url!";
  CHECK(problem_of(x)
        == "field credential.response.signature must be a base64url string");
  x["credential"] = assertion;
  x["credential"]["type"] = "password";
  CHECK(problem_of(x) == R"(field credential.type must be "public-key")");
  x["credential"] = assertion;
  x["credential"].erase("response");
  CHECK(problem_of(x) == "field credential.response must be an object");
  x = base;
  x["challenge_id"] = "***";
  x["credential"] = assertion;
  CHECK(problem_of(x) == "field challenge_id must be base64url");
  CHECK(problem_of({{"op", "passkey_delete"}, {"token", "t"}})
        == "missing field: passkey_id");
}

TEST_CASE("creation options are written as PublicKeyCredentialCreationOptions"
          "JSON",
          "[passkey][codec]") {
  webauthn_options o;
  o.purpose = webauthn_purpose::registration;
  o.challenge = "challenge bytes";
  o.rp_id = "example.com";
  o.rp_name = "Example";
  o.user_handle = "handle";
  o.user_name = "ann@example.org";
  o.display_name = "Ann";
  o.credential_ids = {"old"};
  o.user_verification = webauthn_uv::required;
  o.timeout_ms = 300000;
  auto reply = json::parse(encode_passkey_options(7, o));
  CHECK(reply["id"] == 7);
  CHECK(reply["ok"] == true);
  auto& opt = reply["options"];
  CHECK(opt["rp"] == json({{"id", "example.com"}, {"name", "Example"}}));
  CHECK(opt["user"]
        == json({{"id", base64url("handle")},
                 {"name", "ann@example.org"},
                 {"displayName", "Ann"}}));
  CHECK(opt["challenge"] == base64url("challenge bytes"));
  CHECK(opt["excludeCredentials"]
        == json::array({{{"type", "public-key"}, {"id", base64url("old")}}}));
  CHECK(opt["authenticatorSelection"]["userVerification"] == "required");
  CHECK(opt["attestation"] == "none");
  CHECK(opt["pubKeyCredParams"].size() == 3);
}

TEST_CASE("request options and passkeys are written as documented",
          "[passkey][codec]") {
  passkey_login_options login;
  login.challenge_id = base64url("c");
  login.options.challenge = "c";
  login.options.rp_id = "example.com";
  login.options.timeout_ms = 300000;
  auto reply = json::parse(encode_passkey_login_options("x", login));
  CHECK(reply["challenge_id"] == base64url("c"));
  CHECK(reply["options"]
        == json({{"challenge", base64url("c")},
                 {"timeout", 300000},
                 {"rpId", "example.com"},
                 {"allowCredentials", json::array()},
                 {"userVerification", "preferred"}}));
  passkey_list list{{passkey_info{"id1", "laptop", 1700000000, 0}}};
  auto listed = json::parse(encode_passkeys(1, list));
  CHECK(listed["passkeys"]
        == json::array({{{"id", base64url("id1")},
                         {"name", "laptop"},
                         {"created_at", "2023-11-14T22:13:20Z"},
                         {"last_used_at", nullptr}}}));
}
