// The connections' session cache, on the I/O thread: whoami of a session
// a connection has seen is answered there, without crossing to the auth
// actor and back (two thread hops and a wake-up of the I/O loop each).
//
// Why a cache outside an actor's state is safe here: every broker of a
// process runs on CAF's one multiplexer thread (docs/architecture.md,
// "Threads"), so the connections that read and fill it and this keeper,
// which empties it, never run at once. It is created for the node's
// connections and lives as long as they do; nothing else touches it.
//
// Coherence: the auth actor asks the keeper to drop sessions whenever it
// drops them from its own cache, and answers the op that ended them (a
// logout, a password change, a revoke, ...) only once the keeper has
// answered. A whoami that was on its way to the auth actor meanwhile must
// not put its stale answer back: the connection notes the cache's epoch
// before it asks and fills only if no drop came in between.
//
// On a gateway the drops come from the storage node's session hub
// (cluster/session_hub), which hears them from every gateway's auth actor.
// There the cache answers hits only under the hub's lease: the keeper
// renews it every quarter lease, counting it from when it asked, drops
// everything when it joins a hub (it may have missed drops before) and
// when the link to the storage node is lost (route_atom with no hub).
#pragma once

#include <memory>
#include <optional>

#include <caf/actor.hpp>
#include <caf/io/broker.hpp>
#include <caf/timespan.hpp>

#include "actors/session_cache.hpp"

namespace authnode {

struct session_keeper_state {
  std::shared_ptr<session_cache> sessions;
  /// A gateway's: the storage node's session hub while linked to it.
  caf::actor hub;
  /// The hub's lease (its answer says how long), renewed every quarter.
  caf::timespan lease = std::chrono::seconds(1);
  bool ticking = false;
  /// When the renewal in flight was asked, if one is: the next waits for
  /// its answer, or for a lease to pass without one.
  std::optional<session_cache::clock::time_point> renewing;
  static inline const char* name = "session_keeper";
};

using session_keeper_broker = caf::io::stateful_broker<session_keeper_state>;

/// Answers (io_forget_atom, token digest) and (io_forget_atom, user id,
/// keep digest) with ok_atom once the sessions are out of `sessions`.
/// `leased` (a gateway): hits wait for a lease from the hub that
/// (route_atom, hub) names.
caf::behavior session_keeper(session_keeper_broker* self,
                             std::shared_ptr<session_cache> sessions,
                             bool leased);

} // namespace authnode
