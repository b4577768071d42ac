// The hasher and the hash pool in a real actor system: real argon2id at the
// cheapest cost libsodium allows, requests and replies as CAF messages.
#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/spawn_options.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/hash_pool.hpp"
#include "actors/hasher.hpp"
#include "actors/interfaces.hpp"
#include "core/error_code.hpp"
#include "core/secrets.hpp"

using namespace authnode;

namespace {

/// argon2id's minimum: one pass over 8 KiB.
const hash_params cheap{1, 8192};

/// Long enough for any answer; a lost request fails instead of hanging.
constexpr auto patience = std::chrono::seconds(10);

struct system_fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;

  system_fixture() {
    REQUIRE(init_sodium());
    register_message_types(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
  }
};

/// Stops a hasher or pool before the system goes down: CAF 0.17 can hang at
/// shutdown on detached actors that are still running.
struct running_hasher {
  caf::scoped_actor& self;
  hasher_actor hdl;

  ~running_hasher() {
    self->send_exit(hdl, caf::exit_reason::user_shutdown);
    self->wait_for(hdl);
  }
};

caf::expected<std::string> hash(caf::scoped_actor& self,
                                const hasher_actor& hasher,
                                const std::string& password,
                                hash_params params = cheap) {
  caf::expected<std::string> result = caf::make_error(ec::internal);
  self->request(hasher, patience, hash_atom::value, secret{password}, params)
    .receive(
      [&](std::string& phc) {
        result = std::move(phc);
      },
      [&](caf::error& err) {
        result = std::move(err);
      });
  return result;
}

caf::expected<verify_outcome> verify(caf::scoped_actor& self,
                                     const hasher_actor& hasher,
                                     const std::string& phc,
                                     const std::string& password) {
  caf::expected<verify_outcome> result = caf::make_error(ec::internal);
  self
    ->request(hasher, patience, verify_atom::value, phc, secret{password},
              cheap)
    .receive(
      [&](verify_outcome& out) {
        result = out;
      },
      [&](caf::error& err) {
        result = std::move(err);
      });
  return result;
}

/// Sends 20 verifications before reading any reply; every reply must be the
/// right one for its own request.
void verify_twenty_at_once(caf::scoped_actor& self, const hasher_actor& pool) {
  auto ann = hash(self, pool, "ann's password");
  auto bob = hash(self, pool, "bob's password");
  REQUIRE(ann);
  REQUIRE(bob);
  struct job {
    std::string phc;
    std::string password;
    bool match;
  };
  std::vector<job> jobs;
  for (int i = 0; i < 20; ++i) {
    auto& phc = i % 2 == 0 ? *ann : *bob;
    auto right = i % 2 == 0 ? "ann's password" : "bob's password";
    auto match = i % 3 != 0;
    jobs.push_back({phc, match ? right : "guess " + std::to_string(i), match});
  }
  using handle = decltype(self->request(pool, patience, verify_atom::value,
                                        std::string{}, secret{}, cheap));
  std::vector<handle> pending;
  for (auto& j : jobs)
    pending.push_back(self->request(pool, patience, verify_atom::value, j.phc,
                                    secret{j.password}, cheap));
  for (size_t i = 0; i < pending.size(); ++i) {
    INFO("request " << i);
    pending[i].receive(
      [&](verify_outcome& out) {
        CHECK(out.match == jobs[i].match);
        CHECK_FALSE(out.needs_rehash);
      },
      [&](caf::error& err) {
        FAIL("verification failed: " << to_string(err));
      });
  }
}

} // namespace

TEST_CASE("a hashed password verifies and a wrong one does not", "[hasher]") {
  system_fixture fx;
  caf::scoped_actor self{*fx.sys};
  running_hasher hasher{self, fx.sys->spawn<caf::detached>(authnode::hasher, breached_settings{})};

  auto phc = hash(self, hasher.hdl, "correct horse battery");
  REQUIRE(phc);
  CHECK_THAT(*phc, Catch::StartsWith("$argon2id$"));
  CHECK(phc->find("correct horse") == std::string::npos);

  auto right = verify(self, hasher.hdl, *phc, "correct horse battery");
  REQUIRE(right);
  CHECK(right->match);
  CHECK_FALSE(right->needs_rehash);

  auto wrong = verify(self, hasher.hdl, *phc, "correct horse batterY");
  REQUIRE(wrong);
  CHECK_FALSE(wrong->match);
  CHECK_FALSE(wrong->needs_rehash);
}

TEST_CASE("a hash made with other parameters asks for a rehash on a correct "
          "password only",
          "[hasher]") {
  system_fixture fx;
  caf::scoped_actor self{*fx.sys};
  running_hasher hasher{self, fx.sys->spawn<caf::detached>(authnode::hasher, breached_settings{})};

  auto old = hash(self, hasher.hdl, "correct horse battery", {2, 8192});
  REQUIRE(old);

  auto right = verify(self, hasher.hdl, *old, "correct horse battery");
  REQUIRE(right);
  CHECK(right->match);
  CHECK(right->needs_rehash);

  // A wrong password must not learn anything about the stored hash.
  auto wrong = verify(self, hasher.hdl, *old, "wrong horse battery");
  REQUIRE(wrong);
  CHECK_FALSE(wrong->match);
  CHECK_FALSE(wrong->needs_rehash);
}

TEST_CASE("a garbage PHC string is a non-match, not a crash", "[hasher]") {
  system_fixture fx;
  caf::scoped_actor self{*fx.sys};
  running_hasher hasher{self, fx.sys->spawn<caf::detached>(authnode::hasher, breached_settings{})};

  std::vector<std::string> garbages{
    "",           "not a hash",          "$argon2id$v=19$m=8,t=1,p=1$",
    "$argon2id$", std::string(300, '$'), std::string("$argon2id\0$v=19", 15)};
  for (auto& garbage : garbages) {
    INFO("phc: " << garbage);
    auto out = verify(self, hasher.hdl, garbage, "anything");
    REQUIRE(out);
    CHECK_FALSE(out->match);
    CHECK_FALSE(out->needs_rehash);
  }
  // Still alive and still right afterwards.
  auto phc = hash(self, hasher.hdl, "still here");
  REQUIRE(phc);
  auto out = verify(self, hasher.hdl, *phc, "still here");
  REQUIRE(out);
  CHECK(out->match);
}

TEST_CASE("a pool of two hashers answers 20 concurrent verifications",
          "[hasher][pool]") {
  system_fixture fx;
  caf::scoped_actor self{*fx.sys};
  running_hasher pool{self,
                      fx.sys->spawn(hash_pool, size_t{2}, size_t{100},
                                    std::shared_ptr<node_counters>{},
                                    breached_settings{})};
  verify_twenty_at_once(self, pool.hdl);
}

TEST_CASE("a pool of one hasher still answers 20 concurrent verifications",
          "[hasher][pool]") {
  system_fixture fx;
  caf::scoped_actor self{*fx.sys};
  running_hasher pool{self,
                      fx.sys->spawn(hash_pool, size_t{1}, size_t{100},
                                    std::shared_ptr<node_counters>{},
                                    breached_settings{})};
  verify_twenty_at_once(self, pool.hdl);
}

TEST_CASE("a pool whose queue is full answers busy at once", "[hasher][pool]") {
  system_fixture fx;
  caf::scoped_actor self{*fx.sys};
  running_hasher pool{self,
                      fx.sys->spawn(hash_pool, size_t{1}, size_t{2},
                                    std::shared_ptr<node_counters>{},
                                    breached_settings{})};
  // The default cost takes tens of milliseconds: all six requests reach the
  // pool while the first is still being hashed.
  hash_params slow{2, 67108864};
  auto phc = hash(self, pool.hdl, "pw", slow);
  REQUIRE(phc);
  using handle = decltype(self->request(pool.hdl, patience, verify_atom::value,
                                        std::string{}, secret{}, slow));
  std::vector<handle> pending;
  for (int i = 0; i < 6; ++i)
    pending.push_back(self->request(pool.hdl, patience, verify_atom::value,
                                    *phc, secret{"pw"}, slow));
  int answered = 0, busy = 0;
  for (auto& p : pending)
    p.receive(
      [&](verify_outcome& out) {
        answered += out.match;
      },
      [&](caf::error& err) {
        busy += err == caf::make_error(ec::busy);
      });
  // One runs, two wait, three find the queue full.
  CHECK(answered == 3);
  CHECK(busy == 3);
}

namespace {

/// What a run of verifications sent to the pool in one go came to: the
/// order in which their answers arrived, and which were refused busy.
struct arrival_log {
  std::vector<int> order;
  std::vector<int> busy;
};

/// A pool of one hasher at the default cost (tens of milliseconds a
/// verification, so the first still runs when the rest arrive) and a queue
/// bound of `max_queue`; sends it `normal` plain verifications, then
/// `urgent` urgent ones, all from one actor in that order, and waits
/// (bounded) for every answer.
arrival_log send_to_one_slow_hasher(size_t max_queue, int normal, int urgent) {
  system_fixture fx;
  caf::scoped_actor self{*fx.sys};
  running_hasher pool{self,
                      fx.sys->spawn(hash_pool, size_t{1}, max_queue,
                                    std::shared_ptr<node_counters>{},
                                    breached_settings{})};
  hash_params slow{2, 67108864};
  auto phc = hash(self, pool.hdl, "pw", slow);
  REQUIRE(phc);
  auto log = std::make_shared<arrival_log>();
  auto client = fx.sys->spawn([=, hdl = pool.hdl](caf::event_based_actor* a) {
    auto record = [=](int i) {
      return [=](verify_outcome& out) {
        CHECK(out.match);
        log->order.push_back(i);
      };
    };
    auto refused = [=](int i) {
      return [=](caf::error& err) {
        CHECK(err == caf::make_error(ec::busy));
        log->busy.push_back(i);
      };
    };
    for (int i = 0; i < normal; ++i)
      a->request(hdl, patience, verify_atom::value, *phc, secret{"pw"}, slow)
        .then(record(i), refused(i));
    for (int i = normal; i < normal + urgent; ++i)
      a->request(hdl, patience, urgent_atom::value, verify_atom::value, *phc,
                 secret{"pw"}, slow)
        .then(record(i), refused(i));
  });
  // The client ends once every answer has arrived (or `patience` ran out).
  self->wait_for(client);
  return *log;
}

} // namespace

TEST_CASE("an urgent verification goes ahead of those already waiting",
          "[hasher][pool]") {
  // The first runs, three wait in the normal queue, the last in the urgent.
  auto log = send_to_one_slow_hasher(10, 4, 1);
  CHECK(log.busy.empty());
  CHECK(log.order == std::vector<int>{0, 4, 1, 2, 3});
}

TEST_CASE("a full queue refuses plain verifications but not urgent ones",
          "[hasher][pool]") {
  // One runs, two wait, two find the normal queue full; the urgent one has
  // room of its own and is served before the two that waited.
  auto log = send_to_one_slow_hasher(2, 5, 1);
  CHECK(log.busy == std::vector<int>{3, 4});
  CHECK(log.order == std::vector<int>{0, 5, 1, 2});
}
