// mail_outbox and user_verify on the admin channel's wire format, without a
// network: what a line decodes to and what the replies look like.
#include <catch2/catch.hpp>

#include "net/admin_codec.hpp"

using namespace authnode;
using nlohmann::json;

namespace {

/// The body of a line with a key and id 1 (the op or its failure).
std::variant<admin_body, decode_failure> decode_body(json request) {
  request["admin_key"] = "k";
  request["id"] = 1;
  auto out = decode_admin_line(request.dump());
  REQUIRE(std::holds_alternative<admin_line>(out));
  return std::get<admin_line>(out).body;
}

template <class Op>
Op expect_op(json request) {
  auto body = decode_body(std::move(request));
  if (auto f = std::get_if<decode_failure>(&body))
    FAIL("unexpected failure: " << f->message);
  auto& ops = std::get<admin_body>(body);
  REQUIRE(std::holds_alternative<Op>(ops));
  return std::get<Op>(ops);
}

std::string expect_bad_request(json request) {
  auto body = decode_body(std::move(request));
  REQUIRE(std::holds_alternative<decode_failure>(body));
  auto& f = std::get<decode_failure>(body);
  CHECK(f.code == ec::bad_request);
  CHECK(f.id == 1);
  return f.message;
}

} // namespace

TEST_CASE("mail_outbox decodes without fields", "[admin_codec]") {
  expect_op<mail_outbox_op>({{"op", "mail_outbox"}});
  // Other members are ignored, as for every op.
  expect_op<mail_outbox_op>({{"op", "mail_outbox"}, {"email", "a@x.org"}});
}

TEST_CASE("user_verify decodes its email and verified, true by default",
          "[admin_codec]") {
  auto op = expect_op<user_verify_op>(
    {{"op", "user_verify"}, {"email", "Ann@Example.org"}});
  CHECK(op.email == "Ann@Example.org");
  CHECK(op.verified);
  op = expect_op<user_verify_op>(
    {{"op", "user_verify"}, {"email", "a@x.org"}, {"verified", false}});
  CHECK(!op.verified);
  op = expect_op<user_verify_op>(
    {{"op", "user_verify"}, {"email", "a@x.org"}, {"verified", true}});
  CHECK(op.verified);
}

TEST_CASE("user_verify without an email or with a verified that is no "
          "boolean is bad_request",
          "[admin_codec]") {
  CHECK(expect_bad_request({{"op", "user_verify"}}) == "missing field: email");
  CHECK(expect_bad_request({{"op", "user_verify"}, {"email", 7}})
        == "field email must be a string");
  CHECK(expect_bad_request(
          {{"op", "user_verify"}, {"email", "a@x.org"}, {"verified", "yes"}})
        == "field verified must be a boolean");
  CHECK(expect_bad_request(
          {{"op", "user_verify"}, {"email", "a@x.org"}, {"verified", 1}})
        == "field verified must be a boolean");
}

TEST_CASE("an empty outbox has null for its oldest mail and last error",
          "[admin_codec]") {
  CHECK(encode_outbox_status(json(1), outbox_status{})
        == "{\"id\":1,\"ok\":true,\"outbox\":{\"pending\":0,"
           "\"oldest_created_at\":null,\"most_attempts\":0,"
           "\"last_error\":null}}\n");
}

TEST_CASE("a waiting mail's time is RFC 3339 to the second, its error a "
          "string",
          "[admin_codec]") {
  outbox_status s;
  s.pending = 3;
  s.oldest_created_ms = 1700000000999; // 2023-11-14T22:13:20.999Z
  s.most_attempts = 4;
  s.last_error = "SMTP: RCPT failed: 451 \"busy\"";
  auto reply = json::parse(encode_outbox_status(json("x"), s));
  CHECK(reply["id"] == "x");
  CHECK(reply["ok"] == true);
  auto& box = reply["outbox"];
  CHECK(box.size() == 4);
  CHECK(box["pending"] == 3);
  CHECK(box["oldest_created_at"] == "2023-11-14T22:13:20Z");
  CHECK(box["most_attempts"] == 4);
  CHECK(box["last_error"] == "SMTP: RCPT failed: 451 \"busy\"");
}
