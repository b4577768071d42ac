// What a node process is (--role, docs/deployment.md). The role is this
// enum everywhere inside; its word exists only at the edges: the --role
// flag, log lines, and the hello between nodes, whose reply names the role
// as a string on the wire (cluster/node_front, cluster/peer_link) and stays
// so, for nodes of other builds read it.
#pragma once

#include <optional>
#include <string_view>

namespace authnode {

enum class node_role {
  /// Everything in one process.
  all,
  /// The database and the throttle, for gateways.
  storage,
  /// Hashers, for gateways.
  hasher,
  /// Serves clients, using storage and hasher nodes.
  gateway,
};

/// The word for `role`: "all", "storage", "hasher" or "gateway".
const char* to_string(node_role role);

/// The role a word names; nothing for any other word.
std::optional<node_role> parse_node_role(std::string_view word);

} // namespace authnode
