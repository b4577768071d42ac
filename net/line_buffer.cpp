#include "net/line_buffer.hpp"

#include <cstring>

namespace authnode {

namespace {

/// Above this, an empty buffer gives its memory back: a connection that once
/// sent a long line should not keep it for its lifetime.
constexpr size_t keep_capacity = 16384;

} // namespace

void line_buffer::append(const char* data, size_t size) {
  if (pos_ > 0 && pos_ == buf_.size()) {
    buf_.clear();
    if (buf_.capacity() > keep_capacity)
      std::string{}.swap(buf_);
    pos_ = scanned_ = 0;
  } else if (pos_ > 0 && pos_ >= buf_.size() / 2) {
    buf_.erase(0, pos_);
    scanned_ -= pos_;
    pos_ = 0;
  }
  buf_.append(data, size);
}

line_buffer::status line_buffer::next(std::string_view& out) {
  auto begin = buf_.data() + pos_;
  auto from = buf_.data() + scanned_;
  auto nl
    = static_cast<const char*>(std::memchr(from, '\n', buf_.size() - scanned_));
  if (nl == nullptr) {
    scanned_ = buf_.size();
    // One byte of slack: the line may still end in "\r\n".
    return buffered() > max_line_ + 1 ? status::too_long : status::need_more;
  }
  std::string_view line{begin, static_cast<size_t>(nl - begin)};
  if (!line.empty() && line.back() == '\r')
    line.remove_suffix(1);
  if (line.size() > max_line_)
    return status::too_long;
  pos_ = scanned_ = static_cast<size_t>(nl - buf_.data()) + 1;
  out = line;
  return status::line;
}

} // namespace authnode
