#include "ctl/node_link.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace authnode::ctl {

namespace {

using clock_type = std::chrono::steady_clock;

int remaining_ms(clock_type::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
    deadline - clock_type::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

/// Connects without blocking past `deadline`; -1 and `error` on failure.
int connect_within(const addrinfo& ai, clock_type::time_point deadline,
                   std::string& error) {
  int fd = ::socket(ai.ai_family, ai.ai_socktype | SOCK_CLOEXEC,
                    ai.ai_protocol);
  if (fd < 0) {
    error = std::strerror(errno);
    return -1;
  }
  int flags = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  int rc = ::connect(fd, ai.ai_addr, ai.ai_addrlen);
  if (rc != 0 && errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    rc = ::poll(&p, 1, remaining_ms(deadline));
    if (rc == 0) {
      error = "timed out";
      ::close(fd);
      return -1;
    }
    int so_error = 0;
    socklen_t len = sizeof(so_error);
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
    errno = so_error;
    rc = so_error == 0 ? 0 : -1;
  }
  if (rc != 0) {
    error = std::strerror(errno);
    ::close(fd);
    return -1;
  }
  fcntl(fd, F_SETFL, flags);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

} // namespace

node_link::node_link(const std::string& host, uint16_t port,
                     std::chrono::milliseconds timeout, std::string admin_key)
  : timeout_(timeout), admin_key_(std::move(admin_key)) {
  peer_ = (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":"
    + std::to_string(port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  auto service = std::to_string(port);
  if (int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &found);
      rc != 0)
    throw link_error("cannot resolve " + host + ": " + gai_strerror(rc));
  auto deadline = clock_type::now() + timeout;
  std::string error = "no address";
  for (auto ai = found; ai != nullptr && fd_ < 0; ai = ai->ai_next)
    fd_ = connect_within(*ai, deadline, error);
  freeaddrinfo(found);
  if (fd_ < 0)
    throw link_error("cannot connect to " + peer_ + ": " + error);
}

node_link::~node_link() {
  if (fd_ >= 0)
    ::close(fd_);
}

int64_t node_link::send(json request) {
  auto id = next_id_++;
  request["id"] = id;
  if (!admin_key_.empty())
    request["admin_key"] = admin_key_;
  auto line = request.dump(-1, ' ', false, json::error_handler_t::replace);
  line += '\n';
  size_t sent = 0;
  while (sent < line.size()) {
    auto n = ::send(fd_, line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      throw link_error("connection to " + peer_
                       + " lost: " + std::strerror(errno));
    sent += static_cast<size_t>(n);
  }
  return id;
}

std::string node_link::read_line(clock_type::time_point deadline) {
  for (;;) {
    if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
      auto line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    pollfd p{fd_, POLLIN, 0};
    int rc = ::poll(&p, 1, remaining_ms(deadline));
    if (rc < 0 && errno == EINTR)
      continue;
    if (rc == 0)
      throw link_error("no reply from " + peer_ + " within "
                       + std::to_string(timeout_.count() / 1000) + " s");
    char chunk[65536];
    auto n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      throw link_error("connection to " + peer_ + " closed by the node");
    buffer_.append(chunk, static_cast<size_t>(n));
  }
}

json node_link::read_reply(int64_t id) {
  for (auto i = early_.begin(); i != early_.end(); ++i)
    if ((*i)["id"] == id) {
      auto reply = std::move(*i);
      early_.erase(i);
      return reply;
    }
  auto deadline = clock_type::now() + timeout_;
  for (;;) {
    auto line = read_line(deadline);
    auto reply = json::parse(line, nullptr, false);
    if (!reply.is_object() || !reply.contains("ok"))
      throw link_error("not a reply from " + peer_ + ": "
                       + line.substr(0, 200));
    // A reply to no request of ours (id null: a line the node could not
    // read) means the conversation is broken.
    if (!reply.contains("id") || !reply["id"].is_number_integer())
      throw link_error("the node could not read a request: "
                       + (reply.contains("error") && reply["error"].is_object()
                            ? reply["error"].value("message", std::string{"?"})
                            : std::string{"?"}));
    if (reply["id"] == id)
      return reply;
    early_.push_back(std::move(reply));
  }
}

} // namespace authnode::ctl
