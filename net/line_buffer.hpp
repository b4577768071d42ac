// Framing: turns a byte stream into lines.
//
// A line ends at '\n'; one '\r' before it is dropped, so both "\n" and "\r\n"
// work. The limit is enforced on our own buffered bytes, not on CAF's read
// size: reads stay small (cheap per connection) while lines may be long.
// Lines are taken one at a time, so a connection can stop taking them (for
// backpressure) and leave the rest buffered.
#pragma once

#include <string>
#include <string_view>

namespace authnode {

class line_buffer {
public:
  enum class status {
    line,      ///< `out` holds the next line
    need_more, ///< no complete line buffered
    too_long,  ///< a line (complete or not) is over the limit
  };

  explicit line_buffer(size_t max_line) : max_line_(max_line) {}

  void append(const char* data, size_t size);

  /// The next complete line; `out` stays valid until the next call.
  status next(std::string_view& out);

  /// Bytes received and not yet taken as lines.
  size_t buffered() const {
    return buf_.size() - pos_;
  }

private:
  size_t max_line_;
  std::string buf_;
  size_t pos_ = 0;     // start of the first line not taken yet
  size_t scanned_ = 0; // no '\n' in [pos_, scanned_)
};

} // namespace authnode
