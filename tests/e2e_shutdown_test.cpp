// End to end: SIGTERM under load (docs/configuration.md, Stopping: signals).
// Several connections have requests of every kind out when the node is told
// to stop: pings, logins that succeed, failed logins held by the failure
// delay, registrations. The node must exit 0 in bounded time, and on every
// connection each line it sends must be a whole, well-formed reply to a
// request that was sent, with the answer that request deserves; after the
// replies, the connection ends.
//
// Requests come in two waves. The node is known to have read the first (its
// requests_total counter says so) before SIGTERM: each of those must be
// answered. The second is bigger than max-in-flight lets the node take up at
// once, and SIGTERM comes as soon as the node works on it: each of its
// requests is answered right or not at all, at least as many are answered as
// the node was seen to take up, and a registration without a reply must not
// have happened. A third wave, written right before SIGTERM, is most likely
// never read: the connection must still end with a close, not a reset.
//
// The throttle is off: with it, which login is held or refused depends on
// timing, and this test wants to know the one right answer to each request.
#include <catch2/catch.hpp>

#include <chrono>
#include <iterator>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "support/databases.hpp"
#include "support/line_client.hpp"
#include "support/node_process.hpp"
#include "support/protocol.hpp"

using namespace authnode::test;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {

constexpr int connections = 4;

enum class kind { ping, good_login, wrong_login, unknown_login, registration };

struct sent_request {
  kind what;
  std::string email; ///< For logins and registrations.
  bool must_answer = false;
};

/// The request of `what` for `email`, as a client writes it.
json request_for(const std::string& id, kind what, const std::string& email) {
  switch (what) {
    case kind::ping:
      return {{"id", id}, {"op", "ping"}};
    case kind::good_login:
      return with_id(id, login_request(email));
    case kind::wrong_login:
    case kind::unknown_login:
      return with_id(id, login_request(email, "not the password"));
    case kind::registration:
      return with_id(id, register_request(email));
  }
  return {};
}

/// Empty if `reply` is the right answer to `req`, else what is wrong.
std::string judge(const sent_request& req, const json& reply) {
  auto ok = succeeded(reply);
  if (!ok && !failed(reply))
    return "neither ok nor an error code";
  switch (req.what) {
    case kind::ping:
      return ok ? "" : "a ping failed";
    case kind::good_login:
      if (!ok)
        return "a good login failed";
      if (!reply.contains("token") || !reply["token"].is_string()
          || reply["token"].get<std::string>().size() != 43)
        return "a login without a 43-character token";
      return reply["user"]["email"] == req.email ? "" : "another user";
    case kind::wrong_login:
    case kind::unknown_login:
      return error_code(reply) == "invalid_credentials"
        ? ""
        : "a failed login not answered invalid_credentials";
    case kind::registration:
      if (!ok)
        return "a registration failed";
      return reply["user"]["email"] == req.email ? "" : "another user";
  }
  return "unknown request";
}

/// Requests of one connection, by id, and the writing of waves of them.
class load {
public:
  load(uint16_t port, int index)
    : index_(index), client_(std::make_unique<line_client>(port)) {}

  /// Writes `n` requests in one write, cycling through every kind.
  /// `must_answer`: the node will have read them before it is stopped.
  size_t send_wave(int n, bool must_answer) {
    static const kind cycle[] = {kind::wrong_login, kind::ping,
                                 kind::good_login, kind::registration,
                                 kind::unknown_login};
    std::string bytes;
    for (int i = 0; i < n; ++i) {
      auto seq = sent_.size();
      auto what = cycle[seq % std::size(cycle)];
      auto id = "c" + std::to_string(index_) + "-" + std::to_string(seq);
      sent_request req{what, email_for(what, seq), must_answer};
      bytes += request_for(id, what, req.email).dump() + "\n";
      sent_.emplace(id, req);
    }
    client_->send_raw(bytes);
    return static_cast<size_t>(n);
  }

  /// Reads until the node closes the connection (bounded); returns what is
  /// wrong with what it sent, one entry per problem.
  std::vector<std::string> read_to_end(milliseconds limit) {
    std::vector<std::string> problems;
    auto deadline = steady_clock::now() + limit;
    while (steady_clock::now() < deadline) {
      auto line = client_->read_line(milliseconds(100));
      if (!line) {
        if (client_->closed_by_peer(milliseconds(0)))
          break;
        continue;
      }
      auto problem = take(*line);
      if (!problem.empty())
        problems.push_back(problem + ": " + *line);
    }
    if (!client_->closed_by_peer(milliseconds(0)))
      problems.push_back("the connection is still open");
    if (client_->reset_by_peer())
      problems.push_back("the connection ended with a reset, not a close");
    if (!client_->unterminated().empty())
      problems.push_back("a half line at the end: " + client_->unterminated());
    for (auto& [id, req] : sent_)
      if (req.must_answer && answered_.count(id) == 0)
        problems.push_back(id + " was read by the node but not answered");
    return problems;
  }

  size_t answered() const {
    return answered_.size();
  }
  size_t sent() const {
    return sent_.size();
  }

  /// Registrations sent that got no reply.
  std::vector<std::string> unanswered_registrations() const {
    std::vector<std::string> emails;
    for (auto& [id, req] : sent_)
      if (req.what == kind::registration && answered_.count(id) == 0)
        emails.push_back(req.email);
    return emails;
  }

  /// Accounts the good logins use, registered before the load starts.
  static std::string account(int index) {
    return "held-" + std::to_string(index) + "@example.org";
  }

private:
  std::string email_for(kind what, size_t seq) const {
    switch (what) {
      case kind::good_login:
      case kind::wrong_login:
        return account(index_);
      case kind::unknown_login:
        return "nobody-" + std::to_string(index_) + "@example.org";
      case kind::registration:
        return "new-" + std::to_string(index_) + "-" + std::to_string(seq)
          + "@example.org";
      default:
        return {};
    }
  }

  /// Checks one reply line; empty if it is fine.
  std::string take(const std::string& line) {
    auto reply = json::parse(line, nullptr, false);
    if (!reply.is_object())
      return "not a JSON object";
    if (!reply.contains("id") || !reply["id"].is_string())
      return "no id of ours";
    auto id = reply["id"].get<std::string>();
    auto req = sent_.find(id);
    if (req == sent_.end())
      return "an id never sent";
    if (!answered_.insert(id).second)
      return "a second reply";
    return judge(req->second, reply);
  }

  int index_;
  std::unique_ptr<line_client> client_;
  std::map<std::string, sent_request> sent_;
  std::set<std::string> answered_;
};

/// Request lines the node has taken up since this was made (its
/// requests_total), not counting the stats requests that ask.
class read_counter {
public:
  explicit read_counter(line_client& observer)
    : observer_(observer), base_(total()) {}

  /// Waits, bounded, until `n` lines are taken up; returns the last count.
  int64_t wait_for(int64_t n) {
    int64_t seen = total() - base_;
    for (int i = 0; i < 500 && seen < n; ++i) {
      observer_.read_line(milliseconds(2)); // pause, bounded
      seen = total() - base_;
    }
    return seen;
  }

private:
  int64_t total() {
    auto reply = observer_.call({{"op", "stats"}});
    ++asked_;
    return reply["stats"]["requests_total"].get<int64_t>() - asked_;
  }

  line_client& observer_;
  int64_t asked_ = 0;
  int64_t base_;
};

} // namespace

TEST_CASE("SIGTERM under load: exit 0, every reply whole and right, then EOF",
          "[shutdown]") {
  auto opts = fast_options();
  opts.push_back("--throttle=off");
  temp_dir dir;
  node_process node{opts, dir.path()};
  line_client observer{node.port()};
  for (int i = 0; i < connections; ++i)
    REQUIRE(succeeded(register_user(observer, load::account(i))));

  std::vector<std::unique_ptr<load>> loads;
  for (int i = 0; i < connections; ++i)
    loads.push_back(std::make_unique<load>(node.port(), i));

  // First wave: 10 requests a connection, 4 of them failed logins held for
  // the failure delay (300 ms) once their password is checked. Wait,
  // bounded, until the node has taken up every line of it.
  read_counter counter{observer};
  int64_t first_wave = 0;
  auto first_sent = steady_clock::now();
  for (auto& l : loads)
    first_wave += static_cast<int64_t>(l->send_wave(10, true));
  REQUIRE(counter.wait_for(first_wave) == first_wave);

  // Second wave, 40 a connection, more than max-in-flight (8) lets the node
  // take up at once. SIGTERM as soon as the node works on some of it:
  // logins and registrations are being hashed and stored, failures are
  // being checked or held, and some lines are not read yet.
  for (auto& l : loads)
    l->send_wave(40, false);
  auto taken_up = counter.wait_for(first_wave + 20);
  REQUIRE(taken_up >= first_wave + 20);
  // A third wave the node most likely never reads: lines still in the
  // socket when it stops.
  for (auto& l : loads)
    l->send_wave(20, false);
  auto start = steady_clock::now();
  auto status = node.stop(std::chrono::seconds(10));
  auto stopped = steady_clock::now();
  INFO("the node took "
       << std::chrono::duration_cast<milliseconds>(stopped - start).count()
       << " ms to stop");
  CHECK(status == 0);
  // The first wave's failed logins were held, and were answered before the
  // exit: not before the failure delay (300 ms), SIGTERM or not.
  CHECK(stopped - first_sent >= milliseconds(300));
  auto log = node.log();
  CHECK(log.find("received Terminated") != std::string::npos);
  CHECK(log.find("connections still open") == std::string::npos);
  CHECK(log.find("stopped") != std::string::npos);

  size_t answered = 0;
  size_t sent = 0;
  for (auto& l : loads) {
    auto problems = l->read_to_end(milliseconds(2000));
    CHECK(problems == std::vector<std::string>{});
    answered += l->answered();
    sent += l->sent();
  }
  INFO(answered << " of " << sent << " requests answered, " << taken_up
                << " known to be taken up before SIGTERM");
  // Every line the node took up was answered (ids are checked above).
  CHECK(answered >= static_cast<size_t>(taken_up));
  CHECK(observer.closed_by_peer(milliseconds(1000)));

  // A registration that took effect was read by the node, so it must have
  // been answered: a request without a reply must not have happened.
  auto store = open_store(dir.path() + "/auth.db");
  std::vector<std::string> done_unanswered;
  for (auto& l : loads)
    for (auto& email : l->unanswered_registrations())
      if (store->user_by_email(email))
        done_unanswered.push_back(email);
  CHECK(done_unanswered == std::vector<std::string>{});
}
