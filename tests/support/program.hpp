// Runs a program to its end for end-to-end tests of the command-line tools
// (authctl): arguments, standard input, environment, and back its exit
// status with stdout and stderr apart, all bounded in time.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace authnode::test {

struct program_result {
  /// The exit status; -1 when it was killed by a signal or after the limit.
  int status = -1;
  std::string out;
  std::string err;
};

struct program_run {
  std::vector<std::string> args;
  /// Written to its standard input, which is then closed.
  std::string input;
  /// NAME=value entries added to the environment.
  std::vector<std::string> env;
  std::chrono::milliseconds limit = std::chrono::seconds(60);
};

/// Runs `path` with `run.args`.
program_result run_program(const std::string& path, const program_run& run);

} // namespace authnode::test
