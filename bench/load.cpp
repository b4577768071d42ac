#include "load.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <stdexcept>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace authnode::bench {

namespace {

using clock_type = std::chrono::steady_clock;

struct conn {
  int fd = -1;
  std::deque<clock_type::time_point> sent;
  std::string out;
  size_t scanned = 0;
  int lines = 0; ///< of the reply being read, complete ones
  std::string in;
};

void send_all(conn& c) {
  while (!c.out.empty()) {
    auto n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
    if (n <= 0)
      return; // EAGAIN: the rest goes with the next reply
    c.out.erase(0, static_cast<size_t>(n));
  }
}

} // namespace

double load_result::percentile(double p) const {
  if (latencies_us.empty())
    return 0;
  auto xs = latencies_us;
  auto k = static_cast<size_t>(p / 100.0 * (xs.size() - 1));
  std::nth_element(xs.begin(), xs.begin() + k, xs.end());
  return xs[k];
}

double median(std::vector<double> xs) {
  if (xs.empty())
    return 0;
  std::sort(xs.begin(), xs.end());
  return xs[xs.size() / 2];
}

long flag(int argc, char** argv, const char* name, long fallback) {
  auto len = std::strlen(name);
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], name, len) == 0 && argv[i][len] == '=')
      return std::atol(argv[i] + len + 1);
  return fallback;
}

int connect_to(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

int connect_from(uint16_t port, const std::string& from) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_in local{};
  local.sin_family = AF_INET;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (inet_pton(AF_INET, from.c_str(), &local.sin_addr) != 1
      || ::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0
      || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::string call(int fd, const std::string& line) {
  if (::send(fd, line.data(), line.size(), MSG_NOSIGNAL)
      != static_cast<ssize_t>(line.size()))
    throw std::runtime_error("send failed");
  std::string in;
  auto deadline = clock_type::now() + std::chrono::seconds(10);
  while (in.find('\n') == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - clock_type::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0)
      throw std::runtime_error("no reply in time");
    char buf[4096];
    auto n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0)
      throw std::runtime_error("connection closed");
    in.append(buf, static_cast<size_t>(n));
  }
  return in.substr(0, in.find('\n'));
}

long rss_kib(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  while (f >> key) {
    if (key == "VmRSS:") {
      long kib = -1;
      f >> kib;
      return kib;
    }
    f.ignore(1 << 20, '\n');
  }
  return -1;
}

load_result run_load(const load_spec& spec) {
  load_result result;
  std::vector<conn> conns(spec.connections);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  for (size_t i = 0; i < conns.size(); ++i) {
    auto& c = conns[i];
    c.fd = connect_to(spec.port);
    if (c.fd < 0)
      throw std::runtime_error("cannot connect");
    fcntl(c.fd, F_SETFL, O_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
  }
  result.latencies_us.reserve(1 << 20);
  auto start = clock_type::now();
  auto stop_at = start + spec.duration;
  for (auto& c : conns) {
    for (int k = 0; k < spec.depth; ++k) {
      c.out += spec.line;
      c.sent.push_back(clock_type::now());
    }
    send_all(c);
  }
  bool sending = true;
  uint64_t outstanding = conns.size() * static_cast<uint64_t>(spec.depth);
  epoll_event events[256];
  while (outstanding > 0) {
    auto now = clock_type::now();
    if (sending && (now >= stop_at || result.replies >= spec.max_replies))
      sending = false;
    // After the window, wait at most 10 s for the stragglers.
    if (!sending && now >= stop_at + std::chrono::seconds(10))
      break;
    int n = epoll_wait(ep, events, 256, 100);
    for (int e = 0; e < n; ++e) {
      auto& c = conns[events[e].data.u64];
      char buf[65536];
      auto got = ::recv(c.fd, buf, sizeof(buf), 0);
      if (got <= 0)
        continue;
      c.in.append(buf, static_cast<size_t>(got));
      size_t pos;
      auto t = clock_type::now();
      while ((pos = c.in.find('\n', c.scanned)) != std::string::npos) {
        if (++c.lines < spec.lines_per_reply) {
          c.scanned = pos + 1;
          continue;
        }
        c.lines = 0;
        std::string_view reply{c.in.data(), pos};
        if (t <= stop_at) {
          ++result.replies;
          if (spec.success_marker.empty()
              || reply.find(spec.success_marker) != std::string_view::npos)
            ++result.successes;
          if (!c.sent.empty())
            result.latencies_us.push_back(
              std::chrono::duration<double, std::micro>(t - c.sent.front())
                .count());
        }
        if (!c.sent.empty())
          c.sent.pop_front();
        --outstanding;
        c.in.erase(0, pos + 1);
        c.scanned = 0;
        if (sending) {
          c.out += spec.line;
          c.sent.push_back(t);
          ++outstanding;
        }
      }
      c.scanned = c.in.size();
      send_all(c);
    }
  }
  auto end = std::min(clock_type::now(), stop_at);
  result.seconds = std::chrono::duration<double>(end - start).count();
  for (auto& c : conns)
    ::close(c.fd);
  ::close(ep);
  return result;
}

} // namespace authnode::bench
