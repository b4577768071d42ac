#include <chrono>
#include <iostream>

#include <sodium.h>

#include "ctl/commands.hpp"
#include "ctl/prompt.hpp"
#include "ctl/table.hpp"

namespace authnode::ctl {

int cmd_ping(const ctl_options& opts) {
  auto link = public_link(opts);
  auto start = std::chrono::steady_clock::now();
  auto reply = link->call({{"op", "ping"}});
  std::chrono::duration<double, std::milli> took
    = std::chrono::steady_clock::now() - start;
  if (!succeeded(reply))
    return report_failure(opts, reply);
  if (opts.json) {
    print_json({{"ok", true}, {"ms", took.count()}});
  } else {
    std::cout << "pong from " << link->peer() << " in "
              << static_cast<int64_t>(took.count() * 1000) / 1000.0 << " ms\n";
  }
  return exit_ok;
}

int cmd_login(const ctl_options& opts, const std::string& email,
              bool keep_session) {
  auto password = read_password("Password for " + email + ": ");
  if (!password) {
    std::cerr << "authctl: no password given\n";
    return exit_usage;
  }
  auto link = public_link(opts);
  nlohmann::json request{
    {"op", "login"}, {"email", email}, {"password", *password}};
  sodium_memzero(password->data(), password->size());
  auto id = link->send(std::move(request));
  // A failed login is answered late (failure-delay, or a throttle's
  // penalty): wait for it beyond the usual timeout.
  link->set_timeout(opts.timeout_or(std::chrono::minutes(2)));
  auto reply = link->read_reply(id);
  if (!succeeded(reply))
    return report_failure(opts, reply);
  auto token = reply.value("token", "");
  if (!keep_session)
    link->call({{"op", "logout"}, {"token", token}});
  if (opts.json) {
    if (!keep_session)
      reply.erase("token");
    reply.erase("id");
    print_json(reply);
    return exit_ok;
  }
  auto& user = reply["user"];
  std::cout << "logged in as " << cell(user["name"]) << " <"
            << cell(user["email"]) << "> (user " << cell(user["id"]) << ")\n";
  if (keep_session)
    std::cout << "session token " << token << " (expires "
              << cell(reply["expires_at"]) << ")\n";
  else
    std::cout << "the session was ended again (--keep-session keeps it)\n";
  return exit_ok;
}

} // namespace authnode::ctl
