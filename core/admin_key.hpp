// The admin key: the shared secret every admin-channel request carries.
//
// It lives in a key file (core/key_file.hpp: 32 random bytes made at first
// start, mode 0600, refused when others may read it) at --admin-key-file.
//
// The node keeps only the key's BLAKE2b digest, and compares the digest of
// the key a request presents with it in constant time (sodium_memcmp on two
// digests of fixed length), so neither the content nor the length of the
// right key leaks through timing.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace authnode {

/// The key file's path when --admin-key-file is not given: next to the
/// database (`<db>.admin-key`), or `authnode.admin-key` in the working
/// directory for an in-memory database.
std::string default_admin_key_path(const std::string& db_path);

/// Reads the admin key at `path`, creating it first if it does not exist.
/// Returns the BLAKE2b-256 digest of the key, or nothing with a message for
/// people in `error`. `created` tells whether this call made the file.
std::optional<std::string> load_admin_key(const std::string& path,
                                          bool& created, std::string& error);

/// The digest that load_admin_key() returns, of any presented key.
std::string admin_key_digest(std::string_view key);

/// Whether `presented` is the key whose digest is `expected`, in time that
/// depends on neither.
bool admin_key_matches(std::string_view presented, const std::string& expected);

} // namespace authnode
