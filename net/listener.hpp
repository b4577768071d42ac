// The listening broker: accepts clients and forks a connection actor for each,
// which answers lines with the listener's line handler (the public protocol
// or the admin channel's).
//
// It binds only the configured address (CAF's spawn_server would bind every
// interface), refuses clients past max-connections with one `busy` line, and
// on drain stops accepting and waits until every connection has finished.
#pragma once

#include <memory>
#include <string>
#include <unordered_set>

#include <caf/io/broker.hpp>
#include <caf/response_promise.hpp>

#include "actors/interfaces.hpp"
#include "core/counters.hpp"
#include "net/connection.hpp"

namespace authnode {

struct listener_settings {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  uint32_t max_connections = 10000;
  connection_settings connection;
};

struct listener_state {
  listener_settings cfg;
  line_handler on_line;
  std::shared_ptr<node_counters> counters;
  std::unordered_set<caf::actor_addr> connections;
  caf::io::accept_handle doorman;
  bool draining = false;
  caf::response_promise drained;
  static inline const char* name = "listener";
};

using listener_broker = caf::io::stateful_broker<listener_state>;

/// Replies to (listen_atom) with the bound port as uint16_t, and to
/// (drain_atom) with ok_atom once every connection is gone.
caf::behavior listener(listener_broker* self, listener_settings cfg,
                       line_handler on_line,
                       std::shared_ptr<node_counters> counters);

} // namespace authnode
