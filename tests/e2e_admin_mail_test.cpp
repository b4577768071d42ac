// End to end: the admin ops of the account codes, mail_outbox and
// user_verify, over the real admin channel. The outbox is watched while a
// real SMTP server on loopback (support/smtp_sink) refuses the mail and
// after it takes it again.
#include <catch2/catch.hpp>

#include <chrono>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

#include "support/admin_client.hpp"
#include "support/line_client.hpp"
#include "support/node_process.hpp"
#include "support/protocol.hpp"
#include "support/smtp_sink.hpp"

using namespace authnode::test;
using namespace std::chrono_literals;
using std::chrono::steady_clock;

namespace {

const std::string ann = "ann@example.org";

/// fast_options() and mail through `sink`, retried every 100 ms; no
/// verification mail at register, so that the outbox holds only what a
/// test puts there.
std::vector<std::string> outbox_options(const smtp_sink& sink) {
  return mail_options(sink, {"--verify-email=off"});
}

json mail_outbox(admin_client& a) {
  return a.call({{"op", "mail_outbox"}});
}

/// Asks mail_outbox until `done` holds for its reply (at most 10 s); the
/// last reply either way.
template <class Pred>
json poll_outbox(admin_client& a, Pred done) {
  auto deadline = steady_clock::now() + 10s;
  auto reply = mail_outbox(a);
  while (!(succeeded(reply) && done(reply["outbox"]))
         && steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
    reply = mail_outbox(a);
  }
  return reply;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("mail_outbox on a node without mail is unavailable naming "
          "--smtp-url",
          "[e2e][admin_mail]") {
  node_process node;
  admin_client a{node};
  auto reply = mail_outbox(a);
  CHECK(error_code(reply) == "unavailable");
  CHECK(contains(reply["error"]["message"].get<std::string>(), "--smtp-url"));
}

TEST_CASE("mail_outbox shows a refused mail waiting, with its attempts and "
          "error but no address or code, until the relay takes it",
          "[e2e][admin_mail]") {
  smtp_sink sink;
  node_process node{outbox_options(sink)};
  admin_client a{node};
  line_client c{node.port()};

  auto empty = mail_outbox(a);
  REQUIRE(succeeded(empty));
  CHECK(empty["outbox"]["pending"] == 0);
  CHECK(empty["outbox"]["oldest_created_at"].is_null());
  CHECK(empty["outbox"]["most_attempts"] == 0);
  CHECK(empty["outbox"]["last_error"].is_null());

  REQUIRE(succeeded(register_user(c, ann)));
  sink.reject(true);
  auto before = static_cast<int64_t>(std::time(nullptr));
  REQUIRE(succeeded(c.call({{"op", "recovery_start"}, {"email", ann}})));

  auto waiting = poll_outbox(a, [](const json& box) {
    return box["most_attempts"].get<int64_t>() >= 1;
  });
  INFO(waiting.dump());
  REQUIRE(succeeded(waiting));
  auto& box = waiting["outbox"];
  CHECK(box["pending"] == 1);
  CHECK(box["most_attempts"].get<int64_t>() >= 1);
  REQUIRE(box["last_error"].is_string());
  CHECK(!box["last_error"].get<std::string>().empty());
  REQUIRE(box["oldest_created_at"].is_string());
  // An RFC 3339 time, to the second, of when the mail was queued.
  auto when = box["oldest_created_at"].get<std::string>();
  std::tm tm{};
  auto end = strptime(when.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  REQUIRE(end != nullptr);
  CHECK(*end == '\0');
  auto queued = static_cast<int64_t>(timegm(&tm));
  CHECK(queued >= before - 1);
  CHECK(queued <= before + 10);
  CHECK(!contains(waiting.dump(), ann));

  sink.reject(false);
  auto drained = poll_outbox(a, [](const json& box) {
    return box["pending"] == 0;
  });
  INFO(drained.dump());
  REQUIRE(succeeded(drained));
  CHECK(drained["outbox"]["pending"] == 0);
  CHECK(drained["outbox"]["oldest_created_at"].is_null());
  REQUIRE(sink.wait_for(1, 10s));
  // The code that was waiting never showed in the outbox's reply.
  auto code = code_in(sink.messages()[0]);
  REQUIRE(code);
  CHECK(!contains(waiting.dump(), *code));
  CHECK(!contains(waiting.dump(), code->substr(0, 4) + code->substr(5)));
}

TEST_CASE("user_verify marks the address proven, also for a live session, "
          "and unknown emails are no_such_user",
          "[e2e][admin_mail]") {
  node_process node;
  admin_client a{node};
  line_client c{node.port()};
  auto registered = register_user(c, ann);
  REQUIRE(succeeded(registered));
  CHECK(registered["user"]["email_verified"] == false);
  auto token = session_token(c, ann);
  // The session is cached now, user object and all.
  REQUIRE(whoami(c, token)["user"]["email_verified"] == false);

  auto verified
    = a.call({{"op", "user_verify"}, {"email", " Ann@Example.org"}});
  CHECK(succeeded(verified));
  CHECK(show_user(a, ann)["user"]["email_verified"] == true);
  auto me = whoami(c, token);
  REQUIRE(succeeded(me));
  CHECK(me["user"]["email_verified"] == true);

  CHECK(succeeded(
    a.call({{"op", "user_verify"}, {"email", ann}, {"verified", false}})));
  CHECK(show_user(a, ann)["user"]["email_verified"] == false);
  CHECK(whoami(c, token)["user"]["email_verified"] == false);
  // The session itself lives on: verification ends none.
  CHECK(show_user(a, ann)["user"]["sessions"] == 1);

  CHECK(
    error_code(a.call({{"op", "user_verify"}, {"email", "nobody@example.org"}}))
    == "no_such_user");
  CHECK(error_code(a.call({{"op", "user_verify"}})) == "bad_request");
  CHECK(error_code(
          a.call({{"op", "user_verify"}, {"email", ann}, {"verified", "yes"}}))
        == "bad_request");

  auto log = node.log();
  CHECK(contains(log, "\"op\":\"admin:user_verify\""));
  CHECK(contains(log, "\"op\":\"admin:user_unverify\""));
}

TEST_CASE("mail_outbox and user_verify with a wrong admin key are forbidden "
          "and change nothing",
          "[e2e][admin_mail]") {
  auto opts = fast_options();
  opts.push_back("--throttle=off");
  node_process node{opts};
  admin_client a{node};
  line_client c{node.port()};
  REQUIRE(succeeded(register_user(c, ann)));
  line_client wrong{node.admin_port()};
  for (auto request :
       {json{{"op", "mail_outbox"}, {"admin_key", "wrong"}},
        json{{"op", "user_verify"}, {"email", ann}, {"admin_key", "wrong"}}}) {
    INFO(request.dump());
    auto reply = wrong.call(request);
    CHECK(error_code(reply) == "forbidden");
  }
  CHECK(show_user(a, ann)["user"]["email_verified"] == false);
  // The public port knows neither op.
  for (auto op : {"mail_outbox", "user_verify"})
    CHECK(error_code(c.call(
            {{"op", op}, {"email", ann}, {"admin_key", node.admin_key()}}))
          == "unknown_op");
}
