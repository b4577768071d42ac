// End to end: the admin op backup over TCP (docs/protocol.md, "Admin
// channel"; docs/operations.md, "Backups").
//
// A backup is taken while other connections register and log in, one page
// per step through a database of bulk users, so that it takes thousands of
// steps; every request during it must be answered, and a second node
// started on the copy must know every account and session acknowledged
// before the backup was asked for. Then what the op refuses: an existing
// file, a relative path, a directory that does not exist, a second backup
// at once, a wrong key; and a backup cut short by the node's shutdown.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>
#include <vector>

#include <sqlite3.h>

#include "storage/sqlite.hpp"
#include "support/admin_client.hpp"
#include "support/databases.hpp"
#include "support/line_client.hpp"
#include "support/node_process.hpp"
#include "support/protocol.hpp"

using namespace authnode::test;
using std::chrono::milliseconds;
using std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

/// Users that fill the database before the node starts: a few thousand
/// pages for the backup to step through.
constexpr int bulk_users = 60000;

std::vector<std::string> backup_options() {
  auto opts = fast_options();
  opts.push_back("--backup-step-pages=1");
  // Logins pipelined from one address would wait for each other, and
  // registrations would run out of their budget: not what this checks.
  opts.push_back("--throttle=off");
  return opts;
}

/// A node on a database of bulk users.
struct bulk_node {
  temp_dir dir;
  bool filled = fill();
  node_process node{backup_options(), dir.path()};
  admin_client admin{node};

  bool fill() {
    add_bulk_users(dir.path() + "/auth.db", bulk_users);
    return true;
  }
};

json backup(admin_client& a, const std::string& path) {
  return a.call({{"op", "backup"}, {"path", path}}, std::chrono::seconds(60));
}

std::string email_of(const std::string& kind, int n) {
  return kind + std::to_string(n) + "@example.org";
}

std::string password_of(const std::string& email) {
  return "password of " + email;
}

/// One request of the background traffic and what came of it.
struct exchange {
  json request;
  json reply; ///< null: no reply in time, or the connection failed
  steady_clock::time_point sent;
  steady_clock::time_point answered;
};

/// Requests made one at a time on a connection of its own, from a thread of
/// its own, until stopped, at most `limit` of them and for at most 60 s.
class traffic {
public:
  traffic(uint16_t port, std::function<json(int)> make, int limit)
    : thread_([this, port, make, limit] {
        run(port, make, limit);
      }) {}
  ~traffic() {
    stop();
  }

  void stop() {
    stop_ = true;
    if (thread_.joinable())
      thread_.join();
  }

  /// Waits (bounded) until `n` more requests than now have been answered.
  void wait_for_more(int n) {
    auto target = answered_.load() + n;
    auto deadline = steady_clock::now() + std::chrono::seconds(20);
    while (answered_ < target && steady_clock::now() < deadline && !finished_)
      std::this_thread::sleep_for(milliseconds(1));
  }

  /// After stop(): everything sent and what came back.
  const std::vector<exchange>& log() const {
    return log_;
  }

private:
  void run(uint16_t port, const std::function<json(int)>& make, int limit) {
    auto deadline = steady_clock::now() + std::chrono::seconds(60);
    try {
      line_client c{port};
      for (int i = 0; i < limit && !stop_ && steady_clock::now() < deadline;
           ++i) {
        exchange x{make(i), nullptr, steady_clock::now(), {}};
        try {
          x.reply = c.call(x.request, std::chrono::seconds(10));
        } catch (const std::exception&) {
          // No reply: recorded as null, and the connection is done for.
          log_.push_back(std::move(x));
          break;
        }
        x.answered = steady_clock::now();
        log_.push_back(std::move(x));
        ++answered_;
      }
    } catch (const std::exception&) {
      // Could not connect: the empty log says so.
    }
    finished_ = true;
  }

  std::atomic<bool> stop_{false};
  std::atomic<bool> finished_{false};
  std::atomic<int> answered_{0};
  std::vector<exchange> log_;
  std::thread thread_;
};

/// Nothing of a backup at `path`: no file, no partial file.
void check_nothing_at(const std::string& path) {
  CHECK_FALSE(fs::exists(path));
  CHECK_FALSE(fs::exists(path + ".partial"));
}

} // namespace

TEST_CASE("a backup taken under load holds every user and session "
          "acknowledged before it",
          "[backup][sqlite]") {
  bulk_node a;
  temp_dir copy_dir;
  auto target = copy_dir.path() + "/auth.db";
  constexpr int users = 12;

  // Before: accounts, each logged in once.
  std::vector<std::string> emails;
  std::vector<std::string> tokens;
  {
    line_client c{a.node.port()};
    for (int i = 0; i < users; ++i) {
      emails.push_back(email_of("before", i));
      auto& email = emails.back();
      REQUIRE(succeeded(register_user(c, email, password_of(email))));
      tokens.push_back(session_token(c, email, password_of(email)));
    }
  }

  // During: registrations and logins on connections of their own.
  traffic registering{a.node.port(),
                      [](int n) {
                        auto email = email_of("during", n);
                        return register_request(email, password_of(email));
                      },
                      2000};
  traffic logging_in{a.node.port(),
                     [&](int n) {
                       auto& email = emails[n % users];
                       return login_request(email, password_of(email));
                     },
                     2000};
  registering.wait_for_more(3);
  logging_in.wait_for_more(3);
  auto asked = steady_clock::now();
  a.admin.send({{"id", "bk"}, {"op", "backup"}, {"path", target}});
  // The partial file appears when the database actor begins the backup.
  auto deadline = asked + std::chrono::seconds(10);
  while (!fs::exists(target + ".partial") && steady_clock::now() < deadline)
    std::this_thread::sleep_for(milliseconds(1));
  auto began = steady_clock::now();
  auto reply = a.admin.c.read_reply("bk", std::chrono::seconds(60));
  auto replied = steady_clock::now();
  registering.wait_for_more(3);
  logging_in.wait_for_more(3);
  registering.stop();
  logging_in.stop();

  INFO(reply.dump());
  REQUIRE(succeeded(reply));
  auto& made = reply["backup"];
  CHECK(made["path"] == target);
  CHECK(made["bytes"] == fs::file_size(target));
  CHECK(made["pages"].get<int64_t>() * 4096 == made["bytes"].get<int64_t>());
  CHECK(made["duration_ms"].get<int64_t>() >= 0);
  CHECK(made.size() == 4);
  CHECK(file_mode(target) == 0600);
  CHECK_FALSE(fs::exists(target + ".partial"));

  // Every request of the traffic was answered, and correctly; some that
  // were sent after the backup began were answered before it ended (each
  // needs the database actor, which would otherwise be busy copying).
  int during = 0;
  for (auto* t : {&registering, &logging_in}) {
    REQUIRE(t->log().size() >= 6);
    for (auto& x : t->log()) {
      INFO(x.request.dump() << " -> " << x.reply.dump());
      CHECK(succeeded(x.reply));
      during += x.sent > began && x.answered < replied;
    }
  }
  auto took = std::chrono::duration_cast<milliseconds>(replied - began);
  INFO("the backup took " << took.count() << " ms; " << during
                          << " requests were served during it");
  CHECK(during > 0);

  // What was acknowledged before the backup was asked for.
  for (auto& x : registering.log())
    if (x.answered < asked)
      emails.push_back(x.request["email"]);
  for (auto& x : logging_in.log())
    if (x.answered < asked)
      tokens.push_back(x.reply["token"]);

  // The copy is one self-contained file in a good state.
  {
    authnode::sqlite_db copy;
    REQUIRE(copy.open(target, SQLITE_OPEN_READONLY).ok());
    CHECK(query(copy, "PRAGMA journal_mode") == "delete");
    CHECK(query(copy, "PRAGMA quick_check") == "ok");
    CHECK(std::stoi(query(copy, "SELECT count(*) FROM users"))
          >= bulk_users + static_cast<int>(emails.size()));
  }
  CHECK_FALSE(fs::exists(target + "-wal"));

  // A second node on the copy, next to the first, knows all of it.
  node_process b{backup_options(), copy_dir.path()};
  REQUIRE(b.port() != a.node.port());
  line_client c{b.port()};
  for (auto& email : emails) {
    INFO(email);
    CHECK(succeeded(login(c, email, password_of(email))));
  }
  for (auto& token : tokens) {
    auto who = whoami(c, token);
    INFO(who.dump());
    CHECK(succeeded(who));
  }
}

TEST_CASE("a backup never overwrites and reports what it cannot do",
          "[backup][sqlite]") {
  node_process node{backup_options()};
  admin_client a{node};
  temp_dir dir;

  // Something is there: refused, and left as it was.
  auto taken = dir.path() + "/taken.db";
  std::ofstream{taken} << "precious";
  auto reply = backup(a, taken);
  CHECK(error_code(reply) == "exists");
  CHECK_THAT(reply["error"]["message"].get<std::string>(),
             Catch::Contains(taken));
  CHECK(fs::file_size(taken) == 8);
  CHECK_FALSE(fs::exists(taken + ".partial"));
  CHECK(error_code(backup(a, dir.path())) == "exists");

  // Not a usable path.
  for (json path : {json("relative/auth.db"), json(""), json(42),
                    json(std::string{"/tmp/a\0b", 8})}) {
    INFO(path.dump());
    CHECK(error_code(a.call({{"op", "backup"}, {"path", path}}))
          == "bad_request");
  }
  CHECK(error_code(a.call({{"op", "backup"}})) == "bad_request");
  CHECK_FALSE(fs::exists(fs::path{"relative"}));

  // The file system refuses: the message names the cause.
  auto missing = dir.path() + "/missing/auth.db";
  reply = backup(a, missing);
  CHECK(error_code(reply) == "backup_failed");
  CHECK_THAT(reply["error"]["message"].get<std::string>(),
             Catch::Contains("No such file or directory"));
  CHECK_FALSE(fs::exists(dir.path() + "/missing"));

  // After all that, a backup still works, and nothing else was left.
  auto good = dir.path() + "/good.db";
  CHECK(succeeded(backup(a, good)));
  std::vector<std::string> left;
  for (auto& entry : fs::directory_iterator{dir.path()})
    left.push_back(entry.path().filename().string());
  std::sort(left.begin(), left.end());
  CHECK(left == std::vector<std::string>{"good.db", "taken.db"});
}

TEST_CASE("of two backups at once one is busy", "[backup][sqlite]") {
  bulk_node a;
  temp_dir dir;
  auto first = dir.path() + "/first.db";
  auto second = dir.path() + "/second.db";
  // In one write: the second arrives while the first has thousands of
  // steps to go.
  auto line = [&](int id, const std::string& path) {
    return json{{"id", id},
                {"op", "backup"},
                {"path", path},
                {"admin_key", a.admin.key}}
             .dump()
      + "\n";
  };
  a.admin.c.send_raw(line(1, first) + line(2, second));
  auto r1 = a.admin.c.read_reply(1, std::chrono::seconds(60));
  auto r2 = a.admin.c.read_reply(2, std::chrono::seconds(60));
  INFO(r1.dump() << "\n" << r2.dump());
  CHECK(succeeded(r1));
  CHECK(error_code(r2) == "busy");
  CHECK(r2["error"]["message"] == "a backup is already running");
  check_nothing_at(second);
  CHECK(fs::exists(first));
}

TEST_CASE("a backup without the right admin key is forbidden",
          "[backup][sqlite]") {
  node_process node{backup_options()};
  temp_dir dir;
  auto target = dir.path() + "/auth.db";
  line_client c{node.admin_port()};
  for (json key : {json("wrong"), json(nullptr)}) {
    json request{{"op", "backup"}, {"path", target}};
    if (!key.is_null())
      request["admin_key"] = key;
    auto reply = c.call(request);
    INFO(reply.dump());
    CHECK(error_code(reply) == "forbidden");
  }
  check_nothing_at(target);
}

TEST_CASE("a backup cut short by the node's shutdown is answered and leaves "
          "no partial file",
          "[backup][sqlite]") {
  bulk_node a;
  temp_dir dir;
  auto target = dir.path() + "/auth.db";
  a.admin.send({{"id", "bk"}, {"op", "backup"}, {"path", target}});
  // The partial file appears when the backup begins.
  auto deadline = steady_clock::now() + std::chrono::seconds(10);
  while (!fs::exists(target + ".partial") && steady_clock::now() < deadline)
    std::this_thread::sleep_for(milliseconds(1));
  REQUIRE(fs::exists(target + ".partial"));
  CHECK(a.node.stop() == 0);
  // The reply went out before the connection closed.
  auto reply = a.admin.c.read_reply("bk", std::chrono::seconds(5));
  INFO(reply.dump());
  CHECK(error_code(reply) == "backup_failed");
  CHECK_THAT(reply["error"]["message"].get<std::string>(),
             Catch::Contains("shutting down"));
  check_nothing_at(target);
}
