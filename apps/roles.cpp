#include "apps/roles.hpp"

#include <chrono>
#include <utility>

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/openssl/publish.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/spawn_options.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/admin.hpp"
#include "actors/audit.hpp"
#include "actors/guard.hpp"
#include "actors/hash_pool.hpp"
#include "actors/hasher.hpp"
#include "apps/actor_settings.hpp"
#include "apps/shutdown.hpp"
#include "cluster/forwarder.hpp"
#include "cluster/node_front.hpp"
#include "cluster/peer_link.hpp"
#include "cluster/session_hub.hpp"
#include "core/error_code.hpp"
#include "core/log.hpp"
#include "net/admin_protocol.hpp"
#include "net/listener.hpp"
#include "net/metrics_listener.hpp"
#include "net/public_protocol.hpp"
#include "net/session_keeper.hpp"
#include "storage/database_name.hpp"

namespace authnode {

namespace {

/// Asks a listener to bind; returns the port, or 0 after logging why not.
uint16_t bind_listener(caf::scoped_actor& self, const caf::actor& lst) {
  uint16_t port = 0;
  self->request(lst, std::chrono::seconds(10), listen_atom::value)
    .receive(
      [&](uint16_t bound) {
        port = bound;
      },
      [&](caf::error& err) {
        log_error(to_wire(err).message);
      });
  return port;
}

/// Starts the metrics broker if --metrics-port is given; logs where it
/// serves. Returns false (after logging why) if it cannot listen.
bool start_metrics(caf::actor_system& sys, caf::scoped_actor& self,
                   const node_settings& s,
                   std::shared_ptr<node_counters> counters, caf::actor& out) {
  if (!s.metrics_port)
    return true;
  out = sys.middleman().spawn_broker(metrics_listener, make_metrics_settings(s),
                                     std::move(counters));
  bool ok = false;
  self->request(out, std::chrono::seconds(10), listen_atom::value)
    .receive(
      [&](uint16_t bound) {
        ok = true;
        // Not "listening on": tests and scripts read the client port from
        // that line, which comes after this one.
        log_info("metrics at http://" + s.metrics_host + ":"
                 + std::to_string(bound) + "/metrics");
      },
      [&](caf::error& err) {
        log_error(to_wire(err).message);
      });
  return ok;
}

/// What SIGHUP does where a hash pool runs: its hashers map the breached
/// index again (the pool logs how it went).
std::function<void()> reload_on_hangup(const hash_pool_actor& pool) {
  if (!pool)
    return {};
  return [pool] {
    caf::anon_send(pool, breached_reload_atom::value, true);
  };
}

hash_pool_actor spawn_hash_pool(caf::actor_system& sys, const node_settings& s,
                                std::shared_ptr<node_counters> counters) {
  counters->breached_path = s.breached_passwords;
  return sys.spawn(
    hash_pool, size_t{s.hashers}, size_t{s.max_hash_queue}, std::move(counters),
    breached_settings{s.breached_passwords, s.breached_min_count});
}

// -- a gateway's links --------------------------------------------------------

/// Makes node connections: CAF's middleman, or its TLS twin.
caf::io::middleman_actor node_connector(caf::actor_system& sys,
                                        const node_settings& s) {
  return s.tls() ? sys.openssl_manager().actor_handle()
                 : sys.middleman().actor_handle();
}

peer_link_settings link_settings(caf::actor_system& sys, const node_settings& s,
                                 const node_address& addr, node_role role) {
  peer_link_settings cfg;
  cfg.host = addr.host;
  cfg.port = addr.port;
  cfg.role = role;
  cfg.connector = node_connector(sys, s);
  return cfg;
}

/// A link to a hasher node, whose hashers join `pool` while it is up.
caf::actor link_hasher(caf::actor_system& sys, const node_settings& s,
                       const node_address& addr, const hash_pool_actor& pool) {
  return sys.spawn(
    peer_link, link_settings(sys, s, addr, node_role::hasher),
    [pool](const peer_offer& offer) {
      caf::anon_send(pool, hasher_join_atom::value,
                     caf::actor_cast<hasher_actor>(offer.first), offer.hashers);
    },
    [] {}); // the pool watches its workers itself
}

/// Starts the gateway's link to the storage node, once the auth actor that
/// it tells about a loss exists, and the connections' session cache's
/// keeper (if any) that answers hits only while linked.
caf::actor link_storage(caf::actor_system& sys, const node_settings& s,
                        const backends& b, const auth_actor& auth_handle,
                        const caf::actor& keeper) {
  auto cfg = link_settings(sys, s, *s.storage, node_role::storage);
  // Points the stand-ins at what the storage node offers, or (an empty
  // offer) at nothing.
  auto route = [db = b.db_forwarder, guard = b.guard_forwarder,
                hub = b.sessions_forwarder, keeper](const peer_offer& offer) {
    caf::anon_send(db, route_atom::value, offer.first);
    if (guard)
      caf::anon_send(guard, route_atom::value, offer.second);
    caf::anon_send(hub, route_atom::value, offer.sessions);
    if (keeper)
      caf::anon_send(keeper, route_atom::value, offer.sessions);
  };
  bool throttling = s.throttle;
  return sys.spawn(
    peer_link, cfg,
    [route, throttling](const peer_offer& offer) {
      route(offer);
      if (throttling && !offer.second)
        log_error("the storage node runs with --throttle=off and this "
                  "gateway with on: logins are unavailable until they agree");
    },
    [route, auth_handle] {
      route(peer_offer{});
      caf::anon_send(auth_handle, storage_lost_atom::value);
    });
}

// -- serving clients ----------------------------------------------------------

/// What serve_clients runs in front of the backends.
struct client_side {
  audit_actor audit;
  auth_actor auth;
  admin_actor admin;
  caf::actor listener;
  caf::actor admin_listener;
  caf::actor metrics;
  /// The connections' session cache's keeper; invalid: no such cache.
  caf::actor session_keeper;
};

client_side spawn_client_side(caf::actor_system& sys, const node_start& start,
                              backends& b,
                              std::shared_ptr<node_counters> counters) {
  const auto& s = start.settings;
  client_side c;
  if (start.audit_fd >= 0)
    c.audit = sys.spawn<caf::detached>(audit, start.audit_fd);
  // The connections' session cache. On a gateway it answers under the
  // storage node's lease, and the auth actor sends its drops to the storage
  // node's session hub, which passes them to every gateway's cache.
  bool gateway = s.role == node_role::gateway;
  std::shared_ptr<session_cache> sessions;
  if (s.session_cache > 0) {
    sessions = std::make_shared<session_cache>(s.session_cache);
    c.session_keeper = sys.middleman().spawn_broker(session_keeper, sessions,
                                                    gateway);
  }
  auto drops = gateway ? b.sessions_forwarder : c.session_keeper;
  c.auth = sys.spawn(auth, start.auth, b.db, b.pool, b.guard, c.audit, counters,
                     drops);
  if (gateway)
    b.cluster.push_back(link_storage(sys, s, b, c.auth, c.session_keeper));
  c.admin = sys.spawn(admin, make_admin_settings(s), b.db, b.pool, c.auth,
                      b.guard, c.audit);
  c.listener = sys.middleman().spawn_broker(
    listener, make_listener_settings(s),
    public_protocol(c.auth, make_public_settings(s), sessions), counters);
  // Admin connections are not clients: they have counters of their own.
  c.admin_listener = sys.middleman().spawn_broker(
    listener, make_admin_listener_settings(s),
    admin_protocol(c.admin, start.admin_key_digest),
    std::make_shared<node_counters>());
  return c;
}

/// Binds the listeners and starts the metrics; true, after logging where
/// each serves, if all of them listen.
bool open_client_ports(caf::actor_system& sys, caf::scoped_actor& self,
                       const node_settings& s, client_side& c,
                       std::shared_ptr<node_counters> counters) {
  auto port = bind_listener(self, c.listener);
  auto admin_port = port != 0 ? bind_listener(self, c.admin_listener) : 0;
  if (port == 0 || admin_port == 0)
    return false;
  if (!start_metrics(sys, self, s, std::move(counters), c.metrics))
    return false;
  auto where = s.role == node_role::gateway
    ? "gateway to storage node " + s.storage->text
    : "database " + describe_database(s.db);
  log_info("listening on " + s.host + ":" + std::to_string(port) + " (" + where
           + ", " + std::to_string(s.hashers) + " hashers)");
  log_info("admin channel on " + s.admin_host + ":" + std::to_string(admin_port)
           + " (key file " + s.admin_key_path + ")");
  return true;
}

/// Drains the listeners, then stops the gateway's links and forwarders,
/// then everything else.
void stop_client_side(caf::scoped_actor& self, const node_settings& s,
                      const client_side& c, const backends& b) {
  // A backup could take longer than the drain may: it is abandoned now, so
  // its request is answered (backup_failed) while its connection still is
  // there to send the reply, and its partial file is removed.
  if (s.role == node_role::all)
    self->send(b.db, backup_abort_atom::value);
  // A penalty may be longer than the drain: the guard answers what it holds
  // now (rate_limited, with when to retry). A gateway's guard is the storage
  // node's, which drains when that node stops.
  if (s.role != node_role::gateway && b.guard)
    self->send(b.guard, drain_atom::value);
  // Held failures may wait up to failure-delay, backends up to their timeout.
  auto grace = s.failure_delay + s.backend_timeout + std::chrono::seconds(5);
  drain_listener(self, c.listener, grace);
  drain_listener(self, c.admin_listener, grace);
  for (auto& a : b.cluster)
    stop_actor(self, a);
  // The mailer before the database whose outbox it reports to.
  std::vector<caf::actor> rest{b.mailer,
                               c.metrics,
                               c.session_keeper,
                               caf::actor_cast<caf::actor>(c.admin),
                               caf::actor_cast<caf::actor>(c.auth),
                               caf::actor_cast<caf::actor>(c.audit),
                               caf::actor_cast<caf::actor>(b.pool)};
  // A gateway's guard and database are forwarders, stopped above.
  if (s.role != node_role::gateway) {
    rest.push_back(caf::actor_cast<caf::actor>(b.guard));
    rest.push_back(caf::actor_cast<caf::actor>(b.db));
  }
  for (auto& a : rest)
    stop_actor(self, a);
}

// -- serving other nodes ------------------------------------------------------

/// Publishes a storage or hasher node's front on the node port, with TLS
/// when configured; returns the port bound.
caf::expected<uint16_t> publish_front(caf::actor_system& sys,
                                      const node_settings& s,
                                      const node_front_actor& front) {
  auto host = s.node_host.c_str();
  if (s.tls())
    return caf::openssl::publish(front, s.node_port, host, true);
  return sys.middleman().publish(front, s.node_port, host, true);
}

/// Publishes `front`; the port bound, or 0 after logging why not.
uint16_t open_node_port(caf::actor_system& sys, const node_settings& s,
                        const node_front_actor& front,
                        const std::string& what) {
  auto bound = publish_front(sys, s, front);
  if (!bound) {
    log_error("--node-port " + std::to_string(s.node_port) + " on "
              + s.node_host + ": " + sys.render(bound.error()));
    return 0;
  }
  auto port = *bound;
  if (!s.tls() && !s.node_host_loopback)
    log_warning("node port " + s.node_host + ":" + std::to_string(port)
                + " is open without TLS (--allow-plaintext-nodes): "
                  "whoever reaches it can command this node");
  log_info("node port on " + s.node_host + ":" + std::to_string(port) + " ("
           + what + ", cluster protocol " + std::to_string(cluster_protocol)
           + ", "
           + (s.tls() ? "TLS with peer certificates from " + s.tls_ca
                      : std::string{"no TLS"})
           + ")");
  return port;
}

/// Roles storage and hasher: publishes `front` on the node port until a
/// stop signal, then stops it and `others`. `guard`, if any, answers what
/// it holds first (drain_atom), so that no gateway waits on a penalty that
/// this node will never see end.
int serve_nodes(caf::actor_system& sys, const node_start& start,
                node_front_actor front, const std::string& what,
                guard_actor guard, std::vector<caf::actor> others,
                std::shared_ptr<node_counters> counters,
                const hash_pool_actor& pool = {}) {
  const auto& s = start.settings;
  caf::scoped_actor self{sys};
  // Watched from the start, before any other node can hold them: see
  // let_node_broker_catch_up.
  for (auto& a : others)
    if (a)
      self->monitor(a);
  // Metrics here too: a hasher node's hash times and queue, a storage
  // node's throttle.
  caf::actor metrics;
  bool ok = start_metrics(sys, self, s, counters, metrics);
  uint16_t port = ok ? open_node_port(sys, s, front, what) : 0;
  ok = ok && port != 0;
  if (ok)
    wait_for_stop_signal(start.stop_signals, reload_on_hangup(pool));
  if (guard)
    self->send(guard, drain_atom::value);
  // (CAF 0.17.6's openssl::unpublish does not compile; that port closes
  // with the actor system.)
  if (port != 0 && !s.tls())
    sys.middleman().unpublish(front, port);
  stop_actor(self, metrics);
  stop_actor(self, caf::actor_cast<caf::actor>(front));
  for (auto& a : others)
    stop_watched(self, a);
  let_node_broker_catch_up(sys);
  log_info("stopped");
  return ok ? 0 : 1;
}

} // namespace

backends local_backends(caf::actor_system& sys, const node_settings& s,
                        database_actor db,
                        std::shared_ptr<node_counters> counters) {
  backends b;
  b.db = std::move(db);
  if (s.role == node_role::all)
    b.pool = spawn_hash_pool(sys, s, counters);
  // On PostgreSQL every node on the database shares the guard's failures.
  if (s.throttle && is_postgres_conninfo(s.db))
    b.guard = sys.spawn(shared_guard, make_throttle_settings(s), counters,
                        shared_throttle{b.db, s.backend_timeout});
  else if (s.throttle)
    b.guard = sys.spawn(guard, make_throttle_settings(s), counters);
  return b;
}

backends gateway_backends(caf::actor_system& sys, const node_settings& s,
                          std::shared_ptr<node_counters> counters) {
  backends b;
  b.db_forwarder = sys.spawn(forwarder, std::string{"the storage node"});
  b.db = caf::actor_cast<database_actor>(b.db_forwarder);
  if (s.throttle) {
    b.guard_forwarder = sys.spawn(forwarder, std::string{"the storage node"});
    b.guard = caf::actor_cast<guard_actor>(b.guard_forwarder);
  }
  b.sessions_forwarder = sys.spawn(forwarder, std::string{"the storage node"});
  b.pool = spawn_hash_pool(sys, s, counters);
  b.cluster = {b.db_forwarder, b.sessions_forwarder};
  if (b.guard_forwarder)
    b.cluster.push_back(b.guard_forwarder);
  for (auto& addr : s.hasher_nodes)
    b.cluster.push_back(link_hasher(sys, s, addr, b.pool));
  return b;
}

int serve_clients(caf::actor_system& sys, const node_start& start, backends b,
                  std::shared_ptr<node_counters> counters) {
  const auto& s = start.settings;
  auto c = spawn_client_side(sys, start, b, counters);
  caf::scoped_actor self{sys};
  bool ok = open_client_ports(sys, self, s, c, counters);
  if (ok)
    wait_for_stop_signal(start.stop_signals, reload_on_hangup(b.pool));
  stop_client_side(self, s, c, b);
  log_info("stopped");
  return ok ? 0 : 1;
}

int serve_storage(caf::actor_system& sys, const node_start& start, backends b,
                  std::shared_ptr<node_counters> counters) {
  auto hub = sys.spawn(session_hub, start.settings.session_lease);
  auto front = sys.spawn(node_front, node_role::storage,
                         caf::actor_cast<caf::actor>(b.db),
                         caf::actor_cast<caf::actor>(b.guard), 0u,
                         caf::actor_cast<caf::actor>(hub));
  return serve_nodes(
    sys, start, front,
    "storage: database " + describe_database(start.settings.db), b.guard,
    {caf::actor_cast<caf::actor>(hub), b.mailer,
     caf::actor_cast<caf::actor>(b.guard), caf::actor_cast<caf::actor>(b.db)},
    std::move(counters));
}

int serve_hasher(caf::actor_system& sys, const node_start& start,
                 std::shared_ptr<node_counters> counters) {
  const auto& s = start.settings;
  auto pool = spawn_hash_pool(sys, s, counters);
  auto front = sys.spawn(node_front, node_role::hasher,
                         caf::actor_cast<caf::actor>(pool), caf::actor{},
                         s.hashers, caf::actor{});
  return serve_nodes(sys, start, front,
                     "hasher: " + std::to_string(s.hashers) + " hashers",
                     guard_actor{}, {caf::actor_cast<caf::actor>(pool)},
                     std::move(counters), pool);
}

} // namespace authnode
