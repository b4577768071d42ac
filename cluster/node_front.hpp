// What a storage or hasher node publishes on its node port: the one actor a
// peer reaches first. It answers a hello of the same cluster protocol
// version with the actors the peer may use, and any other hello with an
// error naming both versions, so that mismatched nodes stop at the door
// instead of misreading each other's messages (actors/interfaces.hpp,
// cluster_protocol).
#pragma once

#include <cstdint>
#include <string>

#include <caf/actor.hpp>

#include "actors/interfaces.hpp"

namespace authnode {

struct node_front_state {
  std::string role;
  caf::actor first;
  caf::actor second;
  uint32_t hashers = 0;
  static inline const char* name = "node_front";
};

node_front_actor::behavior_type
node_front(node_front_actor::stateful_pointer<node_front_state> self,
           std::string role, caf::actor first, caf::actor second,
           uint32_t hashers);

} // namespace authnode
