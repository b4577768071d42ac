// The audit actor: one JSON line per login outcome, for people and for
// fail2ban (deploy/fail2ban/). Detached, because it writes to a file or to
// stderr, and a slow disk or a full pipe must not stall a scheduler thread.
//
// A line never holds a password or a token: events carry only the time,
// the op, the outcome, the source address, the account (email) and a reason.
#pragma once

#include <string>

#include "actors/interfaces.hpp"

namespace authnode {

struct audit_state {
  int fd = -1;
  bool own_fd = false;
  ~audit_state();
  static inline const char* name = "audit";
};

/// Opens the sink: "" or "stderr" for standard error, else a file path
/// (appended to, created with mode 0600). Returns -1 and sets `error` when
/// the file cannot be opened.
int open_audit_sink(const std::string& path, std::string& error);

/// Writes to `fd`, which it owns unless it is stderr.
audit_actor::behavior_type
audit(audit_actor::stateful_pointer<audit_state> self, int fd);

/// The line written for an event, with its newline.
std::string audit_line(const audit_event& e);

} // namespace authnode
