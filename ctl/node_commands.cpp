#include <climits>
#include <cstdlib>
#include <ctime>
#include <optional>

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

/// Seconds since an RFC 3339 time of the node ("2026-11-25T18:40:02Z"), or
/// nullopt if it is not one.
std::optional<int64_t> seconds_since(const std::string& rfc3339) {
  std::tm tm{};
  auto end = strptime(rfc3339.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (end == nullptr || *end != '\0')
    return std::nullopt;
  return static_cast<int64_t>(std::time(nullptr)) - timegm(&tm);
}

/// An age for people: "42 s", "5 min", "3 h 20 min", "2 d 4 h".
std::string age_text(int64_t s) {
  if (s < 0)
    s = 0;
  auto n = [](int64_t x) {
    return std::to_string(x);
  };
  if (s < 60)
    return n(s) + " s";
  if (s < 3600)
    return n(s / 60) + " min";
  if (s < 86400)
    return n(s / 3600) + " h " + n(s % 3600 / 60) + " min";
  return n(s / 86400) + " d " + n(s % 86400 / 3600) + " h";
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
                 const std::string& account, const std::string& kind,
                 bool reset) {
  json request{{"op", reset ? "throttle_reset" : "throttle_show"}};
  if (!source.empty())
    request["source"] = source;
  else
    request["account"] = account;
  if (!kind.empty())
    request["kind"] = kind;
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

int cmd_mail_outbox(const ctl_options& opts) {
  auto reply = admin_link(opts)->call({{"op", "mail_outbox"}});
  if (!succeeded(reply))
    return report_failure(opts, reply);
  auto& box = reply["outbox"];
  if (opts.json) {
    print_json(box);
    return exit_ok;
  }
  std::string oldest = "-";
  if (auto& t = box["oldest_created_at"]; t.is_string()) {
    oldest = t.get<std::string>();
    if (auto age = seconds_since(oldest))
      oldest += " (" + age_text(*age) + " ago)";
  }
  print_record(std::cout,
               {{"pending", cell(box["pending"])},
                {"oldest", oldest},
                {"most attempts", cell(box["most_attempts"])},
                {"last error", cell(box["last_error"])}});
  return exit_ok;
}

int cmd_breached_reload(const ctl_options& opts) {
  auto reply = admin_link(opts)->call({{"op", "breached_reload"}});
  if (!succeeded(reply))
    return report_failure(opts, reply);
  auto& index = reply["breached"];
  bool reloaded = index["reloaded"] == true;
  if (opts.json)
    print_json(index);
  else
    print_record(std::cout, {{"state", cell(index["state"])},
                             {"path", cell(index["path"])},
                             {"entries", cell(index["entries"])},
                             {"reloaded", reloaded ? "yes" : "no"}});
  if (!reloaded)
    std::cerr << "authctl: the old index stays: "
              << index["problem"].get<std::string>() << "\n";
  return reloaded ? exit_ok : exit_refused;
}

} // namespace authnode::ctl
