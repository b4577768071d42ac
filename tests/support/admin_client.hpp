// A client of the admin port for end-to-end tests: sends the node's key
// with every request. And the error code of any reply, for assertions.
#pragma once

#include <string>

#include "support/line_client.hpp"
#include "support/node_process.hpp"

namespace authnode::test {

/// "ok" for a success, the error's code otherwise ("?" if it has none).
inline std::string error_code(const json& reply) {
  if (reply.value("ok", false))
    return "ok";
  if (!reply.contains("error"))
    return "?";
  return reply["error"]["code"].get<std::string>();
}

struct admin_client {
  explicit admin_client(const node_process& node)
    : key(node.admin_key()), c(node.admin_port()) {}

  json call(json request, std::chrono::milliseconds timeout = 10s) {
    request["admin_key"] = key;
    return c.call(std::move(request), timeout);
  }

  std::string key;
  line_client c;
};

} // namespace authnode::test
