#include "support/smtp_sink.hpp"

#include <algorithm>
#include <cctype>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/node_process.hpp"
#include "support/temp_dir.hpp"

namespace authnode::test {

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

/// Reads `fd` until a "port N" line, at most `limit`; 0 if none came.
uint16_t read_port_line(int fd, std::chrono::milliseconds limit) {
  static const std::regex port_line{"port ([0-9]+)\n"};
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + limit;
  char buf[256];
  for (;;) {
    std::smatch m;
    if (std::regex_search(out, m, port_line))
      return static_cast<uint16_t>(std::stoi(m[1]));
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) <= 0)
      return 0;
    auto n = ::read(fd, buf, sizeof(buf));
    if (n <= 0)
      return 0;
    out.append(buf, static_cast<size_t>(n));
  }
}

/// Waits for `pid` at most `limit`; true when it was reaped.
bool reap(pid_t pid, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) != pid) {
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    poll(nullptr, 0, 5);
  }
  return true;
}

std::string read_whole(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  return s;
}

} // namespace

smtp_sink::smtp_sink(uint16_t port, std::string host)
  : host_(std::move(host)), dir_(make_temp_dir()) {
  mail_dir_ = dir_ + "/mail";
  reject_file_ = dir_ + "/reject";
  fs::create_directory(mail_dir_);
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0)
    throw std::runtime_error("pipe failed");
  std::vector<std::string> args{AUTHNODE_PYTHON_BINARY,
                                AUTHNODE_SOURCE_DIR
                                "/tests/support/smtp_sink.py",
                                "--dir",
                                mail_dir_,
                                "--host",
                                host_,
                                "--port",
                                std::to_string(port),
                                "--reject-while",
                                reject_file_};
  auto pid = fork();
  if (pid == 0) {
    dup2(out[1], STDOUT_FILENO);
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(out[1]);
  pid_ = pid;
  port_ = pid > 0 ? read_port_line(out[0], 10s) : 0;
  close(out[0]);
  if (port_ == 0) {
    stop();
    std::error_code ec;
    fs::remove_all(dir_, ec);
    throw std::runtime_error("the SMTP sink (" + args[1]
                             + ") did not start listening");
  }
}

smtp_sink::~smtp_sink() {
  stop();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

std::string smtp_sink::url() const {
  return "smtp://" + host_ + ":" + std::to_string(port_);
}

std::vector<std::string> smtp_sink::messages() const {
  std::vector<fs::path> files;
  std::error_code ec;
  for (auto& entry : fs::directory_iterator(mail_dir_, ec))
    if (entry.path().extension() == ".eml")
      files.push_back(entry.path());
  // NNNN.eml: the names sort in the order the mails arrived.
  std::sort(files.begin(), files.end());
  std::vector<std::string> out;
  for (auto& f : files)
    out.push_back(read_whole(f));
  return out;
}

bool smtp_sink::wait_for(size_t n, std::chrono::milliseconds limit) const {
  auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    if (messages().size() >= n)
      return true;
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    poll(nullptr, 0, 10);
  }
}

void smtp_sink::reject(bool on) {
  if (on) {
    std::ofstream{reject_file_};
  } else {
    std::error_code ec;
    fs::remove(reject_file_, ec);
  }
}

void smtp_sink::stop() {
  if (pid_ <= 0)
    return;
  ::kill(pid_, SIGTERM);
  if (!reap(pid_, 5s)) {
    ::kill(pid_, SIGKILL);
    reap(pid_, 5s);
  }
  pid_ = -1;
}

std::string mail_header(const std::string& raw, const std::string& name) {
  auto end = raw.find("\r\n\r\n");
  auto head = raw.substr(0, end);
  auto want = lower(name) + ":";
  size_t at = 0;
  while (at < head.size()) {
    auto eol = head.find("\r\n", at);
    auto line = head.substr(at, eol == std::string::npos ? eol : eol - at);
    at = eol == std::string::npos ? head.size() : eol + 2;
    if (lower(line.substr(0, want.size())) != want)
      continue;
    auto value = line.substr(want.size());
    // Folded: following lines that start with white space belong to it.
    while (at < head.size() && (head[at] == ' ' || head[at] == '\t')) {
      eol = head.find("\r\n", at);
      value += head.substr(at, eol == std::string::npos ? eol : eol - at);
      at = eol == std::string::npos ? head.size() : eol + 2;
    }
    auto first = value.find_first_not_of(" \t");
    return first == std::string::npos ? "" : value.substr(first);
  }
  return "";
}

std::string mail_body(const std::string& raw) {
  auto end = raw.find("\r\n\r\n");
  if (end == std::string::npos)
    return "";
  auto body = raw.substr(end + 4);
  std::string out;
  out.reserve(body.size());
  for (size_t i = 0; i < body.size(); ++i)
    if (!(body[i] == '\r' && i + 1 < body.size() && body[i + 1] == '\n'))
      out += body[i];
  return out;
}

std::optional<std::string> code_in(const std::string& raw) {
  static const std::regex code{"[0-9A-Z]{4}-[0-9A-Z]{4}"};
  auto body = mail_body(raw);
  std::smatch m;
  if (!std::regex_search(body, m, code))
    return std::nullopt;
  return m.str();
}

std::vector<std::string> mail_options(const smtp_sink& sink,
                                      std::vector<std::string> more) {
  auto args = fast_options();
  for (auto x : {"--smtp-url=" + sink.url(),
                 std::string{"--mail-from=noreply@example.org"},
                 std::string{"--app-url=https://app.example.org"},
                 std::string{"--mail-retry=100ms"},
                 std::string{"--recovery-reply-time=200ms"}})
    args.push_back(x);
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

} // namespace authnode::test
