// Every option of the node in one struct: defaults here, help text and names
// in node_config.cpp, checks in validate(). The rest of the code receives
// these plain values and never looks an option up by string.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <caf/timestamp.hpp>

namespace authnode {

struct node_options {
  std::string host = "127.0.0.1";
  uint16_t port = 7411;
  std::string db = "authnode.db";
  caf::timespan failure_delay = std::chrono::seconds(2);
  uint64_t hash_ops = 2;        // crypto_pwhash_OPSLIMIT_INTERACTIVE
  uint64_t hash_mem = 67108864; // crypto_pwhash_MEMLIMIT_INTERACTIVE (bytes)
  int32_t hashers = -1;         // -1: one per hardware thread
  caf::timespan session_ttl = std::chrono::hours(24);
  uint64_t max_line = 65536;
  uint32_t max_connections = 10000;
  uint32_t max_in_flight = 8;
  /// A connection with nothing pending that completes no line for this long
  /// is closed; 0 turns it off.
  caf::timespan idle_timeout = std::chrono::seconds(60);
  uint32_t min_password = 8;
  uint64_t session_cache = 65536;
  caf::timespan backend_timeout = std::chrono::seconds(10);
  /// "on" or "off" (a word: CAF 0.17 rejects --flag=false on the CLI).
  std::string throttle = "on";
  caf::timespan max_penalty = std::chrono::seconds(60);
  caf::timespan failure_window = std::chrono::minutes(15);
  uint64_t max_pending = 10000;
  uint64_t max_pending_per_source = 16;
  uint32_t register_rate = 10;
  uint64_t max_hash_queue = 256;
  /// Comma-separated CIDR ranges whose requests may carry client_addr.
  std::string trusted_sources;
  /// The least severe event logged: debug, info, warning or error.
  std::string log_level = "info";
  /// "text" (for people) or "json" (one object per line, for shippers).
  std::string log_format = "text";
  /// Where login outcomes go: "stderr", a file path, or "off".
  std::string audit = "stderr";
  /// The admin channel: its own listener, never the public one.
  std::string admin_host = "127.0.0.1";
  uint16_t admin_port = 7412;
  /// Empty: default_admin_key_path(db).
  std::string admin_key_file;

  /// Pages an online backup (admin op backup) copies before the database
  /// serves other requests again.
  uint32_t backup_step_pages = 256;

  /// Where GET /metrics is served.
  std::string metrics_host = "127.0.0.1";
  /// -1 (the default): no metrics listener; 0: a free port, logged at
  /// start; otherwise that port. Signed so that "off" needs no second
  /// option and 0 can mean "pick one" as it does for --port.
  int32_t metrics_port = -1;

  /// What this process is (docs/deployment.md): "all" (everything, one
  /// process), "storage" (the database and the throttle, for gateways),
  /// "hasher" (hashers for gateways) or "gateway" (clients, using the
  /// others).
  std::string role = "all";
  /// Where a storage or hasher node publishes its actors for other nodes.
  std::string node_host = "127.0.0.1";
  uint16_t node_port = 7414;
  /// A gateway's storage node, HOST:PORT.
  std::string storage;
  /// A gateway's hasher nodes, comma-separated HOST:PORT.
  std::string hasher_nodes;
  /// Lets a node port listen on an address other than loopback without
  /// TLS. Anyone who can connect to a node port can send its actors
  /// anything: off unless the operator says so.
  bool allow_plaintext_nodes = false;
  /// TLS between nodes, with mutual certificate authentication: all three
  /// or none (docs/deployment.md).
  std::string tls_cert;
  std::string tls_key;
  std::string tls_ca;
  /// A file whose first line opens an encrypted --tls-key.
  std::string tls_passphrase_file;

  bool tls() const {
    return !tls_cert.empty();
  }

  bool throttling() const {
    return throttle == "on";
  }

  /// The admin key file to use: `admin_key_file` or the default.
  std::string admin_key_path() const;

  bool metrics() const {
    return metrics_port >= 0;
  }

  /// The number of hasher actors to run: `hashers`, or the core count.
  uint32_t hasher_count() const;

  bool is(const char* r) const {
    return role == r;
  }

  /// Serves clients: roles all and gateway.
  bool serves_clients() const {
    return is("all") || is("gateway");
  }
};

/// A HOST:PORT of --storage or --hasher-nodes.
struct node_address {
  std::string host;
  uint16_t port = 0;
};

/// 127.0.0.0/8, ::1 or localhost.
bool is_loopback_host(const std::string& host);

/// Parses "HOST:PORT[,HOST:PORT...]"; nullopt (and `bad` set to the
/// offending item) if one is not of that form. IPv6 hosts go in brackets.
std::optional<std::vector<node_address>>
parse_node_addresses(const std::string& text, std::string& bad);

/// Empty when the options are usable, otherwise one line that names the
/// offending option, e.g. "--port: must be ...".
std::string validate(const node_options& opts);

} // namespace authnode
