#include "core/secrets.hpp"

#include <array>

#include <sodium.h>

namespace authnode {

void secret::wipe() noexcept {
  if (!value_.empty())
    sodium_memzero(value_.data(), value_.size());
  value_.clear();
}

bool init_sodium() {
  return sodium_init() >= 0;
}

namespace {

constexpr int url_variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;

} // namespace

std::string base64url(std::string_view raw) {
  std::string out(sodium_base64_ENCODED_LEN(raw.size(), url_variant), '\0');
  sodium_bin2base64(out.data(), out.size(),
                    reinterpret_cast<const unsigned char*>(raw.data()),
                    raw.size(), url_variant);
  out.resize(out.size() - 1); // drop the terminating NUL
  return out;
}

bool from_base64url(std::string_view text, std::string& raw) {
  raw.assign(text.size() * 3 / 4 + 1, '\0');
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(raw.data()),
                        raw.size(), text.data(), text.size(), nullptr, &len,
                        &end, url_variant)
        != 0
      || end != text.data() + text.size())
    return false;
  raw.resize(len);
  return true;
}

std::string make_token() {
  std::array<unsigned char, 32> raw;
  randombytes_buf(raw.data(), raw.size());
  auto out = base64url({reinterpret_cast<const char*>(raw.data()), raw.size()});
  sodium_memzero(raw.data(), raw.size());
  return out;
}

std::string token_digest(std::string_view token) {
  std::string out(crypto_generichash_BYTES, '\0');
  crypto_generichash(reinterpret_cast<unsigned char*>(out.data()), out.size(),
                     reinterpret_cast<const unsigned char*>(token.data()),
                     token.size(), nullptr, 0);
  return out;
}

bool equal_in_constant_time(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

} // namespace authnode
