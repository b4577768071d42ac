// End to end: an INI file is checked as strictly as the command line
// (issue 19). Every option of config/options.def, given a value of the
// wrong type and one out of its range in a file, stops the node before it
// listens, with the file, the line and the option named; so does an
// unknown key. The options come from the table itself, so a new option is
// covered the day it is added.
#include <catch2/catch.hpp>

#include <cstdint>
#include <fstream>
#include <string>
#include <type_traits>
#include <vector>

#include <caf/timespan.hpp>

#include "support/node_process.hpp"
#include "support/temp_dir.hpp"

using namespace authnode::test;

namespace {

struct bad_value {
  std::string option;
  std::string value;
};

/// A value of the wrong type for an option of type T.
template <class T>
std::string wrong_type() {
  if constexpr (std::is_same_v<T, std::string>)
    return "42";
  else if constexpr (std::is_same_v<T, bool>)
    return "\"yes\"";
  else
    return "\"2\""; // a string where a number or a duration goes
}

/// A value out of range for an option of type T; empty if the type has no
/// range (strings, flags). Ranges of the option itself (--hashers between
/// -1 and 1024) are checked by resolve(); a negative duration is out of
/// every duration option's range.
template <class T>
std::string out_of_range() {
  if constexpr (std::is_same_v<T, uint16_t>)
    return "70000";
  else if constexpr (std::is_same_v<T, uint32_t>)
    return "4294967296";
  else if constexpr (std::is_same_v<T, uint64_t>)
    return "-1";
  else if constexpr (std::is_same_v<T, int32_t>)
    return "2147483648";
  else if constexpr (std::is_same_v<T, caf::timespan>)
    return "-1s";
  else
    return {};
}

std::vector<bad_value> bad_values() {
  std::vector<bad_value> out;
#define AUTHNODE_OPTION(type, field, name, fallback, help)                     \
  out.push_back({name, wrong_type<type>()});                                   \
  if (auto v = out_of_range<type>(); !v.empty())                               \
    out.push_back({name, v});
#include "config/options.def"
  out.push_back({"prot", "7411"});
  return out;
}

} // namespace

TEST_CASE("a bad value in the INI file stops the node, naming file, line "
          "and option",
          "[config]") {
  temp_dir dir;
  auto ini = dir.file("node.ini");
  for (auto& bad : bad_values()) {
    INFO(bad.option << "=" << bad.value);
    {
      std::ofstream out{ini};
      out << "; line 1\n[global]\n" << bad.option << "=" << bad.value << "\n";
    }
    auto result = run_node_to_exit(
      {"--config-file=" + ini, "--db=" + dir.file("auth.db"), "--port=0",
       "--admin-port=0"},
      std::chrono::seconds(10));
    INFO(result.output);
    CHECK(result.status == 2);
    CHECK(result.output.find(ini + ":3: ") != std::string::npos);
    CHECK(result.output.find(bad.option) != std::string::npos);
    CHECK(result.output.find("listening on") == std::string::npos);
  }
}

TEST_CASE("dump-config prints every option with its effective value",
          "[config]") {
  temp_dir dir;
  auto ini = dir.file("node.ini");
  {
    std::ofstream out{ini};
    out << "[global]\nmin-password=12\nfailure-delay=500ms\n";
  }
  auto result = run_node_to_exit(
    {"--config-file=" + ini, "--failure-delay=750ms", "--dump-config"},
    std::chrono::seconds(10));
  CHECK(result.status == 0);
  CHECK(result.output.find("[global]\n") == 0);
  CHECK(result.output.find("\nmin-password=12\n") != std::string::npos);
  CHECK(result.output.find("\nfailure-delay=750ms\n") != std::string::npos);
  CHECK(result.output.find("\nhost=\"127.0.0.1\"\n") != std::string::npos);
  CHECK(result.output.find("\nsmtp-url=\"\"\n") != std::string::npos);
  // What it prints reads back as a config file that starts a node alike.
  {
    std::ofstream out{ini};
    out << result.output;
  }
  auto again = run_node_to_exit({"--config-file=" + ini, "--dump-config"},
                                std::chrono::seconds(10));
  CHECK(again.status == 0);
  CHECK(again.output == result.output);
}
