// A software WebAuthn authenticator and client, for the tests: it takes the
// options authnode sends (PublicKeyCredentialCreationOptionsJSON /
// PublicKeyCredentialRequestOptionsJSON) and answers with what a browser
// would hand back (RegistrationResponseJSON / AuthenticationResponseJSON),
// binary fields in base64url without padding.
//
// It writes its own CBOR (attestation object, authenticator data, COSE key)
// and its own signatures, independently of the code under test: ES256 with
// OpenSSL's EVP (DER signatures, as WebAuthn has them), EdDSA with
// libsodium's crypto_sign. Its knobs make each thing a relying party must
// refuse: another type, origin or rp id, cross origin, no user presence or
// verification, a counter that goes back, an unsupported attestation
// format, a broken signature.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/webauthn.hpp"

namespace authnode::test {

struct authenticator_knobs {
  /// clientData.origin.
  std::string origin = "https://example.com";
  /// clientData.type; empty: the right one (webauthn.create / webauthn.get).
  std::string type;
  /// The rp id hashed into authenticator data; empty: the options' rp id.
  std::string rp_id;
  bool cross_origin = false;
  bool user_present = true;
  bool user_verified = true;
  /// Attestation format of create(): "none", "packed" (self attestation,
  /// signed with the new credential's key) or anything else (sent as given,
  /// with an empty attStmt, to be refused).
  std::string fmt = "none";
  /// Flip a bit of the next signatures (assertion, or packed attestation).
  bool corrupt_signature = false;
  /// Whether the counter grows by one per signature; false: always 0.
  bool counting = true;
};

enum class soft_key { es256, eddsa };

class soft_authenticator {
public:
  explicit soft_authenticator(soft_key kind = soft_key::es256);
  ~soft_authenticator();
  soft_authenticator(soft_authenticator&&) noexcept;
  soft_authenticator& operator=(soft_authenticator&&) noexcept;

  authenticator_knobs& knobs() { return knobs_; }

  /// navigator.credentials.create(): a new resident credential for the
  /// options' rp and user; null when one of excludeCredentials is ours.
  nlohmann::json create(const nlohmann::json& creation_options);

  /// navigator.credentials.get(): signs with the first of allowCredentials
  /// that is ours or, when the list is empty, with our newest resident
  /// credential for the options' rpId; null when there is none.
  nlohmann::json get(const nlohmann::json& request_options);

  /// The counter of our credentials (shared, as many authenticators keep
  /// one global counter); setting it lower makes a clone.
  uint32_t counter() const { return counter_; }
  void set_counter(uint32_t value) { counter_ = value; }

  /// Raw ids of the credentials made so far, oldest first.
  std::vector<std::string> credential_ids() const;

private:
  struct credential;
  /// clientDataJSON of a ceremony of `type`, as the knobs make it.
  std::string client_data_of(const char* type,
                             const nlohmann::json& challenge) const;
  /// The UP and UV flags of authenticator data, as the knobs make them.
  uint8_t flags_of() const;
  /// The counter of the next signature (0 when not counting).
  uint32_t next_count();
  soft_key kind_;
  authenticator_knobs knobs_;
  uint32_t counter_ = 0;
  std::vector<std::unique_ptr<credential>> credentials_;
};

/// The parts of a RegistrationResponseJSON / AuthenticationResponseJSON,
/// decoded (throws std::runtime_error if a field is missing or not
/// base64url): what the codec hands the core, for unit tests of the core.
webauthn_registration registration_of(const nlohmann::json& response);
webauthn_assertion assertion_of(const nlohmann::json& response);

/// Creation / request options as authnode would send them, for unit tests
/// that have no node: `challenge` raw.
nlohmann::json creation_options(const std::string& rp_id,
                                const std::string& challenge,
                                const std::string& user_handle);
nlohmann::json request_options(const std::string& rp_id,
                               const std::string& challenge,
                               const std::vector<std::string>& allow_ids = {});

} // namespace authnode::test
