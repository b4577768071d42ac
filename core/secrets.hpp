// Secrets and the few crypto helpers built on libsodium.
//
// `secret` holds a password or token while it travels between actors: it is
// serializable (so it can cross CAF nodes) and wipes its bytes when destroyed,
// and it has no operator<< so it cannot end up in a log line by accident.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace authnode {

class secret {
public:
  secret() = default;
  explicit secret(std::string value) : value_(std::move(value)) {}
  secret(const secret&) = default;
  secret(secret&& other) noexcept : value_(std::move(other.value_)) {
    other.wipe();
  }
  secret& operator=(const secret& other) {
    if (this != &other) {
      wipe();
      value_ = other.value_;
    }
    return *this;
  }
  secret& operator=(secret&& other) noexcept {
    if (this != &other) {
      wipe();
      value_ = std::move(other.value_);
      other.wipe();
    }
    return *this;
  }
  ~secret() {
    wipe();
  }

  const std::string& reveal() const {
    return value_;
  }
  bool empty() const {
    return value_.empty();
  }
  size_t size() const {
    return value_.size();
  }

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, secret& x) {
    return f(x.value_);
  }

private:
  void wipe() noexcept;
  std::string value_;
};

/// Initialises libsodium; returns false when it cannot be used.
bool init_sodium();

/// A fresh session token: 32 random bytes, base64url without padding.
std::string make_token();

/// The BLAKE2b-256 digest of a token, as raw bytes: what the database keeps.
std::string token_digest(std::string_view token);

/// base64url without padding (the WebAuthn JSON forms, tokens), and back.
/// Decoding takes the unpadded form only (what WebAuthn clients send) and
/// refuses anything else: false, `raw` unspecified.
std::string base64url(std::string_view raw);
bool from_base64url(std::string_view text, std::string& raw);

/// Constant-time equality of two byte strings (lengths are not secret).
bool equal_in_constant_time(std::string_view a, std::string_view b);

} // namespace authnode
