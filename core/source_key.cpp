#include "core/source_key.hpp"

#include <arpa/inet.h>
#include <cstring>

namespace authnode {

std::string source_key(std::string_view address) {
  std::string addr{address};
  in6_addr v6{};
  if (inet_pton(AF_INET6, addr.c_str(), &v6) != 1)
    return addr; // IPv4 (or not an address): the address is the key
  static constexpr unsigned char mapped_prefix[12] = {0, 0, 0, 0, 0,    0,
                                                      0, 0, 0, 0, 0xff, 0xff};
  char buf[INET6_ADDRSTRLEN];
  if (std::memcmp(v6.s6_addr, mapped_prefix, sizeof(mapped_prefix)) == 0) {
    in_addr v4{};
    std::memcpy(&v4, v6.s6_addr + 12, 4);
    inet_ntop(AF_INET, &v4, buf, sizeof(buf));
    return buf;
  }
  std::memset(v6.s6_addr + 8, 0, 8);
  inet_ntop(AF_INET6, &v6, buf, sizeof(buf));
  return std::string{buf} + "/64";
}

} // namespace authnode
