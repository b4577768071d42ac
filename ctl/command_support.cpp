#include "ctl/command_support.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>

namespace authnode::ctl {

std::chrono::milliseconds
ctl_options::timeout_or(std::chrono::milliseconds fallback) const {
  if (timeout <= 0)
    return fallback;
  return std::chrono::milliseconds(static_cast<int64_t>(timeout * 1000));
}

std::string read_admin_key(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    throw key_file_error("cannot read the admin key file " + path + ": "
                         + std::strerror(errno)
                         + " (give its path with --key-file or "
                           "AUTHNODE_ADMIN_KEY_FILE; it is made by the node "
                           "next to its database)");
  std::string key;
  std::getline(in, key);
  if (!key.empty() && key.back() == '\r')
    key.pop_back();
  if (key.empty())
    throw key_file_error("the admin key file " + path + " is empty");
  return key;
}

std::unique_ptr<node_link> admin_link(const ctl_options& opts,
                                      std::chrono::milliseconds fallback) {
  auto key = read_admin_key(opts.key_file);
  return std::make_unique<node_link>(opts.admin_host, opts.admin_port,
                                     opts.timeout_or(fallback), std::move(key));
}

std::unique_ptr<node_link> public_link(const ctl_options& opts) {
  return std::make_unique<node_link>(opts.host, opts.port,
                                     opts.timeout_or(std::chrono::seconds(30)));
}

bool succeeded(const nlohmann::json& reply) {
  return reply.value("ok", false);
}

void print_json(const nlohmann::json& value) {
  std::cout << value.dump(-1, ' ', false,
                          nlohmann::json::error_handler_t::replace)
            << '\n';
}

int report_failure(const ctl_options& opts, const nlohmann::json& reply) {
  std::string code = "internal", message;
  if (auto e = reply.find("error"); e != reply.end() && e->is_object()) {
    code = e->value("code", code);
    message = e->value("message", "");
  }
  if (opts.json) {
    print_json(reply);
  } else {
    std::cerr << "authctl: " << code;
    if (!message.empty())
      std::cerr << ": " << message;
    if (auto e = reply.find("error");
        e != reply.end() && e->contains("retry_after_ms"))
      std::cerr << " (retry after " << (*e)["retry_after_ms"] << " ms)";
    std::cerr << '\n';
  }
  return code == "forbidden" ? exit_forbidden : exit_refused;
}

int report_done(const ctl_options& opts, const nlohmann::json& reply,
                const std::string& what) {
  if (!succeeded(reply))
    return report_failure(opts, reply);
  if (opts.json)
    print_json(reply);
  else
    std::cout << what << '\n';
  return exit_ok;
}

} // namespace authnode::ctl
