#include "net/session_keeper.hpp"

#include <chrono>
#include <string>

#include "actors/interfaces.hpp"
#include "net/broker_timer.hpp"

namespace authnode {

namespace {

using clock = session_cache::clock;

/// Asks the hub for a lease, counted from now; joining drops the cache.
///
/// Asked without a time limit: CAF 0.17 delivers a request's timeout even
/// to a broker that has ended, and that message, naming the broker as its
/// sender, would keep it alive for good (net/broker_timer.hpp). The limit
/// is kept here instead: one renewal at a time, and a new one once a lease
/// has passed without an answer (the lease runs out by itself meanwhile).
/// An answer that never comes, from a hub since lost, leaves one handler
/// behind per loss.
void renew(session_keeper_broker* self) {
  auto& st = self->state;
  auto hub = caf::actor_cast<session_hub_actor>(st.hub);
  if (!hub)
    return;
  auto asked = clock::now();
  if (st.renewing && asked - *st.renewing < st.lease)
    return;
  st.renewing = asked;
  self
    ->request(hub, caf::infinite, session_lease_atom::value,
              caf::actor_cast<caf::actor>(self))
    .then(
      [=](int64_t ms, bool joined) {
        auto& st = self->state;
        if (caf::actor_cast<session_hub_actor>(st.hub) != hub)
          return; // an answer of a hub since lost
        if (st.renewing == asked)
          st.renewing.reset();
        if (joined)
          st.sessions->clear();
        st.lease = std::chrono::milliseconds(ms);
        st.sessions->answer_until(asked + st.lease);
      },
      [=](caf::error&) {
        // The lease runs out by itself; the next tick asks again.
        auto& st = self->state;
        if (st.renewing == asked)
          st.renewing.reset();
      });
}

void tick(session_keeper_broker* self) {
  renew(self);
  // Without a sender: see net/broker_timer.hpp.
  send_self_later(self, self->state.lease / 4, tick_atom::value);
}

} // namespace

caf::behavior session_keeper(session_keeper_broker* self,
                             std::shared_ptr<session_cache> sessions,
                             bool leased) {
  self->state.sessions = std::move(sessions);
  if (leased)
    self->state.sessions->answer_until(clock::time_point::min());
  return {
    [=](io_forget_atom, const std::string& digest) {
      self->state.sessions->forget(digest);
      return caf::ok_atom::value;
    },
    [=](io_forget_atom, int64_t user_id, const std::string& keep) {
      self->state.sessions->forget_user(user_id, keep);
      return caf::ok_atom::value;
    },
    [=](io_clear_atom) {
      self->state.sessions->clear();
    },
    [=](route_atom, caf::actor hub) {
      auto& st = self->state;
      st.hub = std::move(hub);
      st.renewing.reset();
      if (!st.hub) {
        st.sessions->clear();
        st.sessions->answer_until(clock::time_point::min());
        return;
      }
      if (!st.ticking) {
        st.ticking = true;
        tick(self);
        return;
      }
      renew(self);
    },
    [=](tick_atom) {
      tick(self);
    },
  };
}

} // namespace authnode
