// A raw-socket HTTP client for the /metrics tests: writes bytes exactly as
// given (so tests can send garbage or a head in pieces) and reads until the
// node closes, every wait bounded. Header-only: small, and used by the
// metrics tests alone.
#pragma once

#include <chrono>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "support/node_process.hpp"

namespace authnode::test {

/// The metrics port the node logged ("metrics at http://HOST:PORT/metrics"),
/// or nothing if it serves none.
inline std::optional<uint16_t> metrics_port(const node_process& node) {
  static const std::regex at{"metrics at http://[^ ]*:([0-9]+)/metrics"};
  std::smatch m;
  auto text = node.log();
  if (!std::regex_search(text, m, at))
    return std::nullopt;
  return static_cast<uint16_t>(std::stoi(m[1]));
}

class http_socket {
public:
  explicit http_socket(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0)
      throw std::runtime_error("socket failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      ::close(fd_);
      throw std::runtime_error("connect failed");
    }
  }
  ~http_socket() {
    ::close(fd_);
  }
  http_socket(const http_socket&) = delete;

  /// False if the peer has closed (the write failed).
  bool send(const std::string& bytes) {
    size_t off = 0;
    while (off < bytes.size()) {
      auto n = ::send(fd_, bytes.data() + off, bytes.size() - off,
                      MSG_NOSIGNAL);
      if (n <= 0)
        return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }

  /// Everything until the peer closes; nothing if it has not closed within
  /// `limit` (what was read so far is then in `partial`).
  std::optional<std::string> read_to_close(std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0)
        return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0)
        return std::nullopt;
      char buf[16384];
      auto n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0)
        return partial; // closed (or reset after we were answered)
      partial.append(buf, static_cast<size_t>(n));
    }
  }

  std::string partial;

private:
  int fd_ = -1;
};

struct http_reply {
  int status = 0;
  std::string head; // status line and headers
  std::string body;
};

inline http_reply parse_http_reply(const std::string& raw) {
  http_reply r;
  auto end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.1 ", 0) != 0 || end == std::string::npos)
    throw std::runtime_error("not an HTTP response: " + raw.substr(0, 200));
  r.status = std::stoi(raw.substr(9, 3));
  r.head = raw.substr(0, end + 2);
  r.body = raw.substr(end + 4);
  return r;
}

/// Sends `request` on a new connection and returns the response; throws if
/// the node does not answer and close within `limit`.
inline http_reply http_exchange(uint16_t port, const std::string& request,
                                std::chrono::milliseconds limit
                                = std::chrono::seconds(10)) {
  http_socket s{port};
  s.send(request);
  auto raw = s.read_to_close(limit);
  if (!raw)
    throw std::runtime_error("no complete HTTP response within the limit: "
                             + s.partial.substr(0, 200));
  return parse_http_reply(*raw);
}

inline http_reply scrape(uint16_t port) {
  return http_exchange(port,
                       "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
}

} // namespace authnode::test
