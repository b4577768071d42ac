// The relying party's checks, in the order WebAuthn L2 §7.1 and §7.2 list
// them. Every input here is untrusted and may be of any length: each read
// is bounded, no function throws, and libcbor / libfido2 objects are owned
// by unique_ptrs that free them.
#include "core/webauthn.hpp"

#include <array>
#include <cstring>
#include <memory>
#include <optional>

#include <cbor.h>
#include <fido.h>
#include <fido/eddsa.h>
#include <fido/es256.h>
#include <fido/rs256.h>
#include <nlohmann/json.hpp>
#include <sodium.h>

#include "core/cbor_bounds.hpp"
#include "core/secrets.hpp"

namespace authnode {

const char* webauthn_refusal_name(webauthn_refusal r) {
  switch (r) {
    case webauthn_refusal::none:
      return "none";
    case webauthn_refusal::malformed:
      return "malformed";
    case webauthn_refusal::wrong_type:
      return "wrong_type";
    case webauthn_refusal::wrong_challenge:
      return "wrong_challenge";
    case webauthn_refusal::wrong_origin:
      return "wrong_origin";
    case webauthn_refusal::cross_origin:
      return "cross_origin";
    case webauthn_refusal::wrong_rp:
      return "wrong_rp";
    case webauthn_refusal::no_user_presence:
      return "no_user_presence";
    case webauthn_refusal::no_user_verification:
      return "no_user_verification";
    case webauthn_refusal::unsupported_algorithm:
      return "unsupported_algorithm";
    case webauthn_refusal::unsupported_attestation:
      return "unsupported_attestation";
    case webauthn_refusal::bad_attestation:
      return "bad_attestation";
    case webauthn_refusal::wrong_credential:
      return "wrong_credential";
    case webauthn_refusal::bad_signature:
      return "bad_signature";
    case webauthn_refusal::counter_regressed:
      return "counter_regressed";
  }
  return "malformed";
}

namespace {

using json = nlohmann::json;
using refusal = webauthn_refusal;

constexpr uint8_t flag_up = 0x01;
constexpr uint8_t flag_uv = 0x04;
constexpr uint8_t flag_at = 0x40;
constexpr uint8_t flag_ed = 0x80;
/// rpIdHash (32), flags (1), signCount (4).
constexpr size_t auth_data_head = 37;
/// aaguid (16), credential id length (2).
constexpr size_t attested_head = 18;

// -- owners of library objects --------------------------------------------------

struct cbor_free {
  void operator()(cbor_item_t* x) const { cbor_decref(&x); }
};
using cbor_ptr = std::unique_ptr<cbor_item_t, cbor_free>;

struct assert_free {
  void operator()(fido_assert_t* x) const { fido_assert_free(&x); }
};
struct cred_free {
  void operator()(fido_cred_t* x) const { fido_cred_free(&x); }
};
struct es256_free {
  void operator()(es256_pk_t* x) const { es256_pk_free(&x); }
};
struct eddsa_free {
  void operator()(eddsa_pk_t* x) const { eddsa_pk_free(&x); }
};
struct rs256_free {
  void operator()(rs256_pk_t* x) const { rs256_pk_free(&x); }
};

// -- bytes ------------------------------------------------------------------------

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

std::string sha256(std::string_view data) {
  std::string out(crypto_hash_sha256_BYTES, '\0');
  crypto_hash_sha256(reinterpret_cast<unsigned char*>(out.data()), bytes(data),
                     data.size());
  return out;
}

/// One CBOR item from the start of `data`; `read` says how many bytes it
/// took. Null for anything that is not one well-formed item, or that would
/// make libcbor allocate more than the input is worth (core/cbor_bounds).
cbor_ptr load_cbor(std::string_view data, size_t* read = nullptr) {
  size_t bounded = 0;
  if (!cbor_item_bounded(data, bounded))
    return nullptr;
  cbor_load_result result;
  cbor_ptr item{cbor_load(bytes(data), data.size(), &result)};
  if (!item || result.error.code != CBOR_ERR_NONE)
    return nullptr;
  if (read)
    *read = result.read;
  return item;
}

/// The value under `key` (a text key, or an integer key) of a definite
/// map; null if there is none.
cbor_item_t* map_get(cbor_item_t* map, std::string_view text_key) {
  if (!map || !cbor_isa_map(map) || !cbor_map_is_definite(map))
    return nullptr;
  auto* pairs = cbor_map_handle(map);
  for (size_t i = 0; i < cbor_map_size(map); ++i) {
    auto* k = pairs[i].key;
    if (cbor_isa_string(k) && cbor_string_is_definite(k)
        && std::string_view{reinterpret_cast<const char*>(
                              cbor_string_handle(k)),
                            cbor_string_length(k)}
             == text_key)
      return pairs[i].value;
  }
  return nullptr;
}

std::optional<int64_t> as_int(const cbor_item_t* x) {
  if (!x)
    return std::nullopt;
  if (cbor_isa_uint(x)) {
    auto v = cbor_get_int(x);
    if (v > static_cast<uint64_t>(INT64_MAX))
      return std::nullopt;
    return static_cast<int64_t>(v);
  }
  if (cbor_isa_negint(x)) {
    auto v = cbor_get_int(x);
    if (v > static_cast<uint64_t>(INT64_MAX))
      return std::nullopt;
    return -1 - static_cast<int64_t>(v);
  }
  return std::nullopt;
}

cbor_item_t* map_get(cbor_item_t* map, int64_t int_key) {
  if (!map || !cbor_isa_map(map) || !cbor_map_is_definite(map))
    return nullptr;
  auto* pairs = cbor_map_handle(map);
  for (size_t i = 0; i < cbor_map_size(map); ++i)
    if (as_int(pairs[i].key) == int_key)
      return pairs[i].value;
  return nullptr;
}

std::optional<std::string> as_bytes(cbor_item_t* x) {
  if (!x || !cbor_isa_bytestring(x) || !cbor_bytestring_is_definite(x))
    return std::nullopt;
  return std::string{reinterpret_cast<const char*>(cbor_bytestring_handle(x)),
                     cbor_bytestring_length(x)};
}

std::optional<std::string> as_text(cbor_item_t* x) {
  if (!x || !cbor_isa_string(x) || !cbor_string_is_definite(x))
    return std::nullopt;
  return std::string{reinterpret_cast<const char*>(cbor_string_handle(x)),
                     cbor_string_length(x)};
}

// -- clientDataJSON -------------------------------------------------------------

/// §7.1 steps 7-10 / §7.2 steps 11-14.
refusal check_client_data(std::string_view client_data, const char* type,
                          std::string_view challenge,
                          const webauthn_policy& policy) {
  auto doc = json::parse(client_data, nullptr, false);
  if (doc.is_discarded() || !doc.is_object())
    return refusal::malformed;
  auto t = doc.find("type");
  auto c = doc.find("challenge");
  auto o = doc.find("origin");
  if (t == doc.end() || !t->is_string() || c == doc.end() || !c->is_string()
      || o == doc.end() || !o->is_string())
    return refusal::malformed;
  if (*t != type)
    return refusal::wrong_type;
  std::string named;
  if (!from_base64url(c->get_ref<const std::string&>(), named)
      || !equal_in_constant_time(named, challenge))
    return refusal::wrong_challenge;
  auto& origin = o->get_ref<const std::string&>();
  bool allowed = false;
  for (auto& x : policy.origins)
    allowed = allowed || x == origin;
  if (!allowed)
    return refusal::wrong_origin;
  auto cross = doc.find("crossOrigin");
  if (cross != doc.end() && cross->is_boolean() && cross->get<bool>())
    return refusal::cross_origin;
  return refusal::none;
}

// -- authenticator data -----------------------------------------------------------

struct auth_data_view {
  uint8_t flags = 0;
  uint32_t sign_count = 0;
};

/// §6.1: after the head, attested credential data if AT is set, then
/// extensions if ED is set, and nothing else; both CBOR parts bounded
/// before libfido2, which parses them with libcbor, is given the bytes.
bool well_laid_out(std::string_view data) {
  auto flags = static_cast<uint8_t>(data[32]);
  size_t pos = auth_data_head;
  size_t read = 0;
  if (flags & flag_at) {
    if (data.size() < pos + attested_head)
      return false;
    pos += attested_head + ((size_t{static_cast<uint8_t>(data[pos + 16])} << 8)
                            | size_t{static_cast<uint8_t>(data[pos + 17])});
    if (pos > data.size() || !cbor_item_bounded(data.substr(pos), read))
      return false;
    pos += read;
  }
  if (flags & flag_ed) {
    if (pos >= data.size() || !cbor_item_bounded(data.substr(pos), read))
      return false;
    pos += read;
  }
  return pos == data.size();
}

/// §7.1 steps 13-15 / §7.2 steps 15-17: the rp id hash and the flags.
refusal check_auth_data(std::string_view data, const webauthn_policy& policy,
                        auth_data_view& out) {
  if (data.size() < auth_data_head || !well_laid_out(data))
    return refusal::malformed;
  if (!equal_in_constant_time(data.substr(0, 32), sha256(policy.rp_id)))
    return refusal::wrong_rp;
  out.flags = static_cast<uint8_t>(data[32]);
  out.sign_count = (uint32_t{static_cast<uint8_t>(data[33])} << 24)
                   | (uint32_t{static_cast<uint8_t>(data[34])} << 16)
                   | (uint32_t{static_cast<uint8_t>(data[35])} << 8)
                   | uint32_t{static_cast<uint8_t>(data[36])};
  if (!(out.flags & flag_up))
    return refusal::no_user_presence;
  if (policy.user_verification == webauthn_uv::required
      && !(out.flags & flag_uv))
    return refusal::no_user_verification;
  return refusal::none;
}

// -- COSE keys and libfido2's -----------------------------------------------------

/// A public key in the form fido_assert_verify takes, with its COSE type.
struct fido_key {
  int type = 0;
  std::unique_ptr<es256_pk_t, es256_free> es256;
  std::unique_ptr<eddsa_pk_t, eddsa_free> eddsa;
  std::unique_ptr<rs256_pk_t, rs256_free> rs256;

  const void* get() const {
    if (es256)
      return es256.get();
    if (eddsa)
      return eddsa.get();
    return rs256.get();
  }
};

/// The COSE_Key's algorithm, if it is one we take (RFC 9053: EC2 P-256
/// with ES256, OKP Ed25519 with EdDSA, RSA with RS256).
std::optional<cose_alg> cose_alg_of(cbor_item_t* key) {
  auto kty = as_int(map_get(key, 1));
  auto alg = as_int(map_get(key, 3));
  if (!kty || !alg)
    return std::nullopt;
  auto crv = as_int(map_get(key, -1));
  if (*kty == 2 && *alg == -7 && crv == 1)
    return cose_alg::es256;
  if (*kty == 1 && *alg == -8 && crv == 6)
    return cose_alg::eddsa;
  if (*kty == 3 && *alg == -257)
    return cose_alg::rs256;
  return std::nullopt;
}

std::optional<fido_key> fido_key_of(std::string_view cose) {
  auto key = load_cbor(cose);
  auto alg = key ? cose_alg_of(key.get()) : std::nullopt;
  if (!alg)
    return std::nullopt;
  fido_key out;
  if (*alg == cose_alg::es256) {
    auto x = as_bytes(map_get(key.get(), -2));
    auto y = as_bytes(map_get(key.get(), -3));
    if (!x || !y || x->size() != 32 || y->size() != 32)
      return std::nullopt;
    auto point = "\x04" + *x + *y;
    out.type = COSE_ES256;
    out.es256.reset(es256_pk_new());
    if (!out.es256
        || es256_pk_from_ptr(out.es256.get(), point.data(), point.size())
             != FIDO_OK)
      return std::nullopt;
  } else if (*alg == cose_alg::eddsa) {
    auto x = as_bytes(map_get(key.get(), -2));
    if (!x || x->size() != 32)
      return std::nullopt;
    out.type = COSE_EDDSA;
    out.eddsa.reset(eddsa_pk_new());
    if (!out.eddsa
        || eddsa_pk_from_ptr(out.eddsa.get(), x->data(), x->size()) != FIDO_OK)
      return std::nullopt;
  } else {
    // libfido2's rs256_pk_t is RSA-2048: a 256-byte modulus, a 3-byte
    // exponent.
    auto n = as_bytes(map_get(key.get(), -1));
    auto e = as_bytes(map_get(key.get(), -2));
    if (!n || !e || n->size() != 256 || e->empty() || e->size() > 3)
      return std::nullopt;
    auto raw = *n + std::string(3 - e->size(), '\0') + *e;
    out.type = COSE_RS256;
    out.rs256.reset(rs256_pk_new());
    if (!out.rs256
        || rs256_pk_from_ptr(out.rs256.get(), raw.data(), raw.size())
             != FIDO_OK)
      return std::nullopt;
  }
  return out;
}

int fido_type_of(cose_alg alg) {
  switch (alg) {
    case cose_alg::es256:
      return COSE_ES256;
    case cose_alg::eddsa:
      return COSE_EDDSA;
    case cose_alg::rs256:
      return COSE_RS256;
  }
  return 0;
}

// -- registration -------------------------------------------------------------------

/// The attested credential data after the authenticator data's head: the
/// credential id and the COSE key, as many bytes as the key's CBOR item
/// takes (extensions may follow it).
refusal read_attested(std::string_view auth_data, webauthn_credential& out) {
  auto rest = auth_data.substr(auth_data_head);
  if (rest.size() < attested_head)
    return refusal::malformed;
  size_t id_len = (size_t{static_cast<uint8_t>(rest[16])} << 8)
                  | size_t{static_cast<uint8_t>(rest[17])};
  if (id_len == 0 || id_len > 1023 || rest.size() < attested_head + id_len)
    return refusal::malformed;
  out.credential_id = std::string{rest.substr(attested_head, id_len)};
  auto key_bytes = rest.substr(attested_head + id_len);
  size_t read = 0;
  auto key = load_cbor(key_bytes, &read);
  if (!key || read == 0 || read > key_bytes.size())
    return refusal::malformed;
  auto alg = cose_alg_of(key.get());
  if (!alg)
    return refusal::unsupported_algorithm;
  out.cose_key = std::string{key_bytes.substr(0, read)};
  out.alg = *alg;
  if (!fido_key_of(out.cose_key))
    return refusal::unsupported_algorithm;
  return refusal::none;
}

/// "packed" self attestation: signed with the new credential's own key,
/// checked by libfido2 from the raw authenticator data.
refusal check_packed_self(cbor_item_t* statement, std::string_view auth_data,
                          std::string_view client_data_hash,
                          const webauthn_credential& cred,
                          const webauthn_policy& policy) {
  if (map_get(statement, "x5c"))
    return refusal::unsupported_attestation;
  auto alg = as_int(map_get(statement, "alg"));
  auto sig = as_bytes(map_get(statement, "sig"));
  if (!alg || !sig)
    return refusal::malformed;
  if (*alg != static_cast<int64_t>(cred.alg))
    return refusal::bad_attestation;
  std::unique_ptr<fido_cred_t, cred_free> c{fido_cred_new()};
  if (!c || fido_cred_set_type(c.get(), fido_type_of(cred.alg)) != FIDO_OK
      || fido_cred_set_clientdata_hash(c.get(), bytes(client_data_hash),
                                       client_data_hash.size())
           != FIDO_OK
      || fido_cred_set_rp(c.get(), policy.rp_id.c_str(), nullptr) != FIDO_OK
      || fido_cred_set_authdata_raw(c.get(), bytes(auth_data), auth_data.size())
           != FIDO_OK
      || fido_cred_set_fmt(c.get(), "packed") != FIDO_OK
      || fido_cred_set_sig(c.get(), bytes(*sig), sig->size()) != FIDO_OK)
    return refusal::bad_attestation;
  return fido_cred_verify_self(c.get()) == FIDO_OK ? refusal::none
                                                   : refusal::bad_attestation;
}

/// §7.1 step 18-21: the statement's format and, for packed, its signature.
refusal check_attestation(cbor_item_t* object, std::string_view auth_data,
                          std::string_view client_data,
                          const webauthn_credential& cred,
                          const webauthn_policy& policy) {
  auto fmt = as_text(map_get(object, "fmt"));
  auto* statement = map_get(object, "attStmt");
  if (!fmt || !statement || !cbor_isa_map(statement))
    return refusal::malformed;
  if (*fmt == "none")
    return refusal::none;
  if (*fmt == "packed")
    return check_packed_self(statement, auth_data, sha256(client_data), cred,
                             policy);
  return refusal::unsupported_attestation;
}

} // namespace

std::string webauthn_client_challenge(std::string_view client_data_json) {
  auto doc = json::parse(client_data_json, nullptr, false);
  if (doc.is_discarded() || !doc.is_object())
    return {};
  auto c = doc.find("challenge");
  std::string raw;
  if (c == doc.end() || !c->is_string()
      || !from_base64url(c->get_ref<const std::string&>(), raw))
    return {};
  return raw;
}

webauthn_checked<webauthn_credential>
verify_registration(const webauthn_registration& reg,
                    std::string_view challenge, const webauthn_policy& policy) {
  webauthn_checked<webauthn_credential> out;
  auto& cred = out.value;
  auto object = load_cbor(reg.attestation_object);
  auto auth_data = object ? as_bytes(map_get(object.get(), "authData"))
                          : std::nullopt;
  if (!auth_data) {
    out.refusal = refusal::malformed;
    return out;
  }
  out.refusal = check_client_data(reg.client_data_json, "webauthn.create",
                                  challenge, policy);
  if (out.refusal != refusal::none)
    return out;
  auth_data_view view;
  out.refusal = check_auth_data(*auth_data, policy, view);
  if (out.refusal != refusal::none)
    return out;
  if (!(view.flags & flag_at)) {
    out.refusal = refusal::malformed;
    return out;
  }
  out.refusal = read_attested(*auth_data, cred);
  if (out.refusal == refusal::none && cred.credential_id != reg.credential_id)
    out.refusal = refusal::malformed;
  if (out.refusal != refusal::none)
    return out;
  out.refusal = check_attestation(object.get(), *auth_data,
                                  reg.client_data_json, cred, policy);
  cred.sign_count = view.sign_count;
  cred.user_verified = (view.flags & flag_uv) != 0;
  return out;
}

webauthn_checked<webauthn_proof>
verify_assertion(const webauthn_assertion& assertion,
                 std::string_view challenge, const webauthn_credential& stored,
                 const webauthn_policy& policy) {
  webauthn_checked<webauthn_proof> out;
  if (assertion.credential_id != stored.credential_id) {
    out.refusal = refusal::wrong_credential;
    return out;
  }
  out.refusal = check_client_data(assertion.client_data_json, "webauthn.get",
                                  challenge, policy);
  if (out.refusal != refusal::none)
    return out;
  auth_data_view view;
  out.refusal = check_auth_data(assertion.authenticator_data, policy, view);
  if (out.refusal != refusal::none)
    return out;
  auto key = fido_key_of(stored.cose_key);
  if (!key) {
    out.refusal = refusal::unsupported_algorithm;
    return out;
  }
  auto hash = sha256(assertion.client_data_json);
  auto& data = assertion.authenticator_data;
  auto& sig = assertion.signature;
  std::unique_ptr<fido_assert_t, assert_free> a{fido_assert_new()};
  bool verified
    = a && !sig.empty() && fido_assert_set_count(a.get(), 1) == FIDO_OK
      && fido_assert_set_clientdata_hash(a.get(), bytes(hash), hash.size())
           == FIDO_OK
      && fido_assert_set_rp(a.get(), policy.rp_id.c_str()) == FIDO_OK
      && fido_assert_set_authdata_raw(a.get(), 0, bytes(data), data.size())
           == FIDO_OK
      && fido_assert_set_sig(a.get(), 0, bytes(sig), sig.size()) == FIDO_OK
      && fido_assert_verify(a.get(), 0, key->type, key->get()) == FIDO_OK;
  if (!verified) {
    out.refusal = refusal::bad_signature;
    return out;
  }
  // §7.2 step 21: authenticators without a counter send 0 every time.
  bool counterless = view.sign_count == 0 && stored.sign_count == 0;
  if (!counterless && view.sign_count <= stored.sign_count) {
    out.refusal = refusal::counter_regressed;
    return out;
  }
  out.value.sign_count = view.sign_count;
  out.value.user_verified = (view.flags & flag_uv) != 0;
  return out;
}

} // namespace authnode
