// The password hash formats a stored hash may have: the node's own argon2id,
// and the formats user_import accepts from an operator's old system
// (docs/operations.md, "Importing users").
//
// Recognizing a format is a prefix test and costs nothing; it is used to
// name a user's scheme to operators and to decide how a hasher verifies.
// Checking that an imported string is well formed is stricter: the node
// must never store a hash it cannot verify later, so the parser accepts
// exactly what libsodium and libxcrypt reproduce byte for byte (canonical
// base64, no leading zeros, salts within the lengths crypt uses), and costs
// within limits, so that one imported string cannot tie a hasher up for
// minutes per login.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace authnode {

enum class hash_scheme : uint8_t {
  unknown,
  argon2id,
  argon2i,
  bcrypt,
  sha512_crypt,
  sha256_crypt,
};

/// The longest stored hash: libsodium reads a crypto_pwhash_STRBYTES (128)
/// buffer, the terminating NUL included, and no accepted format is longer.
constexpr size_t max_stored_hash = 127;

/// Cost limits for imported hashes (import only: the node's own argon2id
/// follows --hash-ops and --hash-mem). Far above what systems deploy.
constexpr uint32_t max_import_argon2_t = 64;
constexpr uint32_t max_import_argon2_p = 64;
/// KiB: 4 GiB, the largest --hash-mem.
constexpr uint32_t max_import_argon2_m = 4u << 20;
constexpr int min_import_bcrypt_cost = 4;
constexpr int max_import_bcrypt_cost = 18;
constexpr uint32_t min_import_crypt_rounds = 1000;
constexpr uint32_t max_import_crypt_rounds = 20'000'000;

/// The scheme `stored` claims by its prefix; says nothing about whether the
/// rest is well formed.
hash_scheme scheme_of(std::string_view stored);

/// The scheme's name for operators: "argon2id", "argon2i", "bcrypt",
/// "sha512_crypt", "sha256_crypt" or "unknown".
std::string_view scheme_name(hash_scheme s);

/// Empty when `stored` is a well-formed hash of an accepted format within
/// the import limits, else why not, for the operator (never quoting it).
std::optional<std::string> import_problem(std::string_view stored);

/// Whether `stored` is an argon2id hash made with exactly these parameters
/// (`ops` passes, `mem` bytes, one lane), as the node hashes today. Anything
/// else is re-hashed at the next successful login.
bool is_current_hash(std::string_view stored, uint64_t ops, uint64_t mem);

} // namespace authnode
