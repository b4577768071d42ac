// A fresh directory under /tmp for one test, removed with everything in it
// when the test ends: where a node keeps its database, or where a store test
// opens files of its own. One type for every test, so that none leaves
// files behind in its own way.
#pragma once

#include <string>

namespace authnode::test {

/// Makes a new, empty directory under /tmp and returns its path; throws if
/// it cannot.
std::string make_temp_dir();

/// A temporary directory, removed with everything in it at scope exit.
class temp_dir {
public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  const std::string& path() const {
    return path_;
  }
  /// The path of `name` inside the directory.
  std::string file(const std::string& name) const {
    return path_ + "/" + name;
  }

private:
  std::string path_;
};

} // namespace authnode::test
