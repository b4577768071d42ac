#include "support/node_process.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <stdexcept>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/databases.hpp"
#include "support/db_peek.hpp"
#include "support/secret_registry.hpp"

namespace authnode::test {

namespace {

bool has_option(const std::vector<std::string>& args, const std::string& name) {
  return std::any_of(args.begin(), args.end(), [&](auto& arg) {
    return arg.rfind(name, 0) == 0;
  });
}

/// The end-to-end suite's run on PostgreSQL (AUTHNODE_TEST_DB=postgresql,
/// tests/CMakeLists.txt): nodes that hold a database get one there.
bool on_postgres(const std::vector<std::string>& args) {
  auto* which = std::getenv("AUTHNODE_TEST_DB");
  if (which == nullptr || std::string{which} != "postgresql")
    return false;
  return !has_option(args, "--role=hasher")
    && !has_option(args, "--role=gateway");
}

/// The PostgreSQL database of the nodes started on `dir`: made for the
/// first, the same for the next (a restart), named in dir/postgres-uri.
std::string postgres_database_for(const std::string& dir) {
  if (auto uri = postgres_uri_of(dir); !uri.empty())
    return uri;
  auto uri = postgres_database();
  std::ofstream{dir + "/postgres-uri"} << uri << '\n';
  return uri;
}

using namespace std::chrono_literals;

/// Where a sanitizer report starts in `log`, or npos. ASan and LSan start
/// theirs with "==PID==ERROR: ...", UBSan with "file:line:col: runtime error".
size_t sanitizer_report_start(const std::string& log) {
  size_t first = std::string::npos;
  for (auto marker : {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                      "AddressSanitizer:DEADLYSIGNAL", "runtime error:"}) {
    auto at = log.find(marker);
    if (at == std::string::npos)
      continue;
    auto line = log.rfind('\n', at);
    first = std::min(first, line == std::string::npos ? 0 : line + 1);
  }
  return first;
}

/// `log` with the node's own words in its audit lines blanked (made spaces,
/// so that offsets stay) where a test used the same words as a secret. The
/// members event, op, outcome and reason are filled from the node's
/// vocabulary, and some tests send "wrong password" as a password, which is
/// also a reason: equal to the whole member, that is chance. A secret inside
/// a longer value, or in any other member or line, still counts.
std::string without_audit_vocabulary(const std::string& log,
                                     const secret_registry& secrets) {
  std::string out;
  out.reserve(log.size());
  size_t start = 0;
  while (start < log.size()) {
    auto nl = log.find('\n', start);
    auto end = nl == std::string::npos ? log.size() : nl + 1;
    auto line = log.substr(start, end - start);
    start = end;
    auto audit = nlohmann::json::parse(line, nullptr, false);
    if (audit.is_object() && audit.value("event", "") == "auth") {
      for (auto field : {"event", "op", "outcome", "reason"}) {
        auto i = audit.find(field);
        if (i == audit.end() || !i->is_string()
            || !secrets.contains(i->get_ref<const std::string&>()))
          continue;
        auto key = nlohmann::json(field).dump() + ":";
        auto value = i->dump();
        auto at = line.find(key + value);
        if (at != std::string::npos)
          line.replace(at + key.size() + 1, value.size() - 2, value.size() - 2,
                       ' ');
      }
    }
    out += line;
  }
  return out;
}

/// The line of `text` around `offset`.
std::string line_at(const std::string& text, size_t offset) {
  auto begin = text.rfind('\n', offset);
  begin = begin == std::string::npos ? 0 : begin + 1;
  auto end = text.find('\n', offset);
  return text.substr(begin, end == std::string::npos ? end : end - begin);
}

std::string tail(const std::string& text, size_t n) {
  return text.size() > n ? text.substr(text.size() - n) : text;
}

/// Starts AUTHNODE_BINARY with `args`; its stderr (and with `with_stdout`
/// its stdout) goes to a pipe. Returns the pid and the pipe's read end.
std::pair<pid_t, int> start_binary(const std::vector<std::string>& args,
                                   bool with_stdout) {
  int out_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0)
    throw std::runtime_error("pipe failed");
  std::vector<std::string> argv_s{AUTHNODE_BINARY};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  auto pid = fork();
  if (pid == 0) {
    if (with_stdout)
      dup2(out_pipe[1], STDOUT_FILENO);
    dup2(out_pipe[1], STDERR_FILENO);
    std::vector<char*> argv;
    for (auto& s : argv_s)
      argv.push_back(s.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(out_pipe[1]);
  return {pid, out_pipe[0]};
}

} // namespace

std::vector<secret_registry::leak>
secrets_in_log(const std::string& log, const secret_registry& secrets) {
  auto leaks = secrets.find_in(without_audit_vocabulary(log, secrets));
  std::sort(leaks.begin(), leaks.end(), [](auto& a, auto& b) {
    return a.offset < b.offset;
  });
  return leaks;
}

std::vector<std::string> fast_options() {
  return {"--hash-ops=1", "--hash-mem=8192", "--failure-delay=300ms",
          "--hashers=2"};
}

exit_result run_node_to_exit(const std::vector<std::string>& args,
                             std::chrono::milliseconds limit) {
  auto [pid, out_fd] = start_binary(args, true);
  exit_result result;
  auto deadline = std::chrono::steady_clock::now() + limit;
  char buf[4096];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      break;
    pollfd p{out_fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0)
      break;
    auto n = ::read(out_fd, buf, sizeof(buf));
    if (n <= 0)
      break;
    result.output.append(buf, static_cast<size_t>(n));
  }
  close(out_fd);
  // The output ends a little before the process does.
  int status = 0;
  bool gone = false;
  while (!(gone = waitpid(pid, &status, WNOHANG) == pid)
         && std::chrono::steady_clock::now() < deadline)
    poll(nullptr, 0, 10);
  if (!gone) {
    ::kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return result;
  }
  if (WIFEXITED(status))
    result.status = WEXITSTATUS(status);
  return result;
}

node_process::node_process(std::vector<std::string> args, std::string db_dir)
  : db_dir_(std::move(db_dir)) {
  if (db_dir_.empty()) {
    db_dir_ = make_temp_dir();
    own_dir_ = true;
  }
  std::vector<std::string> argv_s{"--port=0", "--admin-port=0"};
  // A test that names its database (PostgreSQL) keeps the admin key in the
  // directory all the same, where admin_key() reads it.
  bool own_db = has_option(args, "--db=");
  if (!own_db && on_postgres(args)) {
    // Where an SQLite node would keep its keys, for tests that read them.
    argv_s.push_back("--db=" + postgres_database_for(db_dir_));
    if (!has_option(args, "--secret-key-file="))
      argv_s.push_back("--secret-key-file=" + db_dir_ + "/auth.db.secret-key");
    own_db = true;
  }
  if (own_db)
    argv_s.push_back("--admin-key-file=" + db_dir_ + "/auth.db.admin-key");
  else
    argv_s.push_back("--db=" + db_dir_ + "/auth.db");
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  auto [pid, err_fd] = start_binary(argv_s, false);
  pid_ = pid;
  reader_ = std::thread([this, fd = err_fd] {
    read_stderr(fd);
  });
  // Wait for "listening on HOST:PORT" and "admin channel on HOST:PORT" (a
  // storage or hasher node: "node port on HOST:PORT"), at most 20 s.
  static const std::regex listening{"listening on [^ ]*:([0-9]+)"};
  static const std::regex admin_on{"admin channel on [^ ]*:([0-9]+)"};
  static const std::regex node_port_on{"node port on [^ ]*:([0-9]+)"};
  bool node_role = std::any_of(args.begin(), args.end(), [](auto& arg) {
    return arg == "--role=storage" || arg == "--role=hasher";
  });
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    std::smatch m;
    std::smatch a;
    auto text = log();
    if (node_role && std::regex_search(text, m, node_port_on)) {
      port_ = static_cast<uint16_t>(std::stoi(m[1]));
      return;
    }
    if (!node_role && std::regex_search(text, m, listening)
        && std::regex_search(text, a, admin_on)) {
      port_ = static_cast<uint16_t>(std::stoi(m[1]));
      admin_port_ = static_cast<uint16_t>(std::stoi(a[1]));
      return;
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      reader_.join(); // a throwing constructor runs no destructor
      remove_own_dir();
      throw std::runtime_error("authnode exited at start:\n" + log());
    }
    poll(nullptr, 0, 10);
  }
  kill_hard(); // joins the reader too
  remove_own_dir();
  throw std::runtime_error("authnode did not start listening:\n" + log());
}

node_process::~node_process() {
  // A node the test leaves running is stopped as an operator would stop it,
  // so every end-to-end test also checks a clean shutdown and, in the
  // sanitizer build, that the node frees what it allocated (LeakSanitizer
  // runs at exit, which SIGKILL would skip).
  if (pid_ > 0) {
    auto status = stop(10s);
    if (status != 0)
      FAIL_CHECK("after SIGTERM the node's exit status is "
                 << status << " (-1: a signal, or not gone in 10 s), not 0;"
                 << " the end of its log:\n"
                 << tail(log(), 5000));
  }
  if (reader_.joinable())
    reader_.join();
  // Again: replies read after the stop (held failures, the drain) may have
  // brought more tokens to look for.
  check_secrets();
  remove_own_dir();
}

void node_process::remove_own_dir() {
  if (!own_dir_)
    return;
  std::error_code ec;
  std::filesystem::remove_all(db_dir_, ec);
  own_dir_ = false;
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

int node_process::stop(std::chrono::milliseconds limit) {
  if (pid_ <= 0)
    return -1;
  ::kill(pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + limit;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      if (reader_.joinable())
        reader_.join();
      check_sanitizer_report();
      check_secrets();
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
  check_sanitizer_report();
  check_secrets();
}

void node_process::check_sanitizer_report() {
  // Built with AUTHNODE_SANITIZE, the node writes its sanitizer reports to
  // stderr and aborts (or, for leaks, exits non-zero). The test would only
  // see a closed connection or an exit code: show the report itself.
  if (report_checked_)
    return;
  report_checked_ = true;
  auto text = log();
  auto start = sanitizer_report_start(text);
  if (start != std::string::npos)
    FAIL_CHECK("the node's sanitizer report:\n" << text.substr(start, 30000));
}

bool node_process::wait_for_log(const std::string& text, size_t times,
                                std::chrono::milliseconds limit) const {
  auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    auto all = log();
    size_t seen = 0;
    for (auto at = all.find(text); at != std::string::npos;
         at = all.find(text, at + text.size()))
      ++seen;
    if (seen >= times)
      return true;
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    poll(nullptr, 0, 10);
  }
}

std::string node_process::admin_key() const {
  std::ifstream in{db_dir_ + "/auth.db.admin-key"};
  std::string key;
  std::getline(in, key);
  return key;
}

void node_process::check_secrets() {
  // The node logs to stderr, and its audit lines go there too unless a test
  // chose --audit: neither may ever hold a password or a token.
  if (secret_reported_)
    return;
  auto text = log();
  auto leaks = secrets_in_log(text);
  if (leaks.empty())
    return;
  secret_reported_ = true;
  std::string where;
  for (size_t i = 0; i < leaks.size() && i < 10; ++i)
    where += "  a " + leaks[i].kind + " at byte "
      + std::to_string(leaks[i].offset) + ", in the line: "
      + secret_registry::global().redact(line_at(text, leaks[i].offset)) + "\n";
  FAIL_CHECK("the node's log holds " << leaks.size()
                                     << " secret(s) a test sent or received"
                                     << " (each shown as <kind>):\n"
                                     << where);
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
