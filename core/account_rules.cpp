#include "core/account_rules.hpp"

#include "core/email.hpp"
#include "core/error_code.hpp"
#include "core/password_context.hpp"

namespace authnode {

std::string trim_blanks(std::string_view s) {
  auto is_space = [](char c) {
    return c == ' ' || c == '\t';
  };
  while (!s.empty() && is_space(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && is_space(s.back()))
    s.remove_suffix(1);
  return std::string{s};
}

bool normalize_name(std::string& name) {
  name = trim_blanks(name);
  return !name.empty() && name.size() <= max_name_bytes;
}

caf::error check_new_password(const secret& password, const std::string& email,
                              uint32_t min_bytes) {
  if (password.size() < min_bytes)
    return caf::make_error(ec::weak_password,
                           "the password must have at least "
                             + std::to_string(min_bytes) + " bytes");
  if (password.size() > max_password_bytes)
    return caf::make_error(ec::weak_password,
                           "the password must have at most "
                             + std::to_string(max_password_bytes) + " bytes");
  if (normalize_email(password.reveal()) == email)
    return caf::make_error(ec::weak_password,
                           std::string{"the password must not be the email"});
  return {};
}

caf::error check_context(const secret& password, const std::string& email,
                         const std::string& name,
                         const std::vector<std::string>& site_words) {
  if (made_of_context(password.reveal(),
                      context_words(email, name, site_words)))
    return caf::make_error(ec::breached_password,
                           std::string{"the password is made of your name, "
                                       "your email or this site's name; "
                                       "choose another"});
  return {};
}

caf::error check_new_account(std::string& email, std::string& name,
                             const secret& password, uint32_t min_password,
                             const std::vector<std::string>& site_words) {
  email = normalize_email(email);
  if (!is_valid_email(email))
    return caf::make_error(ec::invalid_email);
  if (auto err = check_new_password(password, email, min_password))
    return err;
  if (!normalize_name(name))
    return caf::make_error(ec::bad_request, std::string{name_rule});
  return check_context(password, email, name, site_words);
}

} // namespace authnode
