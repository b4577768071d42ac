// The connection actor: one CAF broker per client, whichever the port.
//
// It keeps only the mechanics of a line connection: framing, backpressure,
// held replies, the idle timer, the tarpit and the drain at shutdown. What a
// line means is its line handler's: public_protocol() (net/public_protocol)
// on the public port, admin_protocol() (net/admin_protocol) on the admin
// port; each decodes only its own port's ops, so neither port can ever take
// the other's requests.
//
// Replies go out in the order they are ready, not the order asked; clients
// match them by id. At most max_in_flight requests per connection are with
// the handler's actor (auth, or admin); past that the connection stops
// reading, so a pipelining client is slowed by TCP instead of making the
// node buffer without bound.
//
// Late answers: a failure that must not be answered before `hold` has passed
// since its request arrived is kept in this connection's own due-ordered heap,
// and one delayed_send is armed for the earliest entry. A pending failure so
// costs a heap entry (its id and code; the line is encoded when it is due),
// not a timer of its own and never a thread; meanwhile the connection keeps
// serving other requests.
//
// Clients that ignore retry_after_ms: a request that arrives after a
// rate_limited reply went out, and before the time that reply named, and is
// refused again, makes the connection take no further line until that time
// (it stops reading; TCP holds the rest). An attacker that retries at once
// then costs the node a few refusals per penalty instead of a core's worth;
// a client that waits as told never notices. Trusted sources are exempt.
// This holds on the admin port too (a key guesser the guard refuses is
// tarpitted like a password guesser), but only public requests are counted
// by op in /metrics: the admin listener's connections have node_counters of
// their own, which /metrics never shows.
//
// Idle connections: one timer per connection, re-armed when it fires, closes
// a connection that has nothing pending and completed no line for
// idle_timeout. Bytes that never make a line do not count as activity, so a
// slowloris trickling a partial line is closed like a silent one.
//
// Half-close: a peer's FIN (shutdown(SHUT_WR), `nc -N`) ends its input,
// not the connection. The listener's scribes report it as
// end_of_input_atom (net/half_close_stream.hpp); the connection then reads
// no more, answers every request it read (held replies at their due time,
// answers still with the auth actor, lines buffered behind backpressure)
// and closes, like a drain. A peer that fully closed instead is found out by
// the first write that fails, which ends the connection as a close does.
//
// All brokers share the middleman's one thread, so nothing here may be slow:
// anything beyond parsing happens in other actors.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include <caf/actor_clock.hpp>
#include <caf/io/broker.hpp>

#include <nlohmann/json.hpp>

#include "actors/interfaces.hpp"
#include "core/cidr.hpp"
#include "core/counters.hpp"
#include "core/error_code.hpp"
#include "net/line_buffer.hpp"
#include "net/wire.hpp"

namespace authnode {

struct connection_settings {
  size_t max_line = 65536;
  /// Requests handed to the auth actor and not answered yet; past this the
  /// connection stops reading its socket until answers come back.
  size_t max_in_flight = 8;
  /// With nothing pending and no complete line for this long, the
  /// connection is closed; zero: never.
  caf::timespan idle_timeout{0};
  /// Peers that speak for many users (--trusted-sources): never tarpitted,
  /// since one user's refusal must not slow the others.
  std::vector<cidr> trusted_sources;
};

/// A failure waiting for its due time. Kept small (no encoded line, just
/// what encodes it), since thousands may wait at once.
struct held_reply {
  caf::actor_clock::time_point due;
  uint32_t seq = 0; // keeps equal due times in arrival order
  nlohmann::json id;
  /// ec::none: a held success, `{"id":..,"ok":true}` (see held_ok).
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
  /// A resume_atom is on its way (see resume_reading_later).
  bool resume_asked = false;
  /// The peer is in trusted_sources.
  bool trusted = false;
  /// The last rate_limited reply went out then, and told the client to
  /// wait until retry_not_before.
  std::optional<caf::actor_clock::time_point> last_refusal;
  caf::actor_clock::time_point retry_not_before;
  /// No line is taken before then: the client ignored a retry_after_ms.
  caf::actor_clock::time_point tarpit_until;
  /// Lines taken, and why the connection ended ("peer" unless we closed it):
  /// for the debug log.
  uint64_t lines_taken = 0;
  std::string_view closed_because = "peer";
  /// Set by drain: take no new request, close once every reply is out.
  bool draining = false;
  /// The peer half-closed: close once every reply is out and no buffered
  /// line is left.
  bool input_ended = false;
  /// process_lines stopped before the buffer ran out of complete lines.
  bool lines_waiting = false;
  /// True while handling new data: CAF flushes after that handler itself.
  bool in_read = false;
  /// A flush_atom is on its way to this connection.
  bool flush_queued = false;
  /// When the connection last completed a line or had a reply go out: the
  /// idle timeout counts from here, once nothing is pending.
  caf::actor_clock::time_point last_active;
  static inline const char* name = "connection";
};

caf::behavior connection(connection_broker* self,
                         caf::io::connection_handle hdl,
                         connection_settings cfg, line_handler on_line,
                         std::shared_ptr<node_counters> counters);

// -- for line handlers --------------------------------------------------------

/// Writes one reply line. It goes out with the others of the same turn:
/// after the read that made it (CAF flushes then), or once the messages
/// waiting in the connection's mailbox (answers from the auth actor, most
/// likely) have been handled, in one send.
void write_line(connection_broker* self, const std::string& line);

/// Writes the reply for a failed request, or holds it until its hold has
/// passed since `arrived`.
void answer_error(connection_broker* self, const request_id& id,
                  caf::actor_clock::time_point arrived, const caf::error& err);

/// The encoder for a success that must not go out sooner than `floor`
/// after its request arrived: `{"id":..,"ok":true}`, held like a failure
/// until then.
struct held_ok {
  caf::timespan floor;
};

void answer_held_ok(connection_broker* self, const request_id& id,
                    caf::actor_clock::time_point arrived, caf::timespan floor);

/// A request handed out with ask() was answered.
void on_answered(connection_broker* self);

/// A rate_limited reply to a request that arrived at `arrived` goes out now:
/// if the client sent that request before an earlier refusal's
/// retry_after_ms had passed, the connection takes no line until this one's
/// has (the tarpit; trusted sources are exempt).
void note_refusal(connection_broker* self, caf::actor_clock::time_point arrived,
                  int64_t retry_after_ms);

/// Sends one request to `dest` and writes `encode(id, result)`, or the
/// error (held if it carries a hold). Counts against max_in_flight. Before
/// the reply is written, `done(arrived, code)` sees its result (ec::none on
/// success); a rate_limited failure is noted for the tarpit.
template <class Result, class Handle, class Encode, class Done, class... Ts>
void ask_then(connection_broker* self, const Handle& dest, request_id id,
              Encode encode, Done done, Ts&&... xs) {
  auto arrived = self->clock().now();
  ++self->state.in_flight;
  self->request(dest, caf::infinite, std::forward<Ts>(xs)...)
    .then(
      [=](Result& result) {
        done(arrived, ec::none);
        if constexpr (std::is_same_v<Encode, held_ok>)
          answer_held_ok(self, id, arrived, encode.floor);
        else
          write_line(self, encode(id, result));
        on_answered(self);
      },
      [=](caf::error& err) {
        auto failure = to_wire(err);
        done(arrived, failure.code);
        if (failure.code == ec::rate_limited && failure.retry_after_ms)
          note_refusal(self, arrived, *failure.retry_after_ms);
        answer_error(self, id, arrived, err);
        on_answered(self);
      });
}

/// ask_then() with nothing to count: the admin port's requests, which stay
/// out of the public per-op metrics.
template <class Result, class Handle, class Encode, class... Ts>
void ask(connection_broker* self, const Handle& dest, request_id id,
         Encode encode, Ts&&... xs) {
  ask_then<Result>(
    self, dest, std::move(id), std::move(encode),
    [](caf::actor_clock::time_point, ec) {}, std::forward<Ts>(xs)...);
}

} // namespace authnode
