// The public port's wire format, protocol v1: one JSON object per line
// (docs/protocol.md).
//
// decode_request() turns a line into a typed request or a typed failure;
// encode_grant() and the shared encoders of net/wire turn typed results into
// reply lines. The admin port has a codec of its own (net/admin_codec): this
// one knows no admin op, so the public port answers one with unknown_op
// whatever it carries. Nothing here does I/O, so it is unit-tested and
// fuzzed on its own.
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include "actors/interfaces.hpp"
#include "net/wire.hpp"

namespace authnode {

struct ping_op {};
struct stats_op {};
struct whoami_op {
  token_request req;
};
struct logout_op {
  token_request req;
};
struct verify_start_op {
  token_request req;
};
struct verify_finish_op {
  token_code_request req;
};
struct email_finish_op {
  token_code_request req;
};
struct totp_setup_op {
  token_request req;
};
struct totp_enable_op {
  token_code_request req;
};
struct codes_renew_op {
  token_code_request req;
};
struct passkeys_list_op {
  token_request req;
};

using request_body
  = std::variant<ping_op, register_request, login_request, whoami_op, logout_op,
                 password_change_request, stats_op, recovery_start_request,
                 recovery_finish_request, verify_start_op, verify_finish_op,
                 email_change_request, email_finish_op, totp_setup_op,
                 totp_enable_op, totp_disable_request, codes_renew_op,
                 second_factor_login, passkey_begin_request,
                 passkey_register_request, passkey_login_begin_request,
                 passkey_login_request, passkeys_list_op,
                 passkey_delete_request>;

struct decoded_request {
  request_id id;
  request_body body;
};

/// `source` (the peer's address) is copied into requests that carry one.
std::variant<decoded_request, decode_failure>
decode_request(std::string_view line, const std::string& source);

/// `{"id":..,"ok":true,"sent":true|false}`: verify_email_start.
std::string encode_sent(const request_id& id, bool sent);

/// `{"id":..,"ok":true,"secret":..,"uri":..}`: totp_setup.
std::string encode_totp_setup(const request_id& id,
                              const totp_setup_reply& setup);

/// `{"id":..,"ok":true,"recovery_codes":[..]}`: totp_enable and
/// recovery_codes_renew.
std::string encode_recovery_codes(const request_id& id,
                                  const recovery_code_list& list);

/// `{"id":..,"ok":true,"options":{..}}`: passkey_register_begin, the
/// creation options as navigator.credentials.create() takes them (binary
/// fields in base64url).
std::string encode_passkey_options(const request_id& id,
                                   const webauthn_options& options);

/// `{"id":..,"ok":true,"challenge_id":..,"options":{..}}`:
/// passkey_login_begin.
std::string encode_passkey_login_options(const request_id& id,
                                         const passkey_login_options& login);

/// `{"id":..,"ok":true,"passkey":{"id","name","created_at","last_used_at"}}`
std::string encode_passkey(const request_id& id, const passkey_info& passkey);

/// `{"id":..,"ok":true,"passkeys":[..]}`
std::string encode_passkeys(const request_id& id, const passkey_list& list);

/// `{"id":..,"ok":true,"token":..,"expires_at":..,["device_token":..,]
/// "user":{..}}`
std::string encode_grant(const request_id& id, const session_grant& grant);

} // namespace authnode
