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
#pragma once

#include <memory>

#include <caf/io/broker.hpp>

#include "actors/session_cache.hpp"

namespace authnode {

struct session_keeper_state {
  std::shared_ptr<session_cache> sessions;
  static inline const char* name = "session_keeper";
};

using session_keeper_broker = caf::io::stateful_broker<session_keeper_state>;

/// Answers (io_forget_atom, token digest) and (io_forget_atom, user id,
/// keep digest) with ok_atom once the sessions are out of `sessions`.
caf::behavior session_keeper(session_keeper_broker* self,
                             std::shared_ptr<session_cache> sessions);

} // namespace authnode
