// second_factor_store against real SQLite in memory, with the time given
// (no waiting): TOTP set up and enabled, the replay rule, recovery codes
// used once, challenges that die, and what is kept at rest.
#include <catch2/catch.hpp>

#include <memory>
#include <set>
#include <string>

#include "core/error_code.hpp"
#include "core/totp.hpp"
#include "storage/second_factor_store.hpp"
#include "support/databases.hpp"

using namespace authnode;
using authnode::test::alice;
using authnode::test::open_store;

namespace {

constexpr int64_t t0 = 1'800'000'010; // 10 s into a step

template <class T>
bool fails_with(const caf::expected<T>& x, ec code) {
  return !x && x.error().code() == static_cast<uint8_t>(code);
}

struct fixture {
  std::unique_ptr<user_store> users = open_store(authnode::test::each_database());
  std::shared_ptr<factor_setup> setup = std::make_shared<factor_setup>();
  std::unique_ptr<second_factor_store> factors;
  int64_t alice_id = 0;
  std::string seed;

  fixture() {
    setup->keys = random_node_keys();
    std::string error;
    factors = second_factor_store::open(*users, setup, error);
    REQUIRE(factors);
    auto added = users->add_user(alice());
    REQUIRE(added);
    alice_id = added->id;
  }

  factor_attempt attempt(const std::string& code) const {
    return factor_attempt{alice_id, secret{code}};
  }

  std::string code_at(int64_t step) const {
    return totp_code(seed, step);
  }

  /// Sets TOTP up and enables it with the code of t0's step.
  recovery_code_list enable() {
    auto b32 = factors->setup(alice_id);
    REQUIRE(b32);
    seed = *totp_seed_of(b32->reveal());
    auto codes = factors->enable(attempt(code_at(totp_step(t0))), t0);
    REQUIRE(codes);
    return std::move(*codes);
  }

  bool totp_on() {
    auto u = users->user_by_id(alice_id);
    REQUIRE(u);
    return u->user.totp;
  }
};

} // namespace

TEST_CASE_METHOD(fixture, "second factor store: setup is pending until a "
                          "code of its seed enables it",
                 "[second_factor]") {
  auto b32 = factors->setup(alice_id);
  REQUIRE(b32);
  seed = *totp_seed_of(b32->reveal());
  CHECK(!totp_on());
  CHECK(fails_with(factors->enable(attempt("000000"), t0), ec::invalid_code));
  // A new setup replaces the pending one: the first seed's code is void.
  auto first_seed = seed;
  auto again = factors->setup(alice_id);
  REQUIRE(again);
  seed = *totp_seed_of(again->reveal());
  REQUIRE(seed != first_seed);
  CHECK(fails_with(
    factors->enable(attempt(totp_code(first_seed, totp_step(t0))), t0),
    ec::invalid_code));
  auto codes = factors->enable(attempt(code_at(totp_step(t0))), t0);
  REQUIRE(codes);
  CHECK(codes->codes.size() == 10);
  CHECK(totp_on());
  CHECK(fails_with(factors->setup(alice_id), ec::conflict));
}

TEST_CASE_METHOD(fixture, "second factor store: a time step is accepted "
                          "once, and never one before it",
                 "[second_factor]") {
  enable(); // used t0's step
  auto step = totp_step(t0);
  auto renew = [&](const std::string& code, int64_t now) {
    return factors->renew(attempt(code), now);
  };
  CHECK(fails_with(renew(code_at(step), t0), ec::invalid_code));
  CHECK(renew(code_at(step + 1), t0));
  CHECK(fails_with(renew(code_at(step + 1), t0), ec::invalid_code));
  CHECK(fails_with(renew(code_at(step), t0 + 30), ec::invalid_code));
  // Thirty seconds on, the step after is new.
  CHECK(renew(code_at(step + 2), t0 + 30));
}

TEST_CASE_METHOD(fixture, "second factor store: recovery codes work once, "
                          "and renewing voids the old ones",
                 "[second_factor]") {
  auto codes = enable();
  std::set<std::string> distinct;
  for (auto& c : codes.codes)
    distinct.insert(c.reveal());
  CHECK(distinct.size() == 10);
  auto first = codes.codes[0].reveal();
  auto fresh = factors->renew(attempt(first), t0);
  REQUIRE(fresh);
  CHECK(fails_with(factors->renew(attempt(first), t0), ec::invalid_code));
  // The other old codes are void too; the new ones work, typed loosely.
  CHECK(fails_with(factors->renew(attempt(codes.codes[1].reveal()), t0),
                   ec::invalid_code));
  std::string typed = fresh->codes[3].reveal();
  for (auto& ch : typed)
    ch = static_cast<char>(std::tolower(ch));
  CHECK(factors->disable(attempt(typed), t0));
  CHECK(!totp_on());
}

TEST_CASE_METHOD(fixture, "second factor store: disable needs a code, and "
                          "takes seed and codes",
                 "[second_factor]") {
  auto codes = enable();
  CHECK(fails_with(factors->disable(attempt("123"), t0), ec::invalid_code));
  CHECK(factors->disable(attempt(code_at(totp_step(t0) + 1)), t0));
  CHECK(!totp_on());
  CHECK(*factors->codes_left(alice_id) == 0);
  CHECK(fails_with(factors->disable(attempt(codes.codes[0].reveal()), t0),
                   ec::conflict));
}

TEST_CASE_METHOD(fixture, "second factor store: a challenge keeps whether "
                          "its login's password is breached, for the grant",
                 "[second_factor][breached]") {
  auto codes = enable();
  // A login whose password is (or is not) breached, answered with a code.
  auto answered = [&](bool breached, const secret& code) {
    challenge_request login{alice_id, "10.0.0.1", std::string{}, breached};
    auto ch = factors->open_challenge(login, t0);
    REQUIRE(ch);
    auto used = factors->answer_challenge({ch->challenge, code}, t0);
    REQUIRE(used);
    return used->password_breached;
  };
  CHECK(answered(true, secret{codes.codes[0].reveal()}));
  CHECK_FALSE(answered(false, secret{codes.codes[1].reveal()}));
}

TEST_CASE_METHOD(fixture, "second factor store: a challenge is answered "
                          "once, and dies at the fifth wrong code",
                 "[second_factor]") {
  auto codes = enable();
  auto ch = factors->open_challenge({alice_id, "10.0.0.1"}, t0);
  REQUIRE(ch);
  CHECK(ch->expires_at == t0 + 300);
  auto owner = factors->challenge_owner(ch->challenge, t0);
  REQUIRE(owner);
  CHECK(owner->user.email == "alice@example.org");
  CHECK(owner->device_digest.empty());
  // A login that presented a device token: the challenge remembers it.
  std::string device(32, '\x07');
  auto from_device
    = factors->open_challenge({alice_id, "10.0.0.1", device}, t0);
  REQUIRE(from_device);
  CHECK(factors->challenge_owner(from_device->challenge, t0)->device_digest
        == device);
  auto used = factors->answer_challenge(
    {ch->challenge, secret{codes.codes[0].reveal()}}, t0);
  REQUIRE(used);
  CHECK(used->method == "recovery_code");
  CHECK(used->user.id == alice_id);
  CHECK(fails_with(factors->challenge_owner(ch->challenge, t0),
                   ec::invalid_code));

  auto doomed = factors->open_challenge({alice_id, "10.0.0.1"}, t0);
  REQUIRE(doomed);
  for (int i = 0; i < 5; ++i)
    CHECK(fails_with(factors->answer_challenge(
                       {doomed->challenge, secret{"000000"}}, t0),
                     ec::invalid_code));
  // Gone, even with the right code.
  CHECK(fails_with(factors->answer_challenge(
                     {doomed->challenge,
                      secret{code_at(totp_step(t0) + 1)}},
                     t0),
                   ec::invalid_code));
}

TEST_CASE_METHOD(fixture, "second factor store: a challenge expires after "
                          "five minutes",
                 "[second_factor]") {
  enable();
  auto ch = factors->open_challenge({alice_id, "10.0.0.1"}, t0);
  REQUIRE(ch);
  auto later = t0 + 300;
  CHECK(fails_with(factors->answer_challenge(
                     {ch->challenge, secret{totp_code(seed, totp_step(later))}},
                     later),
                   ec::invalid_code));
}

TEST_CASE_METHOD(fixture, "second factor store: mfa reset removes TOTP, "
                          "codes and challenges",
                 "[second_factor]") {
  enable();
  auto ch = factors->open_challenge({alice_id, "10.0.0.1"}, t0);
  REQUIRE(ch);
  CHECK(*factors->reset("alice@example.org") == alice_id);
  CHECK(!totp_on());
  CHECK(fails_with(factors->challenge_owner(ch->challenge, t0),
                   ec::invalid_code));
  CHECK(fails_with(factors->reset("nobody@example.org"), ec::not_found));
}

TEST_CASE_METHOD(fixture, "second factor store: a seed sealed with another "
                          "node's key does not open",
                 "[second_factor]") {
  enable();
  auto other = std::make_shared<factor_setup>();
  other->keys = random_node_keys();
  std::string error;
  auto stranger = second_factor_store::open(*users, other, error);
  REQUIRE(stranger);
  auto r = stranger->renew(attempt(code_at(totp_step(t0) + 1)), t0);
  REQUIRE(!r);
  CHECK(r.error().code() == static_cast<uint8_t>(ec::internal));
}
