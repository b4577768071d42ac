// A progress bar on stderr for long commands (authctl import): done of
// total, rate and time left, redrawn at most a few times a second. Drawn
// only when stderr is a terminal, so logs and pipes get no control
// characters.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace authnode::ctl {

/// "[#####-----]  45000/100000  45%  9800/s  ETA 6s" (width: of the bar).
std::string progress_line(size_t done, size_t total, double seconds,
                          size_t width = 30);

class progress_bar {
public:
  /// `enabled` false: every call does nothing.
  progress_bar(size_t total, bool enabled);

  void update(size_t done);
  /// Draws the last state and ends the line.
  void finish(size_t done);

private:
  void draw(size_t done);

  size_t total_;
  bool enabled_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

} // namespace authnode::ctl
