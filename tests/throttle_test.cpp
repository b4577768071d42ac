// The penalty schedule, exactly: time is passed in, nothing waits.
#include <catch2/catch.hpp>

#include "actors/throttle.hpp"

using namespace authnode;
using namespace std::chrono_literals;
using decision = throttle::decision;

namespace {

throttle_settings settings() {
  throttle_settings s;
  s.failure_delay = 2s;
  s.max_penalty = 60s;
  s.failure_window = 15min;
  s.max_verifying_per_key = 2;
  s.max_pending = 100;
  s.max_pending_per_source = 4;
  return s;
}

const throttle_keys mallory_at_ann{"10.0.0.66", "ann@example.org"};

/// One failed verification with a password of its own.
void fail_once(throttle& t, const throttle_keys& k, throttle::time_point now,
               uint64_t fingerprint) {
  REQUIRE(t.admit(k, now).what == decision::go);
  t.finished(k, attempt_result::failure, fingerprint, now);
}

} // namespace

TEST_CASE("the penalty doubles from failure-delay up to max-penalty") {
  throttle t{settings()};
  CHECK(t.penalty(0) == 0s);
  CHECK(t.penalty(1) == 2s);
  CHECK(t.penalty(2) == 4s);
  CHECK(t.penalty(5) == 32s);
  CHECK(t.penalty(6) == 60s);
  CHECK(t.penalty(100) == 60s);
}

TEST_CASE("after a failure the key waits out its penalty") {
  throttle t{settings()};
  throttle::time_point t0{};
  fail_once(t, mallory_at_ann, t0, 1);
  auto early = t.admit(mallory_at_ann, t0 + 1s);
  CHECK(early.what == decision::wait);
  CHECK(early.until == t0 + 2s);
  // Asked again when due, it may go.
  CHECK(t.admit(mallory_at_ann, t0 + 2s, true).what == decision::go);
}

TEST_CASE("a second attempt while one is held is refused with retry-after") {
  throttle t{settings()};
  throttle::time_point t0{};
  fail_once(t, mallory_at_ann, t0, 1);
  REQUIRE(t.admit(mallory_at_ann, t0).what == decision::wait);
  auto second = t.admit(mallory_at_ann, t0 + 500ms);
  CHECK(second.what == decision::refuse);
  CHECK(second.until == t0 + 2s);
  // The same account from another address is held up by the account key.
  CHECK(t.admit({"10.0.0.77", "ann@example.org"}, t0 + 500ms).what
        == decision::refuse);
  // Another account from a clean address is not affected at all.
  CHECK(t.admit({"10.0.0.77", "bob@example.org"}, t0 + 500ms).what
        == decision::go);
}

TEST_CASE("verifications spent on one account follow the schedule") {
  // An attacker retries the moment each penalty ends, with new passwords.
  throttle t{settings()};
  throttle::time_point now{};
  std::vector<caf::timespan> gaps;
  auto last = now;
  for (uint64_t guess = 1; guess <= 8; ++guess) {
    auto v = t.admit(mallory_at_ann, now);
    if (v.what == decision::wait) {
      now = v.until;
      v = t.admit(mallory_at_ann, now, true);
    }
    REQUIRE(v.what == decision::go);
    gaps.push_back(now - last);
    last = now;
    t.finished(mallory_at_ann, attempt_result::failure, guess, now);
  }
  CHECK(gaps == std::vector<caf::timespan>{0s, 2s, 4s, 8s, 16s, 32s, 60s, 60s});
}

TEST_CASE("the same wrong password again does not escalate") {
  throttle t{settings()};
  throttle::time_point t0{};
  fail_once(t, mallory_at_ann, t0, 42);
  fail_once(t, mallory_at_ann, t0 + 2s, 42);
  // Still the first penalty, counted from the last failure.
  CHECK(t.admit(mallory_at_ann, t0 + 3s).until == t0 + 4s);
}

TEST_CASE("a success clears the account, not the source") {
  throttle t{settings()};
  throttle::time_point t0{};
  fail_once(t, mallory_at_ann, t0, 1);
  throttle_keys ann_at_home{"10.0.0.5", "ann@example.org"};
  REQUIRE(t.admit(ann_at_home, t0 + 2s).what == decision::go);
  t.finished(ann_at_home, attempt_result::success, 0, t0 + 2s);
  CHECK(t.admit(ann_at_home, t0 + 2s).what == decision::go);
  // The guessing address keeps its count: its next failure escalates.
  fail_once(t, mallory_at_ann, t0 + 3s, 2);
  auto next = t.admit({"10.0.0.66", "bob@example.org"}, t0 + 4s);
  CHECK(next.what == decision::wait);
  CHECK(next.until == t0 + 3s + 4s);
}

TEST_CASE("failures are forgotten after the failure window") {
  throttle t{settings()};
  throttle::time_point t0{};
  for (uint64_t i = 0; i < 5; ++i)
    fail_once(t, mallory_at_ann, t0 + std::chrono::minutes(i), 10 + i);
  auto later = t0 + 4min + 15min + 1s;
  CHECK(t.admit(mallory_at_ann, later).what == decision::go);
}

TEST_CASE("a burst before any failure is known costs a few hashes") {
  throttle t{settings()};
  throttle::time_point t0{};
  int go = 0, wait = 0, refuse = 0;
  for (int i = 0; i < 1000; ++i) {
    switch (t.admit(mallory_at_ann, t0).what) {
      case decision::go:
        ++go;
        break;
      case decision::wait:
        ++wait;
        break;
      case decision::refuse:
        ++refuse;
        break;
    }
  }
  CHECK(go == 2);
  CHECK(wait == 1);
  CHECK(refuse == 997);
}

TEST_CASE("a real user's two concurrent logins both go") {
  throttle t{settings()};
  throttle::time_point t0{};
  throttle_keys ann{"10.0.0.5", "ann@example.org"};
  CHECK(t.admit(ann, t0).what == decision::go);
  CHECK(t.admit(ann, t0).what == decision::go);
}

TEST_CASE("held attempts are capped per source and in total") {
  auto s = settings();
  s.max_pending_per_source = 2;
  throttle t{s};
  throttle::time_point t0{};
  // Penalize three accounts from other addresses.
  fail_once(t, {"10.9.9.1", "a@x.org"}, t0, 7);
  fail_once(t, {"10.9.9.2", "b@x.org"}, t0, 7);
  fail_once(t, {"10.9.9.3", "c@x.org"}, t0, 7);
  // One clean source asks for all three: two are held, the third refused.
  CHECK(t.admit({"10.0.0.1", "a@x.org"}, t0).what == decision::wait);
  CHECK(t.admit({"10.0.0.1", "b@x.org"}, t0).what == decision::wait);
  CHECK(t.admit({"10.0.0.1", "c@x.org"}, t0).what == decision::refuse);
  CHECK(t.held() == 2);
}

TEST_CASE("sweep drops forgotten keys and counts penalized ones") {
  throttle t{settings()};
  throttle::time_point t0{};
  fail_once(t, mallory_at_ann, t0, 1);
  auto [sources, accounts] = t.sweep(t0 + 1s);
  CHECK(sources == 1);
  CHECK(accounts == 1);
  auto later = t.sweep(t0 + 16min);
  CHECK(later.first == 0);
  CHECK(later.second == 0);
}

TEST_CASE("registrations from one source are limited to register-rate") {
  auto s = settings();
  s.register_rate = 3;
  throttle t{s};
  throttle::time_point t0{};
  CHECK(t.spend("10.0.0.8", t0) == 0s);
  CHECK(t.spend("10.0.0.8", t0) == 0s);
  CHECK(t.spend("10.0.0.8", t0) == 0s);
  auto wait = t.spend("10.0.0.8", t0);
  CHECK(wait == 20s);                   // 3 per minute: one every 20 s
  CHECK(t.spend("10.0.0.9", t0) == 0s); // another source has its own
  CHECK(t.spend("10.0.0.8", t0 + 20s) == 0s);
}

TEST_CASE("status shows a key's failures and the wait it has left") {
  throttle t{settings()};
  throttle::time_point now{};
  auto empty = t.status(false, "10.0.0.66", now);
  CHECK(empty.key == "10.0.0.66");
  CHECK(empty.failures == 0);
  CHECK(empty.penalty_ms == 0);
  fail_once(t, mallory_at_ann, now, 1);
  fail_once(t, mallory_at_ann, now + 2s, 2);
  auto s = t.status(false, "10.0.0.66", now + 3s);
  CHECK(s.failures == 2);
  CHECK(s.penalty_ms == 3000); // 4 s after the failure at 2 s
  auto a = t.status(true, "ann@example.org", now + 3s);
  CHECK(a.failures == 2);
  CHECK(a.penalty_ms == 3000);
  CHECK(t.status(true, "10.0.0.66", now + 3s).failures == 0); // other table
  // Past the window nothing is remembered.
  CHECK(t.status(false, "10.0.0.66", now + 2s + 15min + 1s).failures == 0);
}

TEST_CASE("reset forgets one key's failures and nothing else") {
  throttle t{settings()};
  throttle::time_point now{};
  fail_once(t, mallory_at_ann, now, 1);
  fail_once(t, mallory_at_ann, now + 2s, 2);
  CHECK(t.admit(mallory_at_ann, now + 3s).what == decision::wait);
  CHECK(t.reset(false, "10.0.0.66", now + 3s));
  CHECK(t.status(false, "10.0.0.66", now + 3s).failures == 0);
  // The account is still penalized: the held attempt still waits for it.
  CHECK(t.status(true, "ann@example.org", now + 3s).failures == 2);
  auto v = t.admit(mallory_at_ann, now + 3s, true);
  CHECK(v.what == decision::wait);
  CHECK(t.reset(true, "ann@example.org", now + 3s));
  CHECK(t.admit(mallory_at_ann, now + 3s, true).what == decision::go);
  CHECK(t.held() == 0);
  // A key with nothing to forget.
  CHECK_FALSE(t.reset(false, "10.9.9.9", now));
  CHECK_FALSE(t.reset(true, "ann@example.org", now + 4s));
}

TEST_CASE("failures adopted from elsewhere raise a key's count, and an exact "
          "adoption sets it") {
  throttle t{settings()};
  throttle::time_point t0{};
  fail_once(t, mallory_at_ann, t0, 1);
  // Two more on another node: the larger count wins.
  t.adopt(true, "ann@example.org", 3, t0 + 1s, t0 + 1s);
  CHECK(t.status(true, "ann@example.org", t0 + 1s).failures == 3);
  t.adopt(true, "ann@example.org", 1, t0, t0 + 1s);
  CHECK(t.status(true, "ann@example.org", t0 + 1s).failures == 3);
  // Exact: the database holds all this node counted, and a success on
  // another node cleared the rest.
  auto now = t0 + 1500ms;
  t.adopt(true, "ann@example.org", 0, t0, now, true);
  CHECK(t.status(true, "ann@example.org", now).failures == 0);
  CHECK(t.status(false, "10.0.0.66", now).penalty_ms == 500); // the source's
  t.adopt(false, "10.0.0.66", 0, t0, now, true);
  CHECK(t.status(false, "10.0.0.66", now).penalty_ms == 0);
  CHECK(t.admit(mallory_at_ann, now).what == decision::go);
}
