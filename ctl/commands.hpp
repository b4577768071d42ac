// authctl's commands, one function each: they talk to the node, print for
// people (or JSON with --json) and return an exit code (command_support).
// apps/authctl.cpp maps the command line onto them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "ctl/command_support.hpp"
#include "ctl/import_file.hpp"

namespace authnode::ctl {

// -- public port (public_commands.cpp) ----------------------------------------

int cmd_ping(const ctl_options& opts);
/// Logs in with a password asked for (or read from a pipe); the session is
/// ended again unless `keep_session`, which prints its token.
int cmd_login(const ctl_options& opts, const std::string& email,
              bool keep_session);

// -- admin port: users and sessions (user_commands.cpp) -----------------------

int cmd_user_list(const ctl_options& opts, const std::string& prefix,
                  int64_t limit, bool all);
int cmd_user_show(const ctl_options& opts, const std::string& email);
int cmd_user_add(const ctl_options& opts, const std::string& email,
                 const std::string& name);
int cmd_user_passwd(const ctl_options& opts, const std::string& email);
int cmd_user_disable(const ctl_options& opts, const std::string& email,
                     bool disable);
int cmd_user_delete(const ctl_options& opts, const std::string& email,
                    bool confirmed);
/// `verified` false: the address counts as unproven again.
int cmd_user_mfa_reset(const ctl_options& opts, const std::string& email);
/// Deletes one passkey (its id as `user show` lists it).
int cmd_user_passkey_delete(const ctl_options& opts, const std::string& email,
                            const std::string& id);
int cmd_user_verify(const ctl_options& opts, const std::string& email,
                    bool verified);
int cmd_sessions_list(const ctl_options& opts, const std::string& email);
/// `session_id` nullopt: every session of the user.
int cmd_sessions_revoke(const ctl_options& opts, const std::string& email,
                        std::optional<int64_t> session_id);

// -- admin port: the node (node_commands.cpp) ---------------------------------

int cmd_stats(const ctl_options& opts);
/// Exactly one of `source` and `account` is non-empty. `kind`: the guesses
/// whose key it is ("password", "recovery", "code", "totp"; empty: the
/// node's default, password).
int cmd_throttle(const ctl_options& opts, const std::string& source,
                 const std::string& account, const std::string& kind,
                 bool reset);
int cmd_backup(const ctl_options& opts, const std::string& path);
/// The outbox: mails waiting, the oldest one's age, most attempts, the
/// last error (never an address, body or code).
int cmd_mail_outbox(const ctl_options& opts);

/// `breached reload`: the node's hashers map the index again; 1 (refused)
/// when the new file was bad and the old one stays.
int cmd_breached_reload(const ctl_options& opts);

// -- admin port: import (import_command.cpp)
// -----------------------------------

struct import_args {
  std::string path;
  /// nullopt: from the file's extension.
  std::optional<import_format> format;
  bool update = false;
  /// Users per batch (one transaction each), at most 1000.
  size_t batch_size = 500;
  /// A batch's request line stays below this many bytes, to fit the
  /// admin port's line limit (1 MiB, or --max-line if larger).
  size_t batch_bytes = 512 * 1024;
  /// -1: when stderr is a terminal.
  int progress = -1;
};

int cmd_import(const ctl_options& opts, const import_args& args);

// -- offline: the breached-password index (breached_command.cpp) -------------

struct breached_build_args {
  std::string corpus;
  std::string out;
  /// Accept the corpus in any order (an external sort next to `out`).
  bool sort = false;
  /// With `sort`: memory for the entries being sorted, in MiB.
  size_t sort_memory_mb = 256;
  /// -1: when stderr is a terminal.
  int progress = -1;
};

/// Builds the index from a Pwned Passwords text file; talks to no node.
int cmd_breached_build(const ctl_options& opts,
                       const breached_build_args& args);

// -- offline: SQLite to PostgreSQL (migrate_command.cpp) ---------------------

struct migrate_args {
  std::string from;
  std::string to;
  /// Rows per batch, one transaction each.
  size_t batch_size = 500;
  /// -1: when stderr is a terminal.
  int progress = -1;
};

/// Copies the node's SQLite database into PostgreSQL; talks to no node.
/// exit_partial when a table's counts differ at the end.
int cmd_migrate(const ctl_options& opts, const migrate_args& args);

} // namespace authnode::ctl
