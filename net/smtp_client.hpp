// Hands one mail to an SMTP relay, blocking, with libcurl's easy API: only
// the mailer (a detached actor, with a thread of its own) calls smtp_send.
//
// libcurl speaks SMTP (EHLO, STARTTLS, AUTH, MAIL FROM, RCPT TO, DATA and
// the dot-stuffing of lines that start with "."); we build the message
// itself (RFC 5322 headers, UTF-8 text, CRLF line ends), because what a
// mail looks like is ours to decide and to test.
//
// Transport security: smtps:// is TLS from the first byte. smtp:// to
// another host must upgrade with STARTTLS, or the send fails, unless
// `insecure` (--smtp-insecure) allows plain text; to loopback (a local
// relay, the tests' sink) STARTTLS is used when the relay offers it.
// Certificates are always verified, host name included: a relay whose
// certificate cannot be checked is a misconfiguration to fix, not to skip.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <caf/error.hpp>
#include <caf/timespan.hpp>

#include "actors/interfaces.hpp"
#include "core/secrets.hpp"

namespace authnode {

struct smtp_settings {
  /// smtp://host:port or smtps://host:port
  std::string url;
  /// Empty: no AUTH.
  std::string user;
  secret password;
  /// --mail-from, an address (also the domain of the Message-ID).
  std::string from;
  /// Allows plain SMTP without STARTTLS to a host that is not loopback.
  bool insecure = false;
  /// For the whole hand-over, connection included.
  caf::timespan timeout = std::chrono::seconds(30);
};

/// curl_global_init, once per process (later calls do nothing); also makes
/// sure libsodium is ready for the Message-IDs. Call before the first
/// smtp_send, from one thread (spawn_mailer does); false if either failed.
bool smtp_global_init();

/// Sends one mail; ec::unavailable with curl's message on failure (a relay
/// that is down, refused the recipient, or failed TLS). Never blocks longer
/// than `s.timeout`.
caf::error smtp_send(const smtp_settings& s, const outgoing_mail& mail);

/// Whether the url's host is loopback: 127.0.0.0/8, ::1 or localhost.
bool smtp_is_loopback(const std::string& url);

/// The message smtp_send uploads: headers, an empty line and the body, all
/// lines ending in CRLF. `unix_time` becomes the Date header.
std::string smtp_message(const smtp_settings& s, const outgoing_mail& mail,
                         int64_t unix_time);

/// The subject as a header value: as it is when plain ASCII, else RFC 2047
/// encoded words ("=?UTF-8?B?...?=", folded with CRLF SP between them). CR
/// and LF never survive.
std::string encode_subject(const std::string& subject);

} // namespace authnode
