#include "core/guess_kind.hpp"

#include <array>
#include <utility>

namespace authnode {

namespace {

constexpr std::array<std::pair<guess_kind, std::string_view>, 5> names{{
  {guess_kind::password, "password"},
  {guess_kind::recovery, "recovery"},
  {guess_kind::code, "code"},
  {guess_kind::totp, "totp"},
  {guess_kind::passkey, "passkey"},
}};

} // namespace

std::string_view to_string(guess_kind kind) {
  for (auto& [k, name] : names)
    if (k == kind)
      return name;
  return "password";
}

std::optional<guess_kind> parse_guess_kind(std::string_view name) {
  for (auto& [k, known] : names)
    if (known == name)
      return k;
  return std::nullopt;
}

std::string key_prefix(guess_kind kind) {
  if (kind == guess_kind::password)
    return {};
  return std::string{to_string(kind)} + ":";
}

std::string guess_kind_names() {
  std::string out;
  for (auto& [k, name] : names)
    out += (out.empty() ? "" : ", ") + std::string{name};
  return out;
}

} // namespace authnode
