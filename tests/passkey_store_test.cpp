// passkey_store against real SQLite in memory, with the time given: the
// user handle made once and kept, challenges single use and short-lived,
// the allow list and its decoys, the counter rule in its UPDATE, and what
// is kept at rest.
#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include "core/error_code.hpp"
#include "core/secrets.hpp"
#include "storage/passkey_store.hpp"
#include "support/databases.hpp"

using namespace authnode;
using authnode::test::alice;
using authnode::test::open_store;
using authnode::test::query;

namespace {

constexpr int64_t t0 = 1'800'000'000;

template <class T>
bool fails_with(const caf::expected<T>& x, ec code) {
  return !x && x.error().code() == static_cast<uint8_t>(code);
}

struct fixture {
  std::unique_ptr<user_store> users = open_store(authnode::test::each_database());
  node_keys keys = random_node_keys();
  std::unique_ptr<passkey_store> passkeys;
  int64_t alice_id = 0;

  fixture() {
    std::string error;
    passkeys = passkey_store::open(*users, keys, error);
    REQUIRE(passkeys);
    auto added = users->add_user(alice());
    REQUIRE(added);
    alice_id = added->id;
  }

  webauthn_challenge registration(const std::string& challenge,
                                  int64_t expires_at = t0 + 300) const {
    return {challenge, webauthn_purpose::registration, alice_id, {}, "laptop",
            expires_at};
  }

  webauthn_challenge login(const std::string& challenge,
                           const std::string& email = {},
                           int64_t expires_at = t0 + 300) const {
    return {challenge, webauthn_purpose::login, 0, email, {}, expires_at};
  }

  /// Registers credential `id` for Alice with counter `count`.
  passkey_info add(const std::string& id, uint32_t count = 0) {
    webauthn_credential c{id, "cose-key-of-" + id, cose_alg::es256, count,
                          true};
    auto added = passkeys->add(passkey_new{alice_id, "laptop", c, t0});
    REQUIRE(added);
    return *added;
  }

  passkey_claim claim(const std::string& challenge, const std::string& id,
                      int64_t now = t0) {
    auto found = passkeys->claim(passkey_lookup{challenge, id, now});
    REQUIRE(found);
    return *found;
  }
};

} // namespace

TEST_CASE("a user's WebAuthn handle is random, made once and kept",
          "[passkey][store]") {
  fixture f;
  auto first = f.passkeys->begin_registration(f.registration("c1"));
  REQUIRE(first);
  CHECK(first->user_handle.size() == 32);
  CHECK(first->user_handle.find("alice") == std::string::npos);
  CHECK(first->credential_ids.empty());
  f.add("cred-1");
  auto second = f.passkeys->begin_registration(f.registration("c2"));
  REQUIRE(second);
  CHECK(second->user_handle == first->user_handle);
  CHECK(second->credential_ids == std::vector<std::string>{"cred-1"});
}

TEST_CASE("a registration challenge is used up by the first finish, and "
          "only by its own user",
          "[passkey][store]") {
  fixture f;
  REQUIRE(f.passkeys->begin_registration(f.registration("c1")));
  CHECK(fails_with(f.passkeys->take_registration("c1", f.alice_id + 1, t0),
                   ec::invalid_code));
  // Taking it for the wrong user used it up too: nothing is left to retry.
  CHECK(fails_with(f.passkeys->take_registration("c1", f.alice_id, t0),
                   ec::invalid_code));
  REQUIRE(f.passkeys->begin_registration(f.registration("c2")));
  auto taken = f.passkeys->take_registration("c2", f.alice_id, t0);
  REQUIRE(taken);
  CHECK(taken->name == "laptop");
  CHECK(fails_with(f.passkeys->take_registration("c2", f.alice_id, t0),
                   ec::invalid_code));
}

TEST_CASE("an expired challenge, or one of the other ceremony, is refused",
          "[passkey][store]") {
  fixture f;
  REQUIRE(f.passkeys->begin_registration(f.registration("old", t0 + 300)));
  CHECK(fails_with(f.passkeys->take_registration("old", f.alice_id, t0 + 300),
                   ec::invalid_code));
  REQUIRE(f.passkeys->begin_login(f.login("for-login")));
  CHECK(fails_with(
    f.passkeys->take_registration("for-login", f.alice_id, t0),
    ec::invalid_code));
  f.add("cred-1");
  REQUIRE(f.passkeys->begin_login(f.login("late", {}, t0 + 300)));
  auto late = f.claim("late", "cred-1", t0 + 300);
  CHECK_FALSE(late.live);
  CHECK(late.known);
}

TEST_CASE("a login claim uses up its challenge and names the credential's "
          "owner and handle",
          "[passkey][store]") {
  fixture f;
  auto owner = f.passkeys->begin_registration(f.registration("r"));
  REQUIRE(owner);
  f.add("cred-1", 7);
  REQUIRE(f.passkeys->begin_login(f.login("l1")));
  auto first = f.claim("l1", "cred-1");
  CHECK(first.live);
  REQUIRE(first.known);
  CHECK(first.owner.user.email == "alice@example.org");
  CHECK(first.user_handle == owner->user_handle);
  CHECK(first.credential.cose_key == "cose-key-of-cred-1");
  CHECK(first.credential.sign_count == 7);
  auto replay = f.claim("l1", "cred-1");
  CHECK_FALSE(replay.live);
  REQUIRE(f.passkeys->begin_login(f.login("l2")));
  auto unknown = f.claim("l2", "nobody's");
  CHECK(unknown.live);
  CHECK_FALSE(unknown.known);
}

TEST_CASE("the counter is stored only while it moves on, 0 stays 0",
          "[passkey][store]") {
  fixture f;
  f.add("counted", 5);
  CHECK(f.passkeys->use(passkey_use{"counted", 6, t0 + 1}));
  CHECK(fails_with(f.passkeys->use(passkey_use{"counted", 6, t0 + 2}),
                   ec::conflict));
  CHECK(fails_with(f.passkeys->use(passkey_use{"counted", 3, t0 + 2}),
                   ec::conflict));
  f.add("counterless", 0);
  CHECK(f.passkeys->use(passkey_use{"counterless", 0, t0 + 1}));
  CHECK(f.passkeys->use(passkey_use{"counterless", 0, t0 + 2}));
  auto list = f.passkeys->list(f.alice_id);
  REQUIRE(list);
  REQUIRE(list->passkeys.size() == 2);
  CHECK(list->passkeys[0].last_used_at == t0 + 1);
  CHECK(list->passkeys[1].last_used_at == t0 + 2);
}

TEST_CASE("an email without passkeys gets decoys that stay the same, one "
          "with passkeys gets its ids",
          "[passkey][store]") {
  fixture f;
  auto unknown = f.passkeys->begin_login(f.login("a", "nobody@example.org"));
  auto again = f.passkeys->begin_login(f.login("b", "nobody@example.org"));
  auto alice_none = f.passkeys->begin_login(f.login("c", "alice@example.org"));
  REQUIRE(unknown);
  REQUIRE(again);
  REQUIRE(alice_none);
  REQUIRE(unknown->credential_ids.size() == 1);
  CHECK(unknown->credential_ids[0].size() == 32);
  CHECK(again->credential_ids == unknown->credential_ids);
  CHECK(alice_none->credential_ids != unknown->credential_ids);
  CHECK(alice_none->credential_ids.size() == 1);
  f.add("cred-1");
  auto alice = f.passkeys->begin_login(f.login("d", "alice@example.org"));
  REQUIRE(alice);
  CHECK(alice->credential_ids == std::vector<std::string>{"cred-1"});
  auto discoverable = f.passkeys->begin_login(f.login("e"));
  REQUIRE(discoverable);
  CHECK(discoverable->credential_ids.empty());
}

TEST_CASE("a credential registers once, deleting takes only the owner's",
          "[passkey][store]") {
  fixture f;
  f.add("cred-1");
  webauthn_credential again{"cred-1", "k", cose_alg::eddsa, 0, false};
  CHECK(fails_with(f.passkeys->add(passkey_new{f.alice_id, "x", again, t0}),
                   ec::conflict));
  CHECK(fails_with(f.passkeys->remove(f.alice_id + 1, "cred-1"),
                   ec::not_found));
  CHECK(f.passkeys->remove(f.alice_id, "cred-1"));
  CHECK(fails_with(f.passkeys->remove(f.alice_id, "cred-1"), ec::not_found));
}

TEST_CASE("challenges are kept by digest and purged when expired, a "
          "deleted user takes their passkeys along",
          "[passkey][store]") {
  fixture f;
  REQUIRE(f.passkeys->begin_login(f.login("the-challenge", {}, t0 + 10)));
  {
    statement stored;
    REQUIRE(stored
              .prepare(f.users->connection(),
                       "SELECT challenge_hash FROM webauthn_challenges")
              .ok());
    REQUIRE(stored.step() == step_result::row);
    CHECK(stored.column_blob(0).size() == 32);
    CHECK(stored.column_blob(0).find("the-challenge") == std::string::npos);
  }
  f.passkeys->purge(t0 + 10);
  CHECK(query(f.users->connection(),
              "SELECT count(*) FROM webauthn_challenges")
        == "0");
  f.add("cred-1");
  REQUIRE(f.users->delete_user("alice@example.org"));
  CHECK(query(f.users->connection(), "SELECT count(*) FROM passkeys") == "0");
}
