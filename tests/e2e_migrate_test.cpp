// End to end: moving a node from SQLite to PostgreSQL with `authctl
// migrate`, as an operator does it: stop the node, copy, start it on
// PostgreSQL with the same secret key file. Its users log in with their
// passwords and their second factors, and the sessions they had go on.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "support/databases.hpp"
#include "support/line_client.hpp"
#include "support/node_process.hpp"
#include "support/program.hpp"
#include "support/protocol.hpp"
#include "support/second_factor.hpp"
#include "support/temp_dir.hpp"

using namespace authnode::test;

namespace {

program_result authctl(std::vector<std::string> args) {
  program_run run;
  run.args = std::move(args);
  auto result = run_program(AUTHCTL_BINARY, run);
  UNSCOPED_INFO("authctl stdout: " << result.out);
  UNSCOPED_INFO("authctl stderr: " << result.err);
  return result;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("authctl migrate moves a node's users sessions and second "
          "factors to PostgreSQL",
          "[e2e][postgres][migrate][sqlite]") {
  temp_dir dir;
  auto key = "--secret-key-file=" + dir.file("secret-key");
  auto options = fast_options();
  options.push_back(key);
  enrolled ann;
  std::string bob_token;
  {
    node_process sqlite_node{options, dir.path()};
    line_client c{sqlite_node.port()};
    ann = enroll(c, "ann@example.org");
    REQUIRE(succeeded(register_user(c, "bob@example.org")));
    bob_token = session_token(c, "bob@example.org");
    REQUIRE(sqlite_node.stop() == 0);
  }

  auto uri = postgres_database();
  auto db = dir.file("auth.db");
  auto first = authctl({"migrate", "--from", db, "--to", uri, "--no-progress"});
  REQUIRE(first.status == 0);
  CHECK(contains(first.out, "users"));
  CHECK(contains(first.out, "copied"));
  CHECK_FALSE(contains(first.out, "differs"));
  // Run again: nothing doubles, the counts still agree.
  auto again = authctl({"--json", "migrate", "--from", db, "--to", uri});
  REQUIRE(again.status == 0);
  auto report = json::parse(again.out);
  CHECK(report["counts_match"] == true);
  for (auto& t : report["tables"])
    if (t["table"] == "users")
      CHECK(t["target"] == 2);

  options.push_back("--db=" + uri);
  node_process pg_node{options};
  line_client c{pg_node.port()};
  CHECK(succeeded(whoami(c, bob_token)));
  CHECK(succeeded(login(c, "bob@example.org")));
  // Ann's TOTP seed was sealed with the node's key: the same key file
  // opens it on PostgreSQL.
  auto challenge = challenge_of(c, "ann@example.org");
  CHECK(
    succeeded(second_factor(c, challenge, code_at(ann.seed, ann.step + 1))));
  CHECK(succeeded(whoami(c, ann.token)));
  // New registrations get ids after the copied ones.
  CHECK(succeeded(register_user(c, "cy@example.org")));
}

TEST_CASE("authctl migrate refuses a target that is not PostgreSQL",
          "[e2e][migrate]") {
  temp_dir dir;
  add_bulk_users(dir.file("auth.db"), 1);
  auto result = authctl(
    {"migrate", "--from", dir.file("auth.db"), "--to", dir.file("other.db")});
  CHECK(result.status == 2);
  CHECK(contains(result.err, "PostgreSQL"));
}
