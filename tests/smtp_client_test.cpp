// smtp_send against a real SMTP server on loopback (support/smtp_sink):
// what arrives is what a mail client would show, and a relay that refuses
// or is gone is an error, not a silent loss.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include "core/error_code.hpp"
#include "net/smtp_client.hpp"
#include "support/smtp_sink.hpp"

using namespace authnode;
using namespace std::chrono_literals;

namespace {

smtp_settings settings_for(const test::smtp_sink& sink) {
  smtp_settings s;
  s.url = sink.url();
  s.from = "noreply@auth.example.org";
  s.timeout = 5s;
  return s;
}

outgoing_mail mail_to(std::string to, std::string subject, std::string body) {
  outgoing_mail m;
  m.id = 7;
  m.to = std::move(to);
  m.subject = std::move(subject);
  m.body = std::move(body);
  return m;
}

/// An IPv4 address of this machine that is not loopback ("" if none).
std::string non_loopback_address() {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0)
    return "";
  std::string found;
  for (auto* i = list; i != nullptr && found.empty(); i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET
        || (i->ifa_flags & IFF_LOOPBACK) || !(i->ifa_flags & IFF_UP))
      continue;
    char buf[INET_ADDRSTRLEN];
    auto* in = reinterpret_cast<sockaddr_in*>(i->ifa_addr);
    if (inet_ntop(AF_INET, &in->sin_addr, buf, sizeof(buf)))
      found = buf;
  }
  freeifaddrs(list);
  return found;
}

bool is_unavailable(const caf::error& err) {
  return err && err.category() == caf::atom("authnode")
    && err.code() == static_cast<uint8_t>(ec::unavailable);
}

} // namespace

TEST_CASE("smtp_send delivers a plain mail with its headers to loopback",
          "[smtp]") {
  REQUIRE(smtp_global_init());
  test::smtp_sink sink;
  auto err = smtp_send(settings_for(sink),
                       mail_to("ann@example.org", "Your account recovery code",
                               "Hello Ann,\n\n    K7QM-2XPA\n\nBye\n"));
  INFO(caf::to_string(err));
  REQUIRE_FALSE(err);
  REQUIRE(sink.wait_for(1, 2s));
  auto raw = sink.messages().at(0);
  CHECK(test::mail_header(raw, "X-Sink-To") == "ann@example.org");
  CHECK(test::mail_header(raw, "From") == "noreply@auth.example.org");
  CHECK(test::mail_header(raw, "To") == "ann@example.org");
  CHECK(test::mail_header(raw, "Subject") == "Your account recovery code");
  CHECK(test::mail_header(raw, "MIME-Version") == "1.0");
  CHECK(test::mail_header(raw, "Content-Type") == "text/plain; charset=utf-8");
  CHECK(test::mail_header(raw, "Content-Transfer-Encoding") == "8bit");
  auto id = test::mail_header(raw, "Message-ID");
  CHECK(id.size() > 20);
  CHECK(id.front() == '<');
  CHECK(id.find("@auth.example.org>") != std::string::npos);
  auto date = test::mail_header(raw, "Date");
  CHECK(date.find(" +0000") != std::string::npos);
  CHECK(test::mail_body(raw) == "Hello Ann,\n\n    K7QM-2XPA\n\nBye\n");
  CHECK(test::code_in(raw) == std::string("K7QM-2XPA"));
  // Every line ends in CRLF: no bare LF anywhere.
  for (size_t at = raw.find('\n'); at != std::string::npos;
       at = raw.find('\n', at + 1))
    CHECK(raw[at - 1] == '\r');
}

TEST_CASE("two mails get two Message-IDs", "[smtp]") {
  test::smtp_sink sink;
  auto s = settings_for(sink);
  REQUIRE_FALSE(smtp_send(s, mail_to("a@example.org", "one", "1\n")));
  REQUIRE_FALSE(smtp_send(s, mail_to("b@example.org", "two", "2\n")));
  REQUIRE(sink.wait_for(2, 2s));
  auto got = sink.messages();
  CHECK(test::mail_header(got[0], "Subject") == "one");
  CHECK(test::mail_header(got[1], "Subject") == "two");
  CHECK(test::mail_header(got[0], "Message-ID")
        != test::mail_header(got[1], "Message-ID"));
}

TEST_CASE("a UTF-8 subject travels as RFC 2047 encoded words", "[smtp]") {
  test::smtp_sink sink;
  std::string subject = "Rücksetzcode für Ihr Konto — gültig 15 Minuten, "
                        "bitte nicht weitergeben ✓";
  REQUIRE_FALSE(
    smtp_send(settings_for(sink), mail_to("z@example.org", subject, "ü\n")));
  REQUIRE(sink.wait_for(1, 2s));
  auto raw = sink.messages().at(0);
  auto header = test::mail_header(raw, "Subject");
  CHECK(header.rfind("=?UTF-8?B?", 0) == 0);
  // Long enough for several words; each line of the header within 76.
  auto line_start = raw.find("Subject:");
  auto line_end = raw.find("\r\n", line_start);
  CHECK(line_end - line_start <= 76);
  CHECK(test::mail_body(raw) == "ü\n");
  // Decoding the words gives the subject back.
  std::string decoded;
  for (size_t at = header.find("=?UTF-8?B?"); at != std::string::npos;
       at = header.find("=?UTF-8?B?", at + 1)) {
    auto start = at + 10;
    auto end = header.find("?=", start);
    auto word = header.substr(start, end - start);
    static const std::string alphabet
      = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    uint32_t bits = 0;
    int n = 0;
    for (char c : word) {
      if (c == '=')
        break;
      bits = (bits << 6) | static_cast<uint32_t>(alphabet.find(c));
      n += 6;
      if (n >= 8) {
        n -= 8;
        decoded += static_cast<char>((bits >> n) & 0xff);
      }
    }
  }
  CHECK(decoded == subject);
}

TEST_CASE("encode_subject never lets a line break through", "[smtp]") {
  CHECK(encode_subject("Hi\r\nBcc: x@y.z") == "Hi  Bcc: x@y.z");
  auto utf8 = encode_subject("Grüße\nBcc: x@y.z");
  CHECK(utf8.find('\n') == std::string::npos); // one short word, no fold
}

TEST_CASE("a body line that is a single dot arrives intact", "[smtp]") {
  test::smtp_sink sink;
  // Unstuffed, "." alone would end the DATA phase early and lose the rest.
  std::string body = "before\n.\n..two\n.three\nafter\n";
  REQUIRE_FALSE(
    smtp_send(settings_for(sink), mail_to("dot@example.org", "dots", body)));
  REQUIRE(sink.wait_for(1, 2s));
  CHECK(test::mail_body(sink.messages().at(0)) == body);
}

TEST_CASE("a relay that is not there is an unavailable error", "[smtp]") {
  uint16_t port = 0;
  {
    test::smtp_sink sink;
    port = sink.port();
    sink.stop();
    auto err = smtp_send(settings_for(sink),
                         mail_to("a@example.org", "x", "y"));
    CHECK(is_unavailable(err));
    CHECK_FALSE(sink.messages().size());
  }
  CHECK(port != 0);
}

TEST_CASE("a relay that refuses the recipient is an unavailable error",
          "[smtp]") {
  test::smtp_sink sink;
  sink.reject(true);
  auto err = smtp_send(settings_for(sink), mail_to("a@example.org", "x", "y"));
  CHECK(is_unavailable(err));
  CHECK(caf::to_string(err).find("451") != std::string::npos);
  sink.reject(false);
  CHECK_FALSE(
    smtp_send(settings_for(sink), mail_to("a@example.org", "x", "y")));
  CHECK(sink.wait_for(1, 2s));
}

TEST_CASE("loopback is 127/8, ::1 and localhost", "[smtp]") {
  CHECK(smtp_is_loopback("smtp://127.0.0.1:25"));
  CHECK(smtp_is_loopback("smtp://127.3.4.5"));
  CHECK(smtp_is_loopback("smtp://localhost:2525"));
  CHECK(smtp_is_loopback("smtps://LOCALHOST"));
  CHECK(smtp_is_loopback("smtp://[::1]:25"));
  CHECK_FALSE(smtp_is_loopback("smtp://128.0.0.1"));
  CHECK_FALSE(smtp_is_loopback("smtp://mail.example.org:587"));
  CHECK_FALSE(smtp_is_loopback("smtp://[::2]:25"));
  CHECK_FALSE(smtp_is_loopback("smtp://localhost.example.org"));
  CHECK_FALSE(smtp_is_loopback("not a url"));
}

TEST_CASE("a relay elsewhere without STARTTLS is refused unless insecure",
          "[smtp]") {
  // The sink offers no STARTTLS. Reached on an address of this machine
  // that is not loopback, it is a relay "elsewhere" to the client.
  auto address = non_loopback_address();
  if (address.empty()) {
    WARN("no non-loopback IPv4 address on this machine: not checked");
    return;
  }
  test::smtp_sink sink(0, address);
  auto s = settings_for(sink);
  s.url = "smtp://" + address + ":" + std::to_string(sink.port());
  auto err = smtp_send(s, mail_to("a@example.org", "x", "y"));
  CHECK(is_unavailable(err));
  INFO(caf::to_string(err));
  CHECK(sink.messages().empty());
  s.insecure = true;
  CHECK_FALSE(smtp_send(s, mail_to("a@example.org", "x", "y")));
  CHECK(sink.wait_for(1, 2s));
}

TEST_CASE("a url that is not smtp or smtps is refused", "[smtp]") {
  smtp_settings s;
  s.url = "http://127.0.0.1:80";
  s.from = "a@b.example";
  CHECK(is_unavailable(smtp_send(s, mail_to("a@example.org", "x", "y"))));
}

TEST_CASE("an address that could inject a command is refused", "[smtp]") {
  test::smtp_sink sink;
  auto s = settings_for(sink);
  for (auto bad : {"a@example.org>\r\nRCPT TO:<b@example.org",
                   "a b@example.org", "", "<a@example.org>"})
    CHECK(is_unavailable(smtp_send(s, mail_to(bad, "x", "y"))));
  CHECK(sink.messages().empty());
}
