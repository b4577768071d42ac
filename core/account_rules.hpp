// The rules an account's fields must follow, wherever an account is made or
// changed: register and change_password on the public port, user_add,
// user_set_password and user_import on the admin channel.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <caf/error.hpp>

#include "core/secrets.hpp"

namespace authnode {

/// Longest password accepted anywhere, in bytes.
constexpr size_t max_password_bytes = 1024;

/// Longest display name, in bytes (after trimming).
constexpr size_t max_name_bytes = 200;

/// `s` without leading and trailing spaces and tabs.
std::string trim_blanks(std::string_view s);

/// What a refused display name is told.
inline constexpr const char* name_rule = "name must have 1 to 200 bytes";

/// Trims a display name in place; false unless 1 to max_name_bytes remain.
bool normalize_name(std::string& name);

/// Empty when `password` may be the password of the account `email`
/// (normalized), otherwise a weak_password error that says why.
caf::error check_new_password(const secret& password, const std::string& email,
                              uint32_t min_bytes);

/// Normalizes a new account's email and trims its name, in place, then
/// checks email, password and name in that order; empty when all are fine.
caf::error check_new_account(std::string& email, std::string& name,
                             const secret& password, uint32_t min_password);

} // namespace authnode
