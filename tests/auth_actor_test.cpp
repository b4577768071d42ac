// The auth actor alone (support/auth_fixture.hpp): a fake database and
// hasher in memory, CAF's deterministic test coordinator, nothing waits.
#include <catch2/catch.hpp>

#include <cctype>
#include <string>
#include <vector>

#include "support/auth_fixture.hpp"

using namespace authnode;
using namespace authnode::test;
using namespace std::chrono_literals;

namespace {

bool is_base64url(const std::string& s) {
  for (auto c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_')
      return false;
  return true;
}

} // namespace

// -- register ----------------------------------------------------------------

TEST_CASE_METHOD(auth_fixture,
                 "register stores the normalized email and a hash, never the "
                 "password",
                 "[auth][register]") {
  auto user = ask<user_view>(register_atom::value,
                             registration("  Ann@Example.ORG\t", ann_password,
                                          " Ann Smith "));
  REQUIRE(user);
  CHECK(user->email == ann_email);
  CHECK(user->name == "Ann Smith");
  CHECK(user->id > 0);
  CHECK(store->user_lookups == std::vector<std::string>{ann_email});
  REQUIRE(store->added.size() == 1);
  CHECK(store->added[0].email == ann_email);
  CHECK(store->added[0].password_hash != ann_password);
  CHECK(store->added[0].password_hash == "H:" + ann_password);
  CHECK(hashes->hashed == std::vector<std::string>{ann_password});
  CHECK(counters->registrations_total == 1);
}

TEST_CASE_METHOD(auth_fixture,
                 "registering a taken email fails without spending a hash",
                 "[auth][register]") {
  add_user(ann_email, "H:" + ann_password);
  auto user = ask<user_view>(register_atom::value,
                             registration(" ANN@example.org", "another-pw"));
  REQUIRE_FALSE(user);
  CHECK(user.error() == caf::make_error(ec::email_taken));
  CHECK(wire_of(user).code == ec::email_taken);
  CHECK(hashes->hashed.empty());
  CHECK(store->added.empty());
  CHECK(counters->registrations_total == 0);
}

TEST_CASE_METHOD(auth_fixture,
                 "registering an invalid email fails with invalid_email",
                 "[auth][register]") {
  for (auto email : {"not-an-email", "ann@localhost", "@example.org",
                     "ann@@example.org", "ann smith@example.org", ""}) {
    INFO("email: " << email);
    auto user = ask<user_view>(register_atom::value,
                               registration(email, ann_password));
    REQUIRE_FALSE(user);
    CHECK(user.error() == caf::make_error(ec::invalid_email));
    CHECK(wire_of(user).code == ec::invalid_email);
  }
  CHECK(store->user_lookups.empty());
  CHECK(hashes->hashed.empty());
}

TEST_CASE_METHOD(auth_fixture, "weak passwords are refused at registration",
                 "[auth][register]") {
  auto refused = [&](std::string password) {
    auto user = ask<user_view>(register_atom::value,
                               registration(ann_email, std::move(password)));
    REQUIRE_FALSE(user);
    CHECK(user.error() == caf::make_error(ec::weak_password));
    CHECK(wire_of(user).code == ec::weak_password);
  };
  SECTION("shorter than min_password") {
    refused("7-bytes");
  }
  SECTION("longer than 1024 bytes") {
    refused(std::string(max_password_bytes + 1, 'x'));
  }
  SECTION("the email itself, ignoring case and surrounding space") {
    refused(" ANN@Example.org\t");
  }
  CHECK(store->user_lookups.empty());
  CHECK(hashes->hashed.empty());
}

TEST_CASE_METHOD(auth_fixture,
                 "passwords of exactly 8 and exactly 1024 bytes are accepted",
                 "[auth][register]") {
  CHECK(ask<user_view>(register_atom::value,
                       registration("a@example.org", "8-bytes!")));
  CHECK(ask<user_view>(register_atom::value,
                       registration("b@example.org",
                                    std::string(max_password_bytes, 'x'))));
  CHECK(store->added.size() == 2);
}

// -- login -------------------------------------------------------------------

TEST_CASE_METHOD(auth_fixture,
                 "login hands out a 43-character token and stores only its "
                 "digest",
                 "[auth][login]") {
  auto ann = add_user(ann_email, "H:" + ann_password);
  auto before = now_seconds();
  auto grant = ask<session_grant>(login_atom::value,
                                  login(" Ann@EXAMPLE.org ", ann_password));
  auto after = now_seconds();
  REQUIRE(grant);
  auto& tok = grant->token.reveal();
  CHECK(tok.size() == 43);
  CHECK(is_base64url(tok));
  CHECK(grant->user.id == ann.id);
  CHECK(grant->user.email == ann_email);

  REQUIRE(store->commits.size() == 1);
  auto& commit = store->commits[0];
  CHECK(commit.user_id == ann.id);
  CHECK(commit.session.user_id == ann.id);
  CHECK(commit.session.token_digest == token_digest(tok));
  CHECK(commit.session.token_digest != tok);
  CHECK(commit.session.source == "10.0.0.7:5555");
  CHECK(store->rehashes.empty());
  auto ttl = int64_t{2 * 3600};
  CHECK(commit.session.expires_at >= before + ttl);
  CHECK(commit.session.expires_at <= after + ttl);
  CHECK(commit.session.expires_at == commit.session.created_at + ttl);
  CHECK(grant->expires_at == commit.session.expires_at);
  CHECK(grant->user.last_login_at == commit.at);

  CHECK(hashes->verified == std::vector<std::string>{"H:" + ann_password});
  CHECK(hashes->hashed.empty());
  CHECK(counters->logins_ok == 1);
  CHECK(counters->logins_failed == 0);
  CHECK(counters->hash_verifications_total == 1);
}

TEST_CASE_METHOD(auth_fixture,
                 "a wrong password fails with invalid_credentials held for "
                 "the failure delay",
                 "[auth][login]") {
  add_user(ann_email, "H:" + ann_password);
  auto grant = ask<session_grant>(login_atom::value,
                                  login(ann_email, "not-the-password"));
  auto wire = wire_of(grant);
  CHECK(wire.code == ec::invalid_credentials);
  CHECK(wire.hold == settings.failure_delay);
  CHECK(store->commits.empty());
  CHECK(counters->logins_failed == 1);
  CHECK(counters->logins_ok == 0);
}

TEST_CASE_METHOD(auth_fixture,
                 "an unknown email is checked against the dummy hash and "
                 "fails like a wrong password",
                 "[auth][login]") {
  add_user(ann_email, "H:" + ann_password);
  auto unknown = wire_of(ask<session_grant>(
    login_atom::value, login("nobody@example.org", ann_password)));
  CHECK(hashes->verified == std::vector<std::string>{settings.dummy_hash});
  auto wrong = wire_of(
    ask<session_grant>(login_atom::value, login(ann_email, "wrong-password")));
  CHECK(unknown.code == ec::invalid_credentials);
  CHECK(unknown.code == wrong.code);
  CHECK(unknown.hold == settings.failure_delay);
  CHECK(unknown.hold == wrong.hold);
  CHECK(unknown.message == wrong.message);
  CHECK(store->commits.empty());
  CHECK(counters->logins_failed == 2);
  CHECK(counters->hash_verifications_total == 2);
}

TEST_CASE_METHOD(auth_fixture,
                 "a disabled account's right password is verified and fails "
                 "like a wrong password",
                 "[auth][login]") {
  add_user(ann_email, "H:" + ann_password);
  store->users[ann_email].disabled = true;
  auto disabled = wire_of(
    ask<session_grant>(login_atom::value, login(ann_email, ann_password)));
  // The same argon2id work as any login: the stored hash was verified.
  CHECK(hashes->verified == std::vector<std::string>{"H:" + ann_password});
  auto wrong = wire_of(
    ask<session_grant>(login_atom::value, login(ann_email, "wrong-password")));
  CHECK(disabled.code == ec::invalid_credentials);
  CHECK(disabled.code == wrong.code);
  CHECK(disabled.hold == settings.failure_delay);
  CHECK(disabled.hold == wrong.hold);
  CHECK(disabled.message == wrong.message);
  CHECK(store->commits.empty());
  CHECK(counters->logins_failed == 2);
  CHECK(counters->logins_ok == 0);
}

TEST_CASE("forget drops every cached session of a user") {
  auth_fixture f{16};
  f.add_user(ann_email, "H:" + ann_password);
  f.add_session("one", ann_email);
  f.add_session("two", ann_email);
  REQUIRE(f.ask<user_view>(whoami_atom::value, token("one")));
  REQUIRE(f.ask<user_view>(whoami_atom::value, token("two")));
  // The sessions are gone from the database; only the cache knows them.
  f.store->sessions.clear();
  CHECK(f.ask<user_view>(whoami_atom::value, token("one")));
  REQUIRE(f.ask<caf::ok_atom>(forget_atom::value, int64_t{1}));
  CHECK(wire_of(f.ask<user_view>(whoami_atom::value, token("one"))).code
        == ec::invalid_token);
  CHECK(wire_of(f.ask<user_view>(whoami_atom::value, token("two"))).code
        == ec::invalid_token);
}

TEST_CASE_METHOD(auth_fixture,
                 "login with an outdated hash stores a fresh one in place of "
                 "that one",
                 "[auth][login]") {
  auto ann = add_user(ann_email, "OLD:" + ann_password);
  auto grant = ask<session_grant>(login_atom::value,
                                  login(ann_email, ann_password));
  REQUIRE(grant);
  CHECK(hashes->hashed == std::vector<std::string>{ann_password});
  REQUIRE(store->commits.size() == 1);
  // Stored apart from the login, and only in place of the hash verified.
  REQUIRE(store->rehashes.size() == 1);
  CHECK(store->rehashes[0].user_id == ann.id);
  CHECK(store->rehashes[0].old_hash == "OLD:" + ann_password);
  CHECK(store->rehashes[0].new_hash == "H:" + ann_password);
  CHECK(store->users.at(ann_email).password_hash == "H:" + ann_password);

  SECTION("but a wrong password against it changes nothing") {
    store->users.at(ann_email).password_hash = "OLD:" + ann_password;
    auto failed = ask<session_grant>(login_atom::value,
                                     login(ann_email, "wrong-password"));
    CHECK(wire_of(failed).code == ec::invalid_credentials);
    CHECK(hashes->hashed.size() == 1);
    CHECK(store->commits.size() == 1);
    CHECK(store->rehashes.size() == 1);
  }
}

TEST_CASE_METHOD(auth_fixture,
                 "a login is answered before its rehash is stored",
                 "[auth][login]") {
  add_user(ann_email, "OLD:" + ann_password);
  // The database never answers the rehash: the login must not wait for it.
  store->hold_rehashes = true;
  auto grant = ask<session_grant>(login_atom::value,
                                  login(ann_email, ann_password));
  REQUIRE(grant);
  CHECK(store->commits.size() == 1);
  CHECK(store->rehashes.size() == 1);
  CHECK(store->unanswered.size() == 1);
  CHECK(store->users.at(ann_email).password_hash == "OLD:" + ann_password);
}

// -- sessions ----------------------------------------------------------------

TEST_CASE_METHOD(auth_fixture,
                 "whoami and logout with an unknown token fail with "
                 "invalid_token",
                 "[auth][session]") {
  add_user(ann_email, "H:" + ann_password);
  add_session("ann's token", ann_email);

  auto who = ask<user_view>(whoami_atom::value, token("someone's token"));
  CHECK(wire_of(who).code == ec::invalid_token);
  auto out = ask<caf::ok_atom>(logout_atom::value, token("someone's token"));
  CHECK(wire_of(out).code == ec::invalid_token);
  CHECK(wire_of(out).hold == caf::timespan{0});
  // The database only ever sees digests.
  CHECK(store->session_lookups
        == std::vector<std::string>{token_digest("someone's token")});
  CHECK(store->session_deletes
        == std::vector<std::string>{token_digest("someone's token")});

  // The known token works until it is logged out.
  auto me = ask<user_view>(whoami_atom::value, token("ann's token"));
  REQUIRE(me);
  CHECK(me->email == ann_email);
  CHECK(ask<caf::ok_atom>(logout_atom::value, token("ann's token")));
  CHECK(wire_of(ask<user_view>(whoami_atom::value, token("ann's token"))).code
        == ec::invalid_token);
}

TEST_CASE_METHOD(auth_fixture,
                 "a database that does not answer in time makes the request "
                 "unavailable",
                 "[auth][timeout]") {
  add_user(ann_email, "H:" + ann_password);
  add_session("ann's token", ann_email);
  store->silent = true;
  std::string op;
  pending_reply reply;
  SECTION("login") {
    op = "login";
    reply = watch(
      send<session_grant>(login_atom::value, login(ann_email, ann_password)));
  }
  SECTION("register") {
    op = "register";
    reply = watch(send<user_view>(
      register_atom::value, registration("bob@example.org", "bob's password")));
  }
  SECTION("whoami") {
    op = "whoami";
    reply = watch(send<user_view>(whoami_atom::value, token("ann's token")));
  }
  SECTION("logout") {
    op = "logout";
    reply = watch(send<caf::ok_atom>(logout_atom::value, token("ann's token")));
  }
  SECTION("change_password") {
    op = "change_password";
    reply = watch(send<caf::ok_atom>(
      chpass_atom::value,
      password_change_of("ann's token", ann_password, "brand-new-pw")));
  }
  INFO("op: " << op);
  sched->run();
  CHECK(store->unanswered.size() == 1);
  CHECK_FALSE(reply.answered());
  sched->advance_time(settings.backend_timeout - 1ms);
  sched->run();
  CHECK_FALSE(reply.answered());
  sched->advance_time(1ms);
  sched->run();
  REQUIRE(reply.answered());
  auto wire = reply.wire();
  CHECK(wire.code == ec::unavailable);
  CHECK(wire.hold == caf::timespan{0});
}

// -- change_password ---------------------------------------------------------

TEST_CASE_METHOD(auth_fixture,
                 "change_password with a wrong old password fails held like a "
                 "wrong login",
                 "[auth][chpass]") {
  add_user(ann_email, "H:" + ann_password);
  add_session("ann's token", ann_email);
  auto changed = ask<caf::ok_atom>(
    chpass_atom::value,
    password_change_of("ann's token", "wrong-password", "brand-new-pw"));
  auto wire = wire_of(changed);
  CHECK(wire.code == ec::invalid_credentials);
  CHECK(wire.hold == settings.failure_delay);
  CHECK(hashes->verified == std::vector<std::string>{"H:" + ann_password});
  CHECK(hashes->hashed.empty());
  CHECK(store->password_changes.empty());
  CHECK(counters->logins_failed == 1);
}

TEST_CASE_METHOD(auth_fixture,
                 "change_password stores a new hash and keeps the caller's "
                 "session",
                 "[auth][chpass]") {
  auto ann = add_user(ann_email, "H:" + ann_password);
  add_session("ann's token", ann_email);
  auto changed = ask<caf::ok_atom>(
    chpass_atom::value,
    password_change_of("ann's token", ann_password, "brand-new-pw"));
  REQUIRE(changed);
  CHECK(hashes->hashed == std::vector<std::string>{"brand-new-pw"});
  REQUIRE(store->password_changes.size() == 1);
  auto& change = store->password_changes[0];
  CHECK(change.user_id == ann.id);
  CHECK(change.password_hash == "H:brand-new-pw");
  CHECK(change.keep_token_digest == token_digest("ann's token"));
}

TEST_CASE_METHOD(auth_fixture,
                 "change_password with an unknown token fails with "
                 "invalid_token",
                 "[auth][chpass]") {
  add_user(ann_email, "H:" + ann_password);
  auto changed = ask<caf::ok_atom>(
    chpass_atom::value,
    password_change_of("stolen token", ann_password, "brand-new-pw"));
  CHECK(wire_of(changed).code == ec::invalid_token);
  CHECK(hashes->verified.empty());
  CHECK(store->password_changes.empty());
}

// -- stats -------------------------------------------------------------------

TEST_CASE_METHOD(auth_fixture, "stats reflects the shared node counters",
                 "[auth][stats]") {
  // Distinct values everywhere, so a field read from the wrong counter shows.
  counters->connections = 3;
  counters->requests_total = 41;
  counters->registrations_total = 10;
  counters->logins_ok = 20;
  counters->logins_failed = 30;
  counters->pending_delayed = 2;
  counters->hash_verifications_total = 100;
  counters->started = std::chrono::steady_clock::now() - 90s;
  add_user(ann_email, "H:" + ann_password);
  REQUIRE(
    ask<session_grant>(login_atom::value, login(ann_email, ann_password)));
  for (int i = 0; i < 2; ++i)
    REQUIRE_FALSE(ask<session_grant>(login_atom::value,
                                     login(ann_email, "wrong-password")));
  REQUIRE(ask<user_view>(register_atom::value,
                         registration("bob@example.org", "bob's password")));

  auto stats = ask<stats_snapshot>(stats_atom::value);
  REQUIRE(stats);
  CHECK(stats->connections == 3);
  CHECK(stats->requests_total == 41);
  CHECK(stats->pending_delayed == 2);
  CHECK(stats->registrations_total == 11);
  CHECK(stats->logins_ok == 21);
  CHECK(stats->logins_failed == 32);
  CHECK(stats->hash_verifications_total == 103);
  CHECK(stats->uptime_seconds >= 90);
  CHECK(stats->uptime_seconds < 100);

  counters->connections = 7;
  auto later = ask<stats_snapshot>(stats_atom::value);
  REQUIRE(later);
  CHECK(later->connections == 7);
}

TEST_CASE("whoami answers a cached session without asking the database") {
  auth_fixture f{16};
  f.add_user(ann_email, "H:" + ann_password);
  f.add_session("tok-1", ann_email);
  REQUIRE(f.ask<user_view>(whoami_atom::value, token("tok-1")));
  REQUIRE(f.ask<user_view>(whoami_atom::value, token("tok-1")));
  CHECK(f.store->session_lookups.size() == 1);
}

TEST_CASE("a whoami answered during a logout does not revive the session") {
  auth_fixture f{16};
  f.add_user(ann_email, "H:" + ann_password);
  f.add_session("tok-1", ann_email);
  auto live = f.store->sessions.at(token_digest("tok-1"));
  // A whoami reaches the database, which is slow to answer...
  f.store->silent = true;
  auto early = f.send<user_view>(whoami_atom::value, token("tok-1"));
  f.sched->run();
  REQUIRE(f.store->unanswered.size() == 1);
  f.store->silent = false;
  auto deliver_early = [&] {
    f.store->unanswered.front().deliver(live);
  };
  SECTION("its answer, still saying live, arrives during the logout") {
    f.store->after_delete = deliver_early;
    REQUIRE(f.ask<caf::ok_atom>(logout_atom::value, token("tok-1")));
  }
  SECTION("its answer, still saying live, arrives after the logout") {
    REQUIRE(f.ask<caf::ok_atom>(logout_atom::value, token("tok-1")));
    f.store->before_lookup = deliver_early;
    auto next = f.ask<user_view>(whoami_atom::value, token("tok-1"));
    CHECK(wire_of(next).code == ec::invalid_token);
  }
  REQUIRE(early->has_value());
  CHECK((**early)->email == ann_email);
  // The token must be dead from now on, not served from the cache.
  auto after = f.ask<user_view>(whoami_atom::value, token("tok-1"));
  CHECK(wire_of(after).code == ec::invalid_token);
}

TEST_CASE("a password change drops the user's other cached sessions") {
  auth_fixture f{16};
  f.add_user(ann_email, "H:" + ann_password);
  f.add_session("here", ann_email);
  f.add_session("there", ann_email);
  REQUIRE(f.ask<user_view>(whoami_atom::value, token("there"))); // cached
  REQUIRE(f.ask<caf::ok_atom>(chpass_atom::value,
                              password_change_of("here", ann_password,
                                                 "a brand new password")));
  // The fake database revokes nothing itself: only the cache could answer.
  f.store->sessions.erase(token_digest("there"));
  auto after = f.ask<user_view>(whoami_atom::value, token("there"));
  CHECK(wire_of(after).code == ec::invalid_token);
}

// -- account codes -----------------------------------------------------------

namespace {

recovery_finish_request recovery_of(std::string email, std::string code,
                                    std::string password) {
  return {std::move(email), secret{std::move(code)},
          secret{std::move(password)}, "10.0.0.7:5555", {}};
}

} // namespace

TEST_CASE_METHOD(auth_fixture,
                 "recovery_start asks the database for a recovery code of the "
                 "normalized email and answers ok whatever it found",
                 "[auth][recovery]") {
  add_user(ann_email, "H:" + ann_password);
  for (auto email : {"Ann@Example.org", "nobody@example.org"}) {
    auto reply = ask<caf::ok_atom>(
      recovery_start_atom::value,
      recovery_start_request{email, "10.0.0.7:5555", {}});
    CHECK(reply);
  }
  REQUIRE(store->issued.size() == 2);
  CHECK(store->issued[0].email == ann_email);
  CHECK(store->issued[0].purpose == code_purpose::recovery);
  CHECK(store->codes.count({ann_email, code_purpose::recovery}) == 1);
  auto bad = ask<caf::ok_atom>(recovery_start_atom::value,
                               recovery_start_request{"not an email", "x", {}});
  CHECK(wire_of(bad).code == ec::invalid_email);
}

TEST_CASE_METHOD(auth_fixture,
                 "a wrong recovery code is held like a wrong password and "
                 "costs no hash",
                 "[auth][recovery]") {
  add_user(ann_email, "H:" + ann_password);
  store->codes[{ann_email, code_purpose::recovery}] = "C-" + ann_email;
  auto reply = ask<session_grant>(
    recovery_finish_atom::value,
    recovery_of(ann_email, "wrong", "a new password"));
  auto wire = wire_of(reply);
  CHECK(wire.code == ec::invalid_code);
  CHECK(wire.hold == settings.failure_delay);
  CHECK(hashes->hashed.empty());
  CHECK(store->recoveries.empty());
  // A weak new password is refused before the code is even looked at.
  auto weak = ask<session_grant>(recovery_finish_atom::value,
                                 recovery_of(ann_email, "C-" + ann_email, "x"));
  CHECK(wire_of(weak).code == ec::weak_password);
}

TEST_CASE_METHOD(auth_fixture,
                 "the right recovery code hashes the new password, commits "
                 "the recovery with a new session and grants it",
                 "[auth][recovery]") {
  add_user(ann_email, "H:" + ann_password);
  add_session("old-token", ann_email);
  store->codes[{ann_email, code_purpose::recovery}] = "C-" + ann_email;
  auto reply = ask<session_grant>(
    recovery_finish_atom::value,
    recovery_of(ann_email, "C-" + ann_email, "a new password"));
  REQUIRE(reply);
  CHECK(reply->user.email == ann_email);
  CHECK(reply->user.email_verified);
  CHECK_FALSE(reply->token.empty());
  REQUIRE(store->recoveries.size() == 1);
  auto& x = store->recoveries[0];
  CHECK(x.password_hash == "H:a new password");
  CHECK(x.login.session.token_digest == token_digest(reply->token.reveal()));
  CHECK(x.login.user_id == store->users[ann_email].user.id);
  CHECK(hashes->hashed == std::vector<std::string>{"a new password"});
}
