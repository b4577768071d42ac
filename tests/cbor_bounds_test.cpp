// core/cbor_bounds: what reaches libcbor is bounded by its own size. The
// first case is the input that, handed to libcbor 0.8 directly, made it
// allocate 16 GiB and take 40 s.
#include <catch2/catch.hpp>

#include <string>

#include "core/cbor_bounds.hpp"

using authnode::cbor_item_bounded;

namespace {

std::string bytes(std::initializer_list<int> xs) {
  std::string out;
  for (int x : xs)
    out += static_cast<char>(x);
  return out;
}

bool bounded(const std::string& data, size_t* read = nullptr) {
  size_t n = 0;
  bool ok = cbor_item_bounded(data, n);
  if (read)
    *read = n;
  return ok;
}

} // namespace

TEST_CASE("a head that claims more elements than there are bytes is "
          "refused",
          "[cbor]") {
  CHECK_FALSE(bounded(bytes({0x9a, 0x7f, 0xff, 0xff, 0xff}))); // array 2^31-1
  CHECK_FALSE(bounded(bytes({0xba, 0x10, 0, 0, 0})));          // map 2^28
  CHECK_FALSE(bounded(bytes({0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                             0xff}))); // array 2^64-1
  CHECK_FALSE(bounded(bytes({0x83, 1, 2})));                   // [1, 2, ...
  CHECK_FALSE(bounded(bytes({0xa2, 1, 2, 3})));                // {1: 2, 3: ...
  // Nested: each inner array claims what is left, all of them together
  // far more; refused at the second head.
  CHECK_FALSE(bounded(bytes({0x84, 0x83, 0x82, 0x81, 0x80})));
  CHECK_FALSE(bounded(bytes({0x5a, 0x7f, 0xff, 0xff, 0xff, 'x'}))); // bytes
}

TEST_CASE("a complete item is accepted and its length told, whatever "
          "follows it",
          "[cbor]") {
  size_t read = 0;
  CHECK(bounded(bytes({0x01}), &read));
  CHECK(read == 1);
  CHECK(bounded(bytes({0x83, 0x01, 0x82, 0x02, 0x03, 0x04, 0xff, 0xff}),
                &read)); // [1, [2, 3], 4] then two more bytes
  CHECK(read == 6);
  // A COSE EC2 key's shape: {1: 2, 3: -7, -1: 1, -2: h'..', -3: h'..'}.
  auto x = std::string(32, 'x');
  auto cose = bytes({0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 32})
              + x + bytes({0x22, 0x58, 32}) + x;
  CHECK(bounded(cose + "tail", &read));
  CHECK(read == cose.size());
  CHECK(bounded(bytes({0x80}), &read)); // []
  CHECK(bounded(bytes({0xa0}), &read)); // {}
  CHECK(bounded(bytes({0x63, 'a', 'b', 'c'}), &read));
  CHECK(read == 4);
  CHECK(bounded(bytes({0xf5}), &read)); // true
  CHECK(bounded(bytes({0xf6}), &read)); // null
  CHECK(bounded(bytes({0xfb, 0, 0, 0, 0, 0, 0, 0, 0}), &read)); // 0.0
}

TEST_CASE("what canonical CBOR never has is refused: indefinite lengths, "
          "tags, deep nesting, nothing",
          "[cbor]") {
  CHECK_FALSE(bounded(bytes({0x9f, 0x01, 0xff})));       // [_ 1]
  CHECK_FALSE(bounded(bytes({0xbf, 0x01, 0x02, 0xff}))); // {_ 1: 2}
  CHECK_FALSE(bounded(bytes({0x5f, 0x41, 'a', 0xff})));  // (_ h'61')
  CHECK_FALSE(bounded(bytes({0x7f, 0x61, 'a', 0xff})));  // (_ "a")
  CHECK_FALSE(bounded(bytes({0xc1, 0x01})));             // 1(1)
  CHECK_FALSE(bounded(bytes({0xff})));                   // a lone break
  CHECK_FALSE(bounded(""));
  CHECK_FALSE(bounded(bytes({0x1c}))); // reserved additional information
  std::string deep(9, static_cast<char>(0x81));
  CHECK_FALSE(bounded(deep + bytes({0x01})));
  std::string eight(8, static_cast<char>(0x81));
  CHECK(bounded(eight + bytes({0x01})));
}
