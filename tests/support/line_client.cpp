#include "support/line_client.hpp"

#include <cerrno>
#include <stdexcept>
#include <string_view>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "support/secret_registry.hpp"

namespace authnode::test {

namespace {

/// A line longer than this (some tests send megabytes without a newline)
/// is not kept for the registry: no request of the protocol is that long.
constexpr size_t max_noted_line = 1 << 20;

} // namespace

line_client::line_client(uint16_t port, const std::string& from) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0)
    throw std::runtime_error("socket failed");
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (!from.empty()) {
    sockaddr_in local{};
    local.sin_family = AF_INET;
    inet_pton(AF_INET, from.c_str(), &local.sin_addr);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0)
      throw std::runtime_error("bind to " + from + " failed");
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
    throw std::runtime_error("connect failed");
}

line_client::~line_client() {
  if (fd_ >= 0)
    ::close(fd_);
}

void line_client::note_sent(const std::string& bytes) {
  size_t start = 0;
  for (auto nl = bytes.find('\n'); nl != std::string::npos;
       nl = bytes.find('\n', start)) {
    auto piece = std::string_view{bytes}.substr(start, nl - start);
    if (tail_dropped_) {
      tail_dropped_ = false; // the end of an overlong line
    } else if (unsent_tail_.empty()) {
      secret_registry::global().note_request_line(piece);
    } else {
      unsent_tail_ += piece;
      secret_registry::global().note_request_line(unsent_tail_);
    }
    unsent_tail_.clear();
    start = nl + 1;
  }
  if (tail_dropped_)
    return;
  if (unsent_tail_.size() + (bytes.size() - start) > max_noted_line) {
    unsent_tail_.clear();
    tail_dropped_ = true;
    return;
  }
  unsent_tail_.append(bytes, start);
}

void line_client::send_raw(const std::string& bytes) {
  note_sent(bytes);
  size_t off = 0;
  while (off < bytes.size()) {
    auto n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0)
      throw std::runtime_error("send failed");
    off += static_cast<size_t>(n);
  }
}

void line_client::send(const json& request) {
  send_raw(request.dump() + "\n");
}

void line_client::shutdown_write() {
  if (::shutdown(fd_, SHUT_WR) != 0)
    throw std::runtime_error("shutdown failed");
}

bool line_client::fill(std::chrono::milliseconds timeout) {
  if (eof_)
    return false;
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0)
    return false;
  char buf[65536];
  auto n = ::recv(fd_, buf, sizeof(buf), 0);
  if (n <= 0) {
    eof_ = true;
    reset_ = n < 0 && errno == ECONNRESET;
    return false;
  }
  buffer_.append(buf, static_cast<size_t>(n));
  return true;
}

std::optional<std::string>
line_client::read_line(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      auto line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      secret_registry::global().note_reply_line(line);
      return line;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !fill(left))
      return std::nullopt;
  }
}

json line_client::read(std::chrono::milliseconds timeout) {
  if (!stash_.empty()) {
    auto front = std::move(stash_.front());
    stash_.pop_front();
    return front;
  }
  auto line = read_line(timeout);
  if (!line)
    throw std::runtime_error("no reply in time");
  return json::parse(*line);
}

json line_client::read_reply(const json& id,
                             std::chrono::milliseconds timeout) {
  for (auto i = stash_.begin(); i != stash_.end(); ++i) {
    if (i->contains("id") && (*i)["id"] == id) {
      auto found = std::move(*i);
      stash_.erase(i);
      return found;
    }
  }
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    auto line = read_line(std::max(left, std::chrono::milliseconds{0}));
    if (!line)
      throw std::runtime_error("no reply with id " + id.dump() + " in time");
    auto reply = json::parse(*line);
    if (reply.contains("id") && reply["id"] == id)
      return reply;
    stash_.push_back(std::move(reply));
  }
}

json line_client::call(json request, std::chrono::milliseconds timeout) {
  if (!request.contains("id"))
    request["id"] = "c" + std::to_string(next_id_++);
  send(request);
  return read_reply(request["id"], timeout);
}

bool line_client::closed_by_peer(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!eof_) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      return false;
    fill(left);
  }
  return true;
}

} // namespace authnode::test
