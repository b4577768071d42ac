#include "net/smtp_client.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <ctime>
#include <memory>
#include <mutex>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <sodium.h>

#include "core/clock.hpp"
#include "core/error_code.hpp"

namespace authnode {

namespace {

struct curl_deleter {
  void operator()(CURL* c) const {
    curl_easy_cleanup(c);
  }
  void operator()(curl_slist* l) const {
    curl_slist_free_all(l);
  }
  void operator()(CURLU* u) const {
    curl_url_cleanup(u);
  }
  void operator()(char* s) const {
    curl_free(s);
  }
};

template <class T>
using curl_ptr = std::unique_ptr<T, curl_deleter>;

/// What curl reads the message from.
struct upload {
  const std::string* data;
  size_t pos = 0;
};

size_t read_upload(char* buf, size_t size, size_t n, void* user) {
  auto* up = static_cast<upload*>(user);
  auto len = std::min(size * n, up->data->size() - up->pos);
  std::memcpy(buf, up->data->data() + up->pos, len);
  up->pos += len;
  return len;
}

bool is_ascii_text(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x7f;
  });
}

/// An address fit for a header and an SMTP command: no spaces, controls,
/// angle brackets or line breaks, one '@' at least.
bool is_plain_address(const std::string& a) {
  return !a.empty() && a.find('@') != std::string::npos
    && std::none_of(a.begin(), a.end(), [](char c) {
         auto u = static_cast<unsigned char>(c);
         return u <= 0x20 || u == 0x7f || c == '<' || c == '>';
       });
}

/// LF, CR or CRLF line ends made CRLF; a final line end added if missing.
std::string with_crlf(const std::string& text) {
  std::string out;
  out.reserve(text.size() + text.size() / 32 + 2);
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\r') {
      if (i + 1 < text.size() && text[i + 1] == '\n')
        ++i;
      out += "\r\n";
    } else if (c == '\n') {
      out += "\r\n";
    } else {
      out += c;
    }
  }
  if (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0)
    out += "\r\n";
  return out;
}

/// "Tue, 25 Nov 2026 14:34:49 +0000", without the locale's names.
std::string rfc5322_date(int64_t unix_time) {
  static const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  auto t = static_cast<std::time_t>(unix_time);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%s, %02d %s %04d %02d:%02d:%02d +0000",
                days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
                tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::string message_id(const std::string& from) {
  unsigned char raw[16];
  randombytes_buf(raw, sizeof(raw));
  char hex[sizeof(raw) * 2 + 1];
  sodium_bin2hex(hex, sizeof(hex), raw, sizeof(raw));
  auto at = from.rfind('@');
  auto domain = at == std::string::npos || at + 1 == from.size()
    ? std::string("authnode.invalid")
    : from.substr(at + 1);
  return "<" + std::string(hex) + "@" + domain + ">";
}

std::string base64(std::string_view bytes) {
  std::string out(sodium_base64_encoded_len(bytes.size(),
                                            sodium_base64_VARIANT_ORIGINAL),
                  '\0');
  sodium_bin2base64(out.data(), out.size(),
                    reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(std::strlen(out.c_str()));
  return out;
}

/// The bytes of a UTF-8 sequence that starts with `lead` (1 for a stray
/// continuation byte, so that broken text still moves on).
size_t utf8_length(unsigned char lead) {
  if (lead >= 0xf0)
    return 4;
  if (lead >= 0xe0)
    return 3;
  if (lead >= 0xc0)
    return 2;
  return 1;
}

caf::error unavailable(std::string what) {
  return caf::make_error(ec::unavailable, std::move(what));
}

} // namespace

bool smtp_global_init() {
  static std::once_flag once;
  static bool ok = false;
  std::call_once(once, [] {
    ok = init_sodium() && curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  });
  return ok;
}

std::string encode_subject(const std::string& raw) {
  std::string subject = raw;
  std::replace(subject.begin(), subject.end(), '\r', ' ');
  std::replace(subject.begin(), subject.end(), '\n', ' ');
  if (is_ascii_text(subject))
    return subject;
  // RFC 2047: a line holding encoded words is at most 76 characters. 39
  // bytes of text make 52 of base64, 64 with "=?UTF-8?B?" and "?=", which
  // leaves room for "Subject: " on the first line. A character is never
  // split between two words.
  constexpr size_t max_chunk = 39;
  std::string out;
  size_t i = 0;
  while (i < subject.size()) {
    size_t end = i;
    while (end < subject.size()) {
      auto len = utf8_length(static_cast<unsigned char>(subject[end]));
      if (end + len - i > max_chunk)
        break;
      end = std::min(end + len, subject.size());
    }
    if (end == i)
      end = std::min(i + max_chunk, subject.size());
    if (!out.empty())
      out += "\r\n ";
    out += "=?UTF-8?B?" + base64(std::string_view(subject).substr(i, end - i))
      + "?=";
    i = end;
  }
  return out;
}

std::string smtp_message(const smtp_settings& s, const outgoing_mail& mail,
                         int64_t unix_time) {
  std::string m;
  m += "From: " + s.from + "\r\n";
  m += "To: " + mail.to + "\r\n";
  m += "Subject: " + encode_subject(mail.subject) + "\r\n";
  m += "Date: " + rfc5322_date(unix_time) + "\r\n";
  m += "Message-ID: " + message_id(s.from) + "\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: text/plain; charset=utf-8\r\n";
  m += "Content-Transfer-Encoding: 8bit\r\n";
  m += "\r\n";
  m += with_crlf(mail.body);
  return m;
}

bool smtp_is_loopback(const std::string& url) {
  curl_ptr<CURLU> u{curl_url()};
  if (!u || curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK)
    return false;
  char* raw = nullptr;
  if (curl_url_get(u.get(), CURLUPART_HOST, &raw, 0) != CURLUE_OK)
    return false;
  curl_ptr<char> owned{raw};
  std::string host = raw;
  std::transform(host.begin(), host.end(), host.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host == "localhost" || host == "localhost.")
    return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1)
    return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  return inet_pton(AF_INET6, host.c_str(), &v6) == 1
    && IN6_IS_ADDR_LOOPBACK(&v6);
}

caf::error smtp_send(const smtp_settings& s, const outgoing_mail& mail) {
  if (s.url.rfind("smtp://", 0) != 0 && s.url.rfind("smtps://", 0) != 0)
    return unavailable("the SMTP url must start with smtp:// or smtps://");
  if (!is_plain_address(s.from))
    return unavailable("the sender address is not a plain address");
  if (!is_plain_address(mail.to))
    return unavailable("the recipient address is not a plain address");
  if (!smtp_global_init())
    return unavailable("libcurl could not be initialised");
  curl_ptr<CURL> curl{curl_easy_init()};
  if (!curl)
    return unavailable("libcurl could not make a handle");
  auto message = smtp_message(s, mail, now_seconds());
  upload up{&message};
  auto from = "<" + s.from + ">";
  curl_ptr<curl_slist> rcpt{
    curl_slist_append(nullptr, ("<" + mail.to + ">").c_str())};
  auto ms = std::max<long>(
    1,
    static_cast<long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(s.timeout)
        .count()));
  bool plain_allowed = s.insecure || smtp_is_loopback(s.url);
  char errbuf[CURL_ERROR_SIZE] = {0};
  auto* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, s.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(c, CURLOPT_USE_SSL,
                   plain_allowed ? CURLUSESSL_TRY : CURLUSESSL_ALL);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!s.user.empty()) {
    curl_easy_setopt(c, CURLOPT_USERNAME, s.user.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, s.password.reveal().c_str());
  }
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt.get());
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, read_upload);
  curl_easy_setopt(c, CURLOPT_READDATA, &up);
  curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE,
                   static_cast<curl_off_t>(message.size()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, ms);
  // No signals: curl runs on the mailer's thread inside a threaded process.
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  auto res = curl_easy_perform(c);
  // The message holds a code: wipe it before its memory is reused.
  sodium_memzero(message.data(), message.size());
  if (res == CURLE_OK)
    return {};
  std::string what = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(res);
  long reply = 0;
  if (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply) == CURLE_OK
      && reply != 0)
    what += " (last SMTP reply " + std::to_string(reply) + ")";
  return unavailable("SMTP: " + what);
}

} // namespace authnode
