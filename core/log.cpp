#include "core/log.hpp"

#include <string>
#include <unistd.h>

#include "core/clock.hpp"

namespace authnode {

namespace {

std::string_view level_name(log_level level) {
  switch (level) {
    case log_level::debug:
      return "debug";
    case log_level::info:
      return "info";
    case log_level::warning:
      return "warning";
    default:
      return "error";
  }
}

} // namespace

void log(log_level level, std::string_view text) {
  std::string line = rfc3339(now_seconds());
  line += " authnode ";
  line += level_name(level);
  line += ": ";
  line += text;
  line += '\n';
  // One write(2) per line keeps lines from different threads whole.
  [[maybe_unused]] auto n = ::write(STDERR_FILENO, line.data(), line.size());
}

} // namespace authnode
