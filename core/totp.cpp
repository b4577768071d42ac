#include "core/totp.hpp"

#include <cstdlib>

#include <liboath/oath.h>
#include <sodium.h>

#include "core/secrets.hpp"

namespace authnode {

namespace {

/// liboath wants oath_init() once before use; a function-local static makes
/// that once, thread-safely, whichever thread computes the first code.
bool oath_ready() {
  static const bool ready = oath_init() == OATH_OK;
  return ready;
}

int oath_flags(totp_hash hash) {
  switch (hash) {
    case totp_hash::sha256:
      return OATH_TOTP_HMAC_SHA256;
    case totp_hash::sha512:
      return OATH_TOTP_HMAC_SHA512;
    case totp_hash::sha1:
      break;
  }
  return 0;
}

/// RFC 3986 unreserved characters stay, everything else is %XX.
std::string percent_encoded(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
      || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
      || c == '~';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

} // namespace

std::string make_totp_seed() {
  std::string seed(totp_seed_bytes, '\0');
  randombytes_buf(seed.data(), seed.size());
  return seed;
}

std::string totp_base32(std::string_view seed) {
  oath_ready();
  char* out = nullptr;
  size_t len = 0;
  if (oath_base32_encode(seed.data(), seed.size(), &out, &len) != OATH_OK)
    return {};
  std::string text{out, len};
  sodium_memzero(out, len);
  std::free(out);
  // Apps take the secret without its '=' padding (and some only so).
  while (!text.empty() && text.back() == '=')
    text.pop_back();
  return text;
}

std::optional<std::string> totp_seed_of(std::string_view base32) {
  oath_ready();
  char* out = nullptr;
  size_t len = 0;
  std::string text{base32};
  if (oath_base32_decode(text.data(), text.size(), &out, &len) != OATH_OK)
    return std::nullopt;
  std::string seed{out, len};
  sodium_memzero(out, len);
  std::free(out);
  return seed;
}

int64_t totp_step(int64_t at) {
  return at / totp_period;
}

std::string totp_code(std::string_view seed, int64_t step, unsigned digits,
                      totp_hash hash) {
  if (!oath_ready() || step < 0)
    return {};
  char out[16] = {};
  // A step's start time is the time oath_totp_generate2 turns back into it.
  auto rc = oath_totp_generate2(seed.data(), seed.size(),
                                static_cast<time_t>(step * totp_period),
                                static_cast<unsigned>(totp_period), 0, digits,
                                oath_flags(hash), out);
  if (rc != OATH_OK)
    return {};
  return out;
}

std::optional<std::string> canonical_totp(std::string_view typed) {
  std::string digits;
  for (char c : typed) {
    if (c == ' ')
      continue;
    if (c < '0' || c > '9' || digits.size() == totp_digits)
      return std::nullopt;
    digits += c;
  }
  if (digits.size() != totp_digits)
    return std::nullopt;
  return digits;
}

std::optional<int64_t> totp_match(std::string_view seed, std::string_view code,
                                  int64_t now, int64_t skew,
                                  int64_t last_step) {
  std::optional<int64_t> found;
  auto current = totp_step(now);
  // Every step of the window is computed and compared, whichever matches,
  // so the time taken says nothing about where a code was near.
  for (auto step = current - skew; step <= current + skew; ++step) {
    auto expected = totp_code(seed, step);
    bool same = !expected.empty() && equal_in_constant_time(expected, code);
    if (same && step > last_step && !found)
      found = step;
  }
  return found;
}

std::string otpauth_uri(std::string_view issuer, std::string_view email,
                        std::string_view base32) {
  auto enc_issuer = percent_encoded(issuer);
  return "otpauth://totp/" + enc_issuer + ":" + percent_encoded(email)
    + "?secret=" + std::string{base32} + "&issuer=" + enc_issuer
    + "&algorithm=SHA1&digits=" + std::to_string(totp_digits)
    + "&period=" + std::to_string(totp_period);
}

} // namespace authnode
