// One line per event on stderr, as text for people or JSON for log
// shippers (--log-format), from --log-level up. Callers never pass secrets:
// requests carry passwords, tokens and the admin key as `secret`, which has
// no way to be printed, and no event names an email.
#pragma once

#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

namespace authnode {

enum class log_level { debug, info, warning, error };
enum class log_format { text, json };

std::optional<log_level> parse_log_level(std::string_view name);
std::optional<log_format> parse_log_format(std::string_view name);

/// Set once at start, before any actor runs; the default is info, text.
void configure_log(log_level min_level, log_format format);

/// Whether an event at `level` is written: lets a caller skip building the
/// fields of a debug event nobody reads.
bool log_enabled(log_level level);

/// `fields`: a JSON object of details (source, op, result, ms, ...); in
/// text they follow the message as key=value.
void log(log_level level, std::string_view text,
         const nlohmann::json& fields = nlohmann::json::object());

/// The line log() writes, without writing it (for tests).
std::string format_log_line(log_level level, std::string_view text,
                            const nlohmann::json& fields, log_format format);

inline void log_debug(std::string_view text,
                      const nlohmann::json& fields = nlohmann::json::object()) {
  log(log_level::debug, text, fields);
}
inline void log_info(std::string_view text,
                     const nlohmann::json& fields = nlohmann::json::object()) {
  log(log_level::info, text, fields);
}
inline void log_warning(std::string_view text,
                        const nlohmann::json& fields
                        = nlohmann::json::object()) {
  log(log_level::warning, text, fields);
}
inline void log_error(std::string_view text,
                      const nlohmann::json& fields = nlohmann::json::object()) {
  log(log_level::error, text, fields);
}

} // namespace authnode
