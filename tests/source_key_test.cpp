#include <catch2/catch.hpp>

#include "core/source_key.hpp"

using authnode::source_key;

TEST_CASE("an IPv4 address is its own throttling key") {
  CHECK(source_key("127.0.0.2") == "127.0.0.2");
}

TEST_CASE("IPv6 addresses of one /64 share a key") {
  CHECK(source_key("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64");
  CHECK(source_key("2001:db8:1:2:bbbb:cccc:dddd:eeee") == "2001:db8:1:2::/64");
  CHECK(source_key("2001:db8:1:3::1") != source_key("2001:db8:1:2::1"));
}

TEST_CASE("an IPv4-mapped IPv6 address is keyed as the IPv4 address") {
  CHECK(source_key("::ffff:10.1.2.3") == "10.1.2.3");
}
