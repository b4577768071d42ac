// WebAuthn (passkeys): the checks a relying party makes on a registration
// and on an assertion (W3C WebAuthn Level 2, §7.1 and §7.2), and nothing
// else. No CAF, no storage: the hashers call these, the flows decide.
//
// Who does what (issue 15): libcbor splits the attestation object and
// decodes the COSE public key; libfido2 checks signatures (fido_assert_verify
// with an es256/eddsa/rs256 key) and "packed" self attestation
// (fido_cred_verify_self); nlohmann parses clientDataJSON; libsodium does
// SHA-256. There is no hand-written signature code here.
//
// Attestation: "none" and "packed" self attestation (no x5c) are accepted,
// which is what passkeys send (browsers ask for attestation "none" by
// default, and we ask for "none"). Any other format, or packed with a
// certificate chain, is refused as unsupported_attestation: the node does
// not keep a metadata service to judge vendors' certificates by, so it
// would learn nothing from checking them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace authnode {

/// COSE algorithm identifiers (RFC 9053) we offer in pubKeyCredParams.
enum class cose_alg : int32_t { es256 = -7, eddsa = -8, rs256 = -257 };

/// --webauthn-user-verification.
enum class webauthn_uv { preferred, required };

struct webauthn_policy {
  std::string rp_id;                ///< e.g. "example.com"
  std::vector<std::string> origins; ///< accepted clientData.origin values
  webauthn_uv user_verification = webauthn_uv::preferred;
};

/// Why a response was refused; `none` when it was not. Stable names (for
/// logs, audit and tests) from webauthn_refusal_name.
enum class webauthn_refusal : uint8_t {
  none,
  malformed,              ///< not base64url / not CBOR / not JSON / truncated
  wrong_type,             ///< clientData.type is not webauthn.create/.get
  wrong_challenge,        ///< clientData.challenge is not the one issued
  wrong_origin,           ///< clientData.origin not in the policy's origins
  cross_origin,           ///< clientData.crossOrigin is true
  wrong_rp,               ///< rpIdHash is not SHA-256(rp_id)
  no_user_presence,       ///< UP flag clear
  no_user_verification,   ///< UV flag clear and the policy requires it
  unsupported_algorithm,  ///< a COSE key of another algorithm or curve
  unsupported_attestation,///< a format other than none / packed self
  bad_attestation,        ///< packed self attestation does not verify
  wrong_credential,       ///< assertion's id is not the stored credential
  bad_signature,          ///< assertion signature does not verify
  counter_regressed,      ///< signCount did not increase
};

const char* webauthn_refusal_name(webauthn_refusal r);

/// A RegistrationResponseJSON's parts, decoded from base64url (raw bytes).
struct webauthn_registration {
  std::string credential_id;      ///< rawId
  std::string client_data_json;   ///< response.clientDataJSON
  std::string attestation_object; ///< response.attestationObject
};

/// What a verified registration yields, and what is stored for a passkey.
struct webauthn_credential {
  std::string credential_id; ///< raw bytes (from authenticator data)
  std::string cose_key;      ///< the COSE_Key CBOR, as the authenticator sent it
  cose_alg alg = cose_alg::es256;
  uint32_t sign_count = 0;
  bool user_verified = false;
};

/// An AuthenticationResponseJSON's parts, decoded from base64url.
struct webauthn_assertion {
  std::string credential_id;      ///< rawId
  std::string client_data_json;   ///< response.clientDataJSON
  std::string authenticator_data; ///< response.authenticatorData
  std::string signature;          ///< response.signature
  std::string user_handle;        ///< response.userHandle (may be empty)
};

/// What a verified assertion yields.
struct webauthn_proof {
  uint32_t sign_count = 0;
  bool user_verified = false;
};

template <class T>
struct webauthn_checked {
  webauthn_refusal refusal = webauthn_refusal::malformed;
  T value{};
  bool ok() const { return refusal == webauthn_refusal::none; }
};

/// The challenge (raw bytes) a clientDataJSON names, to find which issued
/// challenge it answers; empty if it names none (or is not JSON).
std::string webauthn_client_challenge(std::string_view client_data_json);

/// §7.1: the registration answers `challenge` (raw bytes), for `policy`.
webauthn_checked<webauthn_credential>
verify_registration(const webauthn_registration& reg,
                    std::string_view challenge, const webauthn_policy& policy);

/// §7.2: the assertion answers `challenge`, is signed by `stored`'s key, and
/// its counter moved on from `stored.sign_count` (both 0: accepted, for
/// authenticators that keep no counter; otherwise it must grow).
webauthn_checked<webauthn_proof>
verify_assertion(const webauthn_assertion& assertion,
                 std::string_view challenge,
                 const webauthn_credential& stored,
                 const webauthn_policy& policy);

} // namespace authnode
