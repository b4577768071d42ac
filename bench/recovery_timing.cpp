// Does recovery_start tell, by its time, whether an account exists or is
// disabled (issue 13)? recovery_start is timed for (a) an existing enabled
// account, which queues a code and its mail in one transaction, (b) an
// email without an account and (c) a disabled account (one lookup each),
// and the medians compared: within 5% of each other. Start the node with
// mail (an SMTP sink on loopback), throttling off and a mail budget that
// does not run out, then:
//
//   authnode --throttle=off --recovery-mails=1000 --smtp-url=... &
//   recovery_timing --port=7411 --admin-port=7412 --admin-key=KEY
//                   [--samples=30]
//
// The three paths are interleaved round by round (in random order inside a
// round), one request in flight, on one connection, so drift hits all three
// alike. The emails have the same length. Run it once with the default
// --recovery-reply-time (the floor the node holds every reply to) and once
// with --recovery-reply-time=0s: the second shows what the floor hides.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

#include "load.hpp"

using namespace authnode::bench;

namespace {

using clock_type = std::chrono::steady_clock;

// All of the same length.
constexpr const char* existing = "exists@example.org";
constexpr const char* unknown = "nobody@example.org";
constexpr const char* disabled = "closed@example.org";

std::string start_line(const char* email) {
  return std::string{R"({"op":"recovery_start","email":")"} + email + "\"}\n";
}

double time_one(int fd, const char* email, std::string& reply) {
  auto line = start_line(email);
  auto t0 = clock_type::now();
  reply = call(fd, line);
  return std::chrono::duration<double, std::milli>(clock_type::now() - t0)
    .count();
}

bool set_up(int fd, int admin_fd, const std::string& key) {
  for (auto email : {existing, disabled}) {
    auto reply = call(fd, std::string{R"({"op":"register","email":")"} + email
                            + R"(","password":"timing bench password",)"
                            + R"("name":"Timing"})" + "\n");
    if (reply.find("\"ok\":true") == std::string::npos
        && reply.find("email_taken") == std::string::npos)
      return false;
  }
  auto reply = call(admin_fd, std::string{R"({"op":"user_disable","email":")"}
                                + disabled + R"(","admin_key":")" + key
                                + "\"}\n");
  return reply.find("\"ok\":true") != std::string::npos;
}

} // namespace

int main(int argc, char** argv) {
  auto port = static_cast<uint16_t>(flag(argc, argv, "--port", 0));
  auto admin_port = static_cast<uint16_t>(flag(argc, argv, "--admin-port", 0));
  auto samples = flag(argc, argv, "--samples", 30);
  std::string key;
  for (int i = 1; i < argc; ++i)
    if (std::string{argv[i]}.rfind("--admin-key=", 0) == 0)
      key = std::string{argv[i]}.substr(12);
  if (port == 0 || admin_port == 0 || key.empty() || samples < 1) {
    std::fprintf(stderr, "usage: recovery_timing --port=N --admin-port=N "
                         "--admin-key=KEY [--samples=30]\n");
    return 2;
  }
  int fd = connect_to(port);
  int admin_fd = connect_to(admin_port);
  if (fd < 0 || admin_fd < 0 || !set_up(fd, admin_fd, key)) {
    std::fprintf(stderr, "cannot set up the accounts\n");
    return 1;
  }
  const char* emails[] = {existing, unknown, disabled};
  std::vector<double> ms[3];
  int not_ok = 0;
  std::mt19937 rng{1};
  std::string reply;
  for (int i = 0; i < 3; ++i) // warm-up
    time_one(fd, emails[i], reply);
  for (long round = 0; round < samples; ++round) {
    int order[] = {0, 1, 2};
    std::shuffle(std::begin(order), std::end(order), rng);
    for (int k : order) {
      ms[k].push_back(time_one(fd, emails[k], reply));
      not_ok += reply.find("\"ok\":true") == std::string::npos ? 1 : 0;
    }
  }
  double p50[3];
  for (int k = 0; k < 3; ++k)
    p50[k] = median(ms[k]);
  std::printf("recovery_start timing: %ld rounds, one request in flight\n",
              samples);
  std::printf("%-22s %9s %9s\n", "email", "p50 ms", "/existing");
  const char* names[] = {"(a) existing, mailed", "(b) unknown",
                         "(c) disabled"};
  for (int k = 0; k < 3; ++k)
    std::printf("%-22s %9.2f %9.3f\n", names[k], p50[k], p50[k] / p50[0]);
  auto worst = std::max(std::abs(p50[1] / p50[0] - 1),
                        std::abs(p50[2] / p50[0] - 1));
  std::printf("replies not ok: %d; verdict: %s (largest difference %.1f%%)\n",
              not_ok, worst <= 0.05 && not_ok == 0 ? "within 5%" : "NOT within 5%",
              worst * 100);
  ::close(fd);
  ::close(admin_fd);
  return 0;
}
