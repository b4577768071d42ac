#include "core/node_keys.hpp"

#include <sodium.h>

namespace authnode {

namespace {

/// crypto_kdf's context: 8 bytes that name this use of the master key.
constexpr char kdf_context[crypto_kdf_CONTEXTBYTES + 1] = "authnode";
constexpr uint64_t codes_subkey = 1;
constexpr uint64_t mail_subkey = 2;
constexpr uint64_t seeds_subkey = 3;

node_keys derive(const key_bytes& master) {
  static_assert(crypto_kdf_KEYBYTES == key_file_bytes);
  static_assert(crypto_secretbox_KEYBYTES == key_file_bytes);
  node_keys keys;
  crypto_kdf_derive_from_key(keys.codes.data(), keys.codes.size(),
                             codes_subkey, kdf_context, master.data());
  crypto_kdf_derive_from_key(keys.mail.data(), keys.mail.size(), mail_subkey,
                             kdf_context, master.data());
  crypto_kdf_derive_from_key(keys.seeds.data(), keys.seeds.size(),
                             seeds_subkey, kdf_context, master.data());
  return keys;
}

} // namespace

node_keys::~node_keys() {
  sodium_memzero(codes.data(), codes.size());
  sodium_memzero(mail.data(), mail.size());
  sodium_memzero(seeds.data(), seeds.size());
}

std::string default_secret_key_path(const std::string& db_path) {
  // An in-memory database keeps nothing: neither do its keys (random).
  if (db_path == ":memory:")
    return {};
  return db_path + ".secret-key";
}

std::optional<node_keys> load_node_keys(const std::string& path, bool& created,
                                        std::string& error) {
  auto master = load_key_file(path, "secret key file", created, error);
  if (!master)
    return std::nullopt;
  auto keys = derive(*master);
  sodium_memzero(master->data(), master->size());
  return keys;
}

node_keys random_node_keys() {
  key_bytes master;
  randombytes_buf(master.data(), master.size());
  auto keys = derive(master);
  sodium_memzero(master.data(), master.size());
  return keys;
}

std::string seal(const key_bytes& key, std::string_view plain) {
  std::string out(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES
                    + plain.size(),
                  '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(out.data());
  randombytes_buf(nonce, crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy(nonce + crypto_secretbox_NONCEBYTES,
                        reinterpret_cast<const unsigned char*>(plain.data()),
                        plain.size(), nonce, key.data());
  return out;
}

std::optional<std::string> unseal(const key_bytes& key,
                                  std::string_view sealed) {
  constexpr auto overhead
    = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES;
  if (sealed.size() < overhead)
    return std::nullopt;
  auto* nonce = reinterpret_cast<const unsigned char*>(sealed.data());
  std::string plain(sealed.size() - overhead, '\0');
  if (crypto_secretbox_open_easy(
        reinterpret_cast<unsigned char*>(plain.data()),
        nonce + crypto_secretbox_NONCEBYTES,
        sealed.size() - crypto_secretbox_NONCEBYTES, nonce, key.data())
      != 0)
    return std::nullopt;
  return plain;
}

} // namespace authnode
