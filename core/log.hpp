// One line per event on stderr. Callers never pass secrets: requests carry
// passwords and tokens as `secret`, which has no way to be printed.
#pragma once

#include <string_view>

namespace authnode {

enum class log_level { debug, info, warning, error };

void log(log_level level, std::string_view text);

inline void log_info(std::string_view text) {
  log(log_level::info, text);
}
inline void log_warning(std::string_view text) {
  log(log_level::warning, text);
}
inline void log_error(std::string_view text) {
  log(log_level::error, text);
}

} // namespace authnode
