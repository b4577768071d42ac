// What every authctl command shares: where the node is, how to reach its
// two ports, how a reply becomes output and an exit code.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "ctl/node_link.hpp"

namespace authnode::ctl {

/// authctl's exit codes (docs/operations.md, "authctl").
enum exit_code : int {
  exit_ok = 0,
  /// The node answered with an error (no_such_user, invalid_credentials…).
  exit_refused = 1,
  /// Bad usage: arguments, a file that cannot be read, no password given.
  exit_usage = 2,
  /// The node cannot be reached, or the connection broke or timed out.
  exit_unreachable = 3,
  /// The admin key file cannot be read, or the node refused the key.
  exit_forbidden = 4,
  /// import: done, but some rows were rejected.
  exit_partial = 5,
};

struct ctl_options {
  std::string host = "127.0.0.1";
  uint16_t port = 7411;
  std::string admin_host = "127.0.0.1";
  uint16_t admin_port = 7412;
  std::string key_file = "authnode.db.admin-key";
  /// Seconds to wait for a connection or a reply; 0: the command's own
  /// default.
  double timeout = 0;
  bool json = false;

  std::chrono::milliseconds
  timeout_or(std::chrono::milliseconds fallback) const;
};

/// A link to the admin port with the key from the key file. Throws
/// key_file_error or link_error.
std::unique_ptr<node_link> admin_link(const ctl_options& opts,
                                      std::chrono::milliseconds fallback
                                      = std::chrono::seconds(30));

/// A link to the public port.
std::unique_ptr<node_link> public_link(const ctl_options& opts);

struct key_file_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// The admin key in `path` (one line), or key_file_error.
std::string read_admin_key(const std::string& path);

/// For a failed reply: prints "authctl: CODE: message" (or the reply with
/// --json) and returns the exit code for it.
int report_failure(const ctl_options& opts, const nlohmann::json& reply);

/// For a successful reply with nothing to show: "ok" (or the reply).
int report_done(const ctl_options& opts, const nlohmann::json& reply,
                const std::string& what);

/// The reply as one line of JSON on stdout, for --json.
void print_json(const nlohmann::json& value);

bool succeeded(const nlohmann::json& reply);

} // namespace authnode::ctl
