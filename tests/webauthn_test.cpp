// core/webauthn against crafted vectors: a software authenticator
// (tests/support/soft_authenticator) makes ES256 and EdDSA credentials with
// keys made in the test, and each knob makes one thing a relying party must
// refuse. The challenge store (single use, five minutes) is tested in
// passkey_store_test; here a "replayed" or "expired" challenge is one that
// is not the challenge the caller passes in.
#include <catch2/catch.hpp>

#include <string>

#include <sodium.h>

#include "core/secrets.hpp"
#include "core/webauthn.hpp"
#include "support/soft_authenticator.hpp"

using namespace authnode;
using authnode::test::assertion_of;
using authnode::test::creation_options;
using authnode::test::registration_of;
using authnode::test::request_options;
using authnode::test::soft_authenticator;
using authnode::test::soft_key;

namespace {

const std::string rp = "example.com";

webauthn_policy policy(webauthn_uv uv = webauthn_uv::preferred) {
  return {rp, {"https://example.com", "https://login.example.com"}, uv};
}

std::string fresh_challenge() {
  std::string c(32, '\0');
  randombytes_buf(c.data(), c.size());
  return c;
}

const char* name(webauthn_refusal r) {
  return webauthn_refusal_name(r);
}

// A registration made by `a` for a fresh challenge, checked by `p`.
webauthn_checked<webauthn_credential>
register_with(soft_authenticator& a, const webauthn_policy& p = policy()) {
  auto challenge = fresh_challenge();
  auto response = a.create(creation_options(rp, challenge, "handle-1"));
  REQUIRE(response.is_object());
  return verify_registration(registration_of(response), challenge, p);
}

// A credential `a` registered with the default policy.
webauthn_credential registered(soft_authenticator& a) {
  auto checked = register_with(a);
  REQUIRE(name(checked.refusal) == std::string{"none"});
  return checked.value;
}

// An assertion made by `a` for a fresh challenge, checked against `stored`.
webauthn_checked<webauthn_proof>
sign_in_with(soft_authenticator& a, const webauthn_credential& stored,
             const webauthn_policy& p = policy()) {
  auto challenge = fresh_challenge();
  auto response = a.get(request_options(rp, challenge));
  REQUIRE(response.is_object());
  return verify_assertion(assertion_of(response), challenge, stored, p);
}

} // namespace

TEST_CASE("an ES256 or EdDSA passkey registers and then signs in, its "
          "counter moving on",
          "[webauthn]") {
  auto kind = GENERATE(soft_key::es256, soft_key::eddsa);
  soft_authenticator a{kind};
  auto cred = registered(a);
  CHECK(cred.credential_id == a.credential_ids().at(0));
  CHECK(cred.alg == (kind == soft_key::es256 ? cose_alg::es256
                                             : cose_alg::eddsa));
  CHECK(cred.sign_count == 1);
  CHECK(cred.user_verified);
  CHECK_FALSE(cred.cose_key.empty());

  auto first = sign_in_with(a, cred);
  REQUIRE(name(first.refusal) == std::string{"none"});
  CHECK(first.value.sign_count == 2);
  CHECK(first.value.user_verified);

  cred.sign_count = first.value.sign_count;
  auto second = sign_in_with(a, cred);
  REQUIRE(second.ok());
  CHECK(second.value.sign_count == 3);
}

TEST_CASE("packed self attestation is checked, other formats are refused",
          "[webauthn]") {
  auto kind = GENERATE(soft_key::es256, soft_key::eddsa);
  soft_authenticator a{kind};
  a.knobs().fmt = "packed";
  CHECK(name(register_with(a).refusal) == std::string{"none"});

  a.knobs().corrupt_signature = true;
  CHECK(name(register_with(a).refusal) == std::string{"bad_attestation"});

  a.knobs().corrupt_signature = false;
  a.knobs().fmt = "fido-u2f";
  CHECK(name(register_with(a).refusal)
        == std::string{"unsupported_attestation"});
}

TEST_CASE("a registration is refused for each thing that is wrong in it",
          "[webauthn]") {
  soft_authenticator a;
  SECTION("the type of a sign-in") {
    a.knobs().type = "webauthn.get";
    CHECK(name(register_with(a).refusal) == std::string{"wrong_type"});
  }
  SECTION("an origin the node does not serve") {
    a.knobs().origin = "https://examp1e.com";
    CHECK(name(register_with(a).refusal) == std::string{"wrong_origin"});
  }
  SECTION("a page framed by another origin") {
    a.knobs().cross_origin = true;
    CHECK(name(register_with(a).refusal) == std::string{"cross_origin"});
  }
  SECTION("another rp id") {
    a.knobs().rp_id = "evil.example";
    CHECK(name(register_with(a).refusal) == std::string{"wrong_rp"});
  }
  SECTION("no user presence") {
    a.knobs().user_present = false;
    CHECK(name(register_with(a).refusal) == std::string{"no_user_presence"});
  }
  SECTION("no user verification, when it is required") {
    a.knobs().user_verified = false;
    CHECK(register_with(a).ok()); // preferred: accepted, and said so
    CHECK_FALSE(register_with(a).value.user_verified);
    CHECK(name(register_with(a, policy(webauthn_uv::required)).refusal)
          == std::string{"no_user_verification"});
  }
  SECTION("an answer to another challenge") {
    auto response = a.create(creation_options(rp, fresh_challenge(), "h"));
    auto checked = verify_registration(registration_of(response),
                                       fresh_challenge(), policy());
    CHECK(name(checked.refusal) == std::string{"wrong_challenge"});
  }
  SECTION("a raw id that is not the attested credential's") {
    auto challenge = fresh_challenge();
    auto reg = registration_of(a.create(creation_options(rp, challenge, "h")));
    reg.credential_id += "x";
    CHECK(name(verify_registration(reg, challenge, policy()).refusal)
          == std::string{"malformed"});
  }
}

TEST_CASE("an assertion is refused for each thing that is wrong in it",
          "[webauthn]") {
  auto kind = GENERATE(soft_key::es256, soft_key::eddsa);
  soft_authenticator a{kind};
  auto cred = registered(a);
  SECTION("the type of a registration") {
    a.knobs().type = "webauthn.create";
    CHECK(name(sign_in_with(a, cred).refusal) == std::string{"wrong_type"});
  }
  SECTION("an origin the node does not serve") {
    a.knobs().origin = "https://example.com.evil.example";
    CHECK(name(sign_in_with(a, cred).refusal) == std::string{"wrong_origin"});
  }
  SECTION("another rp id") {
    a.knobs().rp_id = "login.example.com";
    CHECK(name(sign_in_with(a, cred).refusal) == std::string{"wrong_rp"});
  }
  SECTION("a replayed assertion: its challenge is not the one issued now") {
    auto old_challenge = fresh_challenge();
    auto response = a.get(request_options(rp, old_challenge));
    REQUIRE(verify_assertion(assertion_of(response), old_challenge, cred,
                             policy())
              .ok());
    auto replay = verify_assertion(assertion_of(response), fresh_challenge(),
                                   cred, policy());
    CHECK(name(replay.refusal) == std::string{"wrong_challenge"});
  }
  SECTION("a bad signature") {
    a.knobs().corrupt_signature = true;
    CHECK(name(sign_in_with(a, cred).refusal) == std::string{"bad_signature"});
  }
  SECTION("authenticator data changed after signing") {
    a.knobs().user_verified = false;
    auto challenge = fresh_challenge();
    auto assertion = assertion_of(a.get(request_options(rp, challenge)));
    assertion.authenticator_data[32] |= 0x04; // claims UV it did not sign
    CHECK(name(verify_assertion(assertion, challenge, cred, policy()).refusal)
          == std::string{"bad_signature"});
  }
  SECTION("a counter that goes back: a possible clone") {
    cred.sign_count = 10;
    a.set_counter(4);
    CHECK(name(sign_in_with(a, cred).refusal)
          == std::string{"counter_regressed"});
    a.set_counter(9); // signs with 10: not more than stored
    CHECK(name(sign_in_with(a, cred).refusal)
          == std::string{"counter_regressed"});
    CHECK(sign_in_with(a, cred).ok()); // 11
  }
  SECTION("user verification missing when required") {
    a.knobs().user_verified = false;
    auto preferred = sign_in_with(a, cred);
    CHECK(preferred.ok());
    CHECK_FALSE(preferred.value.user_verified);
    CHECK(name(sign_in_with(a, cred, policy(webauthn_uv::required)).refusal)
          == std::string{"no_user_verification"});
  }
  SECTION("no user presence") {
    a.knobs().user_present = false;
    CHECK(name(sign_in_with(a, cred).refusal)
          == std::string{"no_user_presence"});
  }
  SECTION("an unknown credential: not the one stored") {
    soft_authenticator stranger{kind};
    registered(stranger);
    CHECK(name(sign_in_with(stranger, cred).refusal)
          == std::string{"wrong_credential"});
  }
  SECTION("the credential of another user: its id, another key") {
    soft_authenticator other{kind};
    auto others = registered(other);
    auto challenge = fresh_challenge();
    auto assertion = assertion_of(a.get(request_options(rp, challenge)));
    assertion.credential_id = others.credential_id;
    CHECK(name(verify_assertion(assertion, challenge, others, policy())
                 .refusal)
          == std::string{"bad_signature"});
  }
}

TEST_CASE("an authenticator that keeps no counter is accepted while it "
          "says 0",
          "[webauthn]") {
  soft_authenticator a;
  a.knobs().counting = false;
  auto cred = registered(a);
  REQUIRE(cred.sign_count == 0);
  for (int i = 0; i < 3; ++i) {
    auto proof = sign_in_with(a, cred);
    REQUIRE(proof.ok());
    CHECK(proof.value.sign_count == 0);
  }
  // Once a counter was seen, 0 is a counter that went back.
  cred.sign_count = 5;
  CHECK(name(sign_in_with(a, cred).refusal)
        == std::string{"counter_regressed"});
}

TEST_CASE("garbage in any field is refused as malformed, never a crash",
          "[webauthn]") {
  soft_authenticator a;
  auto challenge = fresh_challenge();
  auto good_reg = registration_of(a.create(creation_options(rp, challenge,
                                                            "h")));
  auto cred = verify_registration(good_reg, challenge, policy());
  REQUIRE(cred.ok());
  auto good_assert = assertion_of(a.get(request_options(rp, challenge)));

  // Truncations of every length and random bytes of every field.
  for (size_t n = 0; n < good_reg.attestation_object.size(); n += 7) {
    auto reg = good_reg;
    reg.attestation_object.resize(n);
    CHECK_FALSE(verify_registration(reg, challenge, policy()).ok());
  }
  for (size_t n = 0; n < good_assert.authenticator_data.size(); ++n) {
    auto as = good_assert;
    as.authenticator_data.resize(n);
    CHECK(name(verify_assertion(as, challenge, cred.value, policy()).refusal)
          == std::string{"malformed"});
  }
  for (int round = 0; round < 50; ++round) {
    std::string noise(1 + randombytes_uniform(200), '\0');
    randombytes_buf(noise.data(), noise.size());
    auto reg = good_reg;
    (round % 2 ? reg.attestation_object : reg.client_data_json) = noise;
    CHECK_FALSE(verify_registration(reg, challenge, policy()).ok());
    auto as = good_assert;
    (round % 3 == 0   ? as.client_data_json
     : round % 3 == 1 ? as.authenticator_data
                      : as.signature)
      = noise;
    CHECK_FALSE(verify_assertion(as, challenge, cred.value, policy()).ok());
  }
  // Five bytes whose head claims 2^31 elements (handed to libcbor as they
  // are, they cost 16 GiB and 40 s): refused before anything is built, in
  // the attestation object and in the extensions of authenticator data,
  // which libfido2 would parse.
  auto huge = std::string{"\x9a\x7f\xff\xff\xff", 5};
  auto reg = good_reg;
  reg.attestation_object = huge;
  CHECK(name(verify_registration(reg, challenge, policy()).refusal)
        == std::string{"malformed"});
  auto with_ext = good_assert;
  with_ext.authenticator_data[32] |= 0x80; // ED: extensions follow
  with_ext.authenticator_data += huge;
  CHECK(name(verify_assertion(with_ext, challenge, cred.value, policy())
               .refusal)
        == std::string{"malformed"});
  auto trailing = good_assert;
  trailing.authenticator_data += "x";
  CHECK(name(verify_assertion(trailing, challenge, cred.value, policy())
               .refusal)
        == std::string{"malformed"});

  auto no_sig = good_assert;
  no_sig.signature.clear();
  CHECK(name(verify_assertion(no_sig, challenge, cred.value, policy()).refusal)
        == std::string{"bad_signature"});
  auto bad_key = cred.value;
  bad_key.cose_key = "\xa0"; // an empty CBOR map
  CHECK(name(verify_assertion(good_assert, challenge, bad_key, policy())
               .refusal)
        == std::string{"unsupported_algorithm"});
  CHECK(name(verify_registration({}, challenge, policy()).refusal)
        == std::string{"malformed"});
}

TEST_CASE("the challenge a clientDataJSON answers is read out, or nothing",
          "[webauthn]") {
  soft_authenticator a;
  auto challenge = fresh_challenge();
  auto reg = registration_of(a.create(creation_options(rp, challenge, "h")));
  CHECK(webauthn_client_challenge(reg.client_data_json) == challenge);
  CHECK(webauthn_client_challenge("").empty());
  CHECK(webauthn_client_challenge("[1,2]").empty());
  CHECK(webauthn_client_challenge(R"({"challenge":"!!"})").empty());
  CHECK(webauthn_client_challenge(R"({"challenge":7})").empty());
}
