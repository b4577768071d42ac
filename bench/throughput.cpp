// Cheap-op throughput: authnode `ping` and `whoami` against redis-server
// `PING` and `GET` of a session-sized value (the node's own whoami reply,
// stored under the token: what a site that keeps sessions in Redis asks),
// 50 connections, 1 and 10 requests in flight each, driven by the same load
// client in the same run. With --gateway-port, `whoami` through a gateway
// too (its token made there). Rounds alternate between the servers so drift
// on a shared machine hits both; the figure is the median round.
//
//   throughput --node-port=7411 --redis-port=6379 [--gateway-port=N]
//              [--seconds=3] [--rounds=3] [--only=0|1|2|3|4]
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "load.hpp"

using namespace authnode::bench;

namespace {

/// A RESP command (Redis's request form), for values with spaces.
std::string resp(std::initializer_list<std::string> words) {
  std::string out = "*" + std::to_string(words.size()) + "\r\n";
  for (auto& w : words)
    out += "$" + std::to_string(w.size()) + "\r\n" + w + "\r\n";
  return out;
}

/// Stores `value` under `key` in Redis; exits if it is not stored.
void redis_set(uint16_t port, const std::string& key,
               const std::string& value) {
  int fd = connect_to(port);
  if (fd < 0 || call(fd, resp({"SET", key, value})).rfind("+OK", 0) != 0) {
    std::fprintf(stderr, "cannot SET in redis\n");
    std::exit(1);
  }
}

std::string login_token(uint16_t port) {
  int fd = connect_to(port);
  if (fd < 0) {
    std::fprintf(stderr, "cannot connect to authnode\n");
    std::exit(1);
  }
  call(fd,
       R"({"op":"register","email":"bench@example.org",)"
       R"("password":"bench password","name":"Bench"})"
       "\n");
  auto reply = call(fd,
                    R"({"op":"login","email":"bench@example.org",)"
                    R"("password":"bench password"})"
                    "\n");
  auto at = reply.find("\"token\":\"");
  if (at == std::string::npos) {
    std::fprintf(stderr, "login failed: %s\n", reply.c_str());
    std::exit(1);
  }
  return reply.substr(at + 9, 43);
}

} // namespace

int main(int argc, char** argv) {
  auto node_port = static_cast<uint16_t>(flag(argc, argv, "--node-port", 0));
  auto redis_port = static_cast<uint16_t>(flag(argc, argv, "--redis-port", 0));
  auto seconds = flag(argc, argv, "--seconds", 3);
  auto rounds = flag(argc, argv, "--rounds", 3);
  // --only=N runs just one target, for profiling: 0 redis PING, 1 redis
  // GET, 2 authnode ping, 3 authnode whoami, 4 gateway whoami.
  auto only = flag(argc, argv, "--only", -1);
  auto gateway_port
    = static_cast<uint16_t>(flag(argc, argv, "--gateway-port", 0));
  if (node_port == 0 || redis_port == 0) {
    std::fprintf(stderr,
                 "usage: throughput --node-port=N --redis-port=N "
                 "[--gateway-port=N] [--seconds=3] [--rounds=3] "
                 "[--only=0|1|2|3|4]\n");
    return 2;
  }
  long last = gateway_port != 0 ? 4 : 3;
  if (only > last) {
    std::fprintf(stderr, "throughput: --only=%ld names no target (0 to %ld)\n",
                 only, last);
    return 2;
  }
  auto token = login_token(node_port);
  auto whoami = "{\"op\":\"whoami\",\"token\":\"" + token + "\"}\n";
  {
    int fd = connect_to(node_port);
    redis_set(redis_port, "session:" + token, call(fd, whoami));
  }
  struct target {
    const char* name;
    uint16_t port;
    std::string line;
    const char* marker;
    int lines = 1;
  };
  std::vector<target> targets = {
    {"redis PING", redis_port, "PING\r\n", "+PONG"},
    {"redis GET", redis_port, "GET session:" + token + "\r\n", "$", 2},
    {"authnode ping", node_port, "{\"op\":\"ping\"}\n", "\"ok\":true"},
    {"authnode whoami", node_port, whoami, "\"ok\":true"},
  };
  if (gateway_port != 0)
    targets.push_back({"gateway whoami", gateway_port,
                       "{\"op\":\"whoami\",\"token\":\""
                         + login_token(gateway_port) + "\"}\n",
                       "\"ok\":true"});
  std::printf("%-16s %5s %12s %10s %10s\n", "target", "depth", "req/s",
              "p50 us", "p99 us");
  for (int depth : {1, 10}) {
    std::map<std::string, std::vector<double>> rates, p50, p99;
    for (int r = 0; r < rounds; ++r) {
      for (auto& t : targets) {
        if (only >= 0 && &t != &targets[only])
          continue;
        load_spec spec;
        spec.port = t.port;
        spec.connections = 50;
        spec.depth = depth;
        spec.line = t.line;
        spec.success_marker = t.marker;
        spec.lines_per_reply = t.lines;
        spec.duration = std::chrono::seconds(seconds);
        auto res = run_load(spec);
        if (res.successes != res.replies)
          std::fprintf(
            stderr, "%s: %llu of %llu replies were not successes\n", t.name,
            static_cast<unsigned long long>(res.replies - res.successes),
            static_cast<unsigned long long>(res.replies));
        rates[t.name].push_back(res.rate());
        p50[t.name].push_back(res.percentile(50));
        p99[t.name].push_back(res.percentile(99));
      }
    }
    for (auto& t : targets)
      std::printf("%-16s %5d %12.0f %10.0f %10.0f\n", t.name, depth,
                  median(rates[t.name]), median(p50[t.name]),
                  median(p99[t.name]));
    auto redis = median(rates["redis PING"]);
    auto get = median(rates["redis GET"]);
    std::printf("ratio at depth %d: ping/PING = %.2f, whoami/PING = %.2f, "
                "whoami/GET = %.2f",
                depth, median(rates["authnode ping"]) / redis,
                median(rates["authnode whoami"]) / redis,
                median(rates["authnode whoami"]) / get);
    if (gateway_port != 0)
      std::printf(", gateway whoami/GET = %.2f",
                  median(rates["gateway whoami"]) / get);
    std::printf("\n");
  }
  return 0;
}
