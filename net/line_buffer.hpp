// Framing: turns a byte stream into lines.
//
// A line ends at '\n'; one '\r' before it is dropped, so both "\n" and "\r\n"
// work. The limit is enforced on our own accumulated bytes, not on CAF's read
// size: reads stay small (cheap per connection) while lines may be long.
#pragma once

#include <cstring>
#include <string>
#include <string_view>

namespace authnode {

class line_buffer {
public:
  explicit line_buffer(size_t max_line) : max_line_(max_line) {}

  /// Calls `on_line(std::string_view)` for each complete line in `data`.
  /// Returns false, and stops, at the first line longer than the limit
  /// (complete or not); the buffer is unusable after that.
  template <class F>
  bool feed(const char* data, size_t size, F&& on_line) {
    while (size > 0) {
      auto nl = static_cast<const char*>(std::memchr(data, '\n', size));
      if (nl == nullptr) {
        if (partial_.size() + size > max_line_ + 1) // room for a "\r"
          return false;
        partial_.append(data, size);
        return true;
      }
      auto len = static_cast<size_t>(nl - data);
      if (partial_.empty()) {
        // The common case, a whole line in one read: no copy.
        if (!emit(std::string_view{data, len}, on_line))
          return false;
      } else {
        if (partial_.size() + len > max_line_ + 1)
          return false;
        partial_.append(data, len);
        auto ok = emit(std::string_view{partial_}, on_line);
        partial_.clear();
        if (!ok)
          return false;
      }
      data = nl + 1;
      size -= len + 1;
    }
    return true;
  }

  /// Bytes of an unfinished line held so far.
  size_t pending() const {
    return partial_.size();
  }

private:
  template <class F>
  bool emit(std::string_view line, F& on_line) {
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    if (line.size() > max_line_)
      return false;
    on_line(line);
    return true;
  }

  size_t max_line_;
  std::string partial_;
};

} // namespace authnode
