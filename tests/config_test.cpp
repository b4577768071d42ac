// End to end: the node reads its options from an INI file given with
// --config-file (docs/configuration.md).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "support/line_client.hpp"
#include "support/node_process.hpp"
#include "support/protocol.hpp"

using namespace authnode::test;
namespace fs = std::filesystem;

namespace {

/// The shipped config/authnode.ini: looked for upward from the node binary
/// (its build directory usually sits in the source tree), then upward from
/// the working directory. Empty if neither finds it.
fs::path shipped_ini() {
  std::error_code ec;
  for (auto start : {fs::absolute(AUTHNODE_BINARY, ec).parent_path(),
                     fs::current_path(ec)}) {
    for (auto dir = start; !dir.empty(); dir = dir.parent_path()) {
      auto candidate = dir / "config" / "authnode.ini";
      if (fs::is_regular_file(candidate, ec))
        return candidate;
      if (dir == dir.root_path())
        break;
    }
  }
  return {};
}

std::vector<std::string> with_config_file(const fs::path& ini) {
  auto args = fast_options();
  args.push_back("--config-file=" + ini.string());
  return args;
}

} // namespace

TEST_CASE("the shipped config/authnode.ini starts a node") {
  auto ini = shipped_ini();
  INFO("AUTHNODE_BINARY: " << AUTHNODE_BINARY);
  REQUIRE_FALSE(ini.empty());
  // The harness's --port=0 and --db beat the file's port and db.
  node_process node{with_config_file(ini)};
  line_client c{node.port()};
  CHECK(c.call({{"id", "p"}, {"op", "ping"}})
        == json{{"id", "p"}, {"ok", true}});
}

TEST_CASE("a value from the INI file takes effect, the command line wins") {
  temp_dir dir;
  auto ini = fs::path{dir.path()} / "node.ini";
  {
    std::ofstream out{ini};
    out << "; written by config_test\n"
        << "[global]\n"
        << "min-password=12\n"
        // Overridden by the harness's --db: if the file won, the node could
        // not open the database (no such directory) and would not start.
        << "db=\"" << dir.path() << "/missing/auth.db\"\n";
  }
  node_process node{with_config_file(ini)};
  line_client c{node.port()};
  auto weak = register_user(c, "ann@example.org", "0123456789");
  CHECK(error_code(weak) == "weak_password");
  CHECK(weak["error"]["message"] == "the password must have at least 12 bytes");
  CHECK(succeeded(register_user(c, "ann@example.org", "0123456789ab")));
}
