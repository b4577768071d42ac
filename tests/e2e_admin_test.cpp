// End to end: the admin channel over its own TCP port, with the key from
// the node's key file; and what the public port does with admin ops.
#include <catch2/catch.hpp>

#include <chrono>
#include <map>

#include "support/admin_client.hpp"
#include "support/line_client.hpp"
#include "support/node_process.hpp"
#include "support/protocol.hpp"

using namespace authnode::test;
using std::chrono::steady_clock;

namespace {

json add_user(admin_client& a, const std::string& email,
              const std::string& password = "correct horse") {
  return a.call({{"op", "user_add"},
                 {"email", email},
                 {"name", "User " + email},
                 {"password", password}});
}

std::chrono::milliseconds since(steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
    steady_clock::now() - start);
}

std::vector<std::string> listed(const json& reply) {
  std::vector<std::string> out;
  for (auto& u : reply.at("users"))
    out.push_back(u.at("email").get<std::string>());
  return out;
}

} // namespace

TEST_CASE("the admin channel answers stats with the right key") {
  node_process node;
  REQUIRE(node.admin_port() != 0);
  REQUIRE(node.admin_port() != node.port());
  REQUIRE(node.admin_key().size() == 43);
  admin_client a{node};
  auto reply = a.call({{"id", "s"}, {"op", "stats"}});
  REQUIRE(succeeded(reply));
  CHECK(reply["id"] == "s");
  // Admin connections are not counted as clients.
  CHECK(reply["stats"]["connections"] == 0);
  CHECK(reply["stats"].contains("uptime_seconds"));
}

TEST_CASE("a wrong or missing admin key is forbidden, late, whatever the op") {
  auto opts = fast_options();
  opts.push_back("--throttle=off");
  node_process node{opts}; // --failure-delay=300ms
  line_client c{node.admin_port()};
  std::vector<json> requests{
    {{"op", "stats"}, {"admin_key", "wrong"}},
    {{"op", "stats"}},
    {{"op", "stats"}, {"admin_key", 42}},
    {{"op", "stats"}, {"admin_key", node.admin_key() + "x"}},
    {{"op", "stats"}, {"admin_key", node.admin_key().substr(1)}},
    {{"op", "no_such_op"}, {"admin_key", "wrong"}},
    {{"op", "user_show"}, {"admin_key", "wrong"}},
  };
  for (auto& request : requests) {
    auto start = steady_clock::now();
    auto reply = c.call(request);
    INFO(request.dump() << " -> " << reply.dump());
    CHECK(error_code(reply) == "forbidden");
    CHECK(reply["error"]["message"] == "the admin key is missing or wrong");
    CHECK(since(start) >= std::chrono::milliseconds(290));
  }
  // The right key still works on the same connection.
  json ok{{"op", "stats"}, {"admin_key", node.admin_key()}};
  CHECK(succeeded(c.call(ok)));
  // Denials are in the audit log, the keys tried are not; nor is the key.
  auto log = node.log();
  CHECK(log.find("\"forbidden\"") != std::string::npos);
  CHECK(log.find("wrong admin key") != std::string::npos);
  CHECK(log.find("no admin key") != std::string::npos);
  CHECK(log.find(node.admin_key().substr(1)) == std::string::npos);
}

TEST_CASE("repeated wrong admin keys are penalized like failed logins") {
  node_process node; // throttling on, --failure-delay=300ms
  line_client c{node.admin_port()};
  // Pipelined guesses: the guard lets one through, holds one, refuses the
  // rest at once.
  for (int i = 0; i < 4; ++i)
    c.send({{"id", i},
            {"op", "stats"},
            {"admin_key", "guess-" + std::to_string(i)}});
  std::map<std::string, int> codes;
  for (int i = 0; i < 4; ++i)
    codes[error_code(c.read_reply(i))] += 1;
  CHECK(codes["forbidden"] >= 1);
  CHECK(codes["rate_limited"] >= 1);
  CHECK(codes["forbidden"] + codes["rate_limited"] == 4);
  // The source is penalized for logins on the public port too.
  line_client pub{node.port()};
  auto start = steady_clock::now();
  auto reply = login(pub, "nobody@example.org", "whatever");
  CHECK((error_code(reply) == "rate_limited"
         || since(start) >= std::chrono::milliseconds(590)));
  CHECK(node.log().find("guess-") == std::string::npos);
}

TEST_CASE("admin ops are unknown on the public port, public ops on the admin "
          "port") {
  node_process node;
  line_client pub{node.port()};
  for (auto op : {"user_list", "user_show", "user_add", "user_set_password",
                  "user_disable", "user_enable", "user_delete"}) {
    auto reply = pub.call({{"op", op},
                           {"admin_key", node.admin_key()},
                           {"email", "ann@example.org"},
                           {"name", "Ann"},
                           {"password", "correct horse"}});
    INFO(op);
    CHECK(error_code(reply) == "unknown_op");
  }
  admin_client a{node};
  CHECK(a.call({{"op", "user_list"}})["users"].empty());
  for (auto op :
       {"ping", "register", "login", "whoami", "logout", "change_password"}) {
    INFO(op);
    CHECK(error_code(a.call({{"op", op}})) == "unknown_op");
  }
  CHECK(error_code(a.call({{"op", 7}})) == "bad_request");
  a.c.send_raw("not json\n");
  CHECK(error_code(a.c.read()) == "bad_json");
}

TEST_CASE("user_add, user_show and user_list over the admin channel") {
  node_process node;
  admin_client a{node};
  auto added = add_user(a, " Ann@Example.org ");
  REQUIRE(succeeded(added));
  CHECK(added["user"]["email"] == "ann@example.org");
  CHECK(added["user"]["name"] == "User  Ann@Example.org");
  CHECK(error_code(add_user(a, "ann@example.org")) == "email_taken");
  CHECK(error_code(add_user(a, "not-an-email")) == "invalid_email");
  CHECK(error_code(add_user(a, "bob@example.org", "short")) == "weak_password");
  CHECK(error_code(a.call({{"op", "user_add"}, {"email", "x@y.org"}}))
        == "bad_request");
  for (auto e : {"bob@example.org", "carl@example.org", "dora@other.org"})
    REQUIRE(succeeded(add_user(a, e)));

  // The new user logs in on the public port.
  line_client pub{node.port()};
  REQUIRE(succeeded(login(pub, "ann@example.org")));

  auto shown = show_user(a, "ANN@example.org");
  REQUIRE(succeeded(shown));
  auto& u = shown["user"];
  CHECK(u["email"] == "ann@example.org");
  CHECK(u["last_login_at"].is_string());
  CHECK(u["disabled"] == false);
  CHECK(u["sessions"] == 1);
  CHECK(u["devices"] == 1);
  CHECK(u["hash_scheme"] == "argon2id");
  CHECK(u["email_verified"] == false);
  CHECK(u["second_factors"] == json::array());
  CHECK(u["recovery_codes"] == 0);
  CHECK(u["passkeys"] == json::array());
  CHECK(u.size() == 13); // nothing else: no hash, no token
  CHECK(shown.dump().find("$argon2") == std::string::npos);
  CHECK(error_code(show_user(a, "nobody@example.org")) == "no_such_user");

  auto page = a.call({{"op", "user_list"}, {"limit", 2}});
  REQUIRE(succeeded(page));
  CHECK(listed(page)
        == std::vector<std::string>{"ann@example.org", "bob@example.org"});
  CHECK(page["next"] == "bob@example.org");
  page = a.call({{"op", "user_list"}, {"limit", 2}, {"after", page["next"]}});
  CHECK(listed(page)
        == std::vector<std::string>{"carl@example.org", "dora@other.org"});
  page = a.call({{"op", "user_list"}, {"limit", 2}, {"after", page["next"]}});
  CHECK(listed(page).empty());
  CHECK(page["next"].is_null());
  page = a.call({{"op", "user_list"}});
  CHECK(listed(page).size() == 4);
  CHECK(page["next"].is_null());
  page = a.call({{"op", "user_list"}, {"prefix", "D"}});
  CHECK(listed(page) == std::vector<std::string>{"dora@other.org"});
  CHECK(page["users"][0]["sessions"] == 0);
  for (json limit : {json(0), json(1001), json("5"), json(2.5)})
    CHECK(error_code(a.call({{"op", "user_list"}, {"limit", limit}}))
          == "bad_request");
  CHECK(succeeded(a.call({{"op", "user_list"}, {"limit", 1000}})));
  CHECK(node.log().find("correct horse") == std::string::npos);
}

TEST_CASE("user_set_password sets the password and revokes every session") {
  node_process node;
  admin_client a{node};
  REQUIRE(succeeded(add_user(a, "ann@example.org")));
  line_client pub{node.port()};
  auto token = session_token(pub, "ann@example.org");
  REQUIRE(succeeded(whoami(pub, token)));
  auto set = [&](const std::string& email, const std::string& password) {
    return a.call(
      {{"op", "user_set_password"}, {"email", email}, {"password", password}});
  };
  CHECK(error_code(set("ann@example.org", "short")) == "weak_password");
  CHECK(error_code(set("nobody@example.org", "a new secret"))
        == "no_such_user");
  REQUIRE(succeeded(set("ann@example.org", "a new secret")));
  CHECK(error_code(whoami(pub, token)) == "invalid_token");
  CHECK(error_code(login(pub, "ann@example.org")) == "invalid_credentials");
  CHECK(succeeded(login(pub, "ann@example.org", "a new secret")));
  CHECK(node.log().find("a new secret") == std::string::npos);
}

TEST_CASE("a disabled user's login fails exactly like a wrong password") {
  auto opts = fast_options();
  opts.push_back(
    "--throttle=off"); // so that one failure does not slow the next
  node_process node{opts};
  admin_client a{node};
  REQUIRE(succeeded(add_user(a, "ann@example.org")));
  REQUIRE(succeeded(add_user(a, "bob@example.org")));
  line_client pub{node.port(), "127.0.0.2"};
  auto token = session_token(pub, "ann@example.org");

  REQUIRE(
    succeeded(a.call({{"op", "user_disable"}, {"email", "ann@example.org"}})));
  CHECK(error_code(whoami(pub, token)) == "invalid_token");
  auto shown = show_user(a, "ann@example.org")["user"];
  CHECK(shown["disabled"] == true);
  CHECK(shown["sessions"] == 0);

  // The right password of a disabled account, and a wrong password of an
  // enabled one, from two sources: the same reply, both held.
  line_client other{node.port(), "127.0.0.3"};
  auto start = steady_clock::now();
  auto disabled = login(pub, "ann@example.org");
  auto disabled_took = since(start);
  start = steady_clock::now();
  auto wrong = login(other, "bob@example.org", "wrong password");
  auto wrong_took = since(start);
  CHECK(error_code(disabled) == "invalid_credentials");
  disabled.erase("id");
  wrong.erase("id");
  CHECK(disabled == wrong);
  CHECK(disabled_took >= std::chrono::milliseconds(290));
  CHECK(wrong_took >= std::chrono::milliseconds(290));
  // Only the audit line says why.
  CHECK(node.log().find("\"disabled\"") != std::string::npos);

  REQUIRE(
    succeeded(a.call({{"op", "user_enable"}, {"email", "ann@example.org"}})));
  CHECK(show_user(a, "ann@example.org")["user"]["disabled"] == false);
  line_client third{node.port(), "127.0.0.4"};
  CHECK(succeeded(login(third, "ann@example.org")));
  CHECK(error_code(a.call({{"op", "user_disable"}, {"email", "x@y.org"}}))
        == "no_such_user");
}

TEST_CASE("user_delete removes the user with its sessions and devices") {
  node_process node;
  admin_client a{node};
  REQUIRE(succeeded(add_user(a, "ann@example.org")));
  line_client pub{node.port()};
  auto granted = login(pub, "ann@example.org");
  REQUIRE(succeeded(granted));
  REQUIRE(show_user(a, "ann@example.org")["user"]["devices"] == 1);
  REQUIRE(
    succeeded(a.call({{"op", "user_delete"}, {"email", "ann@example.org"}})));
  CHECK(error_code(whoami(pub, granted["token"])) == "invalid_token");
  CHECK(error_code(show_user(a, "ann@example.org")) == "no_such_user");
  CHECK(
    error_code(a.call({{"op", "user_delete"}, {"email", "ann@example.org"}}))
    == "no_such_user");
  // The email can be used again; the old device token is not honoured.
  REQUIRE(succeeded(add_user(a, "ann@example.org")));
  auto again = login(pub, "ann@example.org", default_password,
                     granted["device_token"]);
  REQUIRE(succeeded(again));
  CHECK(again.contains("device_token")); // a new one: the old is gone
}

TEST_CASE("sessions_list shows sessions without tokens, sessions_revoke ends "
          "one or all") {
  node_process node;
  admin_client a{node};
  REQUIRE(succeeded(add_user(a, "ann@example.org")));
  line_client pub{node.port()};
  auto t1 = session_token(pub, "ann@example.org");
  auto t2 = session_token(pub, "ann@example.org");
  auto listed = a.call({{"op", "sessions_list"}, {"email", "Ann@example.org"}});
  REQUIRE(succeeded(listed));
  REQUIRE(listed["sessions"].size() == 2);
  auto& s = listed["sessions"][0];
  CHECK(s["id"].is_number_integer());
  CHECK(s["created_at"].is_string());
  CHECK(s["expires_at"].is_string());
  CHECK(s["source"] == "127.0.0.1");
  CHECK(s.size() == 4);
  CHECK(listed.dump().find(t1) == std::string::npos);
  CHECK(listed.dump().find(t2) == std::string::npos);
  CHECK(error_code(a.call({{"op", "sessions_list"}, {"email", "x@y.org"}}))
        == "no_such_user");

  auto first = listed["sessions"][0]["id"];
  auto one = a.call({{"op", "sessions_revoke"},
                     {"email", "ann@example.org"},
                     {"session_id", first}});
  REQUIRE(succeeded(one));
  CHECK(one["revoked"] == 1);
  CHECK(error_code(whoami(pub, t1)) == "invalid_token");
  CHECK(succeeded(whoami(pub, t2)));
  auto again = a.call({{"op", "sessions_revoke"},
                       {"email", "ann@example.org"},
                       {"session_id", first}});
  CHECK(again["revoked"] == 0);
  auto all = a.call({{"op", "sessions_revoke"}, {"email", "ann@example.org"}});
  CHECK(all["revoked"] == 1);
  CHECK(error_code(whoami(pub, t2)) == "invalid_token");
  for (json bad : {json(0), json(-1), json("1"), json(1.5)})
    CHECK(error_code(a.call({{"op", "sessions_revoke"},
                             {"email", "ann@example.org"},
                             {"session_id", bad}}))
          == "bad_request");
}

TEST_CASE("throttle_show and throttle_reset unlock a source or an account") {
  node_process node; // throttling on, --failure-delay=300ms
  admin_client a{node};
  REQUIRE(succeeded(add_user(a, "ann@example.org")));
  line_client pub{node.port(), "127.0.0.5"};
  for (int i = 0; i < 3; ++i)
    REQUIRE(
      error_code(login(pub, "ann@example.org", "wrong " + std::to_string(i)))
      == "invalid_credentials");
  auto shown = a.call({{"op", "throttle_show"}, {"source", "127.0.0.5"}});
  REQUIRE(succeeded(shown));
  CHECK(shown["throttle"]["key"] == "127.0.0.5");
  CHECK(shown["throttle"]["failures"] == 3);
  auto account
    = a.call({{"op", "throttle_show"}, {"account", "ANN@example.org"}});
  CHECK(account["throttle"]["key"] == "ann@example.org");
  CHECK(account["throttle"]["failures"] == 3);
  CHECK(account["throttle"]["penalty_ms"].get<int64_t>() > 0);

  // A login held by the penalty (1.2 s after the third failure) is let go
  // as soon as both keys are reset.
  pub.send({{"id", "held"},
            {"op", "login"},
            {"email", "ann@example.org"},
            {"password", "correct horse"}});
  auto start = steady_clock::now();
  auto reset = a.call({{"op", "throttle_reset"}, {"source", "127.0.0.5"}});
  REQUIRE(succeeded(reset));
  CHECK(reset["reset"] == true);
  CHECK(
    a.call({{"op", "throttle_reset"}, {"account", "ann@example.org"}})["reset"]
    == true);
  auto granted = pub.read_reply("held");
  CHECK(succeeded(granted));
  CHECK(since(start) < std::chrono::milliseconds(1000));
  CHECK(a.call({{"op", "throttle_show"},
                {"source", "127.0.0.5"}})["throttle"]["failures"]
        == 0);
  CHECK(a.call({{"op", "throttle_reset"}, {"source", "127.0.0.9"}})["reset"]
        == false);

  for (json bad :
       {json{{"op", "throttle_show"}},
        json{{"op", "throttle_show"}, {"source", "1.2.3.4"}, {"account", "a"}},
        json{{"op", "throttle_show"}, {"source", "not-an-address"}},
        json{{"op", "throttle_show"}, {"source", "1.2.3.4"}, {"kind", "sms"}},
        json{{"op", "throttle_show"}, {"source", "1.2.3.4"}, {"kind", 3}},
        json{{"op", "throttle_reset"}, {"account", 5}}})
    CHECK(error_code(a.call(bad)) == "bad_request");
}

TEST_CASE("throttle ops say so when throttling is off") {
  auto opts = fast_options();
  opts.push_back("--throttle=off");
  node_process node{opts};
  admin_client a{node};
  auto reply = a.call({{"op", "throttle_show"}, {"source", "127.0.0.1"}});
  CHECK(error_code(reply) == "bad_request");
  CHECK(reply["error"]["message"] == "throttling is off (--throttle=off)");
}
