#include "support/secret_registry.hpp"

#include <algorithm>
#include <unordered_set>

#include <nlohmann/json.hpp>

namespace authnode::test {

namespace {

using json = nlohmann::json;

/// The line as a JSON object with its top-level members only, or a
/// discarded value. Nested objects and arrays are dropped while parsing, so
/// that a hostile line nested a million deep builds nothing deep; no secret
/// field of the protocol is nested (docs/protocol.md: tokens and device
/// tokens are top-level members of the login reply, there is no `result`
/// object).
json top_level_members(std::string_view line) {
  auto keep = [](int depth, json::parse_event_t event, json&) {
    bool opens = event == json::parse_event_t::object_start
      || event == json::parse_event_t::array_start;
    return !opens || depth == 0;
  };
  auto parsed = json::parse(line.begin(), line.end(), keep, false);
  if (!parsed.is_object())
    return json(json::value_t::discarded);
  return parsed;
}

} // namespace

secret_registry& secret_registry::global() {
  static secret_registry instance;
  return instance;
}

void secret_registry::add(std::string_view kind, std::string_view value) {
  if (value.size() < min_secret_bytes)
    return;
  std::lock_guard<std::mutex> guard{mtx_};
  kinds_.emplace(std::string{value}, std::string{kind});
}

void secret_registry::note_fields(std::string_view line,
                                  std::initializer_list<const char*> fields) {
  auto obj = top_level_members(line);
  if (obj.is_discarded())
    return;
  for (auto field : fields) {
    auto i = obj.find(field);
    if (i != obj.end() && i->is_string())
      add(field, i->get_ref<const std::string&>());
  }
}

void secret_registry::note_request_line(std::string_view line) {
  note_fields(line,
              {"password", "old_password", "new_password", "token",
               "device_token", "code", "challenge"});
}

void secret_registry::note_reply_line(std::string_view line) {
  note_fields(line, {"token", "device_token", "secret", "challenge"});
  // Recovery codes come in an array, the one nested secret of a reply
  // (totp_enable, recovery_codes_renew); only such a reply is parsed whole.
  if (line.find("\"recovery_codes\":[") == std::string_view::npos)
    return;
  auto obj = json::parse(line.begin(), line.end(), nullptr, false);
  if (!obj.is_object() || !obj.contains("recovery_codes")
      || !obj["recovery_codes"].is_array())
    return;
  for (auto& code : obj["recovery_codes"])
    if (code.is_string())
      add("recovery_code", code.get_ref<const std::string&>());
}

bool secret_registry::contains(std::string_view value) const {
  std::lock_guard<std::mutex> guard{mtx_};
  return kinds_.count(std::string{value}) > 0;
}

std::vector<secret_registry::leak>
secret_registry::find_in(std::string_view text) const {
  // Thousands of secrets against a log of some 100 KB: index the log's
  // windows of min_secret_bytes once, and search the whole text only for a
  // secret whose first bytes are among them.
  std::unordered_set<std::string_view> windows;
  for (size_t i = 0; i + min_secret_bytes <= text.size(); ++i)
    windows.insert(text.substr(i, min_secret_bytes));
  std::vector<leak> found;
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto& [value, kind] : kinds_) {
    if (windows.count(std::string_view{value}.substr(0, min_secret_bytes)) == 0)
      continue;
    auto at = text.find(value);
    if (at != std::string_view::npos)
      found.push_back(leak{kind, at});
  }
  return found;
}

std::string secret_registry::redact(std::string text) const {
  std::vector<std::pair<std::string, std::string>> hits;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    for (auto& [value, kind] : kinds_)
      if (text.find(value) != std::string::npos)
        hits.emplace_back(value, kind);
  }
  // Longest first, so that a secret inside a longer one is not half shown.
  std::sort(hits.begin(), hits.end(), [](auto& a, auto& b) {
    return a.first.size() > b.first.size();
  });
  for (auto& [value, kind] : hits) {
    auto mark = "<" + kind + ">";
    for (auto at = text.find(value); at != std::string::npos;
         at = text.find(value, at + mark.size()))
      text.replace(at, value.size(), mark);
  }
  return text;
}

} // namespace authnode::test
