// The auth actor alone: the database and the hasher are fakes kept in memory
// that record what they were asked, and CAF's deterministic test coordinator
// runs every actor on this thread, so nothing here waits in real time.
//
// How the tests drive CAF 0.17 from Catch2: the scheduler policy "testing"
// makes sys.scheduler() a caf::scheduler::test_coordinator. Nothing runs until
// the test calls sched.run(), which processes messages until every mailbox
// is empty; it never fires timers. sched.advance_time(d) moves the virtual
// clock and turns due timers (here: request timeouts) into messages that the
// next sched.run() delivers. Each request comes from a small event-based
// client actor that writes the reply or the error into a box the test reads.
#include <catch2/catch.hpp>

#include <cctype>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/auth.hpp"
#include "actors/interfaces.hpp"
#include "core/clock.hpp"
#include "core/counters.hpp"
#include "core/error_code.hpp"
#include "core/secrets.hpp"

using namespace authnode;
using namespace std::chrono_literals;

namespace {

// -- fake database -----------------------------------------------------------

/// The fake database's tables and a log of what it was asked. Shared with the
/// test; safe because the test coordinator runs every actor on this thread.
struct fake_store {
  std::map<std::string, user_record> users;      // by email
  std::map<std::string, session_owner> sessions; // by token digest
  int64_t next_id = 1;
  std::vector<std::string> user_lookups;
  std::vector<new_user> added;
  std::vector<login_commit> commits;
  std::vector<std::string> session_lookups;
  std::vector<std::string> session_deletes;
  std::vector<password_change> password_changes;
  std::vector<password_rehash> rehashes;
  /// Live codes by (email, purpose): the fake mails nothing, the test reads
  /// the code here. A code is "C-" + the email.
  std::map<std::pair<std::string, code_purpose>, std::string> codes;
  std::vector<code_request> issued;
  std::vector<account_recovery> recoveries;
  /// When set, every request is accepted and never answered.
  bool silent = false;
  /// When set, rehash requests are recorded and never answered.
  bool hold_rehashes = false;
  std::vector<caf::response_promise> unanswered;
  /// Run (once) inside the fake database after it deleted a session, and
  /// before it looks one up: to deliver held answers in a chosen order.
  std::function<void()> after_delete;
  std::function<void()> before_lookup;
};

using store_ptr = std::shared_ptr<fake_store>;

template <class T>
caf::result<T> never_answer(database_actor::pointer self, fake_store& store) {
  auto rp = self->make_response_promise<T>();
  store.unanswered.push_back(rp);
  return rp;
}

user_record* find_user(fake_store& store, int64_t id) {
  for (auto& [email, record] : store.users)
    if (record.user.id == id)
      return &record;
  return nullptr;
}

caf::error no_second_factors() {
  return caf::make_error(ec::conflict, std::string{"TOTP is not on"});
}

database_actor::behavior_type fake_database(database_actor::pointer self,
                                            store_ptr store) {
  return {
    [=](user_add_atom, new_user& user) -> caf::result<user_view> {
      if (store->silent)
        return never_answer<user_view>(self, *store);
      store->added.push_back(user);
      if (store->users.count(user.email) > 0)
        return caf::make_error(ec::email_taken);
      user_view view{store->next_id++, user.email, user.name, user.created_at,
                     0};
      store->users[user.email] = user_record{view, user.password_hash};
      return view;
    },
    [=](user_get_atom, std::string& email) -> caf::result<user_record> {
      if (store->silent)
        return never_answer<user_record>(self, *store);
      store->user_lookups.push_back(email);
      auto i = store->users.find(email);
      if (i == store->users.end())
        return caf::make_error(ec::not_found);
      return i->second;
    },
    [=](login_commit_atom, login_commit& commit) -> caf::result<caf::ok_atom> {
      if (store->silent)
        return never_answer<caf::ok_atom>(self, *store);
      store->commits.push_back(commit);
      auto user = find_user(*store, commit.user_id);
      if (user == nullptr)
        return caf::make_error(ec::not_found);
      user->user.last_login_at = commit.at;
      store->sessions[commit.session.token_digest] = session_owner{
        static_cast<int64_t>(store->sessions.size() + 1), *user};
      return caf::ok_atom::value;
    },
    [=](session_get_atom, std::string& digest,
        int64_t /* now */) -> caf::result<session_owner> {
      if (auto hook = std::exchange(store->before_lookup, nullptr))
        hook();
      if (store->silent)
        return never_answer<session_owner>(self, *store);
      store->session_lookups.push_back(digest);
      auto i = store->sessions.find(digest);
      if (i == store->sessions.end())
        return caf::make_error(ec::not_found);
      return i->second;
    },
    [=](session_del_atom, std::string& digest,
        int64_t) -> caf::result<caf::ok_atom> {
      if (store->silent)
        return never_answer<caf::ok_atom>(self, *store);
      store->session_deletes.push_back(digest);
      if (auto hook = std::exchange(store->after_delete, nullptr))
        hook();
      if (store->sessions.erase(digest) == 0)
        return caf::make_error(ec::not_found);
      return caf::ok_atom::value;
    },
    [=](device_get_atom, std::string&) -> caf::result<device_record> {
      return caf::make_error(ec::not_found);
    },
    [=](device_fail_atom, std::string&) -> caf::result<caf::ok_atom> {
      return caf::make_error(ec::not_found);
    },
    [=](password_set_atom,
        password_change& change) -> caf::result<caf::ok_atom> {
      if (store->silent)
        return never_answer<caf::ok_atom>(self, *store);
      store->password_changes.push_back(change);
      auto user = find_user(*store, change.user_id);
      if (user == nullptr)
        return caf::make_error(ec::not_found);
      user->password_hash = change.password_hash;
      return caf::ok_atom::value;
    },
    // The admin channel's queries are not used by auth.
    [=](user_show_atom, std::string&, int64_t) -> caf::result<user_detail> {
      return caf::make_error(ec::not_found);
    },
    [=](user_list_atom, user_query&) -> caf::result<user_page> {
      return caf::make_error(ec::not_found);
    },
    [=](user_disable_atom, std::string&, bool) -> caf::result<int64_t> {
      return caf::make_error(ec::not_found);
    },
    [=](user_delete_atom, std::string&) -> caf::result<int64_t> {
      return caf::make_error(ec::not_found);
    },
    [=](sessions_list_atom, std::string&,
        int64_t) -> caf::result<session_list> {
      return caf::make_error(ec::not_found);
    },
    [=](sessions_revoke_atom, std::string&,
        int64_t) -> caf::result<revoke_result> {
      return caf::make_error(ec::not_found);
    },
    [=](user_import_atom, import_batch&) -> caf::result<import_outcome> {
      return caf::make_error(ec::not_found);
    },
    [=](rehash_atom, password_rehash& x) -> caf::result<bool> {
      store->rehashes.push_back(x);
      if (store->hold_rehashes)
        return never_answer<bool>(self, *store);
      auto user = find_user(*store, x.user_id);
      if (user == nullptr || user->password_hash != x.old_hash)
        return false;
      user->password_hash = x.new_hash;
      return true;
    },
    [=](purge_atom) {
      // nop
    },
    [=](backup_atom, std::string&) -> caf::result<backup_result> {
      return caf::make_error(ec::backup_failed);
    },
    [=](backup_step_atom, uint64_t) {
      // nop
    },
    [=](backup_abort_atom) {
      // nop
    },
    [=](outbox_take_atom, int64_t, int64_t) -> caf::result<outbox_batch> {
      return outbox_batch{};
    },
    [=](outbox_sent_atom, int64_t) -> caf::result<caf::ok_atom> {
      return caf::ok_atom::value;
    },
    [=](outbox_retry_atom, int64_t, int64_t,
        std::string&) -> caf::result<caf::ok_atom> {
      return caf::ok_atom::value;
    },
    [=](outbox_drop_atom, int64_t, std::string&) -> caf::result<caf::ok_atom> {
      return caf::ok_atom::value;
    },
    [=](outbox_status_atom) -> caf::result<outbox_status> {
      return outbox_status{};
    },
    [=](mailer_atom, mailer_actor) {
      // nop
    },
    [=](code_issue_atom, code_request& req) -> caf::result<code_issued> {
      store->issued.push_back(req);
      auto i = store->users.find(req.email);
      if (i == store->users.end())
        return code_issued{false, "unknown account"};
      if (i->second.disabled)
        return code_issued{false, "disabled"};
      store->codes[{req.email, req.purpose}] = "C-" + req.email;
      return code_issued{true, "sent"};
    },
    [=](code_check_atom, code_attempt& x) -> caf::result<user_view> {
      auto i = store->codes.find({x.email, x.purpose});
      if (i == store->codes.end() || i->second != x.code.reveal())
        return caf::make_error(ec::invalid_code);
      return store->users[x.email].user;
    },
    [=](code_use_atom, code_attempt& x) -> caf::result<user_view> {
      auto i = store->codes.find({x.email, x.purpose});
      if (i == store->codes.end() || i->second != x.code.reveal())
        return caf::make_error(ec::invalid_code);
      store->codes.erase(i);
      auto& user = store->users[x.email].user;
      user.email_verified = true;
      return user;
    },
    [=](recover_atom, account_recovery& x) -> caf::result<user_view> {
      auto i = store->codes.find({x.attempt.email, x.attempt.purpose});
      if (i == store->codes.end() || i->second != x.attempt.code.reveal())
        return caf::make_error(ec::invalid_code);
      store->codes.erase(i);
      store->recoveries.push_back(x);
      auto& user = store->users[x.attempt.email];
      user.password_hash = x.password_hash;
      user.user.email_verified = true;
      return user.user;
    },
    [=](user_verify_atom, std::string&, bool) -> caf::result<int64_t> {
      return caf::make_error(ec::not_found);
    },
    // Second factors: no user of this fake has one (the flows are tested
    // against the real store, tests/e2e_totp_test.cpp).
    [=](totp_setup_atom, int64_t) -> caf::result<secret> {
      return no_second_factors();
    },
    [=](totp_enable_atom, factor_attempt&) -> caf::result<recovery_code_list> {
      return no_second_factors();
    },
    [=](totp_disable_atom, factor_attempt&) -> caf::result<caf::ok_atom> {
      return no_second_factors();
    },
    [=](codes_renew_atom, factor_attempt&) -> caf::result<recovery_code_list> {
      return no_second_factors();
    },
    [=](challenge_new_atom,
        challenge_request&) -> caf::result<second_factor_challenge> {
      return no_second_factors();
    },
    [=](challenge_owner_atom, secret&) -> caf::result<user_view> {
      return caf::make_error(ec::invalid_code);
    },
    [=](challenge_use_atom, challenge_attempt&) -> caf::result<factor_used> {
      return caf::make_error(ec::invalid_code);
    },
    [=](mfa_reset_atom, std::string&) -> caf::result<int64_t> {
      return caf::make_error(ec::not_found);
    },
  };
}

// -- fake hasher -------------------------------------------------------------

/// What the fake hasher was asked. Its "hash" of p is "H:" + p; a stored
/// "OLD:" + p also matches p but was made with other parameters, so it asks
/// for a rehash, like an argon2id hash made with a lower cost would.
struct hash_log {
  std::vector<std::string> hashed;   // passwords
  std::vector<std::string> verified; // PHC strings
};

using hash_log_ptr = std::shared_ptr<hash_log>;

verify_outcome fake_verify(hash_log& log, const std::string& phc,
                           const secret& password) {
  log.verified.push_back(phc);
  verify_outcome out;
  auto old = "OLD:" + password.reveal();
  out.match = phc == "H:" + password.reveal() || phc == old;
  out.needs_rehash = out.match && phc == old;
  return out;
}

hasher_actor::behavior_type fake_hasher(hasher_actor::pointer,
                                        hash_log_ptr log) {
  return {
    [=](hash_atom, const secret& password, const hash_params&) -> std::string {
      log->hashed.push_back(password.reveal());
      return "H:" + password.reveal();
    },
    [=](verify_atom, const std::string& phc, const secret& password,
        const hash_params&) {
      return fake_verify(*log, phc, password);
    },
    [=](urgent_atom, verify_atom, const std::string& phc,
        const secret& password, const hash_params&) {
      return fake_verify(*log, phc, password);
    },
  };
}

// -- requests ----------------------------------------------------------------

register_request registration(std::string email, std::string password,
                              std::string name = "Ann") {
  return {std::move(email), secret{std::move(password)}, std::move(name),
          "10.0.0.7:5555"};
}

login_request login(std::string email, std::string password) {
  return {std::move(email), secret{std::move(password)}, "10.0.0.7:5555"};
}

token_request token(std::string value) {
  return {secret{std::move(value)}, "10.0.0.7:5555"};
}

password_change_request password_change_of(std::string token,
                                           std::string old_password,
                                           std::string new_password) {
  return {secret{std::move(token)}, secret{std::move(old_password)},
          secret{std::move(new_password)}, "10.0.0.7:5555"};
}

/// Where a client actor puts the one reply it gets; empty until then.
template <class T>
using reply_box = std::shared_ptr<std::optional<caf::expected<T>>>;

// -- fixture -----------------------------------------------------------------

const std::string ann_email = "ann@example.org";
const std::string ann_password = "s3cret-password";

struct auth_fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::scheduler::test_coordinator* sched = nullptr;
  store_ptr store = std::make_shared<fake_store>();
  hash_log_ptr hashes = std::make_shared<hash_log>();
  std::shared_ptr<node_counters> counters = std::make_shared<node_counters>();
  auth_settings settings;
  database_actor db;
  hasher_actor hasher;
  auth_actor auth;
  std::vector<caf::actor> clients;

  /// `session_cache`: sessions the auth actor keeps for whoami (0: none).
  explicit auth_fixture(size_t session_cache = 0) {
    REQUIRE(init_sodium());
    register_message_types(cfg);
    cfg.set("scheduler.policy", caf::atom("testing"));
    sys = std::make_unique<caf::actor_system>(cfg);
    sched = &dynamic_cast<caf::scheduler::test_coordinator&>(sys->scheduler());
    // Values unlike the defaults, so a test sees which one was used.
    settings.failure_delay = 1500ms;
    settings.session_ttl = 2h;
    settings.backend_timeout = 3s;
    settings.min_password = 8;
    settings.params = {1, 8192};
    settings.dummy_hash = "H:dummy password nobody has";
    settings.session_cache_size = session_cache;
    db = sys->spawn(fake_database, store);
    hasher = sys->spawn(fake_hasher, hashes);
    auth = sys->spawn(authnode::auth, settings, db, hasher, guard_actor{},
                      audit_actor{}, counters);
    sched->run();
  }

  /// Every actor must be gone before the system is: a test-coordinator system
  /// with live actors hangs in its destructor (nothing runs them any more).
  ~auth_fixture() {
    for (auto& client : clients)
      caf::anon_send_exit(client, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(auth, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(db, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(hasher, caf::exit_reason::user_shutdown);
    sched->run();
  }

  /// A user already in the fake database, stored with `phc`.
  user_view add_user(const std::string& email, const std::string& phc) {
    user_view view{store->next_id++, email, "Ann", 1000, 0};
    store->users[email] = user_record{view, phc};
    return view;
  }

  /// A live session for `token` in the fake database.
  void add_session(const std::string& token, const std::string& email) {
    store->sessions[token_digest(token)]
      = session_owner{static_cast<int64_t>(store->sessions.size() + 1),
                      store->users.at(email), now_seconds() + 3600};
  }

  /// Sends one request to the auth actor from a new client actor; the reply
  /// arrives in the box once the scheduler has run.
  template <class T, class... Ts>
  reply_box<T> send(Ts... xs) {
    auto box = std::make_shared<std::optional<caf::expected<T>>>();
    auto client = sys->spawn([=](caf::event_based_actor* self) {
      self->request(auth, caf::infinite, xs...)
        .then(
          [=](T& x) {
            box->emplace(std::move(x));
          },
          [=](caf::error& err) {
            box->emplace(std::move(err));
          });
    });
    clients.push_back(client);
    return box;
  }

  /// Sends one request and runs every actor until all is quiet: the reply
  /// must be there by then.
  template <class T, class... Ts>
  caf::expected<T> ask(Ts... xs) {
    auto box = send<T>(std::move(xs)...);
    sched->run();
    REQUIRE(box->has_value());
    return std::move(**box);
  }
};

template <class T>
wire_error wire_of(const caf::expected<T>& reply) {
  REQUIRE_FALSE(reply);
  return to_wire(reply.error());
}

/// A reply of any type, seen only as: has it come, and what would the client
/// see.
struct pending_reply {
  std::function<bool()> answered;
  std::function<wire_error()> wire;
};

template <class T>
pending_reply watch(reply_box<T> box) {
  return {[box] {
            return box->has_value();
          },
          [box] {
            return wire_of(**box);
          }};
}

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
