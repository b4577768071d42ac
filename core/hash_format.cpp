#include "core/hash_format.hpp"

#include <array>
#include <cstring>

#include <crypt.h>
#include <sodium.h>

namespace authnode {

namespace {

using problem = std::optional<std::string>;

constexpr std::string_view b64_alphabet
  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
/// sha-crypt's alphabet, in the order of its digit values.
constexpr std::string_view crypt64_alphabet
  = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// bcrypt's: the same characters in another order.
constexpr std::string_view bcrypt64_alphabet
  = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

struct prefix_entry {
  std::string_view prefix;
  hash_scheme scheme;
};

constexpr std::array<prefix_entry, 7> prefixes{{
  {"$argon2id$", hash_scheme::argon2id},
  {"$argon2i$", hash_scheme::argon2i},
  {"$2a$", hash_scheme::bcrypt},
  {"$2b$", hash_scheme::bcrypt},
  {"$2y$", hash_scheme::bcrypt},
  {"$6$", hash_scheme::sha512_crypt},
  {"$5$", hash_scheme::sha256_crypt},
}};

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

/// Reads a stored hash left to right.
struct cursor {
  std::string_view rest;

  bool eat(std::string_view literal) {
    if (!starts_with(rest, literal))
      return false;
    rest.remove_prefix(literal.size());
    return true;
  }

  /// A decimal number as the C libraries print it: digits only, no leading
  /// zero (libsodium refuses one; sha-crypt would print the number without
  /// it, so the hash could never match).
  std::optional<uint32_t> number() {
    size_t n = 0;
    uint64_t value = 0;
    while (n < rest.size() && n < 11 && rest[n] >= '0' && rest[n] <= '9')
      value = value * 10 + static_cast<uint64_t>(rest[n++] - '0');
    if (n == 0 || n > 10 || (n > 1 && rest[0] == '0') || value > UINT32_MAX)
      return std::nullopt;
    rest.remove_prefix(n);
    return static_cast<uint32_t>(value);
  }

  /// Everything up to the next `c` (or the end), which is not consumed.
  std::string_view until(char c) {
    auto field = rest.substr(0, rest.find(c));
    rest.remove_prefix(field.size());
    return field;
  }
};

bool all_of_alphabet(std::string_view s, std::string_view alphabet) {
  return s.find_first_not_of(alphabet) == std::string_view::npos;
}

/// The digit value of the last character (s must be non-empty and of the
/// alphabet).
size_t last_digit(std::string_view s, std::string_view alphabet) {
  return alphabet.find(s.back());
}

/// Unpadded standard base64 as argon2 writes it: the unused low bits of the
/// last character must be zero, or libsodium's decoder refuses the string.
/// Returns the decoded length, or nothing.
std::optional<size_t> canonical_b64_length(std::string_view s) {
  if (s.empty() || !all_of_alphabet(s, b64_alphabet) || s.size() % 4 == 1)
    return std::nullopt;
  auto last = last_digit(s, b64_alphabet);
  if ((s.size() % 4 == 2 && (last & 0x0f) != 0)
      || (s.size() % 4 == 3 && (last & 0x03) != 0))
    return std::nullopt;
  return s.size() * 3 / 4;
}

struct argon2_fields {
  uint32_t m = 0;
  uint32_t t = 0;
  uint32_t p = 0;
};

/// `$argon2id$v=19$m=M,t=T,p=P$salt$hash` (or `$argon2i$`), every part as
/// libsodium reads it; the cost is not checked against limits here.
problem parse_argon2(std::string_view stored, std::string_view prefix,
                     argon2_fields& out) {
  cursor c{stored};
  c.eat(prefix);
  if (!c.eat("v=19$"))
    return std::string{"argon2: only version 19 (v=19) is supported"};
  std::optional<uint32_t> m, t, p;
  if (!c.eat("m=") || !(m = c.number()) || !c.eat(",t=") || !(t = c.number())
      || !c.eat(",p=") || !(p = c.number()) || !c.eat("$"))
    return std::string{"argon2: parameters must read m=N,t=N,p=N"};
  auto salt = canonical_b64_length(c.until('$'));
  if (!c.eat("$"))
    return std::string{"argon2: salt and hash must follow the parameters"};
  auto digest = canonical_b64_length(c.rest);
  if (!salt || !digest)
    return std::string{"argon2: salt and hash must be unpadded base64"};
  if (*salt < 8 || *digest < 16)
    return std::string{
      "argon2: the salt must have at least 8 bytes, the hash 16"};
  out = argon2_fields{*m, *t, *p};
  return std::nullopt;
}

problem check_argon2(std::string_view stored, std::string_view prefix) {
  argon2_fields f;
  if (auto why = parse_argon2(stored, prefix, f))
    return why;
  if (f.p < 1 || f.p > max_import_argon2_p)
    return "argon2: p must be 1 to " + std::to_string(max_import_argon2_p);
  if (f.t < 1 || f.t > max_import_argon2_t)
    return "argon2: t must be 1 to " + std::to_string(max_import_argon2_t);
  if (f.m < 8 * f.p || f.m > max_import_argon2_m)
    return "argon2: m must be 8*p to " + std::to_string(max_import_argon2_m)
      + " KiB";
  // The last word goes to libsodium's own decoder, which verification uses:
  // needs_rehash decodes the whole string and fails on anything it would.
  char buf[crypto_pwhash_STRBYTES] = {};
  std::memcpy(buf, stored.data(), stored.size());
  if (crypto_pwhash_str_needs_rehash(buf, crypto_pwhash_OPSLIMIT_MIN,
                                     crypto_pwhash_MEMLIMIT_MIN)
      < 0)
    return std::string{"argon2: libsodium cannot read this hash"};
  return std::nullopt;
}

/// libxcrypt must know the method and call it usable ("legacy" is: it
/// still computes such hashes, as sha256_crypt is classed).
problem check_crypt_method(std::string_view stored, const char* name) {
  std::string copy{stored};
  auto status = crypt_checksalt(copy.c_str());
  if (status == CRYPT_SALT_OK || status == CRYPT_SALT_METHOD_LEGACY)
    return std::nullopt;
  return std::string{name} + ": libxcrypt cannot compute this hash";
}

/// `$2b$CC$` + 22 characters of salt + 31 of hash. The last character of
/// each carries unused bits, which must be zero: bcrypt writes them so, and
/// would never reproduce a string with them set.
problem check_bcrypt(std::string_view stored) {
  cursor c{stored.substr(4)};
  auto cost_digits = c.until('$');
  if (cost_digits.size() != 2 || !all_of_alphabet(cost_digits, "0123456789")
      || !c.eat("$"))
    return std::string{"bcrypt: the cost must be two digits"};
  auto cost = (cost_digits[0] - '0') * 10 + (cost_digits[1] - '0');
  if (cost < min_import_bcrypt_cost || cost > max_import_bcrypt_cost)
    return "bcrypt: the cost must be " + std::to_string(min_import_bcrypt_cost)
      + " to " + std::to_string(max_import_bcrypt_cost);
  if (c.rest.size() != 53 || !all_of_alphabet(c.rest, bcrypt64_alphabet))
    return std::string{
      "bcrypt: salt and hash must be 53 characters of bcrypt's base64"};
  auto salt = c.rest.substr(0, 22);
  auto digest = c.rest.substr(22);
  if ((last_digit(salt, bcrypt64_alphabet) & 0x0f) != 0
      || (last_digit(digest, bcrypt64_alphabet) & 0x03) != 0)
    return std::string{"bcrypt: salt or hash has unused bits set"};
  return check_crypt_method(stored, "bcrypt");
}

/// `$6$[rounds=N$]salt$hash` (sha512_crypt) and `$5$...` (sha256_crypt).
/// The salt is what crypt keeps of it (at most 16 characters; a longer one
/// would be cut and never match), and the hash's last character carries
/// unused bits, which must be zero.
problem check_sha_crypt(std::string_view stored, bool sha512) {
  auto name = sha512 ? "sha512_crypt" : "sha256_crypt";
  cursor c{stored.substr(3)};
  if (c.eat("rounds=")) {
    auto rounds = c.number();
    if (!rounds || !c.eat("$"))
      return std::string{name} + ": rounds=N must be a plain number";
    if (*rounds < min_import_crypt_rounds || *rounds > max_import_crypt_rounds)
      return std::string{name} + ": rounds must be "
        + std::to_string(min_import_crypt_rounds) + " to "
        + std::to_string(max_import_crypt_rounds);
  }
  auto salt = c.until('$');
  if (salt.empty() || salt.size() > 16
      || !all_of_alphabet(salt, crypt64_alphabet) || !c.eat("$"))
    return std::string{name}
    + ": the salt must be 1 to 16 characters of crypt's base64";
  size_t length = sha512 ? 86 : 43;
  if (c.rest.size() != length || !all_of_alphabet(c.rest, crypt64_alphabet))
    return std::string{name} + ": the hash must be " + std::to_string(length)
      + " characters of crypt's base64";
  if (last_digit(c.rest, crypt64_alphabet) >= (sha512 ? 4u : 16u))
    return std::string{name} + ": the hash has unused bits set";
  return check_crypt_method(stored, name);
}

} // namespace

hash_scheme scheme_of(std::string_view stored) {
  for (auto& e : prefixes)
    if (starts_with(stored, e.prefix))
      return e.scheme;
  return hash_scheme::unknown;
}

std::string_view scheme_name(hash_scheme s) {
  switch (s) {
    case hash_scheme::argon2id:
      return "argon2id";
    case hash_scheme::argon2i:
      return "argon2i";
    case hash_scheme::bcrypt:
      return "bcrypt";
    case hash_scheme::sha512_crypt:
      return "sha512_crypt";
    case hash_scheme::sha256_crypt:
      return "sha256_crypt";
    default:
      return "unknown";
  }
}

std::optional<std::string> import_problem(std::string_view stored) {
  if (stored.empty())
    return std::string{"the hash is empty"};
  if (stored.size() > max_stored_hash)
    return "the hash is longer than " + std::to_string(max_stored_hash)
      + " bytes";
  switch (scheme_of(stored)) {
    case hash_scheme::argon2id:
      return check_argon2(stored, "$argon2id$");
    case hash_scheme::argon2i:
      return check_argon2(stored, "$argon2i$");
    case hash_scheme::bcrypt:
      return check_bcrypt(stored);
    case hash_scheme::sha512_crypt:
      return check_sha_crypt(stored, true);
    case hash_scheme::sha256_crypt:
      return check_sha_crypt(stored, false);
    default:
      return std::string{"unknown hash format (accepted: argon2id, argon2i, "
                         "bcrypt $2a$/$2b$/$2y$, sha512_crypt $6$, "
                         "sha256_crypt $5$)"};
  }
}

bool is_current_hash(std::string_view stored, uint64_t ops, uint64_t mem) {
  if (scheme_of(stored) != hash_scheme::argon2id)
    return false;
  argon2_fields f;
  if (parse_argon2(stored, "$argon2id$", f))
    return false;
  return f.t == ops && f.m == mem / 1024 && f.p == 1;
}

} // namespace authnode
