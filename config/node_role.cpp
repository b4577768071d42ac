#include "config/node_role.hpp"

#include <array>
#include <utility>

namespace authnode {

namespace {

/// The one table of roles and their words.
constexpr std::array<std::pair<node_role, const char*>, 4> role_words{{
  {node_role::all, "all"},
  {node_role::storage, "storage"},
  {node_role::hasher, "hasher"},
  {node_role::gateway, "gateway"},
}};

} // namespace

const char* to_string(node_role role) {
  for (auto& [r, word] : role_words)
    if (r == role)
      return word;
  return "?";
}

std::optional<node_role> parse_node_role(std::string_view word) {
  for (auto& [r, text] : role_words)
    if (word == text)
      return r;
  return std::nullopt;
}

} // namespace authnode
