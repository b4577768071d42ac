// The one list of error codes shared by the protocol and the actors, and
// the codes of rows a user_import rejects.
//
// Each code has a stable wire name (the "code" field of an error reply) and a
// default message for people. Actors report failures as caf::error values of
// the "authnode" category, so they survive a hop between CAF nodes; the
// connection actor maps them back to the wire with to_wire().
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/error.hpp>
#include <caf/make_message.hpp>
#include <caf/message.hpp>
#include <caf/timestamp.hpp>

#include "core/secrets.hpp"

namespace authnode {

enum class ec : uint8_t {
  none = 0,
  // Request shape, detected by the connection actor.
  bad_json = 1,
  bad_request,
  unknown_op,
  line_too_long,
  // Capacity and backends.
  busy,
  unavailable,
  internal,
  // Registration.
  invalid_email,
  weak_password,
  email_taken,
  // Authentication.
  invalid_credentials,
  invalid_token,
  rate_limited,
  // Admin channel: the admin key is missing or wrong; no such account.
  forbidden,
  no_such_user,
  // Internal only, never sent on the wire: the database has no such row.
  not_found,
  // Admin channel, backup: the target file exists (a backup never
  // overwrites); SQLite or the file system refused (the message says why).
  // After not_found so that the numbers of the codes above stay as they were.
  exists,
  backup_failed,
  // Account codes (recovery, verification, email change): the code is
  // wrong, expired, used or replaced; a login of an account whose address is
  // not proven, with --require-verified-email.
  invalid_code,
  email_not_verified,
  // Second factors: the password matched, a code is needed too (the reply
  // carries the challenge); the account is not in the state the op needs
  // (TOTP on already, not on, nothing set up to confirm).
  second_factor_required,
  conflict,
  // A new password is in the breached-password index (--breached-passwords)
  // or is made of the account's context words (core/password_context.hpp).
  breached_password,
  // Passkeys: a registration that did not verify (the message says which
  // check failed); a passkey_delete of an id the account does not have.
  passkey_refused,
  no_such_passkey,
};

/// Stable snake_case name used on the wire.
std::string_view wire_name(ec code);

/// Why a row of a user_import batch was not imported: the `code` of an entry
/// of its `rejected` list. Not a request's error (the batch itself succeeds),
/// so not an ec; but a code on the wire like them, with a table beside
/// theirs. Carried in import_rejection across nodes as its uint8_t, so the
/// values stay as they are.
enum class import_code : uint8_t {
  bad_email,
  bad_name,
  bad_hash,
  duplicate,
  bad_created_at,
};

/// Stable wire name ("bad_email", ...); "internal" for a value past the
/// table (which only a newer node could send).
std::string_view wire_name(import_code code);

/// The wire name, for CAF's printing of messages (deep_to_string).
std::string to_string(import_code code);

/// Default text for people.
std::string_view default_message(ec code);

/// second_factor_required's extra: the login waiting for its second factor
/// (login_second_factor names it), until when, and with which methods.
struct pending_challenge {
  secret challenge;
  int64_t expires_at = 0;
  std::vector<std::string> methods;
};

/// What a failure means to a client: the code, a message and, for failures
/// that must be answered late, how long after the request arrived.
struct wire_error {
  ec code = ec::internal;
  std::string message;
  caf::timespan hold{0};
  /// For rate_limited: when the client may try again.
  std::optional<int64_t> retry_after_ms;
  /// For second_factor_required.
  std::optional<pending_challenge> challenge;
  /// For second_factor_required: the password that matched is in the
  /// breached-password index (the grant of login_second_factor does not
  /// carry it, so this reply does).
  bool password_breached = false;
};

/// Maps any caf::error (ours or CAF's own, such as a request timeout) to what
/// a client sees.
wire_error to_wire(const caf::error& err);

/// An error of our category whose reply must not be sent before `hold` has
/// passed since the request arrived.
caf::error make_held_error(ec code, caf::timespan hold);

/// rate_limited, with the time after which trying again makes sense.
caf::error make_rate_limited(int64_t retry_after_ms);

/// second_factor_required, with the challenge the client answers with a
/// code (the challenge travels in the error; it is a secret, which has no
/// operator<<, and the connection writes it only to its own client).
/// `password_breached`: the password that matched is breached (the reply
/// says so, see wire_error).
caf::error make_second_factor_required(secret challenge, int64_t expires_at,
                                       std::vector<std::string> methods,
                                       bool password_breached = false);

} // namespace authnode

CAF_ERROR_CODE_ENUM(authnode::ec, "authnode")
