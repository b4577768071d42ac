// account_store against real SQLite in memory: codes and the mail that
// carries them, as the database actor uses them.
#include <catch2/catch.hpp>

#include <memory>
#include <regex>
#include <string>

#include <nlohmann/json.hpp>

#include "core/account_code.hpp"
#include "core/error_code.hpp"
#include "storage/account_store.hpp"
#include "support/databases.hpp"

using namespace authnode;
using authnode::test::alice;
using authnode::test::login_of;
using authnode::test::open_store;

namespace {

constexpr int64_t t0 = 1'800'000'000;

/// The code in a mail's body, as a person would spot it; "" if none.
std::string code_in_body(const std::string& body) {
  std::smatch m;
  static const std::regex pattern{"[0-9A-Z]{4}-[0-9A-Z]{4}"};
  return std::regex_search(body, m, pattern) ? m.str() : std::string{};
}

struct fixture {
  std::unique_ptr<user_store> users = open_store(authnode::test::each_database());
  std::shared_ptr<mail_setup> setup = make_setup();
  std::unique_ptr<account_store> accounts;
  int64_t alice_id = 0;

  static std::shared_ptr<mail_setup> make_setup() {
    auto s = std::make_shared<mail_setup>();
    s->keys = random_node_keys();
    std::string error;
    auto templates = load_mail_templates("", error);
    REQUIRE(templates);
    s->templates = *templates;
    s->app_url = "https://app.example.org";
    s->mails_per_hour = 3;
    return s;
  }

  fixture() {
    std::string error;
    accounts = account_store::open(*users, setup, error);
    REQUIRE(accounts);
    auto added = users->add_user(alice());
    REQUIRE(added);
    alice_id = added->id;
  }

  /// Issues a recovery code for alice at `now` and returns it, read from
  /// the mail the outbox hands out.
  std::string issue(int64_t now = t0) {
    auto issued = accounts->issue(
      code_request{"alice@example.org", code_purpose::recovery, {}}, now);
    REQUIRE(issued);
    REQUIRE(issued->sent);
    auto batch = accounts->take(now * 1000 + 1, 16);
    REQUIRE(batch);
    REQUIRE(!batch->mails.empty());
    auto& mail = batch->mails.back();
    REQUIRE(accounts->sent(mail.id));
    auto code = code_in_body(mail.body);
    REQUIRE(!code.empty());
    return code;
  }

  caf::expected<user_view> check(const std::string& code, int64_t now = t0) {
    return accounts->check(
      code_attempt{"alice@example.org", code_purpose::recovery, secret{code}},
      now);
  }
};

bool is(const caf::error& err, ec code) {
  return err == caf::make_error(code);
}

} // namespace

TEST_CASE("a code is mailed sealed and checks only for its user and purpose",
          "[account_store]") {
  fixture f;
  auto code = f.issue();
  CHECK(canonical_code(code));
  auto found = f.check(code);
  REQUIRE(found);
  CHECK(found->email == "alice@example.org");
  // Another purpose's code is another code.
  auto other = f.accounts->check(code_attempt{"alice@example.org",
                                              code_purpose::verification,
                                              secret{code}},
                                 t0);
  CHECK(is(other.error(), ec::invalid_code));
  // Reported sent: the mail is gone from the outbox.
  auto rows = f.accounts->status();
  REQUIRE(rows);
  CHECK(rows->pending == 0);
}

TEST_CASE("unknown, disabled and out-of-budget accounts get no code",
          "[account_store]") {
  fixture f;
  auto unknown = f.accounts->issue(
    code_request{"nobody@example.org", code_purpose::recovery, {}}, t0);
  REQUIRE(unknown);
  CHECK_FALSE(unknown->sent);
  for (int i = 0; i < 3; ++i)
    f.issue(t0 + i);
  auto over = f.accounts->issue(
    code_request{"alice@example.org", code_purpose::recovery, {}}, t0 + 10);
  REQUIRE(over);
  CHECK_FALSE(over->sent);
  CHECK(over->reason == code_issued::budget_spent);
  // An hour later the budget is back.
  auto later = f.accounts->issue(
    code_request{"alice@example.org", code_purpose::recovery, {}},
    t0 + 3601);
  REQUIRE(later);
  CHECK(later->sent);
  REQUIRE(f.users->set_disabled("alice@example.org", true));
  auto disabled = f.accounts->issue(
    code_request{"alice@example.org", code_purpose::recovery, {}},
    t0 + 7200);
  REQUIRE(disabled);
  CHECK_FALSE(disabled->sent);
  CHECK(disabled->reason == "disabled");
}

TEST_CASE("a code dies at its fifth wrong try, expires, and is replaced",
          "[account_store]") {
  fixture f;
  auto code = f.issue();
  for (int i = 0; i < 4; ++i)
    CHECK(is(f.check("0000-0000").error(), ec::invalid_code));
  CHECK(f.check(code)); // four wrong tries: still alive
  CHECK(is(f.check("0000-0000").error(), ec::invalid_code));
  CHECK(is(f.check(code).error(), ec::invalid_code)); // the fifth killed it

  auto first = f.issue(t0 + 1);
  auto second = f.issue(t0 + 2);
  CHECK(is(f.check(first, t0 + 3).error(), ec::invalid_code));
  CHECK(f.check(second, t0 + 3));
  CHECK(is(f.check(second, t0 + 2 + 15 * 60).error(), ec::invalid_code));
}

TEST_CASE("a recovery uses the code up and writes everything at once",
          "[account_store]") {
  fixture f;
  auto code = f.issue();
  REQUIRE(f.users->commit_login(login_of(f.alice_id, "old-session", t0,
                                         t0 + 3600)));
  account_recovery x;
  x.attempt = code_attempt{"alice@example.org", code_purpose::recovery,
                           secret{code}};
  x.password_hash = "$argon2id$new";
  x.login = login_of(f.alice_id, "new-session", t0, t0 + 3600);
  auto user = f.accounts->recover(x, t0);
  REQUIRE(user);
  CHECK(user->email_verified);
  auto record = f.users->user_by_email("alice@example.org");
  REQUIRE(record);
  CHECK(record->password_hash == "$argon2id$new");
  CHECK(record->user.email_verified);
  CHECK_FALSE(f.users->session_owner_of("old-session", t0));
  CHECK(f.users->session_owner_of("new-session", t0));
  // Used up: a second recovery with it fails and changes nothing.
  x.password_hash = "$argon2id$other";
  x.login = login_of(f.alice_id, "third-session", t0, t0 + 3600);
  CHECK(is(f.accounts->recover(x, t0).error(), ec::invalid_code));
  CHECK(f.users->user_by_email("alice@example.org")->password_hash
        == "$argon2id$new");
  CHECK_FALSE(f.users->session_owner_of("third-session", t0));
}

TEST_CASE("the outbox hands a mail to one take until it is reported",
          "[account_store][outbox]") {
  fixture f;
  REQUIRE(f.accounts->issue(
    code_request{"alice@example.org", code_purpose::recovery, {}}, t0));
  auto now_ms = t0 * 1000 + 5;
  auto first = f.accounts->take(now_ms, 16);
  REQUIRE(first);
  REQUIRE(first->mails.size() == 1);
  CHECK(first->mails[0].to == "alice@example.org");
  CHECK(first->mails[0].body.find("https://app.example.org")
        != std::string::npos);
  // Taken and not reported: a second take does not hand it out again.
  auto second = f.accounts->take(now_ms + 1, 16);
  REQUIRE(second);
  CHECK(second->mails.empty());
  CHECK(second->pending == 1);
  // A failed delivery: due again at the time given, with its error.
  auto id = first->mails[0].id;
  REQUIRE(f.accounts->retry(id, now_ms + 1000, "451 try later"));
  auto status = f.accounts->status();
  REQUIRE(status);
  CHECK(status->pending == 1);
  CHECK(status->most_attempts == 1);
  CHECK(status->last_error == "451 try later");
  CHECK(f.accounts->take(now_ms + 999, 16)->mails.empty());
  auto again = f.accounts->take(now_ms + 1000, 16);
  REQUIRE(again);
  REQUIRE(again->mails.size() == 1);
  CHECK(again->mails[0].attempts == 1);
  REQUIRE(f.accounts->sent(id));
  CHECK(f.accounts->status()->pending == 0);
}

TEST_CASE("an email change moves the account only with its code",
          "[account_store]") {
  fixture f;
  REQUIRE(f.users->add_user(new_user{"bob@example.org", "Bob", "h", t0}));
  auto taken = f.accounts->issue(
    code_request{"alice@example.org", code_purpose::email_change,
                 "bob@example.org"},
    t0);
  CHECK(is(taken.error(), ec::email_taken));
  auto issued = f.accounts->issue(
    code_request{"alice@example.org", code_purpose::email_change,
                 "alice@example.net"},
    t0);
  REQUIRE(issued);
  REQUIRE(issued->sent);
  auto batch = f.accounts->take(t0 * 1000 + 1, 16);
  REQUIRE(batch);
  REQUIRE(batch->mails.size() == 2); // the code, and the notice
  CHECK(batch->mails[0].to == "alice@example.net");
  CHECK(batch->mails[1].to == "alice@example.org");
  CHECK(code_in_body(batch->mails[1].body).empty());
  auto code = code_in_body(batch->mails[0].body);
  REQUIRE(!code.empty());
  auto moved = f.accounts->use(
    code_attempt{"alice@example.org", code_purpose::email_change,
                 secret{code}},
    t0 + 1);
  REQUIRE(moved);
  CHECK(moved->email == "alice@example.net");
  CHECK(moved->email_verified);
  CHECK(f.users->user_by_email("alice@example.net"));
  CHECK_FALSE(f.users->user_by_email("alice@example.org"));
}
