// The door between nodes: a hello of the same cluster protocol version gets
// the node's actors, any other version an error naming both, and nothing
// else (cluster/node_front).
#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/interfaces.hpp"
#include "cluster/node_front.hpp"
#include "core/error_code.hpp"

using namespace authnode;

namespace {

constexpr auto patience = std::chrono::seconds(10);

struct front_fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::actor first;
  caf::actor hub;
  node_front_actor front;

  front_fixture() {
    register_message_types(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
    first = sys->spawn([](caf::event_based_actor*) -> caf::behavior {
      return {[](int) {}};
    });
    hub = sys->spawn([](caf::event_based_actor*) -> caf::behavior {
      return {[](int) {}};
    });
    front = sys->spawn(node_front, node_role::storage, first,
                       caf::actor{}, 0u, hub);
  }

  ~front_fixture() {
    caf::scoped_actor self{*sys};
    for (auto a : {caf::actor_cast<caf::actor>(front), first, hub}) {
      self->send_exit(a, caf::exit_reason::user_shutdown);
      self->wait_for(a);
    }
  }
};

} // namespace

TEST_CASE("a hello of this cluster protocol version gets the node's actors") {
  front_fixture fx;
  caf::scoped_actor self{*fx.sys};
  bool answered = false;
  self->request(fx.front, patience, hello_atom::value, cluster_protocol)
    .receive(
      [&](uint32_t protocol, const std::string& role, const caf::actor& one,
          const caf::actor& two, uint32_t hashers) {
        answered = true;
        CHECK(protocol == cluster_protocol);
        CHECK(role == "storage");
        CHECK(one == fx.first);
        CHECK_FALSE(two);
        CHECK(hashers == 0);
      },
      [&](caf::error& err) { FAIL(fx.sys->render(err)); });
  CHECK(answered);
}

TEST_CASE("a storage node's front names its session hub") {
  front_fixture fx;
  caf::scoped_actor self{*fx.sys};
  caf::actor named;
  self->request(fx.front, patience, session_hub_atom::value)
    .receive([&](const caf::actor& hub) { named = hub; },
             [&](caf::error& err) { FAIL(fx.sys->render(err)); });
  CHECK(named == fx.hub);
}

TEST_CASE("a hello of another version is refused with both versions named") {
  front_fixture fx;
  caf::scoped_actor self{*fx.sys};
  std::string message;
  self->request(fx.front, patience, hello_atom::value, cluster_protocol + 1)
    .receive([&](uint32_t, const std::string&, const caf::actor&,
                 const caf::actor&, uint32_t) { FAIL("accepted"); },
             [&](caf::error& err) {
               auto wire = to_wire(err);
               CHECK(wire.code == ec::unavailable);
               message = wire.message;
             });
  CHECK(message.find("speaks version " + std::to_string(cluster_protocol))
        != std::string::npos);
  CHECK(message.find("the peer version "
                     + std::to_string(cluster_protocol + 1))
        != std::string::npos);
}

TEST_CASE("message types between nodes are named with the protocol version") {
  CHECK(versioned_type_name("login_request")
        == "authnode.v" + std::to_string(cluster_protocol)
             + "::login_request");
}
