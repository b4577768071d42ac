// The tests' own reading of replies (support/protocol.hpp): what counts as a
// success and as a failure. Copies of these helpers had drifted until one
// took a reply without "ok" for a success; this pins the one rule.
#include <catch2/catch.hpp>

#include "support/protocol.hpp"

using namespace authnode::test;

TEST_CASE("only \"ok\": true is a success", "[protocol_helpers]") {
  CHECK(succeeded(json{{"ok", true}}));
  CHECK(succeeded(json{{"id", 1}, {"ok", true}, {"user", json::object()}}));
  for (auto reply : {json::object(), json{{"id", 1}}, json{{"ok", "true"}},
                     json{{"ok", 1}}, json{{"ok", false}}, json(nullptr),
                     json::array({json{{"ok", true}}}), json(true)}) {
    INFO(reply.dump());
    CHECK_FALSE(succeeded(reply));
    CHECK(outcome(reply) != "ok");
  }
  CHECK(outcome(json{{"ok", true}}) == "ok");
}

TEST_CASE("a failure is \"ok\": false with a string error.code",
          "[protocol_helpers]") {
  json limited{
    {"ok", false},
    {"error",
     {{"code", "rate_limited"}, {"message", "m"}, {"retry_after_ms", 250}}}};
  CHECK(failed(limited));
  CHECK(error_code(limited) == "rate_limited");
  CHECK(outcome(limited) == "rate_limited");
  CHECK(retry_after_ms(limited) == 250);
  json plain{{"ok", false}, {"error", {{"code", "bad_json"}}}};
  CHECK(error_code(plain) == "bad_json");
  CHECK(retry_after_ms(plain) == -1);
  for (auto reply :
       {json{{"error", {{"code", "bad_json"}}}}, json{{"ok", false}},
        json{{"ok", false}, {"error", "x"}},
        json{{"ok", false}, {"error", {{"code", 7}}}},
        json{{"ok", true}, {"error", {{"code", "bad_json"}}}}, json(nullptr)}) {
    INFO(reply.dump());
    CHECK_FALSE(failed(reply));
    CHECK(error_code(reply).rfind("<not a failure: ", 0) == 0);
    CHECK(retry_after_ms(reply) == -1);
  }
}

TEST_CASE("the requests the helpers send are the protocol's",
          "[protocol_helpers]") {
  CHECK(register_request("a@b.co")
        == json{{"op", "register"},
                {"email", "a@b.co"},
                {"password", default_password},
                {"name", "Ann"}});
  CHECK(login_request("a@b.co", "pw")
        == json{{"op", "login"}, {"email", "a@b.co"}, {"password", "pw"}});
  CHECK(login_request("a@b.co", "pw", "dev")["device_token"] == "dev");
  CHECK(line_of(with_id(3, json{{"op", "ping"}}))
        == "{\"id\":3,\"op\":\"ping\"}\n");
}
