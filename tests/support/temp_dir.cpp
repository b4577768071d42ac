#include "support/temp_dir.hpp"

#include <filesystem>
#include <stdexcept>
#include <system_error>

#include <stdlib.h>

namespace authnode::test {

std::string make_temp_dir() {
  char tmpl[] = "/tmp/authnode-test-XXXXXX";
  if (mkdtemp(tmpl) == nullptr)
    throw std::runtime_error("mkdtemp failed");
  return tmpl;
}

temp_dir::temp_dir() : path_(make_temp_dir()) {}

temp_dir::~temp_dir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

} // namespace authnode::test
