// Address ranges for --trusted-sources: "10.0.0.0/8", "::1/128", or a bare
// address (a range of one).
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace authnode {

class cidr {
public:
  /// Nothing if `text` is not an address or range.
  static std::optional<cidr> parse(std::string_view text);

  bool contains(std::string_view address) const;

private:
  bool v6_ = false;
  std::array<unsigned char, 16> bytes_{};
  unsigned prefix_ = 0;
};

/// Parses "a,b,c" (spaces allowed); on error returns nothing and names the
/// bad entry in `bad`.
std::optional<std::vector<cidr>> parse_cidr_list(std::string_view text,
                                                 std::string& bad);

/// True for a literal IPv4 or IPv6 address.
bool is_ip_address(std::string_view text);

} // namespace authnode
