// End to end: the node's own log with --log-format=json and
// --log-level=debug: one JSON object per line, an event per connection and
// request, operator actions at info, and (as for every node the suite
// starts) no password, token or admin key in it.
#include <catch2/catch.hpp>

#include <sstream>

#include "support/line_client.hpp"
#include "support/node_process.hpp"
#include "support/protocol.hpp"

using namespace authnode::test;

namespace {

std::vector<json> events(const std::string& log) {
  std::vector<json> out;
  std::istringstream in{log};
  std::string line;
  while (std::getline(in, line)) {
    INFO(line);
    auto event = json::parse(line, nullptr, false);
    CHECK(event.is_object());
    if (event.is_object())
      out.push_back(event);
  }
  return out;
}

size_t count_events(const std::vector<json>& all, const json& want) {
  size_t n = 0;
  for (auto& e : all) {
    bool match = true;
    for (auto& [key, value] : want.items())
      match = match && e.contains(key) && e[key] == value;
    n += match ? 1 : 0;
  }
  return n;
}

} // namespace

TEST_CASE("a json debug log has one object per event and no secret") {
  auto opts = fast_options();
  opts.insert(opts.end(),
              {"--log-format=json", "--log-level=debug", "--audit=off"});
  node_process node{opts};
  std::string key = node.admin_key();
  secret_registry::global().add("admin key", key);
  {
    line_client c{node.port(), "127.0.0.2"};
    CHECK(succeeded(c.call({{"op", "ping"}})));
    REQUIRE(
      succeeded(register_user(c, "log@example.org", "log-password-1", "Log")));
    CHECK(error_code(login(c, "log@example.org", "log-password-2"))
          == "invalid_credentials");
    c.send_raw("not json\n");
    CHECK(error_code(c.read()) == "bad_json");
    line_client admin{node.admin_port()};
    CHECK(succeeded(admin.call({{"op", "stats"}, {"admin_key", key}})));
    CHECK(failed(admin.call({{"op", "stats"}, {"admin_key", "not-the-key"}})));
  }
  REQUIRE(node.stop() == 0);
  auto all = events(node.log());
  REQUIRE(all.size() >= 8);
  for (auto& e : all) {
    CHECK(e.contains("time"));
    CHECK(e.contains("level"));
    CHECK(e.contains("msg"));
  }
  CHECK(
    count_events(all, {{"msg", "connection opened"}, {"source", "127.0.0.2"}})
    == 1);
  CHECK(count_events(all,
                     {{"msg", "connection closed"},
                      {"source", "127.0.0.2"},
                      {"reason", "peer"},
                      {"requests", 4}})
        == 1);
  CHECK(
    count_events(all, {{"msg", "request"}, {"op", "ping"}, {"result", "ok"}})
    == 1);
  CHECK(count_events(all,
                     {{"msg", "request"},
                      {"op", "login"},
                      {"result", "invalid_credentials"},
                      {"source", "127.0.0.2"}})
        == 1);
  CHECK(count_events(
          all, {{"msg", "request"}, {"op", "invalid"}, {"result", "bad_json"}})
        == 1);
  CHECK(count_events(all,
                     {{"level", "info"},
                      {"msg", "admin request"},
                      {"op", "stats"},
                      {"source", "127.0.0.1"}})
        == 1);
  CHECK(count_events(all,
                     {{"level", "warning"},
                      {"msg", "admin request refused"},
                      {"reason", "wrong admin key"}})
        == 1);
  CHECK(count_events(all, {{"level", "info"}, {"msg", "stopped"}}) == 1);
}

TEST_CASE("the default log has no debug events") {
  node_process node;
  {
    line_client c{node.port()};
    CHECK(succeeded(c.call({{"op", "ping"}})));
  }
  REQUIRE(node.stop() == 0);
  auto log = node.log();
  CHECK(log.find(" authnode info: listening on ") != std::string::npos);
  CHECK(log.find("connection opened") == std::string::npos);
  CHECK(log.find(" debug: ") == std::string::npos);
}

TEST_CASE("an unknown log level or format stops the node at start") {
  auto level = run_node_to_exit({"--port=0", "--log-level=verbose"});
  CHECK(level.status == 2);
  CHECK(level.output.find("--log-level: must be debug, info, warning or error")
        != std::string::npos);
  auto format = run_node_to_exit({"--port=0", "--log-format=xml"});
  CHECK(format.status == 2);
  CHECK(format.output.find("--log-format: must be text or json")
        != std::string::npos);
}
