// The admin key: the shared secret every admin-channel request carries.
//
// It lives in a file only the node's user may read (--admin-key-file). At
// first start the node makes one: 32 random bytes, base64url without
// padding, in a file created with O_CREAT|O_EXCL and mode 0600, so there is
// no moment at which another user could open it. A key file that group or
// others may read or write, or whose content is not such a key, stops the
// node at start: an admin key that may have leaked is no key.
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
