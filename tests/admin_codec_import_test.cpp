// user_import on the admin channel's wire format, without a network: what a
// line decodes to (rows by type; whole-request problems are bad_request)
// and what the reply looks like.
#include <catch2/catch.hpp>

#include "net/admin_codec.hpp"

using namespace authnode;
using nlohmann::json;

namespace {

/// The user_import op of a line with a key, or the failure of its body.
std::variant<user_import_op, decode_failure> decode_import(json request) {
  request["op"] = "user_import";
  request["admin_key"] = "k";
  request["id"] = 1;
  auto out = decode_admin_line(request.dump());
  REQUIRE(std::holds_alternative<admin_line>(out));
  auto& line = std::get<admin_line>(out);
  if (auto failure = std::get_if<decode_failure>(&line.body))
    return *failure;
  auto& body = std::get<admin_body>(line.body);
  REQUIRE(std::holds_alternative<user_import_op>(body));
  return std::get<user_import_op>(body);
}

import_request expect_import(json request) {
  auto out = decode_import(std::move(request));
  if (auto f = std::get_if<decode_failure>(&out))
    FAIL("unexpected failure: " << f->message);
  return std::get<user_import_op>(out).req;
}

std::string expect_bad_request(json request) {
  auto out = decode_import(std::move(request));
  REQUIRE(std::holds_alternative<decode_failure>(out));
  auto& f = std::get<decode_failure>(out);
  CHECK(f.code == ec::bad_request);
  CHECK(f.id == 1);
  return f.message;
}

json user(int i) {
  return {{"email", "u" + std::to_string(i) + "@example.org"},
          {"name", "U"},
          {"hash", "$2b$..."}};
}

} // namespace

TEST_CASE("user_import decodes rows with their index and update") {
  auto req = expect_import({{"users",
                             {user(0),
                              {{"email", "b@x.org"},
                               {"name", "B"},
                               {"hash", "h"},
                               {"created_at", 1700000000},
                               {"extra", true}}}}});
  CHECK_FALSE(req.update);
  CHECK(req.rejected.empty());
  REQUIRE(req.rows.size() == 2);
  CHECK(req.rows[0].index == 0);
  CHECK(req.rows[0].email == "u0@example.org");
  CHECK(req.rows[0].created_at == 0); // not given
  CHECK(req.rows[1].index == 1);
  CHECK(req.rows[1].hash == "h");
  CHECK(req.rows[1].created_at == 1700000000);
  CHECK(expect_import({{"users", json::array()}, {"update", true}}).update);
  auto null_time = user(0);
  null_time["created_at"] = nullptr;
  CHECK(expect_import({{"users", {null_time}}}).rows.at(0).created_at == 0);
}

TEST_CASE("user_import rows with fields of the wrong type are rejected by "
          "index") {
  auto no_email = user(0);
  no_email.erase("email");
  auto numeric_name = user(1);
  numeric_name["name"] = 5;
  auto null_hash = user(2);
  null_hash["hash"] = nullptr;
  auto float_time = user(3);
  float_time["created_at"] = 1700000000.5;
  auto negative_time = user(4);
  negative_time["created_at"] = -1;
  auto zero_time = user(5);
  zero_time["created_at"] = 0;
  auto string_time = user(6);
  string_time["created_at"] = "1700000000";
  auto huge_time = user(7);
  huge_time["created_at"] = json::number_unsigned_t{18446744073709551615u};
  // Email first: a row wrong in every field is rejected for its email.
  json all_wrong{{"email", 1}, {"name", 2}, {"hash", 3}, {"created_at", "x"}};
  auto req = expect_import(
    {{"users",
      {no_email, numeric_name, null_hash, float_time, negative_time, zero_time,
       string_time, huge_time, all_wrong, user(9)}}});
  REQUIRE(req.rows.size() == 1);
  CHECK(req.rows[0].index == 9);
  REQUIRE(req.rejected.size() == 9);
  std::vector<std::string> codes;
  for (size_t i = 0; i < req.rejected.size(); ++i) {
    CHECK(req.rejected[i].index == static_cast<int64_t>(i));
    codes.emplace_back(wire_name(req.rejected[i].code));
  }
  CHECK(codes
        == std::vector<std::string>{"bad_email", "bad_name", "bad_hash",
                                    "bad_created_at", "bad_created_at",
                                    "bad_created_at", "bad_created_at",
                                    "bad_created_at", "bad_email"});
  CHECK(req.rejected[0].message == "missing field: email");
  CHECK(req.rejected[1].message == "field name must be a string");
}

TEST_CASE("user_import without a users array, or with too many, is "
          "bad_request") {
  CHECK(expect_bad_request(json::object()) == "missing field: users");
  CHECK(expect_bad_request({{"users", "a@x.org"}})
        == "field users must be an array");
  CHECK(expect_bad_request({{"users", json::object()}})
        == "field users must be an array");
  CHECK(expect_bad_request({{"users", nullptr}})
        == "field users must be an array");
  CHECK(expect_bad_request({{"users", json::array()}, {"update", "yes"}})
        == "field update must be a boolean");
  CHECK(expect_bad_request({{"users", {user(0), "b@x.org"}}})
        == "users[1] must be an object");
  json many = json::array();
  for (int i = 0; i < 1001; ++i)
    many.push_back(user(i));
  CHECK(expect_bad_request({{"users", many}})
        == "users must have at most 1000 entries");
  many.erase(many.size() - 1);
  CHECK(expect_import({{"users", many}}).rows.size() == 1000);
}

TEST_CASE("the import report lists counts and rejections with stable codes") {
  import_report r;
  r.counts = {3, 1, 2};
  for (uint8_t code = 0; code < 5; ++code)
    r.rejected.push_back({code * 10, static_cast<import_code>(code),
                          "why \"" + std::to_string(code) + "\""});
  auto line = encode_import_report(json(7), r);
  CHECK(line.back() == '\n');
  auto reply = json::parse(line);
  CHECK(reply == json::parse(R"({"id":7,"ok":true,"imported":3,"updated":1,
          "skipped":2,"rejected":[
          {"index":0,"code":"bad_email","message":"why \"0\""},
          {"index":10,"code":"bad_name","message":"why \"1\""},
          {"index":20,"code":"bad_hash","message":"why \"2\""},
          {"index":30,"code":"duplicate","message":"why \"3\""},
          {"index":40,"code":"bad_created_at","message":"why \"4\""}]})"));
  CHECK(line.find("\"id\":7,\"ok\":true,\"imported\":3,") != std::string::npos);
  CHECK(encode_import_report(json(), import_report{})
        == "{\"ok\":true,\"imported\":0,\"updated\":0,\"skipped\":0,"
           "\"rejected\":[]}\n");
}

TEST_CASE("user_show's admin user object adds the operator's members") {
  user_detail d;
  d.user = {1, "a@x.org", "A", 1700000000, 0};
  d.hash_scheme = "sha512_crypt";
  auto reply = json::parse(encode_user_detail(json(1), d));
  CHECK(reply["user"]["hash_scheme"] == "sha512_crypt");
  CHECK(reply["user"]["email_verified"] == false);
  CHECK(reply["user"]["second_factors"] == json::array());
  CHECK(reply["user"]["recovery_codes"] == 0);
  CHECK(reply["user"]["passkeys"] == json::array());
  CHECK(reply["user"].size() == 13);
}
