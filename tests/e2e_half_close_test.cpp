// End to end: a client that half-closes (shutdown(SHUT_WR), as `nc -N` does
// after its last request) still gets every reply, then the close
// (net/half_close_stream.hpp, net/connection.hpp).
#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include "support/admin_client.hpp"
#include "support/line_client.hpp"
#include "support/node_process.hpp"
#include "support/protocol.hpp"

using namespace authnode::test;
using std::chrono::steady_clock;

namespace {

std::vector<std::string> with(std::vector<std::string> extra) {
  auto opts = fast_options(); // --failure-delay=300ms
  opts.insert(opts.end(), extra.begin(), extra.end());
  return opts;
}

/// Every reply `c` gets until the node closes, by id.
std::map<json, json> replies_until_close(line_client& c) {
  std::map<json, json> out;
  while (auto line = c.read_line(5s)) {
    auto reply = json::parse(*line);
    out[reply["id"]] = reply;
  }
  return out;
}

} // namespace

TEST_CASE("a half-closed client gets every pipelined reply, then the close",
          "[half_close]") {
  node_process node;
  REQUIRE(succeeded(register_user(node.port(), "ann@example.org")));
  auto token = session_token(*std::make_unique<line_client>(node.port()),
                             "ann@example.org");
  line_client c{node.port()};
  auto start = steady_clock::now();
  c.send_raw(line_of(with_id(1, {{"op", "ping"}}))
             + line_of(with_id(2, login_request("ann@example.org", "not it")))
             + line_of(with_id(3, register_request("bob@example.org")))
             + line_of(with_id(4, {{"op", "whoami"}, {"token", token}})));
  c.shutdown_write();
  auto got = replies_until_close(c);
  auto took = steady_clock::now() - start;
  REQUIRE(got.size() == 4);
  CHECK(succeeded(got[1]));
  CHECK(error_code(got[2]) == "invalid_credentials");
  CHECK(succeeded(got[3]));
  CHECK(got[4]["user"]["email"] == "ann@example.org");
  CHECK(took >= 300ms); // the failure went out at its due time
  CHECK(c.closed_by_peer(1s));
  CHECK_FALSE(c.reset_by_peer());
  CHECK(c.unterminated().empty());
}

TEST_CASE("a half-close with nothing owed closes at once", "[half_close]") {
  node_process node;
  line_client c{node.port()};
  c.send_raw("{\"id\":1,\"op\":\"ping\"}\n{\"id\":2,\"op\":\"pi");
  c.shutdown_write();
  CHECK(c.read() == json{{"id", 1}, {"ok", true}});
  // The partial last line is dropped.
  CHECK(c.closed_by_peer(2s));
  CHECK_FALSE(c.reset_by_peer());
}

TEST_CASE("a half-closed admin client gets its held forbidden and its stats",
          "[half_close]") {
  node_process node;
  admin_client a{node};
  a.send({{"id", "s"}, {"op", "stats"}});
  a.c.send({{"id", "f"}, {"op", "stats"}, {"admin_key", "wrong"}});
  a.c.shutdown_write();
  auto got = replies_until_close(a.c);
  REQUIRE(got.size() == 2);
  CHECK(succeeded(got["s"]));
  CHECK(error_code(got["f"]) == "forbidden");
  CHECK(a.c.closed_by_peer(1s));
}

TEST_CASE("a half-closed client that never reads is closed all the same",
          "[half_close]") {
  node_process node{with({"--idle-timeout=300ms"})};
  line_client c{node.port()};
  c.send(with_id(1, login_request("nobody@example.org", "not it")));
  c.send(with_id(2, {{"op", "ping"}}));
  c.shutdown_write();
  // Only the stats connection itself is left once the held failure is out.
  auto deadline = steady_clock::now() + 5s;
  int64_t open = -1;
  while (steady_clock::now() < deadline) {
    open = stats_of(node.port())["connections"].get<int64_t>();
    if (open == 1)
      break;
    std::this_thread::sleep_for(50ms);
  }
  CHECK(open == 1);
  auto got = replies_until_close(c);
  CHECK(got.size() == 2);
  CHECK(error_code(got[1]) == "invalid_credentials");
  CHECK(c.closed_by_peer(1s));
}

TEST_CASE("a client that closed for good before its held reply costs nothing "
          "lasting", "[half_close]") {
  node_process node;
  {
    line_client c{node.port()};
    c.send(with_id(1, login_request("nobody@example.org", "not it")));
    c.send(with_id(2, {{"op", "ping"}}));
  } // closed: the held failure meets a socket the peer no longer reads
  std::this_thread::sleep_for(600ms);
  line_client other{node.port()};
  CHECK(succeeded(other.call({{"op", "ping"}})));
  CHECK(stats_of(other)["connections"] == 1);
}

TEST_CASE("many half-closed clients with held failures are all answered",
          "[half_close]") {
  node_process node{with({"--throttle=off"})};
  constexpr int count = 200;
  std::vector<std::unique_ptr<line_client>> clients;
  for (int i = 0; i < count; ++i) {
    clients.push_back(std::make_unique<line_client>(node.port()));
    clients.back()->send(
      with_id(i, login_request("nobody@example.org", "not it")));
    clients.back()->shutdown_write();
  }
  int answered = 0;
  int closed = 0;
  for (int i = 0; i < count; ++i) {
    auto reply = clients[i]->read(10s);
    if (reply["id"] == i && error_code(reply) == "invalid_credentials")
      ++answered;
    if (clients[i]->closed_by_peer(5s))
      ++closed;
  }
  CHECK(answered == count);
  CHECK(closed == count);
}
