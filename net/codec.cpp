#include "net/codec.hpp"

#include <array>

#include "core/clock.hpp"

namespace authnode {

namespace {

using json = nlohmann::json;

// -- decoding -----------------------------------------------------------------

/// The top-level fields any op reads. Everything else is ignored.
enum class field : uint8_t {
  id,
  op,
  email,
  password,
  name,
  token,
  old_password,
  new_password,
  client_addr,
  device_token,
  other,
};

constexpr size_t string_fields = 9; // op .. device_token

constexpr std::array<const char*, 11> field_names{
  "id",          "op",           "email",        "password",
  "name",        "token",        "old_password", "new_password",
  "client_addr", "device_token", "other"};

field field_of(std::string_view key) {
  for (size_t i = 0; i < static_cast<size_t>(field::other); ++i)
    if (key == field_names[i])
      return static_cast<field>(i);
  return field::other;
}

/// Reads a request with nlohmann's SAX parser: no DOM is built, only the
/// top-level fields we know are kept, and nesting is cut off at
/// max_json_depth (the parser itself is iterative, the limit bounds work).
/// Duplicate keys: the last one wins, as with nlohmann's DOM.
struct request_reader : nlohmann::json_sax<json> {
  enum class slot_state : uint8_t { absent, string, mistyped };

  int depth = 0;
  bool top_is_object = false;
  bool too_deep = false;
  field current = field::other;
  json id;
  bool id_mistyped = false;
  std::array<std::string, string_fields> values;
  std::array<slot_state, string_fields> states{};

  bool at_value() const {
    return depth == 1;
  }

  void set_scalar_mistyped() {
    if (!at_value())
      return;
    if (current == field::id)
      id_mistyped = true, id = nullptr;
    else if (current != field::other)
      states[index(current)] = slot_state::mistyped;
  }

  static size_t index(field f) {
    return static_cast<size_t>(f) - 1;
  }

  template <class T>
  bool number(T x) {
    if (at_value() && current == field::id) {
      id = x;
      id_mistyped = false;
    } else {
      set_scalar_mistyped();
    }
    return true;
  }

  bool null() override {
    if (at_value() && current == field::id) {
      id = nullptr;
      id_mistyped = false;
      return true;
    }
    set_scalar_mistyped();
    return true;
  }
  bool boolean(bool) override {
    set_scalar_mistyped();
    return true;
  }
  bool number_integer(number_integer_t x) override {
    return number(x);
  }
  bool number_unsigned(number_unsigned_t x) override {
    return number(x);
  }
  bool number_float(number_float_t x, const string_t&) override {
    return number(x);
  }
  bool string(string_t& x) override {
    if (!at_value())
      return true;
    if (current == field::id) {
      id = std::move(x);
      id_mistyped = false;
    } else if (current != field::other) {
      values[index(current)] = std::move(x);
      states[index(current)] = slot_state::string;
    }
    return true;
  }
  bool binary(binary_t&) override {
    set_scalar_mistyped();
    return true;
  }
  bool start_object(std::size_t) override {
    if (depth == 0)
      top_is_object = true;
    else
      set_scalar_mistyped();
    return enter();
  }
  bool start_array(std::size_t) override {
    set_scalar_mistyped();
    return enter();
  }
  bool end_object() override {
    --depth;
    return true;
  }
  bool end_array() override {
    --depth;
    return true;
  }
  bool key(string_t& k) override {
    if (depth == 1)
      current = field_of(k);
    return true;
  }
  bool parse_error(std::size_t, const std::string&,
                   const nlohmann::detail::exception&) override {
    return false;
  }

  bool enter() {
    if (++depth > max_json_depth) {
      too_deep = true;
      return false;
    }
    return true;
  }

  /// Moves a required string field into `out`, or says what is wrong.
  template <class T>
  bool take(field f, T& out, std::string& problem) {
    auto i = index(f);
    if (states[i] == slot_state::string) {
      out = T{std::move(values[i])};
      return true;
    }
    problem = states[i] == slot_state::absent
      ? std::string{"missing field: "} + field_names[i + 1]
      : std::string{"field "} + field_names[i + 1] + " must be a string";
    return false;
  }

  /// Like take(), for a field that may be absent.
  template <class T>
  bool take_optional(field f, T& out, std::string& problem) {
    if (states[index(f)] == slot_state::absent)
      return true;
    return take(f, out, problem);
  }
};

/// Builds the typed request for `op`, or leaves `problem` set.
std::optional<request_body> build_body(std::string_view op, request_reader& r,
                                       const std::string& source,
                                       std::string& problem) {
  if (op == "ping")
    return request_body{ping_op{}};
  if (op == "stats")
    return request_body{stats_op{}};
  if (op == "register") {
    register_request req;
    req.source = source;
    if (r.take(field::email, req.email, problem)
        && r.take(field::password, req.password, problem)
        && r.take(field::name, req.name, problem)
        && r.take_optional(field::client_addr, req.client_addr, problem))
      return request_body{std::move(req)};
    return std::nullopt;
  }
  if (op == "login") {
    login_request req;
    req.source = source;
    if (r.take(field::email, req.email, problem)
        && r.take(field::password, req.password, problem)
        && r.take_optional(field::client_addr, req.client_addr, problem)
        && r.take_optional(field::device_token, req.device_token, problem))
      return request_body{std::move(req)};
    return std::nullopt;
  }
  if (op == "whoami" || op == "logout") {
    token_request req;
    req.source = source;
    if (!r.take(field::token, req.token, problem))
      return std::nullopt;
    if (op == "whoami")
      return request_body{whoami_op{std::move(req)}};
    return request_body{logout_op{std::move(req)}};
  }
  if (op == "change_password") {
    password_change_request req;
    req.source = source;
    if (r.take(field::token, req.token, problem)
        && r.take(field::old_password, req.old_password, problem)
        && r.take(field::new_password, req.new_password, problem)
        && r.take_optional(field::client_addr, req.client_addr, problem))
      return request_body{std::move(req)};
    return std::nullopt;
  }
  return std::nullopt; // problem stays empty: unknown op
}

// -- encoding -----------------------------------------------------------------

void append_id(std::string& out, const request_id& id) {
  if (id.is_null())
    return;
  out += "\"id\":";
  out += id.dump(-1, ' ', false, json::error_handler_t::replace);
  out += ',';
}

} // namespace

std::variant<decoded_request, decode_failure>
decode_request(std::string_view line, const std::string& source) {
  auto fail = [](request_id id, ec code, std::string message) {
    return decode_failure{std::move(id), code, std::move(message)};
  };
  if (auto failure = check_line_bytes(line))
    return *failure;
  request_reader r;
  auto parsed = json::sax_parse(line, &r);
  if (r.too_deep)
    return fail(nullptr, ec::bad_json, "the line is nested too deeply");
  if (!parsed || !r.top_is_object)
    return fail(nullptr, ec::bad_json, "the line is not a JSON object");
  if (r.id_mistyped)
    return fail(nullptr, ec::bad_request, "id must be a string or a number");
  auto op_state = r.states[request_reader::index(field::op)];
  if (op_state == request_reader::slot_state::absent)
    return fail(r.id, ec::bad_request, "missing field: op");
  if (op_state == request_reader::slot_state::mistyped)
    return fail(r.id, ec::bad_request, "field op must be a string");
  auto op = std::move(r.values[request_reader::index(field::op)]);
  std::string problem;
  auto body = build_body(op, r, source, problem);
  if (!body) {
    if (problem.empty())
      return fail(r.id, ec::unknown_op, "unknown op: " + op.substr(0, 64));
    return fail(r.id, ec::bad_request, std::move(problem));
  }
  return decoded_request{std::move(r.id), std::move(*body)};
}

std::optional<decode_failure> check_line_bytes(std::string_view line) {
  // nlohmann's lexer takes a NUL byte for the end of input, so
  // '{"op":"ping"}\0garbage' would pass. A raw NUL is never valid JSON
  // (not even inside a string), so no line with one is.
  // nlohmann also skips a UTF-8 byte order mark before the value; the
  // protocol allows only whitespace around the object.
  if (line.find('\0') != std::string_view::npos
      || line.substr(0, 3) == "\xef\xbb\xbf")
    return decode_failure{nullptr, ec::bad_json,
                          "the line is not a JSON object"};
  return std::nullopt;
}

/// Appends `s` as a JSON string. nlohmann does the escaping; invalid UTF-8
/// is replaced, never echoed raw and never a reason to fail.
void append_json_string(std::string& out, std::string_view s) {
  out += json(s).dump(-1, ' ', false, json::error_handler_t::replace);
}

void append_time(std::string& out, int64_t t) {
  out += '"';
  out += rfc3339(t);
  out += '"';
}

std::string reply_head(const request_id& id, bool ok) {
  std::string out;
  out.reserve(128);
  out += '{';
  append_id(out, id);
  out += ok ? "\"ok\":true" : "\"ok\":false";
  return out;
}

void append_user(std::string& out, const user_view& u) {
  out += "{\"id\":";
  out += std::to_string(u.id);
  out += ",\"email\":";
  append_json_string(out, u.email);
  out += ",\"name\":";
  append_json_string(out, u.name);
  out += ",\"created_at\":";
  append_time(out, u.created_at);
  out += ",\"last_login_at\":";
  if (u.last_login_at > 0)
    append_time(out, u.last_login_at);
  else
    out += "null";
  out += '}';
}

std::string reply_end(std::string out) {
  out += "}\n";
  return out;
}

std::string encode_ok(const request_id& id) {
  return reply_end(reply_head(id, true));
}

std::string encode_user(const request_id& id, const user_view& user) {
  auto out = reply_head(id, true);
  out += ",\"user\":";
  append_user(out, user);
  return reply_end(std::move(out));
}

std::string encode_grant(const request_id& id, const session_grant& grant) {
  auto out = reply_head(id, true);
  out += ",\"token\":";
  append_json_string(out, grant.token.reveal());
  out += ",\"expires_at\":";
  append_time(out, grant.expires_at);
  if (!grant.device_token.empty()) {
    out += ",\"device_token\":";
    append_json_string(out, grant.device_token.reveal());
  }
  out += ",\"user\":";
  append_user(out, grant.user);
  return reply_end(std::move(out));
}

std::string encode_stats(const request_id& id, const stats_snapshot& s) {
  auto out = reply_head(id, true);
  std::pair<const char*, int64_t> fields[] = {
    {"connections", s.connections},
    {"requests_total", s.requests_total},
    {"registrations_total", s.registrations_total},
    {"logins_ok", s.logins_ok},
    {"logins_failed", s.logins_failed},
    {"pending_delayed", s.pending_delayed},
    {"hash_verifications_total", s.hash_verifications_total},
    {"rate_limited_total", s.rate_limited_total},
    {"penalized_sources", s.penalized_sources},
    {"penalized_accounts", s.penalized_accounts},
    {"throttle_held", s.throttle_held},
    {"hash_queue_depth", s.hash_queue_depth},
    {"idle_closed_total", s.idle_closed_total},
    {"tarpitted_total", s.tarpitted_total},
    {"uptime_seconds", s.uptime_seconds},
  };
  out += ",\"stats\":{";
  bool first = true;
  for (auto& [name, value] : fields) {
    if (!first)
      out += ',';
    first = false;
    out += '"';
    out += name;
    out += "\":";
    out += std::to_string(value);
  }
  out += '}';
  return reply_end(std::move(out));
}

std::string encode_error(const request_id& id, ec code,
                         std::string_view message,
                         std::optional<int64_t> retry_after_ms) {
  auto out = reply_head(id, false);
  out += ",\"error\":{\"code\":\"";
  out += wire_name(code);
  out += "\",\"message\":";
  append_json_string(out, message);
  if (retry_after_ms) {
    out += ",\"retry_after_ms\":";
    out += std::to_string(*retry_after_ms);
  }
  out += '}';
  return reply_end(std::move(out));
}

} // namespace authnode
