// The throttling key of a client address: an IPv4 address as it is, an IPv6
// address as its /64 (one customer's network, which an attacker can fill
// with addresses at will), and an IPv4-mapped IPv6 address as the IPv4
// address it maps.
#pragma once

#include <string>
#include <string_view>

namespace authnode {

/// Anything that is not an IP address is returned unchanged.
std::string source_key(std::string_view address);

} // namespace authnode
