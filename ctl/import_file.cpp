#include "ctl/import_file.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include <nlohmann/json.hpp>

namespace authnode::ctl {

namespace {

bool all_digits(const std::string& s, size_t from = 0) {
  return from < s.size()
    && std::all_of(s.begin() + static_cast<long>(from), s.end(), [](char c) {
           return c >= '0' && c <= '9';
         });
}

std::string trim(std::string s) {
  auto first = s.find_first_not_of(" \t");
  if (first == std::string::npos)
    return {};
  auto last = s.find_last_not_of(" \t");
  return s.substr(first, last - first + 1);
}

std::string lower(std::string s) {
  for (auto& c : s)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  return s;
}

} // namespace

std::optional<int64_t> parse_created_at(const std::string& raw) {
  auto text = trim(raw);
  if (all_digits(text) && text.size() <= 12)
    return std::stoll(text);
  int y, mo, d, h, mi, s, used = 0;
  char sep;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2d%c%2d:%2d:%2d%n", &y, &mo, &d, &sep,
                  &h, &mi, &s, &used)
        != 7
      || (sep != 'T' && sep != 't' && sep != ' ') || used != 19)
    return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
    return std::nullopt;
  size_t pos = 19;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9')
      ++pos;
  }
  int64_t offset = 0;
  auto rest = text.substr(pos);
  if (rest == "Z" || rest == "z" || rest.empty()) {
    offset = 0;
  } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-')
             && rest[3] == ':' && all_digits(rest.substr(1, 2))
             && all_digits(rest.substr(4, 2))) {
    offset = std::stoi(rest.substr(1, 2)) * 3600
      + std::stoi(rest.substr(4, 2)) * 60;
    if (rest[0] == '-')
      offset = -offset;
  } else {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  return static_cast<int64_t>(timegm(&tm)) - offset;
}

std::optional<import_format> format_from_path(const std::string& path) {
  auto ends_with = [&](const std::string& ext) {
    auto p = lower(path);
    return p.size() >= ext.size()
      && p.compare(p.size() - ext.size(), ext.size(), ext) == 0;
  };
  if (ends_with(".csv"))
    return import_format::csv;
  if (ends_with(".jsonl") || ends_with(".ndjson") || ends_with(".json"))
    return import_format::jsonl;
  return std::nullopt;
}

import_reader::import_reader(const std::string& path, import_format format,
                             std::string& error)
  : in_(path, std::ios::binary), format_(format) {
  if (!in_) {
    error = "cannot open " + path;
    return;
  }
  if (format_ == import_format::csv) {
    std::vector<std::string> header;
    size_t first = 0;
    if (!read_csv_record(header, first, error)) {
      if (error.empty())
        error = path + " is empty: the first line must be a header";
      return;
    }
    // A byte order mark, as spreadsheets write it, is not part of a name.
    if (!header.empty() && header[0].rfind("\xEF\xBB\xBF", 0) == 0)
      header[0].erase(0, 3);
    for (size_t i = 0; i < header.size(); ++i) {
      auto name = lower(trim(header[i]));
      int col = static_cast<int>(i);
      if (name == "email")
        email_col_ = col;
      else if (name == "name")
        name_col_ = col;
      else if (name == "hash" || name == "password_hash")
        hash_col_ = col;
      else if (name == "created_at")
        created_col_ = col;
    }
    if (email_col_ < 0 || name_col_ < 0 || hash_col_ < 0) {
      error = "the header line of " + path
        + " must name the columns email, name and hash";
      return;
    }
  }
  ok_ = true;
}

bool import_reader::read_csv_record(std::vector<std::string>& fields,
                                    size_t& first_line, std::string& error) {
  fields.clear();
  std::string line;
  // Blank lines between records are skipped.
  do {
    if (!std::getline(in_, line))
      return false;
    ++line_;
  } while (trim(line).empty() || line == "\r");
  first_line = line_;
  std::string field;
  bool quoted = false;
  for (;;) {
    for (size_t i = 0; i < line.size(); ++i) {
      char c = line[i];
      if (quoted) {
        if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
          field += '"';
          ++i;
        } else if (c == '"') {
          quoted = false;
        } else {
          field += c;
        }
      } else if (c == '"' && field.empty()) {
        quoted = true;
      } else if (c == ',') {
        fields.push_back(std::move(field));
        field.clear();
      } else if (c == '\r' && i + 1 == line.size()) {
        // CRLF line ends
      } else {
        field += c;
      }
    }
    if (!quoted)
      break;
    // A quoted field goes on past the line end.
    field += '\n';
    if (!std::getline(in_, line)) {
      error = "a quoted field is not closed";
      return false;
    }
    ++line_;
  }
  fields.push_back(std::move(field));
  return true;
}

std::optional<import_item> import_reader::next_csv() {
  std::vector<std::string> fields;
  size_t first = 0;
  std::string error;
  if (!read_csv_record(fields, first, error)) {
    if (error.empty())
      return std::nullopt;
    return import_item{import_problem{first == 0 ? line_ : first, error}};
  }
  auto at = [&](int col) -> std::optional<std::string> {
    if (col < 0 || static_cast<size_t>(col) >= fields.size())
      return std::nullopt;
    return fields[static_cast<size_t>(col)];
  };
  auto email = at(email_col_), name = at(name_col_), hash = at(hash_col_);
  if (!email || !name || !hash)
    return import_item{import_problem{
      first, "only " + std::to_string(fields.size()) + " columns"}};
  import_row r{first, trim(*email), *name, trim(*hash), std::nullopt};
  if (auto created = at(created_col_); created && !trim(*created).empty()) {
    r.created_at = parse_created_at(*created);
    if (!r.created_at)
      return import_item{import_problem{
        first, "created_at is neither unix seconds nor an ISO 8601 time"}};
  }
  return import_item{std::move(r)};
}

std::optional<import_item> import_reader::next_jsonl() {
  std::string line;
  do {
    if (!std::getline(in_, line))
      return std::nullopt;
    ++line_;
  } while (trim(line).empty() || line == "\r");
  auto obj = nlohmann::json::parse(line, nullptr, false);
  if (!obj.is_object())
    return import_item{import_problem{line_, "not a JSON object"}};
  auto text = [&](const char* key) -> std::optional<std::string> {
    auto i = obj.find(key);
    if (i == obj.end() || !i->is_string())
      return std::nullopt;
    return i->get<std::string>();
  };
  import_row r{line_, text("email").value_or(""), text("name").value_or(""),
               text("hash").value_or(""), std::nullopt};
  for (auto key : {"email", "name", "hash"})
    if (!text(key))
      return import_item{
        import_problem{line_, std::string{"no string member \""} + key + "\""}};
  if (auto i = obj.find("created_at"); i != obj.end() && !i->is_null()) {
    if (i->is_number_integer())
      r.created_at = i->get<int64_t>();
    else if (i->is_string())
      r.created_at = parse_created_at(i->get<std::string>());
    if (!r.created_at)
      return import_item{import_problem{
        line_, "created_at is neither unix seconds nor an ISO 8601 time"}};
  }
  return import_item{std::move(r)};
}

std::optional<import_item> import_reader::next() {
  return format_ == import_format::csv ? next_csv() : next_jsonl();
}

size_t count_lines(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f)
    return 0;
  size_t lines = 0;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0)
    lines += static_cast<size_t>(std::count(buf, buf + n, '\n'));
  std::fclose(f);
  return lines;
}

} // namespace authnode::ctl
