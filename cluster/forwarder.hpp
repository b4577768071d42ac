// A local stand-in for an actor on another node (the storage node's
// database or guard). The actors of a gateway hold the forwarder, which
// never changes, while the remote actor behind it comes and goes with the
// link to its node (cluster/peer_link): a request is delegated to the
// remote actor when there is one, so its answer goes straight back to the
// asker, and answered `unavailable` at once when there is none.
//
// Requests already delegated when the node is lost are not the forwarder's
// to answer: the auth actor fails them itself (storage_lost_atom).
#pragma once

#include <string>

#include <caf/actor.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

namespace authnode {

struct forwarder_state {
  /// The remote actor, or an invalid handle while its node is unreachable.
  caf::actor target;
  /// What the target is, for the error message ("the storage node").
  std::string what;
  static inline const char* name = "forwarder";
};

using forwarder_ptr = caf::stateful_actor<forwarder_state>*;

/// Starts without a target; route_atom sets or clears it.
caf::behavior forwarder(forwarder_ptr self, std::string what);

} // namespace authnode
