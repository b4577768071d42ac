// user_store's queries for the admin channel, against real SQLite in memory.
#include <catch2/catch.hpp>

#include <string>

#include "core/error_code.hpp"
#include "storage/schema.hpp"
#include "storage/user_store.hpp"
#include "support/databases.hpp"

using namespace authnode;
using authnode::test::log_in;
using authnode::test::open_store;

namespace {

int64_t add(user_store& store, const std::string& email) {
  auto added = store.add_user({email, "Name of " + email, "$argon2id$x", 1000});
  REQUIRE(added);
  return added->id;
}

bool is_not_found(const caf::error& err) {
  return err == caf::make_error(ec::not_found);
}

std::vector<std::string> emails(const user_page& page) {
  std::vector<std::string> out;
  for (auto& d : page.users)
    out.push_back(d.user.email);
  return out;
}

} // namespace

TEST_CASE("the schema has the disabled flag (version 3), off for everyone",
          "[user_store]") {
  CHECK(schema_version() >= 3);
  auto store = open_store(authnode::test::each_database());
  add(*store, "ann@example.org");
  auto found = store->user_by_email("ann@example.org");
  REQUIRE(found);
  CHECK_FALSE(found->disabled);
}

TEST_CASE("schema version 4 adds email_verified, off for everyone",
          "[user_store]") {
  CHECK(schema_version() >= 4);
  auto store = open_store(authnode::test::each_database());
  add(*store, "ann@example.org");
  auto found = store->user_by_email("ann@example.org");
  REQUIRE(found);
  CHECK_FALSE(found->user.email_verified);
  REQUIRE(store->set_verified("ann@example.org", true));
  CHECK(store->user_by_email("ann@example.org")->user.email_verified);
  CHECK(store->user_detail_of("ann@example.org", 0)->user.email_verified);
  CHECK(store->set_verified("nobody@example.org", true).error()
        == caf::make_error(ec::not_found));
}

TEST_CASE("user_detail_of counts live sessions and device tokens",
          "[user_store]") {
  auto store = open_store(authnode::test::each_database());
  auto id = add(*store, "ann@example.org");
  log_in(*store, id, "digest-1", 5000, "device-1");
  log_in(*store, id, "digest-2", 3000);
  auto d = store->user_detail_of("ann@example.org", 4000);
  REQUIRE(d);
  CHECK(d->user.id == id);
  CHECK(d->user.name == "Name of ann@example.org");
  CHECK(d->user.created_at == 1000);
  CHECK(d->user.last_login_at == 2000);
  CHECK_FALSE(d->disabled);
  CHECK(d->sessions == 1); // digest-2 expired at 3000
  CHECK(d->devices == 1);
  auto missing = store->user_detail_of("bob@example.org", 4000);
  REQUIRE_FALSE(missing);
  CHECK(is_not_found(missing.error()));
}

TEST_CASE("list_users pages in email order, after a cursor, by prefix",
          "[user_store]") {
  auto store = open_store(authnode::test::each_database());
  for (auto e : {"dora@x.org", "ann@x.org", "carl@y.org", "bob@x.org",
                 "anna@y.org", "a%b@x.org"})
    add(*store, e);
  auto page = store->list_users(user_query{"", "", 3, 0});
  REQUIRE(page);
  CHECK(emails(*page)
        == std::vector<std::string>{"a%b@x.org", "ann@x.org", "anna@y.org"});
  page = store->list_users(user_query{"anna@y.org", "", 3, 0});
  REQUIRE(page);
  CHECK(emails(*page)
        == std::vector<std::string>{"bob@x.org", "carl@y.org", "dora@x.org"});
  page = store->list_users(user_query{"dora@x.org", "", 3, 0});
  REQUIRE(page);
  CHECK(page->users.empty());
  // A prefix is matched literally: no LIKE wildcards.
  page = store->list_users(user_query{"", "ann", 10, 0});
  REQUIRE(page);
  CHECK(emails(*page) == std::vector<std::string>{"ann@x.org", "anna@y.org"});
  page = store->list_users(user_query{"", "a%", 10, 0});
  REQUIRE(page);
  CHECK(emails(*page) == std::vector<std::string>{"a%b@x.org"});
  page = store->list_users(user_query{"ann@x.org", "ann", 10, 0});
  REQUIRE(page);
  CHECK(emails(*page) == std::vector<std::string>{"anna@y.org"});
}

TEST_CASE("disabling revokes every session and hides the user's sessions",
          "[user_store]") {
  auto store = open_store(authnode::test::each_database());
  auto id = add(*store, "ann@example.org");
  auto other = add(*store, "bob@example.org");
  log_in(*store, id, "digest-1", 5000);
  log_in(*store, other, "digest-2", 5000);
  auto done = store->set_disabled("ann@example.org", true);
  REQUIRE(done);
  CHECK(*done == id);
  CHECK(store->user_by_email("ann@example.org")->disabled);
  auto gone = store->session_owner_of("digest-1", 4000);
  REQUIRE_FALSE(gone);
  CHECK(is_not_found(gone.error()));
  CHECK(store->session_owner_of("digest-2", 4000)); // others keep theirs
  CHECK(store->user_detail_of("ann@example.org", 4000)->disabled);
  // A session of a disabled user is not honoured even if one existed.
  log_in(*store, id, "digest-3", 5000);
  CHECK_FALSE(store->session_owner_of("digest-3", 4000));
  REQUIRE(store->set_disabled("ann@example.org", false));
  CHECK_FALSE(store->user_by_email("ann@example.org")->disabled);
  CHECK(store->session_owner_of("digest-3", 4000));
  auto missing = store->set_disabled("nobody@example.org", true);
  REQUIRE_FALSE(missing);
  CHECK(is_not_found(missing.error()));
}

TEST_CASE("deleting a user removes its sessions and device tokens",
          "[user_store]") {
  auto store = open_store(authnode::test::each_database());
  auto id = add(*store, "ann@example.org");
  auto other = add(*store, "bob@example.org");
  log_in(*store, id, "digest-1", 5000, "device-1");
  log_in(*store, other, "digest-2", 5000, "device-2");
  auto done = store->delete_user("ann@example.org");
  REQUIRE(done);
  CHECK(*done == id);
  CHECK(is_not_found(store->user_by_email("ann@example.org").error()));
  CHECK(is_not_found(store->session_owner_of("digest-1", 4000).error()));
  CHECK(is_not_found(store->device_of("device-1").error()));
  CHECK(store->session_owner_of("digest-2", 4000));
  CHECK(store->device_of("device-2"));
  auto again = store->delete_user("ann@example.org");
  REQUIRE_FALSE(again);
  CHECK(is_not_found(again.error()));
  // The email is free again, with a new id.
  CHECK(add(*store, "ann@example.org") != id);
}

TEST_CASE("sessions_of lists live sessions without tokens, revoke one or all",
          "[user_store]") {
  auto store = open_store(authnode::test::each_database());
  auto id = add(*store, "ann@example.org");
  auto other = add(*store, "bob@example.org");
  log_in(*store, id, "digest-1", 5000);
  log_in(*store, id, "digest-2", 6000);
  log_in(*store, id, "digest-3", 3000); // expired at 4000
  log_in(*store, other, "digest-4", 5000);
  auto listed = store->sessions_of("ann@example.org", 4000);
  REQUIRE(listed);
  REQUIRE(listed->sessions.size() == 2);
  auto first = listed->sessions[0];
  CHECK(first.created_at == 2000);
  CHECK(first.expires_at == 5000);
  CHECK(first.source == "127.0.0.1");
  CHECK(listed->sessions[1].expires_at == 6000);
  CHECK(is_not_found(store->sessions_of("x@y.org", 4000).error()));

  // Another user's session id revokes nothing.
  auto bobs = store->sessions_of("bob@example.org", 4000);
  REQUIRE(bobs);
  auto none = store->revoke_sessions("ann@example.org", bobs->sessions[0].id);
  REQUIRE(none);
  CHECK(none->revoked == 0);
  auto one = store->revoke_sessions("ann@example.org", first.id);
  REQUIRE(one);
  CHECK(one->user_id == id);
  CHECK(one->revoked == 1);
  CHECK_FALSE(store->session_owner_of("digest-1", 4000));
  CHECK(store->session_owner_of("digest-2", 4000));
  auto all = store->revoke_sessions("ann@example.org", 0);
  REQUIRE(all);
  CHECK(all->revoked == 2); // digest-2 and the expired digest-3
  CHECK(store->sessions_of("ann@example.org", 4000)->sessions.empty());
  CHECK(store->session_owner_of("digest-4", 4000));
  CHECK(is_not_found(store->revoke_sessions("x@y.org", 0).error()));
}

TEST_CASE("schema version 5 adds second factors, off for everyone",
          "[user_store]") {
  CHECK(schema_version() >= 5);
  auto store = open_store(authnode::test::each_database());
  add(*store, "ann@example.org");
  auto found = store->user_by_email("ann@example.org");
  REQUIRE(found);
  CHECK_FALSE(found->user.totp);
  auto detail = store->user_detail_of("ann@example.org", 0);
  REQUIRE(detail);
  CHECK_FALSE(detail->user.totp);
  CHECK(detail->recovery_codes == 0);
}
