// End to end: "acknowledged means durable" (docs/configuration.md, The
// database). Four clients pipeline registrations while the node is killed
// with SIGKILL at a random moment; a node started on the same files must
// then know every account whose registration was answered ok, with its
// password. A reply is only sent after the commit, so a reply read even
// after the kill (it was in the socket already) counts as acknowledged.
//
// The moment of the kill is random (200 to 800 ms after the first
// acknowledgement), to catch the node at different points of a commit; it is
// printed when the test fails, and AUTHNODE_TEST_KILL_MS repeats it. On a
// fast machine the kill comes earlier, once 1,500 of the 2,000
// registrations are acknowledged, so that it still interrupts them.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <random>
#include <thread>
#include <vector>

#include "support/line_client.hpp"
#include "support/node_process.hpp"
#include "support/protocol.hpp"

using namespace authnode::test;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {

constexpr int connections = 4;
/// At most this many registrations per connection (2,000 in all).
constexpr int per_connection = 500;
/// The kill comes at the latest when this many are acknowledged, so that
/// on a fast machine it still lands in the middle of the stream.
constexpr int kill_at_acknowledged = 1500;
/// Requests one connection keeps unanswered: more than max-in-flight (8),
/// so that the node always has the next line at hand.
constexpr size_t window = 16;

/// What a connection got back: the parsed reply to each request (by its
/// index), and lines that were no JSON object with a known id.
struct exchange {
  std::map<int64_t, json> replies;
  std::vector<std::string> garbage;
  bool gone = false; ///< The node closed the connection or vanished.
};

/// Sends `requests` (ids: their index) keeping at most `window`
/// unanswered, until all are answered, the connection ends or `deadline`.
/// Runs on a thread of its own: no Catch assertions in here.
exchange pipeline(line_client& c, const std::vector<json>& requests,
                  steady_clock::time_point deadline,
                  std::atomic<int>& answered_ok) {
  exchange out;
  size_t next = 0;
  size_t outstanding = 0;
  while (steady_clock::now() < deadline) {
    try {
      for (; next < requests.size() && outstanding < window; ++next) {
        auto req = requests[next];
        req["id"] = static_cast<int64_t>(next);
        c.send(req);
        ++outstanding;
      }
    } catch (const std::exception&) {
      next = requests.size(); // the node is gone; read what it left
    }
    if (outstanding == 0)
      break;
    auto line = c.read_line(milliseconds(50));
    if (!line) {
      if (c.closed_by_peer(milliseconds(0))) {
        out.gone = true;
        break;
      }
      continue;
    }
    auto reply = json::parse(*line, nullptr, false);
    if (!reply.is_object() || !reply.contains("id")
        || !reply["id"].is_number_integer() || reply["id"].get<int64_t>() < 0
        || reply["id"].get<size_t>() >= requests.size()) {
      out.garbage.push_back(*line);
      continue;
    }
    auto id = reply["id"].get<int64_t>();
    if (succeeded(reply))
      ++answered_ok;
    out.replies[id] = std::move(reply);
    --outstanding;
  }
  return out;
}

/// One pipeline per client, each on a thread of its own, from construction
/// until wait().
class pipelines {
public:
  pipelines(std::vector<std::unique_ptr<line_client>>& clients,
            const std::vector<std::vector<json>>& requests,
            steady_clock::time_point deadline)
    : results_(clients.size()) {
    for (size_t i = 0; i < clients.size(); ++i)
      threads_.emplace_back([&, i, deadline] {
        results_[i] = pipeline(*clients[i], requests[i], deadline, answered_ok);
      });
  }
  ~pipelines() {
    wait();
  }
  std::vector<exchange>& wait() {
    for (auto& t : threads_)
      if (t.joinable())
        t.join();
    return results_;
  }

  /// Ok replies so far, over all clients.
  std::atomic<int> answered_ok{0};

private:
  std::vector<exchange> results_;
  std::vector<std::thread> threads_;
};

std::string loopback(int i) {
  return "127.0.0." + std::to_string(i + 2);
}

std::string email_of(int conn, int n) {
  return "d" + std::to_string(conn) + "-" + std::to_string(n) + "@example.org";
}

std::string password_of(int conn, int n) {
  return "durable password " + std::to_string(conn) + "/" + std::to_string(n);
}

milliseconds kill_delay() {
  if (auto fixed = std::getenv("AUTHNODE_TEST_KILL_MS"))
    return milliseconds(std::atoi(fixed));
  std::random_device rd;
  return milliseconds(std::uniform_int_distribution<int>{200, 800}(rd));
}

struct account {
  std::string email, password;
};

} // namespace

TEST_CASE("every registration acknowledged before a SIGKILL survives it",
          "[durability]") {
  temp_dir dir;
  auto delay = kill_delay();
  INFO("SIGKILL " << delay.count()
                  << " ms after the first acknowledged registration, or at "
                  << kill_at_acknowledged
                  << " acknowledged (set AUTHNODE_TEST_KILL_MS to repeat)");
  std::vector<std::vector<json>> registrations(connections);
  for (int conn = 0; conn < connections; ++conn)
    for (int n = 0; n < per_connection; ++n)
      registrations[conn].push_back(
        register_request(email_of(conn, n), password_of(conn, n)));
  std::vector<exchange> results;
  int acknowledged_at_kill = 0;
  {
    auto opts = fast_options();
    // Each client has its own address, and the limit is far above what
    // they can send: no registration is refused for its rate.
    opts.push_back("--register-rate=1000000");
    node_process node{opts, dir.path()};
    std::vector<std::unique_ptr<line_client>> clients;
    for (int conn = 0; conn < connections; ++conn)
      clients.push_back(
        std::make_unique<line_client>(node.port(), loopback(conn)));
    pipelines running{clients, registrations,
                      steady_clock::now() + std::chrono::seconds(8)};
    // The delay counts from the first acknowledgement: a node built with
    // sanitizers takes a few hundred milliseconds for its first one.
    auto first_by = steady_clock::now() + std::chrono::seconds(5);
    while (steady_clock::now() < first_by && running.answered_ok == 0)
      std::this_thread::sleep_for(milliseconds(1));
    auto kill_time = steady_clock::now() + delay;
    while (steady_clock::now() < kill_time
           && running.answered_ok < kill_at_acknowledged)
      std::this_thread::sleep_for(milliseconds(2));
    acknowledged_at_kill = running.answered_ok;
    node.kill_hard();
    results = running.wait();
  }
  INFO(acknowledged_at_kill << " registrations had been acknowledged when "
                               "the SIGKILL was sent");

  std::vector<account> acknowledged;
  std::map<std::string, int> codes;
  for (int conn = 0; conn < connections; ++conn) {
    auto& r = results[conn];
    CHECK(r.garbage == std::vector<std::string>{});
    CHECK(r.gone); // ended by the kill, not by the deadline or the count
    for (auto& [id, reply] : r.replies) {
      INFO(reply.dump());
      CHECK((succeeded(reply) || failed(reply)));
      ++codes[outcome(reply)];
      if (succeeded(reply)) {
        auto n = static_cast<int>(id);
        CHECK(reply["user"]["email"] == email_of(conn, n));
        acknowledged.push_back({email_of(conn, n), password_of(conn, n)});
      }
    }
  }
  INFO("replies before the kill: " << json(codes).dump());
  // Too few, and the kill proved nothing.
  REQUIRE(acknowledged.size() >= 10);
  CHECK(acknowledged.size() < connections * per_connection);

  // Every acknowledged account logs in on a node started on the same files.
  // (No throttle: that is not what this checks, and logins pipelined from
  // one address would wait for each other.)
  auto opts = fast_options();
  opts.push_back("--throttle=off");
  node_process restarted{opts, dir.path()};
  std::vector<std::vector<json>> logins(connections);
  std::vector<std::vector<std::string>> expected(connections);
  for (size_t i = 0; i < acknowledged.size(); ++i) {
    logins[i % connections].push_back(
      login_request(acknowledged[i].email, acknowledged[i].password));
    expected[i % connections].push_back(acknowledged[i].email);
  }
  std::vector<std::unique_ptr<line_client>> clients;
  for (int conn = 0; conn < connections; ++conn)
    clients.push_back(std::make_unique<line_client>(restarted.port()));
  auto checked = pipelines{clients, logins,
                           steady_clock::now() + std::chrono::seconds(20)}
                   .wait();
  std::vector<std::string> lost;
  for (int conn = 0; conn < connections; ++conn) {
    CHECK(checked[conn].garbage == std::vector<std::string>{});
    for (size_t i = 0; i < logins[conn].size(); ++i) {
      auto reply = checked[conn].replies.find(static_cast<int64_t>(i));
      if (reply == checked[conn].replies.end())
        lost.push_back(expected[conn][i] + ": no reply");
      else if (!succeeded(reply->second)
               || reply->second["user"]["email"] != expected[conn][i])
        lost.push_back(expected[conn][i] + ": " + reply->second.dump());
    }
  }
  INFO(acknowledged.size() << " registrations were acknowledged, "
                           << lost.size() << " of them are lost");
  lost.resize(std::min<size_t>(lost.size(), 20)); // enough to show
  CHECK(lost == std::vector<std::string>{});
}
