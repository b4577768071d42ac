#include "config/node_config.hpp"

#include <algorithm>
#include <thread>

#include <caf/config_option_adder.hpp>

#include "actors/interfaces.hpp"

namespace authnode {

node_config::node_config() {
  register_message_types(*this);
  tune_caf(*this);
  opt_group{custom_options_, "global"}
    .add(opts.host, "host", "address to accept clients on (127.0.0.1)")
    .add(opts.port, "port", "TCP port for clients, 0 picks one (7411)")
    .add(opts.db, "db", "SQLite database file (authnode.db)")
    .add(opts.failure_delay, "failure-delay",
         "answer failed logins no sooner than this after they arrive (2s)")
    .add(opts.hash_ops, "hash-ops", "argon2id passes (2, INTERACTIVE)")
    .add(opts.hash_mem, "hash-mem",
         "argon2id memory in bytes (67108864, INTERACTIVE)")
    .add(opts.hashers, "hashers",
         "hasher actors, -1 = one per core; 0 (gateway only) = none, hash "
         "on --hasher-nodes only (-1)")
    .add(opts.session_ttl, "session-ttl", "lifetime of a login token (24h)")
    .add(opts.max_line, "max-line", "longest request line in bytes (65536)")
    .add(opts.max_connections, "max-connections",
         "clients connected at once (10000)")
    .add(opts.max_in_flight, "max-in-flight",
         "requests per connection being worked on; past it the connection "
         "is not read until answers go out (8)")
    .add(opts.idle_timeout, "idle-timeout",
         "close a connection that has nothing pending and completes no "
         "line for this long, 0s = never (60s)")
    .add(opts.min_password, "min-password",
         "shortest password in bytes accepted by register (8)")
    .add(opts.session_cache, "session-cache",
         "sessions kept in memory so whoami skips the database, 0 = off "
         "(65536)")
    .add(opts.throttle, "throttle",
         "on: penalties per source and account; off: only failure-delay (on)")
    .add(opts.max_penalty, "max-penalty",
         "longest wait a key's failures can earn (60s)")
    .add(opts.failure_window, "failure-window",
         "failures are forgotten after this long without one (15min)")
    .add(opts.max_pending, "max-pending",
         "logins held by the throttle at once, in all (10000)")
    .add(opts.max_pending_per_source, "max-pending-per-source",
         "logins held by the throttle at once for one source (16)")
    .add(opts.max_hash_queue, "max-hash-queue",
         "hashes waiting for a hasher; past it, busy at once (256)")
    .add(opts.register_rate, "register-rate",
         "registrations (hashes) per source and minute (10)")
    .add(opts.trusted_sources, "trusted-sources",
         "comma-separated CIDR ranges of application servers that may send "
         "client_addr, e.g. \"10.0.0.0/8,::1\" (none)")
    .add(opts.log_level, "log-level",
         "least severe event logged: debug, info, warning or error (info)")
    .add(opts.log_format, "log-format",
         "log lines as text or json, one event per line (text)")
    .add(opts.audit, "audit",
         "login outcomes, one JSON line each: stderr, a file path, or off "
         "(stderr)")
    .add(opts.admin_host, "admin-host",
         "address of the admin channel; keep it local (127.0.0.1)")
    .add(opts.admin_port, "admin-port",
         "TCP port of the admin channel, 0 picks one (7412)")
    .add(opts.admin_key_file, "admin-key-file",
         "file holding the admin key, made (mode 0600) if missing "
         "(<db>.admin-key)")
    .add(opts.backup_step_pages, "backup-step-pages",
         "database pages a backup copies before other requests are served "
         "again (256)")
    .add(opts.metrics_host, "metrics-host",
         "address to serve GET /metrics on (127.0.0.1)")
    .add(opts.metrics_port, "metrics-port",
         "TCP port for Prometheus metrics, 0 picks one; metrics are off "
         "unless this is given (off)")
    .add(opts.backend_timeout, "backend-timeout",
         "give up on a database request after this and answer unavailable "
         "(10s)")
    .add(opts.role, "role",
         "all (one process), storage, hasher or gateway "
         "(docs/deployment.md) (all)")
    .add(opts.node_host, "node-host",
         "storage and hasher nodes: address other nodes reach this one on "
         "(127.0.0.1)")
    .add(opts.node_port, "node-port",
         "storage and hasher nodes: TCP port for other nodes, 0 picks one "
         "(7414)")
    .add(opts.storage, "storage",
         "gateway: the storage node, HOST:PORT (none)")
    .add(opts.hasher_nodes, "hasher-nodes",
         "gateway: hasher nodes to use besides its own hashers, "
         "HOST:PORT,... (none)")
    .add(opts.allow_plaintext_nodes, "allow-plaintext-nodes",
         "let --node-host be a non-loopback address without TLS; anyone "
         "who reaches the port can then command the node (off)")
    .add(opts.tls_cert, "tls-cert",
         "between nodes: this node's certificate (PEM, chain allowed); with "
         "--tls-key and --tls-ca, node connections use TLS and accept only "
         "peers with a certificate from that CA (none)")
    .add(opts.tls_key, "tls-key", "between nodes: this node's private key "
                                  "(PEM) (none)")
    .add(opts.tls_ca, "tls-ca",
         "between nodes: the CA certificate(s) peers must be signed by (PEM) "
         "(none)")
    .add(opts.tls_passphrase_file, "tls-passphrase-file",
         "between nodes: a file whose first line opens an encrypted "
         "--tls-key (none)");
}

void tune_caf(caf::actor_system_config& cfg) {
  cfg.set("middleman.max-consecutive-reads", 1);
  // CAF's default of max(cores, 4) workers polling hard for work between
  // messages takes CPU from the hashers on a small machine: on 2 cores it
  // cost a quarter of the login rate (docs/benchmarks.md).
  auto cores = std::max(1u, std::thread::hardware_concurrency());
  cfg.set("scheduler.max-threads", static_cast<int64_t>(cores));
  cfg.set("work-stealing.aggressive-poll-attempts", 10);
  cfg.set("work-stealing.moderate-poll-attempts", 0);
  // Between nodes: without heartbeats CAF 0.17 never notices a peer that
  // hangs without closing its connection. Every 500 ms, and a peer silent
  // for 1.5 s is dropped, so that a gateway answers unavailable within 2 s
  // of losing its storage node (docs/deployment.md).
  cfg.set("middleman.heartbeat-interval",
          caf::timespan{std::chrono::milliseconds(500)});
  cfg.set("middleman.connection-timeout",
          caf::timespan{std::chrono::milliseconds(1500)});
}

} // namespace authnode
