#include "core/cidr.hpp"

#include <arpa/inet.h>
#include <cstring>

namespace authnode {

namespace {

/// Parses an address into 16 bytes; IPv4 uses the first 4.
bool parse_address(const std::string& text, bool& v6,
                   std::array<unsigned char, 16>& out) {
  out.fill(0);
  if (inet_pton(AF_INET, text.c_str(), out.data()) == 1) {
    v6 = false;
    return true;
  }
  if (inet_pton(AF_INET6, text.c_str(), out.data()) == 1) {
    v6 = true;
    return true;
  }
  return false;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ')
    s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ')
    s.remove_suffix(1);
  return s;
}

} // namespace

std::optional<cidr> cidr::parse(std::string_view text) {
  cidr out;
  auto slash = text.find('/');
  std::string addr{text.substr(0, slash)};
  if (!parse_address(addr, out.v6_, out.bytes_))
    return std::nullopt;
  unsigned max = out.v6_ ? 128 : 32;
  out.prefix_ = max;
  if (slash != std::string_view::npos) {
    auto digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3)
      return std::nullopt;
    unsigned prefix = 0;
    for (auto c : digits) {
      if (c < '0' || c > '9')
        return std::nullopt;
      prefix = prefix * 10 + static_cast<unsigned>(c - '0');
    }
    if (prefix > max)
      return std::nullopt;
    out.prefix_ = prefix;
  }
  return out;
}

bool cidr::contains(std::string_view address) const {
  bool v6 = false;
  std::array<unsigned char, 16> bytes;
  if (!parse_address(std::string{address}, v6, bytes) || v6 != v6_)
    return false;
  auto full = prefix_ / 8;
  if (std::memcmp(bytes.data(), bytes_.data(), full) != 0)
    return false;
  auto rest = prefix_ % 8;
  if (rest == 0)
    return true;
  unsigned char mask = static_cast<unsigned char>(0xff << (8 - rest));
  return (bytes[full] & mask) == (bytes_[full] & mask);
}

std::optional<std::vector<cidr>> parse_cidr_list(std::string_view text,
                                                 std::string& bad) {
  std::vector<cidr> out;
  while (!trim(text).empty()) {
    auto comma = text.find(',');
    auto item = trim(text.substr(0, comma));
    auto range = cidr::parse(item);
    if (!range) {
      bad = std::string{item};
      return std::nullopt;
    }
    out.push_back(*range);
    if (comma == std::string_view::npos)
      break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

bool is_ip_address(std::string_view text) {
  bool v6 = false;
  std::array<unsigned char, 16> bytes;
  return parse_address(std::string{text}, v6, bytes);
}

} // namespace authnode
