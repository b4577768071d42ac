#include "ctl/progress.hpp"

#include <algorithm>
#include <cstdio>

namespace authnode::ctl {

namespace {

std::string duration_text(double seconds) {
  auto s = static_cast<long>(seconds + 0.5);
  if (s < 60)
    return std::to_string(s) + "s";
  if (s < 3600)
    return std::to_string(s / 60) + "m" + std::to_string(s % 60) + "s";
  return std::to_string(s / 3600) + "h" + std::to_string(s % 3600 / 60) + "m";
}

} // namespace

std::string progress_line(size_t done, size_t total, double seconds,
                          size_t width) {
  total = std::max(total, done);
  double fraction = total == 0 ? 1.0 : static_cast<double>(done) / total;
  auto filled = static_cast<size_t>(fraction * width);
  std::string line = "[" + std::string(filled, '#')
    + std::string(width - filled, '-') + "]  ";
  line += std::to_string(done) + "/" + std::to_string(total) + "  ";
  line += std::to_string(static_cast<int>(fraction * 100)) + "%";
  if (seconds > 0 && done > 0) {
    double rate = done / seconds;
    line += "  " + std::to_string(static_cast<long>(rate)) + "/s";
    if (done < total)
      line += "  ETA " + duration_text((total - done) / rate);
    else
      line += "  in " + duration_text(seconds);
  }
  return line;
}

progress_bar::progress_bar(size_t total, bool enabled)
  : total_(total), enabled_(enabled), start_(std::chrono::steady_clock::now()),
    last_draw_(start_) {}

void progress_bar::update(size_t done) {
  if (!enabled_)
    return;
  auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < std::chrono::milliseconds(200))
    return;
  last_draw_ = now;
  draw(done);
}

void progress_bar::finish(size_t done) {
  if (!enabled_)
    return;
  draw(done);
  std::fputc('\n', stderr);
}

void progress_bar::draw(size_t done) {
  std::chrono::duration<double> elapsed = std::chrono::steady_clock::now()
    - start_;
  auto line = progress_line(done, total_, elapsed.count());
  // \r and "erase to end of line": the bar is redrawn in place.
  std::fprintf(stderr, "\r%s\x1b[K", line.c_str());
  std::fflush(stderr);
}

} // namespace authnode::ctl
