// How the node stops, and the CAF 0.17 workarounds that make it stop at
// all.
//
// A stop signal (SIGINT, SIGTERM) is taken by the main thread (sigwait);
// then the listeners drain, and every actor is stopped by name, one by one,
// before the actor system goes down. Stopping them all explicitly is not
// tidiness: in CAF 0.17 a detached actor (the database, the audit writer)
// still running, or still referenced, keeps the actor system's destructor
// waiting for its thread forever. Two such references outlive the actor
// unless removed by hand: CAF's registry (stop_actor, stop_watched) and
// the node broker's mailbox (let_node_broker_catch_up).
#pragma once

#include <csignal>

#include <functional>

#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

namespace authnode {

/// Signals are taken synchronously by the main thread (sigwait), so they are
/// blocked before any CAF thread exists and every thread inherits the mask.
/// Call first thing in main(); SIGPIPE is ignored too. SIGHUP is taken the
/// same way: it maps the breached-password index again.
sigset_t block_stop_signals();

/// Waits for SIGINT or SIGTERM and logs which came. SIGHUP on the way runs
/// `on_hangup` (it must not block: it sends a message) and waits on.
void wait_for_stop_signal(const sigset_t& stop_signals,
                          const std::function<void()>& on_hangup = {});

/// Drains a listener: its connections finish what they owe, within `grace`.
void drain_listener(caf::scoped_actor& self, const caf::actor& lst,
                    caf::timespan grace);

/// Stops `a` (if valid), waits for it, and removes it from CAF's registry.
void stop_actor(caf::scoped_actor& self, const caf::actor& a);

/// Stops an actor that `self` has monitored since it was spawned, and waits
/// for that monitor's down message. An actor's exit notifies its watchers
/// newest first, so by the time the oldest (ours) hears of it, every later
/// watcher, CAF's node broker among them, has been sent its notice.
void stop_watched(caf::scoped_actor& self, const caf::actor& a);

/// Waits (at most 2 s) until CAF's node broker has handled what our actors
/// sent it as they stopped. It watches every actor another node holds a
/// handle to (the database, the guard, the hash pool), and an actor's exit
/// puts a message naming it in the broker's mailbox. CAF 0.17 never empties
/// a broker's mailbox when it ends, so a message still there at shutdown
/// keeps its actor alive, and for a detached actor (the database) the
/// actor system's destructor then waits for its thread forever. A function
/// posted to the broker's I/O loop runs after the broker's turn for the
/// messages that came before it (stop_watched makes sure they came before).
void let_node_broker_catch_up(caf::actor_system& sys);

} // namespace authnode
