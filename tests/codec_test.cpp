// The wire format without a network: what each line decodes to, and what
// each reply looks like.
#include <catch2/catch.hpp>

#include "net/public_codec.hpp"

using namespace authnode;
using nlohmann::json;

namespace {

decode_failure expect_failure(std::string_view line) {
  auto out = decode_request(line, "127.0.0.1");
  REQUIRE(std::holds_alternative<decode_failure>(out));
  return std::get<decode_failure>(out);
}

decoded_request expect_request(std::string_view line) {
  auto out = decode_request(line, "127.0.0.9");
  if (auto f = std::get_if<decode_failure>(&out))
    FAIL("unexpected failure: " << f->message);
  return std::get<decoded_request>(out);
}

} // namespace

TEST_CASE("ping decodes with string, number or no id") {
  CHECK(expect_request(R"({"id":"a","op":"ping"})").id == "a");
  CHECK(expect_request(R"({"id":7,"op":"ping"})").id == 7);
  CHECK(expect_request(R"({"op":"ping"})").id.is_null());
  CHECK(
    std::holds_alternative<ping_op>(expect_request(R"({"op":"ping"})").body));
}

TEST_CASE("login decodes its fields and the peer address") {
  auto req = expect_request(
    R"({"id":1,"op":"login","email":"A@x.org","password":"pw"})");
  auto& login = std::get<login_request>(req.body);
  CHECK(login.email == "A@x.org"); // normalizing is the auth actor's job
  CHECK(login.password.reveal() == "pw");
  CHECK(login.source == "127.0.0.9");
}

TEST_CASE("every op with fields decodes into its own request type") {
  CHECK(std::holds_alternative<register_request>(
    expect_request(
      R"({"op":"register","email":"a@b.co","password":"p","name":"n"})")
      .body));
  CHECK(std::holds_alternative<whoami_op>(
    expect_request(R"({"op":"whoami","token":"t"})").body));
  CHECK(std::holds_alternative<logout_op>(
    expect_request(R"({"op":"logout","token":"t"})").body));
  auto chpass = expect_request(
    R"({"op":"change_password","token":"t","old_password":"o","new_password":"n"})");
  auto& r = std::get<password_change_request>(chpass.body);
  CHECK(r.old_password.reveal() == "o");
  CHECK(r.new_password.reveal() == "n");
  CHECK(
    std::holds_alternative<stats_op>(expect_request(R"({"op":"stats"})").body));
}

TEST_CASE("lines that are not JSON objects are bad_json") {
  for (auto line : {"", "   ", "hello", "[1,2]", "42", "\"ping\"", "{",
                    R"({"op":"ping")", "null"}) {
    INFO(line);
    CHECK(expect_failure(line).code == ec::bad_json);
  }
}

TEST_CASE("deep nesting is refused before parsing") {
  std::string deep(max_json_depth + 1, '[');
  auto line = R"({"op":"ping","x":)" + deep + "}";
  CHECK(expect_failure(line).code == ec::bad_json);
  // Brackets inside strings do not count.
  auto fine = R"({"op":"ping","x":")" + std::string(1000, '[') + R"("})";
  expect_request(fine);
}

TEST_CASE("missing or mistyped fields are bad_request and keep the id") {
  auto f = expect_failure(R"({"id":"r1","op":"login","email":"a@b.co"})");
  CHECK(f.code == ec::bad_request);
  CHECK(f.id == "r1");
  CHECK(f.message == "missing field: password");
  f = expect_failure(R"({"id":2,"op":"login","email":1,"password":"x"})");
  CHECK(f.code == ec::bad_request);
  CHECK(f.message == "field email must be a string");
  CHECK(expect_failure(R"({"id":3})").code == ec::bad_request);
  CHECK(expect_failure(R"({"op":5})").code == ec::bad_request);
  CHECK(expect_failure(R"({"id":[1],"op":"ping"})").code == ec::bad_request);
  CHECK(expect_failure(R"({"id":true,"op":"ping"})").code == ec::bad_request);
}

TEST_CASE("unknown ops are unknown_op") {
  auto f = expect_failure(R"({"id":9,"op":"launch"})");
  CHECK(f.code == ec::unknown_op);
  CHECK(f.id == 9);
}

TEST_CASE("replies echo the id and put ok first") {
  CHECK(encode_ok(json("x")) == "{\"id\":\"x\",\"ok\":true}\n");
  CHECK(encode_ok(json(nullptr)) == "{\"ok\":true}\n");
  auto err = json::parse(
    encode_error(json(3), ec::invalid_credentials, "wrong email or password"));
  CHECK(err["id"] == 3);
  CHECK(err["ok"] == false);
  CHECK(err["error"]["code"] == "invalid_credentials");
  CHECK(err["error"]["message"] == "wrong email or password");
  CHECK_FALSE(err["error"].contains("retry_after_ms"));
  auto limited = json::parse(
    encode_error(json(4), ec::rate_limited, "slow down", int64_t{1500}));
  CHECK(limited["error"]["retry_after_ms"] == 1500);
}

TEST_CASE("a user object has RFC 3339 times and null for never") {
  user_view u{12, "a@b.co", "Ann", 1764081289, 0};
  auto reply = json::parse(encode_user(json("u"), u));
  auto& user = reply["user"];
  CHECK(user["id"] == 12);
  CHECK(user["email"] == "a@b.co");
  CHECK(user["name"] == "Ann");
  CHECK(user["created_at"] == "2025-11-25T14:34:49Z");
  CHECK(user["last_login_at"].is_null());
}

TEST_CASE("a grant carries token, expiry and user") {
  session_grant g{user_view{1, "a@b.co", "A", 1, 2}, secret{"tok"}, 86401};
  auto reply = json::parse(encode_grant(json(1), g));
  CHECK(reply["token"] == "tok");
  CHECK(reply["expires_at"] == "1970-01-02T00:00:01Z");
  CHECK(reply["user"]["last_login_at"] == "1970-01-01T00:00:02Z");
}

TEST_CASE("invalid UTF-8 is refused by the parser, never echoed raw") {
  std::string line = "{\"id\":\"\xff\xfe\",\"op\":\"ping\"}";
  CHECK(expect_failure(line).code == ec::bad_json);
}

TEST_CASE("a NUL byte anywhere makes the line bad_json") {
  using namespace std::string_literals;
  CHECK(expect_failure("{\"op\":\"ping\"}\0garbage"s).code == ec::bad_json);
  CHECK(expect_failure("{\"op\":\"ping\"}\0"s).code == ec::bad_json);
  CHECK(expect_failure("{\"op\":\"pi\0ng\"}"s).code == ec::bad_json);
}

TEST_CASE("login carries an optional device token and client address") {
  auto req = expect_request(
    R"({"op":"login","email":"a@b.co","password":"p","device_token":"d","client_addr":"10.0.0.1"})");
  auto& login = std::get<login_request>(req.body);
  CHECK(login.device_token.reveal() == "d");
  CHECK(login.client_addr == "10.0.0.1");
  auto bare
    = expect_request(R"({"op":"login","email":"a@b.co","password":"p"})");
  CHECK(std::get<login_request>(bare.body).device_token.empty());
  auto f = expect_failure(
    R"({"op":"login","email":"a@b.co","password":"p","device_token":7})");
  CHECK(f.message == "field device_token must be a string");
}

TEST_CASE("a grant with a new device token shows it") {
  session_grant g{user_view{1, "a@b.co", "A", 1, 2}, secret{"tok"}, 86401,
                  secret{"dev"}, false};
  auto reply = json::parse(encode_grant(json(1), g));
  CHECK(reply["device_token"] == "dev");
  g.device_token = secret{};
  CHECK_FALSE(json::parse(encode_grant(json(1), g)).contains("device_token"));
}

TEST_CASE("a grant always says whether its password is breached") {
  session_grant g;
  g.token = secret{"tok"};
  CHECK(json::parse(encode_grant(json(1), g))["password_breached"] == false);
  g.password_breached = true;
  CHECK(json::parse(encode_grant(json(1), g))["password_breached"] == true);
}

TEST_CASE("a byte order mark before the object makes the line bad_json") {
  CHECK(expect_failure("\xef\xbb\xbf{\"op\":\"ping\"}").code == ec::bad_json);
}

TEST_CASE("the account code ops decode into their requests") {
  auto start = expect_request(
    R"({"op":"recovery_start","email":"a@b.co","client_addr":"10.1.2.3"})");
  auto& s = std::get<recovery_start_request>(start.body);
  CHECK(s.email == "a@b.co");
  CHECK(s.client_addr == "10.1.2.3");
  CHECK(s.source == "127.0.0.9");
  auto finish = expect_request(
    R"({"op":"recovery_finish","email":"a@b.co","code":"k7qm-2xpa","new_password":"n"})");
  auto& f = std::get<recovery_finish_request>(finish.body);
  CHECK(f.code.reveal() == "k7qm-2xpa");
  CHECK(f.new_password.reveal() == "n");
  CHECK(std::holds_alternative<verify_start_op>(
    expect_request(R"({"op":"verify_email_start","token":"t"})").body));
  auto verify = expect_request(
    R"({"op":"verify_email_finish","token":"t","code":"c"})");
  CHECK(std::get<verify_finish_op>(verify.body).req.code.reveal() == "c");
  auto change = expect_request(
    R"({"op":"change_email_start","token":"t","password":"p","new_email":"n@b.co"})");
  auto& c = std::get<email_change_request>(change.body);
  CHECK(c.new_email == "n@b.co");
  CHECK(c.password.reveal() == "p");
  CHECK(std::holds_alternative<email_finish_op>(
    expect_request(R"({"op":"change_email_finish","token":"t","code":"c"})")
      .body));
}

TEST_CASE("the account code ops name their missing fields") {
  CHECK(expect_failure(R"({"op":"recovery_finish","email":"a@b.co","code":"c"})")
          .message
        == "missing field: new_password");
  CHECK(expect_failure(R"({"op":"verify_email_finish","token":"t"})").message
        == "missing field: code");
  CHECK(expect_failure(
          R"({"op":"change_email_start","token":"t","password":"p"})")
          .message
        == "missing field: new_email");
  CHECK(expect_failure(R"({"op":"recovery_start","email":5})").message
        == "field email must be a string");
}

TEST_CASE("a user object says whether its address is verified, sent is a "
          "boolean") {
  user_view u{12, "a@b.co", "Ann", 1764081289, 0, true};
  auto reply = json::parse(encode_user(json("u"), u));
  CHECK(reply["user"]["email_verified"] == true);
  CHECK(encode_sent(json(3), false) == "{\"id\":3,\"ok\":true,\"sent\":false}\n");
}
