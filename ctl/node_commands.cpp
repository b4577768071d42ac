#include <climits>
#include <cstdlib>

#include <iostream>
#include <unistd.h>

#include "ctl/commands.hpp"
#include "ctl/table.hpp"

namespace authnode::ctl {

namespace {

using nlohmann::json;

/// Members of an object as "key: value" lines, in the node's order.
void print_object(const json& obj) {
  std::vector<std::pair<std::string, std::string>> kv;
  for (auto& [key, value] : obj.items())
    kv.emplace_back(key, cell(value));
  print_record(std::cout, kv);
}

std::string size_text(double bytes) {
  const char* units[] = {"bytes", "KiB", "MiB", "GiB"};
  int unit = 0;
  while (bytes >= 1024 && unit < 3) {
    bytes /= 1024;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), unit == 0 ? "%.0f %s" : "%.1f %s", bytes,
                units[unit]);
  return buf;
}

} // namespace

int cmd_stats(const ctl_options& opts) {
  auto reply = admin_link(opts)->call({{"op", "stats"}});
  if (!succeeded(reply))
    return report_failure(opts, reply);
  if (opts.json)
    print_json(reply["stats"]);
  else
    print_object(reply["stats"]);
  return exit_ok;
}

int cmd_throttle(const ctl_options& opts, const std::string& source,
                 const std::string& account, bool reset) {
  json request{{"op", reset ? "throttle_reset" : "throttle_show"}};
  if (!source.empty())
    request["source"] = source;
  else
    request["account"] = account;
  auto reply = admin_link(opts)->call(std::move(request));
  if (!succeeded(reply))
    return report_failure(opts, reply);
  auto what = source.empty() ? account : source;
  if (opts.json) {
    reply.erase("id");
    reply.erase("ok");
    print_json(reply);
  } else if (reset) {
    std::cout << (reply.value("reset", false)
                    ? what + ": failures forgotten; held logins go ahead"
                    : what + " had no failures")
              << '\n';
  } else {
    print_object(reply["throttle"]);
  }
  return exit_ok;
}

int cmd_backup(const ctl_options& opts, const std::string& path) {
  // The node writes the file: a relative path means ours, made absolute
  // (the node and authctl share a machine when the admin port is local).
  std::string target = path;
  if (!target.empty() && target[0] != '/') {
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof(cwd)) != nullptr)
      target = std::string{cwd} + "/" + target;
  }
  // A large database takes a while: wait for it beyond the usual timeout.
  auto link = admin_link(opts, std::chrono::hours(1));
  auto reply = link->call({{"op", "backup"}, {"path", target}});
  if (!succeeded(reply))
    return report_failure(opts, reply);
  auto& b = reply["backup"];
  if (opts.json) {
    print_json(b);
    return exit_ok;
  }
  std::cout << "backup written to " << cell(b["path"]) << ": "
            << size_text(b.value("bytes", 0.0)) << " (" << cell(b["pages"])
            << " pages) in " << cell(b["duration_ms"]) << " ms\n";
  return exit_ok;
}

} // namespace authnode::ctl
