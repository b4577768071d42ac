#include "net/metrics_listener.hpp"

#include <caf/io/receive_policy.hpp>
#include <caf/io/system_messages.hpp>

#include "core/error_code.hpp"
#include "core/metrics_text.hpp"
#include "net/broker_timer.hpp"
#include "net/doorman.hpp"
#include "net/http_head.hpp"

namespace authnode {

namespace {

constexpr size_t read_chunk = 1024;
constexpr const char* plain = "text/plain; charset=utf-8";

/// Writes `response` and closes. CAF flushes before it closes; a close we
/// start brings no connection_closed_msg, so the entry goes here.
void finish(metrics_broker* self, caf::io::connection_handle hdl,
            const std::string& response) {
  self->write(hdl, response.size(), response.data());
  self->flush(hdl);
  self->close(hdl);
  self->state.clients.erase(hdl);
}

void answer(metrics_broker* self, caf::io::connection_handle hdl,
            std::string_view head) {
  auto route = route_http_head(head);
  switch (route) {
    case http_route::metrics:
    case http_route::metrics_head: {
      auto body = metrics_text(*self->state.counters,
                               std::chrono::steady_clock::now());
      bool head_only = route == http_route::metrics_head;
      finish(self, hdl,
             http_response(200, metrics_content_type, body, head_only));
      return;
    }
    case http_route::not_found:
      finish(self, hdl, http_response(404, plain, "not found; try /metrics\n"));
      return;
    case http_route::bad_method:
      finish(self, hdl, http_response(405, plain, "only GET and HEAD\n"));
      return;
    case http_route::bad_request:
      finish(self, hdl, http_response(400, plain, "bad request\n"));
      return;
  }
}

void accept(metrics_broker* self, caf::io::connection_handle hdl) {
  auto& st = self->state;
  if (st.clients.size() >= st.cfg.max_clients) {
    auto response = http_response(503, plain, "too many scrapes at once\n");
    self->write(hdl, response.size(), response.data());
    self->flush(hdl);
    self->close(hdl);
    return;
  }
  auto generation = ++st.next_generation;
  st.clients.emplace(hdl, scrape_client{{}, generation});
  self->configure_read(hdl, caf::io::receive_policy::at_most(read_chunk));
  send_self_later(self, st.cfg.head_timeout, scrape_timeout_atom::value,
                  hdl.id(), generation);
}

void on_data(metrics_broker* self, const caf::io::new_data_msg& msg) {
  auto& st = self->state;
  auto it = st.clients.find(msg.handle);
  if (it == st.clients.end())
    return; // answered already; the client sends more than its head
  auto& head = it->second.head;
  head.append(msg.buf.begin(), msg.buf.end());
  auto length = http_head_length(head);
  if (length > 0 && length <= st.cfg.max_head) {
    answer(self, msg.handle, std::string_view{head}.substr(0, length));
    return;
  }
  if (head.size() > st.cfg.max_head)
    finish(self, msg.handle,
           http_response(431, plain, "request head too large\n"));
}

void on_timeout(metrics_broker* self, int64_t id, uint64_t generation) {
  auto hdl = caf::io::connection_handle::from_int(id);
  auto it = self->state.clients.find(hdl);
  if (it == self->state.clients.end() || it->second.generation != generation)
    return;
  finish(self, hdl, http_response(408, plain, "request head too slow\n"));
}

} // namespace

caf::behavior metrics_listener(metrics_broker* self, metrics_settings cfg,
                               std::shared_ptr<node_counters> counters) {
  self->state.cfg = std::move(cfg);
  self->state.counters = std::move(counters);
  return {
    [=](listen_atom) -> caf::result<uint16_t> {
      auto& st = self->state;
      auto bound = open_doorman(self, st.cfg.host, st.cfg.port,
                                "serve metrics");
      if (!bound)
        return std::move(bound.error());
      return bound->second;
    },
    [=](const caf::io::new_connection_msg& msg) {
      accept(self, msg.handle);
    },
    [=](const caf::io::new_data_msg& msg) {
      on_data(self, msg);
    },
    [=](scrape_timeout_atom, int64_t id, uint64_t generation) {
      on_timeout(self, id, generation);
    },
    [=](const caf::io::connection_closed_msg& msg) {
      self->state.clients.erase(msg.handle);
    },
    [=](const caf::io::acceptor_closed_msg&) {},
  };
}

} // namespace authnode
