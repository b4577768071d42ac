// A real SMTP server on loopback for the tests: tests/support/smtp_sink.py
// (Debian's python3-aiosmtpd) in a process of its own, keeping every mail
// it accepts as a file. The tests read the mails back (the code a user
// would type comes from the delivered mail, as it would for a person), make
// the relay refuse recipients for a while, or take it away entirely.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace authnode::test {

class smtp_sink {
public:
  /// Starts the script on `host`:`port` (0: any free port), keeping its
  /// mails in a new temporary directory, and waits (at most 10 s) for it to
  /// listen; throws if it does not. `host` other than loopback only to test
  /// what the client does with a relay elsewhere.
  explicit smtp_sink(uint16_t port = 0, std::string host = "127.0.0.1");
  /// Stops the script (SIGTERM, reaped) and removes the directory.
  ~smtp_sink();
  smtp_sink(const smtp_sink&) = delete;
  smtp_sink& operator=(const smtp_sink&) = delete;

  uint16_t port() const {
    return port_;
  }
  /// "smtp://<host>:<port>", e.g. "smtp://127.0.0.1:2525"
  std::string url() const;
  /// The mails received so far, raw (X-Sink-To line first, CRLF), in the
  /// order they arrived.
  std::vector<std::string> messages() const;
  /// Waits (at most `limit`) until at least `n` mails have arrived.
  bool wait_for(size_t n, std::chrono::milliseconds limit) const;
  /// While on, every RCPT is answered 451 (a relay that is down).
  void reject(bool on);
  /// The relay goes away: connections are refused from now on. The mails
  /// received stay readable until the sink is destroyed.
  void stop();

private:
  std::string host_;
  std::string dir_;
  std::string mail_dir_;
  std::string reject_file_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

/// fast_options() with mail through `sink`: --smtp-url, --mail-from,
/// --app-url, retries every 100 ms and a 200 ms recovery_start floor; then
/// `more`.
std::vector<std::string> mail_options(const smtp_sink& sink,
                                      std::vector<std::string> more = {});

/// The value of the first header `name` (case-insensitive, folded lines
/// joined), or "" when there is none.
std::string mail_header(const std::string& raw, const std::string& name);

/// What follows the header block, with CRLF made LF.
std::string mail_body(const std::string& raw);

/// The first code in the body (four letters or digits, '-', four more).
std::optional<std::string> code_in(const std::string& raw);

} // namespace authnode::test
