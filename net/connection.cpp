#include "net/connection.hpp"

#include <algorithm>

#include <caf/actor_cast.hpp>
#include <caf/io/network/multiplexer.hpp>
#include <caf/io/receive_policy.hpp>
#include <caf/io/system_messages.hpp>
#include <caf/send.hpp>

#include "core/log.hpp"
#include "net/broker_timer.hpp"
#include "net/wire.hpp"

namespace authnode {

namespace {

/// Bytes CAF reads per event: a small buffer per connection (see the notes
/// on per-connection memory); lines longer than this are accumulated.
constexpr size_t read_chunk = 4096;

using time_point = caf::actor_clock::time_point;

bool later(const held_reply& a, const held_reply& b) {
  // Serial-number comparison: seq may wrap around.
  return a.due != b.due ? a.due > b.due
                        : static_cast<int32_t>(a.seq - b.seq) > 0;
}

/// Closes the connection once it owes no reply and will take no more
/// requests: it is draining, or the peer's input has ended and no complete
/// line is left to take (a partial last line is dropped).
void maybe_finish(connection_broker* self) {
  auto& st = self->state;
  if (st.in_flight > 0 || !st.held.empty())
    return;
  if (st.draining || (st.input_ended && !st.lines_waiting)) {
    // close() discards what was not flushed yet (a reply of this turn).
    self->flush(st.hdl);
    self->close(st.hdl);
    self->quit();
  }
}

void arm_timer(connection_broker* self, time_point now) {
  auto& st = self->state;
  if (st.held.empty())
    return;
  auto head = st.held.front().due;
  if (st.armed && *st.armed > now && *st.armed <= head)
    return; // an earlier or equal timer will fire first
  st.armed = head;
  send_self_later(self, head - now, due_atom::value);
}

void hold_reply(connection_broker* self, time_point due, const request_id& id,
                ec code) {
  auto& st = self->state;
  st.held.push_back(held_reply{due, st.next_seq++, id, code});
  std::push_heap(st.held.begin(), st.held.end(), later);
  st.counters->pending_delayed += 1;
  arm_timer(self, self->clock().now());
}

void send_due_replies(connection_broker* self) {
  auto& st = self->state;
  auto now = self->clock().now();
  if (st.armed && *st.armed <= now)
    st.armed.reset();
  size_t sent = 0;
  while (!st.held.empty() && st.held.front().due <= now) {
    std::pop_heap(st.held.begin(), st.held.end(), later);
    auto& due = st.held.back();
    auto line = due.code == ec::none
                  ? encode_ok(due.id)
                  : encode_error(due.id, due.code, default_message(due.code));
    self->write(st.hdl, line.size(), line.data());
    st.held.pop_back();
    ++sent;
  }
  if (sent > 0) {
    st.last_active = now;
    st.counters->pending_delayed -= static_cast<int64_t>(sent);
    self->flush(st.hdl);
  }
  arm_timer(self, now);
  maybe_finish(self);
}

void process_lines(connection_broker* self);

/// Asks for a resume_atom one turn of the I/O loop later. CAF 0.17 applies
/// halt() only at the end of the loop's turn; a trigger() in the same turn
/// finds the socket still registered and does nothing, and the removal then
/// stops reading for good. A function posted to the multiplexer runs in a
/// later turn, after the removal, and the message it sends later still.
void resume_reading_later(connection_broker* self) {
  auto& st = self->state;
  if (st.resume_asked)
    return;
  st.resume_asked = true;
  self->backend().post([hdl = caf::actor_cast<caf::actor>(self)] {
    caf::anon_send(hdl, resume_atom::value);
  });
}

/// May the connection take another line now?
bool may_take_lines(connection_broker* self) {
  auto& st = self->state;
  return st.in_flight < st.cfg.max_in_flight
    && self->clock().now() >= st.tarpit_until;
}

void resume_reading(connection_broker* self) {
  auto& st = self->state;
  st.resume_asked = false;
  if (!st.paused)
    return;
  if (st.draining) {
    // Read on, and drop, whatever the client still sends: closing a socket
    // with unread bytes resets it, and a reset can destroy the replies
    // still on their way to the client.
    st.paused = false;
    if (!st.input_ended)
      self->trigger(st.hdl);
    return;
  }
  // Lines buffered while paused go first; they may pause it again.
  process_lines(self);
  // Answers may have let buffered lines out again meanwhile; then a later
  // answer asks anew.
  if (st.paused && may_take_lines(self)) {
    st.paused = false;
    if (!st.input_ended)
      self->trigger(st.hdl);
  }
  maybe_finish(self);
}

void handle_line(connection_broker* self, std::string_view line) {
  auto& st = self->state;
  st.last_active = self->clock().now();
  st.counters->requests_total += 1;
  ++st.lines_taken;
  st.on_line(self, line);
}

void reject_long_line(connection_broker* self);

/// Takes buffered lines while the connection may have more requests out.
void process_lines(connection_broker* self) {
  auto& st = self->state;
  std::string_view line;
  while (may_take_lines(self)) {
    switch (st.lines.next(line)) {
      case line_buffer::status::line:
        handle_line(self, line);
        break;
      case line_buffer::status::need_more:
        st.lines_waiting = false;
        return;
      case line_buffer::status::too_long:
        reject_long_line(self);
        return;
    }
  }
  st.lines_waiting = true; // perhaps: the next line is not looked at
  if (!st.paused) {
    st.paused = true;
    self->halt(st.hdl);
  }
}

void reject_long_line(connection_broker* self) {
  auto& st = self->state;
  st.counters->requests_total += 1;
  st.counters->requests.count(op_label::invalid, ec::line_too_long);
  st.closed_because = "line_too_long";
  write_line(self,
             encode_error(nullptr, ec::line_too_long,
                          "the line is longer than "
                            + std::to_string(st.cfg.max_line)
                            + " bytes; closing"));
  st.draining = true; // nothing more happens on this connection
  // close() discards what was not flushed yet.
  self->flush(st.hdl);
  self->close(st.hdl);
  self->quit();
}

void arm_idle_timer(connection_broker* self, caf::timespan after) {
  send_self_later(self, after, idle_atom::value);
}

/// The idle timer fired: close the connection if it has been idle for the
/// whole timeout, else look again when it could be.
void check_idle(connection_broker* self) {
  auto& st = self->state;
  if (st.draining)
    return;
  auto timeout = st.cfg.idle_timeout;
  auto now = self->clock().now();
  // Waiting for our own answers is not idleness.
  bool pending = st.in_flight > 0 || !st.held.empty();
  if (pending) {
    arm_idle_timer(self, timeout);
    return;
  }
  auto idle_for = now - st.last_active;
  if (idle_for < timeout) {
    arm_idle_timer(self, timeout - idle_for);
    return;
  }
  st.counters->idle_closed_total += 1;
  st.closed_because = "idle";
  self->close(st.hdl);
  self->quit();
}

} // namespace

void write_line(connection_broker* self, const std::string& line) {
  auto& st = self->state;
  self->write(st.hdl, line.size(), line.data());
  // A reply during the read: the line it answers set last_active already.
  if (st.in_read)
    return;
  st.last_active = self->clock().now();
  if (self->mailbox().empty()) {
    self->flush(st.hdl);
    return;
  }
  // Behind what waits now, so that its replies join this one. Without a
  // sender, as the timers (net/broker_timer.hpp): a message naming this
  // broker, left in its mailbox when it ends, would keep it alive.
  if (!st.flush_queued) {
    st.flush_queued = true;
    caf::anon_send(caf::actor_cast<caf::actor>(self), flush_atom::value);
  }
}

void answer_error(connection_broker* self, const request_id& id,
                  time_point arrived, const caf::error& err) {
  auto failure = to_wire(err);
  auto due = arrived + failure.hold;
  // Held failures carry no message of their own: they are sent with the
  // default text, which is all they need to keep.
  if (failure.hold.count() > 0 && due > self->clock().now())
    hold_reply(self, due, id, failure.code);
  else
    write_line(self, encode_failure(id, failure));
}

void answer_held_ok(connection_broker* self, const request_id& id,
                    time_point arrived, caf::timespan floor) {
  auto due = arrived + floor;
  if (due > self->clock().now())
    hold_reply(self, due, id, ec::none);
  else
    write_line(self, encode_ok(id));
}

void note_refusal(connection_broker* self, time_point arrived,
                  int64_t retry_after_ms) {
  auto& st = self->state;
  auto now = self->clock().now();
  bool ignored = st.last_refusal && arrived > *st.last_refusal
    && arrived < st.retry_not_before;
  st.last_refusal = now;
  st.retry_not_before = std::max(
    st.retry_not_before, now + std::chrono::milliseconds(retry_after_ms));
  if (!ignored || st.trusted)
    return;
  st.tarpit_until = st.retry_not_before;
  st.counters->tarpitted_total += 1;
  send_self_later(self, st.tarpit_until - now, tarpit_over_atom::value);
}

void on_answered(connection_broker* self) {
  auto& st = self->state;
  --st.in_flight;
  if (st.paused && may_take_lines(self)) {
    process_lines(self);
    if (may_take_lines(self) || st.draining)
      resume_reading_later(self);
  }
  maybe_finish(self);
}

connection_state::~connection_state() {
  if (log_enabled(log_level::debug) && counters)
    log_debug("connection closed",
              {{"source", source},
               {"reason", closed_because},
               {"requests", lines_taken}});
  if (counters) {
    counters->connections -= 1;
    counters->pending_delayed -= static_cast<int64_t>(held.size());
  }
}

caf::behavior connection(connection_broker* self,
                         caf::io::connection_handle hdl,
                         connection_settings cfg, line_handler on_line,
                         std::shared_ptr<node_counters> counters) {
  auto& st = self->state;
  st.cfg = cfg;
  st.on_line = std::move(on_line);
  st.counters = std::move(counters);
  st.hdl = hdl;
  st.source = self->remote_addr(hdl);
  st.lines = line_buffer{cfg.max_line};
  st.trusted = std::any_of(cfg.trusted_sources.begin(),
                           cfg.trusted_sources.end(), [&](const cidr& range) {
                             return range.contains(st.source);
                           });
  self->configure_read(hdl, caf::io::receive_policy::at_most(read_chunk));
  st.last_active = self->clock().now();
  log_debug("connection opened", {{"source", st.source}});
  if (cfg.idle_timeout.count() > 0)
    arm_idle_timer(self, cfg.idle_timeout);
  return {
    [=](const caf::io::new_data_msg& msg) {
      auto& st = self->state;
      if (st.draining)
        return;
      st.in_read = true;
      st.lines.append(msg.buf.data(), msg.buf.size());
      process_lines(self);
      st.in_read = false;
    },
    [=](due_atom) {
      send_due_replies(self);
    },
    [=](flush_atom) {
      self->state.flush_queued = false;
      self->flush(self->state.hdl);
    },
    [=](idle_atom) {
      check_idle(self);
    },
    [=](resume_atom) {
      resume_reading(self);
    },
    [=](tarpit_over_atom) {
      resume_reading_later(self);
    },
    [=](drain_atom) {
      // No new request is taken from here on (new_data_msg drops the
      // bytes), but reading goes on until the close: see resume_reading.
      self->state.draining = true;
      self->state.closed_because = "shutdown";
      if (self->state.paused)
        resume_reading_later(self);
      maybe_finish(self);
    },
    [=](end_of_input_atom) {
      // The peer half-closed (net/half_close_stream.hpp): what it sent is
      // answered as usual, then the connection closes. Lines still buffered
      // are taken as answers let them; nothing more is read.
      self->state.input_ended = true;
      maybe_finish(self);
    },
    [=](const caf::io::connection_closed_msg&) {
      self->quit();
    },
  };
}

} // namespace authnode
