#include "net/admin_codec.hpp"

#include <array>
#include <optional>
#include <utility>

#include <sodium.h>

namespace authnode {

namespace {

using json = nlohmann::json;

/// nlohmann's DOM builder behind a depth limit: a line nested deeper than
/// max_json_depth is refused before it is built.
struct bounded_dom {
  explicit bounded_dom(json& result) : result(result), dom(result, false) {}

  json& result;
  nlohmann::detail::json_sax_dom_parser<json> dom;
  depth_guard guard;

  bool is_object() const {
    return result.is_object();
  }

  bool null() {
    return dom.null();
  }
  bool boolean(bool x) {
    return dom.boolean(x);
  }
  bool number_integer(json::number_integer_t x) {
    return dom.number_integer(x);
  }
  bool number_unsigned(json::number_unsigned_t x) {
    return dom.number_unsigned(x);
  }
  bool number_float(json::number_float_t x, const json::string_t& s) {
    return dom.number_float(x, s);
  }
  bool string(json::string_t& x) {
    return dom.string(x);
  }
  bool binary(json::binary_t& x) {
    return dom.binary(x);
  }
  bool start_object(std::size_t n) {
    return guard.enter() && dom.start_object(n);
  }
  bool key(json::string_t& x) {
    return dom.key(x);
  }
  bool end_object() {
    guard.leave();
    return dom.end_object();
  }
  bool start_array(std::size_t n) {
    return guard.enter() && dom.start_array(n);
  }
  bool end_array() {
    guard.leave();
    return dom.end_array();
  }
  bool parse_error(std::size_t, const std::string&,
                   const nlohmann::detail::exception&) {
    return false;
  }
};

/// What is wrong with a field, if anything.
using problem = std::optional<std::string>;

/// Reads the string field `name` into `out` (a std::string or a secret);
/// absent is fine when `optional`.
template <class T>
problem take(const json& obj, const char* name, T& out, bool optional = false) {
  auto i = obj.find(name);
  if (i == obj.end())
    return optional ? problem{} : missing_field(name);
  if (!i->is_string())
    return field_problem(name, "must be a string");
  out = T{i->get<std::string>()};
  return std::nullopt;
}

problem take_limit(const json& obj, int64_t& out) {
  auto i = obj.find("limit");
  out = default_user_page;
  if (i == obj.end())
    return std::nullopt;
  if (!i->is_number_integer() || i->get<int64_t>() < 1
      || i->get<int64_t>() > max_user_page)
    return field_problem(
      "limit", "must be an integer from 1 to " + std::to_string(max_user_page));
  out = i->get<int64_t>();
  return std::nullopt;
}

/// An optional positive integer field; 0 when absent.
problem take_id(const json& obj, const char* name, int64_t& out) {
  auto i = obj.find(name);
  out = 0;
  if (i == obj.end())
    return std::nullopt;
  if (!i->is_number_integer() || i->get<int64_t>() < 1)
    return field_problem(name, "must be a positive integer");
  out = i->get<int64_t>();
  return std::nullopt;
}

/// A user_import row's fields by type, in the order email, name, hash,
/// created_at: the first of the wrong type rejects the row. created_at may
/// be absent or null (the time of the import); 0 stands for that.
std::variant<import_row, import_rejection> decode_row(const json& x,
                                                      int64_t index) {
  import_row row;
  row.index = index;
  auto reject = [&](import_code code, std::string message) {
    return import_rejection{index, code, std::move(message)};
  };
  if (auto why = take(x, "email", row.email))
    return reject(import_code::bad_email, std::move(*why));
  if (auto why = take(x, "name", row.name))
    return reject(import_code::bad_name, std::move(*why));
  if (auto why = take(x, "hash", row.hash))
    return reject(import_code::bad_hash, std::move(*why));
  if (auto i = x.find("created_at"); i != x.end() && !i->is_null()) {
    // An unsigned beyond int64_t reads as negative here, and is refused.
    if (!i->is_number_integer() || i->get<int64_t>() < 1)
      return reject(import_code::bad_created_at,
                    field_problem("created_at",
                                  "must be a positive integer (Unix seconds)"));
    row.created_at = i->get<int64_t>();
  }
  return row;
}

// -- each op's fields, checked in the order docs/protocol.md lists them ------

problem read_fields(const json&, admin_stats_op&) {
  return std::nullopt;
}

problem read_fields(const json& obj, by_email& op) {
  return take(obj, "email", op.email);
}

problem read_fields(const json& obj, user_list_op& op) {
  if (auto why = take_limit(obj, op.query.limit))
    return why;
  if (auto why = take(obj, "after", op.query.after, true))
    return why;
  return take(obj, "prefix", op.query.prefix, true);
}

problem read_fields(const json& obj, user_add_op& op) {
  if (auto why = take(obj, "email", op.user.email))
    return why;
  if (auto why = take(obj, "name", op.user.name))
    return why;
  return take(obj, "password", op.user.password);
}

problem read_fields(const json& obj, user_set_password_op& op) {
  if (auto why = take(obj, "email", op.email))
    return why;
  return take(obj, "password", op.password);
}

problem read_fields(const json& obj, sessions_revoke_op& op) {
  if (auto why = take(obj, "email", op.email))
    return why;
  return take_id(obj, "session_id", op.session_id);
}

/// Exactly one of `source` and `account`.
problem read_fields(const json& obj, by_target& op) {
  auto has_source = obj.contains("source");
  if (has_source == obj.contains("account"))
    return std::string{"give exactly one of the fields source and account"};
  op.target.account = !has_source;
  if (auto p = take(obj, has_source ? "source" : "account", op.target.key))
    return p;
  std::string kind = "password";
  if (auto p = take(obj, "kind", kind, /*optional=*/true))
    return p;
  auto parsed = parse_guess_kind(kind);
  if (!parsed)
    return field_problem("kind", "must be one of " + guess_kind_names());
  op.target.kind = *parsed;
  return {};
}

/// user_import's `users` and `update`. A request that is wrong as a whole
/// (no array, too many rows, a row that is no object) is bad_request.
problem read_fields(const json& obj, user_import_op& op) {
  auto& out = op.req;
  auto users = obj.find("users");
  if (users == obj.end())
    return missing_field("users");
  if (!users->is_array())
    return field_problem("users", "must be an array");
  if (users->size() > max_import_users)
    return "users must have at most " + std::to_string(max_import_users)
      + " entries";
  if (auto i = obj.find("update"); i != obj.end()) {
    if (!i->is_boolean())
      return field_problem("update", "must be a boolean");
    out.update = i->get<bool>();
  }
  out.rows.reserve(users->size());
  for (size_t i = 0; i < users->size(); ++i) {
    auto& x = (*users)[i];
    if (!x.is_object())
      return "users[" + std::to_string(i) + "] must be an object";
    auto row = decode_row(x, static_cast<int64_t>(i));
    if (auto ok = std::get_if<import_row>(&row))
      out.rows.push_back(std::move(*ok));
    else
      out.rejected.push_back(std::move(std::get<import_rejection>(row)));
  }
  return std::nullopt;
}

/// The backup's target: absolute, since the node's working directory is
/// nothing an operator should have to know; no NUL, which would cut the
/// path short where the file system sees it.
problem read_fields(const json& obj, backup_op& op) {
  if (auto why = take(obj, "path", op.path))
    return why;
  if (op.path.empty() || op.path.front() != '/')
    return field_problem("path", "must be an absolute path");
  if (op.path.find('\0') != std::string::npos)
    return field_problem("path", "must not contain a NUL character");
  return std::nullopt;
}

problem read_fields(const json&, mail_outbox_op&) {
  return std::nullopt;
}

problem read_fields(const json&, breached_reload_op&) {
  return std::nullopt;
}

/// `verified` may be absent (true).
problem read_fields(const json& obj, user_verify_op& op) {
  if (auto why = take(obj, "email", op.email))
    return why;
  if (auto i = obj.find("verified"); i != obj.end()) {
    if (!i->is_boolean())
      return field_problem("verified", "must be a boolean");
    op.verified = i->get<bool>();
  }
  return std::nullopt;
}

problem read_fields(const json& obj, passkey_delete_op& op) {
  std::string id;
  if (auto why = take(obj, "email", op.email))
    return why;
  if (auto why = take(obj, "passkey_id", id))
    return why;
  if (!from_base64url(id, op.passkey_id))
    return field_problem("passkey_id", "must be base64url");
  return std::nullopt;
}

// -- the table of ops ---------------------------------------------------------

using body_builder
  = std::variant<admin_body, decode_failure> (*)(const request_id&,
                                                 const json&);

/// Reads Op's fields with read_fields(); a problem is bad_request.
template <class Op>
std::variant<admin_body, decode_failure> with_fields(const request_id& id,
                                                     const json& obj) {
  Op op;
  if (auto why = read_fields(obj, op))
    return bad_request(id, std::move(*why));
  return admin_body{std::move(op)};
}

/// The admin ops (docs/protocol.md, "Admin channel"); no public op is here.
constexpr std::array<op_entry<body_builder>, 19> admin_ops{{
  {"stats", with_fields<admin_stats_op>},
  {"user_show", with_fields<user_show_op>},
  {"user_list", with_fields<user_list_op>},
  {"user_add", with_fields<user_add_op>},
  {"user_set_password", with_fields<user_set_password_op>},
  {"user_disable", with_fields<user_disable_op>},
  {"user_enable", with_fields<user_enable_op>},
  {"user_delete", with_fields<user_delete_op>},
  {"sessions_list", with_fields<sessions_list_op>},
  {"sessions_revoke", with_fields<sessions_revoke_op>},
  {"throttle_show", with_fields<throttle_show_op>},
  {"throttle_reset", with_fields<throttle_reset_op>},
  {"user_import", with_fields<user_import_op>},
  {"backup", with_fields<backup_op>},
  {"mail_outbox", with_fields<mail_outbox_op>},
  {"breached_reload", with_fields<breached_reload_op>},
  {"user_verify", with_fields<user_verify_op>},
  {"user_mfa_reset", with_fields<user_mfa_reset_op>},
  {"passkey_delete", with_fields<passkey_delete_op>},
}};

} // namespace

std::variant<admin_line, decode_failure>
decode_admin_line(std::string_view line) {
  json obj;
  bounded_dom reader{obj};
  if (auto failure = parse_line(line, reader))
    return *failure;
  admin_line out;
  if (auto i = obj.find("id"); i != obj.end()) {
    if (!i->is_null() && !i->is_string() && !i->is_number())
      return bad_id();
    out.id = *i;
  }
  if (auto i = obj.find("admin_key"); i != obj.end() && i->is_string())
    out.key = secret{i->get<std::string>()};
  std::string op;
  if (auto why = take(obj, "op", op))
    out.body = bad_request(out.id, std::move(*why));
  else if (auto entry = find_op(admin_ops, op)) {
    out.op = entry->name;
    out.body = entry->build(out.id, obj);
  } else {
    out.body = unknown_op(out.id, op);
  }
  // The DOM holds a copy of the key and of any password: wipe them.
  for (auto name : {"admin_key", "password"})
    if (auto i = obj.find(name); i != obj.end() && i->is_string()) {
      auto& text = i->get_ref<std::string&>();
      sodium_memzero(text.data(), text.size());
    }
  return out;
}

// -- replies ------------------------------------------------------------------

namespace {

/// Appends `[..]` with `append_one(out, x)` for each element.
template <class T, class F>
void append_array(std::string& out, const std::vector<T>& xs, F append_one) {
  out += '[';
  for (size_t i = 0; i < xs.size(); ++i) {
    if (i > 0)
      out += ',';
    append_one(out, xs[i]);
  }
  out += ']';
}

/// A user object with the operator's extra members.
void append_user_detail(std::string& out, const user_detail& d) {
  append_user(out, d.user);
  out.pop_back(); // the user object goes on
  append_member(out, "disabled", d.disabled);
  append_member(out, "sessions", d.sessions);
  append_member(out, "devices", d.devices);
  append_member(out, "hash_scheme", d.hash_scheme);
  append_member(out, "recovery_codes", d.recovery_codes);
  append_key(out, "passkeys");
  append_passkeys(out, d.passkeys);
  out += '}';
}

void append_session(std::string& out, const session_info& x) {
  append_object(out, member("id", x.id),
                member("created_at", unix_time{x.created_at}),
                member("expires_at", unix_time{x.expires_at}),
                member("source", x.source));
}

void append_rejection(std::string& out, const import_rejection& x) {
  append_object(out, member("index", x.index),
                member("code", wire_name(x.code)),
                member("message", x.message));
}

} // namespace

std::string encode_user_detail(const request_id& id, const user_detail& d) {
  auto out = reply_head(id, true);
  append_key(out, "user");
  append_user_detail(out, d);
  return reply_end(std::move(out));
}

std::string encode_user_page(const request_id& id, const user_page& page,
                             int64_t limit) {
  auto out = reply_head(id, true);
  append_key(out, "users");
  append_array(out, page.users, append_user_detail);
  append_key(out, "next");
  if (!page.users.empty() && static_cast<int64_t>(page.users.size()) >= limit)
    append_value(out, page.users.back().user.email);
  else
    out += "null";
  return reply_end(std::move(out));
}

std::string encode_session_list(const request_id& id, const session_list& l) {
  auto out = reply_head(id, true);
  append_key(out, "sessions");
  append_array(out, l.sessions, append_session);
  return reply_end(std::move(out));
}

std::string encode_revoked(const request_id& id, const revoke_result& r) {
  auto out = reply_head(id, true);
  append_member(out, "revoked", r.revoked);
  return reply_end(std::move(out));
}

std::string encode_throttle_status(const request_id& id,
                                   const throttle_status& s) {
  auto out = reply_head(id, true);
  append_key(out, "throttle");
  append_object(out, member("key", s.key), member("failures", s.failures),
                member("penalty_ms", s.penalty_ms), member("held", s.held),
                member("verifying", s.verifying));
  return reply_end(std::move(out));
}

std::string encode_throttle_reset(const request_id& id, bool had) {
  auto out = reply_head(id, true);
  append_member(out, "reset", had);
  return reply_end(std::move(out));
}

std::string encode_import_report(const request_id& id, const import_report& r) {
  auto out = reply_head(id, true);
  append_member(out, "imported", r.counts.imported);
  append_member(out, "updated", r.counts.updated);
  append_member(out, "skipped", r.counts.skipped);
  append_key(out, "rejected");
  append_array(out, r.rejected, append_rejection);
  return reply_end(std::move(out));
}

std::string encode_backup(const request_id& id, const backup_result& r) {
  auto out = reply_head(id, true);
  append_key(out, "backup");
  append_object(out, member("path", r.path), member("bytes", r.bytes),
                member("pages", r.pages), member("duration_ms", r.duration_ms));
  return reply_end(std::move(out));
}

namespace {

/// `"name":null` for an empty `text`, else `"name":"text"`.
void append_text_or_null(std::string& out, std::string_view name,
                         const std::string& text) {
  append_key(out, name);
  if (text.empty())
    out += "null";
  else
    append_value(out, text);
}

} // namespace

std::string encode_breached_status(const request_id& id,
                                   const breached_status& s) {
  auto out = reply_head(id, true);
  append_key(out, "breached");
  out += '{';
  append_member(out, "state", to_string(s.state));
  append_member(out, "path", s.path);
  append_member(out, "entries", static_cast<int64_t>(s.entries));
  append_member(out, "reloaded", s.problem.empty());
  append_text_or_null(out, "problem", s.problem);
  out += '}';
  return reply_end(std::move(out));
}

std::string encode_outbox_status(const request_id& id, const outbox_status& s) {
  auto out = reply_head(id, true);
  append_key(out, "outbox");
  out += '{';
  append_member(out, "pending", s.pending);
  append_member(out, "oldest_created_at",
                unix_time{s.oldest_created_ms / 1000, true});
  append_member(out, "most_attempts", s.most_attempts);
  append_text_or_null(out, "last_error", s.last_error);
  out += '}';
  return reply_end(std::move(out));
}

} // namespace authnode
