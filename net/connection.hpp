// The connection actor: one CAF broker per client.
//
// It frames lines and hands each to its line handler: for the public port,
// public_protocol() decodes them (net/codec), answers `ping` itself and hands
// everything else to the auth actor as typed requests; the admin port's
// handler (net/admin_protocol) decodes only admin ops, so neither port can
// ever take the other's requests. Replies go out in the
// order they are ready, not the order asked; clients match them by id. At
// most max_in_flight requests per connection are with the auth actor; past
// that the connection stops reading, so a pipelining client is slowed by TCP
// instead of making the node buffer without bound.
//
// Late answers: a failure that must not be answered before `hold` has passed
// since its request arrived is kept in this connection's own due-ordered heap,
// and one delayed_send is armed for the earliest entry. A pending failure so
// costs a heap entry (its encoded reply line), not a timer of its own and
// never a thread; meanwhile the connection keeps serving other requests.
//
// Idle connections: one timer per connection, re-armed when it fires, closes
// a connection that has nothing pending and completed no line for
// idle_timeout. Bytes that never make a line do not count as activity, so a
// slowloris trickling a partial line is closed like a silent one.
//
// All brokers share the middleman's one thread, so nothing here may be slow:
// anything beyond parsing happens in other actors.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor_clock.hpp>
#include <caf/io/broker.hpp>

#include <nlohmann/json.hpp>

#include "actors/interfaces.hpp"
#include "core/counters.hpp"
#include "core/error_code.hpp"
#include "net/codec.hpp"
#include "net/line_buffer.hpp"

namespace authnode {

struct connection_settings {
  size_t max_line = 65536;
  /// Requests handed to the auth actor and not answered yet; past this the
  /// connection stops reading its socket until answers come back.
  size_t max_in_flight = 8;
  /// With nothing pending and no complete line for this long, the
  /// connection is closed; zero: never.
  caf::timespan idle_timeout{0};
};

/// A failure waiting for its due time. Kept small (no encoded line, just
/// what encodes it), since thousands may wait at once.
struct held_reply {
  caf::actor_clock::time_point due;
  uint32_t seq = 0; // keeps equal due times in arrival order
  nlohmann::json id;
  ec code = ec::internal;
};

struct connection_state;
using connection_broker = caf::io::stateful_broker<connection_state>;

/// Decodes one complete line and answers it: at once with write_line(), or
/// later through ask(). Copied into every connection of a listener.
using line_handler
  = std::function<void(connection_broker* self, std::string_view line)>;

struct connection_state {
  connection_state() = default;
  connection_state(const connection_state&) = delete;
  ~connection_state();

  connection_settings cfg;
  line_handler on_line;
  std::shared_ptr<node_counters> counters;
  caf::io::connection_handle hdl;
  std::string source;
  line_buffer lines{0};
  /// Min-heap on (due, seq).
  std::vector<held_reply> held;
  uint32_t next_seq = 0;
  /// When the earliest armed timer fires, if one is armed.
  std::optional<caf::actor_clock::time_point> armed;
  /// Requests sent to the auth actor and not yet answered.
  size_t in_flight = 0;
  /// Reading is halted because max_in_flight requests are out.
  bool paused = false;
  /// Set by drain: read nothing more, close once every reply is out.
  bool draining = false;
  /// True while handling new data: CAF flushes after that handler itself.
  bool in_read = false;
  /// When the connection last completed a line or had a reply go out: the
  /// idle timeout counts from here, once nothing is pending.
  caf::actor_clock::time_point last_active;
  static inline const char* name = "connection";
};

caf::behavior connection(connection_broker* self,
                         caf::io::connection_handle hdl,
                         connection_settings cfg, line_handler on_line,
                         std::shared_ptr<node_counters> counters);

/// The public protocol: every op of docs/protocol.md, answered by `auth`.
line_handler public_protocol(auth_actor auth);

// -- for line handlers --------------------------------------------------------

/// Writes one reply line (flushed unless CAF flushes after the read).
void write_line(connection_broker* self, const std::string& line);

/// Writes the reply for a failed request, or holds it until its hold has
/// passed since `arrived`.
void answer_error(connection_broker* self, const request_id& id,
                  caf::actor_clock::time_point arrived, const caf::error& err);

/// A request handed out with ask() was answered.
void on_answered(connection_broker* self);

/// Sends one request to `dest` and writes `encode(id, result)`, or the
/// error (held if it carries a hold). Counts against max_in_flight.
template <class Result, class Handle, class Encode, class... Ts>
void ask(connection_broker* self, const Handle& dest, request_id id,
         Encode encode, Ts&&... xs) {
  auto arrived = self->clock().now();
  ++self->state.in_flight;
  self->request(dest, caf::infinite, std::forward<Ts>(xs)...)
    .then(
      [=](Result& result) {
        write_line(self, encode(id, result));
        on_answered(self);
      },
      [=](caf::error& err) {
        answer_error(self, id, arrived, err);
        on_answered(self);
      });
}

} // namespace authnode
