#include "config/ini_check.hpp"

#include <fstream>
#include <vector>

#include <caf/config_value.hpp>

namespace authnode {

namespace {

std::string trim(const std::string& s) {
  auto first = s.find_first_not_of(" \t\r");
  if (first == std::string::npos)
    return {};
  auto last = s.find_last_not_of(" \t\r");
  return s.substr(first, last - first + 1);
}

/// The line without a trailing ';' comment (a ';' inside quotes stays).
std::string without_comment(const std::string& line) {
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    auto c = line[i];
    if (c == '\\' && quoted) {
      ++i;
      continue;
    }
    if (c == '"')
      quoted = !quoted;
    else if (c == ';' && !quoted)
      return line.substr(0, i);
  }
  return line;
}

std::string where(const std::string& path, int line) {
  return path + ":" + std::to_string(line) + ": ";
}

} // namespace

std::string check_ini_file(const std::string& path,
                           const caf::config_option_set& options,
                           ini_lines& lines) {
  std::ifstream in{path};
  if (!in)
    return {}; // CAF said already whether a file it needed was missing
  std::string section = "global";
  std::string raw;
  for (int number = 1; std::getline(in, raw); ++number) {
    auto line = trim(without_comment(raw));
    if (line.empty())
      continue;
    if (line.front() == '[') {
      section = trim(line.substr(1, line.find(']') - 1));
      continue;
    }
    auto eq = line.find('=');
    if (eq == std::string::npos)
      continue; // a syntax error, which CAF reported
    auto key = trim(line.substr(0, eq));
    auto text = trim(line.substr(eq + 1));
    auto name = section == "global" ? key : section + "." + key;
    auto opt = options.qualified_name_lookup(section, key);
    if (opt == nullptr)
      return where(path, number) + "unknown option " + name
             + " (--help lists the options)";
    auto value = caf::config_value::parse(text);
    if (!value || opt->check(*value)) {
      auto tn = opt->type_name();
      std::string type{tn.begin(), tn.end()};
      return where(path, number) + name + ": " + text + " is not a valid "
             + type
             + (type == "timespan"
                  ? " (a number with a unit: 150ms, 2s, 5min, 24h)"
                  : "");
    }
    lines[section + "." + key] = number;
  }
  return {};
}

std::string locate_problem(const std::string& problem, const std::string& path,
                           const ini_lines& lines,
                           const std::vector<std::string>& cli_args) {
  if (problem.rfind("--", 0) != 0)
    return problem;
  auto name = problem.substr(2, problem.find(':') - 2);
  auto found = lines.find("global." + name);
  if (found == lines.end())
    return problem;
  for (auto& arg : cli_args)
    if (arg == "--" + name || arg.rfind("--" + name + "=", 0) == 0)
      return problem; // the command line's value counts
  return where(path, found->second) + problem;
}

} // namespace authnode
