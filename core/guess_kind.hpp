// What a throttle key counts the guesses of. Each kind of guessable secret
// has keys of its own, "totp:" + the source and "totp:" + the account, say,
// so that a code guesser never raises the penalty of the owner's password,
// nor the reverse. Passwords keep the bare keys (the source, the account)
// they had before there were other kinds. The admin channel names a kind
// to show or reset its keys; the flows build their keys from the same
// table, so the two cannot drift apart.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace authnode {

enum class guess_kind : uint8_t {
  password = 0,
  /// Account recovery codes (recovery_start / recovery_finish).
  recovery = 1,
  /// Verification and email change codes.
  code = 2,
  /// Second-factor codes: TOTP and recovery codes.
  totp = 3,
  /// Passkey assertions (passkey_login_finish).
  passkey = 4,
};

/// "password", "recovery", "code", "totp", "passkey".
std::string_view to_string(guess_kind kind);

/// The kind of one of to_string's names; nullopt for anything else.
std::optional<guess_kind> parse_guess_kind(std::string_view name);

/// What the kind's keys start with: "" for passwords, else the name and a
/// colon ("totp:").
std::string key_prefix(guess_kind kind);

/// "password, recovery, code, totp, passkey", for messages that list the choices.
std::string guess_kind_names();

} // namespace authnode
