// End to end: the real node binary on an ephemeral port, driven over TCP with
// the same JSON lines a client sends.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>

#include <sqlite3.h>

#include "support/db_peek.hpp"
#include "support/line_client.hpp"
#include "support/node_process.hpp"
#include "support/protocol.hpp"

using namespace authnode::test;
using std::chrono::steady_clock;

TEST_CASE("ping answers ok and echoes the id") {
  node_process node;
  line_client c{node.port()};
  auto reply = c.call({{"id", "p1"}, {"op", "ping"}});
  CHECK(reply == json{{"id", "p1"}, {"ok", true}});
  c.send_raw("{\"id\":42,\"op\":\"ping\"}\r\n");
  CHECK(c.read() == json{{"id", 42}, {"ok", true}});
}

TEST_CASE("register creates a user once per normalized email") {
  node_process node;
  line_client c{node.port()};
  auto reply = register_user(c, "  Ann@Example.ORG ");
  REQUIRE(succeeded(reply));
  auto& user = reply["user"];
  CHECK(user["email"] == "ann@example.org");
  CHECK(user["name"] == "Ann");
  CHECK(user["id"].is_number_integer());
  CHECK(user["created_at"].get<std::string>().back() == 'Z');
  CHECK(user["last_login_at"].is_null());
  CHECK(error_code(register_user(c, "ann@example.org")) == "email_taken");
  CHECK(error_code(register_user(c, "ANN@example.org")) == "email_taken");
}

TEST_CASE("register refuses bad emails and weak passwords") {
  node_process node;
  line_client c{node.port()};
  CHECK(error_code(register_user(c, "not-an-email")) == "invalid_email");
  CHECK(error_code(register_user(c, "a@b.co", "short")) == "weak_password");
  CHECK(error_code(register_user(c, "a@b.co", std::string(1025, 'x')))
        == "weak_password");
  CHECK(error_code(register_user(c, "long.enough@b.co", "Long.Enough@B.co"))
        == "weak_password");
  CHECK(succeeded(register_user(c, "a@b.co", std::string(1024, 'x'))));
  CHECK(error_code(c.call(
          {{"op", "register"}, {"email", "c@d.co"}, {"password", "password1"}}))
        == "bad_request");
}

TEST_CASE("login hands out a token that whoami accepts until logout") {
  node_process node;
  line_client c{node.port()};
  REQUIRE(succeeded(register_user(c, "bob@example.org")));
  auto granted = login(c, "BOB@example.org");
  REQUIRE(succeeded(granted));
  auto token = granted["token"].get<std::string>();
  CHECK(token.size() == 43); // 32 bytes, base64url without padding
  CHECK(granted["expires_at"].get<std::string>().back() == 'Z');
  CHECK(granted["user"]["email"] == "bob@example.org");
  CHECK(granted["user"]["last_login_at"].is_string());

  auto me = whoami(c, token);
  REQUIRE(succeeded(me));
  CHECK(me["user"]["email"] == "bob@example.org");
  CHECK(me["user"]["last_login_at"].is_string());

  // A second client sees the same session.
  line_client other{node.port()};
  CHECK(succeeded(whoami(other, token)));

  CHECK(succeeded(logout(c, token)));
  CHECK(error_code(whoami(c, token)) == "invalid_token");
  CHECK(error_code(logout(c, token)) == "invalid_token");
  CHECK(error_code(whoami(c, "made-up")) == "invalid_token");
}

TEST_CASE("a failed login is answered late while other requests are not") {
  node_process node; // --failure-delay=300ms
  line_client c{node.port()};
  REQUIRE(succeeded(register_user(c, "carl@example.org")));
  auto start = steady_clock::now();
  c.send({{"id", "bad"},
          {"op", "login"},
          {"email", "carl@example.org"},
          {"password", "wrong password"}});
  c.send({{"id", "unknown"},
          {"op", "login"},
          {"email", "nobody@example.org"},
          {"password", "wrong password"}});
  c.send({{"id", "p"}, {"op", "ping"}});
  // The ping overtakes both failures on the same connection.
  auto first = c.read();
  CHECK(first["id"] == "p");
  auto bad = c.read_reply("bad");
  auto unknown = c.read_reply("unknown");
  auto waited = steady_clock::now() - start;
  CHECK(waited >= std::chrono::milliseconds(300));
  // Unknown email and wrong password look the same.
  CHECK(error_code(bad) == "invalid_credentials");
  CHECK(bad["error"] == unknown["error"]);
}

TEST_CASE("change_password needs the old password and revokes other sessions") {
  node_process node;
  line_client c{node.port()};
  REQUIRE(succeeded(register_user(c, "dora@example.org")));
  auto here = session_token(c, "dora@example.org");
  auto there = session_token(c, "dora@example.org");

  auto start = steady_clock::now();
  auto wrong = change_password(c, here, "not it at all", "a new secret");
  CHECK(error_code(wrong) == "invalid_credentials");
  CHECK(steady_clock::now() - start >= std::chrono::milliseconds(300));
  CHECK(error_code(change_password(c, here, "correct horse", "short"))
        == "weak_password");
  CHECK(error_code(change_password(c, "nope", "correct horse", "a new secret"))
        == "invalid_token");

  REQUIRE(succeeded(change_password(c, here, "correct horse", "a new secret")));
  CHECK(succeeded(whoami(c, here)));
  CHECK(error_code(whoami(c, there)) == "invalid_token");
  CHECK(error_code(login(c, "dora@example.org")) == "invalid_credentials");
  CHECK(succeeded(login(c, "dora@example.org", "a new secret")));
}

TEST_CASE("stats counts connections, requests and login outcomes") {
  node_process node;
  line_client c{node.port()};
  line_client idle{node.port()};
  REQUIRE(succeeded(register_user(c, "eve@example.org")));
  REQUIRE(succeeded(login(c, "eve@example.org")));
  REQUIRE(error_code(login(c, "eve@example.org", "wrong one"))
          == "invalid_credentials");
  auto reply = c.call({{"op", "stats"}});
  REQUIRE(succeeded(reply));
  auto& s = reply["stats"];
  CHECK(s["connections"] == 2);
  CHECK(s["requests_total"] == 4);
  CHECK(s["logins_ok"] == 1);
  CHECK(s["logins_failed"] == 1);
  CHECK(s["pending_delayed"] == 0);
  CHECK(s["hash_verifications_total"] == 2);
  CHECK(s["registrations_total"] == 1);
}

TEST_CASE("bad input is answered and the connection stays usable") {
  node_process node;
  line_client c{node.port()};
  c.send_raw("this is not json\n");
  CHECK(error_code(c.read()) == "bad_json");
  c.send_raw("\n");
  CHECK(error_code(c.read()) == "bad_json");
  auto unknown = c.call({{"id", 5}, {"op", "fly"}});
  CHECK(error_code(unknown) == "unknown_op");
  CHECK(unknown["id"] == 5);
  auto missing = c.call({{"id", 6}, {"op", "login"}, {"email", "x@y.co"}});
  CHECK(error_code(missing) == "bad_request");
  CHECK(missing["error"]["message"] == "missing field: password");
  CHECK(succeeded(c.call({{"op", "ping"}})));
}

TEST_CASE("a line over max-line is answered line_too_long, then closed") {
  auto opts = fast_options();
  opts.push_back("--max-line=1024");
  node_process node{opts};
  line_client c{node.port()};
  c.send_raw(std::string(2000, 'x'));
  auto reply = c.read();
  CHECK(error_code(reply) == "line_too_long");
  CHECK(c.closed_by_peer());
  line_client fresh{node.port()};
  CHECK(succeeded(fresh.call({{"op", "ping"}})));
}

TEST_CASE("1,000 pending failures take no thread and do not hold up a ping") {
  auto opts = fast_options();
  opts.back() = "--hashers=1";
  opts[2] = "--failure-delay=3s";
  // The fixed delay alone is what this measures: with throttling, all but a
  // few of these guesses would be refused at once (tests/e2e_throttle_test).
  opts.push_back("--throttle=off");
  node_process node{opts};
  line_client c{node.port()};
  REQUIRE(succeeded(register_user(c, "fay@example.org")));
  auto threads_before = node.thread_count();
  std::string burst;
  for (int i = 0; i < 1000; ++i) {
    auto guess = "guess number " + std::to_string(i);
    burst += line_of(with_id(i, login_request("fay@example.org", guess)));
  }
  c.send_raw(burst);
  line_client observer{node.port()};
  // Wait (bounded) until all 1,000 verifications are done and held.
  int64_t pending = 0;
  for (int i = 0; i < 200 && pending < 1000; ++i) {
    pending = stats_of(observer)["pending_delayed"];
    if (pending < 1000)
      observer.read_line(std::chrono::milliseconds(10)); // pause, bounded
  }
  REQUIRE(pending == 1000);
  CHECK(node.thread_count() == threads_before);
  // While they wait, a ping on the same connection is answered first.
  c.send({{"id", "ping"}, {"op", "ping"}});
  CHECK(c.read()["id"] == "ping");
  for (int i = 0; i < 1000; ++i) {
    auto reply = c.read(std::chrono::seconds(10));
    REQUIRE(error_code(reply) == "invalid_credentials");
  }
  CHECK(stats_of(observer)["pending_delayed"] == 0);
}

TEST_CASE("accounts survive a restart, and SIGTERM exits 0") {
  temp_dir dir;
  {
    node_process first{fast_options(), dir.path()};
    line_client c{first.port()};
    REQUIRE(succeeded(register_user(c, "gus@example.org")));
    CHECK(first.stop() == 0);
    CHECK(first.log().find("stopped") != std::string::npos);
  }
  node_process second{fast_options(), dir.path()};
  line_client c{second.port()};
  CHECK(succeeded(login(c, "gus@example.org")));
  CHECK(error_code(register_user(c, "gus@example.org")) == "email_taken");
}

TEST_CASE("a login made with outdated hash parameters is re-hashed") {
  temp_dir dir;
  {
    node_process cheap{fast_options(), dir.path()};
    line_client c{cheap.port()};
    REQUIRE(succeeded(register_user(c, "hal@example.org")));
    REQUIRE(cheap.stop() == 0);
  }
  auto db = dir.path() + "/auth.db";
  CHECK(stored_hash(db, "hal@example.org").find("$m=8,t=1,")
        != std::string::npos);
  {
    auto opts = fast_options();
    opts[0] = "--hash-ops=2";
    node_process stronger{opts, dir.path()};
    line_client c{stronger.port()};
    REQUIRE(succeeded(login(c, "hal@example.org")));
    // The new hash is stored after the login is answered.
    auto rehashed
      = wait_for_stored_hash(db, "hal@example.org", [](const std::string& h) {
          return h.find("$m=8,t=2,") != std::string::npos;
        });
    CHECK(rehashed.find("$m=8,t=2,") != std::string::npos);
    REQUIRE(stronger.stop() == 0);
  }
  CHECK(stored_hash(db, "hal@example.org").find("$m=8,t=2,")
        != std::string::npos);
}

TEST_CASE("SIGTERM answers a pending failure before exiting") {
  node_process node;
  line_client c{node.port()};
  REQUIRE(succeeded(register_user(c, "ivy@example.org")));
  c.send({{"id", "late"},
          {"op", "login"},
          {"email", "ivy@example.org"},
          {"password", "wrong password"}});
  c.send({{"id", "p"}, {"op", "ping"}});
  REQUIRE(c.read()["id"] == "p"); // the login is in flight now
  CHECK(node.stop() == 0);
  auto reply = c.read();
  CHECK(reply["id"] == "late");
  CHECK(error_code(reply) == "invalid_credentials");
  CHECK(c.closed_by_peer());
}

TEST_CASE("the default argon2 cost works end to end") {
  node_process node{{"--failure-delay=100ms", "--hashers=2"}};
  line_client c{node.port()};
  REQUIRE(succeeded(register_user(c, "joe@example.org")));
  auto granted = login(c, "joe@example.org");
  REQUIRE(succeeded(granted));
  CHECK(error_code(login(c, "joe@example.org", "wrong password"))
        == "invalid_credentials");
}

TEST_CASE("a bad option stops the node before it listens, naming the option") {
  for (auto bad : {"--hash-ops=0", "--max-line=10", "--min-password=0",
                   "--failure-delay=-1s"}) {
    INFO(bad);
    std::string message;
    try {
      node_process node{{bad}};
      FAIL("the node started");
    } catch (std::exception& e) {
      message = e.what();
    }
    auto name = std::string{bad}.substr(0, std::string{bad}.find('='));
    CHECK(message.find(name) != std::string::npos);
  }
}

TEST_CASE("a database that is not ours stops the node at start, naming it",
          "[sqlite]") {
  temp_dir dir;
  auto db = dir.path() + "/auth.db";
  auto refused = [&](const std::string& why) {
    INFO(why);
    std::string message;
    try {
      node_process node{fast_options(), dir.path()};
      FAIL("the node started");
    } catch (std::exception& e) {
      message = e.what();
    }
    CHECK(message.find(db) != std::string::npos);
    return message;
  };
  {
    std::ofstream garbage{db, std::ios::binary};
    garbage << std::string(4096, 'x');
  }
  refused("garbage");
  std::remove(db.c_str());
  // A database a newer authnode wrote: its schema version is beyond ours.
  sqlite3* handle = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &handle) == SQLITE_OK);
  REQUIRE(
    sqlite3_exec(handle, "PRAGMA user_version = 99", nullptr, nullptr, nullptr)
    == SQLITE_OK);
  sqlite3_close(handle);
  CHECK(refused("newer schema").find("newer") != std::string::npos);
}
