// Failover on PostgreSQL (issue 17): a primary that acknowledges a commit
// only once its synchronous standby has it, a node whose --db names both
// servers with target_session_attrs=read-write, and a registration flood.
// The primary is killed with SIGKILL in the middle of it, the standby
// promoted: while no server takes writes every request is answered
// `unavailable` within --backend-timeout, after the promotion the node
// writes again by itself, and every registration it acknowledged is on
// the promoted standby.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "storage/postgres_sql.hpp"
#include "support/databases.hpp"
#include "support/line_client.hpp"
#include "support/node_process.hpp"
#include "support/postgres_server.hpp"
#include "support/protocol.hpp"
#include "support/temp_dir.hpp"

using namespace authnode::test;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

/// What the flood saw: each acknowledged email, each other reply's code,
/// and the longest wait for any reply.
struct flood_log {
  std::mutex mtx;
  std::vector<std::string> acknowledged;
  std::vector<std::string> codes;
  std::chrono::milliseconds slowest{0};
  /// When the first registration after the promotion was acknowledged.
  std::optional<steady::time_point> first_after_promotion;
};

/// A connection registering new users one after another until `stop`, at
/// most 3000 of them.
void flood(uint16_t port, int client, std::atomic<bool>& stop,
           std::atomic<bool>& promoted, flood_log& log) {
  line_client c{port};
  for (int i = 0; i < 3000 && !stop; ++i) {
    auto email = "user" + std::to_string(client) + "-" + std::to_string(i)
      + "@example.org";
    auto sent = steady::now();
    auto reply = register_user(c, email);
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      steady::now() - sent);
    std::lock_guard<std::mutex> guard{log.mtx};
    log.slowest = std::max(log.slowest, took);
    if (succeeded(reply)) {
      log.acknowledged.push_back(email);
      if (promoted && !log.first_after_promotion)
        log.first_after_promotion = steady::now();
    } else {
      log.codes.push_back(error_code(reply));
    }
  }
}

/// Waits (at most 20 s) until `done` holds, looking every 10 ms.
template <class Pred>
bool eventually(Pred done) {
  for (int i = 0; i < 2000; ++i) {
    if (done())
      return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

std::set<std::string> emails_in(const std::string& uri) {
  authnode::postgres_db db;
  auto st = db.open(uri);
  INFO(st.message);
  REQUIRE(st.ok());
  std::set<std::string> out;
  std::istringstream all{
    query(db, "SELECT coalesce(string_agg(email, ' '), '') FROM users")};
  for (std::string email; all >> email;)
    out.insert(email);
  return out;
}

} // namespace

TEST_CASE("postgresql: a node rides out the primary's death and the "
          "standby's promotion, and keeps every registration it "
          "acknowledged",
          "[e2e][postgres][failover]") {
  postgres_server primary{true};
  postgres_server standby{postgres_server::standby_of{primary}};
  {
    // Made through the primary, so that its commit waits for the standby:
    // a start of the test once replication runs.
    authnode::postgres_db admin;
    REQUIRE(admin.open(primary.uri()).ok());
    REQUIRE(admin.exec("CREATE DATABASE authnode").ok());
  }
  auto uri = "postgresql://authnode@127.0.0.1:" + std::to_string(primary.port())
    + ",127.0.0.1:" + std::to_string(standby.port())
    + "/authnode?target_session_attrs=read-write&connect_timeout=2";
  temp_dir keys;
  node_process node{{"--db=" + uri, "--secret-key-file=" + keys.file("key"),
                     "--hash-ops=1", "--hash-mem=8192", "--hashers=2",
                     "--backend-timeout=1s", "--register-rate=1000000"}};

  flood_log log;
  std::atomic<bool> stop{false};
  std::atomic<bool> promoted{false};
  std::vector<std::thread> clients;
  for (int client = 0; client < 3; ++client)
    clients.emplace_back([&, client] {
      flood(node.port(), client, stop, promoted, log);
    });
  auto count = [&](auto&& of) {
    std::lock_guard<std::mutex> guard{log.mtx};
    return of(log);
  };
  auto acknowledged = [&] {
    return count([](flood_log& l) {
      return l.acknowledged.size();
    });
  };
  auto unavailable = [&] {
    return count([](flood_log& l) {
      return std::count(l.codes.begin(), l.codes.end(), "unavailable");
    });
  };

  bool flowing = eventually([&] {
    return acknowledged() >= 30;
  });
  primary.kill();
  auto killed = steady::now();
  // No server takes writes now: the node says so, it does not hang.
  bool refused = flowing && eventually([&] {
                   return unavailable() >= 6;
                 });
  standby.promote();
  promoted = true;
  bool writing = refused && eventually([&] {
                   return count([](flood_log& l) {
                            return l.first_after_promotion;
                          })
                     .has_value();
                 });
  stop = true;
  for (auto& t : clients)
    t.join();

  INFO("replies other than success: "
       << log.codes.size()
       << ", first: " << (log.codes.empty() ? "" : log.codes[0]));
  INFO("node log:\n" << node.log());
  REQUIRE(flowing);
  REQUIRE(refused);
  REQUIRE(writing);
  INFO("from the kill to the first registration after the promotion: "
       << std::chrono::duration_cast<std::chrono::milliseconds>(
            *log.first_after_promotion - killed)
            .count()
       << " ms");
  // Every reply came within the backend timeout (and a margin for a
  // shared machine), each one a success or `unavailable`.
  CHECK(log.slowest < 2s);
  for (auto& code : log.codes)
    CHECK(code == "unavailable");
  // Every acknowledged registration survived on the promoted standby.
  auto stored = emails_in(standby.uri("authnode"));
  std::vector<std::string> lost;
  for (auto& email : log.acknowledged)
    if (!stored.count(email))
      lost.push_back(email);
  INFO(log.acknowledged.size()
       << " acknowledged, " << stored.size() << " stored");
  CHECK(lost.empty());
  // And the first of them can log in through the same node.
  CHECK(succeeded(login(node.port(), log.acknowledged.front())));
}
