// The node's wiring by role (--role, docs/deployment.md): which actors a
// process runs and how they reach each other.
//
//   all      database, guard, hash pool, auth and admin in one process,
//            serving clients, the admin channel and metrics
//   storage  the database and the guard, published on the node port
//   hasher   a hash pool, published on the node port
//   gateway  auth and admin as for all, with forwarders to a storage node's
//            database and guard and a hash pool joined by hasher nodes
//
// A gateway's links (cluster/peer_link) point the forwarders at what the
// storage node offers and clear them when it is lost; the auth actor hears
// of the loss too. Each serve_* runs until a stop signal and then stops what
// it started, in an order that matters (apps/shutdown.hpp).
#pragma once

#include <csignal>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "actors/auth.hpp"
#include "actors/interfaces.hpp"
#include "config/node_settings.hpp"
#include "core/counters.hpp"

namespace authnode {

/// What main() prepared before the actor system started.
struct node_start {
  node_settings settings;
  /// With the dummy hash, made (and so checked) before anything started.
  auth_settings auth;
  /// The audit sink; -1: --audit=off.
  int audit_fd = -1;
  /// Of the admin key; empty unless the role serves clients.
  std::string admin_key_digest;
  /// The breached-password index as the start found it, for stats until
  /// the hashers have mapped it themselves (a stats request may come first).
  breached_state breached = breached_state::off;
  uint64_t breached_entries = 0;
  sigset_t stop_signals;
};

/// The actors behind the client listener: local ones (role all), or
/// stand-ins for those of the storage node and a pool that also uses hasher
/// nodes (role gateway).
struct backends {
  database_actor db;
  hash_pool_actor pool;
  guard_actor guard;
  /// Gateway: the links to other nodes and the forwarders, stopped first.
  std::vector<caf::actor> cluster;
  /// Gateway: the forwarders that the storage link points at the storage
  /// node's database and guard, and clears when it is lost.
  caf::actor db_forwarder;
  caf::actor guard_forwarder;
  /// Gateway: the forwarder to the storage node's session hub, where the
  /// auth actor sends the sessions every gateway's cache must drop.
  caf::actor sessions_forwarder;
  /// Roles all and storage with mail: delivers the database's outbox.
  caf::actor mailer;
};

/// Roles all and storage: `db` (spawn_database) and the guard; a hash pool
/// too for role all.
backends local_backends(caf::actor_system& sys, const node_settings& s,
                        database_actor db,
                        std::shared_ptr<node_counters> counters);

/// A gateway's backends: forwarders to the storage node's database and
/// guard, a pool of its own hashers joined by those of the hasher nodes,
/// and a link to each hasher node that keeps them connected. The link to
/// the storage node comes with the auth actor it tells of a loss
/// (serve_clients).
backends gateway_backends(caf::actor_system& sys, const node_settings& s,
                          std::shared_ptr<node_counters> counters);

/// Roles all and gateway: serves clients (and the admin channel and
/// metrics) with `b` until a stop signal, then drains and stops. Returns
/// the exit status.
int serve_clients(caf::actor_system& sys, const node_start& start, backends b,
                  std::shared_ptr<node_counters> counters);

/// Role storage: publishes the database and the guard of `b`.
int serve_storage(caf::actor_system& sys, const node_start& start, backends b,
                  std::shared_ptr<node_counters> counters);

/// Role hasher: publishes a hash pool.
int serve_hasher(caf::actor_system& sys, const node_start& start,
                 std::shared_ptr<node_counters> counters);

} // namespace authnode
