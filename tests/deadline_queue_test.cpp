// Deadlines for backend calls: expired calls are answered once, late
// answers are dropped, answered calls never expire.
#include <catch2/catch.hpp>

#include <vector>

#include "actors/deadline_queue.hpp"

using authnode::deadline_queue;
using namespace std::chrono_literals;

TEST_CASE("a call answered in time never expires") {
  deadline_queue q;
  deadline_queue::time_point t0{};
  int expired = 0;
  auto id = q.open(t0 + 1s, [&] {
    ++expired;
  });
  CHECK(q.close(id));
  CHECK_FALSE(q.expire(t0 + 5s));
  CHECK(expired == 0);
  CHECK(q.open_calls() == 0);
}

TEST_CASE("calls past their deadline expire in order, once") {
  deadline_queue q;
  deadline_queue::time_point t0{};
  std::vector<int> fired;
  auto a = q.open(t0 + 1s, [&] {
    fired.push_back(1);
  });
  q.open(t0 + 2s, [&] {
    fired.push_back(2);
  });
  q.open(t0 + 3s, [&] {
    fired.push_back(3);
  });
  auto next = q.expire(t0 + 2s);
  CHECK(fired == std::vector<int>{1, 2});
  REQUIRE(next);
  CHECK(*next == t0 + 3s);
  // The answer to an expired call comes late: it must be dropped.
  CHECK_FALSE(q.close(a));
  CHECK_FALSE(q.expire(t0 + 10s));
  CHECK(fired == std::vector<int>{1, 2, 3});
}

TEST_CASE("the next due time skips calls already answered") {
  deadline_queue q;
  deadline_queue::time_point t0{};
  auto a = q.open(t0 + 1s, [] {});
  q.open(t0 + 4s, [] {});
  q.close(a);
  auto next = q.expire(t0);
  REQUIRE(next);
  CHECK(*next == t0 + 4s);
}
