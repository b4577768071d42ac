#include "net/codec.hpp"

#include "core/clock.hpp"

namespace authnode {

namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

/// Rejects nesting deeper than max_json_depth before the parser sees it, so
/// a line of 60,000 '[' costs a scan, not a deep recursion.
bool nesting_within_limit(std::string_view line) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : line) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"')
      in_string = true;
    else if (c == '{' || c == '[') {
      if (++depth > max_json_depth)
        return false;
    } else if (c == '}' || c == ']')
      --depth;
  }
  return true;
}

struct field_error {
  std::string message;
};

/// Reads a required string field.
std::variant<std::string, field_error> string_field(const json& obj,
                                                    const char* name) {
  auto i = obj.find(name);
  if (i == obj.end())
    return field_error{std::string{"missing field: "} + name};
  if (!i->is_string())
    return field_error{std::string{"field "} + name + " must be a string"};
  return i->get<std::string>();
}

void assign(std::string& dst, std::string&& value) {
  dst = std::move(value);
}

void assign(secret& dst, std::string&& value) {
  dst = secret{std::move(value)};
}

/// Fills `out...` from the named string fields, or says what is wrong.
template <size_t N, class... Out>
std::optional<field_error>
read_strings(const json& obj, const char* const (&names)[N], Out&... out) {
  static_assert(N == sizeof...(Out));
  std::optional<field_error> failure;
  size_t i = 0;
  auto read_one = [&](auto& dst) {
    if (failure)
      return;
    auto v = string_field(obj, names[i++]);
    if (auto err = std::get_if<field_error>(&v))
      failure = std::move(*err);
    else
      assign(dst, std::move(std::get<std::string>(v)));
  };
  (read_one(out), ...);
  return failure;
}

using body_or_error = std::variant<request_body, field_error>;

body_or_error decode_body(std::string_view op, const json& obj,
                          const std::string& source) {
  auto finish = [](auto&& req,
                   std::optional<field_error> err) -> body_or_error {
    if (err)
      return std::move(*err);
    return request_body{std::move(req)};
  };
  if (op == "ping")
    return request_body{ping_op{}};
  if (op == "stats")
    return request_body{stats_op{}};
  if (op == "register") {
    register_request r;
    r.source = source;
    auto err = read_strings(obj, {"email", "password", "name"}, r.email,
                            r.password, r.name);
    return finish(std::move(r), std::move(err));
  }
  if (op == "login") {
    login_request r;
    r.source = source;
    auto err = read_strings(obj, {"email", "password"}, r.email, r.password);
    return finish(std::move(r), std::move(err));
  }
  if (op == "whoami" || op == "logout") {
    token_request r;
    r.source = source;
    auto err = read_strings(obj, {"token"}, r.token);
    if (op == "whoami")
      return finish(whoami_op{std::move(r)}, std::move(err));
    return finish(logout_op{std::move(r)}, std::move(err));
  }
  if (op == "change_password") {
    password_change_request r;
    r.source = source;
    auto err = read_strings(obj, {"token", "old_password", "new_password"},
                            r.token, r.old_password, r.new_password);
    return finish(std::move(r), std::move(err));
  }
  return field_error{};
}

std::string finish_line(const ojson& reply) {
  // Replace, never throw: a string we echo may hold invalid UTF-8.
  auto line = reply.dump(-1, ' ', false, ojson::error_handler_t::replace);
  line += '\n';
  return line;
}

ojson reply_head(const request_id& id) {
  ojson reply = ojson::object();
  if (!id.is_null())
    reply["id"] = id;
  reply["ok"] = true;
  return reply;
}

ojson user_json(const user_view& u) {
  ojson out = ojson::object();
  out["id"] = u.id;
  out["email"] = u.email;
  out["name"] = u.name;
  out["created_at"] = rfc3339(u.created_at);
  out["last_login_at"] = u.last_login_at > 0 ? ojson(rfc3339(u.last_login_at))
                                             : ojson(nullptr);
  return out;
}

} // namespace

std::variant<decoded_request, decode_failure>
decode_request(std::string_view line, const std::string& source) {
  auto fail = [](request_id id, ec code, std::string message) {
    return decode_failure{std::move(id), code, std::move(message)};
  };
  if (!nesting_within_limit(line))
    return fail(nullptr, ec::bad_json, "the line is nested too deeply");
  auto obj = json::parse(line, nullptr, false);
  if (obj.is_discarded() || !obj.is_object())
    return fail(nullptr, ec::bad_json, "the line is not a JSON object");
  request_id id = nullptr;
  if (auto i = obj.find("id"); i != obj.end()) {
    if (!i->is_string() && !i->is_number() && !i->is_null())
      return fail(nullptr, ec::bad_request, "id must be a string or a number");
    id = *i;
  }
  auto op = obj.find("op");
  if (op == obj.end())
    return fail(id, ec::bad_request, "missing field: op");
  if (!op->is_string())
    return fail(id, ec::bad_request, "field op must be a string");
  auto& name = op->get_ref<const std::string&>();
  auto body = decode_body(name, obj, source);
  if (auto err = std::get_if<field_error>(&body)) {
    if (err->message.empty())
      return fail(id, ec::unknown_op, "unknown op: " + name.substr(0, 64));
    return fail(id, ec::bad_request, std::move(err->message));
  }
  return decoded_request{std::move(id),
                         std::move(std::get<request_body>(body))};
}

std::string encode_ok(const request_id& id) {
  return finish_line(reply_head(id));
}

std::string encode_user(const request_id& id, const user_view& user) {
  auto reply = reply_head(id);
  reply["user"] = user_json(user);
  return finish_line(reply);
}

std::string encode_grant(const request_id& id, const session_grant& grant) {
  auto reply = reply_head(id);
  reply["token"] = grant.token.reveal();
  reply["expires_at"] = rfc3339(grant.expires_at);
  reply["user"] = user_json(grant.user);
  return finish_line(reply);
}

std::string encode_stats(const request_id& id, const stats_snapshot& s) {
  auto reply = reply_head(id);
  reply["stats"] = ojson{
    {"connections", s.connections},
    {"requests_total", s.requests_total},
    {"registrations_total", s.registrations_total},
    {"logins_ok", s.logins_ok},
    {"logins_failed", s.logins_failed},
    {"pending_delayed", s.pending_delayed},
    {"hash_verifications_total", s.hash_verifications_total},
    {"uptime_seconds", s.uptime_seconds},
  };
  return finish_line(reply);
}

std::string encode_error(const request_id& id, ec code,
                         std::string_view message,
                         std::optional<int64_t> retry_after_ms) {
  ojson reply = ojson::object();
  if (!id.is_null())
    reply["id"] = id;
  reply["ok"] = false;
  ojson error = ojson::object();
  error["code"] = std::string{wire_name(code)};
  error["message"] = std::string{message};
  if (retry_after_ms)
    error["retry_after_ms"] = *retry_after_ms;
  reply["error"] = std::move(error);
  return finish_line(reply);
}

} // namespace authnode
