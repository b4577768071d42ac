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
