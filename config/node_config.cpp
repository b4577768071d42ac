#include "config/node_config.hpp"

#include <algorithm>
#include <thread>

#include <caf/config_option_adder.hpp>
#include <caf/config_value.hpp>

#include "actors/interfaces.hpp"

namespace authnode {

node_config::node_config() {
  register_message_types(*this);
  tune_caf(*this);
  // Every option of config/options.def, in its order, with its help text.
  caf::config_option_adder group{custom_options_, "global"};
#define AUTHNODE_OPTION(type, field, name, fallback, help)                     \
  group.add(opts.field, name, help);
#include "config/options.def"
}

namespace {

/// A value as the INI file takes it back. CAF writes a day as "1d", which
/// its own INI parser refuses: durations are written in the largest unit
/// it reads that divides them.
template <class T>
std::string ini_value(const T& x) {
  return caf::to_string(caf::config_value{x});
}

std::string ini_value(caf::timespan x) {
  using namespace std::chrono;
  auto ns = x.count();
  struct unit {
    int64_t ns;
    const char* name;
  };
  for (auto u : {unit{3600'000'000'000, "h"}, unit{60'000'000'000, "min"},
                 unit{1'000'000'000, "s"}, unit{1'000'000, "ms"},
                 unit{1'000, "us"}})
    if (ns != 0 && ns % u.ns == 0)
      return std::to_string(ns / u.ns) + u.name;
  return std::to_string(ns) + (ns == 0 ? "s" : "ns");
}

} // namespace

std::string dump_options(const node_options& opts) {
  std::string out = "[global]\n";
#define AUTHNODE_OPTION(type, field, name, fallback, help)                     \
  out += std::string{name} + "=" + ini_value(opts.field) + "\n";
#include "config/options.def"
  return out;
}

void tune_caf(caf::actor_system_config& cfg) {
  cfg.set("middleman.max-consecutive-reads", 1);
  // CAF's default of max(cores, 4) workers polling hard for work between
  // messages takes CPU from the hashers on a small machine: on 2 cores it
  // cost a quarter of the login rate (docs/benchmarks.md).
  auto cores = std::max(1u, std::thread::hardware_concurrency());
  cfg.set("scheduler.max-threads", static_cast<int64_t>(cores));
  cfg.set("work-stealing.aggressive-poll-attempts", 10);
  cfg.set("work-stealing.moderate-poll-attempts", 0);
  // Between nodes: without heartbeats CAF 0.17 never notices a peer that
  // hangs without closing its connection. Every 500 ms, and a peer silent
  // for 1.5 s is dropped, so that a gateway answers unavailable within 2 s
  // of losing its storage node (docs/deployment.md).
  cfg.set("middleman.heartbeat-interval",
          caf::timespan{std::chrono::milliseconds(500)});
  cfg.set("middleman.connection-timeout",
          caf::timespan{std::chrono::milliseconds(1500)});
}

} // namespace authnode
