#include "core/log.hpp"

#include <atomic>
#include <string>
#include <unistd.h>

#include "core/clock.hpp"

namespace authnode {

namespace {

std::atomic<log_level> min_level{log_level::info};
std::atomic<log_format> current_format{log_format::text};

constexpr std::string_view level_names[] = {"debug", "info", "warning",
                                            "error"};

std::string_view level_name(log_level level) {
  return level_names[static_cast<size_t>(level)];
}

/// A string field as itself when it is one word, quoted (as JSON) when a
/// reader could not tell where it ends.
void append_text_value(std::string& out, const nlohmann::json& value) {
  if (value.is_string()) {
    const auto& s = value.get_ref<const std::string&>();
    bool plain = !s.empty() && s.find_first_of(" \t\"=\\\n\r") == s.npos;
    if (plain) {
      out += s;
      return;
    }
  }
  out += value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace

std::optional<log_level> parse_log_level(std::string_view name) {
  for (size_t i = 0; i < std::size(level_names); ++i)
    if (name == level_names[i])
      return static_cast<log_level>(i);
  return std::nullopt;
}

std::optional<log_format> parse_log_format(std::string_view name) {
  if (name == "text")
    return log_format::text;
  if (name == "json")
    return log_format::json;
  return std::nullopt;
}

void configure_log(log_level level, log_format format) {
  min_level = level;
  current_format = format;
}

bool log_enabled(log_level level) {
  return level >= min_level.load(std::memory_order_relaxed);
}

std::string format_log_line(log_level level, std::string_view text,
                            const nlohmann::json& fields, log_format format) {
  auto time = rfc3339(now_seconds());
  std::string line;
  if (format == log_format::json) {
    nlohmann::json event{
      {"time", time}, {"level", level_name(level)}, {"msg", text}};
    if (fields.is_object())
      for (auto& [key, value] : fields.items())
        event.emplace(key, value); // never replaces time, level or msg
    line = event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    line = time;
    line += " authnode ";
    line += level_name(level);
    line += ": ";
    line += text;
    if (fields.is_object())
      for (auto& [key, value] : fields.items()) {
        line += ' ';
        line += key;
        line += '=';
        append_text_value(line, value);
      }
  }
  line += '\n';
  return line;
}

void log(log_level level, std::string_view text, const nlohmann::json& fields) {
  if (!log_enabled(level))
    return;
  auto line = format_log_line(level, text, fields,
                              current_format.load(std::memory_order_relaxed));
  // One write(2) per line keeps lines from different threads whole.
  [[maybe_unused]] auto n = ::write(STDERR_FILENO, line.data(), line.size());
}

} // namespace authnode
