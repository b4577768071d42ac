#include "core/admin_key.hpp"

#include <sodium.h>

#include "core/key_file.hpp"
#include "core/secrets.hpp"

namespace authnode {

std::string default_admin_key_path(const std::string& db_path) {
  if (db_path == ":memory:")
    return "authnode.admin-key";
  return db_path + ".admin-key";
}

std::optional<std::string> load_admin_key(const std::string& path,
                                          bool& created, std::string& error) {
  std::string text;
  auto key = load_key_file(path, "admin key file", created, error, &text);
  if (!key)
    return std::nullopt;
  sodium_memzero(key->data(), key->size());
  // The node keeps the digest of the key's text, which is what requests
  // present.
  auto digest = admin_key_digest(text);
  sodium_memzero(text.data(), text.size());
  return digest;
}

std::string admin_key_digest(std::string_view key) {
  return token_digest(key);
}

bool admin_key_matches(std::string_view presented,
                       const std::string& expected) {
  auto digest = admin_key_digest(presented);
  return equal_in_constant_time(digest, expected);
}

} // namespace authnode
