// The line format both ports share (docs/protocol.md): what a request line
// must be before its op is looked at, how a field error is worded, and the
// pieces every reply is built from.
//
// Each port has a codec of its own (net/public_codec, net/admin_codec), so
// that neither can decode the other's ops; both are written with what is
// here, so that they cannot drift apart in how an id is echoed, a field
// error is worded or a number is written. Like the codecs, nothing here does
// I/O: it is unit-tested and fuzzed without a socket.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/interfaces.hpp"
#include "core/error_code.hpp"

namespace authnode {

// -- requests -----------------------------------------------------------------

/// The request id as the client sent it (string or number); null if absent.
using request_id = nlohmann::json;

/// A line that cannot be done: the id to answer (null if unknown), the code
/// and a message for people.
struct decode_failure {
  request_id id;
  ec code;
  std::string message;
};

/// Deepest nesting of arrays and objects a request may have.
constexpr int max_json_depth = 32;

/// The nesting a SAX reader is at. enter() is false past max_json_depth,
/// which stops the parse: nlohmann's parser is iterative, the limit bounds
/// the work a line can make.
struct depth_guard {
  int depth = 0;
  bool too_deep = false;

  bool enter() {
    if (++depth > max_json_depth) {
      too_deep = true;
      return false;
    }
    return true;
  }
  void leave() {
    --depth;
  }
};

/// The checks on a line's bytes that come before JSON parsing: a NUL byte or
/// a byte order mark makes it bad_json.
std::optional<decode_failure> check_line_bytes(std::string_view line);

/// bad_json: the line is no JSON object.
decode_failure not_an_object();

/// bad_json: the line is nested deeper than max_json_depth.
decode_failure nested_too_deeply();

/// Runs the SAX `reader` over `line`: the failure if the line is no JSON
/// object within max_json_depth. `reader` has a depth_guard `guard` and says
/// with is_object() whether the top-level value was an object.
template <class Reader>
std::optional<decode_failure> parse_line(std::string_view line,
                                         Reader& reader) {
  if (auto failure = check_line_bytes(line))
    return failure;
  auto parsed = nlohmann::json::sax_parse(line, &reader);
  if (reader.guard.too_deep)
    return nested_too_deeply();
  if (!parsed || !reader.is_object())
    return not_an_object();
  return std::nullopt;
}

/// A row of a codec's table of ops: the op's name on the wire and the
/// function that makes its typed request from the parsed line.
template <class Builder>
struct op_entry {
  std::string_view name;
  Builder build;
};

/// The row of `table` for the op `name`; null if there is none.
template <class Builder, size_t N>
const op_entry<Builder>* find_op(const std::array<op_entry<Builder>, N>& table,
                                 std::string_view name) {
  for (auto& entry : table)
    if (entry.name == name)
      return &entry;
  return nullptr;
}

/// An id that is neither null, a string nor a number.
decode_failure bad_id();

/// bad_request with `message`, answered to `id`.
decode_failure bad_request(request_id id, std::string message);

/// An op this port does not know (its name cut to 64 bytes).
decode_failure unknown_op(request_id id, std::string_view op);

/// "missing field: email"
std::string missing_field(std::string_view name);

/// "field email must be a string": `rule` says what the field must be.
std::string field_problem(std::string_view name, std::string_view rule);

// -- replies ------------------------------------------------------------------
//
// A reply is written straight into a string, member by member, in the order
// docs/protocol.md shows: no DOM is built for the replies on the hot path.

/// `{"id":...,"ok":true|false`: the start of every reply; reply_end() closes.
std::string reply_head(const request_id& id, bool ok);
std::string reply_end(std::string out);

/// Unix seconds, written as an RFC 3339 string; with `or_null`, 0 (never)
/// is written as null.
struct unix_time {
  int64_t seconds = 0;
  bool or_null = false;
};

/// The one way each kind of value is written. A string is escaped, and
/// invalid UTF-8 in it replaced, never echoed raw.
void append_value(std::string& out, int64_t x);
void append_value(std::string& out, bool x);
void append_value(std::string& out, std::string_view x);
void append_value(std::string& out, const char* x);
void append_value(std::string& out, unix_time x);
/// A JSON array of strings.
void append_value(std::string& out, const std::vector<std::string>& xs);

/// `"name":` inside an object, after a comma unless the object has no
/// member yet. Names are ours (plain ASCII), so they are not escaped.
void append_key(std::string& out, std::string_view name);

/// `"name":value`, after a comma unless it is the object's first member.
template <class T>
void append_member(std::string& out, std::string_view name, const T& value) {
  append_key(out, name);
  append_value(out, value);
}

/// A member for append_object().
template <class T>
struct member_ref {
  std::string_view name;
  const T& value;
};

template <class T>
member_ref<T> member(std::string_view name, const T& value) {
  return {name, value};
}

/// `{"a":..,"b":..}` from member("a", ..), member("b", ..).
template <class... Ts>
void append_object(std::string& out, const member_ref<Ts>&... members) {
  out += '{';
  (append_member(out, members.name, members.value), ...);
  out += '}';
}

/// A user object: id, email, name, created_at, last_login_at,
/// email_verified, second_factors (["totp","recovery_code"] with TOTP on,
/// else []).
void append_user(std::string& out, const user_view& u);

/// A passkey object: id (base64url), name, created_at, last_used_at (null:
/// never); and an array of them.
void append_passkey(std::string& out, const passkey_info& p);
void append_passkeys(std::string& out, const std::vector<passkey_info>& ps);

std::string encode_ok(const request_id& id);
/// encode_ok() for a request whose answer is ok_atom.
std::string encode_done(const request_id& id, caf::ok_atom);
std::string encode_error(const request_id& id, ec code,
                         std::string_view message,
                         std::optional<int64_t> retry_after_ms = {});
/// An error reply for `failure`: code, message, retry_after_ms (rate
/// limited); for second_factor_required also the challenge, methods and
/// expires_at, beside the error object.
std::string encode_failure(const request_id& id, const wire_error& failure);
/// `{"id":..,"ok":true,"user":{..}}`: register, whoami, user_add.
std::string encode_user(const request_id& id, const user_view& user);

/// The user object of encode_user alone, and a reply made of one: a cached
/// session's whoami copies the object instead of formatting the user again.
std::string encode_user_object(const user_view& user);
std::string encode_user_reply(const request_id& id,
                              std::string_view user_object);
/// `{"id":..,"ok":true,"stats":{..}}`: the public and the admin `stats`.
std::string encode_stats(const request_id& id, const stats_snapshot& stats);

} // namespace authnode
