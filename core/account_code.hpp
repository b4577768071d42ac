// One-time codes mailed to users: account recovery, email verification,
// email change.
//
// Codes, not links: a mail scanner that follows links would use a link up.
// A code is 40 bits from libsodium's randombytes, written as 8 symbols of
// Crockford's base32 (no I, L, O, U) in two groups, like K7QM-2XPA. What a
// user types back is accepted in either case, with or without separators,
// and O, I and L read as the digits they look like. Only a keyed digest of
// the code is stored, bound to the code's purpose and user, so that a
// digest cannot be moved to another user or flow; single use and expiry are
// the store's (storage/code_store).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/key_file.hpp"

namespace authnode {

/// What a code proves. On disk and across nodes as its uint8_t: values stay.
enum class code_purpose : uint8_t {
  recovery = 0,
  verification = 1,
  email_change = 2,
  /// A recovery code of the second factor (storage/second_factor_store):
  /// not mailed, shown once; the same format and digest as the others.
  second_factor = 3,
};

/// "recovery", "verification", "email_change".
std::string to_string(code_purpose purpose);

/// Symbols of a code, without its separator.
constexpr size_t code_symbols = 8;

/// A fresh code, as mailed: "K7QM-2XPA".
std::string make_account_code();

/// The code a user typed, in its canonical form (8 upper-case symbols, no
/// separator), or nothing if it cannot be a code.
std::optional<std::string> canonical_code(std::string_view typed);

/// The keyed BLAKE2b-256 digest the store keeps of a canonical code.
std::string code_digest(const key_bytes& key, code_purpose purpose,
                        int64_t user_id, std::string_view canonical);

} // namespace authnode
