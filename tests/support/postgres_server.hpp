// A PostgreSQL server of a test's own (issue 17): Debian's postgresql 15,
// initdb'd in a temporary directory and listening on a free loopback port
// only, stopped and removed with the object.
//
// initdb and postgres refuse to run as root, and CI runs as root: then both
// run as the `postgres` user that Debian's package makes (runuser), in a
// directory handed to that user. Run as anyone else, they run as the test
// does. Trust authentication on loopback and fsync off: the server lives
// for one test, and a killed server process (not a crashed machine) loses
// nothing that was committed, fsync or not.
//
// For failover tests, a primary can require a synchronous standby, and a
// standby is made from a primary's base backup (pg_basebackup -R): the
// primary acknowledges a commit only once the standby has it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "support/temp_dir.hpp"

namespace authnode::test {

class postgres_server {
public:
  /// Starts the server and waits (bounded) until it accepts connections;
  /// throws std::runtime_error, with its log, if it does not. With
  /// `synchronous`, every commit waits for a streaming standby.
  explicit postgres_server(bool synchronous = false);

  /// A streaming standby of `primary`, started from its base backup.
  struct standby_of {
    const postgres_server& primary;
  };
  explicit postgres_server(standby_of of);

  ~postgres_server();
  postgres_server(const postgres_server&) = delete;

  /// Kills the server and every backend of it with SIGKILL, as a lost
  /// machine would stop it.
  void kill();

  /// Promotes a standby to a primary; waits (bounded) until it accepts
  /// writes. Throws if it does not.
  void promote();

  uint16_t port() const {
    return port_;
  }

  /// A libpq URI for `database` as the server's superuser "authnode".
  std::string uri(const std::string& database = "postgres") const;

  /// The server's log so far.
  std::string log() const;

private:
  /// Runs a PostgreSQL program (as `postgres` when we are root); its exit
  /// status.
  int run(const std::string& program, const std::vector<std::string>& args,
          std::string* output = nullptr) const;

  /// Hands the directory to postgres when we are root.
  void own_directory();
  /// Starts the server on data_ at a free port, with `options` added.
  void start(const std::string& options);

  temp_dir dir_;
  std::string data_;
  uint16_t port_ = 0;
  bool started_ = false;
};

} // namespace authnode::test
