// The database actor: the one owner of the user store.
//
// It is spawned detached (its own thread) because every SQLite call blocks,
// for up to the 5 s busy timeout; on a scheduler thread it would stall other
// actors. One actor means one writer, so requests are serialized here rather
// than fought over with SQLite locks.
#pragma once

#include <memory>
#include <string>

#include <caf/expected.hpp>
#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

#include "actors/interfaces.hpp"
#include "storage/user_store.hpp"

namespace authnode {

struct database_state {
  std::unique_ptr<user_store> store;
  /// How often expired sessions are removed; zero or less: never.
  caf::timespan purge_interval{0};

  static inline const char* name = "database";
};

/// Spawn with `sys.spawn<caf::detached>(database, std::move(store), interval)`.
/// The store must be open; the first purge runs one interval after start.
database_actor::behavior_type
database(database_actor::stateful_pointer<database_state> self,
         std::unique_ptr<user_store> store, caf::timespan purge_interval);

/// Opens the store at `path` first, so a bad path fails before anything is
/// spawned, then spawns the detached database actor. On failure `error` holds
/// a message for people and the result an ec::unavailable with that message.
/// Stop the actor (send_exit + wait_for) before the actor system goes away.
caf::expected<database_actor> spawn_database(caf::actor_system& sys,
                                             const std::string& path,
                                             caf::timespan purge_interval,
                                             std::string& error);

} // namespace authnode
