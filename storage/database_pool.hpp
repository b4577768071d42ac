// Several database actors behind one handle (issue 17, `--db-pool`): each
// has a PostgreSQL connection of its own, so that requests wait for the
// server in parallel rather than in one line. The pool hands each request to
// the next member in turn (delegated, so that the member answers the asker
// directly) and tells every member the mailer's name. Requests that write
// a row that many write at once (a user's logins, a throttle key's
// failures) go to one member by their key instead: they take turns on one
// connection rather than failing on each other's SERIALIZABLE
// transactions.
//
// Only PostgreSQL gets a pool: SQLite has one writer, and ":memory:" is a
// database per connection. Members may serve one client's requests out of
// the order they were sent; every op already waits for its reply before the
// next one depends on it.
//
// The members are linked to the pool: stopping the pool stops them, and a
// member that fails stops the pool, as the one database actor would. The
// pool ends only after every member has: whoever waits for the pool's exit
// (apps/shutdown.hpp, stop_watched) then knows that the members' exits have
// been announced too. A detached member the node broker still held at
// shutdown would keep the actor system from ever ending.
#pragma once

#include <cstddef>
#include <vector>

#include <caf/actor.hpp>
#include <caf/error.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/interfaces.hpp"

namespace authnode {

struct database_pool_state {
  std::vector<caf::actor> members;
  size_t next = 0;
  /// Members not yet exited.
  size_t running = 0;
  /// An exit came (from outside or from a member): the others are told.
  bool stopping = false;
  caf::error reason;
  static inline const char* name = "database_pool";
};

using database_pool_ptr = caf::stateful_actor<database_pool_state>*;

/// Serves as a database_actor (actor_cast it) over `members`, at least one.
caf::behavior database_pool(database_pool_ptr self,
                            std::vector<database_actor> members);

} // namespace authnode
