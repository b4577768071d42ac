#include "net/wire.hpp"

#include "core/clock.hpp"

namespace authnode {

using json = nlohmann::json;

// -- requests -----------------------------------------------------------------

decode_failure not_an_object() {
  return {nullptr, ec::bad_json, "the line is not a JSON object"};
}

decode_failure nested_too_deeply() {
  return {nullptr, ec::bad_json, "the line is nested too deeply"};
}

std::optional<decode_failure> check_line_bytes(std::string_view line) {
  // nlohmann's lexer takes a NUL byte for the end of input, so
  // '{"op":"ping"}\0garbage' would pass. A raw NUL is never valid JSON
  // (not even inside a string), so no line with one is.
  // nlohmann also skips a UTF-8 byte order mark before the value; the
  // protocol allows only whitespace around the object.
  if (line.find('\0') != std::string_view::npos
      || line.substr(0, 3) == "\xef\xbb\xbf")
    return not_an_object();
  return std::nullopt;
}

decode_failure bad_id() {
  return {nullptr, ec::bad_request, "id must be a string or a number"};
}

decode_failure bad_request(request_id id, std::string message) {
  return {std::move(id), ec::bad_request, std::move(message)};
}

decode_failure unknown_op(request_id id, std::string_view op) {
  std::string message{"unknown op: "};
  message += op.substr(0, 64);
  return {std::move(id), ec::unknown_op, std::move(message)};
}

std::string missing_field(std::string_view name) {
  std::string out{"missing field: "};
  out += name;
  return out;
}

std::string field_problem(std::string_view name, std::string_view rule) {
  std::string out{"field "};
  out += name;
  out += ' ';
  out += rule;
  return out;
}

// -- replies ------------------------------------------------------------------

std::string reply_head(const request_id& id, bool ok) {
  std::string out;
  out.reserve(128);
  out += '{';
  if (!id.is_null()) {
    append_key(out, "id");
    out += id.dump(-1, ' ', false, json::error_handler_t::replace);
  }
  append_member(out, "ok", ok);
  return out;
}

std::string reply_end(std::string out) {
  out += "}\n";
  return out;
}

void append_value(std::string& out, int64_t x) {
  out += std::to_string(x);
}

void append_value(std::string& out, bool x) {
  out += x ? "true" : "false";
}

namespace {

/// Printable ASCII that JSON does not escape: such a string is written as
/// it is, as nlohmann would write it.
bool plain(std::string_view x) {
  for (unsigned char c : x)
    if (c < 0x20 || c > 0x7e || c == '"' || c == '\\')
      return false;
  return true;
}

} // namespace

void append_value(std::string& out, std::string_view x) {
  if (!plain(x)) {
    out += json(x).dump(-1, ' ', false, json::error_handler_t::replace);
    return;
  }
  out += '"';
  out += x;
  out += '"';
}

void append_value(std::string& out, const char* x) {
  append_value(out, std::string_view{x});
}

void append_value(std::string& out, unix_time x) {
  if (x.or_null && x.seconds <= 0) {
    out += "null";
    return;
  }
  out += '"';
  out += rfc3339(x.seconds);
  out += '"';
}

void append_value(std::string& out, const std::vector<std::string>& xs) {
  out += '[';
  for (size_t i = 0; i < xs.size(); ++i) {
    if (i > 0)
      out += ',';
    append_value(out, std::string_view{xs[i]});
  }
  out += ']';
}

void append_key(std::string& out, std::string_view name) {
  if (!out.empty() && out.back() != '{')
    out += ',';
  out += '"';
  out += name;
  out += "\":";
}

namespace {

std::vector<std::string> second_factors_of(const user_view& u) {
  if (!u.totp)
    return {};
  return {"totp", "recovery_code"};
}

} // namespace

void append_user(std::string& out, const user_view& u) {
  append_object(out, member("id", u.id), member("email", u.email),
                member("name", u.name),
                member("created_at", unix_time{u.created_at}),
                member("last_login_at", unix_time{u.last_login_at, true}),
                member("email_verified", u.email_verified),
                member("second_factors", second_factors_of(u)));
}

std::string encode_ok(const request_id& id) {
  return reply_end(reply_head(id, true));
}

std::string encode_done(const request_id& id, caf::ok_atom) {
  return encode_ok(id);
}

std::string encode_error(const request_id& id, ec code,
                         std::string_view message,
                         std::optional<int64_t> retry_after_ms) {
  auto out = reply_head(id, false);
  append_key(out, "error");
  out += '{';
  append_member(out, "code", wire_name(code));
  append_member(out, "message", message);
  if (retry_after_ms)
    append_member(out, "retry_after_ms", *retry_after_ms);
  out += '}';
  return reply_end(std::move(out));
}

std::string encode_failure(const request_id& id, const wire_error& failure) {
  if (!failure.challenge)
    return encode_error(id, failure.code, failure.message,
                        failure.retry_after_ms);
  auto out = reply_head(id, false);
  append_key(out, "error");
  append_object(out, member("code", wire_name(failure.code)),
                member("message", std::string_view{failure.message}));
  auto& ch = *failure.challenge;
  append_member(out, "challenge", ch.challenge.reveal());
  append_member(out, "methods", ch.methods);
  append_member(out, "expires_at", unix_time{ch.expires_at});
  append_member(out, "password_breached", failure.password_breached);
  return reply_end(std::move(out));
}

std::string encode_user(const request_id& id, const user_view& user) {
  auto out = reply_head(id, true);
  append_key(out, "user");
  append_user(out, user);
  return reply_end(std::move(out));
}

std::string encode_user_object(const user_view& user) {
  std::string out;
  append_user(out, user);
  return out;
}

std::string encode_user_reply(const request_id& id,
                              std::string_view user_object) {
  auto out = reply_head(id, true);
  append_key(out, "user");
  out += user_object;
  return reply_end(std::move(out));
}

std::string encode_stats(const request_id& id, const stats_snapshot& s) {
  auto out = reply_head(id, true);
  append_key(out, "stats");
  out += '{';
#define AUTHNODE_STATS_MEMBER(name, ...) append_member(out, #name, s.name);
  AUTHNODE_STATS(AUTHNODE_STATS_MEMBER)
#undef AUTHNODE_STATS_MEMBER
  append_member(out, "breached_passwords",
                to_string(static_cast<breached_state>(s.breached_index_state)));
  append_member(out, "breached_path", s.breached_path);
  out += '}';
  return reply_end(std::move(out));
}

void append_passkey(std::string& out, const passkey_info& p) {
  out += '{';
  append_member(out, "id", base64url(p.id));
  append_member(out, "name", p.name);
  append_member(out, "created_at", unix_time{p.created_at});
  append_member(out, "last_used_at", unix_time{p.last_used_at, true});
  out += '}';
}

void append_passkeys(std::string& out, const std::vector<passkey_info>& ps) {
  out += '[';
  for (size_t i = 0; i < ps.size(); ++i) {
    if (i > 0)
      out += ',';
    append_passkey(out, ps[i]);
  }
  out += ']';
}

} // namespace authnode
