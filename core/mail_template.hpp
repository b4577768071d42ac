// The mails the node sends (recovery, verification, email change and the
// notice of a change), one template per purpose.
//
// A template file is a `Subject: ...` line, one empty line, then the plain
// text body. Both may hold placeholders:
//   {code}             the code to enter (never in change_notice: the notice
//                      to the old address carries no code)
//   {name}             the account's display name
//   {email}            recovery and verification: the account's address;
//                      email_change and change_notice: the new address
//   {app_url}          --app-url
//   {expires_minutes}  how long the code is valid
// `{word}` with a word not in this list is an error when the templates are
// loaded (a typo must stop the node at start, not send a mail with "{cod}"
// in it); a `{` not followed by word characters and `}` is literal text. No
// escaping ({{ }}) is needed or supported.
//
// The built-in templates are config/mail/*.txt, compiled into the binary
// (CMake generates a source file from them), so a node never reads the
// source tree at run time. --mail-templates=DIR replaces all four.
//
// Values are substituted with CR and LF made spaces, in the body as in the
// subject: a name with a line break must neither add a header nor start a
// line of its own in the body.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

namespace authnode {

enum class mail_purpose : uint8_t {
  recovery = 0,
  verification = 1,
  email_change = 2,
  change_notice = 3,
};

inline constexpr size_t mail_purpose_count = 4;

/// The template's file name: "recovery.txt", "verification.txt", ...
const char* purpose_file(mail_purpose p);

struct mail_template {
  std::string subject;
  std::string body;
};

struct mail_templates {
  /// Indexed by mail_purpose.
  std::array<mail_template, mail_purpose_count> of;

  const mail_template& operator[](mail_purpose p) const {
    return of[static_cast<size_t>(p)];
  }
};

struct mail_fields {
  std::string code;
  std::string name;
  std::string email;
  std::string app_url;
  int64_t expires_minutes = 0;
};

struct rendered_mail {
  std::string subject;
  std::string body;
};

/// `dir` empty: the built-in templates. Otherwise the four files in `dir`.
/// A file that cannot be read, has no `Subject:` first line or no empty
/// line after it, holds an unknown placeholder, lacks {code} where a code
/// is sent or has one in change_notice gives nullopt and `error` naming the
/// file (and the placeholder), e.g. "mail template /x/recovery.txt: unknown
/// placeholder {cod}".
std::optional<mail_templates> load_mail_templates(const std::string& dir,
                                                  std::string& error);

/// Parses one template's text; `name` is how errors call the file.
std::optional<mail_template> parse_mail_template(mail_purpose p,
                                                 const std::string& text,
                                                 const std::string& name,
                                                 std::string& error);

/// Fills in the placeholders. A `{word}` not in the list (only possible in
/// a template that was not loaded by load_mail_templates) stays as it is.
rendered_mail render(const mail_template& t, const mail_fields& f);

} // namespace authnode
