// Key files: 32 random bytes in base64url without padding, in a file only
// the node's user may read. The admin key (core/admin_key) and the node's
// secret key (core/node_keys) are both kept this way.
//
// At first start the node makes the file with O_CREAT|O_EXCL and mode 0600,
// so there is no moment at which another user could open it. A file that
// group or others may read or write, or whose content is not such a key,
// stops the node at start: a key that may have leaked is no key.
#pragma once

#include <array>
#include <optional>
#include <string>

namespace authnode {

constexpr size_t key_file_bytes = 32;

/// A key as read from its file: raw bytes (wipe after use).
using key_bytes = std::array<unsigned char, key_file_bytes>;

/// Reads the key at `path`, creating the file first if it does not exist.
/// `what` names the file in messages ("admin key file"). Returns the key, or
/// nothing with a message for people in `error`. `created` tells whether
/// this call made the file. `text`, if given, receives the file's key text
/// (the base64url form).
std::optional<key_bytes> load_key_file(const std::string& path,
                                       const std::string& what, bool& created,
                                       std::string& error,
                                       std::string* text = nullptr);

} // namespace authnode
