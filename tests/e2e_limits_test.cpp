// End to end: the limits a connection lives within.
#include <catch2/catch.hpp>

#include <memory>
#include <vector>

#include "support/line_client.hpp"
#include "support/node_process.hpp"

using namespace authnode::test;

namespace {

std::vector<std::string> with(std::vector<std::string> extra) {
  auto opts = fast_options();
  opts.insert(opts.end(), extra.begin(), extra.end());
  return opts;
}

} // namespace

TEST_CASE("a client past max-connections gets one busy line, then a close") {
  node_process node{with({"--max-connections=2"})};
  line_client a{node.port()};
  line_client b{node.port()};
  REQUIRE(a.call({{"op", "ping"}})["ok"] == true);
  REQUIRE(b.call({{"op", "ping"}})["ok"] == true);
  {
    line_client refused{node.port()};
    auto line = refused.read_line();
    REQUIRE(line);
    auto reply = json::parse(*line);
    CHECK(reply["ok"] == false);
    CHECK(reply["error"]["code"] == "busy");
    CHECK(refused.closed_by_peer());
  }
  // The two admitted clients are unaffected, and a freed place is reused.
  CHECK(a.call({{"op", "ping"}})["ok"] == true);
  auto stats = b.call({{"op", "stats"}});
  CHECK(stats["stats"]["connections"] == 2);
}

TEST_CASE("a freed connection slot admits the next client") {
  node_process node{with({"--max-connections=1"})};
  {
    line_client first{node.port()};
    REQUIRE(first.call({{"op", "ping"}})["ok"] == true);
  }
  // The node notices the close asynchronously; retry a bounded few times.
  bool admitted = false;
  for (int i = 0; i < 50 && !admitted; ++i) {
    line_client next{node.port()};
    next.send({{"id", 1}, {"op", "ping"}});
    auto line = next.read_line();
    admitted = line && json::parse(*line).value("ok", false);
  }
  CHECK(admitted);
}

TEST_CASE("a client pipelining past max-in-flight gets every reply") {
  node_process node{with({"--max-in-flight=1", "--throttle=off"})};
  line_client c{node.port()};
  REQUIRE(c.call({{"op", "register"},
                  {"email", "pipe@example.org"},
                  {"password", "correct horse"},
                  {"name", "Pipe"}})["ok"]
          == true);
  std::string burst;
  for (int i = 0; i < 200; ++i) {
    json req = (i % 2 == 0)
      ? json{{"id", i}, {"op", "ping"}}
      : json{{"id", i},
             {"op", "login"},
             {"email", "pipe@example.org"},
             {"password", i % 3 == 0 ? "correct horse" : "wrong"}};
    burst += req.dump() + "\n";
  }
  c.send_raw(burst);
  std::vector<bool> seen(200, false);
  for (int i = 0; i < 200; ++i) {
    auto reply = c.read(std::chrono::seconds(20));
    auto id = reply["id"].get<int>();
    REQUIRE(id >= 0);
    REQUIRE(id < 200);
    CHECK_FALSE(seen[id]);
    seen[id] = true;
    if (id % 2 == 0)
      CHECK(reply["ok"] == true);
    else if (id % 3 == 0)
      CHECK(reply.contains("token"));
    else
      CHECK(reply["error"]["code"] == "invalid_credentials");
  }
}

TEST_CASE("an idle or slowloris connection is closed, a waiting one is not") {
  node_process node{
    with({"--idle-timeout=1s", "--failure-delay=2s", "--throttle=off"})};
  line_client silent{node.port()};
  line_client trickler{node.port()};
  line_client waiting{node.port()};
  line_client chatty{node.port()};
  REQUIRE(waiting.call({{"op", "register"},
                        {"email", "wait@example.org"},
                        {"password", "correct horse"},
                        {"name", "W"}})["ok"]
          == true);
  // A failed login is held for two seconds, longer than the idle timeout.
  waiting.send({{"id", 7},
                {"op", "login"},
                {"email", "wait@example.org"},
                {"password", "wrong password"}});
  // For 2.4 s: the trickler sends a byte of a line it never ends every
  // 100 ms, the chatty client a whole ping.
  std::string partial = R"({"op":"ping","id":"never ends)";
  bool trickling = true;
  for (int i = 0; i < 24; ++i) {
    try {
      if (trickling && !trickler.closed_by_peer(1ms))
        trickler.send_raw(std::string(1, partial[i % partial.size()]));
    } catch (const std::runtime_error&) {
      trickling = false; // the node closed it between the check and the send
    }
    CHECK(chatty.call({{"op", "ping"}})["ok"] == true);
    CHECK_FALSE(chatty.read_line(100ms)); // pause, bounded
  }
  CHECK(silent.closed_by_peer(100ms));
  CHECK(trickler.closed_by_peer(100ms));
  auto held = waiting.read_reply(7, 1s);
  CHECK(held["error"]["code"] == "invalid_credentials");
  CHECK(chatty.call({{"op", "ping"}})["ok"] == true);
  auto stats = chatty.call({{"op", "stats"}})["stats"];
  CHECK(stats["idle_closed_total"].get<int>() >= 2);
}

TEST_CASE("ping and login work while 1000 idle and slow connections are held") {
  node_process node{fast_options()};
  std::vector<std::unique_ptr<line_client>> idle;
  for (int i = 0; i < 1000; ++i) {
    // Spread over 50 source addresses, as a botnet would be.
    idle.push_back(std::make_unique<line_client>(
      node.port(), "127.0.1." + std::to_string(1 + i % 50)));
    // Every other one holds a partial line (slowloris).
    if (i % 2 == 1)
      idle.back()->send_raw(R"({"op":"login","email":"slow@exa)");
  }
  line_client c{node.port(), "127.0.0.2"};
  CHECK(c.call({{"op", "ping"}})["ok"] == true);
  REQUIRE(c.call({{"op", "register"},
                  {"email", "ann@example.org"},
                  {"password", "correct horse"},
                  {"name", "Ann"}})["ok"]
          == true);
  auto login = c.call({{"op", "login"},
                       {"email", "ann@example.org"},
                       {"password", "correct horse"}});
  CHECK(login["ok"] == true);
  auto stats = c.call({{"op", "stats"}})["stats"];
  CHECK(stats["connections"] == 1001);
  // None of them was dropped for want of room.
  CHECK_FALSE(idle.front()->closed_by_peer(20ms));
  CHECK_FALSE(idle.back()->closed_by_peer(20ms));
}

TEST_CASE("a client that keeps max-in-flight requests out is read to the end") {
  // A client that sends its next request as each answer arrives, keeping
  // max-in-flight (8) out: the pause after its 8th request and an answer
  // that ends it often fall in the same turn of the I/O loop. In CAF 0.17
  // a resume in that turn was lost and the connection was never read again.
  node_process node{fast_options()};
  line_client c{node.port()};
  constexpr int depth = 8;
  constexpr int total = 3000;
  int sent = 0;
  auto send_next = [&] {
    c.send({{"id", sent++}, {"op", "stats"}});
  };
  for (int i = 0; i < depth; ++i)
    send_next();
  int answered = 0;
  for (; answered < total; ++answered) {
    auto line = c.read_line(std::chrono::seconds(3));
    if (!line)
      break;
    REQUIRE(json::parse(*line)["ok"] == true);
    if (sent < total)
      send_next();
  }
  CHECK(answered == total);
}

// A broker's timer that fires after its connection has ended used to keep
// the broker alive for good (net/broker_timer.hpp). The sanitized build's
// leak check, run when the node stops, is what sees it.
TEST_CASE("connections closed before their idle timer fires are freed") {
  node_process node{with({"--idle-timeout=300ms"})};
  for (int i = 0; i < 3; ++i) {
    line_client brief{node.port()};
    REQUIRE(brief.call({{"op", "ping"}})["ok"] == true);
  }
  // Opened after the brief ones: when its timer has closed it, theirs have
  // fired too.
  line_client last{node.port()};
  REQUIRE(last.call({{"op", "ping"}})["ok"] == true);
  CHECK(last.closed_by_peer(3s));
  CHECK(node.stop() == 0);
}
