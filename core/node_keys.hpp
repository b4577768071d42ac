// The node's secret key, and the keys derived from it.
//
// One-time codes are stored only as keyed digests, and queued mail (which
// holds a code in clear until it is delivered) and TOTP seeds (which must be
// read back to check a code) only sealed, so neither a copy of the database
// nor a backup gives a code or a seed away. The key lives in a
// key file (core/key_file.hpp) beside the database, `<db>.secret-key`,
// made at first start; it is read by the storage node only, which issues
// and checks codes, checks TOTP codes and sends the mail. crypto_kdf derives
// a key per use, so that a digest key can never open a sealed mail, nor the
// mail key a seed.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/key_file.hpp"

namespace authnode {

struct node_keys {
  /// Keys BLAKE2b digests of one-time codes.
  key_bytes codes{};
  /// Seals queued mail (crypto_secretbox).
  key_bytes mail{};
  /// Seals TOTP seeds (crypto_secretbox).
  key_bytes seeds{};

  node_keys() = default;
  node_keys(const node_keys&) = default;
  node_keys& operator=(const node_keys&) = default;
  ~node_keys();
};

/// `<db>.secret-key`; empty for an in-memory database, whose keys are
/// random and kept nowhere (its codes, mail and seeds die with it).
std::string default_secret_key_path(const std::string& db_path);

/// Reads (making it first, if missing) the key file at `path` and derives
/// the keys; nothing, with a message for people in `error`, if it cannot.
std::optional<node_keys> load_node_keys(const std::string& path, bool& created,
                                        std::string& error);

/// Keys from fresh random bytes, kept nowhere: for tests, and for stores
/// whose codes need not outlive the process.
node_keys random_node_keys();

/// Encrypts and authenticates `plain` with `key` (one of a node_keys'
/// sealing keys): a random nonce, then the box.
std::string seal(const key_bytes& key, std::string_view plain);

/// The plain text of seal()'s output, or nothing if it was not sealed with
/// this key or was altered.
std::optional<std::string> unseal(const key_bytes& key,
                                  std::string_view sealed);

} // namespace authnode
