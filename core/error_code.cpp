#include "core/error_code.hpp"

#include <array>

#include <caf/message.hpp>
#include <caf/sec.hpp>

namespace authnode {

namespace {

struct code_entry {
  ec code;
  std::string_view wire;
  std::string_view message;
};

constexpr std::array<code_entry, 26> code_table{{
  {ec::none, "none", "no error"},
  {ec::bad_json, "bad_json", "the line is not a JSON object"},
  {ec::bad_request, "bad_request", "a field is missing or has the wrong type"},
  {ec::unknown_op, "unknown_op", "unknown op"},
  {ec::line_too_long, "line_too_long", "the line is longer than the limit"},
  {ec::busy, "busy", "the server is busy, try again later"},
  {ec::unavailable, "unavailable", "a backend is unavailable, try again later"},
  {ec::internal, "internal", "internal error"},
  {ec::invalid_email, "invalid_email", "the email address is not valid"},
  {ec::weak_password, "weak_password", "the password is too weak"},
  {ec::email_taken, "email_taken", "an account with that email exists"},
  {ec::invalid_credentials, "invalid_credentials", "wrong email or password"},
  {ec::invalid_token, "invalid_token",
   "the token is unknown, expired or revoked"},
  {ec::rate_limited, "rate_limited", "too many attempts, try again later"},
  {ec::forbidden, "forbidden", "the admin key is missing or wrong"},
  {ec::no_such_user, "no_such_user", "no account has that email"},
  {ec::not_found, "internal", "internal error"},
  {ec::exists, "exists", "the file exists"},
  {ec::backup_failed, "backup_failed", "the backup failed"},
  {ec::invalid_code, "invalid_code",
   "the code is wrong, expired or used; ask for a new one"},
  {ec::email_not_verified, "email_not_verified",
   "the email address of this account is not verified yet"},
  {ec::second_factor_required, "second_factor_required",
   "the password is right; a second factor is needed to log in"},
  {ec::conflict, "conflict",
   "the account is not in the state this request needs"},
  {ec::breached_password, "breached_password",
   "this password is in a list of breached passwords; choose another"},
  {ec::passkey_refused, "passkey_refused",
   "the passkey's registration did not verify"},
  {ec::no_such_passkey, "no_such_passkey", "the account has no such passkey"},
}};

const code_entry& entry(ec code) {
  for (auto& e : code_table)
    if (e.code == code)
      return e;
  return code_table[static_cast<size_t>(ec::internal)];
}

struct import_entry {
  import_code code;
  std::string_view wire;
};

constexpr std::array<import_entry, 5> import_table{{
  {import_code::bad_email, "bad_email"},
  {import_code::bad_name, "bad_name"},
  {import_code::bad_hash, "bad_hash"},
  {import_code::duplicate, "duplicate"},
  {import_code::bad_created_at, "bad_created_at"},
}};

} // namespace

std::string_view wire_name(ec code) {
  return entry(code).wire;
}

std::string_view wire_name(import_code code) {
  for (auto& e : import_table)
    if (e.code == code)
      return e.wire;
  return wire_name(ec::internal);
}

std::string to_string(import_code code) {
  return std::string{wire_name(code)};
}

std::string_view default_message(ec code) {
  return entry(code).message;
}

caf::error make_held_error(ec code, caf::timespan hold) {
  return caf::make_error(code, hold.count());
}

caf::error make_rate_limited(int64_t retry_after_ms) {
  return caf::make_error(ec::rate_limited, retry_after_ms);
}

caf::error make_second_factor_required(secret challenge, int64_t expires_at,
                                       std::vector<std::string> methods,
                                       bool password_breached) {
  return caf::make_error(ec::second_factor_required, std::move(challenge),
                         expires_at, std::move(methods), password_breached);
}

wire_error to_wire(const caf::error& err) {
  wire_error out;
  if (err.category() == caf::atom("authnode")) {
    out.code = static_cast<ec>(err.code());
    if (out.code == ec::not_found || out.code == ec::none)
      out.code = ec::internal;
    auto& ctx = err.context();
    if (ctx.match_elements<secret, int64_t, std::vector<std::string>, bool>()) {
      out.challenge = pending_challenge{ctx.get_as<secret>(0),
                                        ctx.get_as<int64_t>(1),
                                        ctx.get_as<std::vector<std::string>>(2)};
      out.password_breached = ctx.get_as<bool>(3);
    }
    else if (ctx.match_elements<int64_t>() && out.code == ec::rate_limited)
      out.retry_after_ms = ctx.get_as<int64_t>(0);
    else if (ctx.match_elements<int64_t>())
      out.hold = caf::timespan{ctx.get_as<int64_t>(0)};
    else if (ctx.match_elements<std::string>())
      out.message = ctx.get_as<std::string>(0);
  } else if (err.category() == caf::atom("system")) {
    auto code = static_cast<caf::sec>(err.code());
    switch (code) {
      case caf::sec::request_timeout:
      case caf::sec::request_receiver_down:
      case caf::sec::connection_timeout:
      case caf::sec::socket_disconnected:
      case caf::sec::cannot_connect_to_node:
        out.code = ec::unavailable;
        break;
      default:
        out.code = ec::internal;
    }
  } else {
    out.code = ec::internal;
  }
  if (out.message.empty())
    out.message = std::string{default_message(out.code)};
  return out;
}

} // namespace authnode
