// The guard actor: the throttling policy (actors/throttle.hpp) behind a
// message interface, consulted by the auth actor before any password
// verification.
//
// An attempt that must wait is held here as a response promise, in a
// due-ordered heap with one delayed_send armed for the earliest, like the
// connection's held replies; attempts that wait only for a verification slot
// of their key are asked about again when a verification of that key ends.
// Nothing sleeps.
//
// With a shared database (PostgreSQL, issue 17) the guard also reads each
// attempt's keys from it before deciding, and writes each failure to it:
// every node on the database then meets the penalties of all, and a
// restart keeps them. A failure's report is answered once it is written,
// and its reply waits for that. The decision and the holding stay here; the
// database only supplies the larger count.
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include <caf/actor_clock.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/interfaces.hpp"
#include "actors/throttle.hpp"
#include "core/counters.hpp"

namespace authnode {

struct held_attempt {
  caf::actor_clock::time_point due;
  uint64_t seq = 0;
  throttle_keys keys;
  caf::typed_response_promise<caf::ok_atom> rp;
};

/// Where the guard's failures are shared, if anywhere: a database actor on
/// PostgreSQL, asked with this time limit; invalid: this node's memory
/// only.
struct shared_throttle {
  database_actor db;
  caf::timespan timeout = std::chrono::seconds(5);
};

struct guard_state {
  throttle policy;
  throttle_settings cfg;
  shared_throttle shared;
  /// Min-heap on (due, seq): attempts waiting for a penalty to pass.
  std::vector<held_attempt> timed;
  /// Attempts waiting only for a verification slot of their keys.
  std::deque<held_attempt> waiting_for_slot;
  uint64_t next_seq = 0;
  /// Counts the shared database's forgets begun and ended: a count read
  /// while one was under way may hold failures already forgiven, and is
  /// not adopted.
  uint64_t forgets = 0;
  /// Failure writes to the shared database begun and ended, and how many
  /// are on their way: a count read while none was, and none began or
  /// ended, holds every failure this node counted, and is taken as it is.
  uint64_t writes = 0;
  int writes_pending = 0;
  std::optional<caf::actor_clock::time_point> armed;
  /// The node is stopping: nothing is held any more (drain_atom).
  bool draining = false;
  std::shared_ptr<node_counters> counters;
  static inline const char* name = "guard";
};

guard_actor::behavior_type
guard(guard_actor::stateful_pointer<guard_state> self, throttle_settings cfg,
      std::shared_ptr<node_counters> counters);

/// The same, with failures shared through `shared.db`.
guard_actor::behavior_type
shared_guard(guard_actor::stateful_pointer<guard_state> self,
             throttle_settings cfg, std::shared_ptr<node_counters> counters,
             shared_throttle shared);

/// Tells the guard how an attempt ended (guard_done); `then` runs once the
/// guard has recorded it (on a shared database: written, failed, or past
/// its time limit), or if the guard is gone. A failure's reply goes out
/// from `then`, never before.
template <class Self, class F>
void report_to_guard(Self* self, const guard_actor& guard,
                     attempt_report report, F then) {
  self->request(guard, caf::infinite, guard_done_atom::value, std::move(report))
    .then(
      [=](caf::ok_atom) mutable {
        then();
      },
      [=](const caf::error&) mutable {
        then();
      });
}

} // namespace authnode
