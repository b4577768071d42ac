// attempt_report carries an enum (attempt_result) where it used to carry a
// uint8_t. A gateway sends it to the guard on the storage node, so it must
// cross CAF's wire as a message, and in the same bytes as before: nodes of
// this cluster protocol version already running send the byte.
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/deep_to_string.hpp>
#include <caf/message.hpp>

#include "actors/interfaces.hpp"

using namespace authnode;

namespace {

const throttle_keys mallory_at_ann{"10.0.0.66", "ann@example.org"};

std::vector<char> bytes_of(const attempt_report& report) {
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  auto copy = report;
  REQUIRE_FALSE(sink(copy));
  return buf;
}

/// The bytes of an attempt_report as it was: keys, a uint8_t, fingerprint.
std::vector<char> bytes_as_before(throttle_keys keys, uint8_t result,
                                  uint64_t fingerprint) {
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  REQUIRE_FALSE(sink(keys, result, fingerprint));
  return buf;
}

} // namespace

TEST_CASE("an attempt_report's result is the byte it always was on the wire") {
  CHECK(bytes_of({mallory_at_ann, attempt_result::success, 7})
        == bytes_as_before(mallory_at_ann, 0, 7));
  CHECK(bytes_of({mallory_at_ann, attempt_result::failure, 7})
        == bytes_as_before(mallory_at_ann, 1, 7));
  CHECK(bytes_of({mallory_at_ann, attempt_result::aborted, 7})
        == bytes_as_before(mallory_at_ann, 2, 7));
}

TEST_CASE("an attempt_report crosses the wire as a message with its result") {
  caf::actor_system_config cfg;
  register_message_types(cfg);
  cfg.set("scheduler.policy", caf::atom("testing"));
  caf::actor_system sys{cfg};
  for (auto result : {attempt_result::success, attempt_result::failure,
                      attempt_result::aborted}) {
    auto sent = caf::make_message(guard_done_atom::value,
                                  attempt_report{mallory_at_ann, result, 42});
    std::vector<char> buf;
    caf::binary_serializer sink{sys, buf};
    REQUIRE_FALSE(sink(sent));
    caf::message received;
    caf::binary_deserializer source{sys, buf};
    REQUIRE_FALSE(source(received));
    REQUIRE(received.match_elements<guard_done_atom, attempt_report>());
    auto& report = received.get_as<attempt_report>(1);
    CHECK(report.result == result);
    CHECK(report.keys.source == mallory_at_ann.source);
    CHECK(report.keys.account == mallory_at_ann.account);
    CHECK(report.fingerprint == 42);
  }
}

TEST_CASE("an attempt_report prints its result by name") {
  attempt_report report{mallory_at_ann, attempt_result::failure, 42};
  CHECK(caf::deep_to_string(report).find("failure") != std::string::npos);
}
