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

std::string dump_options(const node_options& opts) {
  std::string out = "[global]\n";
#define AUTHNODE_OPTION(type, field, name, fallback, help)                     \
  out += std::string{name} + "=" + caf::to_string(caf::config_value{opts.field}) \
         + "\n";
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
