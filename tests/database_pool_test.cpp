// The database pool's exit (storage/database_pool.hpp), under CAF's
// deterministic test coordinator: the pool is gone only once every member
// is. The node's shutdown waits for the pool's exit and then for CAF's node
// broker to catch up; a member still running after that would be held by
// the broker, and the node would never exit.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "actors/interfaces.hpp"
#include "storage/database_pool.hpp"

using namespace authnode;

namespace {

using release_atom = caf::atom_constant<caf::atom("release")>;

/// What the test sees: exits the members were told of, and the pool's end.
struct seen {
  int told = 0;
  bool pool_down = false;
  caf::error pool_reason;
};

/// A member that, told to exit, stays until the test releases it (as a
/// database actor finishing a statement would).
caf::behavior lingering_member(caf::event_based_actor* self,
                               std::shared_ptr<seen> log) {
  self->set_exit_handler([=](caf::exit_msg&) { log->told += 1; });
  return {
    [=](release_atom, caf::error& reason) { self->quit(reason); },
  };
}

caf::behavior watcher(caf::event_based_actor* self, caf::actor pool,
                      std::shared_ptr<seen> log) {
  self->monitor(pool);
  self->set_down_handler([=](caf::down_msg& msg) {
    log->pool_down = true;
    log->pool_reason = msg.reason;
  });
  return {[](int) {}};
}

struct pool_fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::scheduler::test_coordinator* sched = nullptr;
  std::shared_ptr<seen> log = std::make_shared<seen>();
  caf::actor first;
  caf::actor second;
  caf::actor pool;
  caf::actor watch;

  pool_fixture() {
    cfg.set("scheduler.policy", caf::atom("testing"));
    sys = std::make_unique<caf::actor_system>(cfg);
    sched = &dynamic_cast<caf::scheduler::test_coordinator&>(sys->scheduler());
    first = sys->spawn(lingering_member, log);
    second = sys->spawn(lingering_member, log);
    pool = sys->spawn(database_pool,
                      std::vector<database_actor>{
                        caf::actor_cast<database_actor>(first),
                        caf::actor_cast<database_actor>(second)});
    watch = sys->spawn(watcher, pool, log);
    sched->run();
  }

  ~pool_fixture() {
    for (auto& a : {first, second})
      caf::anon_send(a, release_atom::value,
                     caf::make_error(caf::exit_reason::user_shutdown));
    caf::anon_send_exit(watch, caf::exit_reason::user_shutdown);
    sched->run();
  }

  void release(const caf::actor& member, caf::error reason) {
    caf::anon_send(member, release_atom::value, std::move(reason));
    sched->run();
  }
};

} // namespace

TEST_CASE_METHOD(pool_fixture,
                 "a stopped pool tells its members and ends after the last") {
  caf::anon_send_exit(pool, caf::exit_reason::user_shutdown);
  sched->run();
  CHECK(log->told == 2);
  CHECK_FALSE(log->pool_down);
  release(first, caf::exit_reason::user_shutdown);
  CHECK_FALSE(log->pool_down);
  release(second, caf::exit_reason::user_shutdown);
  CHECK(log->pool_down);
  CHECK(log->pool_reason == caf::exit_reason::user_shutdown);
}

TEST_CASE_METHOD(pool_fixture,
                 "a member that fails stops the others and then the pool") {
  release(first, caf::sec::runtime_error);
  // Only the second member is told: the first one is gone already.
  CHECK(log->told == 1);
  CHECK_FALSE(log->pool_down);
  release(second, caf::exit_reason::user_shutdown);
  CHECK(log->pool_down);
  CHECK(log->pool_reason == caf::sec::runtime_error);
}
