// Throttling under attack (issue 3): four attacks on a running node, what
// each costs the attacker in password verifications, and what it costs the
// legitimate users in login latency and success. Start the node with the
// default hash cost and throttling, and a high --register-rate for the
// set-up (bench/run.sh attack does this), then:
//
//   attack --port=N [--pid=N] [--seconds=60] [--scenario=0..4]
//          [--failure-delay-ms=2000] [--max-penalty-ms=60000]
//
// --failure-delay-ms and --max-penalty-ms must match the node's options:
// they only feed the expected schedule printed next to the measured count.
// --pid adds the node's CPU use. Further knobs, defaults shown:
// --depth=8 (guesses in flight per attacking connection),
// --conns-per-source=2 (scenarios 3 and 4), --think-ms=250 (pause between a
// user's logins), --owner-without-device=1 (0 leaves user b out),
// --replace-frozen-ms=3000 (0: never), --capacity-seconds=5, and --ops and
// --mem for the capacity measurement (must match --hash-ops/--hash-mem).
//
// Scenarios, each for --seconds (0 runs all four, one after another):
//   1  one source, 50 connections pipelining guesses at one account
//   2  one source spraying 1,000 accounts
//   3  200 sources (a few connections each) guessing one account
//   4  200 sources spraying 1,000 accounts
// Meanwhile three legitimate users log in one login at a time, with a pause
// between logins, from addresses of their own: (a) the victim's owner with
// the device token of an earlier login, (b) the victim's owner without one
// (a new device), (c) a bystander account. In 2 and 4 the victim is one of
// the sprayed accounts. Their unloaded figures are taken the same way,
// before any attack.
//
// Decisions a reader would question:
// - Addresses. Scenario N attacks from 127.0.N.2 (up to 127.0.N.201), not
//   from 127.0.0.x in every scenario: failures are remembered for
//   failure-window (15 min), so a source or account reused by the next
//   scenario would start it penalized. Each scenario has its own sources,
//   victim and sprayed accounts, and before the next one starts the bench
//   waits (bounded) until the node holds no attempt and queues no hash.
// - Attacker verifications come from the node's counter
//   (hash_verifications_total, before and after) minus the legitimate
//   users' logins that were verified (success or invalid_credentials). The
//   node counts a verification once it has run (a login answered `busy` by
//   the full hash queue is not counted). The "after" reading is taken once
//   the legitimate users have their last reply (at least 0.5 s after the
//   window). Attempts the node still holds or queues then are verified
//   later, after the attacker has gone; they are printed as the tail, not
//   counted.
// - The expected count is computed here from the rule of actors/throttle.cpp,
//   not taken from it: under continuous pressure a key gets two
//   verifications at once (its slots), both fail, and the next two start
//   when failure-delay * 2^(failures-1), capped at max-penalty, has passed
//   since the second failure. So rounds of 2 start at 0, 4 s, 20 s, then
//   every 60 s (defaults). In 1 both keys follow it; in 2 the source limits,
//   in 3 the account; in 4 each of 200 sources follows it, which asks for
//   more than the CPU can do, so there the measured count is set against the
//   CPU's capacity (raw crypto_pwhash_str_verify rate measured first).
// - Attackers pipeline 8 guesses per connection (--depth), the node's
//   max-in-flight: the most a connection may have worked on at once.
//   Connections that go quiet with guesses out are replaced all the same
//   (--replace-frozen-ms), and counted: an attack that starved itself would
//   flatter the node.
// - Latencies are those of successful logins (the time a user waits to get
//   in); refused logins show in the success rate, not in p50/p99.
// - The attacker is a client in this process, on the same cores as the
//   node: its own CPU use is printed with each scenario.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <sodium.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "load.hpp"

using namespace authnode::bench;

namespace {

using clock_type = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr int sprayed_accounts = 1000;
constexpr int many_sources = 200;
constexpr int owner_max_logins = 10000;
const std::string good_password = "correct horse battery";

struct options {
  uint16_t port = 0;
  int pid = 0;
  int seconds = 60;
  int scenario = 0;
  double failure_delay = 2.0; // seconds
  double max_penalty = 60.0;  // seconds
  int think_ms = 250;
  int depth = 8;
  int conns_per_source = 2;
  int capacity_seconds = 5;
  /// 0 leaves out user (b): it competes with the attacker for the account's
  /// verification slots, and its successes clear the account's failures.
  bool owner_without_device = true;
  /// Replace an attacker connection silent this long with guesses out; 0:
  /// never (see class attacker).
  long frozen_after_ms = 3000;
  /// Not a flag: a session for the whoami probe, taken in the set-up.
  std::string probe_token;
  unsigned long long ops = 2;
  size_t mem = 67108864;
};

double since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

// -- replies ------------------------------------------------------------------

/// The string member `name` of a reply (tokens and codes have no escapes).
std::string string_member(const std::string& reply, const char* name) {
  auto key = std::string{"\""} + name + "\":\"";
  auto at = reply.find(key);
  if (at == std::string::npos)
    return {};
  at += key.size();
  return reply.substr(at, reply.find('"', at) - at);
}

long number_member(const std::string& reply, const char* name) {
  auto key = std::string{"\""} + name + "\":";
  auto at = reply.find(key);
  return at == std::string::npos ? -1
                                 : std::atol(reply.c_str() + at + key.size());
}

/// "ok" or the error code.
std::string outcome(std::string_view reply) {
  if (reply.find("\"ok\":true") != std::string_view::npos)
    return "ok";
  return string_member(std::string{reply}, "code");
}

std::string login_line(uint64_t id, const std::string& email,
                       const std::string& password,
                       const std::string& device = {}) {
  auto line = "{\"id\":" + std::to_string(id) + ",\"op\":\"login\",\"email\":\""
    + email + "\",\"password\":\"" + password + "\"";
  if (!device.empty())
    line += ",\"device_token\":\"" + device + "\"";
  return line + "}\n";
}

// -- a blocking connection ----------------------------------------------------

/// One connection from a given local address, read line by line.
class line_conn {
public:
  line_conn(uint16_t port, const std::string& from)
    : fd_(connect_from(port, from)) {
    if (fd_ < 0)
      throw std::runtime_error("cannot connect from " + from);
  }
  ~line_conn() {
    ::close(fd_);
  }
  line_conn(const line_conn&) = delete;
  line_conn& operator=(const line_conn&) = delete;

  void send(const std::string& lines) {
    if (::send(fd_, lines.data(), lines.size(), MSG_NOSIGNAL)
        != static_cast<ssize_t>(lines.size()))
      throw std::runtime_error("send failed");
  }

  /// The next line, or empty when none came within `timeout`.
  std::string read(milliseconds timeout) {
    auto deadline = clock_type::now() + timeout;
    size_t nl;
    while ((nl = in_.find('\n')) == std::string::npos) {
      auto left
        = std::chrono::duration_cast<milliseconds>(deadline - clock_type::now())
            .count();
      pollfd p{fd_, POLLIN, 0};
      if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0)
        return {};
      char buf[4096];
      auto n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0)
        return {};
      in_.append(buf, static_cast<size_t>(n));
    }
    auto line = in_.substr(0, nl);
    in_.erase(0, nl + 1);
    return line;
  }

  std::string call(const std::string& line) {
    send(line);
    auto reply = read(milliseconds(30000));
    if (reply.empty())
      throw std::runtime_error("no reply in time");
    return reply;
  }

private:
  int fd_;
  std::string in_;
};

struct node_stats {
  long verifications = 0;
  long rate_limited = 0;
  long queue_depth = 0;
  long held = 0;
};

node_stats read_stats(line_conn& c) {
  auto reply = c.call("{\"op\":\"stats\"}\n");
  return {number_member(reply, "hash_verifications_total"),
          number_member(reply, "rate_limited_total"),
          number_member(reply, "hash_queue_depth"),
          number_member(reply, "throttle_held")};
}

/// CPU seconds (user + system) a process has used so far, or -1.
double cpu_seconds(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(f)),
                  std::istreambuf_iterator<char>());
  auto paren = all.rfind(')');
  if (paren == std::string::npos)
    return -1;
  std::istringstream rest(all.substr(paren + 2));
  std::string field;
  double utime = 0, stime = 0;
  // After the command name: state is field 3; utime 14, stime 15.
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14)
      utime = std::atof(field.c_str());
    if (i == 15)
      stime = std::atof(field.c_str());
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double own_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto secs = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6;
  };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

// -- set-up -------------------------------------------------------------------

/// Registers every account, 4 connections with 4 registrations in flight
/// each (the hash pool's queue stays short).
void register_accounts(uint16_t port, const std::vector<std::string>& emails) {
  constexpr size_t workers = 4;
  constexpr size_t in_flight = 4;
  std::atomic<size_t> failed{0};
  std::vector<std::thread> threads;
  for (size_t w = 0; w < workers; ++w)
    threads.emplace_back([&, w] {
      try {
        line_conn c{port, "127.0.0.1"};
        for (size_t i = w; i < emails.size(); i += workers * in_flight) {
          std::string batch;
          size_t n = 0;
          for (size_t k = i; k < emails.size() && n < in_flight;
               k += workers, ++n)
            batch += "{\"op\":\"register\",\"email\":\"" + emails[k]
              + "\",\"password\":\"" + good_password + "\",\"name\":\"B\"}\n";
          c.send(batch);
          for (size_t k = 0; k < n; ++k) {
            auto reply = c.read(milliseconds(60000));
            if (outcome(reply) != "ok") {
              std::fprintf(stderr, "register: %s\n", reply.c_str());
              ++failed;
            }
          }
        }
      } catch (const std::exception& e) {
        std::fprintf(stderr, "register: %s\n", e.what());
        ++failed;
      }
    });
  for (auto& t : threads)
    t.join();
  if (failed > 0)
    throw std::runtime_error("registration failed (is --register-rate high?)");
}

/// One successful login from `from`; returns the device token it hands out.
std::string device_token_for(uint16_t port, const std::string& from,
                             const std::string& email) {
  line_conn c{port, from};
  auto reply = c.call(login_line(1, email, good_password));
  auto token = string_member(reply, "device_token");
  if (token.empty())
    throw std::runtime_error("no device token for " + email + ": " + reply);
  return token;
}

/// Raw crypto_pwhash_str_verify rate with one thread per core: the CPU's
/// capacity for verifications, measured while the node is idle.
double verify_capacity(const options& o) {
  char phc[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(phc, good_password.data(), good_password.size(), o.ops,
                        o.mem)
      != 0)
    throw std::runtime_error("cannot hash");
  auto cores = std::max(1u, std::thread::hardware_concurrency());
  std::atomic<long> done{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  auto start = clock_type::now();
  for (unsigned i = 0; i < cores; ++i)
    threads.emplace_back([&] {
      while (!stop.load()) {
        if (crypto_pwhash_str_verify(phc, good_password.data(),
                                     good_password.size())
            != 0)
          std::abort();
        ++done;
      }
    });
  std::this_thread::sleep_for(std::chrono::seconds(o.capacity_seconds));
  stop = true;
  for (auto& t : threads)
    t.join();
  return done.load() / since(start);
}

// -- legitimate users ---------------------------------------------------------

/// The p-th percentile (nearest rank), or -1 when there is nothing.
double percentile_of(std::vector<double> xs, double p) {
  if (xs.empty())
    return -1;
  auto k = static_cast<size_t>(p / 100.0 * (xs.size() - 1) + 0.5);
  std::nth_element(xs.begin(), xs.begin() + k, xs.end());
  return xs[k];
}

struct legit_user {
  std::string from;
  std::string email;
  std::string device; // empty: logs in without a device token
};

struct legit_result {
  std::vector<double> ok_ms; // latency of each successful login
  long attempts = 0;
  long ok = 0;
  long invalid = 0;
  long rate_limited = 0;
  long busy = 0;
  long other = 0; // other codes, and no reply within the time limit

  double percentile(double p) const {
    return percentile_of(ok_ms, p);
  }
  double success_pct() const {
    return attempts > 0 ? 100.0 * ok / attempts : 0;
  }
  /// Logins the node verified: success or wrong password.
  long verified() const {
    return ok + invalid;
  }
};

/// Logs in one login at a time, `think_ms` apart, until `until`; waits for
/// the last reply (a held login may take up to max-penalty and more).
legit_result run_legit(const options& o, const legit_user& u,
                       clock_type::time_point until) {
  legit_result r;
  auto reply_limit = milliseconds(
    static_cast<long>((o.max_penalty + o.failure_delay) * 1000) + 30000);
  auto conn = std::make_unique<line_conn>(o.port, u.from);
  for (uint64_t id = 1;
       clock_type::now() < until && r.attempts < owner_max_logins; ++id) {
    auto sent = clock_type::now();
    conn->send(login_line(id, u.email, good_password, u.device));
    auto reply = conn->read(reply_limit);
    auto ms = since(sent) * 1000;
    ++r.attempts;
    auto code = outcome(reply);
    if (code == "ok") {
      ++r.ok;
      r.ok_ms.push_back(ms);
    } else if (code == "invalid_credentials") {
      ++r.invalid;
    } else if (code == "rate_limited") {
      ++r.rate_limited;
    } else if (code == "busy") {
      ++r.busy;
    } else {
      ++r.other;
      if (reply.empty()) // a late reply must not answer the next login
        conn = std::make_unique<line_conn>(o.port, u.from);
    }
    auto pause = std::min(
      milliseconds(o.think_ms),
      std::chrono::duration_cast<milliseconds>(until - clock_type::now()));
    if (pause.count() > 0)
      std::this_thread::sleep_for(pause);
  }
  return r;
}

struct probe_times {
  std::vector<double> ping_ms;
  std::vector<double> whoami_ms;
};

/// Round trips of a `ping` and of a `whoami` (a cached session) every
/// 100 ms, from an address of their own. A ping is answered by the
/// connection itself: the node's I/O. A whoami also crosses the auth actor
/// once, whose mailbox every login (and every refused guess) goes through:
/// the wait there, hashing aside.
probe_times run_probes(const options& o, clock_type::time_point until) {
  probe_times t;
  line_conn c{o.port, "127.0.0.253"};
  auto whoami = "{\"op\":\"whoami\",\"token\":\"" + o.probe_token + "\"}\n";
  while (clock_type::now() < until && t.ping_ms.size() < 100000) {
    auto sent = clock_type::now();
    c.call("{\"op\":\"ping\"}\n");
    t.ping_ms.push_back(since(sent) * 1000);
    sent = clock_type::now();
    if (outcome(c.call(whoami)) != "ok")
      throw std::runtime_error("whoami probe refused");
    t.whoami_ms.push_back(since(sent) * 1000);
    std::this_thread::sleep_for(milliseconds(100));
  }
  return t;
}

struct legit_trio {
  legit_result a, b, c;
  probe_times probes;
};

/// Runs the three users and the ping probe at once until `until`.
legit_trio run_trio(const options& o, const legit_user& a, const legit_user& b,
                    const legit_user& c, clock_type::time_point until) {
  legit_trio out;
  std::thread ta([&] {
    out.a = run_legit(o, a, until);
  });
  std::thread tb([&] {
    if (o.owner_without_device)
      out.b = run_legit(o, b, until);
  });
  std::thread tc([&] {
    out.c = run_legit(o, c, until);
  });
  out.probes = run_probes(o, until);
  ta.join();
  tb.join();
  tc.join();
  return out;
}

// -- the attacker -------------------------------------------------------------

struct attack_plan {
  std::string tag; // makes every guessed password distinct
  std::vector<std::string> sources;
  int conns_per_source = 1;
  int depth = 8;
  std::vector<std::string> targets; // accounts, guessed in turn
};

struct attack_counts {
  double seconds = 0;
  long replies = 0;
  long invalid = 0;
  long rate_limited = 0;
  long busy = 0;
  long other = 0;
  /// Replies after the window (requests sent in it), for the accounting.
  long late_invalid = 0;
  long late_busy = 0;
  /// Connections replaced after they stopped getting replies.
  long replaced = 0;
};

/// Connections from the attacking sources, each keeping `depth` wrong
/// guesses in flight: a reply is answered with the next guess at once.
///
/// A connection that has had no reply for `frozen_after` while it has
/// guesses out is replaced by a new one from the same source, as a
/// determined attacker would: a node that stopped reading pipelining
/// connections (as one built before commit "resume reading one I/O-loop
/// turn after a pause" did) would otherwise be flattered by the figures. A
/// healthy connection is never that quiet: of a source's guesses at most a
/// handful are slow (two verifying, one held, their delayed failures), the
/// rest are answered at once.
class attacker {
public:
  attacker(uint16_t port, const attack_plan& plan, milliseconds frozen_after)
    : plan_(plan), port_(port), frozen_after_(frozen_after) {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    for (auto& source : plan.sources)
      for (int k = 0; k < plan.conns_per_source; ++k) {
        conns_.push_back(conn{-1, &source, {}, {}, 0, {}});
        open(conns_.size() - 1);
      }
  }
  ~attacker() {
    for (auto& c : conns_)
      ::close(c.fd);
    ::close(ep_);
  }
  attacker(const attacker&) = delete;
  attacker& operator=(const attacker&) = delete;

  /// Attacks until `until`, then only reads replies (the `busy` ones are
  /// needed for the accounting) until `stop` is set, or `limit` after.
  attack_counts run(clock_type::time_point until, const std::atomic<bool>& stop,
                    milliseconds limit) {
    attack_counts n;
    auto start = clock_type::now();
    for (auto& c : conns_)
      fill(c, start);
    auto next_check = start + milliseconds(500);
    epoll_event events[256];
    while (!stop.load() && clock_type::now() < until + limit) {
      int ready = epoll_wait(ep_, events, 256, 50);
      for (int e = 0; e < ready; ++e)
        on_readable(conns_[events[e].data.u64], until, n);
      auto now = clock_type::now();
      if (frozen_after_.count() > 0 && now < until && now >= next_check) {
        replace_frozen(now, n);
        next_check = now + milliseconds(500);
      }
    }
    n.seconds = std::chrono::duration<double>(until - start).count();
    return n;
  }

private:
  struct conn {
    int fd;
    const std::string* source;
    std::string in;
    std::string out;
    int outstanding;
    clock_type::time_point last_reply;
  };

  void open(size_t i) {
    auto& c = conns_[i];
    c.fd = connect_from(port_, *c.source);
    if (c.fd < 0)
      throw std::runtime_error("cannot connect from " + *c.source);
    fcntl(c.fd, F_SETFL, O_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev);
  }

  /// Tops the connection up to `depth` guesses in flight.
  void fill(conn& c, clock_type::time_point now) {
    if (c.outstanding == 0)
      c.last_reply = now;
    while (c.outstanding < plan_.depth) {
      queue_guess(c);
      ++c.outstanding;
    }
    flush(c);
  }

  void on_readable(conn& c, clock_type::time_point until, attack_counts& n) {
    char buf[65536];
    auto got = ::recv(c.fd, buf, sizeof(buf), 0);
    if (got <= 0)
      return;
    c.in.append(buf, static_cast<size_t>(got));
    auto now = clock_type::now();
    size_t pos;
    while ((pos = c.in.find('\n')) != std::string::npos) {
      count(n, outcome({c.in.data(), pos}), now <= until);
      c.in.erase(0, pos + 1);
      --c.outstanding;
      c.last_reply = now;
    }
    if (now < until)
      fill(c, now);
  }

  void replace_frozen(clock_type::time_point now, attack_counts& n) {
    for (size_t i = 0; i < conns_.size(); ++i) {
      auto& c = conns_[i];
      if (c.outstanding == 0 || now - c.last_reply < frozen_after_)
        continue;
      epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);
      ::close(c.fd);
      c.in.clear();
      c.out.clear();
      c.outstanding = 0;
      open(i);
      fill(c, now);
      ++n.replaced;
    }
  }

  void queue_guess(conn& c) {
    auto k = next_++;
    c.out += login_line(k, plan_.targets[k % plan_.targets.size()],
                        "guess " + plan_.tag + " " + std::to_string(k));
  }

  static void flush(conn& c) {
    while (!c.out.empty()) {
      auto sent = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
      if (sent <= 0)
        return; // the node reads no more for now: the rest goes later
      c.out.erase(0, static_cast<size_t>(sent));
    }
  }

  static void count(attack_counts& n, const std::string& code, bool in_window) {
    if (!in_window) {
      n.late_invalid += code == "invalid_credentials";
      n.late_busy += code == "busy";
      return;
    }
    ++n.replies;
    if (code == "invalid_credentials")
      ++n.invalid;
    else if (code == "rate_limited")
      ++n.rate_limited;
    else if (code == "busy")
      ++n.busy;
    else
      ++n.other;
  }

  const attack_plan& plan_;
  uint16_t port_;
  milliseconds frozen_after_;
  std::vector<conn> conns_;
  int ep_ = -1;
  uint64_t next_ = 0;
};

// -- the expected schedule ----------------------------------------------------

double penalty(uint32_t failures, double delay, double max_penalty) {
  if (failures == 0)
    return 0;
  auto doublings = std::min<uint32_t>(failures - 1, 30);
  return std::min(delay * static_cast<double>(1u << doublings), max_penalty);
}

/// Verifications one key allows in `window` seconds under continuous
/// pressure (see the top of this file): rounds of two, each round's start
/// one verification time plus the penalty after the round before.
long schedule_count(double window, const options& o, double verify_s) {
  constexpr uint32_t slots = 2; // max_verifying_per_key
  long count = 0;
  uint32_t failures = 0;
  for (double t = 0; t < window;
       t += verify_s + penalty(failures, o.failure_delay, o.max_penalty)) {
    count += slots;
    failures += slots;
  }
  return count;
}

// -- scenarios ----------------------------------------------------------------

struct scenario {
  int number = 0;
  const char* title = "";
  attack_plan plan;
  std::string victim;
  std::string victim_device;
  long expected = 0; // verifications by the schedule
};

struct scenario_result {
  attack_counts atk;
  legit_trio legit;
  long verifications = 0;  // spent on the attacker, start to `after`
  double counted_over = 0; // seconds from the start to the `after` reading
  node_stats at_end;       // when the window closed, the attack still on
  node_stats after;
  long queue_max = 0;
  double queue_mean = 0;
  double node_cpu = -1;  // share of all cores, %
  double client_cpu = 0; // this process, share of all cores, %
  long tail = 0;         // verified after the attack, of attempts held
  double drained_after = 0;
};

std::string address(int scenario, int host) {
  return "127.0." + std::to_string(scenario) + "." + std::to_string(host);
}

std::string email(const std::string& local) {
  return local + "@attack.example";
}

std::vector<std::string> sprayed(int number) {
  std::vector<std::string> out;
  for (int i = 0; i < sprayed_accounts; ++i) {
    char local[32];
    std::snprintf(local, sizeof(local), "s%d-%04d", number, i);
    out.push_back(email(local));
  }
  return out;
}

scenario make_scenario(int number, const options& o) {
  scenario s;
  s.number = number;
  s.plan.tag = std::to_string(number);
  s.plan.depth = o.depth;
  bool many_sources_attack = number >= 3;
  bool spray = number == 2 || number == 4;
  static const char* titles[] = {"", "1 src, 1 acct", "1 src, 1000 accts",
                                 "200 src, 1 acct", "200 src, 1000 accts"};
  s.title = titles[number];
  if (many_sources_attack) {
    for (int h = 2; h < 2 + many_sources; ++h)
      s.plan.sources.push_back(address(number, h));
    s.plan.conns_per_source = o.conns_per_source;
  } else {
    s.plan.sources.push_back(address(number, 2));
    s.plan.conns_per_source = 50;
  }
  if (spray) {
    s.plan.targets = sprayed(number);
    s.victim = s.plan.targets[sprayed_accounts / 2];
  } else {
    s.victim = email("victim" + std::to_string(number));
    s.plan.targets = {s.victim};
  }
  return s;
}

/// Waits (bounded) until the node holds no attempt and queues no hash.
void drain(line_conn& stats, const options& o, scenario_result& r) {
  auto start = clock_type::now();
  auto before = read_stats(stats).verifications;
  auto limit = o.max_penalty + o.failure_delay + 10;
  node_stats now;
  do {
    std::this_thread::sleep_for(milliseconds(500));
    now = read_stats(stats);
  } while ((now.held > 0 || now.queue_depth > 0) && since(start) < limit);
  r.tail = now.verifications - before;
  r.drained_after = since(start);
}

scenario_result run_scenario(const options& o, const scenario& s,
                             const legit_user& bystander) {
  scenario_result r;
  line_conn stats{o.port, "127.0.0.1"};
  attacker atk{o.port, s.plan, milliseconds(o.frozen_after_ms)};
  legit_user a{"127.0.0.250", s.victim, s.victim_device};
  legit_user b{"127.0.0.251", s.victim, {}};
  auto before = read_stats(stats);
  auto node_cpu0 = o.pid > 0 ? cpu_seconds(o.pid) : -1;
  auto own_cpu0 = own_cpu_seconds();
  auto start = clock_type::now();
  auto until = start + std::chrono::seconds(o.seconds);
  // The attacker reads on until the `after` reading; bounded all the same.
  std::atomic<bool> stop_reading{false};
  auto limit = milliseconds(
    static_cast<long>((o.max_penalty + o.failure_delay) * 1000) + 60000);
  std::thread attack([&] {
    r.atk = atk.run(until, stop_reading, limit);
  });
  std::thread users([&] {
    r.legit = run_trio(o, a, b, bystander, until);
  });
  // Sample the hash queue once a second while the attack runs.
  long samples = 0, sum = 0;
  while (clock_type::now() + milliseconds(1000) < until) {
    std::this_thread::sleep_for(milliseconds(1000));
    auto q = read_stats(stats).queue_depth;
    r.queue_max = std::max(r.queue_max, q);
    sum += q;
    ++samples;
  }
  std::this_thread::sleep_until(until);
  r.at_end = read_stats(stats);
  r.queue_mean = samples > 0 ? static_cast<double>(sum) / samples : 0;
  users.join();
  // Replies to the attacker's last requests (busy ones are immediate).
  std::this_thread::sleep_until(
    std::max(clock_type::now() + milliseconds(200), until + milliseconds(500)));
  auto after = read_stats(stats);
  r.counted_over = since(start);
  stop_reading = true;
  attack.join();
  r.after = after;
  auto cores
    = static_cast<double>(std::max(1u, std::thread::hardware_concurrency()));
  if (o.pid > 0)
    r.node_cpu = 100 * (cpu_seconds(o.pid) - node_cpu0)
      / (since(start) * cores);
  r.client_cpu = 100 * (own_cpu_seconds() - own_cpu0) / (since(start) * cores);
  auto& l = r.legit;
  r.verifications = after.verifications - before.verifications
    - (l.a.verified() + l.b.verified() + l.c.verified());
  return r;
}

// -- printing -----------------------------------------------------------------

void print_user(const char* label, const legit_result& u, double unloaded_p99,
                const char* target) {
  auto p50 = u.percentile(50);
  auto p99 = u.percentile(99);
  char ratio[32] = "     -";
  if (p99 >= 0 && unloaded_p99 > 0)
    std::snprintf(ratio, sizeof(ratio), "%6.2f", p99 / unloaded_p99);
  char p50s[16] = "      -", p99s[16] = "      -";
  if (p50 >= 0)
    std::snprintf(p50s, sizeof(p50s), "%7.0f", p50);
  if (p99 >= 0)
    std::snprintf(p99s, sizeof(p99s), "%7.0f", p99);
  std::printf("    %-22s %5ld %s %s %6.1f %s [%s]   ok %ld, rate_limited %ld, "
              "busy %ld, other %ld\n",
              label, u.attempts, p50s, p99s, u.success_pct(), ratio, target,
              u.ok, u.rate_limited, u.busy, u.other);
}

void print_probes(const probe_times& t, const probe_times& unloaded) {
  auto line = [](const char* what, const std::vector<double>& ms,
                 const std::vector<double>& base) {
    std::printf("  %-6s every 100 ms: n %zu, p50 %.2f ms, p99 %.2f ms "
                "(unloaded p50 %.2f ms, p99 %.2f ms)\n",
                what, ms.size(), percentile_of(ms, 50), percentile_of(ms, 99),
                percentile_of(base, 50), percentile_of(base, 99));
  };
  line("ping", t.ping_ms, unloaded.ping_ms);
  line("whoami", t.whoami_ms, unloaded.whoami_ms);
}

void print_users_header() {
  std::printf("    %-22s %5s %7s %7s %6s %6s\n", "legit user", "n", "p50 ms",
              "p99 ms", "ok %", "p99/unloaded [target]");
}

const char* ratio_target(int scenario, char variant) {
  if (scenario <= 3)
    return "<=2";
  return variant == 'a' ? "<=3" : "none";
}

void print_scenario(const options& o, const scenario& s,
                    const scenario_result& r, const legit_trio& base,
                    double capacity) {
  auto per_min = [&](double n) {
    return r.atk.seconds > 0 ? n * 60 / r.atk.seconds : 0;
  };
  std::printf(
    "== scenario %d: %s, %zu sources x %d connections x %d in flight, "
    "%.0f s\n",
    s.number, s.title, s.plan.sources.size(), s.plan.conns_per_source,
    s.plan.depth, r.atk.seconds);
  std::printf("  attacker: %.0f requests/s; replies: invalid_credentials %ld, "
              "rate_limited %ld, busy %ld, other %ld (after the window: "
              "invalid_credentials %ld, busy %ld)\n",
              r.atk.replies / std::max(r.atk.seconds, 1e-9), r.atk.invalid,
              r.atk.rate_limited, r.atk.busy, r.atk.other, r.atk.late_invalid,
              r.atk.late_busy);
  std::printf("  attacker connections replaced after %ld ms without a reply "
              "(the node had stopped reading them): %ld\n",
              o.frozen_after_ms, r.atk.replaced);
  std::printf("  verifications spent on the attacker: %ld (%.1f/min of "
              "attack; counted up to the last reply, at %.1f s); schedule %ld "
              "(%.1f/min) [target: follows the schedule]\n",
              r.verifications, per_min(r.verifications), r.counted_over,
              s.expected, per_min(s.expected));
  if (s.number == 4) {
    // The node counts a verification once it has run: the ones still
    // queued at the `after` reading are not in it.
    auto hashed = r.verifications;
    std::printf("  still queued at %.1f s: %ld; hashed: %ld (%.1f/s) "
                "vs CPU capacity %.1f/s (%.0f in %.1f s); the schedule x %d "
                "sources asks for %ld\n",
                r.counted_over, r.after.queue_depth, hashed,
                hashed / r.counted_over, capacity, capacity * r.counted_over,
                r.counted_over, many_sources, s.expected);
  }
  std::printf("  at the end: hash_queue_depth %ld (max %ld, mean %.1f over "
              "1 s samples), throttle_held %ld, rate_limited_total %ld\n",
              r.at_end.queue_depth, r.queue_max, r.queue_mean, r.at_end.held,
              r.at_end.rate_limited);
  if (r.node_cpu >= 0)
    std::printf("  CPU of all cores: node %.0f%%, this client %.0f%%\n",
                r.node_cpu, r.client_cpu);
  else
    std::printf("  CPU of all cores: this client %.0f%% (node: pass --pid)\n",
                r.client_cpu);
  print_probes(r.legit.probes, base.probes);
  print_users_header();
  print_user("a owner, device token", r.legit.a, base.a.percentile(99),
             ratio_target(s.number, 'a'));
  print_user("b owner, no device", r.legit.b, base.b.percentile(99),
             ratio_target(s.number, 'b'));
  print_user("c bystander", r.legit.c, base.c.percentile(99),
             ratio_target(s.number, 'c'));
  std::fflush(stdout);
}

void print_summary(const std::vector<scenario>& ss,
                   const std::vector<scenario_result>& rs,
                   const legit_trio& base) {
  std::printf("\n== summary: verifications/min measured vs schedule; legit "
              "p50/p99 ms, ok %%, p99/unloaded [target]\n");
  std::printf("%-20s %9s %15s |", "scenario", "atk req/s", "verif/min");
  for (auto v : {"a device", "b no device", "c bystander"})
    std::printf(" %-30s |", v);
  std::printf("\n");
  auto cell = [](const legit_result& u, double base_p99, const char* target) {
    auto p99 = u.percentile(99);
    char ratio[16] = "-", lat[32] = "-/-";
    if (p99 >= 0 && base_p99 > 0)
      std::snprintf(ratio, sizeof(ratio), "%.2f", p99 / base_p99);
    if (p99 >= 0)
      std::snprintf(lat, sizeof(lat), "%.0f/%.0f", u.percentile(50), p99);
    std::printf(" %11s %5.1f%% %5s[%4s] |", lat, u.success_pct(), ratio,
                target);
  };
  std::printf("%-20s %9s %15s |", "unloaded", "-", "-");
  cell(base.a, 0, "");
  cell(base.b, 0, "");
  cell(base.c, 0, "");
  std::printf("\n");
  for (size_t i = 0; i < ss.size(); ++i) {
    auto& s = ss[i];
    auto& r = rs[i];
    auto per_min = [&](double n) {
      return r.atk.seconds > 0 ? n * 60 / r.atk.seconds : 0;
    };
    char label[32];
    std::snprintf(label, sizeof(label), "%d %s", s.number, s.title);
    std::printf("%-20s %9.0f %7.1f/%-7.1f |", label,
                r.atk.replies / std::max(r.atk.seconds, 1e-9),
                per_min(r.verifications), per_min(s.expected));
    cell(r.legit.a, base.a.percentile(99), ratio_target(s.number, 'a'));
    cell(r.legit.b, base.b.percentile(99), ratio_target(s.number, 'b'));
    cell(r.legit.c, base.c.percentile(99), ratio_target(s.number, 'c'));
    std::printf("\n");
  }
  std::printf("(-: no successful login; in 4 the schedule column is 200 "
              "sources' schedules, more than the CPU's capacity)\n");
}

options parse(int argc, char** argv) {
  options o;
  o.port = static_cast<uint16_t>(flag(argc, argv, "--port", 0));
  o.pid = static_cast<int>(flag(argc, argv, "--pid", 0));
  o.seconds = static_cast<int>(flag(argc, argv, "--seconds", 60));
  o.scenario = static_cast<int>(flag(argc, argv, "--scenario", 0));
  o.failure_delay = flag(argc, argv, "--failure-delay-ms", 2000) / 1000.0;
  o.max_penalty = flag(argc, argv, "--max-penalty-ms", 60000) / 1000.0;
  o.think_ms = static_cast<int>(flag(argc, argv, "--think-ms", 250));
  o.depth = static_cast<int>(flag(argc, argv, "--depth", 8));
  o.conns_per_source
    = static_cast<int>(flag(argc, argv, "--conns-per-source", 2));
  o.capacity_seconds
    = static_cast<int>(flag(argc, argv, "--capacity-seconds", 5));
  o.owner_without_device = flag(argc, argv, "--owner-without-device", 1) != 0;
  o.frozen_after_ms = flag(argc, argv, "--replace-frozen-ms", 3000);
  o.ops = static_cast<unsigned long long>(flag(argc, argv, "--ops", 2));
  o.mem = static_cast<size_t>(flag(argc, argv, "--mem", 67108864));
  return o;
}

int run(options o) {
  std::vector<scenario> scenarios;
  for (int n = 1; n <= 4; ++n)
    if (o.scenario == 0 || o.scenario == n)
      scenarios.push_back(make_scenario(n, o));
  // Set-up over the protocol, before anything is measured.
  legit_user bystander{"127.0.0.252", email("bystander"), {}};
  std::vector<std::string> emails{email("owner"), bystander.email};
  for (auto& s : scenarios) {
    if (s.plan.targets.size() == 1)
      emails.push_back(s.victim);
    else
      emails.insert(emails.end(), s.plan.targets.begin(), s.plan.targets.end());
  }
  auto setup_start = clock_type::now();
  register_accounts(o.port, emails);
  for (auto& s : scenarios)
    s.victim_device = device_token_for(o.port, "127.0.0.250", s.victim);
  auto owner_device = device_token_for(o.port, "127.0.0.250", email("owner"));
  {
    line_conn c{o.port, "127.0.0.253"};
    auto reply = c.call(login_line(1, bystander.email, good_password));
    o.probe_token = string_member(reply, "token");
  }
  std::printf("set-up: %zu accounts registered, device tokens taken, %.0f s\n",
              emails.size(), since(setup_start));
  double capacity = 0;
  if (o.capacity_seconds > 0) {
    capacity = verify_capacity(o);
    std::printf("CPU capacity: %.1f crypto_pwhash_str_verify/s on %u threads "
                "(ops=%llu mem=%zu), node idle\n",
                capacity, std::max(1u, std::thread::hardware_concurrency()),
                o.ops, o.mem);
  }
  // Unloaded: the same three users, the same way, nothing else running.
  auto base = run_trio(o, {"127.0.0.250", email("owner"), owner_device},
                       {"127.0.0.251", email("owner"), {}}, bystander,
                       clock_type::now() + std::chrono::seconds(o.seconds));
  auto verify_s = base.c.percentile(50) / 1000;
  std::printf("== unloaded, %d s, one login each per %d ms\n", o.seconds,
              o.think_ms);
  print_users_header();
  print_user("a owner, device token", base.a, base.a.percentile(99), "-");
  print_user("b owner, no device", base.b, base.b.percentile(99), "-");
  print_user("c bystander", base.c, base.c.percentile(99), "-");
  print_probes(base.probes, base.probes);
  std::fflush(stdout);
  std::vector<scenario_result> results;
  for (size_t i = 0; i < scenarios.size(); ++i) {
    auto& s = scenarios[i];
    s.expected = schedule_count(o.seconds, o, std::max(verify_s, 0.0));
    if (s.number == 4)
      s.expected *= many_sources;
    results.push_back(run_scenario(o, s, bystander));
    print_scenario(o, s, results.back(), base, capacity);
    if (i + 1 < scenarios.size()) {
      line_conn stats{o.port, "127.0.0.1"};
      drain(stats, o, results.back());
      std::printf("  after the attack: %ld more verifications of attempts the "
                  "node held; drained in %.0f s\n",
                  results.back().tail, results.back().drained_after);
    }
  }
  print_summary(scenarios, results, base);
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  auto o = parse(argc, argv);
  if (o.port == 0 || o.seconds < 1 || o.scenario < 0 || o.scenario > 4
      || sodium_init() < 0) {
    std::fprintf(stderr,
                 "usage: attack --port=N [--pid=N] [--seconds=60] "
                 "[--scenario=0..4] [--failure-delay-ms=2000] "
                 "[--max-penalty-ms=60000]\n");
    return 2;
  }
  try {
    return run(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "attack: %s\n", e.what());
    return 1;
  }
}
