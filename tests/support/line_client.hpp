// A blocking client of the line protocol for tests: connects over TCP
// (optionally from a chosen loopback address), sends JSON lines and reads
// replies, with every wait bounded. Every line it sends or reads goes past
// the secret registry (support/secret_registry.hpp), so that the node's log
// can be checked for the secrets the tests used.
#pragma once

#include <chrono>
#include <deque>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace authnode::test {

using json = nlohmann::json;
using namespace std::chrono_literals;

class line_client {
public:
  /// Connects to 127.0.0.1:`port`; `from` picks the local address.
  explicit line_client(uint16_t port, const std::string& from = {});
  ~line_client();
  line_client(const line_client&) = delete;

  /// Writes raw bytes as they are.
  void send_raw(const std::string& bytes);
  void send(const json& request);
  /// shutdown(SHUT_WR): the node sees the end of input (a half-close, as
  /// `nc -N` does); replies can still be read.
  void shutdown_write();

  /// The next reply line, or nothing after `timeout` (or when closed).
  std::optional<std::string> read_line(std::chrono::milliseconds timeout = 10s);
  /// The next reply, parsed; throws on timeout.
  json read(std::chrono::milliseconds timeout = 10s);
  /// The reply whose id is `id`, keeping others for later reads.
  json read_reply(const json& id, std::chrono::milliseconds timeout = 10s);

  /// Sends `request` (given an id if it has none) and returns its reply.
  json call(json request, std::chrono::milliseconds timeout = 10s);

  /// True once the server has closed the connection (waits up to timeout).
  bool closed_by_peer(std::chrono::milliseconds timeout = 5s);
  /// After the close: true if it was a reset (ECONNRESET), not a FIN.
  bool reset_by_peer() const {
    return reset_;
  }
  /// Bytes received after the last '\n' and not yet read: after the close,
  /// a half-written line.
  const std::string& unterminated() const {
    return buffer_;
  }

private:
  bool fill(std::chrono::milliseconds timeout);
  /// Hands the complete lines among the bytes sent so far to the registry.
  void note_sent(const std::string& bytes);

  int fd_ = -1;
  std::string buffer_;
  /// Bytes sent after the last '\n': a line that send_raw writes in pieces.
  std::string unsent_tail_;
  /// The line being sent is longer than the registry looks at.
  bool tail_dropped_ = false;
  std::deque<json> stash_;
  bool eof_ = false;
  bool reset_ = false;
  int64_t next_id_ = 1;
};

} // namespace authnode::test
