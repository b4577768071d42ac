// The wire format, protocol v1: one JSON object per line (docs/protocol.md).
//
// This is the only place that touches JSON. decode_request() turns a line
// into a typed request or a typed error; the encode_* functions turn typed
// results into reply lines. Nothing here does I/O, so it is unit-tested and
// fuzzed on its own.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

#include "actors/interfaces.hpp"
#include "core/error_code.hpp"

namespace authnode {

/// The request id as the client sent it (string or number); null if absent.
using request_id = nlohmann::json;

struct ping_op {};
struct stats_op {};
struct whoami_op {
  token_request req;
};
struct logout_op {
  token_request req;
};

using request_body
  = std::variant<ping_op, register_request, login_request, whoami_op, logout_op,
                 password_change_request, stats_op>;

struct decoded_request {
  request_id id;
  request_body body;
};

struct decode_failure {
  request_id id;
  ec code;
  std::string message;
};

/// Deepest nesting of arrays and objects a request may have.
constexpr int max_json_depth = 32;

/// `source` (the peer's address) is copied into requests that carry one.
std::variant<decoded_request, decode_failure>
decode_request(std::string_view line, const std::string& source);

std::string encode_ok(const request_id& id);
std::string encode_user(const request_id& id, const user_view& user);
std::string encode_grant(const request_id& id, const session_grant& grant);
std::string encode_stats(const request_id& id, const stats_snapshot& stats);
std::string encode_error(const request_id& id, ec code,
                         std::string_view message,
                         std::optional<int64_t> retry_after_ms = {});

// -- shared with the admin channel's codec (net/admin_codec) ------------------

/// The checks on a line's bytes that come before JSON parsing: a NUL byte or
/// a byte order mark makes it bad_json.
std::optional<decode_failure> check_line_bytes(std::string_view line);

/// `{"id":...,"ok":true|false`: the start of every reply; reply_end() closes.
std::string reply_head(const request_id& id, bool ok);
std::string reply_end(std::string out);

/// Appends a JSON string (invalid UTF-8 replaced), or a user object.
void append_json_string(std::string& out, std::string_view s);
void append_user(std::string& out, const user_view& u);
/// Appends Unix seconds as an RFC 3339 string.
void append_time(std::string& out, int64_t t);

} // namespace authnode
