// The fail2ban filter (deploy/fail2ban/filter.d/authnode.conf) against the
// audit log of a real node: failures from 127.0.0.2 (wrong passwords) and
// 127.0.0.3 (wrong passwords, then throttled), an admin request with a wrong
// key from 127.0.0.5 (forbidden), a wrong second-factor code from 127.0.0.6
// (whose password matched: second_factor_required, then invalid_code),
// successes from 127.0.0.4.
// fail2ban-regex (Debian's fail2ban) must match every failure line with its
// own address and no success line.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <vector>

#include <sys/wait.h>

#include "support/line_client.hpp"
#include "support/node_process.hpp"
#include "support/protocol.hpp"
#include "support/second_factor.hpp"

using namespace authnode::test;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in{text};
  std::string line;
  while (std::getline(in, line))
    if (!line.empty())
      out.push_back(line);
  return out;
}

/// fail2ban-regex's output with one --out token: one line per matched log
/// line, in log order.
std::vector<std::string> fail2ban_regex(const std::string& log,
                                        const std::string& token) {
  auto cmd = "fail2ban-regex --out=" + token + " " + log + " "
    + AUTHNODE_SOURCE_DIR "/deploy/fail2ban/filter.d/authnode.conf";
  auto pipe = popen(cmd.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0)
    out.append(buf, n);
  int status = pclose(pipe);
  INFO(cmd << "\n" << out);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  return lines_of(out);
}

} // namespace

TEST_CASE("fail2ban's filter matches every failure with its address and no "
          "success") {
  temp_dir dir;
  auto audit = dir.path() + "/audit.log";
  auto args = fast_options();
  args.push_back("--audit=" + audit);
  args.push_back("--max-penalty=1s"); // keeps the held attempts short
  node_process node{args};
  {
    line_client c{node.port(), "127.0.0.4"};
    REQUIRE(succeeded(register_user(c, "ann@example.org")));
    REQUIRE(succeeded(login(c, "ann@example.org")));
    enroll(c, "dan@example.org"); // login, totp_setup, totp_enable: ok
  }
  {
    // Dan's password, then a wrong code: invalid_code.
    line_client c{node.port(), "127.0.0.6"};
    auto challenge = challenge_of(c, "dan@example.org");
    REQUIRE(error_code(second_factor(c, challenge, "000000"))
            == "invalid_code");
  }
  {
    // Wrong passwords, one after the other (each held for its delay and
    // the throttle's penalty): invalid_credentials.
    line_client c{node.port(), "127.0.0.2"};
    for (int i = 0; i < 2; ++i)
      REQUIRE(
        error_code(c.call(
          login_request("ann@example.org", "wrong " + std::to_string(i)), 15s))
        == "invalid_credentials");
  }
  {
    // A burst: two checks run, one waits, the rest are refused at once.
    line_client c{node.port(), "127.0.0.3"};
    for (int i = 0; i < 6; ++i) {
      c.send(with_id(
        i, login_request("ann@example.org", "guess " + std::to_string(i))));
    }
    std::multiset<std::string> codes;
    for (int i = 0; i < 6; ++i)
      codes.insert(outcome(c.read_reply(i, 20s)));
    REQUIRE(codes.count("rate_limited") >= 1);
    REQUIRE(codes.count("invalid_credentials") >= 1);
  }
  {
    // A wrong admin key on the admin port: forbidden, held, audited.
    line_client c{node.admin_port(), "127.0.0.5"};
    auto reply = c.call({{"op", "stats"}, {"admin_key", "not the key"}}, 15s);
    REQUIRE(error_code(reply) == "forbidden");
  }
  {
    // The owner, from elsewhere, after the account's penalty: a success.
    line_client c{node.port(), "127.0.0.4"};
    REQUIRE(succeeded(c.call(login_request("ann@example.org"), 30s)));
  }
  REQUIRE(node.stop() == 0);

  std::ifstream in{audit};
  std::stringstream text;
  text << in.rdbuf();
  auto all = lines_of(text.str());
  std::vector<std::string> failures;
  std::vector<std::string> failure_sources;
  int successes = 0, rate_limited = 0, forbidden = 0;
  for (auto& line : all) {
    auto e = json::parse(line);
    auto outcome = e["outcome"].get<std::string>();
    if (outcome == "invalid_credentials" || outcome == "invalid_code"
        || outcome == "rate_limited" || outcome == "forbidden") {
      failures.push_back(line);
      failure_sources.push_back(e["source"]);
      CHECK(e["source"] != "127.0.0.4");
      rate_limited += outcome == "rate_limited";
      if (outcome == "forbidden") {
        CHECK(e["source"] == "127.0.0.5");
        ++forbidden;
      }
    } else if (outcome == "second_factor_required") {
      CHECK(e["source"] == "127.0.0.6");
    } else {
      CHECK(outcome == "ok");
      CHECK(e["source"] == "127.0.0.4");
      ++successes;
    }
  }
  REQUIRE(successes == 5);
  REQUIRE(rate_limited >= 1);
  REQUIRE(forbidden == 1);
  REQUIRE(failures.size() >= 5);

  // fail2ban-regex prints the matched lines (--out=msg) and their addresses
  // (--out=ip) in log order: they must be exactly the failures.
  auto matched = fail2ban_regex(audit, "msg");
  auto addresses = fail2ban_regex(audit, "ip");
  CHECK(matched == failures);
  CHECK(addresses == failure_sources);
  for (auto& line : matched)
    CHECK(line.find("\"outcome\":\"ok\"") == std::string::npos);

  // And the check can fail: a filter that matches nothing is caught.
  auto broken = dir.path() + "/broken.conf";
  std::ofstream{broken} << "[Definition]\nfailregex = ^\\{\"time\":\"[^\"]+\","
                           "\"event\":\"auth\".*\"source\":\"<HOST>\"\n"
                           "datepattern = ^\\{\"time\":\"%%Y-%%m-%%dT%%H:%%M:"
                           "%%SZ\"\n";
  auto pipe = popen(("fail2ban-regex --out=ip " + audit + " " + broken).c_str(),
                    "r");
  REQUIRE(pipe != nullptr);
  char buf[256];
  CHECK(fread(buf, 1, sizeof(buf), pipe) == 0); // the old filter's mistake
  pclose(pipe);
}
