// The /metrics text (core/metrics_text) and the HTTP subset that serves it
// (net/http_head), without a socket.
#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <vector>

#include "core/metrics_text.hpp"
#include "net/http_head.hpp"

using namespace authnode;
using namespace std::chrono_literals;

namespace {

/// Sample lines of a scrape, "name{labels}" -> value text.
std::map<std::string, std::string> samples(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in{text};
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#')
      continue;
    auto sp = line.rfind(' ');
    out[line.substr(0, sp)] = line.substr(sp + 1);
  }
  return out;
}

} // namespace

TEST_CASE("metrics text counts requests by op and result") {
  node_counters c;
  c.requests.count(op_label::login, ec::none);
  c.requests.count(op_label::login, ec::invalid_credentials);
  c.requests.count(op_label::login, ec::invalid_credentials);
  c.requests.count(op_label::invalid, ec::bad_json);
  auto s = samples(metrics_text(c, c.started));
  CHECK(s["authnode_requests_total{op=\"login\",result=\"ok\"}"] == "1");
  CHECK(
    s["authnode_requests_total{op=\"login\",result=\"invalid_credentials\"}"]
    == "2");
  CHECK(s["authnode_requests_total{op=\"invalid\",result=\"bad_json\"}"]
        == "1");
  CHECK(s["authnode_login_outcomes_total{outcome=\"invalid_credentials\"}"]
        == "2");
  CHECK(s["authnode_login_outcomes_total{outcome=\"ok\"}"] == "1");
  // Every op's ok series and the common login outcomes exist while zero;
  // other combinations only once counted.
  CHECK(s["authnode_requests_total{op=\"ping\",result=\"ok\"}"] == "0");
  CHECK(s["authnode_login_outcomes_total{outcome=\"rate_limited\"}"] == "0");
  CHECK(s.count("authnode_requests_total{op=\"ping\",result=\"busy\"}") == 0);
  CHECK(s.count("authnode_requests_total{op=\"invalid\",result=\"ok\"}") == 0);
}

TEST_CASE("a code past the matrix is counted as internal") {
  node_counters c;
  c.requests.count(op_label::whoami, static_cast<ec>(200));
  auto s = samples(metrics_text(c, c.started));
  CHECK(s["authnode_requests_total{op=\"whoami\",result=\"internal\"}"] == "1");
}

TEST_CASE("histograms are cumulative, with exact bounds, sum and count") {
  node_counters c;
  c.login_duration.observe(400us); // <= 0.0005
  c.login_duration.observe(500us); // == 0.0005: le is inclusive
  c.login_duration.observe(30ms);  // <= 0.05
  c.login_duration.observe(120s);  // above every bound
  c.login_duration.observe(-5ms);  // a clock step back counts as 0
  auto s = samples(metrics_text(c, c.started));
  const std::string b = "authnode_login_duration_seconds_bucket";
  CHECK(s[b + "{le=\"0.0005\"}"] == "3");
  CHECK(s[b + "{le=\"0.025\"}"] == "3");
  CHECK(s[b + "{le=\"0.05\"}"] == "4");
  CHECK(s[b + "{le=\"60\"}"] == "4");
  CHECK(s[b + "{le=\"+Inf\"}"] == "5");
  CHECK(s["authnode_login_duration_seconds_count"] == "5");
  CHECK(s["authnode_login_duration_seconds_sum"] == "120.030900000");
  CHECK(s["authnode_hash_duration_seconds_count"] == "0");
  CHECK(s["authnode_hash_duration_seconds_sum"] == "0.000000000");
}

TEST_CASE("gauges and counters come from node_counters") {
  node_counters c;
  c.connections = 3;
  c.pending_delayed = 7;
  c.hash_queue_depth = 2;
  c.penalized_sources = 4;
  c.penalized_accounts = 5;
  c.throttle_held = 6;
  c.hash_verifications_total = 11;
  c.registrations_total = 12;
  c.rate_limited_total = 13;
  c.idle_closed_total = 14;
  auto s = samples(metrics_text(c, c.started + 42s));
  CHECK(s["authnode_connections"] == "3");
  CHECK(s["authnode_delayed_replies_pending"] == "7");
  CHECK(s["authnode_hash_queue_depth"] == "2");
  CHECK(s["authnode_penalized_sources"] == "4");
  CHECK(s["authnode_penalized_accounts"] == "5");
  CHECK(s["authnode_throttle_held"] == "6");
  CHECK(s["authnode_hash_verifications_total"] == "11");
  CHECK(s["authnode_registrations_total"] == "12");
  CHECK(s["authnode_rate_limited_total"] == "13");
  CHECK(s["authnode_idle_closed_total"] == "14");
  CHECK(s["authnode_uptime_seconds"] == "42");
}

TEST_CASE("every family has one HELP and one TYPE line before its samples") {
  node_counters c;
  auto text = metrics_text(c, c.started);
  REQUIRE(text.back() == '\n');
  std::istringstream in{text};
  std::string line;
  std::map<std::string, int> help, type;
  std::string current; // family of the last TYPE line
  while (std::getline(in, line)) {
    INFO(line);
    if (line.rfind("# HELP ", 0) == 0) {
      ++help[line.substr(7, line.find(' ', 7) - 7)];
    } else if (line.rfind("# TYPE ", 0) == 0) {
      current = line.substr(7, line.find(' ', 7) - 7);
      ++type[current];
    } else {
      REQUIRE(!current.empty());
      CHECK(line.rfind(current, 0) == 0); // a sample of the current family
    }
  }
  CHECK(help.size() == type.size());
  for (auto& [name, n] : type) {
    CHECK(n == 1);
    CHECK(help[name] == 1);
  }
}

TEST_CASE("http head length finds the empty line that ends a head") {
  CHECK(http_head_length("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n") == 34);
  CHECK(http_head_length("GET /metrics HTTP/1.1\nHost: x\n\n") == 31);
  CHECK(http_head_length("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\nbody") == 34);
  CHECK(http_head_length("GET /metrics HTTP/1.1\r\nHost: x\r\n") == 0);
  CHECK(http_head_length("GET /metr") == 0);
  CHECK(http_head_length("") == 0);
  // An empty first line ends the "head" at once; routing refuses it.
  CHECK(http_head_length("\r\nGET / HTTP/1.1\r\n\r\n") == 2);
  CHECK(route_http_head("\r\n") == http_route::bad_request);
}

TEST_CASE("http routing: /metrics, other paths, other methods, garbage") {
  CHECK(route_http_head("GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n")
        == http_route::metrics);
  CHECK(route_http_head("GET /metrics?name[]=x HTTP/1.0\r\n\r\n")
        == http_route::metrics);
  CHECK(route_http_head("HEAD /metrics HTTP/1.1\r\n\r\n")
        == http_route::metrics_head);
  CHECK(route_http_head("GET / HTTP/1.1\r\n\r\n") == http_route::not_found);
  CHECK(route_http_head("GET /metrics/ HTTP/1.1\r\n\r\n")
        == http_route::not_found);
  CHECK(route_http_head("POST /metrics HTTP/1.1\r\n\r\n")
        == http_route::bad_method);
  CHECK(route_http_head("DELETE /x HTTP/1.1\r\n\r\n")
        == http_route::bad_method);
  for (const auto& garbage : std::vector<std::string>{
         "\r\n", "GET\r\n\r\n", "GET /metrics\r\n\r\n",
         "GET /metrics HTTP/2.0\r\n\r\n", "GET metrics HTTP/1.1\r\n\r\n",
         "GET  /metrics HTTP/1.1\r\n\r\n", "G(T /metrics HTTP/1.1\r\n\r\n",
         "GET /met\x01rics HTTP/1.1\r\n\r\n", "GET /m\xc3\xa9 HTTP/1.1\r\n\r\n",
         "GET /metrics HTTP/1.1\r\nno colon here\r\n\r\n",
         "GET /metrics HTTP/1.1\r\n: empty name\r\n\r\n",
         "GET /metrics HTTP/1.1\r\nBad Name: x\r\n\r\n",
         "GET /metrics HTTP/1.1\r\nX: a\x01b\r\n\r\n",
         std::string("\0\0\0\r\n\r\n", 7)}) {
    INFO(garbage);
    CHECK(route_http_head(garbage) == http_route::bad_request);
  }
}

TEST_CASE("http responses announce their length and close") {
  auto r = http_response(200, metrics_content_type, "abc\n");
  CHECK(r
        == "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; "
           "charset=utf-8\r\nContent-Length: 4\r\nConnection: close\r\n\r\n"
           "abc\n");
  auto head = http_response(200, "text/plain", "abc\n", true);
  CHECK(head.find("Content-Length: 4\r\n") != std::string::npos);
  CHECK(head.substr(head.size() - 4) == "\r\n\r\n");
  auto not_allowed = http_response(405, "text/plain", "x");
  CHECK(not_allowed.rfind("HTTP/1.1 405 Method Not Allowed\r\n", 0) == 0);
  CHECK(not_allowed.find("\r\nAllow: GET, HEAD\r\n") != std::string::npos);
}

TEST_CASE("the Grafana dashboard asks only for metrics the node exports") {
  std::ifstream in{AUTHNODE_SOURCE_DIR "/deploy/grafana/authnode.json"};
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  auto dashboard = text.str();
  node_counters c;
  auto exported = samples(metrics_text(c, c.started));
  std::set<std::string> names;
  for (auto& [sample, value] : exported)
    names.insert(sample.substr(0, sample.find('{')));
  static const std::regex metric{"authnode_[a-z_]+"};
  size_t asked = 0;
  for (std::sregex_iterator i{dashboard.begin(), dashboard.end(), metric}, end;
       i != end; ++i, ++asked) {
    INFO(i->str());
    CHECK(names.count(i->str()) == 1);
  }
  CHECK(asked >= 10);
}
