// Every secret the test suite has handed to a node or got back from one:
// passwords and one-time codes sent in requests, tokens and device tokens
// sent or returned.
// line_client feeds it each line it writes and each reply line it reads;
// node_process searches a stopped node's log for them, so every end-to-end
// test also checks that the node never logs (or audits to stderr) a secret.
//
// Process-wide and thread-safe: tests drive connections from several
// threads. Only strings of at least min_secret_bytes are kept, since a short
// string (a password "x", a token "nope") would turn up in any log by chance.
#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace authnode::test {

class secret_registry {
public:
  /// Shorter strings are not registered: they would match by chance.
  static constexpr size_t min_secret_bytes = 8;

  /// The one registry of the test process.
  static secret_registry& global();

  /// Registers `value` as a secret of kind `kind` ("password", "token", ...).
  void add(std::string_view kind, std::string_view value);

  /// A request line a client sent: registers password, old_password,
  /// new_password, token, device_token and code (a mailed one-time code). Ignores lines that are not JSON
  /// objects (tests send hostile bytes on purpose).
  void note_request_line(std::string_view line);

  /// A reply line a client read: registers token and device_token.
  void note_reply_line(std::string_view line);

  /// True if `value` is registered.
  bool contains(std::string_view value) const;

  /// Registered secrets found in `text`, as kinds, one entry per secret.
  struct leak {
    std::string kind;
    size_t offset = 0; ///< Of the first occurrence in the text.
  };
  std::vector<leak> find_in(std::string_view text) const;

  /// `text` with every registered secret replaced by `<kind>`, so that a
  /// failure can show where a secret was without showing it.
  std::string redact(std::string text) const;

private:
  void note_fields(std::string_view line,
                   std::initializer_list<const char*> fields);

  mutable std::mutex mtx_;
  std::unordered_map<std::string, std::string> kinds_; ///< value -> kind
};

} // namespace authnode::test
