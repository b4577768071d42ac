// Framing: lines split anywhere, both line endings, the length limit, and
// lines left buffered while the connection does not take them.
#include <catch2/catch.hpp>

#include <vector>

#include "net/line_buffer.hpp"

using authnode::line_buffer;
using status = line_buffer::status;

namespace {

/// Appends `bytes` and takes every complete line; false on too_long.
bool feed(line_buffer& buf, std::string_view bytes,
          std::vector<std::string>& lines) {
  buf.append(bytes.data(), bytes.size());
  std::string_view line;
  for (;;) {
    switch (buf.next(line)) {
      case status::line:
        lines.emplace_back(line);
        break;
      case status::need_more:
        return true;
      case status::too_long:
        return false;
    }
  }
}

using lines_t = std::vector<std::string>;

} // namespace

TEST_CASE("several lines in one read come out one by one") {
  line_buffer buf{100};
  lines_t lines;
  CHECK(feed(buf, "a\nbb\r\nccc\n", lines));
  CHECK(lines == lines_t{"a", "bb", "ccc"});
  CHECK(buf.buffered() == 0);
}

TEST_CASE("a line split over many reads is joined") {
  line_buffer buf{100};
  lines_t lines;
  for (char ch : std::string{"{\"op\":\"ping\"}\r\n"})
    CHECK(feed(buf, std::string(1, ch), lines));
  CHECK(lines == lines_t{"{\"op\":\"ping\"}"});
}

TEST_CASE("empty lines are lines") {
  line_buffer buf{100};
  lines_t lines;
  CHECK(feed(buf, "\n\r\n", lines));
  CHECK(lines == lines_t{"", ""});
}

TEST_CASE("a line of exactly the limit passes, one byte more fails") {
  line_buffer ok{5};
  lines_t lines;
  CHECK(feed(ok, "12345\r\n", lines));
  CHECK(lines == lines_t{"12345"});
  line_buffer too_long{5};
  CHECK_FALSE(feed(too_long, "123456\n", lines));
}

TEST_CASE("an unfinished line past the limit fails before its newline") {
  line_buffer buf{8};
  lines_t lines;
  CHECK(feed(buf, "1234", lines));
  CHECK(feed(buf, "5678", lines));
  CHECK(feed(buf, "\r", lines)); // may still be "12345678\r\n"
  CHECK_FALSE(feed(buf, "90", lines));
  CHECK(lines.empty());
}

TEST_CASE("lines before a long one are still delivered") {
  line_buffer buf{4};
  lines_t lines;
  CHECK_FALSE(feed(buf, "ok\ntoolong\n", lines));
  CHECK(lines == lines_t{"ok"});
}

TEST_CASE("lines not taken yet stay buffered across appends") {
  line_buffer buf{100};
  std::string_view line;
  buf.append("one\ntwo\nthr", 11);
  REQUIRE(buf.next(line) == status::line);
  CHECK(line == "one");
  // The connection pauses here; more bytes arrive meanwhile.
  buf.append("ee\nfour\n", 8);
  REQUIRE(buf.next(line) == status::line);
  CHECK(line == "two");
  REQUIRE(buf.next(line) == status::line);
  CHECK(line == "three");
  REQUIRE(buf.next(line) == status::line);
  CHECK(line == "four");
  CHECK(buf.next(line) == status::need_more);
  CHECK(buf.buffered() == 0);
}
