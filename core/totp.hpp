// Time-based one-time passwords (RFC 6238), the second factor, computed by
// liboath (Debian liboath-dev, from oath-toolkit).
//
// Why liboath and not OpenSSL's HMAC, which the node links already: a TOTP
// is more than an HMAC (the dynamic truncation of RFC 4226 §5.3, the time
// step, the digits), and the secret travels to authenticator apps in
// base32 (RFC 4648), which neither OpenSSL nor libsodium has. liboath does
// all of it, is what oathtool and pam_oath use, and passes the RFC's test
// vectors (tests/totp_test.cpp). We only add what the RFC leaves to the
// verifier: which steps are accepted (±skew) and that a step, once used,
// never is again (§5.2; the store keeps the last step used).
//
// Seeds are 20 random bytes (160 bits, the HMAC-SHA1 block the RFC
// recommends), codes 6 digits, steps 30 s: what every authenticator app
// takes from an otpauth:// URI without asking.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace authnode {

constexpr unsigned totp_digits = 6;
constexpr int64_t totp_period = 30;
constexpr size_t totp_seed_bytes = 20;

/// The HMAC of a code. Only SHA-1 is offered to users (what every app
/// supports); the others are here for the RFC's test vectors.
enum class totp_hash { sha1, sha256, sha512 };

/// A fresh seed from libsodium's randombytes: raw bytes.
std::string make_totp_seed();

/// The seed as authenticator apps take it: base32, upper case, no padding.
std::string totp_base32(std::string_view seed);

/// The raw seed of a base32 text (either case, padding optional); nothing
/// if it is not base32.
std::optional<std::string> totp_seed_of(std::string_view base32);

/// The time step of Unix time `at`.
int64_t totp_step(int64_t at);

/// The code of `seed` for time step `step`, `digits` long.
std::string totp_code(std::string_view seed, int64_t step,
                      unsigned digits = totp_digits,
                      totp_hash hash = totp_hash::sha1);

/// Whether `typed` looks like a TOTP code (6 digits, spaces allowed, as
/// apps show it: "123 456"), and its digits if so.
std::optional<std::string> canonical_totp(std::string_view typed);

/// The step at which `code` (canonical) is the seed's code, among the steps
/// from step(now) - skew to step(now) + skew that are later than
/// `last_step`; nothing if there is none. Compares in constant time.
std::optional<int64_t> totp_match(std::string_view seed, std::string_view code,
                                  int64_t now, int64_t skew,
                                  int64_t last_step);

/// otpauth://totp/ISSUER:EMAIL?secret=...&issuer=...&algorithm=SHA1&digits=6
/// &period=30, with issuer and email percent-encoded.
std::string otpauth_uri(std::string_view issuer, std::string_view email,
                        std::string_view base32);

} // namespace authnode
