#include "cluster/peer_link.hpp"

#include <algorithm>
#include <set>

#include <caf/atom.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/node_id.hpp>
#include <caf/sec.hpp>

#include "actors/interfaces.hpp"
#include "core/error_code.hpp"
#include "core/log.hpp"

namespace authnode {

std::string peer_name(const peer_link_settings& cfg) {
  return cfg.host + ":" + std::to_string(cfg.port);
}

namespace {

void connect(peer_link_ptr self);

void schedule_attempt(peer_link_ptr self) {
  auto& st = self->state;
  st.pause = st.pause.count() == 0
               ? st.cfg.first_pause
               : std::min(st.pause * 2, st.cfg.max_pause);
  self->delayed_send(self, st.pause, connect_try_atom::value);
}

void try_again_later(peer_link_ptr self, const std::string& reason) {
  auto& st = self->state;
  // Each reason once: a peer that stays away for an hour is one line.
  if (reason != st.last_reason) {
    log_warning(std::string{"cannot reach "} + to_string(st.cfg.role)
                + " node "
                + peer_name(st.cfg) + ": " + reason
                + " (trying again until it answers)");
    st.last_reason = reason;
  }
  schedule_attempt(self);
}

std::string describe(const caf::error& err) {
  auto wire = to_wire(err);
  if (err.category() == caf::atom("authnode"))
    return wire.message;
  if (err.category() == caf::atom("system"))
    return caf::to_string(static_cast<caf::sec>(err.code()));
  return caf::to_string(err);
}

/// The peer's role arrives as a word (the hello's wire form) and is read
/// here: false, and another try later, unless it is the role wanted.
bool has_role(peer_link_ptr self, const std::string& word) {
  auto wanted = self->state.cfg.role;
  if (parse_node_role(word) == wanted)
    return true;
  try_again_later(self, "it is a " + word + " node, not a "
                          + to_string(wanted) + " node");
  return false;
}

void linked(peer_link_ptr self, const caf::strong_actor_ptr& front,
            peer_offer offer) {
  auto& st = self->state;
  if (!offer.first) {
    try_again_later(self, "it offers no actor");
    return;
  }
  // The front, not the actors it offers: it lives as long as they do, and
  // it is no detached actor. A remote monitor makes the watched actor's
  // exit send a message through CAF's node broker, which can still hold it
  // when the node shuts down; a detached actor held so (the database)
  // would keep the storage node's actor system from ever ending.
  self->monitor(front);
  st.watched = caf::actor_cast<caf::actor_addr>(front);
  st.pause = caf::timespan{0};
  st.last_reason.clear();
  log_info(std::string{"linked to "} + to_string(st.cfg.role) + " node "
           + peer_name(st.cfg));
  st.on_up(offer);
}

/// A storage node's front also names the session hub; then the link is up.
void ask_session_hub(peer_link_ptr self, const caf::strong_actor_ptr& front,
                     peer_offer offer) {
  if (offer.role != node_role::storage)
    return linked(self, front, std::move(offer));
  auto hdl = caf::actor_cast<node_front_actor>(front);
  self->request(hdl, self->state.cfg.attempt_timeout, session_hub_atom::value)
    .then(
      [=](caf::actor& hub) mutable {
        offer.sessions = std::move(hub);
        linked(self, front, std::move(offer));
      },
      [=](caf::error& err) { try_again_later(self, describe(err)); });
}

void say_hello(peer_link_ptr self, const caf::strong_actor_ptr& front) {
  auto& st = self->state;
  if (!front) {
    try_again_later(self, "nothing is published on that port");
    return;
  }
  auto hdl = caf::actor_cast<node_front_actor>(front);
  self->request(hdl, st.cfg.attempt_timeout, hello_atom::value,
                cluster_protocol)
    .then(
      [=](uint32_t, const std::string& role, caf::actor& first,
          caf::actor& second, uint32_t hashers) {
        if (has_role(self, role))
          ask_session_hub(self, front,
                          peer_offer{self->state.cfg.role, std::move(first),
                                     std::move(second), hashers, {}});
      },
      [=](caf::error& err) {
        try_again_later(self, describe(err));
      });
}

void connect(peer_link_ptr self) {
  auto& st = self->state;
  self->request(st.cfg.connector, st.cfg.attempt_timeout,
                caf::connect_atom::value, st.cfg.host, st.cfg.port)
    .then(
      [=](const caf::node_id&, caf::strong_actor_ptr& front,
          const std::set<std::string>&) { say_hello(self, front); },
      [=](caf::error& err) { try_again_later(self, describe(err)); });
}

} // namespace

caf::behavior peer_link(peer_link_ptr self, peer_link_settings cfg,
                        std::function<void(const peer_offer&)> on_up,
                        std::function<void()> on_down) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.on_up = std::move(on_up);
  st.on_down = std::move(on_down);
  self->set_down_handler([=](caf::down_msg& msg) {
    auto& st = self->state;
    if (msg.source != st.watched)
      return;
    st.watched = caf::actor_addr{};
    log_warning(std::string{"lost "} + to_string(st.cfg.role) + " node "
                + peer_name(st.cfg) + " (" + describe(msg.reason)
                + "); reconnecting");
    st.on_down();
    schedule_attempt(self);
  });
  connect(self);
  return {
    [=](connect_try_atom) { connect(self); },
  };
}

} // namespace authnode
