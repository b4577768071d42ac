// What a storage or hasher node publishes on its node port: the one actor a
// peer reaches first. It answers a hello of the same cluster protocol
// version with the actors the peer may use, and any other hello with an
// error naming both versions, so that mismatched nodes stop at the door
// instead of misreading each other's messages (actors/interfaces.hpp,
// cluster_protocol). The reply names the role as a string: that is the wire
// form of the hello, kept as nodes of other builds read it. A storage node's
// front also names its session hub, asked for after the hello (a later
// message, so of the versioned kind).
#pragma once

#include <cstdint>
#include <string>

#include <caf/actor.hpp>

#include "actors/interfaces.hpp"
#include "config/node_role.hpp"

namespace authnode {

struct node_front_state {
  node_role role = node_role::storage;
  caf::actor first;
  caf::actor second;
  uint32_t hashers = 0;
  /// A storage node's session hub (cluster/session_hub); invalid elsewhere.
  caf::actor sessions;
  static inline const char* name = "node_front";
};

node_front_actor::behavior_type
node_front(node_front_actor::stateful_pointer<node_front_state> self,
           node_role role, caf::actor first, caf::actor second,
           uint32_t hashers, caf::actor sessions);

} // namespace authnode
