// The storage node's session hub: how the gateways' session caches
// (net/session_keeper) learn that a session ended on another gateway.
//
// A gateway answers whoami from its cache on its I/O thread, but a logout,
// a password change or a revoke may pass through any gateway. Each gateway's
// auth actor sends its drops here once the database has made the change;
// the hub passes them to every gateway's cache and answers once each has
// answered, so the op that ended a session is answered only when no cache
// in the cluster still vouches for it.
//
// A gateway that does not answer (stopped, or its link hung) must not hold
// every logout up: a cache answers hits only under a lease, which it renews
// here every quarter of the lease and counts from when it asked. The hub
// waits for each cache at most one lease. A drop the hub sent after its last
// renewal reaches the cache before any later renewal does (one sender, one
// link: in order), so once the hub stops waiting, that cache either has
// dropped the session or has no lease left to answer with. The hub then
// forgets it; its next renewal joins afresh, and a cache that joins drops
// everything it holds, so nothing it missed survives.
//
// When a gateway's cache is lost (its link went down), a drop of that
// gateway may have ended in the link: the others drop everything they hold
// (io_clear_atom), at once, since nothing waits for it.
#pragma once

#include <cstdint>
#include <unordered_map>

#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>
#include <caf/timespan.hpp>

#include "actors/interfaces.hpp"

namespace authnode {

struct session_hub_state {
  caf::timespan lease{0};
  /// The joined caches.
  std::unordered_map<caf::actor_addr, caf::actor> caches;
  static inline const char* name = "session_hub";
};

session_hub_actor::behavior_type
session_hub(session_hub_actor::stateful_pointer<session_hub_state> self,
            caf::timespan lease);

} // namespace authnode
