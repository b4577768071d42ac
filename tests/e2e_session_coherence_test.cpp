// Session coherence over TCP (issue 18): a whoami that starts after an op
// that ends a session has been answered never succeeds, on any connection
// and through any gateway, however warm the session was. Each op that ends
// sessions is run on one connection (or gateway) while another connection
// (or gateway) has just checked the token and has a burst of whoamis of it
// in flight; the whoami sent once the op's answer is in must fail. Expiry
// is honoured to the second.
//
// These hold whatever caches the node keeps; they are the contract any
// session cache of the connections or the gateways has to keep.
#include <catch2/catch.hpp>

#include <chrono>
#include <ctime>
#include <fstream>
#include <iterator>
#include <signal.h>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/admin_client.hpp"
#include "support/databases.hpp"
#include "support/line_client.hpp"
#include "support/node_process.hpp"
#include "support/protocol.hpp"
#include "support/smtp_sink.hpp"
#include "support/temp_dir.hpp"

using namespace authnode::test;
using namespace std::chrono_literals;

namespace {

const std::string ann = "ann@example.org";

enum class ender {
  logout,
  change_password,
  sessions_revoke,
  user_disable,
  user_delete,
  user_set_password,
  recovery,
};

const char* name_of(ender e) {
  switch (e) {
    case ender::logout:
      return "logout";
    case ender::change_password:
      return "change_password";
    case ender::sessions_revoke:
      return "sessions_revoke";
    case ender::user_disable:
      return "user_disable";
    case ender::user_delete:
      return "user_delete";
    case ender::user_set_password:
      return "user_set_password";
    case ender::recovery:
      return "recovery_finish";
  }
  return "?";
}

/// Where the ops go: `a` and its admin channel end sessions, `b` checks
/// them. One node (two connections of it), or two gateways of one storage
/// node.
struct service {
  smtp_sink sink;
  std::unique_ptr<temp_dir> keys; // the shared secret key on PostgreSQL
  std::unique_ptr<node_process> storage;
  std::unique_ptr<node_process> node_a;
  std::unique_ptr<node_process> node_b; // null: b is a's node too

  static std::unique_ptr<service> single() {
    auto s = std::make_unique<service>();
    s->node_a = std::make_unique<node_process>(
      mail_options(s->sink, {"--verify-email=off"}));
    return s;
  }

  /// `lease`: the storage node's --session-lease; `timeout`: the
  /// gateways' --backend-timeout.
  static std::unique_ptr<service> gateways(std::string lease = "2s",
                                           std::string timeout = "10s") {
    auto s = std::make_unique<service>();
    s->storage = std::make_unique<node_process>(std::vector<std::string>{
      "--role=storage", "--node-port=0", "--smtp-url=" + s->sink.url(),
      "--mail-from=noreply@example.org", "--app-url=https://app.example.org",
      "--failure-delay=300ms", "--session-lease=" + lease});
    auto gateway = [&] {
      auto g = std::make_unique<node_process>(std::vector<std::string>{
        "--role=gateway",
        "--storage=127.0.0.1:" + std::to_string(s->storage->port()),
        "--hash-ops=1", "--hash-mem=8192", "--failure-delay=300ms",
        "--hashers=1", "--verify-email=off", "--backend-timeout=" + timeout});
      REQUIRE(g->wait_for_log("linked to storage node"));
      return g;
    };
    s->node_a = gateway();
    s->node_b = gateway();
    return s;
  }

  /// Two nodes of role all on one PostgreSQL database, with one secret key
  /// (issue 17): nothing between them but the database.
  static std::unique_ptr<service> postgres() {
    auto s = std::make_unique<service>();
    s->keys = std::make_unique<temp_dir>();
    std::vector<std::string> shared{
      "--verify-email=off", "--db=" + postgres_database(),
      "--secret-key-file=" + s->keys->file("secret-key")};
    s->node_a = std::make_unique<node_process>(mail_options(s->sink, shared));
    s->node_b = std::make_unique<node_process>(mail_options(s->sink, shared));
    return s;
  }

  node_process& a() { return *node_a; }
  node_process& b() { return node_b ? *node_b : *node_a; }
};

json call_ok(line_client& c, json request) {
  auto reply = c.call(std::move(request));
  INFO(reply.dump());
  REQUIRE(succeeded(reply));
  return reply;
}

/// Ends sessions of ann with `how`, through `a` (or its admin channel), and
/// returns once the answer is in. `keeper` is a token of ann's that
/// change_password uses (and keeps).
void end_sessions(service& s, line_client& a, ender how,
                  const std::string& token, const std::string& keeper) {
  admin_client admin{s.a()};
  switch (how) {
    case ender::logout:
      call_ok(a, {{"op", "logout"}, {"token", token}});
      return;
    case ender::change_password:
      call_ok(a, {{"op", "change_password"},
                  {"token", keeper},
                  {"old_password", default_password},
                  {"new_password", "a brand new secret"}});
      return;
    case ender::sessions_revoke:
      call_ok(admin.c, {{"op", "sessions_revoke"},
                        {"email", ann},
                        {"admin_key", admin.key}});
      return;
    case ender::user_disable:
      call_ok(admin.c,
              {{"op", "user_disable"}, {"email", ann}, {"admin_key", admin.key}});
      return;
    case ender::user_delete:
      call_ok(admin.c,
              {{"op", "user_delete"}, {"email", ann}, {"admin_key", admin.key}});
      return;
    case ender::user_set_password:
      call_ok(admin.c, {{"op", "user_set_password"},
                        {"email", ann},
                        {"password", "a brand new secret"},
                        {"admin_key", admin.key}});
      return;
    case ender::recovery: {
      auto mails = s.sink.messages().size();
      call_ok(a, {{"op", "recovery_start"}, {"email", ann}});
      REQUIRE(s.sink.wait_for(mails + 1, 10s));
      auto code = code_in(s.sink.messages()[mails]);
      REQUIRE(code);
      call_ok(a, {{"op", "recovery_finish"},
                  {"email", ann},
                  {"code", *code},
                  {"new_password", "a brand new secret"}});
      return;
    }
  }
}

json whoami_request(const std::string& token, int id) {
  return {{"id", id}, {"op", "whoami"}, {"token", token}};
}

void check_ended_everywhere(service& s, ender how) {
  INFO("ended by " << name_of(how));
  line_client a{s.a().port()};
  line_client b{s.b().port(), "127.0.0.2"};
  REQUIRE(succeeded(register_user(a, ann)));
  auto token = session_token(a, ann);
  auto keeper = session_token(a, ann);

  // b checks the token twice, so that a cache on its side would hold it,
  // and has a burst of checks in flight while the session ends.
  REQUIRE(succeeded(whoami(b, token)));
  REQUIRE(succeeded(whoami(b, token)));
  std::string burst;
  for (int i = 0; i < 20; ++i)
    burst += line_of(whoami_request(token, 1000 + i));
  b.send_raw(burst);
  end_sessions(s, a, how, token, keeper);

  // Sent after the answer: refused on both sides.
  b.send(whoami_request(token, 2000));
  for (int i = 0; i < 20; ++i)
    CHECK(b.read_reply(1000 + i).is_object()); // either outcome: a race
  CHECK(error_code(b.read_reply(2000)) == "invalid_token");
  CHECK(error_code(whoami(a, token)) == "invalid_token");
  line_client fresh{s.b().port(), "127.0.0.3"};
  CHECK(error_code(whoami(fresh, token)) == "invalid_token");

  // logout ends its own session, change_password the others only; the
  // keeper goes on after both.
  if (how == ender::logout || how == ender::change_password)
    CHECK(succeeded(whoami(b, keeper)));
  else
    CHECK(error_code(whoami(b, keeper)) == "invalid_token");
}

/// "2026-12-06T21:00:00Z" as a time point.
std::chrono::system_clock::time_point parse_utc(const std::string& text) {
  std::tm tm{};
  REQUIRE(strptime(text.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm) != nullptr);
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

/// SIGSTOP for as long as it lives (a hung process), SIGCONT after. The
/// signal is only queued when kill() returns: this waits (at most 2 s) until
/// the kernel shows the process stopped, so that nothing sent after it is
/// answered.
struct frozen {
  explicit frozen(const node_process& node) : pid(node.pid()) {
    REQUIRE(::kill(pid, SIGSTOP) == 0);
    REQUIRE(stopped_within(2s));
  }
  bool stopped_within(std::chrono::milliseconds limit) const {
    auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
      std::ifstream stat{"/proc/" + std::to_string(pid) + "/stat"};
      std::string text{std::istreambuf_iterator<char>{stat}, {}};
      // "PID (comm) STATE ...": the state follows the last ')'.
      auto paren = text.rfind(')');
      if (paren != std::string::npos && paren + 2 < text.size()
          && text[paren + 2] == 'T')
        return true;
      std::this_thread::sleep_for(5ms);
    }
    return false;
  }
  ~frozen() {
    ::kill(pid, SIGCONT);
  }
  pid_t pid;
};

/// Waits until whoami of `token` through `c` succeeds (the gateway's cache
/// has its lease): at most 50 tries, 50 ms apart.
bool answered_in_time(line_client& c, const std::string& token) {
  for (int i = 0; i < 50; ++i) {
    if (succeeded(whoami(c, token)))
      return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

const std::vector<ender> all_enders{
  ender::logout,       ender::change_password, ender::sessions_revoke,
  ender::user_disable, ender::user_delete,     ender::user_set_password,
  ender::recovery};

} // namespace

TEST_CASE("coherence: a session ended on one connection is refused on "
          "every other at once, however warm",
          "[e2e][coherence]") {
  auto how = GENERATE(from_range(all_enders));
  auto s = service::single();
  check_ended_everywhere(*s, how);
}

TEST_CASE("coherence: a session ended through one gateway is refused "
          "through the other at once, however warm",
          "[e2e][coherence][cluster]") {
  auto how = GENERATE(from_range(all_enders));
  auto s = service::gateways();
  check_ended_everywhere(*s, how);
}

TEST_CASE("coherence: a session ended on one node is refused on another "
          "node on the same PostgreSQL database at once, however warm",
          "[e2e][coherence][postgres]") {
  auto how = GENERATE(from_range(all_enders));
  auto s = service::postgres();
  check_ended_everywhere(*s, how);
}

TEST_CASE("coherence: a session checked just before its expiry is refused "
          "from the second it expires",
          "[e2e][coherence]") {
  auto options = fast_options();
  options.push_back("--session-ttl=2s");
  node_process node{options};
  line_client a{node.port()};
  line_client b{node.port(), "127.0.0.2"};
  REQUIRE(succeeded(register_user(a, ann)));
  auto session = login(a, ann);
  REQUIRE(succeeded(session));
  auto token = session["token"].get<std::string>();
  auto expires = parse_utc(session["expires_at"].get<std::string>());
  REQUIRE(succeeded(whoami(b, token)));
  // Checked on b until the second before expires_at, then from it on.
  while (std::chrono::system_clock::now() < expires - 1s) {
    CHECK(succeeded(whoami(b, token)));
    std::this_thread::sleep_for(100ms);
  }
  std::this_thread::sleep_until(expires);
  CHECK(error_code(whoami(b, token)) == "invalid_token");
  CHECK(error_code(whoami(a, token)) == "invalid_token");
}

TEST_CASE("coherence: whoami on another connection tells of the latest "
          "login at once",
          "[e2e][coherence]") {
  node_process node;
  line_client a{node.port()};
  line_client b{node.port(), "127.0.0.2"};
  REQUIRE(succeeded(register_user(a, ann)));
  auto first = login(a, ann);
  REQUIRE(succeeded(first));
  auto token = first["token"].get<std::string>();
  auto warm = whoami(b, token);
  REQUIRE(succeeded(warm));
  REQUIRE(succeeded(whoami(b, token)));
  // last_login_at has whole seconds: the next login is in another one.
  auto next_second = parse_utc(warm["user"]["last_login_at"]) + 1s;
  std::this_thread::sleep_until(next_second);
  auto second = login(a, ann);
  REQUIRE(succeeded(second));
  auto seen = whoami(b, token);
  REQUIRE(succeeded(seen));
  CHECK(seen["user"]["last_login_at"] == second["user"]["last_login_at"]);
  CHECK(seen["user"]["last_login_at"] != warm["user"]["last_login_at"]);
}

TEST_CASE("coherence: a gateway that hangs holds a logout up one lease at "
          "most, and refuses the session once it runs again",
          "[e2e][coherence][cluster]") {
  // A lease well under the gateways' backend timeout and under the 1.5 s
  // after which CAF's heartbeats drop a silent node: what ends the wait
  // here is the lease.
  auto s = service::gateways("400ms", "3s");
  line_client a{s->a().port()};
  line_client b{s->b().port(), "127.0.0.2"};
  REQUIRE(succeeded(register_user(a, ann)));
  auto token = session_token(a, ann);
  REQUIRE(answered_in_time(b, token));
  REQUIRE(succeeded(whoami(b, token)));
  {
    frozen hung{s->b()};
    // Not unavailable after 3 s: the hub stopped waiting for b.
    call_ok(a, {{"op", "logout"}, {"token", token}});
  }
  CHECK(error_code(whoami(b, token)) == "invalid_token");
  CHECK(error_code(whoami(a, token)) == "invalid_token");
}

TEST_CASE("coherence: a gateway answers from its cache only under the "
          "storage node's lease",
          "[e2e][coherence][cluster]") {
  auto s = service::gateways("1s", "300ms");
  line_client a{s->a().port()};
  line_client b{s->b().port(), "127.0.0.2"};
  REQUIRE(succeeded(register_user(a, ann)));
  auto token = session_token(a, ann);
  auto other = session_token(a, ann);
  REQUIRE(answered_in_time(b, token));
  frozen hung{*s->storage};
  // The cached session is answered at once, without the storage node; one
  // that b has not seen waits for it and is unavailable.
  CHECK(succeeded(whoami(b, token)));
  CHECK(error_code(whoami(b, other)) == "unavailable");
  // Once the lease has run out, nothing is vouched for without the storage
  // node (whether its link is lost by then or not).
  std::this_thread::sleep_for(1200ms);
  CHECK(error_code(whoami(b, token)) == "unavailable");
}
