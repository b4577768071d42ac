// End to end: account recovery, email verification and email change over
// TCP against a real node, with the mail delivered to a real SMTP server on
// loopback (tests/support/smtp_sink). Every code a test types comes from a
// delivered mail, as it would for a person.
#include <catch2/catch.hpp>

#include <cctype>
#include <chrono>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include <sys/stat.h>

#include "support/admin_client.hpp"
#include "support/line_client.hpp"
#include "support/node_process.hpp"
#include "support/protocol.hpp"
#include "support/smtp_sink.hpp"
#include "support/temp_dir.hpp"

using namespace authnode::test;
using namespace std::chrono_literals;
using std::chrono::steady_clock;

namespace {

const std::string ann = "ann@example.org";

json recovery_start(line_client& c, const std::string& email) {
  return c.call({{"op", "recovery_start"}, {"email", email}});
}

json recovery_finish(line_client& c, const std::string& email,
                     const std::string& code, const std::string& password) {
  return c.call({{"op", "recovery_finish"},
                 {"email", email},
                 {"code", code},
                 {"new_password", password}});
}

/// The code of the `n`th mail (1-based) once it arrived, or "".
std::string code_of_mail(const smtp_sink& sink, size_t n) {
  if (!sink.wait_for(n, 10s))
    return {};
  return code_in(sink.messages()[n - 1]).value_or("");
}

/// Mails to `to` so far.
size_t mails_to(const smtp_sink& sink, const std::string& to) {
  size_t n = 0;
  for (auto& m : sink.messages())
    if (mail_header(m, "To") == to)
      ++n;
  return n;
}

std::string file_bytes(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  return {std::istreambuf_iterator<char>{in}, {}};
}

} // namespace

TEST_CASE("recovery: a code from the mail sets a new password, logs in and "
          "revokes every session",
          "[e2e][recovery]") {
  smtp_sink sink;
  node_process node{mail_options(sink, {"--verify-email=off"})};
  line_client c{node.port()};
  REQUIRE(succeeded(register_user(c, ann)));
  auto old_session = login(c, ann);
  REQUIRE(succeeded(old_session));

  REQUIRE(succeeded(recovery_start(c, ann)));
  auto code = code_of_mail(sink, 1);
  REQUIRE(!code.empty());
  auto mail = sink.messages()[0];
  CHECK(mail_header(mail, "To") == ann);
  CHECK(mail_body(mail).find("https://app.example.org") != std::string::npos);

  // Typed as a person might: lower case, without the dash.
  std::string typed = code.substr(0, 4) + code.substr(5);
  for (auto& ch : typed)
    ch = static_cast<char>(std::tolower(ch));
  auto granted = recovery_finish(c, ann, typed, "a brand new secret");
  REQUIRE(succeeded(granted));
  CHECK(granted["token"].is_string());
  CHECK(granted["user"]["email"] == ann);
  CHECK(granted["user"]["email_verified"] == true);
  CHECK(succeeded(whoami(c, granted["token"])));
  CHECK(error_code(whoami(c, old_session["token"])) == "invalid_token");
  CHECK(error_code(login(c, ann)) == "invalid_credentials");
  CHECK(succeeded(login(c, ann, "a brand new secret")));
  // Used up.
  CHECK(error_code(recovery_finish(c, ann, code, "another new secret"))
        == "invalid_code");

  // Nothing of the code in the log or in the database's files.
  CHECK(node.log().find(code) == std::string::npos);
  for (auto suffix : {"", "-wal"})
    CHECK(file_bytes(node.db_dir() + "/auth.db" + suffix).find(code)
          == std::string::npos);
}

TEST_CASE("recovery: a wrong code is held, and five kill the code",
          "[e2e][recovery]") {
  smtp_sink sink;
  node_process node{mail_options(sink, {"--verify-email=off"})};
  line_client c{node.port()};
  REQUIRE(succeeded(register_user(c, ann)));
  REQUIRE(succeeded(recovery_start(c, ann)));
  auto code = code_of_mail(sink, 1);
  REQUIRE(!code.empty());
  auto wrong = code == "0000-0000" ? "1111-1111" : "0000-0000";

  auto started = steady_clock::now();
  CHECK(error_code(recovery_finish(c, ann, wrong, "a brand new secret"))
        == "invalid_code");
  CHECK(steady_clock::now() - started >= 300ms); // --failure-delay
  // The password login of the owner is not slowed by the code guesses.
  started = steady_clock::now();
  CHECK(succeeded(login(c, ann)));
  CHECK(steady_clock::now() - started < 300ms);

  // Four more wrong tries (each from another address, so that no penalty
  // refuses them first) kill the code: the right one no longer works.
  for (int i = 2; i <= 5; ++i) {
    line_client other{node.port(), "127.0.0." + std::to_string(i)};
    auto reply = recovery_finish(other, ann, wrong, "a brand new secret");
    CHECK(outcome(reply) != "ok");
  }
  line_client fresh{node.port(), "127.0.0.9"};
  CHECK(error_code(recovery_finish(fresh, ann, code, "a brand new secret"))
        == "invalid_code");
  CHECK(succeeded(login(c, ann)));
}

TEST_CASE("recovery: a new code replaces the old one, codes expire",
          "[e2e][recovery]") {
  smtp_sink sink;
  node_process node{
    mail_options(sink, {"--verify-email=off", "--code-ttl=1s"})};
  line_client c{node.port()};
  REQUIRE(succeeded(register_user(c, ann)));
  REQUIRE(succeeded(recovery_start(c, ann)));
  REQUIRE(succeeded(recovery_start(c, ann)));
  auto first = code_of_mail(sink, 1);
  auto second = code_of_mail(sink, 2);
  REQUIRE(!first.empty());
  REQUIRE(!second.empty());
  REQUIRE(first != second);
  CHECK(error_code(recovery_finish(c, ann, first, "a brand new secret"))
        == "invalid_code");
  // The wrong try above counted, but the code lives on; after 1 s it is
  // expired all the same.
  auto deadline = steady_clock::now() + 1500ms;
  while (steady_clock::now() < deadline)
    std::this_thread::sleep_for(50ms);
  CHECK(error_code(recovery_finish(c, ann, second, "a brand new secret"))
        == "invalid_code");
}

TEST_CASE("recovery: unknown and disabled emails get the same reply, and no "
          "mail, the per-account budget",
          "[e2e][recovery]") {
  smtp_sink sink;
  node_process node{
    mail_options(sink, {"--verify-email=off", "--recovery-mails=2"})};
  line_client c{node.port()};
  REQUIRE(succeeded(register_user(c, ann)));
  REQUIRE(succeeded(register_user(c, "bob@example.org")));
  admin_client admin{node};
  REQUIRE(succeeded(
    admin.call({{"op", "user_disable"}, {"email", "bob@example.org"}})));

  for (auto email : {ann, std::string{"nobody@example.org"},
                     std::string{"bob@example.org"}}) {
    auto started = steady_clock::now();
    auto reply = recovery_start(c, email);
    auto took = steady_clock::now() - started;
    CHECK(reply.dump().find("\"ok\":true") != std::string::npos);
    CHECK(reply.size() == 2); // id and ok: nothing else to tell them apart
    CHECK(took >= 200ms);     // --recovery-reply-time
  }
  // Two more for ann: the second goes beyond the budget of 2 an hour.
  REQUIRE(succeeded(recovery_start(c, ann)));
  REQUIRE(succeeded(recovery_start(c, ann)));
  REQUIRE(sink.wait_for(2, 10s));
  // Give a third mail the time to arrive if it were sent.
  CHECK_FALSE(sink.wait_for(3, 1s));
  CHECK(mails_to(sink, ann) == 2);
  CHECK(mails_to(sink, "bob@example.org") == 0);
  CHECK(mails_to(sink, "nobody@example.org") == 0);
}

TEST_CASE("recovery: mail waits out a relay outage and a SIGKILL, and is "
          "delivered once",
          "[e2e][recovery][outbox]") {
  smtp_sink sink;
  auto args = mail_options(sink, {"--verify-email=off"});
  temp_dir dir;
  {
    node_process node{args, dir.path()};
    line_client c{node.port()};
    REQUIRE(succeeded(register_user(c, ann)));
    sink.reject(true);
    REQUIRE(succeeded(recovery_start(c, ann)));
    // Tried and refused (retried every 100 ms and more), never delivered.
    CHECK_FALSE(sink.wait_for(1, 700ms));
    CHECK(stats_of(c)["mails_failed_total"].get<int64_t>() >= 1);
    node.kill_hard();
  }
  sink.reject(false);
  node_process again{args, dir.path()};
  REQUIRE(sink.wait_for(1, 10s));
  auto code = code_in(sink.messages()[0]);
  REQUIRE(code);
  CHECK_FALSE(sink.wait_for(2, 1s)); // exactly once
  line_client c{again.port()};
  CHECK(succeeded(recovery_finish(c, ann, *code, "a brand new secret")));
  CHECK(stats_of(c)["outbox_depth"] == 0);
}

TEST_CASE("email verification and email change by code", "[e2e][recovery]") {
  smtp_sink sink;
  node_process node{mail_options(sink)};
  line_client c{node.port()};
  // --verify-email is on with mail: register mails a code.
  auto registered = register_user(c, ann);
  REQUIRE(succeeded(registered));
  CHECK(registered["user"]["email_verified"] == false);
  auto verification = code_of_mail(sink, 1);
  REQUIRE(!verification.empty());
  auto session = login(c, ann);
  REQUIRE(succeeded(session));
  auto token = session["token"].get<std::string>();
  auto wrong = c.call(
    {{"op", "verify_email_finish"}, {"token", token}, {"code", "0000-0000"}});
  CHECK(error_code(wrong) == "invalid_code");
  auto verified = c.call({{"op", "verify_email_finish"},
                          {"token", token},
                          {"code", verification}});
  REQUIRE(succeeded(verified));
  CHECK(verified["user"]["email_verified"] == true);
  CHECK(whoami(c, token)["user"]["email_verified"] == true);
  auto again = c.call({{"op", "verify_email_start"}, {"token", token}});
  REQUIRE(succeeded(again));
  CHECK(again["sent"] == false);

  REQUIRE(succeeded(register_user(c, "cat@example.org")));
  REQUIRE(sink.wait_for(2, 10s));
  auto bad_password = c.call({{"op", "change_email_start"},
                              {"token", token},
                              {"password", "not the password"},
                              {"new_email", "cat@example.org"}});
  CHECK(error_code(bad_password) == "invalid_credentials");
  auto taken = c.call({{"op", "change_email_start"},
                       {"token", token},
                       {"password", default_password},
                       {"new_email", "cat@example.org"}});
  CHECK(error_code(taken) == "email_taken");
  auto asked = c.call({{"op", "change_email_start"},
                       {"token", token},
                       {"password", default_password},
                       {"new_email", "ann@example.net"}});
  REQUIRE(succeeded(asked));
  REQUIRE(sink.wait_for(4, 10s));
  std::string change_code;
  auto mails = sink.messages();
  for (size_t i = 1; i < mails.size(); ++i) {
    if (mail_header(mails[i], "To") == "ann@example.net")
      change_code = code_in(mails[i]).value_or("");
    else if (mail_header(mails[i], "To") == ann)
      CHECK_FALSE(code_in(mails[i])); // the notice to the old address
  }
  CHECK(mails_to(sink, ann) == 2); // the verification and the notice
  REQUIRE(!change_code.empty());
  auto moved = c.call(
    {{"op", "change_email_finish"}, {"token", token}, {"code", change_code}});
  REQUIRE(succeeded(moved));
  CHECK(moved["user"]["email"] == "ann@example.net");
  CHECK(moved["user"]["email_verified"] == true);
  CHECK(whoami(c, token)["user"]["email"] == "ann@example.net");
  CHECK(succeeded(login(c, "ann@example.net")));
  CHECK(error_code(login(c, ann)) == "invalid_credentials");
}

TEST_CASE("require-verified-email refuses unverified logins once the "
          "password matched",
          "[e2e][recovery]") {
  smtp_sink sink;
  node_process node{mail_options(sink, {"--require-verified-email"})};
  line_client c{node.port()};
  REQUIRE(succeeded(register_user(c, ann)));
  CHECK(error_code(login(c, ann, "not the password")) == "invalid_credentials");
  CHECK(error_code(login(c, ann)) == "email_not_verified");
  // A recovery proves the address: the mail reached its owner.
  REQUIRE(sink.wait_for(1, 10s));
  REQUIRE(succeeded(recovery_start(c, ann)));
  auto code = code_of_mail(sink, 2);
  REQUIRE(!code.empty());
  REQUIRE(succeeded(recovery_finish(c, ann, code, "a brand new secret")));
  CHECK(succeeded(login(c, ann, "a brand new secret")));
}

TEST_CASE("without mail the code ops answer unavailable, naming --smtp-url",
          "[e2e][recovery]") {
  node_process node;
  CHECK(node.wait_for_log("mail is not configured"));
  line_client c{node.port()};
  REQUIRE(succeeded(register_user(c, ann)));
  auto reply = recovery_start(c, ann);
  CHECK(error_code(reply) == "unavailable");
  CHECK(reply["error"]["message"].get<std::string>().find("--smtp-url")
        != std::string::npos);
  CHECK(error_code(recovery_finish(c, ann, "0000-0000", "a brand new secret"))
        == "unavailable");
}

TEST_CASE("recovery_start is paid from the source's budget, a password "
          "guesser does not slow the owner's recovery",
          "[e2e][recovery]") {
  smtp_sink sink;
  node_process node{
    mail_options(sink, {"--verify-email=off", "--register-rate=3"})};
  line_client c{node.port()};
  REQUIRE(succeeded(register_user(c, ann)));
  // The registration took one of the register budget; recovery has its own.
  line_client one{node.port(), "127.0.0.2"};
  for (int i = 0; i < 3; ++i)
    CHECK(succeeded(recovery_start(one, "someone@example.org")));
  auto refused = recovery_start(one, "someone@example.org");
  CHECK(error_code(refused) == "rate_limited");
  CHECK(retry_after_ms(refused) > 0);
  // Another address still has its budget.
  line_client two{node.port(), "127.0.0.3"};
  REQUIRE(succeeded(recovery_start(two, ann)));
  auto code = code_of_mail(sink, 1);
  REQUIRE(!code.empty());
  // Wrong passwords for ann from a third address earn penalties on ann's
  // login keys; her recovery from her own address is not slowed by them.
  line_client guesser{node.port(), "127.0.0.4"};
  for (int i = 0; i < 3; ++i)
    CHECK(outcome(login(guesser, ann, "not her password")) != "ok");
  auto started = steady_clock::now();
  CHECK(succeeded(recovery_finish(two, ann, code, "a brand new secret")));
  CHECK(steady_clock::now() - started < 300ms);
}

TEST_CASE("a mail template with an unknown placeholder stops the node at "
          "start, naming the file and the placeholder",
          "[e2e][recovery]") {
  smtp_sink sink;
  temp_dir templates;
  for (auto name : {"recovery.txt", "verification.txt", "email_change.txt"}) {
    std::ofstream out{templates.file(name)};
    out << "Subject: Your code\n\nHello {name}, your code is {code}.\n";
  }
  {
    std::ofstream out{templates.file("change_notice.txt")};
    out << "Subject: Address change\n\nHello {nmae}, someone asked to move "
           "your account to {email}.\n";
  }
  temp_dir db;
  auto args = mail_options(sink);
  args.insert(args.end(), {"--mail-templates=" + templates.path(),
                           "--db=" + db.file("auth.db"), "--port=0",
                           "--admin-port=0"});
  auto result = run_node_to_exit(args, 10s);
  INFO(result.output);
  CHECK(result.status == 2);
  CHECK(result.output.find(templates.file("change_notice.txt"))
        != std::string::npos);
  CHECK(result.output.find("{nmae}") != std::string::npos);
  CHECK(result.output.find("listening on") == std::string::npos);
}

TEST_CASE("the node refuses a secret key file that others may read",
          "[e2e][recovery]") {
  smtp_sink sink;
  temp_dir dir;
  std::string key_path;
  {
    node_process node{mail_options(sink), dir.path()};
    key_path = dir.file("auth.db.secret-key");
    CHECK(node.log().find("created secret key file " + key_path)
          != std::string::npos);
  }
  REQUIRE(::chmod(key_path.c_str(), 0644) == 0);
  auto args = mail_options(sink);
  args.insert(args.end(),
              {"--db=" + dir.file("auth.db"), "--port=0", "--admin-port=0"});
  auto result = run_node_to_exit(args, 10s);
  INFO(result.output);
  CHECK(result.status == 2);
  CHECK(result.output.find(key_path) != std::string::npos);
}
