#include "net/admin_codec.hpp"

#include <array>
#include <initializer_list>
#include <optional>
#include <utility>

#include <sodium.h>

namespace authnode {

namespace {

using json = nlohmann::json;

/// nlohmann's DOM builder behind a depth limit: a line nested deeper than
/// max_json_depth is refused before it is built.
struct bounded_dom {
  explicit bounded_dom(json& result) : dom(result, false) {}

  nlohmann::detail::json_sax_dom_parser<json> dom;
  int depth = 0;
  bool too_deep = false;

  bool enter() {
    if (++depth > max_json_depth) {
      too_deep = true;
      return false;
    }
    return true;
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
    return enter() && dom.start_object(n);
  }
  bool key(json::string_t& x) {
    return dom.key(x);
  }
  bool end_object() {
    --depth;
    return dom.end_object();
  }
  bool start_array(std::size_t n) {
    return enter() && dom.start_array(n);
  }
  bool end_array() {
    --depth;
    return dom.end_array();
  }
  bool parse_error(std::size_t, const std::string&,
                   const nlohmann::detail::exception&) {
    return false;
  }
};

decode_failure bad_request(const request_id& id, std::string message) {
  return decode_failure{id, ec::bad_request, std::move(message)};
}

/// Reads the string field `name` into `out`; absent is fine when
/// `optional`. Returns the problem, if any.
std::optional<std::string> take(const json& obj, const char* name,
                                std::string& out, bool optional = false) {
  auto i = obj.find(name);
  if (i == obj.end())
    return optional
      ? std::nullopt
      : std::optional<std::string>{std::string{"missing field: "} + name};
  if (!i->is_string())
    return std::string{"field "} + name + " must be a string";
  out = i->get<std::string>();
  return std::nullopt;
}

std::optional<std::string> take_limit(const json& obj, int64_t& out) {
  auto i = obj.find("limit");
  out = default_user_page;
  if (i == obj.end())
    return std::nullopt;
  if (!i->is_number_integer() || i->get<int64_t>() < 1
      || i->get<int64_t>() > max_user_page)
    return "field limit must be an integer from 1 to "
      + std::to_string(max_user_page);
  out = i->get<int64_t>();
  return std::nullopt;
}

/// An optional positive integer field; 0 when absent.
std::optional<std::string> take_id(const json& obj, const char* name,
                                   int64_t& out) {
  auto i = obj.find(name);
  out = 0;
  if (i == obj.end())
    return std::nullopt;
  if (!i->is_number_integer() || i->get<int64_t>() < 1)
    return std::string{"field "} + name + " must be a positive integer";
  out = i->get<int64_t>();
  return std::nullopt;
}

/// Exactly one of `source` and `account`.
std::optional<std::string> take_target(const json& obj, throttle_target& out) {
  auto has_source = obj.contains("source");
  if (has_source == obj.contains("account"))
    return std::string{"give exactly one of the fields source and account"};
  out.account = !has_source;
  return take(obj, has_source ? "source" : "account", out.key);
}

/// A user_import row's fields by type, in the order email, name, hash,
/// created_at: the first of the wrong type rejects the row. created_at may
/// be absent or null (the time of the import); 0 stands for that.
std::variant<import_row, import_rejection> decode_row(const json& x,
                                                      int64_t index) {
  import_row row;
  row.index = index;
  auto reject = [&](import_code code, std::string message) {
    return import_rejection{index, static_cast<uint8_t>(code),
                            std::move(message)};
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
                    "field created_at must be a positive integer (Unix "
                    "seconds)");
    row.created_at = i->get<int64_t>();
  }
  return row;
}

/// user_import's `users` and `update`. A request that is wrong as a whole
/// (no array, too many rows, a row that is no object) is bad_request.
std::optional<std::string> take_import(const json& obj, import_request& out) {
  auto users = obj.find("users");
  if (users == obj.end())
    return std::string{"missing field: users"};
  if (!users->is_array())
    return std::string{"field users must be an array"};
  if (users->size() > max_import_users)
    return "users must have at most " + std::to_string(max_import_users)
      + " entries";
  if (auto i = obj.find("update"); i != obj.end()) {
    if (!i->is_boolean())
      return std::string{"field update must be a boolean"};
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
std::optional<std::string> take_path(const json& obj, std::string& out) {
  if (auto problem = take(obj, "path", out))
    return problem;
  if (out.empty() || out.front() != '/')
    return std::string{"field path must be an absolute path"};
  if (out.find('\0') != std::string::npos)
    return std::string{"field path must not contain a NUL character"};
  return std::nullopt;
}

/// The op's fields, checked in the order docs/protocol.md lists them.
std::variant<admin_body, decode_failure>
decode_body(const request_id& id, const std::string& op, const json& obj) {
  std::optional<std::string> problem;
  auto done = [&](admin_body body) -> std::variant<admin_body, decode_failure> {
    if (problem)
      return bad_request(id, std::move(*problem));
    return body;
  };
  auto email_op = [&](auto body) {
    problem = take(obj, "email", body.email);
    return done(std::move(body));
  };
  if (op == "stats")
    return admin_body{admin_stats_op{}};
  if (op == "user_show")
    return email_op(user_show_op{});
  if (op == "user_delete")
    return email_op(user_delete_op{});
  if (op == "user_disable" || op == "user_enable")
    return email_op(user_disable_op{{}, op == "user_disable"});
  if (op == "user_list") {
    user_list_op body;
    if (!(problem = take_limit(obj, body.query.limit))
        && !(problem = take(obj, "after", body.query.after, true)))
      problem = take(obj, "prefix", body.query.prefix, true);
    return done(std::move(body));
  }
  if (op == "user_add") {
    user_add_op body;
    std::string password;
    if (!(problem = take(obj, "email", body.user.email))
        && !(problem = take(obj, "name", body.user.name)))
      problem = take(obj, "password", password);
    body.user.password = secret{std::move(password)};
    return done(std::move(body));
  }
  if (op == "user_set_password") {
    user_set_password_op body;
    std::string password;
    if (!(problem = take(obj, "email", body.email)))
      problem = take(obj, "password", password);
    body.password = secret{std::move(password)};
    return done(std::move(body));
  }
  if (op == "sessions_list")
    return email_op(sessions_list_op{});
  if (op == "sessions_revoke") {
    sessions_revoke_op body;
    if (!(problem = take(obj, "email", body.email)))
      problem = take_id(obj, "session_id", body.session_id);
    return done(std::move(body));
  }
  if (op == "user_import") {
    user_import_op body;
    problem = take_import(obj, body.req);
    return done(std::move(body));
  }
  if (op == "throttle_show" || op == "throttle_reset") {
    throttle_op body;
    body.reset = op == "throttle_reset";
    problem = take_target(obj, body.target);
    return done(std::move(body));
  }
  if (op == "backup") {
    backup_op body;
    problem = take_path(obj, body.path);
    return done(std::move(body));
  }
  return decode_failure{id, ec::unknown_op, "unknown op: " + op.substr(0, 64)};
}

} // namespace

std::variant<admin_line, decode_failure>
decode_admin_line(std::string_view line) {
  if (auto failure = check_line_bytes(line))
    return *failure;
  json obj;
  bounded_dom reader{obj};
  auto parsed = json::sax_parse(line, &reader);
  if (reader.too_deep)
    return decode_failure{nullptr, ec::bad_json,
                          "the line is nested too deeply"};
  if (!parsed || !obj.is_object())
    return decode_failure{nullptr, ec::bad_json,
                          "the line is not a JSON object"};
  admin_line out;
  if (auto i = obj.find("id"); i != obj.end()) {
    if (!i->is_null() && !i->is_string() && !i->is_number())
      return bad_request(nullptr, "id must be a string or a number");
    out.id = *i;
  }
  if (auto i = obj.find("admin_key"); i != obj.end() && i->is_string())
    out.key = secret{i->get<std::string>()};
  std::string op;
  if (auto problem = take(obj, "op", op))
    out.body = bad_request(out.id, std::move(*problem));
  else
    out.body = decode_body(out.id, op, obj);
  // The DOM holds a copy of the key and of any password: wipe them.
  for (auto name : {"admin_key", "password"})
    if (auto i = obj.find(name); i != obj.end() && i->is_string()) {
      auto& text = i->get_ref<std::string&>();
      sodium_memzero(text.data(), text.size());
    }
  return out;
}

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
  out += ",\"disabled\":";
  out += d.disabled ? "true" : "false";
  out += ",\"sessions\":" + std::to_string(d.sessions);
  out += ",\"devices\":" + std::to_string(d.devices);
  out += ",\"hash_scheme\":";
  append_json_string(out, d.hash_scheme);
  out += '}';
}

} // namespace

std::string encode_user_detail(const request_id& id, const user_detail& d) {
  auto out = reply_head(id, true);
  out += ",\"user\":";
  append_user_detail(out, d);
  return reply_end(std::move(out));
}

std::string encode_user_page(const request_id& id, const user_page& page,
                             int64_t limit) {
  auto out = reply_head(id, true);
  out += ",\"users\":";
  append_array(out, page.users, append_user_detail);
  out += ",\"next\":";
  if (!page.users.empty() && static_cast<int64_t>(page.users.size()) >= limit)
    append_json_string(out, page.users.back().user.email);
  else
    out += "null";
  return reply_end(std::move(out));
}

std::string encode_session_list(const request_id& id, const session_list& l) {
  auto out = reply_head(id, true);
  out += ",\"sessions\":";
  append_array(out, l.sessions, [](std::string& out, const session_info& x) {
    out += "{\"id\":" + std::to_string(x.id);
    out += ",\"created_at\":";
    append_time(out, x.created_at);
    out += ",\"expires_at\":";
    append_time(out, x.expires_at);
    out += ",\"source\":";
    append_json_string(out, x.source);
    out += '}';
  });
  return reply_end(std::move(out));
}

std::string encode_revoked(const request_id& id, const revoke_result& r) {
  return reply_end(reply_head(id, true)
                   + ",\"revoked\":" + std::to_string(r.revoked));
}

namespace {

/// `,"name":n` for each member, then the `}` that ends the object.
void append_numbers(
  std::string& out,
  std::initializer_list<std::pair<const char*, int64_t>> members) {
  for (auto& [name, value] : members) {
    out += ",\"";
    out += name;
    out += "\":" + std::to_string(value);
  }
  out += '}';
}

} // namespace

std::string encode_throttle_status(const request_id& id,
                                   const throttle_status& s) {
  auto out = reply_head(id, true);
  out += ",\"throttle\":{\"key\":";
  append_json_string(out, s.key);
  append_numbers(out,
                 {{"failures", s.failures},
                  {"penalty_ms", s.penalty_ms},
                  {"held", s.held},
                  {"verifying", s.verifying}});
  return reply_end(std::move(out));
}

std::string encode_throttle_reset(const request_id& id, bool had) {
  return reply_end(reply_head(id, true)
                   + ",\"reset\":" + (had ? "true" : "false"));
}

std::string_view admin_op_name(const admin_body& body) {
  // No catch-all overload: a new op that is not named here does not compile.
  struct namer {
    std::string_view operator()(const admin_stats_op&) {
      return "stats";
    }
    std::string_view operator()(const user_show_op&) {
      return "user_show";
    }
    std::string_view operator()(const user_list_op&) {
      return "user_list";
    }
    std::string_view operator()(const user_add_op&) {
      return "user_add";
    }
    std::string_view operator()(const user_set_password_op&) {
      return "user_set_password";
    }
    std::string_view operator()(const user_disable_op& op) {
      return op.disabled ? "user_disable" : "user_enable";
    }
    std::string_view operator()(const user_delete_op&) {
      return "user_delete";
    }
    std::string_view operator()(const sessions_list_op&) {
      return "sessions_list";
    }
    std::string_view operator()(const sessions_revoke_op&) {
      return "sessions_revoke";
    }
    std::string_view operator()(const throttle_op& op) {
      return op.reset ? "throttle_reset" : "throttle_show";
    }
    std::string_view operator()(const user_import_op&) {
      return "user_import";
    }
    std::string_view operator()(const backup_op&) {
      return "backup";
    }
  };
  return std::visit(namer{}, body);
}

std::string_view import_code_name(uint8_t code) {
  // Indexed by import_code; the names are part of the protocol.
  static constexpr std::array<std::string_view, 5> names{
    {"bad_email", "bad_name", "bad_hash", "duplicate", "bad_created_at"}};
  return code < names.size() ? names[code] : "internal";
}

std::string encode_import_report(const request_id& id, const import_report& r) {
  auto out = reply_head(id, true);
  out += ",\"imported\":" + std::to_string(r.counts.imported);
  out += ",\"updated\":" + std::to_string(r.counts.updated);
  out += ",\"skipped\":" + std::to_string(r.counts.skipped);
  out += ",\"rejected\":";
  append_array(out, r.rejected,
               [](std::string& out, const import_rejection& x) {
                 out += "{\"index\":" + std::to_string(x.index);
                 out += ",\"code\":";
                 append_json_string(out, import_code_name(x.code));
                 out += ",\"message\":";
                 append_json_string(out, x.message);
                 out += '}';
               });
  return reply_end(std::move(out));
}

std::string encode_backup(const request_id& id, const backup_result& r) {
  auto out = reply_head(id, true);
  out += ",\"backup\":{\"path\":";
  append_json_string(out, r.path);
  append_numbers(
    out,
    {{"bytes", r.bytes}, {"pages", r.pages}, {"duration_ms", r.duration_ms}});
  return reply_end(std::move(out));
}

} // namespace authnode
