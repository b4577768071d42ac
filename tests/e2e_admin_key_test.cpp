// End to end: the admin key file. The node makes it at first start (mode
// 0600, a 32-byte key in base64url) and refuses to start with one that
// others may read or that holds no key.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include <sys/stat.h>

#include "support/node_process.hpp"

using namespace authnode::test;
namespace fs = std::filesystem;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

void write_file(const std::string& path, const std::string& text, mode_t mode) {
  {
    std::ofstream out{path, std::ios::binary | std::ios::trunc};
    out << text;
  }
  REQUIRE(::chmod(path.c_str(), mode) == 0);
}

/// Starts a node with `key_file` as its admin key file; returns how it ended.
exit_result start_with_key(const temp_dir& dir, const std::string& key_file) {
  auto args = fast_options();
  args.insert(args.end(),
              {"--port=0", "--admin-port=0", "--db=" + dir.path() + "/auth.db",
               "--admin-key-file=" + key_file});
  return run_node_to_exit(args);
}

const std::string valid_key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n";

} // namespace

TEST_CASE(
  "the first start makes an admin key file readable by its owner only") {
  temp_dir dir;
  auto key_path = dir.path() + "/auth.db.admin-key";
  std::string key;
  {
    node_process node{fast_options(), dir.path()};
    REQUIRE(fs::exists(key_path));
    struct stat info {};
    REQUIRE(::stat(key_path.c_str(), &info) == 0);
    CHECK((info.st_mode & 07777) == 0600);
    key = read_file(key_path);
    REQUIRE(key.size() == 44); // 43 base64url characters and a line end
    CHECK(key.back() == '\n');
    CHECK(key.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrs"
                                "tuvwxyz0123456789-_")
          == 43);
    CHECK(node.log().find("created admin key file") != std::string::npos);
    CHECK(node.log().find(key.substr(0, 43)) == std::string::npos);
  }
  // The next start reuses it.
  node_process again{fast_options(), dir.path()};
  CHECK(read_file(key_path) == key);
  CHECK(again.log().find("created admin key file") == std::string::npos);
}

TEST_CASE("the key file named by --admin-key-file is used") {
  temp_dir dir;
  auto key_path = dir.path() + "/elsewhere.key";
  write_file(key_path, valid_key, 0600);
  auto args = fast_options();
  args.push_back("--admin-key-file=" + key_path);
  node_process node{args, dir.path()};
  CHECK(read_file(key_path) == valid_key);
  CHECK_FALSE(fs::exists(dir.path() + "/auth.db.admin-key"));
}

TEST_CASE("the node refuses a key file that group or others may use") {
  temp_dir dir;
  auto key_path = dir.path() + "/admin.key";
  for (mode_t mode : {0640, 0604, 0620, 0602, 0660}) {
    write_file(key_path, valid_key, mode);
    auto result = start_with_key(dir, key_path);
    INFO("mode " << std::oct << mode << ", output: " << result.output);
    CHECK(result.status == 2);
    CHECK(result.output.find("may be read or written by group or others")
          != std::string::npos);
    CHECK(result.output.find("listening on") == std::string::npos);
  }
}

TEST_CASE("the node refuses a key file that holds no key") {
  temp_dir dir;
  auto key_path = dir.path() + "/admin.key";
  for (std::string content :
       {std::string{}, std::string{"\n"}, std::string{"hunter2\n"},
        valid_key.substr(0, 42) + "\n", valid_key + "more\n",
        std::string(43, '*') + "\n"}) {
    write_file(key_path, content, 0600);
    auto result = start_with_key(dir, key_path);
    INFO("content: " << content << ", output: " << result.output);
    CHECK(result.status == 2);
    CHECK(result.output.find("does not hold a key") != std::string::npos);
  }
}

TEST_CASE("the node refuses a key file it cannot create") {
  temp_dir dir;
  auto result = start_with_key(dir, dir.path() + "/no/such/dir/admin.key");
  INFO(result.output);
  CHECK(result.status == 2);
  CHECK(result.output.find("cannot create admin key file")
        != std::string::npos);
}
