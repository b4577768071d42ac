// End to end: several processes as one service (--role, docs/deployment.md).
// A storage node, hasher nodes and gateways on loopback, each a real
// authnode process; clients talk to the gateways with the usual lines.
#include <catch2/catch.hpp>

#include <csignal>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "support/admin_client.hpp"
#include "support/line_client.hpp"
#include "support/node_process.hpp"
#include "support/protocol.hpp"
#include "support/second_factor.hpp"
#include "support/smtp_sink.hpp"
#include "support/soft_authenticator.hpp"

using namespace authnode::test;

namespace {

std::vector<std::string> with(std::vector<std::string> opts,
                              const std::vector<std::string>& extra) {
  opts.insert(opts.end(), extra.begin(), extra.end());
  return opts;
}

std::vector<std::string> storage_args(std::vector<std::string> extra = {}) {
  return with({"--role=storage", "--node-port=0", "--failure-delay=300ms",
               "--max-penalty=800ms"},
              extra);
}

std::vector<std::string> hasher_args() {
  return {"--role=hasher", "--node-port=0", "--hashers=2"};
}

std::string address(const node_process& node) {
  return "127.0.0.1:" + std::to_string(node.port());
}

std::vector<std::string> gateway_args(const node_process& storage,
                                      std::vector<std::string> extra = {}) {
  return with({"--role=gateway", "--storage=" + address(storage),
               "--hash-ops=1", "--hash-mem=8192", "--failure-delay=300ms",
               "--max-penalty=800ms", "--hashers=1"},
              extra);
}

/// A gateway, started and linked to its storage node (and to `hashers`
/// hasher nodes), so that the test's first request finds it ready.
std::unique_ptr<node_process> gateway(const node_process& storage,
                                      std::vector<std::string> extra = {},
                                      size_t hashers = 0) {
  auto node = std::make_unique<node_process>(gateway_args(storage, extra));
  REQUIRE(node->wait_for_log("linked to storage node"));
  if (hashers > 0)
    REQUIRE(node->wait_for_log("linked to hasher node", hashers));
  return node;
}

} // namespace

TEST_CASE("a user registered through one gateway logs in through another") {
  node_process storage{storage_args()};
  node_process hasher{hasher_args()};
  auto one = gateway(storage, {"--hasher-nodes=" + address(hasher)}, 1);
  auto two = gateway(storage);
  REQUIRE(succeeded(register_user(one->port(), "ann@example.org")));
  CHECK(error_code(register_user(two->port(), "ann@example.org"))
        == "email_taken");
  auto session = login(two->port(), "ann@example.org");
  REQUIRE(succeeded(session));
  line_client c1{one->port()};
  line_client c2{two->port()};
  auto me = whoami(c1, session["token"]);
  CHECK(me["user"]["email"] == "ann@example.org");
  REQUIRE(succeeded(logout(c2, session["token"])));
  // Gateways keep no session cache: the logout counts everywhere at once.
  CHECK(error_code(whoami(c1, session["token"])) == "invalid_token");
  auto wrong = login(one->port(), "ann@example.org", "not her password");
  CHECK(error_code(wrong) == "invalid_credentials");
}

TEST_CASE("an admin change made through one gateway holds on every gateway") {
  node_process storage{storage_args()};
  auto one = gateway(storage);
  auto two = gateway(storage);
  REQUIRE(succeeded(register_user(one->port(), "ann@example.org")));
  auto session = login(two->port(), "ann@example.org");
  REQUIRE(succeeded(session));
  admin_client admin{*one};
  auto shown = show_user(admin, "ann@example.org");
  CHECK(shown["user"]["sessions"] == 1);
  REQUIRE(succeeded(
    admin.call({{"op", "user_disable"}, {"email", "ann@example.org"}})));
  line_client c{two->port()};
  CHECK(error_code(whoami(c, session["token"])) == "invalid_token");
  CHECK(error_code(login(two->port(), "ann@example.org"))
        == "invalid_credentials");
}

TEST_CASE("guesses spread over two gateways earn one set of penalties") {
  node_process storage{storage_args()};
  auto one = gateway(storage);
  auto two = gateway(storage);
  REQUIRE(succeeded(register_user(one->port(), "victim@example.org")));
  // 40 guesses at once, half through each gateway, from one address.
  auto codes = guess_burst({one->port(), two->port()}, "victim@example.org",
                           20);
  CHECK(codes["invalid_credentials"] + codes["rate_limited"] == 40);
  CHECK(codes["rate_limited"] >= 34);
  // As against one node: a handful of hashes, not one per guess.
  CHECK(hash_verifications({one->port(), two->port()}) <= 6);
}

TEST_CASE("a lost hasher node's hashes are done by the others") {
  node_process storage{storage_args()};
  node_process first{hasher_args()};
  node_process second{hasher_args()};
  // No throttle, which would not let one account log in eight times at once.
  auto gw
    = gateway(storage,
              {"--hashers=0", "--throttle=off",
               "--hasher-nodes=" + address(first) + "," + address(second)},
              2);
  REQUIRE(succeeded(register_user(gw->port(), "ann@example.org")));
  // The first hasher node hangs: the two hashes it is given never come
  // back, until the gateway drops it (heartbeats) and gives them to the
  // second.
  ::kill(first.pid(), SIGSTOP);
  line_client c{gw->port()};
  std::string burst;
  for (int i = 0; i < 8; ++i)
    burst += line_of(with_id(i, login_request("ann@example.org")));
  c.send_raw(burst);
  for (int i = 0; i < 8; ++i) {
    auto answer = c.read();
    INFO(answer.dump());
    CHECK(succeeded(answer));
  }
  // Every login got in, though the first node kept the two hashes it was
  // given: they were done again by the second. (Whether the gateway hears
  // of the loss first or of the two requests failing decides which path
  // re-sends them, so the count in the log line is not fixed.)
  CHECK(gw->wait_for_log("a hasher node was lost"));
  first.kill_hard();
  // With the second gone too, nothing can hash: unavailable at once.
  second.kill_hard();
  REQUIRE(gw->wait_for_log("the last hasher node was lost"));
  CHECK(error_code(login(gw->port(), "ann@example.org")) == "unavailable");
}

TEST_CASE(
  "without its storage node a gateway answers unavailable and recovers") {
  temp_dir dir;
  auto storage = std::make_unique<node_process>(storage_args(), dir.path());
  auto port = storage->port();
  auto gw = gateway(*storage);
  REQUIRE(succeeded(register_user(gw->port(), "ann@example.org")));
  storage->kill_hard();
  REQUIRE(gw->wait_for_log("lost storage node"));
  line_client c{gw->port()};
  auto started = std::chrono::steady_clock::now();
  CHECK(error_code(login(c, "ann@example.org")) == "unavailable");
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(2));
  CHECK(succeeded(c.call({{"op", "ping"}})));
  // Back on the same port and database: the gateway finds it by itself.
  storage = std::make_unique<node_process>(
    storage_args({"--node-port=" + std::to_string(port)}), dir.path());
  REQUIRE(gw->wait_for_log("linked to storage node", 2));
  CHECK(succeeded(login(c, "ann@example.org")));
}

TEST_CASE("a hung storage node is noticed and requests waiting for it end") {
  node_process storage{storage_args()};
  auto gw = gateway(storage);
  REQUIRE(succeeded(register_user(gw->port(), "ann@example.org")));
  ::kill(storage.pid(), SIGSTOP);
  line_client c{gw->port()};
  auto started = std::chrono::steady_clock::now();
  auto reply = login(c, "ann@example.org");
  auto waited = std::chrono::steady_clock::now() - started;
  ::kill(storage.pid(), SIGCONT);
  CHECK(error_code(reply) == "unavailable");
  // Heartbeats every 500 ms, a peer silent for 1.5 s is dropped.
  CHECK(waited < std::chrono::milliseconds(2500));
  REQUIRE(gw->wait_for_log("linked to storage node", 2));
  CHECK(succeeded(login(gw->port(), "ann@example.org")));
}

TEST_CASE("a gateway refuses a node of the wrong role") {
  node_process hasher{hasher_args()};
  node_process gw{with(gateway_args(hasher), {})};
  CHECK(gw.wait_for_log("is a hasher node, not a storage node"));
  line_client c{gw.port()};
  CHECK(error_code(whoami(c, std::string(43, 'x'))) == "unavailable");
}

TEST_CASE("a node port outside loopback needs TLS or an explicit opt-in") {
  auto refused = run_node_to_exit(
    {"--role=storage", "--node-host=0.0.0.0", "--node-port=0"});
  CHECK(refused.status == 2);
  CHECK(refused.output.find("--allow-plaintext-nodes") != std::string::npos);
}

TEST_CASE("the storage node mails a recovery asked through a gateway") {
  smtp_sink sink;
  node_process storage{storage_args(
    {"--smtp-url=" + sink.url(), "--mail-from=noreply@example.org",
     "--app-url=https://app.example.org"})};
  auto one = gateway(storage, {"--verify-email=on"});
  REQUIRE(succeeded(register_user(one->port(), "ann@example.org")));
  REQUIRE(sink.wait_for(1, std::chrono::seconds(10))); // the verification
  line_client c{one->port()};
  REQUIRE(succeeded(
    c.call({{"op", "recovery_start"}, {"email", "ann@example.org"}})));
  REQUIRE(sink.wait_for(2, std::chrono::seconds(10)));
  auto code = code_in(sink.messages()[1]);
  REQUIRE(code);
  auto granted = c.call({{"op", "recovery_finish"},
                         {"email", "ann@example.org"},
                         {"code", *code},
                         {"new_password", "a brand new secret"}});
  REQUIRE(succeeded(granted));
  CHECK(granted["user"]["email_verified"] == true);
  CHECK(succeeded(login(one->port(), "ann@example.org", "a brand new secret")));
}

TEST_CASE("a TOTP code sent to two gateways at once is accepted by one") {
  node_process storage{storage_args()};
  auto one = gateway(storage);
  auto two = gateway(storage);
  line_client c1{one->port()};
  line_client c2{two->port()};
  auto e = enroll(c1, "ann@example.org");
  // Each gateway has a login waiting for its second factor, and both are
  // sent the same (correct) code in the same moment.
  auto code = code_at(e.seed, e.step + 1);
  std::vector<line_client*> clients{&c1, &c2};
  std::vector<std::string> challenges;
  for (auto* c : clients)
    challenges.push_back(challenge_of(*c, "ann@example.org"));
  for (size_t i = 0; i < clients.size(); ++i)
    clients[i]->send_raw(line_of(with_id(
      77, {{"op", "login_second_factor"},
           {"challenge", challenges[i]},
           {"code", code}})));
  std::map<std::string, int> outcomes;
  for (auto* c : clients)
    ++outcomes[outcome(c->read_reply(77))];
  CHECK(outcomes == std::map<std::string, int>{{"ok", 1}, {"invalid_code", 1}});
  // Nor does an older step work afterwards, on either gateway.
  CHECK(error_code(second_factor(c2, challenge_of(c2, "ann@example.org"),
                                 code_at(e.seed, e.step)))
        == "invalid_code");
}

TEST_CASE("a passkey sign-in begun on one gateway ends on another, once") {
  node_process storage{storage_args()};
  std::vector<std::string> passkeys{"--webauthn-rp-id=example.com"};
  auto one = gateway(storage, passkeys);
  auto two = gateway(storage, passkeys);
  line_client c1{one->port()};
  line_client c2{two->port()};
  REQUIRE(succeeded(register_user(c1, "ann@example.org")));
  auto token = session_token(c1, "ann@example.org");
  soft_authenticator key;
  auto begun
    = c1.call({{"op", "passkey_register_begin"}, {"token", token}});
  REQUIRE(succeeded(begun));
  // Made on one gateway, finished on the other: the challenge is the
  // storage node's.
  REQUIRE(succeeded(c2.call({{"op", "passkey_register_finish"},
                             {"token", token},
                             {"credential", key.create(begun["options"])}})));
  auto login = c1.call({{"op", "passkey_login_begin"}});
  REQUIRE(succeeded(login));
  auto assertion = key.get(login["options"]);
  json finish{{"op", "passkey_login_finish"},
              {"challenge_id", login["challenge_id"]},
              {"credential", assertion}};
  auto granted = c2.call(finish);
  REQUIRE(succeeded(granted));
  CHECK(succeeded(whoami(c1, granted["token"])));
  // The same assertion on the first gateway: its challenge is used up.
  CHECK(error_code(c1.call(finish)) == "invalid_credentials");
}
