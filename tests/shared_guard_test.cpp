// The guard on a shared database (issue 17), with the auth actor and a
// fake database under CAF's deterministic test coordinator
// (support/auth_fixture.hpp). A failure is written to the database before
// the client hears of it: otherwise a guess sent to another node right
// after the reply would be judged without it.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>

#include "support/auth_fixture.hpp"

using namespace authnode;
using namespace authnode::test;
using namespace std::chrono_literals;

namespace {

using release_atom = caf::atom_constant<caf::atom("release")>;

/// The throttle table of a database that answers failure writes only when
/// the test releases them.
struct gated_writes {
  std::vector<caf::response_promise> pending;
  int written = 0;
};

caf::behavior gated_database(caf::event_based_actor* self,
                             std::shared_ptr<gated_writes> writes) {
  return {
    [=](throttle_load_atom, throttle_lookup&) {
      return shared_failures{};
    },
    [=](throttle_fail_atom, throttle_lookup&) {
      writes->pending.push_back(self->make_response_promise());
      return caf::delegated<shared_failures>{};
    },
    [=](throttle_forget_atom, std::string&) {
      return false;
    },
    [=](release_atom) {
      for (auto& rp : writes->pending) {
        writes->written += 1;
        rp.deliver(shared_failures{});
      }
      writes->pending.clear();
    },
  };
}

throttle_settings guard_settings() {
  throttle_settings s;
  s.failure_delay = 1500ms;
  s.max_penalty = 12s;
  return s;
}

/// Ann in the fake database; the auth actor's guard shares its failures
/// through a gated database, asked with a 3 s limit.
struct shared_guarded : auth_fixture {
  std::shared_ptr<gated_writes> writes = std::make_shared<gated_writes>();
  caf::actor throttle_db;

  shared_guarded() {
    add_user(ann_email, "H:" + ann_password);
    throttle_db = sys->spawn(gated_database, writes);
    guard = sys->spawn(
      authnode::shared_guard, guard_settings(), counters,
      shared_throttle{caf::actor_cast<database_actor>(throttle_db), 3s});
    caf::anon_send_exit(auth, caf::exit_reason::user_shutdown);
    auth = sys->spawn(authnode::auth, settings, db, hasher, guard,
                      audit_actor{}, counters, caf::actor{});
    sched->run();
  }

  ~shared_guarded() {
    caf::anon_send_exit(throttle_db, caf::exit_reason::user_shutdown);
  }

  reply_box<session_grant> wrong_password() {
    return send<session_grant>(login_atom::value,
                               login(ann_email, "a wrong password"));
  }
};

} // namespace

TEST_CASE_METHOD(shared_guarded,
                 "a failed login is answered only once its failure is "
                 "written to the shared database",
                 "[auth][throttle][postgres]") {
  auto reply = wrong_password();
  sched->run();
  REQUIRE(writes->pending.size() == 1);
  CHECK_FALSE(reply->has_value());

  caf::anon_send(throttle_db, release_atom::value);
  sched->run();
  CHECK(writes->written == 1);
  REQUIRE(reply->has_value());
  CHECK(wire_of(**reply).code == ec::invalid_credentials);
}

TEST_CASE_METHOD(shared_guarded,
                 "a failed login is answered when the shared database does "
                 "not write its failure in time",
                 "[auth][throttle][postgres]") {
  auto reply = wrong_password();
  sched->run();
  REQUIRE(writes->pending.size() == 1);
  sched->advance_time(2900ms);
  sched->run();
  CHECK_FALSE(reply->has_value());
  sched->advance_time(200ms);
  sched->run();
  REQUIRE(reply->has_value());
  CHECK(wire_of(**reply).code == ec::invalid_credentials);
}

TEST_CASE_METHOD(shared_guarded,
                 "a right password waits for no write to the shared database",
                 "[auth][throttle][postgres]") {
  auto reply = send<session_grant>(login_atom::value,
                                   login(ann_email, ann_password));
  sched->run();
  CHECK(writes->pending.empty());
  REQUIRE(reply->has_value());
  CHECK(**reply);
}
