// End to end: the real node with --metrics-port, scraped over a raw TCP
// socket like Prometheus would, with the same JSON requests a client sends
// on the public port. Also: the scrape parsed by the reference parser
// (python3-prometheus-client), and hostile HTTP on the metrics port.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <vector>

#include <poll.h>

#include "support/http_client.hpp"
#include "support/line_client.hpp"
#include "support/node_process.hpp"
#include "support/protocol.hpp"

using namespace authnode::test;

namespace {

std::vector<std::string> with_metrics(std::vector<std::string> extra = {}) {
  auto args = fast_options();
  args.emplace_back("--metrics-port=0");
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

/// Sample lines of a scrape, "name{labels}" -> value; throws on a line that
/// is not "NAME[{...}] VALUE".
std::map<std::string, double> samples(const std::string& body) {
  std::map<std::string, double> out;
  std::istringstream in{body};
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#')
      continue;
    auto sp = line.rfind(' ');
    if (sp == std::string::npos)
      throw std::runtime_error("not a sample line: " + line);
    out[line.substr(0, sp)] = std::stod(line.substr(sp + 1));
  }
  return out;
}

std::map<std::string, double> scrape_samples(uint16_t port) {
  auto reply = scrape(port);
  REQUIRE(reply.status == 200);
  return samples(reply.body);
}

std::string requests(const std::string& op, const std::string& result) {
  return "authnode_requests_total{op=\"" + op + "\",result=\"" + result + "\"}";
}

/// Runs `cmd` and returns its standard output and exit status.
std::pair<std::string, int> run_command(const std::string& cmd) {
  std::string out;
  auto pipe = popen(cmd.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0)
    out.append(buf, n);
  int status = pclose(pipe);
  return {out, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

} // namespace

TEST_CASE("metrics are off unless --metrics-port is given") {
  node_process node;
  CHECK_FALSE(metrics_port(node));
  CHECK(node.log().find("metrics at") == std::string::npos);
}

TEST_CASE("a metrics port out of range is refused at start") {
  for (auto port : {"70000", "-2"}) {
    auto [out, status] = run_command(std::string{AUTHNODE_BINARY}
                                     + " --db=:memory: --metrics-port=" + port
                                     + " 2>&1");
    CHECK(status == 2);
    CHECK(out
          == "authnode: --metrics-port: must be between 0 and 65535 (0 picks "
             "one)\n");
  }
}

TEST_CASE("metrics port -1 is off, as when none is given") {
  auto args = fast_options();
  args.emplace_back("--metrics-port=-1");
  node_process node{args};
  CHECK_FALSE(metrics_port(node));
}

TEST_CASE("a scrape answers 200 in the Prometheus text format") {
  node_process node{with_metrics()};
  auto port = metrics_port(node);
  REQUIRE(port);
  CHECK(*port != node.port());
  auto reply = scrape(*port);
  CHECK(reply.status == 200);
  CHECK(reply.head.find("\r\nContent-Type: text/plain; version=0.0.4")
        != std::string::npos);
  CHECK(reply.head.find("\r\nConnection: close\r\n") != std::string::npos);
  CHECK(reply.head.find(
          "\r\nContent-Length: " + std::to_string(reply.body.size()) + "\r\n")
        != std::string::npos);
  CHECK(reply.body.find("# TYPE authnode_requests_total counter\n")
        != std::string::npos);
  // HEAD: the same head, no body.
  auto head = http_exchange(*port, "HEAD /metrics HTTP/1.1\r\n\r\n");
  CHECK(head.status == 200);
  CHECK(head.body.empty());
}

TEST_CASE("counters move as requests are made") {
  node_process node{with_metrics()};
  auto port = metrics_port(node);
  REQUIRE(port);
  auto before = scrape_samples(*port);
  CHECK(before[requests("login", "ok")] == 0);
  CHECK(before["authnode_connections"] == 0);
  CHECK(before["authnode_login_duration_seconds_count"] == 0);

  line_client c{node.port()};
  REQUIRE(succeeded(register_user(c, "ann@example.org")));
  auto token = session_token(c, "ann@example.org");
  REQUIRE(error_code(login(c, "ann@example.org", "wrong password"))
          == "invalid_credentials");
  REQUIRE(succeeded(c.call({{"op", "ping"}})));
  REQUIRE(succeeded(whoami(c, token)));
  REQUIRE(error_code(whoami(c, std::string(43, 'A'))) == "invalid_token");
  c.send_raw("this is not json\n");
  REQUIRE(error_code(c.read()) == "bad_json");

  auto after = scrape_samples(*port);
  CHECK(after[requests("register", "ok")] == 1);
  CHECK(after[requests("login", "ok")] == 1);
  CHECK(after[requests("login", "invalid_credentials")] == 1);
  CHECK(after[requests("ping", "ok")] == 1);
  CHECK(after[requests("whoami", "ok")] == 1);
  CHECK(after[requests("whoami", "invalid_token")] == 1);
  CHECK(after[requests("invalid", "bad_json")] == 1);
  CHECK(after["authnode_login_outcomes_total{outcome=\"ok\"}"] == 1);
  CHECK(after["authnode_login_outcomes_total{outcome=\"invalid_credentials\"}"]
        == 1);
  CHECK(after["authnode_registrations_total"] == 1);
  CHECK(after["authnode_hash_verifications_total"] == 2);
  CHECK(after["authnode_login_duration_seconds_count"] == 2);
  // One hash at registration, two verifications.
  CHECK(after["authnode_hash_duration_seconds_count"] == 3);
  CHECK(after["authnode_hash_duration_seconds_sum"] > 0);
  CHECK(after["authnode_connections"] == 1);
  CHECK(after["authnode_delayed_replies_pending"] == 0);
  // The login histogram leaves the deliberate 300 ms failure delay out:
  // both logins were decided well before it (a cheap hash each).
  CHECK(after["authnode_login_duration_seconds_bucket{le=\"0.25\"}"] == 2);
}

TEST_CASE("gauges show a failure reply held for its delay") {
  node_process node{with_metrics({"--failure-delay=3s"})};
  auto port = metrics_port(node);
  REQUIRE(port);
  line_client c{node.port()};
  c.send({{"id", "bad"},
          {"op", "login"},
          {"email", "nobody@example.org"},
          {"password", "wrong password"}});
  // Bounded wait: the verification itself takes milliseconds.
  double pending = 0;
  for (int i = 0; i < 200 && pending == 0; ++i) {
    pending = scrape_samples(*port)["authnode_delayed_replies_pending"];
    if (pending == 0)
      poll(nullptr, 0, 10);
  }
  CHECK(pending == 1);
  CHECK(error_code(c.read_reply("bad", 10s)) == "invalid_credentials");
  CHECK(scrape_samples(*port)["authnode_delayed_replies_pending"] == 0);
}

TEST_CASE("the scrape parses with the reference Prometheus parser") {
  node_process node{with_metrics()};
  auto port = metrics_port(node);
  REQUIRE(port);
  line_client c{node.port()};
  REQUIRE(
    succeeded(register_user(c, "bob@example.org", "correct horse", "Bob")));
  REQUIRE(succeeded(login(c, "bob@example.org")));
  temp_dir dir;
  auto file = dir.path() + "/scrape.txt";
  std::ofstream{file} << scrape(*port).body;
  // Debian's python3-prometheus-client is installed for /usr/bin/python3,
  // not for another python3 that may come first on PATH.
  auto [out, status] = run_command(
    "/usr/bin/python3 " AUTHNODE_SOURCE_DIR "/tests/parse_metrics.py " + file);
  REQUIRE(status == 0);
  auto families = json::parse(out);
  // The parser drops _total from a counter's family name.
  CHECK(families["authnode_requests"]["type"] == "counter");
  CHECK(families["authnode_login_outcomes"]["type"] == "counter");
  CHECK(families["authnode_login_duration_seconds"]["type"] == "histogram");
  CHECK(families["authnode_hash_duration_seconds"]["type"] == "histogram");
  CHECK(families["authnode_connections"]["type"] == "gauge");
  CHECK(families["authnode_delayed_replies_pending"]["type"] == "gauge");
  CHECK(families["authnode_hash_queue_depth"]["type"] == "gauge");
  CHECK(families["authnode_penalized_sources"]["type"] == "gauge");
  CHECK(families["authnode_penalized_accounts"]["type"] == "gauge");
  CHECK(families["authnode_throttle_held"]["type"] == "gauge");
  bool found = false;
  for (auto& s : families["authnode_requests"]["samples"])
    if (s[0] == "authnode_requests_total"
        && s[1] == json{{"op", "login"}, {"result", "ok"}}) {
      found = true;
      CHECK(s[2] == 1.0);
    }
  CHECK(found);
  // The parser also refuses what is not the format: the test can fail.
  std::ofstream{file} << "authnode_requests_total{op=\"login\" 1\n";
  CHECK(run_command("/usr/bin/python3 " AUTHNODE_SOURCE_DIR
                    "/tests/parse_metrics.py "
                    + file + " 2>/dev/null")
          .second
        == 1);
}

TEST_CASE("other paths, other methods and garbage get 404, 405 and 400") {
  node_process node{with_metrics()};
  auto port = metrics_port(node);
  REQUIRE(port);
  CHECK(http_exchange(*port, "GET / HTTP/1.1\r\n\r\n").status == 404);
  CHECK(http_exchange(*port, "GET /metricsx HTTP/1.0\r\n\r\n").status == 404);
  auto post = http_exchange(*port,
                            "POST /metrics HTTP/1.1\r\n"
                            "Content-Length: 2\r\n\r\nhi");
  CHECK(post.status == 405);
  CHECK(post.head.find("\r\nAllow: GET, HEAD\r\n") != std::string::npos);
  CHECK(http_exchange(*port, "hello\r\n\r\n").status == 400);
  CHECK(http_exchange(*port, std::string("\0\xff\x01\r\n\r\n", 7)).status
        == 400);
  CHECK(http_exchange(*port, "GET /metrics HTTP/1.1\r\nX\r\n\r\n").status
        == 400);
  // The public port's line protocol is not HTTP, and the other way round.
  CHECK(http_exchange(*port, "{\"op\":\"ping\"}\n\n").status == 400);
  CHECK(scrape(*port).status == 200);
}

TEST_CASE("hostile HTTP clients are cut off and cost the node nothing else") {
  node_process node{with_metrics()};
  auto port = metrics_port(node);
  REQUIRE(port);

  // An oversized head, without its end: 431 and closed, at once.
  {
    http_socket s{*port};
    s.send("GET /metrics HTTP/1.1\r\nX-Fill: " + std::string(9000, 'a'));
    auto raw = s.read_to_close(5s);
    REQUIRE(raw);
    CHECK(parse_http_reply(*raw).status == 431);
  }

  // Slowloris: heads that never end, on as many connections as the node
  // serves at once (64) and a few more. The extra ones are refused at
  // once; the public port and its clients do not notice.
  auto started = std::chrono::steady_clock::now();
  std::vector<std::unique_ptr<http_socket>> slow;
  for (int i = 0; i < 70; ++i) {
    slow.push_back(std::make_unique<http_socket>(*port));
    slow.back()->send("GET /metr");
  }
  line_client c{node.port()};
  CHECK(succeeded(c.call({{"op", "ping"}})));
  int refused = 0, timed_out = 0;
  for (auto& s : slow) {
    // Every one is answered and closed by the head timeout (5 s), bounded.
    auto raw = s->read_to_close(10s);
    REQUIRE(raw);
    auto status = parse_http_reply(*raw).status;
    refused += status == 503;
    timed_out += status == 408;
  }
  auto took = std::chrono::steady_clock::now() - started;
  CHECK(refused == 6);
  CHECK(timed_out == 64);
  CHECK(took < 12s);
  // A trickle that keeps sending also ends at the head timeout.
  {
    http_socket s{*port};
    auto trickle_start = std::chrono::steady_clock::now();
    bool open = true;
    for (int i = 0; i < 80 && open; ++i) { // 80 x 100 ms at most
      open = s.send("a");
      poll(nullptr, 0, 100);
      if (std::chrono::steady_clock::now() - trickle_start > 6s)
        break;
    }
    auto raw = s.read_to_close(5s);
    REQUIRE(raw);
    CHECK(std::chrono::steady_clock::now() - trickle_start < 10s);
  }
  // Still serving both ports, and the scrape counts the client above.
  auto after = scrape_samples(*port);
  CHECK(after[requests("ping", "ok")] == 1);
  CHECK(succeeded(c.call({{"op", "ping"}})));
}
