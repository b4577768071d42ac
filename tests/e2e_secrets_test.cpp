// End to end: passwords and tokens never leave the node except in the one
// reply that hands a token out. Every operation is run, failures and
// refusals included, against a node that audits to a file; then its log, its
// audit file and the bytes of its database files are searched for every
// secret used, tokens also in their other encodings (the 32 raw bytes,
// standard base64, hex), since a careless store might keep any of them.
//
// Every other end-to-end test checks the log too, through the secret
// registry (support/secret_registry.hpp); this test also checks that the
// registry sees the secrets, and looks where the registry does not: the
// audit file and the database.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <thread>

#include <sodium.h>

#include "support/db_peek.hpp"
#include "support/line_client.hpp"
#include "support/node_process.hpp"
#include "support/protocol.hpp"
#include "support/second_factor.hpp"
#include "support/secret_registry.hpp"
#include "support/smtp_sink.hpp"
#include "support/temp_dir.hpp"

using namespace authnode::test;

namespace {

struct used_secret {
  std::string label; ///< Says which secret without showing it.
  std::string value;
  bool is_token = false;
  /// A short number (a TOTP code): found only where no digit adjoins it,
  /// so that it does not turn up inside a timestamp by chance.
  bool digits = false;
};

std::string read_bytes(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  return {std::istreambuf_iterator<char>{in}, {}};
}

/// The database file and, while the node runs, its -wal and -shm files.
std::string database_bytes(const std::string& dir) {
  if (auto uri = postgres_uri_of(dir); !uri.empty())
    return postgres_rows(uri);
  std::string bytes;
  for (auto suffix : {"", "-wal", "-shm"}) {
    auto path = dir + "/auth.db" + suffix;
    if (std::filesystem::exists(path))
      bytes += read_bytes(path);
  }
  return bytes;
}

std::string to_hex(const std::string& raw) {
  std::string hex(raw.size() * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(),
                 reinterpret_cast<const unsigned char*>(raw.data()),
                 raw.size());
  hex.pop_back();
  return hex;
}

std::string to_base64(const std::string& raw, int variant) {
  std::string out(sodium_base64_ENCODED_LEN(raw.size(), variant), '\0');
  sodium_bin2base64(out.data(), out.size(),
                    reinterpret_cast<const unsigned char*>(raw.data()),
                    raw.size(), variant);
  out.resize(out.find('\0'));
  return out;
}

/// The forms a secret could be stored or logged in, by name.
std::map<std::string, std::string> forms_of(const used_secret& s) {
  std::map<std::string, std::string> forms{{"text", s.value}};
  if (!s.is_token)
    return forms;
  // A token is base64url of 32 random bytes (docs/protocol.md, Tokens).
  std::string raw(32, '\0');
  size_t len = 0;
  auto decoded = sodium_base642bin(reinterpret_cast<unsigned char*>(raw.data()),
                                   raw.size(), s.value.data(), s.value.size(),
                                   nullptr, &len, nullptr,
                                   sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  REQUIRE(decoded == 0);
  REQUIRE(len == 32);
  forms["raw bytes"] = raw;
  forms["hex"] = to_hex(raw);
  forms["standard base64"] = to_base64(raw, sodium_base64_VARIANT_ORIGINAL);
  forms["base64 of the text"] = to_base64(s.value,
                                          sodium_base64_VARIANT_ORIGINAL);
  return forms;
}

bool contains_number(const std::string& bytes, const std::string& number) {
  auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  for (auto at = bytes.find(number); at != std::string::npos;
       at = bytes.find(number, at + 1)) {
    auto end = at + number.size();
    if ((at == 0 || !is_digit(bytes[at - 1]))
        && (end == bytes.size() || !is_digit(bytes[end])))
      return true;
  }
  return false;
}

/// "LABEL as FORM" for each secret found in `bytes`; never the secret.
std::vector<std::string> found_in(const std::string& bytes,
                                  const std::vector<used_secret>& secrets) {
  std::vector<std::string> found;
  for (auto& s : secrets)
    for (auto& [form, value] : forms_of(s))
      if (s.digits ? contains_number(bytes, value)
                   : bytes.find(value) != std::string::npos)
        found.push_back(s.label + " as " + form);
  return found;
}

/// Where a secret could be left: the node's log, its audit file, and its
/// database files while it ran (the write-ahead log holds the latest
/// writes) and once it stopped.
struct traces {
  std::string log, audit, live_db, stopped_db;
};

traces stop_and_collect(node_process& node, const std::string& dir,
                        const std::string& audit_path) {
  traces t;
  t.live_db = database_bytes(dir);
  REQUIRE(node.stop() == 0);
  t.log = node.log();
  t.audit = read_bytes(audit_path);
  t.stopped_db = database_bytes(dir);
  REQUIRE_FALSE(t.live_db.empty());
  REQUIRE_FALSE(t.stopped_db.empty());
  return t;
}

void check_none_in(const traces& t, const std::vector<used_secret>& secrets) {
  CHECK(found_in(t.log, secrets) == std::vector<std::string>{});
  CHECK(found_in(t.audit, secrets) == std::vector<std::string>{});
  CHECK(found_in(t.live_db, secrets) == std::vector<std::string>{});
  CHECK(found_in(t.stopped_db, secrets) == std::vector<std::string>{});
}

/// A connection to the node and every secret the test used on it.
class session {
public:
  explicit session(uint16_t port) : c(port) {}

  void password(const std::string& label, const std::string& value) {
    secrets.push_back({label, value, false});
  }

  /// Notes the token and device token a reply hands out.
  void tokens_of(const std::string& label, const json& reply) {
    for (auto field : {"token", "device_token"})
      if (reply.contains(field))
        secrets.push_back(
          {label + " " + field, reply[field].get<std::string>(), true});
  }

  line_client c;
  std::vector<used_secret> secrets;
};

/// One login outcome the audit file must hold.
struct audited {
  std::string op, outcome, reason;
};

bool has_line(const std::vector<json>& lines, const audited& want) {
  for (auto& line : lines)
    if (line.value("op", "") == want.op
        && line.value("outcome", "") == want.outcome
        && (want.reason.empty() || line.value("reason", "") == want.reason))
      return true;
  return false;
}

} // namespace

TEST_CASE("no password or token reaches the log, the audit file or the "
          "database",
          "[secrets]") {
  temp_dir dir;
  auto audit_path = dir.path() + "/audit.log";
  auto opts = fast_options();
  opts.insert(opts.end(),
              {"--audit=" + audit_path, "--max-penalty=1s",
               "--register-rate=3"});
  traces found;
  std::vector<used_secret> secrets;
  {
    node_process node{opts, dir.path()};
    session s{node.port()};
    const std::string ann = "ann@example.org";
    const std::string first = "first Secret of ann 1";
    const std::string second = "second Secret of ann 2";
    s.password("ann's first password", first);
    s.password("ann's second password", second);
    REQUIRE(succeeded(register_user(s.c, ann, first)));

    auto granted = login(s.c, ann, first);
    REQUIRE(succeeded(granted));
    REQUIRE(granted.contains("device_token"));
    s.tokens_of("the first login's", granted);
    auto token = granted["token"].get<std::string>();
    auto device = granted["device_token"].get<std::string>();

    const std::string wrong = "Wrong guess at ann 3";
    s.password("a wrong password", wrong);
    CHECK(error_code(login(s.c, ann, wrong)) == "invalid_credentials");
    const std::string nobodys = "Password of nobody 4";
    s.password("an unknown account's password", nobodys);
    CHECK(error_code(login(s.c, "nobody@example.org", nobodys))
          == "invalid_credentials");

    CHECK(succeeded(whoami(s.c, token)));
    // The device token travels in both a successful and a failed login.
    auto with_device = login(s.c, ann, first, device);
    CHECK(succeeded(with_device));
    s.tokens_of("the device login's", with_device);
    const std::string wrong_with_device = "Wrong with device 5";
    s.password("a wrong password sent with the device token",
               wrong_with_device);
    CHECK(error_code(login(s.c, ann, wrong_with_device, device))
          == "invalid_credentials");

    const std::string wrong_old = "Not the old one 6";
    s.password("a wrong old password", wrong_old);
    CHECK(error_code(change_password(s.c, token, wrong_old, second))
          == "invalid_credentials");
    CHECK(succeeded(change_password(s.c, token, first, second)));
    auto after_change = login(s.c, ann, second, device);
    CHECK(succeeded(after_change));
    s.tokens_of("the login after the change's", after_change);
    CHECK(succeeded(logout(s.c, token)));
    CHECK(error_code(whoami(s.c, token)) == "invalid_token");

    // Throttled logins: guesses pipelined at one account from another
    // address; past the first, the penalty holds one and refuses the rest.
    line_client guesser{node.port(), "127.0.0.3"};
    std::string burst;
    for (int i = 0; i < 6; ++i) {
      auto guess = "Throttled guess " + std::to_string(i);
      s.password("guess " + std::to_string(i), guess);
      burst += line_of(with_id(i, login_request(ann, guess)));
    }
    guesser.send_raw(burst);
    std::map<std::string, int> codes;
    for (int i = 0; i < 6; ++i)
      ++codes[outcome(guesser.read(std::chrono::seconds(10)))];
    CHECK(codes["rate_limited"] > 0);
    CHECK(codes["invalid_credentials"] > 0);

    // Registrations past --register-rate from one address.
    line_client registrar{node.port(), "127.0.0.4"};
    std::map<std::string, int> reg_codes;
    for (int i = 0; i < 4; ++i) {
      auto password = "Registrant secret " + std::to_string(i);
      s.password("registrant " + std::to_string(i) + "'s password", password);
      ++reg_codes[outcome(register_user(
        registrar, "r" + std::to_string(i) + "@example.org", password))];
    }
    CHECK(reg_codes["ok"] == 3);
    CHECK(reg_codes["rate_limited"] == 1);

    secrets = s.secrets;
    // The registry every end-to-end test relies on saw them all.
    for (auto& secret : secrets) {
      INFO(secret.label);
      CHECK(secret_registry::global().contains(secret.value));
    }
    found = stop_and_collect(node, dir.path(), audit_path);
  }
  REQUIRE(secrets.size() >= 17);
  check_none_in(found, secrets);
  auto& audit_text = found.audit;

  // Auditing did not silently stop: one JSON line per outcome.
  REQUIRE_FALSE(audit_text.empty());
  std::vector<json> lines;
  std::istringstream in{audit_text};
  for (std::string line; std::getline(in, line);)
    lines.push_back(json::parse(line));
  for (auto& want : std::vector<audited>{
         {"login", "ok", ""},
         {"login", "invalid_credentials", "wrong password"},
         {"login", "invalid_credentials", "unknown account"},
         {"login", "rate_limited", ""},
         {"change_password", "invalid_credentials", ""},
         {"register", "rate_limited", ""},
       }) {
    INFO(want.op << " " << want.outcome << " " << want.reason);
    CHECK(has_line(lines, want));
  }
  size_t ok_logins = 0;
  for (auto& line : lines)
    if (line.value("op", "") == "login" && line.value("outcome", "") == "ok")
      ++ok_logins;
  CHECK(ok_logins == 3);
}

TEST_CASE("the log check finds a secret in a node's log and names only its "
          "kind",
          "[secrets]") {
  // A registry of its own: the global one must stay clean, or this node's
  // own check would fail the test.
  secret_registry planted;
  const std::string email = "planted.secret@example.org";
  {
    node_process node; // audits to stderr
    line_client c{node.port()};
    CHECK(error_code(login(c, email, "whatever it is"))
          == "invalid_credentials");
    REQUIRE(node.stop() == 0);
    auto log = node.log();
    // The account (an email, not a secret) is in the audit line. Planted as
    // a password, the check must find it.
    REQUIRE(log.find(email) != std::string::npos);
    planted.add("password", email);
    // A test's password that is also the audit reason's text is chance.
    planted.add("password", "unknown account");
    auto leaks = secrets_in_log(log, planted);
    REQUIRE(leaks.size() == 1);
    CHECK(leaks[0].kind == "password");
    CHECK(log.compare(leaks[0].offset, email.size(), email) == 0);
    auto shown = planted.redact(log);
    CHECK(shown.find(email) == std::string::npos);
    CHECK(shown.find("<password>") != std::string::npos);
    // Inside a longer value it would count, even in the reason.
    secret_registry inside;
    inside.add("password", "unknown acc");
    CHECK(secrets_in_log(log, inside).size() == 1);
  }
}

TEST_CASE("no code, new password or token of the account-code flows "
          "reaches the log, the audit file or the database, nor the mail's "
          "recipient or body the outbox",
          "[secrets][recovery]") {
  smtp_sink sink;
  temp_dir dir;
  auto audit_path = dir.path() + "/audit.log";
  auto opts = fast_options();
  opts.insert(opts.end(),
              {"--audit=" + audit_path, "--smtp-url=" + sink.url(),
               "--mail-from=noreply@example.org",
               "--app-url=https://app.example.org", "--mail-retry=100ms"});
  traces found;
  std::vector<used_secret> secrets;
  const std::string ann = "ann-secret-test@example.org";
  {
    node_process node{opts, dir.path()};
    session s{node.port()};
    const std::string first = "first Secret of ann 1";
    const std::string fresh = "recovered Secret of ann 2";
    s.password("ann's first password", first);
    s.password("ann's recovered password", fresh);
    REQUIRE(succeeded(register_user(s.c, ann, first)));
    REQUIRE(sink.wait_for(1, std::chrono::seconds(10))); // verification
    // While the relay refuses, the sealed mail waits in the outbox.
    sink.reject(true);
    REQUIRE(succeeded(s.c.call({{"op", "recovery_start"}, {"email", ann}})));
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (stats_of(s.c)["mails_failed_total"] == 0
           && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto waiting = database_bytes(dir.path());
    CHECK(waiting.find(ann) != std::string::npos); // the users row, yes
    CHECK(waiting.find("Hello") == std::string::npos); // no body in clear
    sink.reject(false);
    REQUIRE(sink.wait_for(2, std::chrono::seconds(10)));
    auto verification = code_in(sink.messages()[0]);
    auto recovery = code_in(sink.messages()[1]);
    REQUIRE(verification);
    REQUIRE(recovery);
    s.secrets.push_back({"the verification code", *verification, false});
    s.secrets.push_back({"the recovery code", *recovery, false});
    const std::string wrong_code = "ZZZZ-ZZZZ";
    s.secrets.push_back({"a wrong code", wrong_code, false});
    CHECK(error_code(s.c.call({{"op", "recovery_finish"},
                               {"email", ann},
                               {"code", wrong_code},
                               {"new_password", fresh}}))
          == "invalid_code");
    auto granted = s.c.call({{"op", "recovery_finish"},
                             {"email", ann},
                             {"code", *recovery},
                             {"new_password", fresh}});
    REQUIRE(succeeded(granted));
    s.tokens_of("the recovery's", granted);
    auto verified = s.c.call({{"op", "verify_email_finish"},
                              {"token", granted["token"]},
                              {"code", *verification}});
    // The recovery proved the address and used nothing else: the
    // verification code is still the live one.
    CHECK(succeeded(verified));
    secrets = s.secrets;
    found = stop_and_collect(node, dir.path(), audit_path);
  }
  check_none_in(found, secrets);
  auto& audit_text = found.audit;
  // Audited, without the code: recovery and verification outcomes.
  CHECK(audit_text.find("\"op\":\"recovery_finish\",\"outcome\":\"invalid_code\"")
        != std::string::npos);
  CHECK(audit_text.find("\"op\":\"recovery_finish\",\"outcome\":\"ok\"")
        != std::string::npos);
  CHECK(audit_text.find("\"op\":\"verify_email_finish\",\"outcome\":\"ok\"")
        != std::string::npos);
}

TEST_CASE("no TOTP seed, TOTP code, recovery code or challenge reaches the "
          "log, the audit file or the database",
          "[secrets][totp]") {
  temp_dir dir;
  auto audit_path = dir.path() + "/audit.log";
  auto opts = fast_options();
  opts.push_back("--audit=" + audit_path);
  traces found;
  std::vector<used_secret> secrets;
  {
    node_process node{opts, dir.path()};
    session s{node.port()};
    const std::string ann = "ann-totp@example.org";
    auto e = enroll(s.c, ann);
    // The seed as the app shows it, and its bytes in the usual encodings.
    s.secrets.push_back({"the TOTP secret (base32)", e.secret, false});
    s.secrets.push_back({"the TOTP seed's bytes", e.seed, false});
    s.secrets.push_back({"the TOTP seed in hex", to_hex(e.seed), false});
    s.secrets.push_back(
      {"the TOTP seed in base64",
       to_base64(e.seed, sodium_base64_VARIANT_ORIGINAL), false});
    s.secrets.push_back(
      {"the setup's code", code_at(e.seed, e.step), false, true});
    for (auto& code : e.recovery_codes)
      s.secrets.push_back({"a recovery code", code.get<std::string>(), false});

    auto challenge = challenge_of(s.c, ann);
    s.secrets.push_back({"a challenge", challenge, true});
    auto wrong = code_at(e.seed, e.step + 1) == "271828" ? "314159" : "271828";
    s.secrets.push_back({"a wrong code", wrong, false, true});
    CHECK(error_code(second_factor(s.c, challenge, wrong)) == "invalid_code");
    auto next = code_at(e.seed, e.step + 1);
    s.secrets.push_back({"the login's code", next, false, true});
    auto granted = second_factor(s.c, challenge, next);
    REQUIRE(succeeded(granted));
    s.tokens_of("the second-factor login's", granted);
    auto by_code = second_factor(s.c, challenge_of(s.c, ann),
                                 e.recovery_codes[0].get<std::string>());
    REQUIRE(succeeded(by_code));
    s.tokens_of("the recovery-code login's", by_code);
    auto renewed = s.c.call({{"op", "recovery_codes_renew"},
                             {"token", e.token},
                             {"code", e.recovery_codes[1]}});
    REQUIRE(succeeded(renewed));
    for (auto& code : renewed["recovery_codes"])
      s.secrets.push_back(
        {"a renewed recovery code", code.get<std::string>(), false});
    // What travels on the wire, long enough to search every node's log
    // for (support/secret_registry.hpp), the registry saw.
    for (auto& secret : s.secrets) {
      INFO(secret.label);
      auto on_wire = secret.label.find("seed") == std::string::npos;
      if (on_wire && !secret.digits)
        CHECK(secret_registry::global().contains(secret.value));
    }
    secrets = s.secrets;
    found = stop_and_collect(node, dir.path(), audit_path);
  }
  check_none_in(found, secrets);
  for (auto want :
       {"\"op\":\"totp_enable\",\"outcome\":\"ok\"",
        "\"op\":\"login\",\"outcome\":\"second_factor_required\"",
        "\"op\":\"login_second_factor\",\"outcome\":\"invalid_code\"",
        "\"op\":\"login_second_factor\",\"outcome\":\"ok\""}) {
    INFO(want);
    CHECK(found.audit.find(want) != std::string::npos);
  }
}
