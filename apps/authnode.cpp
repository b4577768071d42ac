// authnode: the node binary. Parses options, wires the actors together,
// listens, and on SIGINT/SIGTERM drains connections and stops every actor
// before the actor system goes down (detached actors left running would
// block CAF 0.17's shutdown).
#include <algorithm>
#include <csignal>
#include <future>
#include <iostream>
#include <optional>
#include <pthread.h>

#include <caf/actor_registry.hpp>
#include <caf/after.hpp>
#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/network/multiplexer.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/openssl/publish.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/spawn_options.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/admin.hpp"
#include "actors/audit.hpp"
#include "actors/auth.hpp"
#include "actors/guard.hpp"
#include "actors/hash_pool.hpp"
#include "actors/hasher.hpp"
#include "cluster/forwarder.hpp"
#include "cluster/node_front.hpp"
#include "cluster/peer_link.hpp"
#include "cluster/tls.hpp"
#include "config/node_config.hpp"
#include "core/admin_key.hpp"
#include "core/error_code.hpp"
#include "core/log.hpp"
#include "core/secrets.hpp"
#include "net/admin_codec.hpp"
#include "net/admin_protocol.hpp"
#include "net/public_protocol.hpp"
#include "net/listener.hpp"
#include "net/metrics_listener.hpp"
#include "storage/database.hpp"
#include "storage/user_store.hpp"

using namespace authnode;

namespace {

/// Signals are taken synchronously by the main thread (sigwait), so they are
/// blocked before any CAF thread exists and every thread inherits the mask.
sigset_t block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  return set;
}

/// --trusted-sources as ranges; validate() has refused a bad list already.
std::vector<cidr> trusted_ranges(const node_options& o) {
  std::string bad;
  return parse_cidr_list(o.trusted_sources, bad).value_or(std::vector<cidr>{});
}

auth_settings make_auth_settings(const node_options& o) {
  auth_settings s;
  s.failure_delay = o.failure_delay;
  s.session_ttl = o.session_ttl;
  s.backend_timeout = o.backend_timeout;
  s.min_password = o.min_password;
  s.params = hash_params{o.hash_ops, o.hash_mem};
  s.dummy_hash = hash_password(make_token(), s.params);
  s.session_cache_size = o.session_cache;
  s.trusted_sources = trusted_ranges(o);
  return s;
}

throttle_settings make_throttle_settings(const node_options& o) {
  throttle_settings s;
  s.failure_delay = o.failure_delay;
  s.max_penalty = o.max_penalty;
  s.failure_window = o.failure_window;
  s.max_pending = o.max_pending;
  s.max_pending_per_source = o.max_pending_per_source;
  s.register_rate = o.register_rate;
  return s;
}

listener_settings make_listener_settings(const node_options& o) {
  listener_settings s;
  s.host = o.host;
  s.port = o.port;
  s.max_connections = o.max_connections;
  s.connection.max_line = o.max_line;
  s.connection.max_in_flight = o.max_in_flight;
  s.connection.idle_timeout = o.idle_timeout;
  s.connection.trusted_sources = trusted_ranges(o);
  return s;
}

admin_settings make_admin_settings(const node_options& o) {
  admin_settings s;
  s.failure_delay = o.failure_delay;
  s.backend_timeout = o.backend_timeout;
  s.min_password = o.min_password;
  s.params = hash_params{o.hash_ops, o.hash_mem};
  return s;
}

/// The admin channel's listener: the public one's settings but its own
/// address, a few connections, and lines long enough for a user_import
/// batch.
listener_settings make_admin_listener_settings(const node_options& o) {
  auto s = make_listener_settings(o);
  s.host = o.admin_host;
  s.port = o.admin_port;
  s.max_connections = 64;
  s.connection.max_line = std::max<size_t>(s.connection.max_line,
                                           min_admin_line);
  return s;
}

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

/// Drains a listener: its connections finish what they owe, within `grace`.
void drain_listener(caf::scoped_actor& self, const caf::actor& lst,
                    caf::timespan grace) {
  self->request(lst, grace, drain_atom::value)
    .receive([](caf::ok_atom) {},
             [&](caf::error&) {
               log_warning("connections still open at shutdown; closing");
               self->send_exit(lst, caf::exit_reason::user_shutdown);
             });
}

/// Starts the metrics broker if --metrics-port is given; logs where it
/// serves. Returns false (after logging why) if it cannot listen.
bool start_metrics(caf::actor_system& sys, caf::scoped_actor& self,
                   const node_options& opts,
                   std::shared_ptr<node_counters> counters, caf::actor& out) {
  if (!opts.metrics())
    return true;
  metrics_settings ms;
  ms.host = opts.metrics_host;
  ms.port = static_cast<uint16_t>(opts.metrics_port);
  out = sys.middleman().spawn_broker(metrics_listener, ms, std::move(counters));
  bool ok = false;
  self->request(out, std::chrono::seconds(10), listen_atom::value)
    .receive(
      [&](uint16_t bound) {
        ok = true;
        // Not "listening on": tests and scripts read the client port from
        // that line, which comes after this one.
        log_info("metrics at http://" + opts.metrics_host + ":"
                 + std::to_string(bound) + "/metrics");
      },
      [&](caf::error& err) {
        log_error(to_wire(err).message);
      });
  return ok;
}

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
};

/// The database and the guard (roles all and storage); a hash pool too
/// for role all.
backends local_backends(caf::actor_system& sys, const node_options& opts,
                        std::unique_ptr<user_store> store,
                        std::shared_ptr<node_counters> counters) {
  backends b;
  database_settings db_cfg;
  db_cfg.purge_interval = std::chrono::minutes(1);
  db_cfg.backup_step_pages = static_cast<int>(opts.backup_step_pages);
  b.db = sys.spawn<caf::detached>(database, std::move(store), db_cfg);
  if (opts.is("all"))
    b.pool = sys.spawn(hash_pool, size_t{opts.hasher_count()},
                       size_t{opts.max_hash_queue}, counters);
  if (opts.throttling())
    b.guard = sys.spawn(guard, make_throttle_settings(opts), counters);
  return b;
}

/// Makes node connections: CAF's middleman, or its TLS twin.
caf::io::middleman_actor node_connector(caf::actor_system& sys,
                                        const node_options& opts) {
  return opts.tls() ? sys.openssl_manager().actor_handle()
                    : sys.middleman().actor_handle();
}

peer_link_settings link_settings(caf::actor_system& sys,
                                 const node_options& opts,
                                 const node_address& addr,
                                 const char* role) {
  peer_link_settings cfg;
  cfg.host = addr.host;
  cfg.port = addr.port;
  cfg.role = role;
  cfg.connector = node_connector(sys, opts);
  return cfg;
}

node_address single_address(const std::string& text) {
  std::string bad;
  return parse_node_addresses(text, bad).value().front();
}

/// A gateway's backends: forwarders to the storage node's database and
/// guard, a pool of its own hashers joined by those of the hasher nodes,
/// and a link to each node that keeps them connected. The auth actor,
/// spawned after this, is told of a lost storage node by `notify_auth`.
backends gateway_backends(caf::actor_system& sys, const node_options& opts,
                          std::shared_ptr<node_counters> counters) {
  backends b;
  b.db_forwarder = sys.spawn(forwarder, std::string{"the storage node"});
  b.db = caf::actor_cast<database_actor>(b.db_forwarder);
  if (opts.throttling()) {
    b.guard_forwarder = sys.spawn(forwarder, std::string{"the storage node"});
    b.guard = caf::actor_cast<guard_actor>(b.guard_forwarder);
  }
  b.pool = sys.spawn(hash_pool, size_t{opts.hasher_count()},
                     size_t{opts.max_hash_queue}, counters);
  b.cluster = {b.db_forwarder};
  if (b.guard_forwarder)
    b.cluster.push_back(b.guard_forwarder);
  std::string bad;
  auto hashers = opts.hasher_nodes.empty()
                   ? std::vector<node_address>{}
                   : *parse_node_addresses(opts.hasher_nodes, bad);
  for (auto& addr : hashers) {
    auto pool = b.pool;
    b.cluster.push_back(sys.spawn(
      peer_link, link_settings(sys, opts, addr, "hasher"),
      [pool](const peer_offer& offer) {
        caf::anon_send(pool, hasher_join_atom::value,
                       caf::actor_cast<hasher_actor>(offer.first),
                       offer.hashers);
      },
      [] {})); // the pool watches its workers itself
  }
  return b;
}

/// Starts the gateway's link to the storage node, once the auth actor that
/// it tells about a loss exists.
caf::actor link_storage(caf::actor_system& sys, const node_options& opts,
                        const backends& b, const auth_actor& auth_handle) {
  auto cfg = link_settings(sys, opts, single_address(opts.storage),
                           "storage");
  auto db = b.db_forwarder;
  auto guard = b.guard_forwarder;
  bool throttling = opts.throttling();
  return sys.spawn(
    peer_link, cfg,
    [db, guard, throttling](const peer_offer& offer) {
      caf::anon_send(db, route_atom::value, offer.first);
      if (guard)
        caf::anon_send(guard, route_atom::value, offer.second);
      if (throttling && !offer.second)
        log_error("the storage node runs with --throttle=off and this "
                  "gateway with on: logins are unavailable until they agree");
    },
    [db, guard, auth_handle] {
      caf::anon_send(db, route_atom::value, caf::actor{});
      if (guard)
        caf::anon_send(guard, route_atom::value, caf::actor{});
      caf::anon_send(auth_handle, storage_lost_atom::value);
    });
}

void stop_actor(caf::scoped_actor& self, const caf::actor& a) {
  if (!a)
    return;
  self->send_exit(a, caf::exit_reason::user_shutdown);
  self->wait_for(a);
  // An actor that ever sent a message to another node is kept in CAF's
  // registry, for that node to address it; CAF 0.17 never lets go of it,
  // and a detached one (the database) then keeps the actor system's
  // destructor waiting for its thread forever.
  self->system().registry().erase(a->id());
}

/// Stops an actor that `self` has monitored since it was spawned, and waits
/// for that monitor's down message. An actor's exit notifies its watchers
/// newest first, so by the time the oldest (ours) hears of it, every later
/// watcher, CAF's node broker among them, has been sent its notice.
void stop_watched(caf::scoped_actor& self, const caf::actor& a) {
  if (!a)
    return;
  self->send_exit(a, caf::exit_reason::user_shutdown);
  bool down = false;
  while (!down)
    self->receive(
      [&](const caf::down_msg& msg) { down = msg.source == a.address(); },
      caf::after(std::chrono::seconds(30)) >> [&] {
        log_warning("an actor did not stop in 30 s");
        down = true;
      });
  self->system().registry().erase(a->id());
}

void wait_for_stop_signal(const sigset_t& stop_signals) {
  int sig = 0;
  sigwait(&stop_signals, &sig);
  log_info(std::string{"received "} + strsignal(sig)
           + ", finishing requests in flight");
}

/// Roles all and gateway: serves clients (and the admin channel and
/// metrics) with `b` until a stop signal, then drains and stops.
int serve_clients(caf::actor_system& sys, const node_options& opts,
                  auth_settings settings, backends b, int audit_fd,
                  const std::string& admin_key_digest,
                  const sigset_t& stop_signals,
                  std::shared_ptr<node_counters> counters) {
  audit_actor audit_handle;
  if (audit_fd >= 0)
    audit_handle = sys.spawn<caf::detached>(audit, audit_fd);
  auto auth_handle = sys.spawn(auth, settings, b.db, b.pool, b.guard,
                               audit_handle, counters);
  if (opts.is("gateway"))
    b.cluster.push_back(link_storage(sys, opts, b, auth_handle));
  auto admin_handle = sys.spawn(admin, make_admin_settings(opts), b.db,
                                b.pool, auth_handle, b.guard, audit_handle);
  auto lst
    = sys.middleman().spawn_broker(listener, make_listener_settings(opts),
                                   public_protocol(auth_handle), counters);
  // Admin connections are not clients: they have counters of their own.
  auto admin_lst = sys.middleman().spawn_broker(
    listener, make_admin_listener_settings(opts),
    admin_protocol(admin_handle, admin_key_digest),
    std::make_shared<node_counters>());
  caf::scoped_actor self{sys};
  int status = 0;
  auto port = bind_listener(self, lst);
  auto admin_port = port != 0 ? bind_listener(self, admin_lst) : 0;
  if (port == 0 || admin_port == 0)
    status = 1;
  caf::actor metrics;
  if (status == 0 && !start_metrics(sys, self, opts, counters, metrics))
    status = 1;
  if (status == 0) {
    auto where = opts.is("gateway")
                   ? "gateway to storage node " + opts.storage
                   : "database " + opts.db;
    log_info("listening on " + opts.host + ":" + std::to_string(port) + " ("
             + where + ", " + std::to_string(opts.hasher_count())
             + " hashers)");
    log_info("admin channel on " + opts.admin_host + ":"
             + std::to_string(admin_port) + " (key file "
             + opts.admin_key_path() + ")");
    wait_for_stop_signal(stop_signals);
  }
  // A backup could take longer than the drain may: it is abandoned now, so
  // its request is answered (backup_failed) while its connection still is
  // there to send the reply, and its partial file is removed.
  if (opts.is("all"))
    self->send(b.db, backup_abort_atom::value);
  // Held failures may wait up to failure-delay, backends up to their timeout.
  auto grace = opts.failure_delay + opts.backend_timeout
    + std::chrono::seconds(5);
  drain_listener(self, lst, grace);
  drain_listener(self, admin_lst, grace);
  for (auto& a : b.cluster)
    stop_actor(self, a);
  std::vector<caf::actor> rest{metrics,
                               caf::actor_cast<caf::actor>(admin_handle),
                               caf::actor_cast<caf::actor>(auth_handle),
                               caf::actor_cast<caf::actor>(audit_handle),
                               caf::actor_cast<caf::actor>(b.pool)};
  if (!opts.is("gateway")) { // a gateway's are forwarders, stopped above
    rest.push_back(caf::actor_cast<caf::actor>(b.guard));
    rest.push_back(caf::actor_cast<caf::actor>(b.db));
  }
  for (auto& a : rest)
    stop_actor(self, a);
  log_info("stopped");
  return status;
}

/// Waits (at most 2 s) until CAF's node broker has handled what our actors
/// sent it as they stopped. It watches every actor another node holds a
/// handle to (the database, the guard, the hash pool), and an actor's exit
/// puts a message naming it in the broker's mailbox. CAF 0.17 never empties
/// a broker's mailbox when it ends, so a message still there at shutdown
/// keeps its actor alive, and for a detached actor (the database) the
/// actor system's destructor then waits for its thread forever. A function
/// posted to the broker's I/O loop runs after the broker's turn for the
/// messages that came before it (stop_watched makes sure they came before).
void let_node_broker_catch_up(caf::actor_system& sys) {
  for (int round = 0; round < 3; ++round) {
    auto done = std::make_shared<std::promise<void>>();
    auto future = done->get_future();
    sys.middleman().backend().post([done] { done->set_value(); });
    if (future.wait_for(std::chrono::seconds(2)) != std::future_status::ready) {
      log_warning("the node broker did not catch up in 2 s; stopping anyway");
      return;
    }
  }
}

/// Publishes a storage or hasher node's front on the node port, with TLS
/// when configured; returns the port bound.
caf::expected<uint16_t> publish_front(caf::actor_system& sys,
                                      const node_options& opts,
                                      const node_front_actor& front) {
  auto host = opts.node_host.c_str();
  if (opts.tls())
    return caf::openssl::publish(front, opts.node_port, host, true);
  return sys.middleman().publish(front, opts.node_port, host, true);
}

/// Roles storage and hasher: publishes `front` on the node port until a
/// stop signal, then stops it and `others`.
int serve_nodes(caf::actor_system& sys, const node_options& opts,
                node_front_actor front, const std::string& what,
                std::vector<caf::actor> others, const sigset_t& stop_signals,
                std::shared_ptr<node_counters> counters) {
  caf::scoped_actor self{sys};
  // Watched from the start, before any other node can hold them: see
  // let_node_broker_catch_up.
  for (auto& a : others)
    if (a)
      self->monitor(a);
  // Metrics here too: a hasher node's hash times and queue, a storage
  // node's throttle.
  caf::actor metrics;
  bool ok = start_metrics(sys, self, opts, counters, metrics);
  uint16_t port = 0;
  if (ok) {
    auto bound = publish_front(sys, opts, front);
    if (bound) {
      port = *bound;
    } else {
      log_error("--node-port " + std::to_string(opts.node_port) + " on "
                + opts.node_host + ": " + sys.render(bound.error()));
      ok = false;
    }
  }
  if (ok) {
    if (!opts.tls() && !is_loopback_host(opts.node_host))
      log_warning("node port " + opts.node_host + ":" + std::to_string(port)
                  + " is open without TLS (--allow-plaintext-nodes): "
                    "whoever reaches it can command this node");
    log_info("node port on " + opts.node_host + ":" + std::to_string(port)
             + " (" + what + ", cluster protocol "
             + std::to_string(cluster_protocol) + ", "
             + (opts.tls() ? "TLS with peer certificates from "
                               + opts.tls_ca
                           : std::string{"no TLS"})
             + ")");
    wait_for_stop_signal(stop_signals);
  }
  // (CAF 0.17.6's openssl::unpublish does not compile; that port closes
  // with the actor system.)
  if (port != 0 && !opts.tls())
    sys.middleman().unpublish(front, port);
  stop_actor(self, metrics);
  stop_actor(self, caf::actor_cast<caf::actor>(front));
  for (auto& a : others)
    stop_watched(self, a);
  let_node_broker_catch_up(sys);
  log_info("stopped");
  return ok ? 0 : 1;
}

int run(caf::actor_system& sys, const node_options& opts,
        const auth_settings& settings, std::unique_ptr<user_store> store,
        int audit_fd, const std::string& admin_key_digest,
        const sigset_t& stop_signals) {
  auto counters = std::make_shared<node_counters>();
  if (opts.is("hasher")) {
    auto n = opts.hasher_count();
    auto pool = sys.spawn(hash_pool, size_t{n}, size_t{opts.max_hash_queue},
                          counters);
    auto front = sys.spawn(node_front, std::string{"hasher"},
                           caf::actor_cast<caf::actor>(pool), caf::actor{},
                           n);
    return serve_nodes(sys, opts, front,
                       "hasher: " + std::to_string(n) + " hashers",
                       {caf::actor_cast<caf::actor>(pool)}, stop_signals,
                       counters);
  }
  if (opts.is("storage")) {
    auto b = local_backends(sys, opts, std::move(store), counters);
    auto front = sys.spawn(node_front, std::string{"storage"},
                           caf::actor_cast<caf::actor>(b.db),
                           caf::actor_cast<caf::actor>(b.guard), 0u);
    return serve_nodes(sys, opts, front, "storage: database " + opts.db,
                       {caf::actor_cast<caf::actor>(b.guard),
                        caf::actor_cast<caf::actor>(b.db)},
                       stop_signals, counters);
  }
  auto b = opts.is("gateway")
             ? gateway_backends(sys, opts, counters)
             : local_backends(sys, opts, std::move(store), counters);
  auto gateway_settings = settings;
  // Sessions change on other gateways too, unseen by this one's cache.
  if (opts.is("gateway"))
    gateway_settings.session_cache_size = 0;
  return serve_clients(sys, opts, gateway_settings, std::move(b), audit_fd,
                       admin_key_digest, stop_signals, counters);
}

} // namespace

int main(int argc, char** argv) {
  auto stop_signals = block_stop_signals();
  if (!init_sodium()) {
    std::cerr << "authnode: libsodium cannot be initialised\n";
    return 1;
  }
  node_config cfg;
  if (auto err = cfg.parse(argc, argv)) {
    std::cerr << "authnode: " << caf::to_string(err) << "\n";
    return 2;
  }
  if (cfg.cli_helptext_printed)
    return 0;
  if (auto problem = validate(cfg.opts); !problem.empty()) {
    std::cerr << "authnode: " << problem << "\n";
    return 2;
  }
  configure_log(*parse_log_level(cfg.opts.log_level),
                *parse_log_format(cfg.opts.log_format));
  // The dummy hash doubles as a check that hashing works with these
  // settings, before anything is started that would have to be stopped.
  auto settings = make_auth_settings(cfg.opts);
  if (settings.dummy_hash.empty()) {
    log_error("--hash-mem=" + std::to_string(cfg.opts.hash_mem)
              + ": argon2id cannot allocate that much memory");
    return 2;
  }
  std::string error;
  int audit_fd = -1;
  if (cfg.opts.audit != "off") {
    audit_fd = open_audit_sink(cfg.opts.audit, error);
    if (audit_fd < 0) {
      log_error("--audit=" + cfg.opts.audit + ": " + error);
      return 2;
    }
  }
  // The admin channel runs where clients are served; the database where it
  // is owned.
  std::optional<std::string> admin_key{std::string{}};
  if (cfg.opts.serves_clients()) {
    bool key_created = false;
    auto key_path = cfg.opts.admin_key_path();
    admin_key = load_admin_key(key_path, key_created, error);
    if (!admin_key) {
      log_error("--admin-key-file: " + error);
      return 2;
    }
    if (key_created)
      log_info("created admin key file " + key_path + " (mode 0600)");
  }
  std::unique_ptr<user_store> store;
  if (cfg.opts.is("all") || cfg.opts.is("storage")) {
    store = user_store::open(cfg.opts.db, error);
    if (!store) {
      log_error("--db " + cfg.opts.db + ": " + error);
      return 1;
    }
  }
  cfg.load<caf::io::middleman>();
  if (cfg.opts.tls()) {
    tls_files files{cfg.opts.tls_cert, cfg.opts.tls_key, cfg.opts.tls_ca, {}};
    if (!cfg.opts.tls_passphrase_file.empty()) {
      files.passphrase
        = read_passphrase_file(cfg.opts.tls_passphrase_file, error);
      if (!error.empty()) {
        log_error(error);
        return 2;
      }
    }
    if (auto problem = check_tls_files(files); !problem.empty()) {
      log_error(problem);
      return 2;
    }
    cfg.openssl_certificate = files.cert;
    cfg.openssl_key = files.key;
    cfg.openssl_cafile = files.ca;
    cfg.openssl_passphrase = files.passphrase;
    cfg.load<caf::openssl::manager>();
  }
  int status = 0;
  {
    caf::actor_system sys{cfg};
    status = run(sys, cfg.opts, settings, std::move(store), audit_fd,
                 *admin_key, stop_signals);
  }
  return status;
}
