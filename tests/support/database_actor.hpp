// The database actor in a real actor system, for tests: the system, the
// actor started (or the test fails) and stopped before the system goes,
// and one request waited for.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include <catch2/catch.hpp>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/interfaces.hpp"
#include "core/error_code.hpp"
#include "storage/database.hpp"

namespace authnode::test {

struct system_fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;

  system_fixture() {
    register_message_types(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
  }
};

/// Stops the detached actor before the system goes down: CAF 0.17 can hang
/// at shutdown on detached actors that are still running.
struct running_database {
  caf::scoped_actor& self;
  database_actor hdl;

  ~running_database() {
    self->send_exit(hdl, caf::exit_reason::user_shutdown);
    self->wait_for(hdl);
  }
};

/// The database actor on `path` (spawn_database), or the running test
/// fails.
inline database_actor spawn_or_fail(caf::actor_system& sys,
                                    const std::string& path,
                                    database_settings cfg = {}) {
  std::string error;
  auto db = spawn_database(sys, path, std::move(cfg), error);
  INFO(error);
  REQUIRE(db);
  return *db;
}

/// One request, waited for; the reply or the error as an expected.
template <class T, class... Ts>
caf::expected<T> ask(caf::scoped_actor& self, const database_actor& db,
                     Ts&&... xs) {
  caf::expected<T> result = caf::make_error(ec::internal, "no reply");
  self->request(db, caf::infinite, std::forward<Ts>(xs)...)
    .receive(
      [&](T& x) {
        result = std::move(x);
      },
      [&](caf::error& err) {
        result = std::move(err);
      });
  return result;
}

} // namespace authnode::test
