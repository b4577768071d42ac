#include <catch2/catch.hpp>

#include "core/cidr.hpp"

using namespace authnode;

TEST_CASE("an IPv4 range contains its addresses and no others") {
  auto r = cidr::parse("10.1.0.0/16");
  REQUIRE(r);
  CHECK(r->contains("10.1.200.3"));
  CHECK_FALSE(r->contains("10.2.0.1"));
  CHECK_FALSE(r->contains("::ffff:10.1.0.1")); // other family
  CHECK(cidr::parse("127.0.0.0/8")->contains("127.0.0.2"));
  CHECK(cidr::parse("192.168.1.128/25")->contains("192.168.1.200"));
  CHECK_FALSE(cidr::parse("192.168.1.128/25")->contains("192.168.1.100"));
}

TEST_CASE("a bare address is a range of one") {
  auto r = cidr::parse("127.0.0.1");
  REQUIRE(r);
  CHECK(r->contains("127.0.0.1"));
  CHECK_FALSE(r->contains("127.0.0.2"));
}

TEST_CASE("IPv6 ranges") {
  auto r = cidr::parse("2001:db8::/32");
  REQUIRE(r);
  CHECK(r->contains("2001:db8:ffff::1"));
  CHECK_FALSE(r->contains("2001:db9::1"));
  CHECK(cidr::parse("::1/128")->contains("::1"));
}

TEST_CASE("malformed ranges and lists are refused, naming the entry") {
  for (auto bad : {"", "10.0.0.0/33", "10.0.0/8", "x", "::1/129", "1.2.3.4/"})
    CHECK_FALSE(cidr::parse(bad));
  std::string which;
  CHECK_FALSE(parse_cidr_list("127.0.0.1, nonsense", which));
  CHECK(which == "nonsense");
  auto ok = parse_cidr_list(" 127.0.0.1 , 10.0.0.0/8 ", which);
  REQUIRE(ok);
  CHECK(ok->size() == 2);
  CHECK(parse_cidr_list("", which)->empty());
}
