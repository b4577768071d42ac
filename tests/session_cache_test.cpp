// The whoami cache: what it answers, and that a dropped session stays
// dropped.
#include <catch2/catch.hpp>

#include "actors/session_cache.hpp"

using authnode::session_cache;
using authnode::user_view;

namespace {

user_view ann() {
  return user_view{7, "ann@example.org", "Ann", 100, 200};
}

} // namespace

TEST_CASE("a cached session answers until it expires") {
  session_cache cache{10};
  cache.put("d1", ann(), 1000);
  auto hit = cache.find("d1", 999);
  REQUIRE(hit);
  CHECK(hit->email == "ann@example.org");
  CHECK_FALSE(cache.find("d1", 1000));
  CHECK_FALSE(cache.find("unknown", 1));
}

TEST_CASE("a logout drops the session and moves the epoch") {
  session_cache cache{10};
  cache.put("d1", ann(), 1000);
  auto before = cache.epoch();
  cache.forget("d1");
  CHECK_FALSE(cache.find("d1", 1));
  CHECK(cache.epoch() != before);
}

TEST_CASE("a password change drops the user's other sessions only") {
  session_cache cache{10};
  auto bob = user_view{8, "bob@example.org", "Bob", 1, 0};
  cache.put("keep", ann(), 1000);
  cache.put("drop", ann(), 1000);
  cache.put("bobs", bob, 1000);
  cache.forget_user(7, "keep");
  CHECK(cache.find("keep", 1));
  CHECK_FALSE(cache.find("drop", 1));
  CHECK(cache.find("bobs", 1));
}

TEST_CASE("a new login refreshes the user's details for all sessions") {
  session_cache cache{10};
  cache.put("old", ann(), 1000);
  auto later = ann();
  later.last_login_at = 900;
  cache.put("new", later, 2000);
  CHECK(cache.find("old", 1)->last_login_at == 900);
}

TEST_CASE("a full cache starts over instead of growing") {
  session_cache cache{2};
  cache.put("a", ann(), 1000);
  cache.put("b", ann(), 1000);
  cache.put("c", ann(), 1000);
  CHECK(cache.size() <= 2);
  CHECK(cache.find("c", 1));
}

TEST_CASE("a cache of size 0 keeps nothing") {
  session_cache cache{0};
  cache.put("a", ann(), 1000);
  CHECK_FALSE(cache.find("a", 1));
}

TEST_CASE("a user's sessions are dropped without touching other users'") {
  session_cache cache{100};
  auto bob = user_view{8, "bob@example.org", "Bob", 1, 0};
  for (int i = 0; i < 20; ++i) {
    cache.put("ann" + std::to_string(i), ann(), 1000);
    cache.put("bob" + std::to_string(i), bob, 1000);
  }
  cache.forget("ann3");
  cache.forget_user(7, "ann5");
  CHECK(cache.size() == 21);
  CHECK(cache.find("ann5", 1));
  CHECK_FALSE(cache.find("ann3", 1));
  CHECK_FALSE(cache.find("ann4", 1));
  CHECK(cache.find("bob19", 1));
  // The kept session is the user's last: dropping it lets go of the user,
  // and a new login of that user is found again.
  cache.forget("ann5");
  CHECK(cache.size() == 20);
  cache.put("ann-new", ann(), 1000);
  CHECK(cache.find("ann-new", 1));
  cache.forget_user(7, "");
  CHECK_FALSE(cache.find("ann-new", 1));
  CHECK(cache.size() == 20);
}

TEST_CASE("a session put again keeps one entry with the later expiry") {
  session_cache cache{10};
  cache.put("d1", ann(), 1000);
  cache.put("d1", ann(), 2000);
  CHECK(cache.size() == 1);
  CHECK(cache.find("d1", 1500));
  cache.forget_user(7, "");
  CHECK(cache.size() == 0);
}

TEST_CASE("clear drops everything and moves the epoch") {
  session_cache cache{10};
  cache.put("d1", ann(), 1000);
  auto before = cache.epoch();
  cache.clear();
  CHECK_FALSE(cache.find("d1", 1));
  CHECK(cache.epoch() != before);
  cache.put("d2", ann(), 1000);
  CHECK(cache.find("d2", 1));
}
