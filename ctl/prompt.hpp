// Passwords for authctl: asked on the terminal without echo, or read as one
// line from standard input when that is not a terminal (scripts pipe them
// in). Never from the command line, where `ps` and shell history show them.
#pragma once

#include <optional>
#include <string>

namespace authnode::ctl {

/// Asks with `question` on /dev/tty with echo off when stdin is a terminal;
/// otherwise reads one line from stdin. nullopt: no input (end of file).
std::optional<std::string> read_password(const std::string& question);

/// A new password: asked twice on a terminal (nullopt and a message on
/// stderr when the two differ), read once from a pipe.
std::optional<std::string> read_new_password(const std::string& question);

/// Asks a yes/no question on the terminal; false without one.
bool confirm(const std::string& question);

} // namespace authnode::ctl
