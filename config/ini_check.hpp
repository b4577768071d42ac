// The INI file checked as strictly as the command line.
//
// CAF 0.17 reads `--config-file` (or caf-application.ini) itself, and
// stops on a syntax error, but it keeps the default of an option whose
// value has the wrong type or is out of the type's range, and ignores a
// key it does not know, without a word. An operator who writes
// `failure-delay = "2"` would get a node that runs with a value they did
// not choose. So after CAF parsed the file, it is read again here, line by
// line, and every key is checked against the options CAF knows (ours of
// config/options.def and CAF's own): an unknown key, or a value the
// option's type does not take, stops the node with the file, the line and
// the option named. Ranges of our own (--hashers between -1 and 1024, ...)
// are resolve()'s, which names the option; the line it was set on is
// added from here (ini_lines).
#pragma once

#include <map>
#include <string>
#include <vector>

#include <caf/config_option_set.hpp>

namespace authnode {

/// Where each option set in the file was set: "global.port" -> line.
using ini_lines = std::map<std::string, int>;

/// Checks the INI file at `path` against `options`; empty if every key is
/// known and every value fits its option, else one line for people, e.g.
/// "authnode.ini:12: failure-delay: "2" is not a timespan". Fills `lines`.
std::string check_ini_file(const std::string& path,
                           const caf::config_option_set& options,
                           ini_lines& lines);

/// `problem` (a message of resolve(), "--name: ...") with the file and line
/// the option was set on, if it was set in the file and not on the command
/// line (`cli_args`).
std::string locate_problem(const std::string& problem, const std::string& path,
                           const ini_lines& lines,
                           const std::vector<std::string>& cli_args);

} // namespace authnode
