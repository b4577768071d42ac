#include "ctl/table.hpp"

#include <algorithm>

namespace authnode::ctl {

void print_table(std::ostream& out, const row& header,
                 const std::vector<row>& rows) {
  std::vector<size_t> width(header.size(), 0);
  auto measure = [&](const row& r) {
    for (size_t i = 0; i < r.size() && i < width.size(); ++i)
      width[i] = std::max(width[i], r[i].size());
  };
  measure(header);
  for (auto& r : rows)
    measure(r);
  auto print = [&](const row& r) {
    for (size_t i = 0; i < r.size() && i < width.size(); ++i) {
      out << r[i];
      if (i + 1 < r.size())
        out << std::string(width[i] - r[i].size() + 2, ' ');
    }
    out << '\n';
  };
  print(header);
  for (auto& r : rows)
    print(r);
}

void print_record(std::ostream& out,
                  const std::vector<std::pair<std::string, std::string>>& kv) {
  size_t width = 0;
  for (auto& [key, value] : kv)
    width = std::max(width, key.size());
  for (auto& [key, value] : kv)
    out << key << ':' << std::string(width - key.size() + 2, ' ') << value
        << '\n';
}

std::string cell(const nlohmann::json& value) {
  if (value.is_null())
    return "-";
  if (value.is_string())
    return value.get<std::string>();
  if (value.is_boolean())
    return value.get<bool>() ? "yes" : "no";
  if (value.is_array()) { // a list of names, such as second_factors
    if (value.empty())
      return "-";
    std::string joined;
    for (auto& item : value)
      joined += (joined.empty() ? "" : ", ") + cell(item);
    return joined;
  }
  return value.dump();
}

} // namespace authnode::ctl
