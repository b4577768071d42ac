// The storage node's session hub (cluster/session_hub): a gateway's cache
// joins with a lease, a drop is answered once every cache has dropped, a
// cache that does not answer holds a drop up one lease at most and must join
// afresh, and the loss of one cache makes the others drop everything.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/response_promise.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/interfaces.hpp"
#include "cluster/session_hub.hpp"

using namespace authnode;
using namespace std::chrono_literals;

namespace {

constexpr auto patience = std::chrono::seconds(10);
constexpr auto lease = std::chrono::milliseconds(200);

/// What a stand-in for a gateway's cache was told.
struct heard {
  std::atomic<int> drops{0};
  std::atomic<int> clears{0};
};

/// A cache that answers drops (or, `silent`, never does).
caf::behavior fake_cache(caf::event_based_actor* self,
                         std::shared_ptr<heard> log, bool silent) {
  auto held = std::make_shared<std::vector<caf::response_promise>>();
  return {
    [=](io_forget_atom, const std::string&) -> caf::result<caf::ok_atom> {
      log->drops += 1;
      if (!silent)
        return caf::ok_atom::value;
      held->push_back(self->make_response_promise());
      return caf::delegated<caf::ok_atom>{};
    },
    [=](io_forget_atom, int64_t, const std::string&) {
      log->drops += 1;
      return caf::ok_atom::value;
    },
    [=](io_clear_atom) {
      log->clears += 1;
    },
  };
}

struct hub_fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  session_hub_actor hub;

  hub_fixture() {
    register_message_types(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
    hub = sys->spawn(session_hub, caf::timespan{lease});
  }

  ~hub_fixture() {
    caf::scoped_actor self{*sys};
    self->send_exit(hub, caf::exit_reason::user_shutdown);
    self->wait_for(hub);
  }

  caf::actor cache(std::shared_ptr<heard> log, bool silent = false) {
    return sys->spawn(fake_cache, std::move(log), silent);
  }

  /// Asks for a lease: whether the cache joined just now.
  bool join(const caf::actor& cache) {
    caf::scoped_actor self{*sys};
    bool joined = false;
    self->request(hub, patience, session_lease_atom::value, cache)
      .receive(
        [&](int64_t ms, bool fresh) {
          CHECK(ms == lease.count());
          joined = fresh;
        },
        [&](caf::error& err) {
          FAIL(sys->render(err));
        });
    return joined;
  }

  /// A logout's drop; how long the hub took to answer it.
  std::chrono::milliseconds drop(const std::string& digest) {
    caf::scoped_actor self{*sys};
    auto start = std::chrono::steady_clock::now();
    self->request(hub, patience, io_forget_atom::value, digest)
      .receive([](caf::ok_atom) {},
               [&](caf::error& err) {
                 FAIL(sys->render(err));
               });
    return std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  }

  void stop(const caf::actor& a) {
    caf::scoped_actor self{*sys};
    self->send_exit(a, caf::exit_reason::kill);
    self->wait_for(a);
  }
};

/// Waits (bounded) until `done` holds.
template <class Pred>
bool eventually(Pred done) {
  auto until = std::chrono::steady_clock::now() + patience;
  while (!done() && std::chrono::steady_clock::now() < until)
    std::this_thread::yield();
  return done();
}

} // namespace

TEST_CASE("a cache joins once, then renews its lease") {
  hub_fixture fx;
  auto a = fx.cache(std::make_shared<heard>());
  CHECK(fx.join(a));
  CHECK_FALSE(fx.join(a));
  fx.stop(a);
}

TEST_CASE("a drop is answered once every joined cache has dropped") {
  hub_fixture fx;
  auto one = std::make_shared<heard>();
  auto two = std::make_shared<heard>();
  auto a = fx.cache(one);
  auto b = fx.cache(two);
  // Without caches a drop is answered at once.
  fx.drop("before");
  fx.join(a);
  fx.join(b);
  fx.drop("digest");
  CHECK(one->drops == 1);
  CHECK(two->drops == 1);
  caf::scoped_actor self{*fx.sys};
  self
    ->request(fx.hub, patience, io_forget_atom::value, int64_t{7},
              std::string{"keep"})
    .receive([](caf::ok_atom) {},
             [&](caf::error& err) {
               FAIL(fx.sys->render(err));
             });
  CHECK(one->drops == 2);
  CHECK(two->drops == 2);
  fx.stop(a);
  fx.stop(b);
}

TEST_CASE("a cache that does not answer holds a drop one lease, then joins "
          "afresh") {
  hub_fixture fx;
  auto quiet = std::make_shared<heard>();
  auto fine = std::make_shared<heard>();
  auto stuck = fx.cache(quiet, true);
  auto ok = fx.cache(fine);
  fx.join(stuck);
  fx.join(ok);
  auto took = fx.drop("digest");
  CHECK(took >= lease);
  CHECK(took < patience);
  CHECK(fine->drops == 1);
  // Forgotten: its next renewal is a join, which drops all it holds.
  CHECK(fx.join(stuck));
  CHECK_FALSE(fx.join(ok));
  fx.stop(stuck);
  fx.stop(ok);
}

TEST_CASE("when a cache is lost the others drop everything") {
  hub_fixture fx;
  auto gone = std::make_shared<heard>();
  auto stays = std::make_shared<heard>();
  auto a = fx.cache(gone);
  auto b = fx.cache(stays);
  fx.join(a);
  fx.join(b);
  fx.stop(a);
  CHECK(eventually([&] {
    return stays->clears == 1;
  }));
  CHECK(gone->clears == 0);
  // The lost one is no longer waited for.
  CHECK(fx.drop("digest") < lease);
  fx.stop(b);
}
