// A gateway's link to one storage or hasher node.
//
// CAF 0.17 gives no node-up or node-down event, its blocking remote_actor
// can wait forever on a peer that accepts and never answers, and nothing
// reconnects by itself. The link does all three: it connects through the
// middleman actor asynchronously with a time limit, says hello (the cluster
// protocol check, cluster/node_front), monitors what it got, and when that
// is lost tries again with a growing pause (100 ms doubling up to 2 s), for
// as long as the gateway runs. A hung peer is noticed through the
// middleman's heartbeats (tune_caf in config/node_config.cpp sets them for
// every role): its connection times out, and the monitored actors go down.
//
// What the link found is handed to its owner through `on_up`, and its loss
// through `on_down`, both run inside the link actor.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>
#include <caf/io/middleman_actor.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/timespan.hpp>

#include "config/node_role.hpp"

namespace authnode {

/// What a storage or hasher node offers (node_front's answer to hello).
struct peer_offer {
  node_role role = node_role::storage;
  caf::actor first;
  caf::actor second;
  uint32_t hashers = 0;
  /// A storage node's session hub (cluster/session_hub).
  caf::actor sessions;
};

struct peer_link_settings {
  std::string host;
  uint16_t port = 0;
  /// The role the peer must have: storage or hasher.
  node_role role = node_role::storage;
  /// Connects to nodes: the middleman's actor, or the TLS one.
  caf::io::middleman_actor connector;
  /// Limit for one connection attempt and for the hello.
  caf::timespan attempt_timeout = std::chrono::seconds(2);
  caf::timespan first_pause = std::chrono::milliseconds(100);
  caf::timespan max_pause = std::chrono::seconds(2);
};

struct peer_link_state {
  peer_link_settings cfg;
  std::function<void(const peer_offer&)> on_up;
  std::function<void()> on_down;
  /// The actor watched while linked.
  caf::actor_addr watched;
  caf::timespan pause{0};
  /// The last failure logged, so that a retry loop logs each reason once.
  std::string last_reason;
  static inline const char* name = "peer_link";
};

using peer_link_ptr = caf::stateful_actor<peer_link_state>*;

/// "HOST:PORT" of the link's peer.
std::string peer_name(const peer_link_settings& cfg);

/// Starts connecting at once.
caf::behavior peer_link(peer_link_ptr self, peer_link_settings cfg,
                        std::function<void(const peer_offer&)> on_up,
                        std::function<void()> on_down);

} // namespace authnode
