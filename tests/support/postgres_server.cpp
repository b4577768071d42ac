#include "support/postgres_server.hpp"

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "support/program.hpp"

namespace authnode::test {

namespace {

/// Debian keeps each major version's programs under its own directory.
std::string pg_bin(const std::string& program) {
  for (auto version : {"15", "16", "17"}) {
    auto path = std::string{"/usr/lib/postgresql/"} + version + "/bin/"
      + program;
    if (access(path.c_str(), X_OK) == 0)
      return path;
  }
  throw std::runtime_error("no PostgreSQL server programs under "
                           "/usr/lib/postgresql (scripts/test.sh installs "
                           "postgresql)");
}

/// A port nothing listens on right now (the server binds it next).
uint16_t free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0
      || getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    throw std::runtime_error("no free port for PostgreSQL");
  close(fd);
  return ntohs(addr.sin_port);
}

bool running_as_root() {
  return geteuid() == 0;
}

} // namespace

postgres_server::postgres_server(bool synchronous) : data_(dir_.file("data")) {
  own_directory();
  std::string out;
  if (run("initdb",
          {"-D", data_, "-U", "authnode", "--auth=trust", "--encoding=UTF8",
           "--no-sync"},
          &out)
      != 0)
    throw std::runtime_error("initdb failed:\n" + out);
  // initdb's pg_hba.conf trusts replication connections on loopback.
  start(synchronous ? " -c synchronous_standby_names='*'" : "");
}

postgres_server::postgres_server(standby_of of) : data_(dir_.file("data")) {
  own_directory();
  std::string out;
  if (run("pg_basebackup",
          {"-h", "127.0.0.1", "-p", std::to_string(of.primary.port()), "-U",
           "authnode", "-D", data_, "-R", "--checkpoint=fast", "--no-sync"},
          &out)
      != 0)
    throw std::runtime_error("pg_basebackup failed:\n" + out);
  start("");
}

void postgres_server::own_directory() {
  if (!running_as_root())
    return;
  auto* pg = getpwnam("postgres");
  if (pg == nullptr)
    throw std::runtime_error("running as root, and there is no postgres "
                             "user to run PostgreSQL as");
  if (chown(dir_.path().c_str(), pg->pw_uid, pg->pw_gid) != 0)
    throw std::runtime_error("cannot hand " + dir_.path() + " to postgres");
}

void postgres_server::start(const std::string& extra) {
  port_ = free_port();
  auto options = "-p " + std::to_string(port_)
    + " -c listen_addresses=127.0.0.1 -c unix_socket_directories=" + dir_.path()
    + " -c fsync=off" + extra;
  std::string out;
  if (run("pg_ctl",
          {"-D", data_, "-l", dir_.file("server.log"), "-o", options, "-w",
           "-t", "30", "start"},
          &out)
      != 0)
    throw std::runtime_error("PostgreSQL did not start:\n" + out + log());
  started_ = true;
}

postgres_server::~postgres_server() {
  if (started_)
    run("pg_ctl", {"-D", data_, "-m", "immediate", "-w", "-t", "30", "stop"});
}

void postgres_server::kill() {
  std::ifstream pid_file{data_ + "/postmaster.pid"};
  pid_t pid = 0;
  if (!(pid_file >> pid) || pid <= 0)
    throw std::runtime_error("no postmaster.pid in " + data_);
  // pg_ctl starts the postmaster in a session of its own: its process group
  // holds every backend too.
  if (::kill(-pid, SIGKILL) != 0 && ::kill(pid, SIGKILL) != 0)
    throw std::runtime_error("cannot kill PostgreSQL");
  started_ = false;
}

void postgres_server::promote() {
  std::string out;
  if (run("pg_ctl", {"-D", data_, "-w", "-t", "30", "promote"}, &out) != 0)
    throw std::runtime_error("the standby was not promoted:\n" + out + log());
}

std::string postgres_server::uri(const std::string& database) const {
  return "postgresql://authnode@127.0.0.1:" + std::to_string(port_) + "/"
    + database;
}

std::string postgres_server::log() const {
  std::ifstream in{dir_.file("server.log")};
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

int postgres_server::run(const std::string& program,
                         const std::vector<std::string>& args,
                         std::string* output) const {
  program_run how;
  how.limit = std::chrono::seconds(60);
  std::string path = pg_bin(program);
  if (running_as_root()) {
    how.args = {"-u", "postgres", "--", path};
    how.args.insert(how.args.end(), args.begin(), args.end());
    path = "/usr/sbin/runuser";
  } else {
    how.args = args;
  }
  auto result = run_program(path, how);
  if (output)
    *output = result.out + result.err;
  return result.status;
}

} // namespace authnode::test
