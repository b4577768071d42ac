// The mail templates: the built-in ones load and render, a directory of
// templates replaces them, and a broken template stops the load with the
// file and the reason named.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/mail_template.hpp"
#include "support/temp_dir.hpp"

using namespace authnode;

namespace {

const mail_fields fields{"K7QM-2XPA", "Ann", "ann@example.org",
                         "https://app.example.org", 15};

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

/// A directory with four valid templates (copies of the built-in files).
void write_valid_dir(const test::temp_dir& dir) {
  for (auto name : {"recovery.txt", "verification.txt", "email_change.txt",
                    "change_notice.txt"})
    std::filesystem::copy_file(std::string(AUTHNODE_SOURCE_DIR)
                                 + "/config/mail/" + name,
                               dir.file(name));
}

mail_templates load_ok(const std::string& dir) {
  std::string error;
  auto t = load_mail_templates(dir, error);
  INFO(error);
  REQUIRE(t);
  return *t;
}

std::string load_error(const std::string& dir) {
  std::string error;
  auto t = load_mail_templates(dir, error);
  CHECK_FALSE(t);
  return error;
}

} // namespace

TEST_CASE("the built-in templates load and fill in every placeholder",
          "[mail_template]") {
  auto t = load_ok("");
  for (auto p : {mail_purpose::recovery, mail_purpose::verification,
                 mail_purpose::email_change}) {
    INFO(purpose_file(p));
    auto m = render(t[p], fields);
    CHECK_FALSE(m.subject.empty());
    CHECK(m.body.find("K7QM-2XPA") != std::string::npos);
    CHECK(m.body.find("15 minutes") != std::string::npos);
    CHECK(m.body.find("Ann") != std::string::npos);
    CHECK(m.body.find('{') == std::string::npos);
  }
  auto notice = render(t[mail_purpose::change_notice], fields);
  CHECK(notice.body.find("K7QM") == std::string::npos);
  CHECK(notice.body.find("ann@example.org") != std::string::npos);
  CHECK(notice.body.find("https://app.example.org") != std::string::npos);
}

TEST_CASE("the built-in templates are config/mail as it is in the source",
          "[mail_template]") {
  test::temp_dir dir;
  write_valid_dir(dir);
  auto built_in = load_ok("");
  auto from_files = load_ok(dir.path());
  for (size_t i = 0; i < mail_purpose_count; ++i) {
    CHECK(built_in.of[i].subject == from_files.of[i].subject);
    CHECK(built_in.of[i].body == from_files.of[i].body);
  }
}

TEST_CASE("each placeholder is substituted, in subject and body",
          "[mail_template]") {
  std::string error;
  auto t = parse_mail_template(
    mail_purpose::recovery,
    "Subject: {name} {code}\n\n{code}|{name}|{email}|{app_url}|"
    "{expires_minutes}|{code}\n",
    "t", error);
  REQUIRE(t);
  auto m = render(*t, fields);
  CHECK(m.subject == "Ann K7QM-2XPA");
  CHECK(m.body
        == "K7QM-2XPA|Ann|ann@example.org|https://app.example.org|15|"
           "K7QM-2XPA\n");
}

TEST_CASE("a brace that is not a placeholder is literal text",
          "[mail_template]") {
  std::string error;
  auto t = parse_mail_template(mail_purpose::recovery,
                               "Subject: x\n\n{ a } {} {code {-x} }{code}\n",
                               "t", error);
  INFO(error);
  REQUIRE(t);
  CHECK(render(*t, fields).body == "{ a } {} {code {-x} }K7QM-2XPA\n");
}

TEST_CASE("an unknown placeholder names the file and the placeholder",
          "[mail_template]") {
  test::temp_dir dir;
  write_valid_dir(dir);
  write_file(dir.file("verification.txt"),
             "Subject: Your code\n\nHello {name}, {cod}\n");
  CHECK(load_error(dir.path())
        == "mail template " + dir.file("verification.txt")
          + ": unknown placeholder {cod}");
  write_file(dir.file("verification.txt"),
             "Subject: Your {kode}\n\nHello {code}\n");
  CHECK(load_error(dir.path())
        == "mail template " + dir.file("verification.txt")
          + ": unknown placeholder {kode}");
}

TEST_CASE("a missing template file stops the load, naming it",
          "[mail_template]") {
  test::temp_dir dir;
  write_valid_dir(dir);
  std::filesystem::remove(dir.file("email_change.txt"));
  auto error = load_error(dir.path());
  CHECK(error.rfind("mail template " + dir.file("email_change.txt")
                      + ": cannot be read",
                    0)
        == 0);
  CHECK(load_error(dir.file("nowhere")).find("recovery.txt")
        != std::string::npos);
}

TEST_CASE("a template without its Subject line or empty line is refused",
          "[mail_template]") {
  std::string error;
  CHECK_FALSE(parse_mail_template(mail_purpose::recovery, "Hello {code}\n",
                                  "r.txt", error));
  CHECK(error == "mail template r.txt: the first line is not \"Subject: ...\"");
  CHECK_FALSE(parse_mail_template(
    mail_purpose::recovery, "Subject: x\nHello {code}\n", "r.txt", error));
  CHECK(error.find("empty line") != std::string::npos);
  CHECK_FALSE(parse_mail_template(
    mail_purpose::recovery, "Subject:  \n\nHello {code}\n", "r.txt", error));
  CHECK(error.find("subject is empty") != std::string::npos);
}

TEST_CASE("a code mail needs {code}, the change notice must not have it",
          "[mail_template]") {
  std::string error;
  CHECK_FALSE(parse_mail_template(mail_purpose::verification,
                                  "Subject: x\n\nno code here\n", "v.txt",
                                  error));
  CHECK(error == "mail template v.txt: it has no {code} placeholder");
  CHECK_FALSE(parse_mail_template(mail_purpose::change_notice,
                                  "Subject: x\n\nyour code {code}\n", "n.txt",
                                  error));
  CHECK(error.find("{code} is not allowed") != std::string::npos);
  CHECK(parse_mail_template(mail_purpose::change_notice,
                            "Subject: x\n\nto {email}\n", "n.txt", error));
}

TEST_CASE("CRLF template files read as LF", "[mail_template]") {
  std::string error;
  auto t = parse_mail_template(mail_purpose::recovery,
                               "Subject: Code\r\n\r\nline {code}\r\nend\r\n",
                               "t", error);
  REQUIRE(t);
  CHECK(t->subject == "Code");
  CHECK(t->body == "line {code}\nend\n");
}

TEST_CASE("a name with line breaks cannot add a header or a line",
          "[mail_template]") {
  auto t = load_ok("");
  auto evil = fields;
  evil.name = "Eve\r\nBcc: victim@example.org\nX: y";
  std::string error;
  auto with_name = parse_mail_template(mail_purpose::recovery,
                                       "Subject: Hi {name}\n\n{name} {code}\n",
                                       "t", error);
  REQUIRE(with_name);
  auto m = render(*with_name, evil);
  CHECK(m.subject == "Hi Eve  Bcc: victim@example.org X: y");
  CHECK(m.subject.find_first_of("\r\n") == std::string::npos);
  CHECK(m.body.find_first_of('\r') == std::string::npos);
  CHECK(m.body == "Eve  Bcc: victim@example.org X: y K7QM-2XPA\n");
  for (auto& tmpl : t.of)
    CHECK(render(tmpl, evil).subject.find_first_of("\r\n")
          == std::string::npos);
}
