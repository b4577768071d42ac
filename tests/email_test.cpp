#include <catch2/catch.hpp>

#include "core/email.hpp"
#include "core/error_code.hpp"

#include <caf/sec.hpp>

using namespace authnode;

TEST_CASE("emails are trimmed and lower-cased") {
  CHECK(normalize_email("  Ann@Example.ORG \t") == "ann@example.org");
  CHECK(normalize_email("b@c.de") == "b@c.de");
}

TEST_CASE("plausible addresses pass, broken ones do not") {
  for (auto good : {"a@b.co", "first.last+tag@sub.example.org", "x_y@d-1.io"})
    CHECK(is_valid_email(good));
  for (auto bad : {"", "plain", "@b.co", "a@", "a@b", "a@@b.co", "a b@c.de",
                   "a@b..co", "a@.b.co", "a@b.co.", "a@b_c.co", "<a@b.co>"})
    CHECK_FALSE(is_valid_email(bad));
  CHECK_FALSE(is_valid_email(std::string(250, 'a') + "@b.co"));
}

TEST_CASE("wire names are stable and internal codes never leak") {
  CHECK(wire_name(ec::invalid_credentials) == "invalid_credentials");
  CHECK(wire_name(ec::line_too_long) == "line_too_long");
  CHECK(to_wire(caf::make_error(ec::not_found)).code == ec::internal);
  auto held = to_wire(
    make_held_error(ec::invalid_credentials, std::chrono::milliseconds(250)));
  CHECK(held.code == ec::invalid_credentials);
  CHECK(held.hold == std::chrono::milliseconds(250));
  CHECK(to_wire(caf::make_error(caf::sec::request_timeout)).code
        == ec::unavailable);
}
