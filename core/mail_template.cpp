#include "core/mail_template.hpp"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string_view>

namespace authnode {

// config/mail/*.txt as they were at build time, indexed by mail_purpose
// (the source file CMake generates, mail_templates_builtin.cpp).
namespace mail_builtin {
extern const std::string_view texts[mail_purpose_count];
} // namespace mail_builtin

namespace {

constexpr const char* files[mail_purpose_count] = {
  "recovery.txt", "verification.txt", "email_change.txt", "change_notice.txt"};

constexpr std::string_view subject_prefix = "Subject:";

bool is_word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

/// Where `text` has a `{word}` at `at` (text[at] == '{'), the word's length;
/// else 0.
size_t placeholder_at(std::string_view text, size_t at) {
  size_t end = at + 1;
  while (end < text.size() && is_word_char(text[end]))
    ++end;
  if (end == at + 1 || end >= text.size() || text[end] != '}')
    return 0;
  return end - at - 1;
}

/// The value of a known placeholder, or nullptr for an unknown word.
const std::string* field_value(std::string_view word, const mail_fields& f,
                               const std::string& minutes) {
  if (word == "code")
    return &f.code;
  if (word == "name")
    return &f.name;
  if (word == "email")
    return &f.email;
  if (word == "app_url")
    return &f.app_url;
  if (word == "expires_minutes")
    return &minutes;
  return nullptr;
}

/// Checks every placeholder of `text`; counts {code} into `codes`.
bool check_placeholders(std::string_view text, const std::string& name,
                        int& codes, std::string& error) {
  static const mail_fields probe;
  static const std::string minutes;
  for (size_t at = text.find('{'); at != std::string_view::npos;
       at = text.find('{', at + 1)) {
    auto len = placeholder_at(text, at);
    if (len == 0)
      continue;
    auto word = text.substr(at + 1, len);
    if (field_value(word, probe, minutes) == nullptr) {
      error = "mail template " + name + ": unknown placeholder {"
        + std::string(word) + "}";
      return false;
    }
    if (word == "code")
      ++codes;
  }
  return true;
}

std::string one_line(const std::string& value) {
  std::string out = value;
  for (auto& c : out)
    if (c == '\r' || c == '\n')
      c = ' ';
  return out;
}

std::string substitute(std::string_view text, const mail_fields& f,
                       const std::string& minutes) {
  std::string out;
  out.reserve(text.size() + 64);
  size_t from = 0;
  for (size_t at = text.find('{'); at != std::string_view::npos;
       at = text.find('{', at + 1)) {
    auto len = placeholder_at(text, at);
    auto value = len == 0 ? nullptr
                          : field_value(text.substr(at + 1, len), f, minutes);
    if (value == nullptr)
      continue;
    out.append(text.substr(from, at - from));
    out += one_line(*value);
    from = at + len + 2;
    at = from - 1;
  }
  out.append(text.substr(from));
  return out;
}

/// `text` with CRLF line ends made LF (a template edited on Windows).
std::string without_cr(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i)
    if (!(text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n'))
      out += text[i];
  return out;
}

bool read_file(const std::string& path, std::string& text, std::string& why) {
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    why = errno != 0 ? std::strerror(errno) : "cannot open";
    return false;
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  text = buf.str();
  if (in.bad()) {
    why = "read error";
    return false;
  }
  return true;
}

} // namespace

const char* purpose_file(mail_purpose p) {
  auto i = static_cast<size_t>(p);
  return i < mail_purpose_count ? files[i] : "unknown.txt";
}

std::optional<mail_template> parse_mail_template(mail_purpose p,
                                                 const std::string& raw,
                                                 const std::string& name,
                                                 std::string& error) {
  auto text = without_cr(raw);
  auto first_end = text.find('\n');
  std::string_view first(
    text.data(), first_end == std::string::npos ? text.size() : first_end);
  if (first.substr(0, subject_prefix.size()) != subject_prefix) {
    error = "mail template " + name
      + ": the first line is not \"Subject: ...\"";
    return std::nullopt;
  }
  if (first_end == std::string::npos || first_end + 1 >= text.size()
      || text[first_end + 1] != '\n') {
    error = "mail template " + name
      + ": the Subject line must be followed by an empty line";
    return std::nullopt;
  }
  auto subject = first.substr(subject_prefix.size());
  while (!subject.empty()
         && (subject.front() == ' ' || subject.front() == '\t'))
    subject.remove_prefix(1);
  while (!subject.empty() && (subject.back() == ' ' || subject.back() == '\t'))
    subject.remove_suffix(1);
  if (subject.empty()) {
    error = "mail template " + name + ": the subject is empty";
    return std::nullopt;
  }
  mail_template t{std::string(subject), text.substr(first_end + 2)};
  int codes = 0;
  if (!check_placeholders(t.subject, name, codes, error)
      || !check_placeholders(t.body, name, codes, error))
    return std::nullopt;
  if (p == mail_purpose::change_notice && codes > 0) {
    error = "mail template " + name
      + ": {code} is not allowed in the notice to the old address";
    return std::nullopt;
  }
  if (p != mail_purpose::change_notice && codes == 0) {
    error = "mail template " + name + ": it has no {code} placeholder";
    return std::nullopt;
  }
  return t;
}

std::optional<mail_templates> load_mail_templates(const std::string& dir,
                                                  std::string& error) {
  mail_templates out;
  for (size_t i = 0; i < mail_purpose_count; ++i) {
    auto p = static_cast<mail_purpose>(i);
    std::string text;
    std::string name;
    if (dir.empty()) {
      name = std::string("built-in ") + files[i];
      text = std::string(mail_builtin::texts[i]);
    } else {
      name = dir + (dir.back() == '/' ? "" : "/") + files[i];
      std::string why;
      if (!read_file(name, text, why)) {
        error = "mail template " + name + ": cannot be read (" + why + ")";
        return std::nullopt;
      }
    }
    auto t = parse_mail_template(p, text, name, error);
    if (!t)
      return std::nullopt;
    out.of[i] = std::move(*t);
  }
  return out;
}

rendered_mail render(const mail_template& t, const mail_fields& f) {
  auto minutes = std::to_string(f.expires_minutes);
  return {substitute(t.subject, f, minutes), substitute(t.body, f, minutes)};
}

} // namespace authnode
