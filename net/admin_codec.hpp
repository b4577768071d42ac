// The admin channel's wire format: the same framing and reply shapes as the
// public protocol (both are written with net/wire), with operator ops only
// (docs/protocol.md, "Admin channel").
//
// It is a decoder of its own on purpose: the public decoder
// (net/public_codec) knows no admin op, so the public port answers one with
// unknown_op whatever it carries, and this one knows no public op. Admin
// traffic is a few requests from an operator, so it is parsed into a DOM
// (behind the same depth limit, net/wire) rather than with a hand-written
// SAX reader.
//
// The decoder has one table of ops: each op's name on the wire, and how its
// fields make its struct.
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include "actors/interfaces.hpp"
#include "net/wire.hpp"

namespace authnode {

struct admin_stats_op {};

/// The ops that name a user and nothing else.
struct by_email {
  std::string email;
};
struct user_show_op : by_email {};
struct user_disable_op : by_email {};
struct user_enable_op : by_email {};
struct user_delete_op : by_email {};
/// Removes the user's TOTP and recovery codes.
struct user_mfa_reset_op : by_email {};
struct sessions_list_op : by_email {};

struct user_list_op {
  user_query query;
};
struct user_add_op {
  admin_new_user user;
};
struct user_set_password_op {
  std::string email;
  secret password;
};
/// session_id 0: every session of the user.
struct sessions_revoke_op {
  std::string email;
  int64_t session_id = 0;
};

/// The ops on one throttle key: exactly one of `source` and `account`.
struct by_target {
  throttle_target target;
};
struct throttle_show_op : by_target {};
struct throttle_reset_op : by_target {};

/// Rows whose fields have the wrong JSON types are rejected here already
/// (in req.rejected); the rest are checked by the admin actor.
struct user_import_op {
  import_request req;
};

/// An absolute path on the node's machine.
struct backup_op {
  std::string path;
};

/// The outbox's counts, ages and last error.
struct mail_outbox_op {};

/// Marks the address proven (`verified`, the default) or not.
struct user_verify_op {
  std::string email;
  bool verified = true;
};

/// The hashers map the breached-password index again.
struct breached_reload_op {};

/// Removes one of the user's passkeys; `passkey_id` raw (base64url on the
/// wire, as user_show lists it).
struct passkey_delete_op {
  std::string email;
  std::string passkey_id;
};

using admin_body
  = std::variant<admin_stats_op, user_show_op, user_list_op, user_add_op,
                 user_set_password_op, user_disable_op, user_enable_op,
                 user_delete_op, sessions_list_op, sessions_revoke_op,
                 throttle_show_op, throttle_reset_op, user_import_op, backup_op,
                 mail_outbox_op, user_verify_op, user_mfa_reset_op,
                 breached_reload_op, passkey_delete_op>;

/// Most users in one user_list page, and how many when `limit` is absent.
constexpr int64_t max_user_page = 1000;
constexpr int64_t default_user_page = 50;

/// Most users in one user_import request; more is bad_request.
constexpr size_t max_import_users = 1000;

/// The admin port reads lines of at least this many bytes, whatever
/// --max-line says: a full user_import batch of ordinary rows (about 200
/// bytes each) must fit on one line. Lines are read before the key is
/// checked, so this bounds what an unauthenticated client can make the node
/// buffer: 64 admin connections at most, 1 MiB each.
constexpr size_t min_admin_line = size_t{1} << 20;

/// A well-formed line: its id, the key it presented (empty when absent or
/// not a string) and its op, or why the op cannot be done. The connection
/// looks at the op only once the key is right, so a client without the key
/// learns nothing about ops and fields.
struct admin_line {
  request_id id;
  secret key;
  /// The op's name on the wire, for the log; empty if the op is unknown.
  std::string_view op;
  std::variant<admin_body, decode_failure> body;
};

std::variant<admin_line, decode_failure>
decode_admin_line(std::string_view line);

/// `{"id":..,"ok":true,"user":{..user..,"disabled":b,"sessions":n,"devices":n}}`
std::string encode_user_detail(const request_id& id, const user_detail& user);

/// `{"id":..,"ok":true,"users":[..],"next":"email"|null}`; `next` is the
/// cursor for the following page, null when this page is not full.
std::string encode_user_page(const request_id& id, const user_page& page,
                             int64_t limit);

/// `{"id":..,"ok":true,"sessions":[{"id":n,"created_at":t,"expires_at":t,
/// "source":"addr"},..]}`
std::string encode_session_list(const request_id& id, const session_list& l);

/// `{"id":..,"ok":true,"revoked":n}`
std::string encode_revoked(const request_id& id, const revoke_result& r);

/// `{"id":..,"ok":true,"throttle":{"key":..,"failures":n,"penalty_ms":n,
/// "held":n,"verifying":n}}`
std::string encode_throttle_status(const request_id& id,
                                   const throttle_status& s);

/// `{"id":..,"ok":true,"reset":b}`: whether the key had failures.
std::string encode_throttle_reset(const request_id& id, bool had);

/// `{"id":..,"ok":true,"imported":n,"updated":n,"skipped":n,
/// "rejected":[{"index":i,"code":"..","message":".."},..]}`
std::string encode_import_report(const request_id& id, const import_report& r);

/// `{"id":..,"ok":true,"backup":{"path":..,"bytes":n,"pages":n,
/// "duration_ms":n}}`
std::string encode_backup(const request_id& id, const backup_result& r);

/// `{"id":..,"ok":true,"outbox":{"pending":n,"oldest_created_at":t|null,
/// "most_attempts":n,"last_error":"..."|null}}`: the oldest mail's time in
/// RFC 3339 (to the second), null when the outbox is empty; last_error
/// null when no delivery of a waiting mail has failed.
std::string encode_outbox_status(const request_id& id, const outbox_status& s);

/// `{"id":..,"ok":true,"breached":{"state":"on"|"off"|"missing","path":..,
/// "entries":n,"reloaded":bool,"problem":null|".."}}`: reloaded is false
/// when the new file was bad (the old mapping stays; problem says why).
std::string encode_breached_status(const request_id& id,
                                   const breached_status& s);

} // namespace authnode
