// The rules an account's fields must follow, wherever an account is made or
// changed: register and change_password on the public port, user_add,
// user_set_password and user_import on the admin channel.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

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

/// Empty unless `password` is made of the context words of the account
/// (`email`, `name`) and of the site (`site_words`, --password-context-words):
/// then a breached_password error that says so (core/password_context.hpp).
caf::error check_context(const secret& password, const std::string& email,
                         const std::string& name,
                         const std::vector<std::string>& site_words);

/// Normalizes a new account's email and trims its name, in place, then
/// checks email, password, name and context words in that order; empty when
/// all are fine.
caf::error check_new_account(std::string& email, std::string& name,
                             const secret& password, uint32_t min_password,
                             const std::vector<std::string>& site_words);

} // namespace authnode
