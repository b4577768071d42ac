// End to end: a real node with a real breached-password index, built by the
// real `authctl breached build` from a corpus of a million lines the test
// makes (tests/support/breached_corpus.hpp), driven over TCP as a client and
// an operator would: new breached passwords refused on every op that sets
// one, fresh ones accepted, context words refused, the login advisory,
// --breached-min-count, a bad index at start, the optional mode and
// reloading (admin op and SIGHUP).
//
// The million-line index is built once per run of the test binary (a
// lazily made shared fixture) and mapped by every node here.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>

#include <signal.h>

#include "support/admin_client.hpp"
#include "support/breached_corpus.hpp"
#include "support/line_client.hpp"
#include "support/node_process.hpp"
#include "support/program.hpp"
#include "support/protocol.hpp"
#include "support/second_factor.hpp"
#include "support/smtp_sink.hpp"
#include "support/temp_dir.hpp"

using namespace authnode::test;
using namespace std::chrono_literals;

namespace {

constexpr size_t corpus_size = 1'000'000;

/// Writes `lines` to `path` and builds the index `out` with authctl.
void build_index(const std::vector<std::string>& lines,
                 const std::string& path, const std::string& out) {
  {
    std::ofstream f{path, std::ios::binary | std::ios::trunc};
    for (auto& l : lines)
      f << l << '\n';
  }
  auto r = run_program(AUTHCTL_BINARY, {{"breached", "build", path, out,
                                         "--no-progress"},
                                        {},
                                        {},
                                        120s});
  INFO(r.err);
  REQUIRE(r.status == 0);
}

/// The indexes every test here maps: `big` of words [0, 1M), `small` of
/// words [0, 10).
struct corpora {
  temp_dir dir;
  std::string big = dir.file("big.idx");
  std::string small = dir.file("small.idx");
  corpora() {
    auto started = std::chrono::steady_clock::now();
    build_index(corpus_lines(corpus_size), dir.file("big.txt"), big);
    std::remove(dir.file("big.txt").c_str());
    build_index(corpus_lines(10), dir.file("small.txt"), small);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
    std::cout << "e2e_breached: a million-line corpus made and built in "
              << ms.count() << " ms\n";
  }
};

const corpora& shared() {
  static corpora c;
  return c;
}

std::vector<std::string> with(std::vector<std::string> more) {
  auto opts = fast_options();
  opts.insert(opts.end(), more.begin(), more.end());
  return opts;
}

std::vector<std::string> breached_options(const std::string& index,
                                          std::vector<std::string> more = {}) {
  more.push_back("--breached-passwords=" + index);
  return with(std::move(more));
}

/// A word of the big corpus whose count is at least 1.
const std::string breached = corpus_word(123'456);
const std::string fresh = "a fresh horse staple";

std::string message_of(const json& reply) {
  return reply.at("error").at("message").get<std::string>();
}

void copy_file(const std::string& from, const std::string& to,
               size_t bytes = std::string::npos) {
  std::ifstream in{from, std::ios::binary};
  std::string data{std::istreambuf_iterator<char>{in}, {}};
  std::ofstream out{to, std::ios::binary | std::ios::trunc};
  out << data.substr(0, bytes);
}

/// A node mapping `live`, a copy of the small index, which a test replaces
/// by rename as an operator would.
struct live_index {
  temp_dir dir;
  std::string live = dir.file("live.idx");
  std::unique_ptr<node_process> node;
  live_index() {
    copy_file(shared().small, live);
    node = std::make_unique<node_process>(breached_options(live));
  }
  /// The first `bytes` of the big index, renamed over `live`.
  void replace(size_t bytes = std::string::npos) {
    copy_file(shared().big, dir.file("next"), bytes);
    REQUIRE(std::rename(dir.file("next").c_str(), live.c_str()) == 0);
  }
};

json reload(admin_client& a) {
  return a.call({{"op", "breached_reload"}});
}

} // namespace

TEST_CASE("a breached password is refused by register, change_password, "
          "user_add and user_set_password, and a fresh one is accepted",
          "[e2e][breached]") {
  node_process node{breached_options(shared().big)};
  line_client c{node.port()};
  auto refused = register_user(c, "ann@example.org", breached);
  CHECK(error_code(refused) == "breached_password");
  CHECK(message_of(refused).find("breached") != std::string::npos);
  CHECK(message_of(refused).find(breached) == std::string::npos);
  REQUIRE(succeeded(register_user(c, "ann@example.org", fresh)));

  auto token = session_token(c, "ann@example.org", fresh);
  CHECK(error_code(change_password(c, token, fresh, breached))
        == "breached_password");
  CHECK(succeeded(change_password(c, token, fresh, fresh + "2")));

  admin_client a{node};
  CHECK(error_code(a.call({{"op", "user_add"},
                           {"email", "bob@example.org"},
                           {"name", "Bob"},
                           {"password", breached}}))
        == "breached_password");
  CHECK(error_code(a.call({{"op", "user_set_password"},
                           {"email", "ann@example.org"},
                           {"password", breached}}))
        == "breached_password");
  // The old password still logs in: nothing was changed.
  CHECK(succeeded(login(c, "ann@example.org", fresh + "2")));

  auto stats = stats_of(c);
  CHECK(stats["breached_passwords"] == "on");
  CHECK(stats["breached_path"] == shared().big);
  CHECK(stats["breached_index_entries"] == int64_t{corpus_size});
  CHECK(stats["breached_password_refused_total"] == 2); // the public ops
}

TEST_CASE("recovery_finish refuses a breached new password and keeps the "
          "code for a fresh one",
          "[e2e][breached][recovery]") {
  smtp_sink sink;
  node_process node{mail_options(
    sink, {"--verify-email=off", "--breached-passwords=" + shared().big})};
  line_client c{node.port()};
  REQUIRE(succeeded(register_user(c, "ann@example.org", fresh)));
  REQUIRE(succeeded(c.call({{"op", "recovery_start"},
                            {"email", "ann@example.org"}})));
  REQUIRE(sink.wait_for(1, 10s));
  auto code = code_in(sink.messages()[0]).value_or("");
  REQUIRE(!code.empty());
  auto finish = [&](const std::string& password) {
    return c.call({{"op", "recovery_finish"},
                   {"email", "ann@example.org"},
                   {"code", code},
                   {"new_password", password}});
  };
  CHECK(error_code(finish(breached)) == "breached_password");
  auto done = finish("another fresh staple");
  CHECK(succeeded(done));
  CHECK(done["password_breached"] == false);
}

TEST_CASE("a password made of the email, the name or the site's words is "
          "refused with breached_password, saying why",
          "[e2e][breached]") {
  node_process node{with({"--password-context-words=Examplesite"})};
  line_client c{node.port()};
  for (auto pw : {"Ann.Lee1990!", "!!examplesite2024", "lee-examplesite-7"}) {
    auto reply = register_user(c, "ann.lee@example.org", pw, "Ann Lee");
    CHECK(error_code(reply) == "breached_password");
    CHECK(message_of(reply).find("your name") != std::string::npos);
  }
  REQUIRE(succeeded(
    register_user(c, "ann.lee@example.org", "Ann1990!plus", "Ann Lee")));
  auto token = session_token(c, "ann.lee@example.org", "Ann1990!plus");
  CHECK(error_code(change_password(c, token, "Ann1990!plus", "LEE 2025 lee"))
        == "breached_password");
  admin_client a{node};
  CHECK(error_code(a.call({{"op", "user_set_password"},
                           {"email", "ann.lee@example.org"},
                           {"password", "AnnLee!!2026"}}))
        == "breached_password");
}

TEST_CASE("a login with a breached password succeeds and says so, also "
          "when a second factor is asked for",
          "[e2e][breached]") {
  temp_dir db;
  enrolled cy_totp;
  {
    // Registered before the operator turned the check on.
    node_process before{fast_options(), db.path()};
    REQUIRE(succeeded(register_user(before.port(), "ann@example.org",
                                    breached)));
    REQUIRE(succeeded(register_user(before.port(), "bob@example.org",
                                    fresh)));
    line_client c{before.port()};
    cy_totp = enroll(c, "cy@example.org", breached); // TOTP on
  }
  node_process node{breached_options(shared().big), db.path()};
  line_client c{node.port()};
  auto ann = login(c, "ann@example.org", breached);
  REQUIRE(succeeded(ann));
  CHECK(ann["password_breached"] == true);
  auto bob = login(c, "bob@example.org", fresh);
  REQUIRE(succeeded(bob));
  CHECK(bob["password_breached"] == false);
  // With TOTP the first step says so, and so does the grant of the second.
  auto cy = login(c, "cy@example.org", breached);
  REQUIRE(error_code(cy) == "second_factor_required");
  CHECK(cy["password_breached"] == true);
  auto cy_in = second_factor(c, cy["challenge"].get<std::string>(),
                             cy_totp.recovery_codes[0].get<std::string>());
  REQUIRE(succeeded(cy_in));
  CHECK(cy_in["password_breached"] == true);
  CHECK(login(c, "bob@example.org", fresh).contains("password_breached"));
  CHECK(stats_of(c)["breached_login_total"] == 2);
  CHECK(node.wait_for_log("password, breached"));
}

TEST_CASE("with --breached-min-count=2 a password counted fewer times passes",
          "[e2e][breached]") {
  // corpus_count: word 1000 is counted once, word 1001 twice.
  node_process node{
    breached_options(shared().big, {"--breached-min-count=2"})};
  line_client c{node.port()};
  CHECK(succeeded(register_user(c, "a@example.org", corpus_word(1000))));
  CHECK(error_code(register_user(c, "b@example.org", corpus_word(1001)))
        == "breached_password");
}

TEST_CASE("a missing, truncated or foreign index stops the start, naming "
          "the file",
          "[e2e][breached]") {
  temp_dir dir;
  auto truncated = dir.file("truncated.idx");
  copy_file(shared().big, truncated, 64 + 12 * 1000);
  auto foreign = dir.file("foreign.idx");
  {
    std::ofstream f{foreign};
    f << "not an index, just some text that is long enough for a header of "
         "sixty-four bytes\n";
  }
  for (auto& path : {dir.file("missing.idx"), truncated, foreign}) {
    auto r = run_node_to_exit(breached_options(
      path, {"--port=0", "--admin-port=0", "--db=" + dir.file("a.db")}));
    INFO(r.output);
    CHECK(r.status == 2);
    CHECK(r.output.find(path) != std::string::npos);
  }
}

TEST_CASE("with --breached-passwords-optional the node starts without the "
          "index, says so in the log and in stats, and maps it once it is "
          "there and reloaded",
          "[e2e][breached]") {
  temp_dir dir;
  auto path = dir.file("missing.idx");
  node_process node{breached_options(path, {"--breached-passwords-optional"})};
  CHECK(node.wait_for_log("starting without the breached-password check"));
  line_client c{node.port()};
  CHECK(stats_of(c)["breached_passwords"] == "missing");
  CHECK(succeeded(register_user(c, "ann@example.org", breached)));

  // The operator puts the index in place (by rename) and reloads.
  copy_file(shared().small, dir.file("next"));
  REQUIRE(std::rename(dir.file("next").c_str(), path.c_str()) == 0);
  admin_client a{node};
  auto reloaded = reload(a);
  REQUIRE(succeeded(reloaded));
  CHECK(reloaded["breached"]["reloaded"] == true);
  CHECK(reloaded["breached"]["state"] == "on");
  CHECK(stats_of(c)["breached_passwords"] == "on");
  CHECK(error_code(register_user(c, "bob@example.org", corpus_word(3)))
        == "breached_password");
}

TEST_CASE("breached_reload maps a new index and a bad one keeps the old",
          "[e2e][breached]") {
  live_index index;
  auto& live = index.live;
  line_client c{index.node->port()};
  admin_client a{*index.node};
  CHECK(succeeded(register_user(c, "a@example.org", breached)));
  CHECK(error_code(register_user(c, "b@example.org", corpus_word(3)))
        == "breached_password");

  // A bad file put in place: the old mapping stays.
  index.replace(100);
  auto bad = reload(a);
  REQUIRE(succeeded(bad));
  CHECK(bad["breached"]["reloaded"] == false);
  CHECK(bad["breached"]["state"] == "on");
  CHECK(bad["breached"]["entries"] == 10);
  CHECK(bad["breached"]["problem"].get<std::string>().find(live)
        != std::string::npos);
  CHECK(error_code(register_user(c, "b@example.org", corpus_word(3)))
        == "breached_password");

  // A good one, by rename: it replaces the old.
  index.replace();
  auto good = reload(a);
  REQUIRE(succeeded(good));
  CHECK(good["breached"]["reloaded"] == true);
  CHECK(good["breached"]["entries"] == int64_t{corpus_size});
  CHECK(error_code(register_user(c, "c@example.org", breached))
        == "breached_password");
  CHECK(stats_of(c)["breached_index_entries"] == int64_t{corpus_size});
}

TEST_CASE("authctl breached reload says whether the new index was taken",
          "[e2e][breached][authctl]") {
  live_index index;
  auto& live = index.live;
  auto& node = *index.node;
  auto authctl = [&] {
    return run_program(
      AUTHCTL_BINARY,
      {{"breached", "reload"},
       {},
       {"AUTHNODE_ADMIN_PORT=" + std::to_string(node.admin_port()),
        "AUTHNODE_ADMIN_KEY_FILE=" + node.db_dir() + "/auth.db.admin-key"},
       30s});
  };
  index.replace(1000);
  auto bad = authctl();
  CHECK(bad.status == 1);
  CHECK(bad.err.find("the old index stays") != std::string::npos);
  CHECK(bad.err.find(live) != std::string::npos);
  index.replace();
  auto good = authctl();
  INFO(good.err);
  CHECK(good.status == 0);
  CHECK(good.out.find("1000000") != std::string::npos);
}

TEST_CASE("SIGHUP maps the index again", "[e2e][breached]") {
  live_index index;
  auto& node = *index.node;
  line_client c{node.port()};
  CHECK(succeeded(register_user(c, "a@example.org", breached)));
  index.replace();
  REQUIRE(::kill(node.pid(), SIGHUP) == 0);
  REQUIRE(node.wait_for_log("1000000 entries"));
  CHECK(error_code(register_user(c, "b@example.org", breached))
        == "breached_password");
  CHECK(node.running());
}
