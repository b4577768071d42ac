#include "core/email.hpp"

#include <algorithm>

namespace authnode {

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f'
    || c == '\v';
}

bool valid_domain(std::string_view domain) {
  if (domain.empty() || domain.find('.') == std::string_view::npos)
    return false;
  size_t label = 0;
  for (auto c : domain) {
    if (c == '.') {
      if (label == 0)
        return false;
      label = 0;
      continue;
    }
    auto ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'
      || static_cast<unsigned char>(c) >= 0x80;
    if (!ok)
      return false;
    ++label;
  }
  return label > 0;
}

} // namespace

std::string normalize_email(std::string_view raw) {
  while (!raw.empty() && is_space(raw.front()))
    raw.remove_prefix(1);
  while (!raw.empty() && is_space(raw.back()))
    raw.remove_suffix(1);
  std::string out{raw};
  std::transform(out.begin(), out.end(), out.begin(), [](char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  });
  return out;
}

bool is_valid_email(std::string_view email) {
  if (email.size() > 254)
    return false;
  auto at = email.find('@');
  if (at == std::string_view::npos || at == 0 || at > 64
      || email.find('@', at + 1) != std::string_view::npos)
    return false;
  for (auto c : email) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || c == '<' || c == '>' || c == ',' || c == ';'
        || c == '"' || c == '\\')
      return false;
  }
  return valid_domain(email.substr(at + 1));
}

} // namespace authnode
