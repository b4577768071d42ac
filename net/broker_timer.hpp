// Timers a broker sets for itself.
//
// CAF 0.17 never closes a broker's mailbox when the broker ends
// (abstract_broker::cleanup skips scheduled_actor::cleanup, which would), so
// a timer that fires after the broker has ended is put in its mailbox and
// stays there. Sent the usual way (delayed_send), that message names the
// broker as its sender and so holds a reference to it: broker and message
// keep each other alive for good. Every connection that closed before its
// idle timer fired leaked that way (about 1.8 KB each). Sent anonymously,
// the late message holds nothing and goes with the broker.
#pragma once

#include <utility>

#include <caf/actor_cast.hpp>
#include <caf/actor_clock.hpp>
#include <caf/mailbox_element.hpp>
#include <caf/message_id.hpp>

namespace authnode {

/// Delivers `xs...` to `self` after `delay`, with no sender.
template <class Broker, class... Ts>
void send_self_later(Broker* self, caf::timespan delay, Ts&&... xs) {
  auto& clock = self->clock();
  clock.schedule_message(clock.now() + delay,
                         caf::actor_cast<caf::strong_actor_ptr>(self),
                         caf::make_mailbox_element(nullptr,
                                                   caf::make_message_id(), {},
                                                   std::forward<Ts>(xs)...));
}

} // namespace authnode
