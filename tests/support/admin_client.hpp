// For end-to-end tests of the admin channel: a client of the admin port that
// sends the node's key with each request, and the code of a reply.
#pragma once

#include <string>

#include "support/line_client.hpp"
#include "support/node_process.hpp"

namespace authnode::test {

/// "ok", the error code of a failed reply, or "?" for neither.
inline std::string error_code(const json& reply) {
  if (reply.value("ok", false))
    return "ok";
  if (!reply.contains("error"))
    return "?";
  return reply["error"]["code"].get<std::string>();
}

/// A client of the admin port that sends the node's key with each request.
struct admin_client {
  explicit admin_client(const node_process& node)
    : key(node.admin_key()), c(node.admin_port()) {}

  /// The request with the key added, sent without waiting for the reply.
  void send(json request) {
    request["admin_key"] = key;
    c.send(request);
  }

  json call(json request, std::chrono::milliseconds timeout = 10s) {
    request["admin_key"] = key;
    return c.call(std::move(request), timeout);
  }

  std::string key;
  line_client c;
};

} // namespace authnode::test
