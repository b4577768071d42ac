// End to end: the authctl binary against a real node, as an operator uses
// it: passwords on standard input (never on the command line), tables for
// people, --json for scripts, and the documented exit codes.
#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <thread>

#include "support/line_client.hpp"
#include "support/node_process.hpp"
#include "support/passlib_hashes.hpp"
#include "support/program.hpp"
#include "support/protocol.hpp"
#include "support/second_factor.hpp"
#include "support/smtp_sink.hpp"
#include "support/soft_authenticator.hpp"

using namespace authnode::test;

namespace {

/// authctl pointed at `node` through the environment, as a script would.
struct authctl {
  explicit authctl(const node_process& node) : node(node) {}

  program_result operator()(std::vector<std::string> args,
                            const std::string& input = {}) const {
    program_run run;
    run.args = std::move(args);
    run.input = input;
    run.env
      = {"AUTHNODE_PORT=" + std::to_string(node.port()),
         "AUTHNODE_ADMIN_PORT=" + std::to_string(node.admin_port()),
         "AUTHNODE_ADMIN_KEY_FILE=" + node.db_dir() + "/auth.db.admin-key"};
    auto result = run_program(AUTHCTL_BINARY, run);
    UNSCOPED_INFO("authctl stdout: " << result.out);
    UNSCOPED_INFO("authctl stderr: " << result.err);
    return result;
  }

  /// With --json: the one object it printed.
  json call_json(std::vector<std::string> args,
                 const std::string& input = {}) const {
    args.insert(args.begin(), "--json");
    auto result = (*this)(std::move(args), input);
    REQUIRE(result.status == 0);
    return json::parse(result.out);
  }

  const node_process& node;
};

/// A password for stdin, recorded so no node log may hold it.
std::string password_line(const std::string& password) {
  secret_registry::global().add("password", password);
  return password + "\n";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("authctl adds a user who then logs in with authctl login") {
  node_process node;
  authctl ctl{node};
  auto added = ctl({"user", "add", "Ann@Example.org", "--name", "Ann Smith"},
                   password_line("correct horse battery"));
  REQUIRE(added.status == 0);
  CHECK(contains(added.out, "email:"));
  CHECK(contains(added.out, "ann@example.org"));

  auto ok = ctl({"login", "ann@example.org"},
                password_line("correct horse battery"));
  CHECK(ok.status == 0);
  CHECK(contains(ok.out, "logged in as Ann Smith <ann@example.org>"));
  // The session authctl made was ended again.
  CHECK(ctl.call_json({"user", "show", "ann@example.org"})["sessions"] == 0);

  auto wrong = ctl({"login", "ann@example.org"},
                   password_line("not the password"));
  CHECK(wrong.status == 1);
  CHECK(contains(wrong.err, "invalid_credentials"));

  auto kept = ctl.call_json({"login", "ann@example.org", "--keep-session"},
                            password_line("correct horse battery"));
  auto token = kept.at("token").get<std::string>();
  secret_registry::global().add("token", token);
  line_client c{node.port()};
  CHECK(whoami(c, token)["user"]["email"] == "ann@example.org");

  // No password at all: a usage error, and nothing sent.
  CHECK(ctl({"login", "ann@example.org"}).status == 2);
  CHECK(ctl({"user", "add", "bob@example.org", "--name", "Bob"}).status == 2);
}

TEST_CASE("authctl never takes a password as an argument") {
  node_process node;
  authctl ctl{node};
  auto r = ctl({"user", "add", "a@example.org", "--name", "A", "--password",
                "secret-on-the-command-line"});
  CHECK(r.status == 2);
  CHECK(ctl({"login", "a@example.org", "secret-on-the-command-line"}).status
        == 2);
  CHECK(ctl.call_json({"user", "list"})["users"].empty());
}

TEST_CASE("authctl user list show disable enable and delete") {
  node_process node;
  authctl ctl{node};
  for (auto who : {"carol", "alice", "bob"})
    REQUIRE(
      ctl({"user", "add", std::string{who} + "@example.org", "--name", who},
          password_line("password of " + std::string{who}))
        .status
      == 0);
  auto table = ctl({"user", "list"});
  REQUIRE(table.status == 0);
  // A header, then the users in email order.
  auto alice = table.out.find("alice@example.org");
  auto bob = table.out.find("bob@example.org");
  auto carol = table.out.find("carol@example.org");
  CHECK(table.out.rfind("ID", 0) == 0);
  CHECK(alice < bob);
  CHECK(bob < carol);
  CHECK(carol != std::string::npos);

  auto page = ctl.call_json({"user", "list", "--limit", "2"});
  CHECK(page["users"].size() == 2);
  CHECK(page["next"] == "bob@example.org");
  CHECK(ctl.call_json({"user", "list", "--limit", "2", "--all"})["users"].size()
        == 3);
  CHECK(ctl.call_json({"user", "list", "--prefix", "ca"})["users"].size() == 1);

  REQUIRE(ctl({"user", "disable", "bob@example.org"}).status == 0);
  CHECK(ctl.call_json({"user", "show", "bob@example.org"})["disabled"] == true);
  CHECK(
    ctl({"login", "bob@example.org"}, password_line("password of bob")).status
    == 1);
  REQUIRE(ctl({"user", "enable", "bob@example.org"}).status == 0);
  CHECK(
    ctl({"login", "bob@example.org"}, password_line("password of bob")).status
    == 0);

  REQUIRE(ctl({"user", "passwd", "bob@example.org"},
              password_line("bob's new password"))
            .status
          == 0);
  CHECK(ctl({"login", "bob@example.org"}, password_line("bob's new password"))
          .status
        == 0);

  // Without a terminal to ask on, delete needs --yes.
  CHECK(ctl({"user", "delete", "bob@example.org"}).status == 2);
  CHECK(ctl({"user", "delete", "bob@example.org", "--yes"}).status == 0);
  auto gone = ctl({"user", "show", "bob@example.org"});
  CHECK(gone.status == 1);
  CHECK(contains(gone.err, "no_such_user"));
}

TEST_CASE("authctl user verify and unverify, and user show shows "
          "email_verified") {
  node_process node;
  authctl ctl{node};
  REQUIRE(ctl({"user", "add", "dan@example.org", "--name", "Dan"},
              password_line("password of dan"))
            .status
          == 0);
  auto shown = ctl({"user", "show", "dan@example.org"});
  CHECK(contains(shown.out, "email_verified:"));
  CHECK(ctl.call_json({"user", "show", "dan@example.org"})["email_verified"]
        == false);
  auto verified = ctl({"user", "verify", "Dan@Example.org"});
  CHECK(verified.status == 0);
  CHECK(contains(verified.out, "marked verified"));
  CHECK(ctl.call_json({"user", "show", "dan@example.org"})["email_verified"]
        == true);
  auto table = ctl({"user", "list"});
  CHECK(contains(table.out, "VERIFIED"));
  CHECK(ctl({"user", "unverify", "dan@example.org"}).status == 0);
  CHECK(ctl.call_json({"user", "show", "dan@example.org"})["email_verified"]
        == false);
  auto unknown = ctl({"user", "verify", "nobody@example.org"});
  CHECK(unknown.status == 1);
  CHECK(contains(unknown.err, "no_such_user"));
}

TEST_CASE("authctl user show lists second factors, and mfa-reset removes "
          "them") {
  node_process node; // audits to its log
  authctl ctl{node};
  line_client c{node.port()};
  enroll(c, "dora@example.org");
  auto shown = ctl({"user", "show", "dora@example.org"});
  CHECK(contains(shown.out, "totp, recovery_code"));
  auto as_json = ctl.call_json({"user", "show", "dora@example.org"});
  CHECK(as_json["second_factors"] == json({"totp", "recovery_code"}));
  CHECK(as_json["recovery_codes"] == 10);
  REQUIRE(error_code(login(c, "dora@example.org"))
          == "second_factor_required");

  auto reset = ctl({"user", "mfa-reset", "Dora@Example.org"});
  CHECK(reset.status == 0);
  CHECK(contains(reset.out, "second factors removed"));
  CHECK(ctl.call_json({"user", "show", "dora@example.org"})["second_factors"]
        == json::array());
  CHECK(succeeded(login(c, "dora@example.org")));
  CHECK(node.wait_for_log("\"op\":\"admin:user_mfa_reset\""));
  auto unknown = ctl({"user", "mfa-reset", "nobody@example.org"});
  CHECK(unknown.status == 1);
  CHECK(contains(unknown.err, "no_such_user"));
}

TEST_CASE("authctl user show lists passkeys, and passkey-delete removes "
          "one") {
  auto args = fast_options();
  args.push_back("--webauthn-rp-id=example.com");
  node_process node{args};
  authctl ctl{node};
  line_client c{node.port()};
  REQUIRE(succeeded(register_user(c, "eve@example.org")));
  auto token = session_token(c, "eve@example.org");
  soft_authenticator key;
  auto begun = c.call(
    {{"op", "passkey_register_begin"}, {"token", token}, {"name", "phone"}});
  auto added = c.call({{"op", "passkey_register_finish"},
                       {"token", token},
                       {"credential", key.create(begun["options"])}});
  REQUIRE(succeeded(added));
  auto id = added["passkey"]["id"].get<std::string>();

  auto shown = ctl({"user", "show", "eve@example.org"});
  REQUIRE(shown.status == 0);
  CHECK(contains(shown.out, "PASSKEY"));
  CHECK(contains(shown.out, id));
  CHECK(contains(shown.out, "phone"));
  CHECK(ctl.call_json({"user", "show", "eve@example.org"})["passkeys"][0]["id"]
        == id);

  auto removed
    = ctl({"user", "passkey-delete", "eve@example.org", "--id", id});
  CHECK(removed.status == 0);
  CHECK(contains(removed.out, "deleted"));
  CHECK(ctl.call_json({"user", "show", "eve@example.org"})["passkeys"]
        == json::array());
  CHECK(node.wait_for_log("\"op\":\"admin:passkey_delete\""));
  auto again = ctl({"user", "passkey-delete", "eve@example.org", "--id", id});
  CHECK(again.status == 1);
  CHECK(contains(again.err, "no_such_passkey"));
}

TEST_CASE("authctl mail outbox shows waiting mail without addresses, and "
          "says unavailable on a node without mail") {
  {
    node_process node;
    authctl ctl{node};
    auto none = ctl({"mail", "outbox"});
    CHECK(none.status == 1);
    CHECK(contains(none.err, "unavailable"));
    CHECK(contains(none.err, "--smtp-url"));
  }
  smtp_sink sink;
  node_process node{mail_options(sink, {"--verify-email=off"})};
  authctl ctl{node};
  auto empty = ctl({"mail", "outbox"});
  REQUIRE(empty.status == 0);
  CHECK(contains(empty.out, "pending:"));
  CHECK(contains(empty.out, "oldest:"));
  CHECK(contains(empty.out, "most attempts:"));
  CHECK(contains(empty.out, "last error:"));

  line_client c{node.port()};
  REQUIRE(succeeded(register_user(c, "eve@example.org")));
  sink.reject(true);
  REQUIRE(succeeded(
    c.call({{"op", "recovery_start"}, {"email", "eve@example.org"}})));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  json box = ctl.call_json({"mail", "outbox"});
  while (box["most_attempts"].get<int64_t>() < 1
         && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    box = ctl.call_json({"mail", "outbox"});
  }
  CHECK(box["pending"] == 1);
  CHECK(box["most_attempts"].get<int64_t>() >= 1);
  CHECK(box["last_error"].is_string());
  auto shown = ctl({"mail", "outbox"});
  CHECK(shown.status == 0);
  CHECK(contains(shown.out, "pending:        1"));
  CHECK(contains(shown.out, " s ago)"));
  CHECK(!contains(shown.out, "-\n"));
  CHECK(!contains(shown.out, "eve@example.org"));
  sink.reject(false);
  REQUIRE(sink.wait_for(1, std::chrono::seconds(10)));
}

TEST_CASE("authctl lists sessions without tokens and revokes them") {
  node_process node;
  authctl ctl{node};
  REQUIRE(ctl({"user", "add", "dan@example.org", "--name", "Dan"},
              password_line("dan's password"))
            .status
          == 0);
  line_client c{node.port()};
  std::vector<std::string> tokens;
  for (int i = 0; i < 2; ++i) {
    tokens.push_back(session_token(c, "dan@example.org", "dan's password"));
  }
  auto listed = ctl({"sessions", "list", "dan@example.org"});
  REQUIRE(listed.status == 0);
  for (auto& t : tokens)
    CHECK_FALSE(contains(listed.out, t));
  auto sessions = ctl.call_json({"sessions", "list", "dan@example.org"});
  REQUIRE(sessions.size() == 2);
  auto first_id = std::to_string(sessions[0]["id"].get<int64_t>());

  CHECK(ctl({"sessions", "revoke", "dan@example.org"}).status == 2);
  auto one = ctl({"sessions", "revoke", "dan@example.org", "--id", first_id});
  CHECK(one.status == 0);
  CHECK(contains(one.out, "1 session ended"));
  CHECK(failed(whoami(c, tokens[0])));
  CHECK(succeeded(whoami(c, tokens[1])));
  // The same id again ends nothing: the operator learns it.
  CHECK(ctl({"sessions", "revoke", "dan@example.org", "--id", first_id}).status
        == 1);
  CHECK(
    ctl.call_json({"sessions", "revoke", "dan@example.org", "--all"})["revoked"]
    == 1);
  CHECK(failed(whoami(c, tokens[1])));
}

TEST_CASE("authctl throttle reset lets a penalized source log in at once") {
  auto opts = fast_options();
  opts.push_back("--failure-delay=300ms");
  opts.push_back("--max-penalty=20s");
  node_process node{opts};
  authctl ctl{node};
  REQUIRE(ctl({"user", "add", "eve@example.org", "--name", "Eve"},
              password_line("eve's password"))
            .status
          == 0);
  line_client guesser{node.port(), "127.0.0.7"};
  for (int i = 0; i < 5; ++i)
    guesser.call(login_request("eve@example.org", "guess " + std::to_string(i)),
                 std::chrono::seconds(30));
  auto shown = ctl.call_json({"throttle", "show", "--source", "127.0.0.7"});
  CHECK(shown["throttle"]["failures"].get<int>() >= 5);
  CHECK(shown["throttle"]["penalty_ms"].get<int>() > 1000);

  CHECK(ctl.call_json({"throttle", "reset", "--source", "127.0.0.7"})["reset"]
        == true);
  CHECK(ctl.call_json(
          {"throttle", "reset", "--account", "eve@example.org"})["reset"]
        == true);
  CHECK(ctl.call_json(
          {"throttle", "show", "--source", "127.0.0.7"})["throttle"]["failures"]
        == 0);
  // Password guesses are not the second factor's: its key of the same
  // address knows none of them.
  auto totp = ctl.call_json(
    {"throttle", "show", "--source", "127.0.0.7", "--kind", "totp"});
  CHECK(totp["throttle"]["key"] == "totp:127.0.0.7");
  CHECK(totp["throttle"]["failures"] == 0);
  auto unknown
    = ctl({"throttle", "show", "--source", "127.0.0.7", "--kind", "sms"});
  CHECK(unknown.status == 1);
  CHECK_THAT(unknown.err, Catch::Contains("password, recovery, code, totp, passkey"));
  // The right password from that address now goes through without waiting
  // out the penalty.
  auto start = std::chrono::steady_clock::now();
  CHECK(succeeded(login(guesser, "eve@example.org", "eve's password")));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
  CHECK(ctl({"throttle", "show"}).status == 2);
  CHECK(ctl({"throttle", "show", "--source", "a", "--account", "b"}).status
        == 2);
}

TEST_CASE("authctl import reports bad rows by line and imports the rest") {
  node_process node;
  authctl ctl{node};
  temp_dir dir;
  secret_registry::global().add("password", passlib_password);
  auto csv = dir.path() + "/users.csv";
  {
    std::ofstream out{csv};
    out << "email,name,hash,created_at\n";
    int i = 0;
    for (auto& h : passlib_hashes) {
      out << "u" << i << "@example.org,\"User, " << i + 1 << "\",\"" << h.hash
          << "\",2024-03-01T12:00:00Z\n";
      ++i;
    }
    out << "bad@example.org,Bad,$1$md5crypt$notsupported,\n";        // line N+2
    out << "not-an-email,X,\"" << passlib_hashes[0].hash << "\",\n"; // N+3
    out << "short@example.org,Short\n";                              // line N+4
    out << "u0@example.org,Twice,\"" << passlib_hashes[0].hash << "\",\n";
  }
  auto n = passlib_hashes.size();
  auto first = ctl({"import", csv, "--progress"});
  CHECK(first.status == 5);
  CHECK(contains(first.out,
                 "imported " + std::to_string(n)
                   + ", updated 0, skipped 0 (already there), "
                     "rejected 4"));
  auto line = [&](size_t k) {
    return csv + ":" + std::to_string(k) + ": ";
  };
  CHECK(contains(first.err, line(n + 2) + "bad_hash"));
  CHECK(contains(first.err, line(n + 3) + "bad_email"));
  CHECK(contains(first.err, line(n + 4) + "unreadable"));
  CHECK(contains(first.err, line(n + 5) + "duplicate"));
  CHECK(contains(
    first.err, std::to_string(n + 4) + "/" + std::to_string(n + 4) + "  100%"));

  // Every imported user logs in with the old system's password, through
  // authctl, and is then on argon2id.
  for (size_t i = 0; i < n; ++i) {
    auto email = "u" + std::to_string(i) + "@example.org";
    INFO(passlib_hashes[i].label);
    auto before = ctl.call_json({"user", "show", email});
    CHECK(before["hash_scheme"] == passlib_hashes[i].scheme);
    CHECK(before["created_at"] == "2024-03-01T12:00:00Z");
    CHECK(before["name"] == "User, " + std::to_string(i + 1));
    CHECK(ctl({"login", email}, passlib_password + "\n").status == 0);
  }
  auto rehashed = ctl.call_json({"user", "show", "u3@example.org"});
  CHECK(rehashed["hash_scheme"] == "argon2id");

  // Again: nothing changes. With --update the rows are written again.
  auto again_run = ctl({"--json", "import", csv});
  CHECK(again_run.status == 5);
  auto again = json::parse(again_run.out);
  CHECK(again["imported"] == 0);
  CHECK(again["rejected"].size() == 4);
  CHECK(again["rejected"][0]["line"] == n + 2);
  CHECK(again["rejected"][0]["code"] == "bad_hash");
  auto skipped = again["skipped"].get<size_t>()
    + again["updated"].get<size_t>();
  CHECK(skipped == n);
  auto update = ctl({"--json", "import", csv, "--update"});
  CHECK(update.status == 5);
  CHECK(json::parse(update.out)["updated"].get<size_t>() >= 1);
  CHECK(ctl.call_json({"user", "show", "u3@example.org"})["hash_scheme"]
        == passlib_hashes[3].scheme);
}

TEST_CASE(
  "authctl import reads JSON Lines in batches and stops on a refused batch") {
  node_process node;
  authctl ctl{node};
  temp_dir dir;
  auto jsonl = dir.path() + "/users.jsonl";
  {
    std::ofstream out{jsonl};
    for (int i = 0; i < 25; ++i)
      out << json{{"email", "j" + std::to_string(i) + "@example.org"},
                  {"name", "J"},
                  {"hash", passlib_hashes[3].hash},
                  {"created_at", 1700000000 + i}}
               .dump()
          << "\n";
  }
  auto r = ctl.call_json({"import", jsonl, "--batch-size", "10"});
  CHECK(r["imported"] == 25);
  CHECK(
    ctl.call_json({"user", "list", "--prefix", "j", "--limit", "100"})["users"]
      .size()
    == 25);
  // A wrong key refuses the first batch: nothing is imported, exit 4.
  std::ofstream{dir.path() + "/wrong.key"} << "wrong\n";
  auto refused
    = ctl({"--key-file", dir.path() + "/wrong.key", "import", jsonl});
  CHECK(refused.status == 4);
  CHECK(contains(refused.err, "stopped after 0 rows"));
  // Not a file format authctl knows: say which.
  auto txt = dir.path() + "/users.txt";
  std::ofstream{txt} << "x\n";
  CHECK(ctl({"import", txt}).status == 2);
  CHECK(ctl({"import", txt, "--format", "jsonl"}).status == 5);
}

TEST_CASE("authctl backup writes a copy a node starts on and never overwrites",
          "[sqlite]") {
  node_process node;
  authctl ctl{node};
  REQUIRE(ctl({"user", "add", "fay@example.org", "--name", "Fay"},
              password_line("fay's password"))
            .status
          == 0);
  temp_dir dir;
  // The name a node started in that directory opens.
  auto copy = dir.path() + "/auth.db";
  auto done = ctl.call_json({"backup", copy});
  CHECK(done["path"] == copy);
  CHECK(done["bytes"].get<int64_t>() > 0);
  auto again = ctl({"backup", copy});
  CHECK(again.status == 1);
  CHECK(contains(again.err, "exists"));
  // The copy holds the account: a node on it lets Fay in.
  node_process restored{fast_options(), dir.path()};
  line_client c{restored.port()};
  CHECK(succeeded(login(c, "fay@example.org", "fay's password")));
}

TEST_CASE("authctl stats and ping") {
  node_process node;
  authctl ctl{node};
  auto pong = ctl({"ping"});
  CHECK(pong.status == 0);
  CHECK(
    contains(pong.out, "pong from 127.0.0.1:" + std::to_string(node.port())));
  auto stats = ctl.call_json({"stats"});
  CHECK(stats["requests_total"].get<int>() >= 1);
  CHECK(stats.contains("uptime_seconds"));
  auto table = ctl({"stats"});
  CHECK(contains(table.out, "requests_total:"));
}

TEST_CASE(
  "authctl exit codes for a wrong key an unreachable node and bad usage") {
  node_process node;
  authctl ctl{node};
  temp_dir dir;
  auto wrong_key = dir.path() + "/wrong.key";
  {
    std::ofstream out{wrong_key};
    out << "not-the-key\n";
  }
  auto refused = ctl({"--key-file", wrong_key, "stats"});
  CHECK(refused.status == 4);
  CHECK(contains(refused.err, "forbidden"));
  auto missing = ctl({"--key-file", dir.path() + "/none", "stats"});
  CHECK(missing.status == 4);
  CHECK(contains(missing.err, "cannot read the admin key file"));
  // A port where nothing listens: the node's own port, after it stopped.
  auto port = std::to_string(node.port());
  REQUIRE(node.stop() == 0);
  auto down = ctl({"--port", port, "ping"});
  CHECK(down.status == 3);
  CHECK(contains(down.err, "cannot connect"));
  CHECK(ctl({}).status == 2);
  CHECK(ctl({"user", "frobnicate"}).status == 2);
  CHECK(ctl({"user", "list", "--limit", "0"}).status == 2);
}

TEST_CASE("every authctl command has its own help") {
  node_process node;
  authctl ctl{node};
  std::vector<std::vector<std::string>> commands{
    {},
    {"ping"},
    {"login"},
    {"user"},
    {"user", "list"},
    {"user", "show"},
    {"user", "add"},
    {"user", "passwd"},
    {"user", "disable"},
    {"user", "enable"},
    {"user", "delete"},
    {"user", "verify"},
    {"user", "unverify"},
    {"mail"},
    {"mail", "outbox"},
    {"sessions"},
    {"sessions", "list"},
    {"sessions", "revoke"},
    {"throttle"},
    {"throttle", "show"},
    {"throttle", "reset"},
    {"stats"},
    {"import"},
    {"backup"},
    {"breached"},
    {"breached", "build"},
    {"breached", "reload"},
  };
  for (auto args : commands) {
    std::string name = "authctl";
    for (auto& a : args)
      name += " " + a;
    INFO(name);
    args.push_back("--help");
    auto help = ctl(args);
    CHECK(help.status == 0);
    CHECK(contains(help.out, "Usage: " + name));
  }
}
