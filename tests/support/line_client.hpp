// A blocking client of the line protocol for tests: connects over TCP
// (optionally from a chosen loopback address), sends JSON lines and reads
// replies, with every wait bounded.
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

private:
  bool fill(std::chrono::milliseconds timeout);

  int fd_ = -1;
  std::string buffer_;
  std::deque<json> stash_;
  bool eof_ = false;
  int64_t next_id_ = 1;
};

} // namespace authnode::test
