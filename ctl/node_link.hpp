// authctl's connection to a node: one TCP connection speaking the line-JSON
// protocol (docs/protocol.md), blocking, since authctl is a short-lived
// command and not an actor. Replies are matched by the ids it numbers; on
// the admin port every request carries the admin key.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace authnode::ctl {

using nlohmann::json;

/// The node cannot be reached, closed the connection, sent something that
/// is not a reply, or did not answer in time (exit code 3).
struct link_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class node_link {
public:
  /// Connects to host:port (a name or an address, IPv4 or IPv6) within
  /// `timeout`. `admin_key` empty: the public port.
  node_link(const std::string& host, uint16_t port,
            std::chrono::milliseconds timeout, std::string admin_key = {});
  ~node_link();
  node_link(const node_link&) = delete;
  node_link& operator=(const node_link&) = delete;

  /// Sends `request` with a fresh id (and the key) and returns that id.
  int64_t send(json request);

  /// The reply to `id`, waiting at most the timeout for it. Replies to
  /// other ids that arrive first are kept for their own read.
  json read_reply(int64_t id);

  /// send() then read_reply().
  json call(json request) {
    return read_reply(send(std::move(request)));
  }

  void set_timeout(std::chrono::milliseconds timeout) {
    timeout_ = timeout;
  }

  /// "host:port", for messages.
  const std::string& peer() const {
    return peer_;
  }

private:
  /// The next complete line, waiting until `deadline`.
  std::string read_line(std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  std::chrono::milliseconds timeout_;
  std::string admin_key_;
  std::string peer_;
  int64_t next_id_ = 1;
  std::string buffer_;
  std::deque<json> early_;
};

} // namespace authnode::ctl
