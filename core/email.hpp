// What counts as an email address here, and its one spelling.
//
// We do not try to implement RFC 5321 in full: an address is accepted when it
// has one '@' with a non-empty local part, a domain with a dot and no empty
// labels, no spaces or control characters, and at most 254 bytes. Emails are
// trimmed and lower-cased before anything else, so "Ann@X.org " and
// "ann@x.org" are one account.
#pragma once

#include <string>
#include <string_view>

namespace authnode {

std::string normalize_email(std::string_view raw);

bool is_valid_email(std::string_view normalized);

} // namespace authnode
