// The metrics listener: one CAF broker that answers GET /metrics in the
// Prometheus text format (core/metrics_text) on --metrics-host and
// --metrics-port.
//
// Why a broker and not libmicrohttpd: a scrape is a few kilobytes every few
// seconds, formatted from atomics in microseconds; the broker runs on the
// middleman's I/O thread next to the listener, adds no thread and no pool,
// and needs no new dependency. The price is a hand-written HTTP subset
// (net/http_head): one request per connection, no bodies, Connection: close.
//
// Why it handles every scrape connection itself instead of forking a broker
// per client: a scrape lives for one request; a map entry (the head read so
// far) is all it needs. Each client must send its whole head within
// head_timeout and in at most max_head bytes; at most max_clients are served
// at once and the rest are closed at once. So a slowloris or a flood on this
// port costs a bounded amount of memory and never delays the public port.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include <caf/io/broker.hpp>

#include "actors/interfaces.hpp"
#include "core/counters.hpp"

namespace authnode {

struct metrics_settings {
  std::string host = "127.0.0.1";
  /// 0 picks a free port.
  uint16_t port = 0;
  caf::timespan head_timeout = std::chrono::seconds(5);
  size_t max_head = 8192;
  size_t max_clients = 64;
};

struct scrape_client {
  std::string head;
  /// Tells this client's timer from one of an earlier client that had the
  /// same handle (handles are socket numbers, reused by the kernel).
  uint64_t generation = 0;
};

struct metrics_listener_state {
  metrics_settings cfg;
  std::shared_ptr<node_counters> counters;
  std::unordered_map<caf::io::connection_handle, scrape_client> clients;
  uint64_t next_generation = 0;
  static inline const char* name = "metrics_listener";
};

using metrics_broker = caf::io::stateful_broker<metrics_listener_state>;

/// Replies to (listen_atom) with the bound port as uint16_t. Stopped with an
/// exit message; scrapes in progress are dropped.
caf::behavior metrics_listener(metrics_broker* self, metrics_settings cfg,
                               std::shared_ptr<node_counters> counters);

} // namespace authnode
