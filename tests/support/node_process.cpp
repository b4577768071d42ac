#include "support/node_process.hpp"

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <stdexcept>

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

namespace authnode::test {

namespace {

using namespace std::chrono_literals;

std::string make_temp_dir() {
  char tmpl[] = "/tmp/authnode-test-XXXXXX";
  if (mkdtemp(tmpl) == nullptr)
    throw std::runtime_error("mkdtemp failed");
  return tmpl;
}

} // namespace

temp_dir::temp_dir() : path_(make_temp_dir()) {}

temp_dir::~temp_dir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::vector<std::string> fast_options() {
  return {"--hash-ops=1", "--hash-mem=8192", "--failure-delay=300ms",
          "--hashers=2"};
}

node_process::node_process(std::vector<std::string> args, std::string db_dir)
  : db_dir_(std::move(db_dir)) {
  if (db_dir_.empty()) {
    db_dir_ = make_temp_dir();
    own_dir_ = true;
  }
  int err_pipe[2];
  if (pipe2(err_pipe, O_CLOEXEC) != 0)
    throw std::runtime_error("pipe failed");
  std::vector<std::string> argv_s{AUTHNODE_BINARY, "--port=0",
                                  "--db=" + db_dir_ + "/auth.db"};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  pid_ = fork();
  if (pid_ == 0) {
    dup2(err_pipe[1], STDERR_FILENO);
    std::vector<char*> argv;
    for (auto& s : argv_s)
      argv.push_back(s.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(err_pipe[1]);
  reader_ = std::thread([this, fd = err_pipe[0]] {
    read_stderr(fd);
  });
  // Wait for "listening on HOST:PORT", at most 20 s.
  static const std::regex listening{"listening on [^ ]*:([0-9]+)"};
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    std::smatch m;
    auto text = log();
    if (std::regex_search(text, m, listening)) {
      port_ = static_cast<uint16_t>(std::stoi(m[1]));
      return;
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      reader_.join(); // a throwing constructor runs no destructor
      throw std::runtime_error("authnode exited at start:\n" + log());
    }
    poll(nullptr, 0, 10);
  }
  kill_hard(); // joins the reader too
  throw std::runtime_error("authnode did not start listening:\n" + log());
}

node_process::~node_process() {
  if (pid_ > 0)
    kill_hard();
  if (reader_.joinable())
    reader_.join();
  if (own_dir_) {
    std::error_code ec;
    std::filesystem::remove_all(db_dir_, ec);
  }
}

void node_process::read_stderr(int fd) {
  char buf[4096];
  for (;;) {
    auto n = ::read(fd, buf, sizeof(buf));
    if (n <= 0)
      break;
    std::lock_guard<std::mutex> guard{mtx_};
    log_.append(buf, static_cast<size_t>(n));
  }
  close(fd);
}

std::string node_process::log() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return log_;
}

int node_process::stop() {
  if (pid_ <= 0)
    return -1;
  ::kill(pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + 30s;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      if (reader_.joinable())
        reader_.join();
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    poll(nullptr, 0, 10);
  }
  kill_hard();
  return -1;
}

void node_process::kill_hard() {
  if (pid_ <= 0)
    return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  if (reader_.joinable())
    reader_.join();
}

size_t node_process::thread_count() const {
  size_t n = 0;
  std::error_code ec;
  for (auto& entry : std::filesystem::directory_iterator(
         "/proc/" + std::to_string(pid_) + "/task", ec)) {
    (void)entry;
    ++n;
  }
  return n;
}

} // namespace authnode::test
