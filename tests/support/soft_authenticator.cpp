#include "support/soft_authenticator.hpp"

#include <array>
#include <stdexcept>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <sodium.h>

#include "core/secrets.hpp"

namespace authnode::test {

namespace {

using json = nlohmann::json;

// -- a small CBOR writer (RFC 8949 §3), the test's own ---------------------------

void head(std::string& out, uint8_t major, uint64_t n) {
  auto m = static_cast<char>(major << 5);
  if (n < 24) {
    out += static_cast<char>(m | n);
  } else if (n < 0x100) {
    out += static_cast<char>(m | 24);
    out += static_cast<char>(n);
  } else if (n < 0x10000) {
    out += static_cast<char>(m | 25);
    out += static_cast<char>(n >> 8);
    out += static_cast<char>(n);
  } else {
    out += static_cast<char>(m | 26);
    for (int shift = 24; shift >= 0; shift -= 8)
      out += static_cast<char>(n >> shift);
  }
}

std::string cbor_int(int64_t x) {
  std::string out;
  if (x >= 0)
    head(out, 0, static_cast<uint64_t>(x));
  else
    head(out, 1, static_cast<uint64_t>(-1 - x));
  return out;
}

std::string cbor_bytes(const std::string& x) {
  std::string out;
  head(out, 2, x.size());
  return out + x;
}

std::string cbor_text(const std::string& x) {
  std::string out;
  head(out, 3, x.size());
  return out + x;
}

/// A map of already encoded keys and values, in the order given.
std::string cbor_map(const std::vector<std::pair<std::string, std::string>>& kv) {
  std::string out;
  head(out, 5, kv.size());
  for (auto& [k, v] : kv)
    out += k + v;
  return out;
}

std::string sha256(const std::string& data) {
  std::string out(crypto_hash_sha256_BYTES, '\0');
  crypto_hash_sha256(reinterpret_cast<unsigned char*>(out.data()),
                     reinterpret_cast<const unsigned char*>(data.data()),
                     data.size());
  return out;
}

std::string random_bytes(size_t n) {
  std::string out(n, '\0');
  randombytes_buf(out.data(), out.size());
  return out;
}

std::string be32(uint32_t x) {
  std::string out;
  for (int shift = 24; shift >= 0; shift -= 8)
    out += static_cast<char>(x >> shift);
  return out;
}

std::string decode(const json& j, const char* what) {
  std::string raw;
  if (!j.is_string() || !from_base64url(j.get<std::string>(), raw))
    throw std::runtime_error(std::string{"not base64url: "} + what);
  return raw;
}

} // namespace

// -- keys -------------------------------------------------------------------------

struct soft_authenticator::credential {
  std::string id;
  std::string rp_id;
  std::string user_handle;
  soft_key kind = soft_key::es256;
  EVP_PKEY* ec = nullptr;
  std::array<unsigned char, crypto_sign_SECRETKEYBYTES> ed_secret{};
  std::array<unsigned char, crypto_sign_PUBLICKEYBYTES> ed_public{};

  explicit credential(soft_key k) : kind(k) {
    if (kind == soft_key::es256)
      ec = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    else
      crypto_sign_keypair(ed_public.data(), ed_secret.data());
    if (kind == soft_key::es256 && !ec)
      throw std::runtime_error("cannot make a P-256 key");
  }
  ~credential() {
    EVP_PKEY_free(ec);
    sodium_memzero(ed_secret.data(), ed_secret.size());
  }

  std::string cose_key() const {
    if (kind == soft_key::eddsa)
      return cbor_map({{cbor_int(1), cbor_int(1)},
                       {cbor_int(3), cbor_int(-8)},
                       {cbor_int(-1), cbor_int(6)},
                       {cbor_int(-2),
                        cbor_bytes(std::string(
                          reinterpret_cast<const char*>(ed_public.data()),
                          ed_public.size()))}});
    std::string point(65, '\0');
    size_t len = 0;
    EVP_PKEY_get_octet_string_param(
      ec, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
      reinterpret_cast<unsigned char*>(point.data()), point.size(), &len);
    if (len != 65)
      throw std::runtime_error("cannot read the P-256 public key");
    return cbor_map({{cbor_int(1), cbor_int(2)},
                     {cbor_int(3), cbor_int(-7)},
                     {cbor_int(-1), cbor_int(1)},
                     {cbor_int(-2), cbor_bytes(point.substr(1, 32))},
                     {cbor_int(-3), cbor_bytes(point.substr(33, 32))}});
  }

  int64_t alg() const {
    return kind == soft_key::es256 ? -7 : -8;
  }

  std::string sign(const std::string& data) const {
    if (kind == soft_key::eddsa) {
      std::string sig(crypto_sign_BYTES, '\0');
      crypto_sign_detached(reinterpret_cast<unsigned char*>(sig.data()),
                           nullptr,
                           reinterpret_cast<const unsigned char*>(data.data()),
                           data.size(), ed_secret.data());
      return sig;
    }
    auto* ctx = EVP_MD_CTX_new();
    size_t len = 0;
    std::string sig;
    if (ctx && EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, ec) == 1
        && EVP_DigestSign(ctx, nullptr, &len,
                          reinterpret_cast<const unsigned char*>(data.data()),
                          data.size())
             == 1) {
      sig.resize(len);
      if (EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()),
                         &len,
                         reinterpret_cast<const unsigned char*>(data.data()),
                         data.size())
          != 1)
        len = 0;
      sig.resize(len);
    }
    EVP_MD_CTX_free(ctx);
    if (sig.empty())
      throw std::runtime_error("cannot sign with the P-256 key");
    return sig;
  }
};

soft_authenticator::soft_authenticator(soft_key kind) : kind_(kind) {
}
soft_authenticator::~soft_authenticator() = default;
soft_authenticator::soft_authenticator(soft_authenticator&&) noexcept = default;
soft_authenticator&
soft_authenticator::operator=(soft_authenticator&&) noexcept = default;

std::vector<std::string> soft_authenticator::credential_ids() const {
  std::vector<std::string> out;
  for (auto& c : credentials_)
    out.push_back(c->id);
  return out;
}

// -- the ceremonies -------------------------------------------------------------------

std::string soft_authenticator::client_data_of(const char* type,
                                               const json& challenge) const {
  json client{{"type", knobs_.type.empty() ? type : knobs_.type},
              {"challenge", challenge},
              {"origin", knobs_.origin},
              {"crossOrigin", knobs_.cross_origin}};
  return client.dump();
}

uint8_t soft_authenticator::flags_of() const {
  uint8_t flags = 0;
  if (knobs_.user_present)
    flags |= 0x01; // UP
  if (knobs_.user_verified)
    flags |= 0x04; // UV
  return flags;
}

uint32_t soft_authenticator::next_count() {
  return knobs_.counting ? ++counter_ : 0;
}

json soft_authenticator::create(const json& options) {
  for (auto& excluded : options.value("excludeCredentials", json::array()))
    for (auto& c : credentials_)
      if (decode(excluded["id"], "excludeCredentials.id") == c->id)
        return nullptr;
  auto cred = std::make_unique<credential>(kind_);
  cred->id = random_bytes(16 + randombytes_uniform(17));
  cred->rp_id = options["rp"]["id"].get<std::string>();
  cred->user_handle = decode(options["user"]["id"], "user.id");

  auto client_data = client_data_of("webauthn.create", options["challenge"]);
  auto flags = static_cast<uint8_t>(flags_of() | 0x40); // AT: attested data
  auto count = next_count();
  auto id_len = std::string{static_cast<char>(cred->id.size() >> 8),
                            static_cast<char>(cred->id.size() & 0xff)};
  auto auth_data = sha256(knobs_.rp_id.empty() ? cred->rp_id : knobs_.rp_id)
                   + static_cast<char>(flags) + be32(count)
                   + std::string(16, '\0') + id_len + cred->id
                   + cred->cose_key();
  std::string statement = cbor_map({});
  if (knobs_.fmt == "packed") {
    auto sig = cred->sign(auth_data + sha256(client_data));
    if (knobs_.corrupt_signature)
      sig[sig.size() / 2] ^= 0x01;
    statement = cbor_map({{cbor_text("alg"), cbor_int(cred->alg())},
                          {cbor_text("sig"), cbor_bytes(sig)}});
  }
  auto object = cbor_map({{cbor_text("fmt"), cbor_text(knobs_.fmt)},
                          {cbor_text("attStmt"), statement},
                          {cbor_text("authData"), cbor_bytes(auth_data)}});
  auto id = base64url(cred->id);
  credentials_.push_back(std::move(cred));
  return {{"id", id},
          {"rawId", id},
          {"type", "public-key"},
          {"response",
           {{"clientDataJSON", base64url(client_data)},
            {"attestationObject", base64url(object)},
            {"transports", {"internal"}}}},
          {"authenticatorAttachment", "platform"},
          {"clientExtensionResults", json::object()}};
}

json soft_authenticator::get(const json& options) {
  auto rp_id = options["rpId"].get<std::string>();
  const credential* chosen = nullptr;
  auto allowed = options.value("allowCredentials", json::array());
  for (auto& a : allowed)
    for (auto& c : credentials_)
      if (!chosen && c->rp_id == rp_id
          && decode(a["id"], "allowCredentials.id") == c->id)
        chosen = c.get();
  if (allowed.empty())
    for (auto& c : credentials_)
      if (c->rp_id == rp_id)
        chosen = c.get(); // the newest
  if (!chosen)
    return nullptr;
  auto client_data = client_data_of("webauthn.get", options["challenge"]);
  auto flags = flags_of();
  auto count = next_count();
  auto auth_data = sha256(knobs_.rp_id.empty() ? rp_id : knobs_.rp_id)
                   + static_cast<char>(flags) + be32(count);
  auto sig = chosen->sign(auth_data + sha256(client_data));
  if (knobs_.corrupt_signature)
    sig[sig.size() / 2] ^= 0x01;
  auto id = base64url(chosen->id);
  return {{"id", id},
          {"rawId", id},
          {"type", "public-key"},
          {"response",
           {{"clientDataJSON", base64url(client_data)},
            {"authenticatorData", base64url(auth_data)},
            {"signature", base64url(sig)},
            {"userHandle", base64url(chosen->user_handle)}}},
          {"authenticatorAttachment", "platform"},
          {"clientExtensionResults", json::object()}};
}

// -- for unit tests of the core -------------------------------------------------------

webauthn_registration registration_of(const json& r) {
  auto& response = r.at("response");
  return {decode(r.at("rawId"), "rawId"),
          decode(response.at("clientDataJSON"), "clientDataJSON"),
          decode(response.at("attestationObject"), "attestationObject")};
}

webauthn_assertion assertion_of(const json& r) {
  auto& response = r.at("response");
  webauthn_assertion out{
    decode(r.at("rawId"), "rawId"),
    decode(response.at("clientDataJSON"), "clientDataJSON"),
    decode(response.at("authenticatorData"), "authenticatorData"),
    decode(response.at("signature"), "signature"),
    {}};
  if (response.contains("userHandle") && !response["userHandle"].is_null())
    out.user_handle = decode(response["userHandle"], "userHandle");
  return out;
}

json creation_options(const std::string& rp_id, const std::string& challenge,
                      const std::string& user_handle) {
  return {{"rp", {{"id", rp_id}, {"name", rp_id}}},
          {"user",
           {{"id", base64url(user_handle)},
            {"name", "user@example.com"},
            {"displayName", "user@example.com"}}},
          {"challenge", base64url(challenge)},
          {"pubKeyCredParams",
           {{{"type", "public-key"}, {"alg", -7}},
            {{"type", "public-key"}, {"alg", -8}},
            {{"type", "public-key"}, {"alg", -257}}}},
          {"timeout", 300000},
          {"excludeCredentials", json::array()},
          {"attestation", "none"}};
}

json request_options(const std::string& rp_id, const std::string& challenge,
                     const std::vector<std::string>& allow_ids) {
  auto allow = json::array();
  for (auto& id : allow_ids)
    allow.push_back({{"type", "public-key"}, {"id", base64url(id)}});
  return {{"challenge", base64url(challenge)},
          {"rpId", rp_id},
          {"allowCredentials", allow},
          {"userVerification", "preferred"},
          {"timeout", 300000}};
}

} // namespace authnode::test
