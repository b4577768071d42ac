#include "apps/shutdown.hpp"

#include <chrono>
#include <cstring>
#include <future>
#include <memory>
#include <pthread.h>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_registry.hpp>
#include <caf/actor_system.hpp>
#include <caf/after.hpp>
#include <caf/exit_reason.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/network/multiplexer.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/system_messages.hpp>

#include "actors/interfaces.hpp"
#include "core/log.hpp"

namespace authnode {

sigset_t block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  return set;
}

void wait_for_stop_signal(const sigset_t& stop_signals,
                          const std::function<void()>& on_hangup) {
  int sig = 0;
  for (;;) {
    sigwait(&stop_signals, &sig);
    if (sig != SIGHUP)
      break;
    if (on_hangup) {
      log_info("received SIGHUP, mapping the breached-password index again");
      on_hangup();
    } else {
      log_info("received SIGHUP; nothing to reload on this node");
    }
  }
  log_info(std::string{"received "} + strsignal(sig)
           + ", finishing requests in flight");
}

void drain_listener(caf::scoped_actor& self, const caf::actor& lst,
                    caf::timespan grace) {
  self->request(lst, grace, drain_atom::value)
    .receive([](caf::ok_atom) {},
             [&](caf::error&) {
               log_warning("connections still open at shutdown; closing");
               self->send_exit(lst, caf::exit_reason::user_shutdown);
             });
}

void stop_actor(caf::scoped_actor& self, const caf::actor& a) {
  if (!a)
    return;
  self->send_exit(a, caf::exit_reason::user_shutdown);
  self->wait_for(a);
  // An actor that ever sent a message to another node is kept in CAF's
  // registry, for that node to address it; CAF 0.17 never lets go of it,
  // and a detached one (the database) then keeps the actor system's
  // destructor waiting for its thread forever.
  self->system().registry().erase(a->id());
}

void stop_watched(caf::scoped_actor& self, const caf::actor& a) {
  if (!a)
    return;
  self->send_exit(a, caf::exit_reason::user_shutdown);
  bool down = false;
  while (!down)
    self->receive(
      [&](const caf::down_msg& msg) {
        down = msg.source == a.address();
      },
      caf::after(std::chrono::seconds(30)) >>
        [&] {
          log_warning("an actor did not stop in 30 s");
          down = true;
        });
  self->system().registry().erase(a->id());
}

void let_node_broker_catch_up(caf::actor_system& sys) {
  for (int round = 0; round < 3; ++round) {
    auto done = std::make_shared<std::promise<void>>();
    auto future = done->get_future();
    sys.middleman().backend().post([done] {
      done->set_value();
    });
    if (future.wait_for(std::chrono::seconds(2)) != std::future_status::ready) {
      log_warning("the node broker did not catch up in 2 s; stopping anyway");
      return;
    }
  }
}

} // namespace authnode
