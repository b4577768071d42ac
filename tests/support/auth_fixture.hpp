// The auth actor alone, under CAF's deterministic test coordinator: the
// database and the hasher are fakes kept in memory (support/fake_backend.hpp)
// and every actor runs on the test's thread, so nothing waits in real time.
//
// How the tests drive CAF 0.17 from Catch2: the scheduler policy "testing"
// makes sys.scheduler() a caf::scheduler::test_coordinator. Nothing runs until
// the test calls sched.run(), which processes messages until every mailbox
// is empty; it never fires timers. sched.advance_time(d) moves the virtual
// clock and turns due timers (request timeouts, the guard's held attempts)
// into messages that the next sched.run() delivers. Each request comes from
// a small event-based client actor that writes the reply or the error into
// a box the test reads.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/auth.hpp"
#include "actors/guard.hpp"
#include "actors/interfaces.hpp"
#include "core/clock.hpp"
#include "core/counters.hpp"
#include "core/error_code.hpp"
#include "core/secrets.hpp"
#include "support/fake_backend.hpp"

namespace authnode::test {

using namespace std::chrono_literals;

inline register_request registration(std::string email, std::string password,
                              std::string name = "Ann") {
  return {std::move(email), secret{std::move(password)}, std::move(name),
          "10.0.0.7:5555"};
}

inline login_request login(std::string email, std::string password) {
  return {std::move(email), secret{std::move(password)}, "10.0.0.7:5555"};
}

inline token_request token(std::string value) {
  return {secret{std::move(value)}, "10.0.0.7:5555"};
}

inline password_change_request password_change_of(std::string token,
                                           std::string old_password,
                                           std::string new_password) {
  return {secret{std::move(token)}, secret{std::move(old_password)},
          secret{std::move(new_password)}, "10.0.0.7:5555"};
}

/// Where a client actor puts the one reply it gets; empty until then.
template <class T>
using reply_box = std::shared_ptr<std::optional<caf::expected<T>>>;

// -- fixture -----------------------------------------------------------------

inline const std::string ann_email = "ann@example.org";
inline const std::string ann_password = "s3cret-password";

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

  guard_actor guard;

  /// `session_cache`: sessions the auth actor keeps for whoami (0: none);
  /// `throttle`: a real guard with these settings (none: no throttling).
  explicit auth_fixture(size_t session_cache = 0,
                        std::optional<throttle_settings> throttle = {}) {
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
    if (throttle)
      guard = sys->spawn(authnode::guard, *throttle, counters);
    auth = sys->spawn(authnode::auth, settings, db, hasher, guard,
                      audit_actor{}, counters, caf::actor{});
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
    if (guard)
      caf::anon_send_exit(guard, caf::exit_reason::user_shutdown);
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


} // namespace authnode::test
