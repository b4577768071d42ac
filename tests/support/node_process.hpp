// Starts the real authnode binary for end-to-end tests: a fresh database in
// a temporary directory, an ephemeral port read back from the log, and the
// whole stderr kept so tests can look at what the node logged. When the node
// is gone, its log is checked for sanitizer reports and for the secrets the
// tests sent or received.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <sys/types.h>

#include "support/secret_registry.hpp"
#include "support/temp_dir.hpp"

namespace authnode::test {

/// Options every end-to-end test wants: the cheapest argon2 cost and a short
/// failure delay, so the suite stays quick.
std::vector<std::string> fast_options();

/// The secrets of `secrets` that a node's `log` holds, first one first.
/// Where a test used one of the node's own words (such as the audit reason
/// "wrong password") as a password, that word in an audit line is not
/// counted: it is chance, not a leak.
std::vector<secret_registry::leak> secrets_in_log(const std::string& log,
                                                  const secret_registry& secrets
                                                  = secret_registry::global());

/// How a node that was expected to stop by itself ended.
struct exit_result {
  /// The exit status, or -1 when it was killed (by a signal, or by us after
  /// `limit`).
  int status = -1;
  /// stdout and stderr together.
  std::string output;
};

/// Runs `AUTHNODE_BINARY <args...>` until it exits, at most `limit`: for
/// tests of how the node refuses to start.
exit_result run_node_to_exit(const std::vector<std::string>& args,
                             std::chrono::milliseconds limit
                             = std::chrono::seconds(20));

class node_process {
public:
  /// Starts `AUTHNODE_BINARY --port=0 --db=<dir>/auth.db <args...>` and waits
  /// (bounded) until it listens. `db_dir` empty: a new temporary directory.
  /// With a --db in `args` (a PostgreSQL database), that one instead, and
  /// the admin key still in <dir>/auth.db.admin-key.
  explicit node_process(std::vector<std::string> args = fast_options(),
                        std::string db_dir = {});
  ~node_process();
  node_process(const node_process&) = delete;

  /// The client port, or for a storage or hasher node (--role) its node
  /// port.
  uint16_t port() const {
    return port_;
  }
  /// The admin channel's port (the node is started with --admin-port=0).
  uint16_t admin_port() const {
    return admin_port_;
  }
  /// The admin key, read from the node's key file.
  std::string admin_key() const;
  const std::string& db_dir() const {
    return db_dir_;
  }
  pid_t pid() const {
    return pid_;
  }
  bool running() const {
    return pid_ > 0;
  }

  /// Sends SIGTERM and waits up to `limit`; returns the exit status, or -1
  /// (then the node has been killed).
  int stop(std::chrono::milliseconds limit = std::chrono::seconds(30));
  /// SIGKILL, as a crash would.
  void kill_hard();

  /// Everything the node wrote to stderr so far.
  std::string log() const;

  /// Waits (at most `limit`) until `text` has appeared `times` times in the
  /// log; false if it has not by then.
  bool wait_for_log(const std::string& text, size_t times = 1,
                    std::chrono::milliseconds limit
                    = std::chrono::seconds(10)) const;

  /// Threads of the node process right now (/proc/PID/task).
  size_t thread_count() const;

private:
  void read_stderr(int fd);
  /// Fails the running test if the node's log holds a sanitizer report.
  void check_sanitizer_report();
  /// Fails the running test if the node's log holds a secret the tests used
  /// (support/secret_registry.hpp), naming its kind, never the secret.
  void check_secrets();
  /// Removes the database directory if this object made it.
  void remove_own_dir();

  pid_t pid_ = -1;
  uint16_t port_ = 0;
  uint16_t admin_port_ = 0;
  std::string db_dir_;
  bool own_dir_ = false;
  bool report_checked_ = false;
  bool secret_reported_ = false;
  mutable std::mutex mtx_;
  std::string log_;
  std::thread reader_;
};

} // namespace authnode::test
