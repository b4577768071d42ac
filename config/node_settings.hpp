// The node's settings after resolve(): the options checked once and in the
// types the node works with, a role, address ranges, node addresses, log
// level and format, an optional metrics port, so that nothing after start
// parses an option again or compares it as a string. Options used as they
// are come from config/options.def with their node_options field names;
// the parsed ones are declared here.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <caf/timespan.hpp>

#include "config/node_role.hpp"
#include "config/options.hpp"
#include "core/cidr.hpp"
#include "core/log.hpp"
#include "core/webauthn.hpp"

namespace authnode {

/// A HOST:PORT of --storage or --hasher-nodes.
struct node_address {
  std::string host;
  uint16_t port = 0;
  /// As the operator wrote it, for log lines.
  std::string text;
};

struct node_settings {
#define AUTHNODE_OPTION(type, field, name, fallback, help)                     \
  type field = fallback;
#define AUTHNODE_PARSED_OPTION(...)
#include "config/options.def"

  /// Hasher actors to run: --hashers, or one per hardware thread for -1.
  uint32_t hashers = 1;
  /// --throttle=on: penalties per source and account.
  bool throttle = true;
  /// --trusted-sources: peers whose requests may carry client_addr.
  std::vector<cidr> trusted_sources;
  /// --password-context-words, split on commas.
  std::vector<std::string> password_context_words;
  authnode::log_level log_level = authnode::log_level::info;
  authnode::log_format log_format = authnode::log_format::text;
  /// --audit: "stderr" or a file path; nothing for off.
  std::optional<std::string> audit = std::string{"stderr"};
  /// --admin-key-file, or the default beside the database.
  std::string admin_key_path;
  /// --metrics-port; nothing: no metrics listener.
  std::optional<uint16_t> metrics_port;
  node_role role = node_role::all;
  /// Gateway: its storage node.
  std::optional<node_address> storage;
  /// Gateway: hasher nodes besides its own hashers.
  std::vector<node_address> hasher_nodes;
  /// --node-host is a loopback address.
  bool node_host_loopback = true;
  /// --verify-email resolved: register mails a verification code.
  bool verify_email = false;
  /// --secret-key-file, or the default beside the database.
  std::string secret_key_path;
  /// --webauthn-rp-id, --webauthn-origins (default https://<rp id>) and
  /// --webauthn-user-verification; rp_id empty: passkeys off.
  webauthn_policy webauthn;

  /// --smtp-url given: the storage node sends mail.
  bool mail() const {
    return !smtp_url.empty();
  }

  /// TLS between nodes (all three files given).
  bool tls() const {
    return !tls_cert.empty();
  }

  /// Serves clients (and the admin channel): roles all and gateway.
  bool serves_clients() const {
    return role == node_role::all || role == node_role::gateway;
  }

  /// Owns the database: roles all and storage.
  bool owns_database() const {
    return role == node_role::all || role == node_role::storage;
  }
};

/// 127.0.0.0/8, ::1 or localhost.
bool is_loopback_host(const std::string& host);

/// Parses "HOST:PORT[,HOST:PORT...]"; nullopt (and `bad` set to the
/// offending item) if one is not of that form. IPv6 hosts go in brackets.
std::optional<std::vector<node_address>>
parse_node_addresses(const std::string& text, std::string& bad);

/// The settings the options stand for; nothing if they are not usable, with
/// one line in `problem` that names the offending option, e.g. "--port:
/// must be ...". Only the first problem found is named.
std::optional<node_settings> resolve(const node_options& opts,
                                     std::string& problem);

} // namespace authnode
