// TOTP codes (core/totp): the RFC 6238 Appendix B test vectors, agreement
// with an independent implementation (Debian's python3-pyotp), the window
// and the replay rule at step boundaries (times are given, not waited for).
#include <catch2/catch.hpp>

#include <string>

#include "core/totp.hpp"
#include "support/program.hpp"

using namespace authnode;
using namespace authnode::test;

namespace {

/// RFC 6238 Appendix B: the seeds are the ASCII strings of the reference
/// implementation, one per hash.
const std::string seed_sha1 = "12345678901234567890";
const std::string seed_sha256 = "12345678901234567890123456789012";
const std::string seed_sha512
  = "1234567890123456789012345678901234567890123456789012345678901234";

struct vector_row {
  int64_t time;
  const char* sha1;
  const char* sha256;
  const char* sha512;
};

constexpr vector_row appendix_b[] = {
  {59, "94287082", "46119246", "90693936"},
  {1111111109, "07081804", "68084774", "25091201"},
  {1111111111, "14050471", "67062674", "99943326"},
  {1234567890, "89005924", "91819424", "93441116"},
  {2000000000, "69279037", "90698825", "38618901"},
  {20000000000, "65353130", "77737706", "47863826"},
};

} // namespace

TEST_CASE("totp: the RFC 6238 test vectors, for SHA-1, SHA-256 and SHA-512",
          "[totp]") {
  for (auto& row : appendix_b) {
    auto step = totp_step(row.time);
    CHECK(totp_code(seed_sha1, step, 8, totp_hash::sha1) == row.sha1);
    CHECK(totp_code(seed_sha256, step, 8, totp_hash::sha256) == row.sha256);
    CHECK(totp_code(seed_sha512, step, 8, totp_hash::sha512) == row.sha512);
  }
}

TEST_CASE("totp: codes agree with pyotp for the base32 seed apps are given",
          "[totp]") {
  auto seed = make_totp_seed();
  auto text = totp_base32(seed);
  REQUIRE(text.size() == 32); // 20 bytes, no padding
  REQUIRE(totp_seed_of(text) == seed);
  const int64_t times[] = {0, 29, 30, 1700000000, 1700000029, 4102444800};
  std::string script = "import pyotp\nt = pyotp.TOTP('" + text + "')\n";
  for (auto at : times)
    script += "print(t.at(" + std::to_string(at) + "))\n";
  auto run = run_program(AUTHNODE_PYTHON_BINARY, {{"-c", script}});
  REQUIRE(run.status == 0);
  std::string expected;
  for (auto at : times)
    expected += totp_code(seed, totp_step(at)) + "\n";
  CHECK(run.out == expected);
}

TEST_CASE("totp: a code is accepted one step either side of now, not two",
          "[totp]") {
  auto seed = make_totp_seed();
  const int64_t now = 1700000010; // step 56666667, 10 s into it
  auto step = totp_step(now);
  CHECK(totp_match(seed, totp_code(seed, step), now, 1, -1) == step);
  CHECK(totp_match(seed, totp_code(seed, step - 1), now, 1, -1) == step - 1);
  CHECK(totp_match(seed, totp_code(seed, step + 1), now, 1, -1) == step + 1);
  CHECK(!totp_match(seed, totp_code(seed, step - 2), now, 1, -1));
  CHECK(!totp_match(seed, totp_code(seed, step + 2), now, 1, -1));
  // --totp-skew=0: only the step of now.
  CHECK(!totp_match(seed, totp_code(seed, step - 1), now, 0, -1));
}

TEST_CASE("totp: at a step boundary the window moves with the second",
          "[totp]") {
  auto seed = make_totp_seed();
  const int64_t last_of_step = 1700000009; // 56666666 * 30 + 29
  auto step = totp_step(last_of_step);
  auto old_code = totp_code(seed, step - 1);
  CHECK(totp_match(seed, old_code, last_of_step, 1, -1) == step - 1);
  // One second later the step of now is step + 1: step - 1 is two behind.
  CHECK(totp_step(last_of_step + 1) == step + 1);
  CHECK(!totp_match(seed, old_code, last_of_step + 1, 1, -1));
}

TEST_CASE("totp: a step at or before the last one used is refused (replay)",
          "[totp]") {
  auto seed = make_totp_seed();
  const int64_t now = 1700000010;
  auto step = totp_step(now);
  auto code = totp_code(seed, step);
  CHECK(!totp_match(seed, code, now, 1, step));
  CHECK(!totp_match(seed, totp_code(seed, step - 1), now, 1, step));
  CHECK(totp_match(seed, totp_code(seed, step + 1), now, 1, step) == step + 1);
}

TEST_CASE("totp: what a user types is read as apps show it", "[totp]") {
  CHECK(canonical_totp("123456") == "123456");
  CHECK(canonical_totp("123 456") == "123456");
  CHECK(!canonical_totp("12345"));
  CHECK(!canonical_totp("1234567"));
  CHECK(!canonical_totp("12345a"));
  CHECK(!canonical_totp("K7QM-2XPA")); // a recovery code
}

TEST_CASE("totp: the otpauth URI names issuer, account and parameters",
          "[totp]") {
  CHECK(otpauth_uri("Example Co", "ann+x@example.org", "JBSWY3DPEHPK3PXP")
        == "otpauth://totp/Example%20Co:ann%2Bx%40example.org"
           "?secret=JBSWY3DPEHPK3PXP&issuer=Example%20Co&algorithm=SHA1"
           "&digits=6&period=30");
}
