// Checks a password against a stored hash of any format core/hash_format
// knows: argon2id and argon2i through libsodium, bcrypt and sha-crypt
// through libxcrypt's crypt_rn.
//
// Every check here is slow on purpose (that is the point of a password
// hash): only hashers call it, on their own threads. crypt_rn is the
// re-entrant crypt: its whole state lives in a crypt_data of ours, so
// hashers on several threads never share one, and it is wiped after each
// use because it holds a copy of the password. Its result is compared with
// the stored hash in constant time.
#pragma once

#include <string_view>

#include "core/secrets.hpp"

namespace authnode {

/// Whether `password` matches `stored`. An unknown format, a malformed
/// string or one longer than max_stored_hash is a non-match, never an error.
/// For bcrypt and sha-crypt, a password with a NUL byte or of
/// CRYPT_MAX_PASSPHRASE_SIZE (512) bytes or more never matches: crypt reads
/// C strings and refuses longer ones, so no such hash of it can exist.
bool hash_matches(std::string_view stored, const secret& password);

} // namespace authnode
