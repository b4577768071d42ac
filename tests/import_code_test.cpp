// import_code, the reason a user_import row was rejected: its wire names
// (core/error_code) and its way across nodes inside import_rejection, which
// the admin actor on one node may send to the admin connection on another.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/deep_to_string.hpp>

#include "actors/interfaces.hpp"
#include "core/error_code.hpp"

using namespace authnode;

namespace {

/// import_rejection as it was before its code was typed: the form a node
/// of the same cluster_protocol built before that change sends.
struct untyped_rejection {
  int64_t index = 0;
  uint8_t code = 0;
  std::string message;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, untyped_rejection& x) {
  return f(caf::meta::type_name("import_rejection"), x.index, x.code,
           x.message);
}

template <class T>
std::vector<char> serialized(T x) {
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  REQUIRE(!sink(x));
  return buf;
}

template <class T>
T deserialized(const std::vector<char>& buf) {
  T x;
  caf::binary_deserializer source{nullptr, buf};
  REQUIRE(!source(x));
  return x;
}

} // namespace

TEST_CASE("import codes have stable wire names") {
  CHECK(wire_name(import_code::bad_email) == "bad_email");
  CHECK(wire_name(import_code::bad_name) == "bad_name");
  CHECK(wire_name(import_code::bad_hash) == "bad_hash");
  CHECK(wire_name(import_code::duplicate) == "duplicate");
  CHECK(wire_name(import_code::bad_created_at) == "bad_created_at");
  // Only a newer node could send a code past the table.
  CHECK(wire_name(static_cast<import_code>(200)) == "internal");
}

TEST_CASE("an import rejection crosses nodes with its code") {
  for (auto code :
       {import_code::bad_email, import_code::bad_name, import_code::bad_hash,
        import_code::duplicate, import_code::bad_created_at}) {
    import_rejection sent{42, code, "why"};
    auto back = deserialized<import_rejection>(serialized(sent));
    CHECK(back.index == 42);
    CHECK(back.code == code);
    CHECK(back.message == "why");
  }
}

TEST_CASE("an import rejection is sent as it was when its code was a "
          "uint8_t") {
  import_rejection typed{7, import_code::duplicate, "the same email"};
  untyped_rejection untyped{7, 3, "the same email"};
  CHECK(serialized(typed) == serialized(untyped));
  CHECK(deserialized<import_rejection>(serialized(untyped)).code
        == import_code::duplicate);
}

TEST_CASE("CAF prints an import rejection's code by its wire name") {
  import_rejection x{1, import_code::bad_hash, "m"};
  CHECK(caf::deep_to_string(x) == R"(import_rejection(1, bad_hash, "m"))");
}
