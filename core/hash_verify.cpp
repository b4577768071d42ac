#include "core/hash_verify.hpp"

#include <cstring>
#include <memory>
#include <string>

#include <crypt.h>
#include <sodium.h>

#include "core/hash_format.hpp"

namespace authnode {

namespace {

/// libsodium reads a full crypto_pwhash_STRBYTES buffer whatever the
/// string's length, so the stored string is copied into a zero-filled one.
bool argon2_matches(std::string_view stored, const secret& password,
                    hash_scheme scheme) {
  if (stored.size() >= crypto_pwhash_STRBYTES)
    return false;
  char buf[crypto_pwhash_STRBYTES] = {};
  std::memcpy(buf, stored.data(), stored.size());
  auto& pw = password.reveal();
  auto rc = scheme == hash_scheme::argon2id
    ? crypto_pwhash_argon2id_str_verify(buf, pw.data(), pw.size())
    : crypto_pwhash_argon2i_str_verify(buf, pw.data(), pw.size());
  return rc == 0;
}

/// crypt_rn's state (32 KiB, with a copy of the password): on the heap, not
/// on a hasher thread's stack, and wiped when done.
struct crypt_scratch {
  crypt_scratch() : data(std::make_unique<crypt_data>()) {}
  crypt_scratch(const crypt_scratch&) = delete;
  crypt_scratch& operator=(const crypt_scratch&) = delete;
  ~crypt_scratch() {
    sodium_memzero(data.get(), sizeof(crypt_data));
  }
  std::unique_ptr<crypt_data> data;
};

bool crypt_matches(std::string_view stored, const secret& password) {
  auto& pw = password.reveal();
  if (pw.find('\0') != std::string::npos
      || pw.size() >= CRYPT_MAX_PASSPHRASE_SIZE)
    return false;
  std::string setting{stored};
  crypt_scratch scratch;
  auto computed = crypt_rn(pw.c_str(), setting.c_str(), scratch.data.get(),
                           static_cast<int>(sizeof(crypt_data)));
  // crypt_rn returns null on failure, never a "*0" token.
  if (computed == nullptr)
    return false;
  return equal_in_constant_time(computed, stored);
}

} // namespace

bool hash_matches(std::string_view stored, const secret& password) {
  if (stored.size() > max_stored_hash)
    return false;
  switch (auto scheme = scheme_of(stored)) {
    case hash_scheme::argon2id:
    case hash_scheme::argon2i:
      return argon2_matches(stored, password, scheme);
    case hash_scheme::bcrypt:
    case hash_scheme::sha512_crypt:
    case hash_scheme::sha256_crypt:
      return crypt_matches(stored, password);
    default:
      return false;
  }
}

} // namespace authnode
