#include <iostream>

#include <sodium.h>

#include "ctl/commands.hpp"
#include "ctl/prompt.hpp"
#include "ctl/table.hpp"

namespace authnode::ctl {

namespace {

using nlohmann::json;

row user_row(const json& u) {
  return {cell(u["id"]),
          cell(u["email"]),
          cell(u["name"]),
          cell(u["created_at"]),
          cell(u["last_login_at"]),
          cell(u.value("email_verified", false)),
          cell(u.value("disabled", false)),
          cell(u["sessions"]),
          cell(u["devices"])};
}

const row user_header{"ID",       "EMAIL",      "NAME",
                      "CREATED",  "LAST LOGIN", "VERIFIED",
                      "DISABLED", "SESSIONS",   "DEVICES"};

/// The user's members in a fixed order, then any the node added since.
void print_user(const json& user) {
  static const char* order[] = {
    "id",       "email",          "name",           "created_at",
    "last_login_at", "email_verified", "second_factors", "recovery_codes",
    "disabled", "sessions",       "devices"};
  std::vector<std::pair<std::string, std::string>> kv;
  for (auto key : order)
    if (user.contains(key))
      kv.emplace_back(key, cell(user[key]));
  for (auto& [key, value] : user.items())
    if (std::find(std::begin(order), std::end(order), key) == std::end(order))
      kv.emplace_back(key, cell(value));
  print_record(std::cout, kv);
}

/// A request that sets a password: the password comes from the terminal or
/// a pipe, and is wiped from our memory once sent.
int send_with_password(const ctl_options& opts, json request,
                       const std::string& question, const std::string& done) {
  auto password = read_new_password(question);
  if (!password) {
    std::cerr << "authctl: no password given\n";
    return exit_usage;
  }
  request["password"] = *password;
  sodium_memzero(password->data(), password->size());
  auto link = admin_link(opts);
  auto reply = link->call(std::move(request));
  if (!succeeded(reply))
    return report_failure(opts, reply);
  if (opts.json) {
    reply.erase("id");
    print_json(reply);
  } else if (reply.contains("user")) {
    print_user(reply["user"]);
  } else {
    std::cout << done << '\n';
  }
  return exit_ok;
}

} // namespace

int cmd_user_list(const ctl_options& opts, const std::string& prefix,
                  int64_t limit, bool all) {
  auto link = admin_link(opts);
  json users = json::array();
  json after = nullptr;
  do {
    json request{{"op", "user_list"}, {"limit", limit}};
    if (!prefix.empty())
      request["prefix"] = prefix;
    if (!after.is_null())
      request["after"] = after;
    auto reply = link->call(std::move(request));
    if (!succeeded(reply))
      return report_failure(opts, reply);
    for (auto& u : reply["users"])
      users.push_back(std::move(u));
    after = reply.value("next", json(nullptr));
  } while (all && !after.is_null());
  if (opts.json) {
    print_json({{"users", users}, {"next", after}});
    return exit_ok;
  }
  std::vector<row> rows;
  for (auto& u : users)
    rows.push_back(user_row(u));
  print_table(std::cout, user_header, rows);
  if (!after.is_null())
    std::cerr << "(more: --after is not needed, use --all, or --prefix)\n";
  return exit_ok;
}

int cmd_user_show(const ctl_options& opts, const std::string& email) {
  auto reply = admin_link(opts)->call({{"op", "user_show"}, {"email", email}});
  if (!succeeded(reply))
    return report_failure(opts, reply);
  if (opts.json) {
    print_json(reply["user"]);
    return exit_ok;
  }
  auto user = reply["user"];
  auto passkeys = user.value("passkeys", json::array());
  user.erase("passkeys");
  print_user(user);
  if (passkeys.empty())
    return exit_ok;
  std::vector<row> rows;
  for (auto& p : passkeys)
    rows.push_back({cell(p["id"]), cell(p["name"]), cell(p["created_at"]),
                    cell(p["last_used_at"])});
  std::cout << '\n';
  print_table(std::cout, {"PASSKEY", "NAME", "CREATED", "LAST USED"}, rows);
  return exit_ok;
}

int cmd_user_add(const ctl_options& opts, const std::string& email,
                 const std::string& name) {
  return send_with_password(
    opts, {{"op", "user_add"}, {"email", email}, {"name", name}},
    "Password for " + email + ": ", "added");
}

int cmd_user_passwd(const ctl_options& opts, const std::string& email) {
  return send_with_password(
    opts, {{"op", "user_set_password"}, {"email", email}},
    "New password for " + email + ": ",
    "password set; every session of " + email + " was ended");
}

int cmd_user_disable(const ctl_options& opts, const std::string& email,
                     bool disable) {
  auto reply = admin_link(opts)->call(
    {{"op", disable ? "user_disable" : "user_enable"}, {"email", email}});
  return report_done(opts, reply,
                     disable ? email + " disabled; its sessions were ended"
                             : email + " enabled");
}

int cmd_user_delete(const ctl_options& opts, const std::string& email,
                    bool confirmed) {
  if (!confirmed
      && !confirm("Delete " + email
                  + " with its sessions and device tokens?")) {
    std::cerr << "authctl: not deleted (give --yes to delete without a "
                 "question)\n";
    return exit_usage;
  }
  auto reply
    = admin_link(opts)->call({{"op", "user_delete"}, {"email", email}});
  return report_done(opts, reply, email + " deleted");
}

int cmd_user_verify(const ctl_options& opts, const std::string& email,
                    bool verified) {
  auto reply = admin_link(opts)->call(
    {{"op", "user_verify"}, {"email", email}, {"verified", verified}});
  return report_done(opts, reply,
                     verified ? email + ": address marked verified"
                              : email + ": address marked not verified");
}

int cmd_user_mfa_reset(const ctl_options& opts, const std::string& email) {
  auto reply
    = admin_link(opts)->call({{"op", "user_mfa_reset"}, {"email", email}});
  return report_done(opts, reply,
                     email + ": second factors removed (TOTP and recovery "
                             "codes)");
}

int cmd_user_passkey_delete(const ctl_options& opts, const std::string& email,
                            const std::string& id) {
  auto reply = admin_link(opts)->call(
    {{"op", "passkey_delete"}, {"email", email}, {"passkey_id", id}});
  return report_done(opts, reply, email + ": passkey " + id + " deleted");
}

int cmd_sessions_list(const ctl_options& opts, const std::string& email) {
  auto reply
    = admin_link(opts)->call({{"op", "sessions_list"}, {"email", email}});
  if (!succeeded(reply))
    return report_failure(opts, reply);
  if (opts.json) {
    print_json(reply["sessions"]);
    return exit_ok;
  }
  std::vector<row> rows;
  for (auto& s : reply["sessions"])
    rows.push_back({cell(s["id"]), cell(s["created_at"]), cell(s["expires_at"]),
                    cell(s["source"])});
  print_table(std::cout, {"ID", "CREATED", "EXPIRES", "SOURCE"}, rows);
  return exit_ok;
}

int cmd_sessions_revoke(const ctl_options& opts, const std::string& email,
                        std::optional<int64_t> session_id) {
  json request{{"op", "sessions_revoke"}, {"email", email}};
  if (session_id)
    request["session_id"] = *session_id;
  auto reply = admin_link(opts)->call(std::move(request));
  if (!succeeded(reply))
    return report_failure(opts, reply);
  auto revoked = reply.value("revoked", int64_t{0});
  if (opts.json)
    print_json({{"revoked", revoked}});
  else
    std::cout << revoked << (revoked == 1 ? " session" : " sessions")
              << " ended\n";
  // Revoking one id that is not a session of this user ends nothing.
  return session_id && revoked == 0 ? exit_refused : exit_ok;
}

} // namespace authnode::ctl
