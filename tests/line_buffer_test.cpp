// Framing: lines split anywhere, both line endings, the length limit.
#include <catch2/catch.hpp>

#include <vector>

#include "net/line_buffer.hpp"

using authnode::line_buffer;

namespace {

struct collector {
  std::vector<std::string> lines;
  bool feed(line_buffer& buf, std::string_view bytes) {
    return buf.feed(bytes.data(), bytes.size(), [&](std::string_view l) {
      lines.emplace_back(l);
    });
  }
};

} // namespace

TEST_CASE("several lines in one read come out one by one") {
  line_buffer buf{100};
  collector c;
  CHECK(c.feed(buf, "a\nbb\r\nccc\n"));
  CHECK(c.lines == std::vector<std::string>{"a", "bb", "ccc"});
  CHECK(buf.pending() == 0);
}

TEST_CASE("a line split over many reads is joined") {
  line_buffer buf{100};
  collector c;
  for (char ch : std::string{"{\"op\":\"ping\"}\r\n"})
    CHECK(c.feed(buf, std::string(1, ch)));
  CHECK(c.lines == std::vector<std::string>{"{\"op\":\"ping\"}"});
}

TEST_CASE("empty lines are lines") {
  line_buffer buf{100};
  collector c;
  CHECK(c.feed(buf, "\n\r\n"));
  CHECK(c.lines == std::vector<std::string>{"", ""});
}

TEST_CASE("a line of exactly the limit passes, one byte more fails") {
  line_buffer ok{5};
  collector c;
  CHECK(c.feed(ok, "12345\r\n"));
  CHECK(c.lines == std::vector<std::string>{"12345"});
  line_buffer too_long{5};
  CHECK_FALSE(c.feed(too_long, "123456\n"));
}

TEST_CASE("an unfinished line past the limit fails before its newline") {
  line_buffer buf{8};
  collector c;
  CHECK(c.feed(buf, "1234"));
  CHECK(c.feed(buf, "5678"));
  CHECK_FALSE(c.feed(buf, "90"));
  CHECK(c.lines.empty());
}

TEST_CASE("lines before a long one are still delivered") {
  line_buffer buf{4};
  collector c;
  CHECK_FALSE(c.feed(buf, "ok\ntoolong\n"));
  CHECK(c.lines == std::vector<std::string>{"ok"});
}
