#include "ctl/prompt.hpp"

#include <cstdio>
#include <iostream>

#include <fcntl.h>
#include <sodium.h>
#include <termios.h>
#include <unistd.h>

namespace authnode::ctl {

namespace {

/// One line from `fd` without its line end; nullopt at end of input.
std::optional<std::string> read_line_from(int fd) {
  std::string line;
  char c;
  for (;;) {
    auto n = ::read(fd, &c, 1);
    if (n <= 0)
      return line.empty() ? std::nullopt : std::optional{line};
    if (c == '\n')
      break;
    line += c;
  }
  if (!line.empty() && line.back() == '\r')
    line.pop_back();
  return line;
}

/// Asks on the terminal with echo off, and restores it whatever happens.
std::optional<std::string> ask_hidden(const std::string& question) {
  int tty = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (tty < 0)
    return read_line_from(STDIN_FILENO);
  [[maybe_unused]] auto w = ::write(tty, question.data(), question.size());
  termios old{};
  bool is_terminal = tcgetattr(tty, &old) == 0;
  if (is_terminal) {
    auto quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;
    tcsetattr(tty, TCSAFLUSH, &quiet);
  }
  auto answer = read_line_from(tty);
  if (is_terminal)
    tcsetattr(tty, TCSAFLUSH, &old);
  ::close(tty);
  return answer;
}

} // namespace

std::optional<std::string> read_password(const std::string& question) {
  if (!isatty(STDIN_FILENO))
    return read_line_from(STDIN_FILENO);
  return ask_hidden(question);
}

std::optional<std::string> read_new_password(const std::string& question) {
  if (!isatty(STDIN_FILENO))
    return read_line_from(STDIN_FILENO);
  auto first = ask_hidden(question);
  if (!first)
    return std::nullopt;
  auto again = ask_hidden("Again: ");
  if (!again || *again != *first) {
    std::cerr << "authctl: the passwords differ\n";
    sodium_memzero(first->data(), first->size());
    return std::nullopt;
  }
  sodium_memzero(again->data(), again->size());
  return first;
}

bool confirm(const std::string& question) {
  if (!isatty(STDIN_FILENO))
    return false;
  std::cerr << question << " [y/N] " << std::flush;
  auto answer = read_line_from(STDIN_FILENO);
  return answer && (*answer == "y" || *answer == "yes");
}

} // namespace authnode::ctl
