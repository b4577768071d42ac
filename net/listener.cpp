#include "net/listener.hpp"

#include <caf/io/system_messages.hpp>

#include "core/error_code.hpp"
#include "net/half_close_stream.hpp"
#include "net/wire.hpp"

namespace authnode {

namespace {

void maybe_drained(listener_broker* self) {
  auto& st = self->state;
  if (st.draining && st.connections.empty()) {
    if (st.drained.pending())
      st.drained.deliver(caf::ok_atom::value);
    self->quit();
  }
}

void refuse(listener_broker* self, caf::io::connection_handle hdl) {
  auto line = encode_error(nullptr, ec::busy,
                           "too many connections, try again later");
  self->write(hdl, line.size(), line.data());
  // close() discards what was not flushed yet.
  self->flush(hdl);
  self->close(hdl);
}

void accept(listener_broker* self, caf::io::connection_handle hdl) {
  auto& st = self->state;
  if (st.draining || st.connections.size() >= st.cfg.max_connections) {
    refuse(self, hdl);
    return;
  }
  auto conn = self->fork(connection, hdl, st.cfg.connection, st.on_line,
                         st.counters);
  st.counters->connections += 1;
  self->monitor(conn);
  st.connections.insert(conn.address());
}

} // namespace

caf::behavior listener(listener_broker* self, listener_settings cfg,
                       line_handler on_line,
                       std::shared_ptr<node_counters> counters) {
  self->state.cfg = std::move(cfg);
  self->state.on_line = std::move(on_line);
  self->state.counters = std::move(counters);
  self->set_down_handler([=](caf::down_msg& msg) {
    self->state.connections.erase(msg.source);
    maybe_drained(self);
  });
  // Stopped before its connections closed (the drain ran out of time): the
  // forked connections are not linked to the listener, and one still
  // waiting for an answer would outlive it and keep the actor system, and
  // so the process, from ending.
  self->set_exit_handler([=](caf::exit_msg& msg) {
    for (auto& addr : self->state.connections)
      if (auto conn = caf::actor_cast<caf::actor>(addr))
        self->send_exit(conn, msg.reason);
    self->quit(msg.reason);
  });
  return {
    [=](listen_atom) -> caf::result<uint16_t> {
      auto& st = self->state;
      auto bound = open_line_doorman(self, st.cfg.host, st.cfg.port, "listen");
      if (!bound)
        return std::move(bound.error());
      st.doorman = bound->first;
      return bound->second;
    },
    [=](const caf::io::new_connection_msg& msg) {
      accept(self, msg.handle);
    },
    [=](drain_atom) {
      auto& st = self->state;
      st.draining = true;
      st.drained = self->make_response_promise();
      if (st.doorman != caf::io::accept_handle{})
        self->close(st.doorman);
      for (auto& addr : st.connections)
        if (auto conn = caf::actor_cast<caf::actor>(addr))
          self->send(conn, drain_atom::value);
      maybe_drained(self);
      return st.drained;
    },
    [=](const caf::io::connection_closed_msg&) {
      // A refused client went away; nothing else is read here.
    },
    [=](const caf::io::acceptor_closed_msg&) {},
  };
}

} // namespace authnode
