// The Prometheus text exposition format (version 0.0.4) of the node's
// counters: what GET /metrics answers. A pure function of node_counters, so
// it is unit-tested without a socket; net/metrics_listener serves it.
//
// Series with labels appear once they are non-zero, except the ones a
// dashboard divides by (every op's `ok`, the common login outcomes), which
// are always there so that rate() has a series from the start.
//
// The families come in this order: the request matrix, the login outcomes,
// the counters of core/counter_table.hpp, the histograms, the gauges of
// core/counter_table.hpp (each in the table's order).
#pragma once

#include <chrono>
#include <string>

#include "core/counters.hpp"

namespace authnode {

/// The MIME type of the text format, for the Content-Type header.
inline constexpr const char* metrics_content_type
  = "text/plain; version=0.0.4; charset=utf-8";

std::string metrics_text(const node_counters& c,
                         std::chrono::steady_clock::time_point now);

} // namespace authnode
