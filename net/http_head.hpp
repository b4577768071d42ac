// Just enough HTTP/1.1 for a metrics endpoint: find the end of a request
// head, decide what it asks for, and write a complete response. No bodies are
// read, no keep-alive: every answer carries `Connection: close` and the
// connection is closed after it, which is what Prometheus expects of a
// small exporter and keeps the server side free of per-connection state
// beyond the head being read.
//
// Pure functions, unit-tested (tests/http_head_test.cpp); the broker that
// uses them is net/metrics_listener.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace authnode {

/// The length of the request head in `buf` up to and including the empty
/// line that ends it (CRLF or bare LF line ends), or 0 if it is not complete.
size_t http_head_length(std::string_view buf);

enum class http_route {
  metrics,      // GET /metrics
  metrics_head, // HEAD /metrics
  not_found,    // GET or HEAD of another path
  bad_method,   // a well-formed request with another method
  bad_request,  // anything that is not an HTTP/1.x request head
};

/// Decides a complete head (as delimited by http_head_length). The query
/// string is ignored: /metrics?x=1 is /metrics.
http_route route_http_head(std::string_view head);

/// A whole response with Content-Length and Connection: close; with
/// `head_only` the body is left out but its length still announced.
std::string http_response(int status, std::string_view content_type,
                          std::string_view body, bool head_only = false);

} // namespace authnode
