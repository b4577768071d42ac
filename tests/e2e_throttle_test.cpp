// End to end: throttling seen from clients, over TCP. Short delays keep it
// quick; clients bind 127.0.0.2, 127.0.0.3 to be other sources.
#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <memory>
#include <vector>

#include "support/line_client.hpp"
#include "support/node_process.hpp"
#include "support/protocol.hpp"

using namespace authnode::test;

namespace {

std::vector<std::string> throttle_options(std::vector<std::string> extra) {
  std::vector<std::string> opts{"--hash-ops=1", "--hash-mem=8192",
                                "--failure-delay=200ms", "--max-penalty=800ms",
                                "--hashers=2"};
  opts.insert(opts.end(), extra.begin(), extra.end());
  return opts;
}

/// 5 connections from one address pipeline 20 guesses each at one account;
/// returns the count of each reply code.
std::map<std::string, int> guess_burst(uint16_t port) {
  std::vector<std::unique_ptr<line_client>> conns;
  for (int c = 0; c < 5; ++c) {
    conns.push_back(std::make_unique<line_client>(port, "127.0.0.1"));
    std::string burst;
    for (int i = 0; i < 20; ++i) {
      auto id = c * 100 + i;
      auto guess = login_request("victim@example.org",
                                 "guess " + std::to_string(id));
      burst += line_of(with_id(id, guess));
    }
    conns.back()->send_raw(burst);
  }
  std::map<std::string, int> codes;
  for (auto& c : conns)
    for (int i = 0; i < 20; ++i) {
      auto reply = c->read(std::chrono::seconds(10));
      auto code = outcome(reply);
      ++codes[code];
      if (code == "rate_limited")
        CHECK(retry_after_ms(reply) > 0);
    }
  return codes;
}

} // namespace

TEST_CASE("a burst of guesses at one account costs a handful of hashes") {
  node_process node{throttle_options({})};
  REQUIRE(succeeded(register_user(node.port(), "victim@example.org")));
  auto codes = guess_burst(node.port());
  CHECK(codes["invalid_credentials"] + codes["rate_limited"] == 100);
  CHECK(codes["rate_limited"] >= 90);
  CHECK(stats_of(node.port())["hash_verifications_total"].get<int64_t>() <= 6);
  line_client c{node.port()};
  auto stats = stats_of(c);
  CHECK(stats["rate_limited_total"] == codes["rate_limited"]);
}

TEST_CASE("with --throttle=off every guess is verified") {
  node_process node{throttle_options({"--throttle=off"})};
  REQUIRE(succeeded(register_user(node.port(), "victim@example.org")));
  auto codes = guess_burst(node.port());
  CHECK(codes["invalid_credentials"] == 100);
  CHECK(stats_of(node.port())["hash_verifications_total"] == 100);
}

TEST_CASE("with --throttle=off a login hands out no device token") {
  node_process node{throttle_options({"--throttle=off"})};
  REQUIRE(succeeded(register_user(node.port(), "owner@example.org")));
  line_client c{node.port()};
  for (int i = 0; i < 3; ++i) {
    auto reply = login(c, "owner@example.org");
    REQUIRE(succeeded(reply));
    CHECK_FALSE(reply.contains("device_token"));
  }
}

TEST_CASE("a guesser's penalty does not touch other sources and accounts") {
  node_process node{throttle_options({})};
  REQUIRE(succeeded(register_user(node.port(), "victim@example.org")));
  REQUIRE(succeeded(register_user(node.port(), "bystander@example.org")));
  guess_burst(node.port());
  line_client other{node.port(), "127.0.0.2"};
  CHECK(succeeded(login(other, "bystander@example.org")));
}

TEST_CASE("once the penalty has passed the right password gets in") {
  node_process node{throttle_options({})};
  REQUIRE(succeeded(register_user(node.port(), "victim@example.org")));
  guess_burst(node.port());
  // At most max-penalty (800ms) later, and held rather than refused if the
  // penalty is still running: the login is answered ok.
  line_client c{node.port(), "127.0.0.3"};
  json reply;
  for (int i = 0; i < 20; ++i) {
    reply = login(c, "victim@example.org");
    if (succeeded(reply))
      break;
    REQUIRE(error_code(reply) == "rate_limited");
    c.read_line(
      std::chrono::milliseconds(retry_after_ms(reply))); // waits, bounded
  }
  CHECK(succeeded(reply));
}

TEST_CASE("registrations past register-rate are refused without hashing") {
  node_process node{throttle_options({"--register-rate=3"})};
  line_client c{node.port(), "127.0.0.1"};
  for (int i = 0; i < 3; ++i)
    REQUIRE(
      succeeded(register_user(c, "r" + std::to_string(i) + "@example.org")));
  auto refused = register_user(c, "r3@example.org");
  CHECK(error_code(refused) == "rate_limited");
  CHECK(retry_after_ms(refused) > 0);
  line_client other{node.port(), "127.0.0.2"};
  CHECK(succeeded(register_user(other, "r3@example.org")));
}

TEST_CASE("guessing an old password with a stolen token is throttled too") {
  node_process node{throttle_options({})};
  REQUIRE(succeeded(register_user(node.port(), "victim@example.org")));
  line_client c{node.port()};
  auto token = session_token(c, "victim@example.org");
  std::string burst;
  for (int i = 0; i < 30; ++i)
    burst += json{{"id", i},
                  {"op", "change_password"},
                  {"token", token},
                  {"old_password", "guess " + std::to_string(i)},
                  {"new_password", "a new password"}}
               .dump()
      + "\n";
  c.send_raw(burst);
  int limited = 0;
  for (int i = 0; i < 30; ++i)
    limited += error_code(c.read(std::chrono::seconds(10))) == "rate_limited";
  CHECK(limited >= 20);
}

TEST_CASE("a trusted app server's client_addr is the throttling key") {
  node_process node{throttle_options({"--trusted-sources=127.0.0.5/32"})};
  REQUIRE(succeeded(register_user(node.port(), "victim@example.org")));
  REQUIRE(succeeded(register_user(node.port(), "bystander@example.org")));
  line_client app{node.port(), "127.0.0.5"};
  // A guesser behind the app server: 20 guesses at once from 10.1.1.1.
  std::string burst;
  for (int i = 0; i < 20; ++i) {
    auto guess = login_request("victim@example.org",
                               "guess " + std::to_string(i));
    guess["client_addr"] = "10.1.1.1";
    burst += line_of(with_id(i, guess));
  }
  app.send_raw(burst);
  int limited = 0;
  for (int i = 0; i < 20; ++i)
    limited += error_code(app.read(std::chrono::seconds(10))) == "rate_limited";
  CHECK(limited >= 15);
  // Another user of the same app server, from another address, gets in.
  auto other = app.call({{"op", "login"},
                         {"email", "bystander@example.org"},
                         {"password", "correct horse"},
                         {"client_addr", "10.2.2.2"}});
  CHECK(succeeded(other));
}

TEST_CASE("client_addr from an untrusted peer is refused") {
  node_process node{throttle_options({"--trusted-sources=127.0.0.5"})};
  line_client c{node.port(), "127.0.0.6"};
  auto reply = c.call({{"op", "login"},
                       {"email", "a@example.org"},
                       {"password", "whatever it is"},
                       {"client_addr", "10.1.1.1"}});
  CHECK(error_code(reply) == "bad_request");
  line_client trusted{node.port(), "127.0.0.5"};
  auto not_an_address = trusted.call({{"op", "login"},
                                      {"email", "a@example.org"},
                                      {"password", "whatever it is"},
                                      {"client_addr", "not-an-ip"}});
  CHECK(error_code(not_an_address) == "bad_request");
}

TEST_CASE("the audit log has one line per login outcome and no secrets") {
  temp_dir dir;
  auto path = dir.path() + "/audit.log";
  node_process node{throttle_options({"--audit=" + path})};
  REQUIRE(succeeded(register_user(node.port(), "victim@example.org")));
  line_client c{node.port()};
  auto token = session_token(c, "victim@example.org");
  login(c, "victim@example.org", "wrong and secret");
  login(c, "nobody@example.org", "another secret");
  REQUIRE(node.stop() == 0); // flushes and closes the audit file
  std::ifstream in{path};
  std::vector<json> lines;
  std::string text, line;
  while (std::getline(in, line)) {
    text += line + "\n";
    lines.push_back(json::parse(line));
  }
  REQUIRE(lines.size() == 3);
  CHECK(lines[0]["outcome"] == "ok");
  CHECK(lines[0]["account"] == "victim@example.org");
  CHECK(lines[0]["source"] == "127.0.0.1");
  CHECK(lines[1]["outcome"] == "invalid_credentials");
  CHECK(lines[1]["reason"] == "wrong password");
  // The second failure from this address was held by the penalty first.
  CHECK(lines[2]["outcome"] == "invalid_credentials");
  CHECK(lines[2]["reason"] == "unknown account");
  for (auto secret : {"correct horse", "wrong and secret", "another secret"})
    CHECK(text.find(secret) == std::string::npos);
  CHECK(text.find(token) == std::string::npos);
}

namespace {

/// Penalties of whole seconds, so that an attacker's held guess is still
/// held when the owner tries.
std::vector<std::string> slow_penalties() {
  return {"--hash-ops=1", "--hash-mem=8192", "--failure-delay=1s",
          "--max-penalty=60s", "--hashers=2"};
}

/// Keeps the account under attack: one more guess from the attacker's
/// address, held by the penalty (its reply is never read). Returns once the
/// node holds it: requests on different connections have no order. The
/// node holds one guess per penalized account: if the one held before is
/// still held, this one is refused for it at once, and the account stays as
/// attacked as it was.
void hold_a_guess(uint16_t port, line_client& attacker, int n) {
  line_client observer{port};
  auto held = [&] {
    return stats_of(observer)["throttle_held"].get<int64_t>();
  };
  auto before = held();
  attacker.send({{"op", "login"},
                 {"email", "victim@example.org"},
                 {"password", "held guess " + std::to_string(n)}});
  for (int i = 0; i < 100; ++i) {
    if (held() > before)
      return;
    if (auto line = attacker.read_line(std::chrono::milliseconds(10))) {
      REQUIRE(error_code(json::parse(*line)) == "rate_limited");
      REQUIRE(held() >= 1);
      return;
    }
  }
  FAIL("the guess was neither held nor refused for one held already");
}

} // namespace

TEST_CASE("a device token lets its owner in while the account is attacked") {
  node_process node{slow_penalties()};
  REQUIRE(succeeded(register_user(node.port(), "victim@example.org")));
  line_client owner{node.port(), "127.0.0.2"};
  auto first = login(owner, "victim@example.org", "correct horse");
  REQUIRE(succeeded(first));
  auto device = first["device_token"].get<std::string>();
  CHECK(device.size() == 43);
  guess_burst(node.port());
  line_client attacker{node.port(), "127.0.0.1"};
  hold_a_guess(node.port(), attacker, 1);
  // The attacker's guess is held: without the device token the owner is
  // refused...
  auto without = login(owner, "victim@example.org", "correct horse");
  INFO(without.dump());
  CHECK(error_code(without) == "rate_limited");
  // ...with it, the owner gets in at once, and keeps the device token.
  auto with = login(owner, "victim@example.org", "correct horse", device);
  CHECK(succeeded(with));
  CHECK_FALSE(with.contains("device_token"));
}

TEST_CASE("a device token is honoured only for its account and not forever") {
  node_process node{slow_penalties()};
  REQUIRE(succeeded(register_user(node.port(), "victim@example.org")));
  REQUIRE(succeeded(register_user(node.port(), "other@example.org")));
  line_client owner{node.port(), "127.0.0.2"};
  auto other_device = login(owner, "other@example.org",
                            "correct horse")["device_token"]
                        .get<std::string>();
  auto device = login(owner, "victim@example.org",
                      "correct horse")["device_token"]
                  .get<std::string>();
  guess_burst(node.port());
  line_client attacker{node.port(), "127.0.0.1"};
  hold_a_guess(node.port(), attacker, 1);
  // Another account's device token buys nothing here.
  CHECK(error_code(
          login(owner, "victim@example.org", "correct horse", other_device))
        == "rate_limited");
  // Five wrong passwords with the device token use it up.
  for (int i = 0; i < 5; ++i)
    CHECK(error_code(login(owner, "victim@example.org",
                           "wrong " + std::to_string(i), device))
          == "invalid_credentials");
  line_client attacker2{node.port(), "127.0.0.3"};
  hold_a_guess(node.port(), attacker2, 2);
  CHECK(error_code(login(owner, "victim@example.org", "correct horse", device))
        == "rate_limited");
}

TEST_CASE("a device token goes ahead of a full hash queue") {
  // One hasher at the default cost and a short queue: a spray of guesses
  // from many addresses at unknown accounts fills it (throttling per key
  // cannot stop a spray), and the queued hashes take a good while to drain.
  node_process node{
    {"--hashers=1", "--max-hash-queue=8", "--failure-delay=200ms"}};
  REQUIRE(succeeded(register_user(node.port(), "ann@example.org")));
  line_client ann{node.port(), "127.0.0.2"};
  auto first = login(ann, "ann@example.org", "correct horse");
  REQUIRE(succeeded(first));
  auto device = first["device_token"].get<std::string>();

  std::vector<std::unique_ptr<line_client>> spray;
  for (int s = 0; s < 30; ++s) {
    spray.push_back(std::make_unique<line_client>(
      node.port(), "127.0.0." + std::to_string(10 + s)));
    for (int i = 0; i < 2; ++i)
      spray.back()->send(
        {{"op", "login"},
         {"email", "nobody" + std::to_string(s * 2 + i) + "@example.org"},
         {"password", "spray guess"}});
  }
  line_client observer{node.port()};
  auto depth = [&] {
    return stats_of(observer)["hash_queue_depth"].get<int64_t>();
  };
  for (int i = 0; i < 200 && depth() < 8; ++i)
    observer.read_line(std::chrono::milliseconds(5)); // pause, bounded
  REQUIRE(depth() == 8);
  // The queue is full: the owner's device-token login is neither refused
  // busy nor made to wait behind the queue.
  auto with = login(ann, "ann@example.org", "correct horse", device);
  INFO(with.dump());
  CHECK(succeeded(with));
  CHECK(depth() > 0);
  // Every guess of the spray was answered, refused or verified.
  std::map<std::string, int> codes;
  for (auto& c : spray)
    for (int i = 0; i < 2; ++i)
      ++codes[outcome(c->read(std::chrono::seconds(20)))];
  CHECK(codes["busy"] + codes["invalid_credentials"] == 60);
  CHECK(codes["busy"] >= 1);
}

TEST_CASE("a client that ignores retry_after_ms waits, one that obeys does "
          "not") {
  node_process node{throttle_options({})};
  REQUIRE(succeeded(register_user(node.port(), "victim@example.org")));
  guess_burst(node.port());
  line_client attacker{node.port(), "127.0.0.1"};
  hold_a_guess(node.port(), attacker, 1);
  using clock = std::chrono::steady_clock;
  auto elapsed_ms = [](clock::time_point since) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(clock::now()
                                                                 - since)
      .count();
  };
  // The burst's pipelined guesses may have been tarpitted already: they
  // were sent without waiting for any refusal. Counted from here on.
  line_client observer{node.port()};
  auto tarpitted = [&] {
    return stats_of(observer)["tarpitted_total"].get<int64_t>();
  };
  auto before = tarpitted();
  // Refused once: the connection is served as before.
  line_client obeys{node.port(), "127.0.0.3"};
  auto first = login(obeys, "victim@example.org", "guess a");
  REQUIRE(error_code(first) == "rate_limited");
  auto asked = clock::now();
  CHECK(succeeded(obeys.call({{"op", "ping"}})));
  CHECK(elapsed_ms(asked) < 100);
  CHECK(tarpitted() == before);
  // Refused, then at once again: nothing more is read from this connection
  // until the time the first refusal named.
  line_client ignores{node.port(), "127.0.0.4"};
  auto refused = login(ignores, "victim@example.org", "guess b");
  REQUIRE(error_code(refused) == "rate_limited");
  auto told = clock::now();
  auto retry_after = retry_after_ms(refused);
  REQUIRE(retry_after >= 100);
  CHECK(error_code(login(ignores, "victim@example.org", "guess c"))
        == "rate_limited");
  CHECK(succeeded(ignores.call({{"op", "ping"}}, 5s)));
  CHECK(elapsed_ms(told) >= retry_after - 50);
  CHECK(tarpitted() == before + 1);
}
