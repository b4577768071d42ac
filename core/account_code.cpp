#include "core/account_code.hpp"

#include <array>

#include <sodium.h>

namespace authnode {

namespace {

constexpr std::string_view alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
static_assert(alphabet.size() == 32);

/// The symbol a typed character stands for, or 0 if none.
char symbol_of(char c) {
  if (c >= 'a' && c <= 'z')
    c = static_cast<char>(c - 'a' + 'A');
  switch (c) {
    case 'O':
      return '0';
    case 'I':
    case 'L':
      return '1';
    default:
      return alphabet.find(c) == std::string_view::npos ? 0 : c;
  }
}

bool is_separator(char c) {
  return c == '-' || c == ' ';
}

} // namespace

std::string to_string(code_purpose purpose) {
  switch (purpose) {
    case code_purpose::recovery:
      return "recovery";
    case code_purpose::verification:
      return "verification";
    case code_purpose::email_change:
      return "email_change";
    case code_purpose::second_factor:
      return "second_factor";
  }
  return "unknown";
}

std::string make_account_code() {
  // 5 bytes are the 40 bits of 8 symbols of 5 bits each.
  std::array<unsigned char, 5> raw;
  randombytes_buf(raw.data(), raw.size());
  uint64_t bits = 0;
  for (auto b : raw)
    bits = (bits << 8) | b;
  sodium_memzero(raw.data(), raw.size());
  std::string code;
  for (size_t i = 0; i < code_symbols; ++i) {
    if (i == code_symbols / 2)
      code += '-';
    auto shift = 5 * (code_symbols - 1 - i);
    code += alphabet[(bits >> shift) & 31];
  }
  bits = 0;
  return code;
}

std::optional<std::string> canonical_code(std::string_view typed) {
  if (typed.size() > 4 * code_symbols)
    return std::nullopt;
  std::string out;
  for (char c : typed) {
    if (is_separator(c))
      continue;
    auto s = symbol_of(c);
    if (s == 0 || out.size() == code_symbols)
      return std::nullopt;
    out += s;
  }
  if (out.size() != code_symbols)
    return std::nullopt;
  return out;
}

std::string code_digest(const key_bytes& key, code_purpose purpose,
                        int64_t user_id, std::string_view canonical) {
  // purpose and user go in front of the code: a digest is only ever good
  // for the flow and user it was made for.
  std::string input = std::to_string(static_cast<int>(purpose)) + ":"
    + std::to_string(user_id) + ":";
  input += canonical;
  std::string out(crypto_generichash_BYTES, '\0');
  crypto_generichash(reinterpret_cast<unsigned char*>(out.data()), out.size(),
                     reinterpret_cast<const unsigned char*>(input.data()),
                     input.size(), key.data(), key.size());
  sodium_memzero(input.data(), input.size());
  return out;
}

} // namespace authnode
