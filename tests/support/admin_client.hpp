// For end-to-end tests of the admin channel: a client of the admin port that
// sends the node's key with each request, and the admin requests more than
// one test makes. Replies are read with support/protocol.hpp, as on the
// public port.
#pragma once

#include <string>

#include "support/line_client.hpp"
#include "support/node_process.hpp"
#include "support/protocol.hpp"

namespace authnode::test {

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

/// user_show of `email`.
inline json show_user(admin_client& a, const std::string& email) {
  return a.call({{"op", "user_show"}, {"email", email}});
}

} // namespace authnode::test
