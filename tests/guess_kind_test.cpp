// The kinds of guesses and the prefixes of their throttle keys: the flows
// and the admin channel's throttle_show / throttle_reset spell keys from
// this one table, so an operator's key is the one a flow counted on.
#include <catch2/catch.hpp>

#include "core/guess_kind.hpp"

using namespace authnode;

TEST_CASE("each kind of guess reads back from its name",
          "[throttle][guess_kind]") {
  for (auto kind : {guess_kind::password, guess_kind::recovery,
                    guess_kind::code, guess_kind::totp, guess_kind::passkey}) {
    auto parsed = parse_guess_kind(to_string(kind));
    REQUIRE(parsed);
    CHECK(*parsed == kind);
  }
  CHECK(guess_kind_names() == "password, recovery, code, totp, passkey");
}

TEST_CASE("passwords keep the bare keys, the other kinds have prefixes",
          "[throttle][guess_kind]") {
  CHECK(key_prefix(guess_kind::password).empty());
  CHECK(key_prefix(guess_kind::recovery) == "recovery:");
  CHECK(key_prefix(guess_kind::code) == "code:");
  CHECK(key_prefix(guess_kind::totp) == "totp:");
  CHECK(key_prefix(guess_kind::passkey) == "passkey:");
}

TEST_CASE("an unknown kind is no kind", "[throttle][guess_kind]") {
  CHECK_FALSE(parse_guess_kind("sms"));
  CHECK_FALSE(parse_guess_kind("TOTP"));
  CHECK_FALSE(parse_guess_kind(""));
}
