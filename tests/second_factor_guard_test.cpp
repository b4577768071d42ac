// Second-factor guesses against the guard, exactly: the auth actor with a
// real guard and a fake database under CAF's deterministic test coordinator
// (support/auth_fixture.hpp), so the virtual clock says when each guess
// reached the database. Codes are throttled like passwords, on keys of
// their own: the same schedule, and neither kind of guessing slows the
// other.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "support/auth_fixture.hpp"

using namespace authnode;
using namespace authnode::test;
using namespace std::chrono_literals;
using time_point = caf::actor_clock::time_point;

namespace {

const std::string attacker = "10.0.0.66:5555";

throttle_settings guard_settings() {
  throttle_settings s;
  s.failure_delay = 1500ms;
  s.max_penalty = 12s;
  s.max_verifying_per_key = 2;
  s.max_pending = 100;
  s.max_pending_per_source = 4;
  return s;
}

/// Ann, whose password matched on a login that now waits for a code: the
/// challenge "ann's challenge".
struct challenged : auth_fixture {
  challenged() : auth_fixture(0, guard_settings()) {
    add_user(ann_email, "H:" + ann_password);
    store->challenges["ann's challenge"] = ann_email;
  }

  reply_box<session_grant> send_code(const std::string& code,
                                     const std::string& source = attacker) {
    return send<session_grant>(
      login_factor_atom::value,
      second_factor_login{secret{"ann's challenge"}, secret{code}, source, ""});
  }

  /// Runs until `done()`, moving the clock in steps of 100 ms, for at most
  /// a minute of virtual time.
  template <class Pred>
  bool run_until(Pred done) {
    for (int i = 0; i < 600; ++i) {
      sched->run();
      if (done())
        return true;
      sched->advance_time(100ms);
    }
    return false;
  }

  time_point now() {
    return sched->clock().now();
  }
};

std::string wrong_code(int i) {
  return std::to_string(100000 + i);
}

} // namespace

TEST_CASE_METHOD(challenged,
                 "code guesses at one account follow the password's penalty "
                 "schedule",
                 "[auth][second_factor]") {
  // A guesser who sends the next code the moment the last reply is in.
  std::vector<time_point> replied;
  for (int i = 0; i < 7; ++i) {
    auto reply = send_code(wrong_code(i));
    REQUIRE(run_until([&] { return reply->has_value(); }));
    auto wire = wire_of(**reply);
    CHECK(wire.code == ec::invalid_code);
    CHECK(wire.hold == settings.failure_delay); // and held like a login
    replied.push_back(now());
  }
  REQUIRE(store->code_checks.size() == 7);
  std::vector<caf::timespan> gaps;
  for (size_t i = 1; i < store->code_checks.size(); ++i)
    gaps.push_back(store->code_checks[i] - store->code_checks[i - 1]);
  CHECK(gaps
        == std::vector<caf::timespan>{1500ms, 3s, 6s, 12s, 12s, 12s});
  // The right code, once the penalty has passed, still logs in.
  auto right = send_code(store->second_factor_code);
  REQUIRE(run_until([&] { return right->has_value(); }));
  CHECK(right->value());
}

TEST_CASE_METHOD(challenged,
                 "a code guess while one is held is refused with retry-after",
                 "[auth][second_factor]") {
  auto first = send_code(wrong_code(1));
  sched->run();
  REQUIRE(first->has_value());
  auto held = send_code(wrong_code(2));
  sched->run();
  CHECK_FALSE(held->has_value()); // the guard holds it for the penalty
  auto refused = send_code(wrong_code(3), "10.0.0.77:5555");
  sched->run();
  REQUIRE(refused->has_value());
  auto wire = wire_of(**refused);
  CHECK(wire.code == ec::rate_limited);
  REQUIRE(wire.retry_after_ms);
  CHECK(*wire.retry_after_ms == 1500);
  CHECK(store->code_checks.size() == 1);
  REQUIRE(run_until([&] { return held->has_value(); }));
  CHECK(store->code_checks.size() == 2);
}

TEST_CASE_METHOD(challenged,
                 "code guesses do not slow the password",
                 "[auth][second_factor]") {
  for (int i = 0; i < 3; ++i) {
    auto reply = send_code(wrong_code(i));
    REQUIRE(run_until([&] { return reply->has_value(); }));
  }
  // The code keys wait out a penalty now; a password login from the same
  // address is verified at once.
  auto start = now();
  auto password = send<session_grant>(
    login_atom::value, login_request{ann_email, secret{"a wrong password"},
                                     attacker});
  sched->run();
  REQUIRE(password->has_value());
  CHECK(now() == start);
  CHECK(hashes->verified.size() == 1);
  CHECK(wire_of(**password).code == ec::invalid_credentials);

}

TEST_CASE_METHOD(challenged,
                 "password guesses do not slow the code",
                 "[auth][second_factor]") {
  for (int i = 0; i < 3; ++i) {
    auto reply = send<session_grant>(
      login_atom::value,
      login_request{ann_email, secret{"guess " + std::to_string(i)}, attacker});
    REQUIRE(run_until([&] { return reply->has_value(); }));
  }
  REQUIRE(hashes->verified.size() == 3);
  // The password keys wait out a penalty now; the code is checked at once.
  auto start = now();
  auto code = send_code(store->second_factor_code);
  sched->run();
  REQUIRE(code->has_value());
  CHECK(now() == start);
  CHECK(store->code_checks.size() == 1);
  CHECK(code->value());
}

TEST_CASE_METHOD(challenged,
                 "a login with a device token answers its code at once while "
                 "the account's codes are guessed, on the device's own keys",
                 "[auth][second_factor]") {
  for (int i = 0; i < 4; ++i) {
    auto reply = send_code(wrong_code(i));
    REQUIRE(run_until([&] { return reply->has_value(); }));
  }
  // The account's code keys wait out a 12 s penalty now. The owner's
  // login presented a valid device token.
  const std::string device(32, '\x07');
  store->challenges["owner's challenge"] = ann_email;
  store->challenge_devices["owner's challenge"] = device;
  auto checks = store->code_checks.size();
  auto start = now();
  auto owner = send<session_grant>(
    login_factor_atom::value,
    second_factor_login{secret{"owner's challenge"},
                        secret{store->second_factor_code}, "10.0.0.8:4444",
                        ""});
  sched->run();
  REQUIRE(owner->has_value());
  CHECK(now() == start);
  CHECK(store->code_checks.size() == checks + 1);
  CHECK(owner->value());
  // A wrong code on such a challenge counts against the device token.
  store->challenges["device guess"] = ann_email;
  store->challenge_devices["device guess"] = device;
  auto guess = send<session_grant>(
    login_factor_atom::value,
    second_factor_login{secret{"device guess"}, secret{wrong_code(9)},
                        "10.0.0.8:4444", ""});
  sched->run();
  REQUIRE(guess->has_value());
  CHECK(wire_of(**guess).code == ec::invalid_code);
  CHECK(store->device_failures == std::vector<std::string>{device});
}

TEST_CASE_METHOD(challenged,
                 "a guess held when the node stops is answered at once, "
                 "rate_limited until its penalty ends",
                 "[auth][second_factor][shutdown]") {
  auto first = send_code(wrong_code(1));
  sched->run();
  REQUIRE(first->has_value());
  auto held = send_code(wrong_code(2));
  sched->run();
  REQUIRE_FALSE(held->has_value());
  sched->advance_time(500ms);
  caf::anon_send(guard, drain_atom::value);
  sched->run();
  REQUIRE(held->has_value());
  auto wire = wire_of(**held);
  CHECK(wire.code == ec::rate_limited);
  REQUIRE(wire.retry_after_ms);
  CHECK(*wire.retry_after_ms == 1000);
  CHECK(store->code_checks.size() == 1);
  // From now on nothing waits for a penalty.
  auto later = send_code(wrong_code(3));
  sched->run();
  REQUIRE(later->has_value());
  CHECK(wire_of(**later).code == ec::rate_limited);
}
