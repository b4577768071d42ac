// libFuzzer target for everything a client's bytes reach before an actor
// sees a typed request: framing (net/line_buffer), decoding (net/public_codec)
// and the reply encoders (net/wire), which meet whatever id the client sent.
//
// The input is the raw byte stream of one connection, so every corpus file
// is a plain text file of request lines. It goes through two line buffers:
// one gets it in a single append, the other in small chunks with lines taken
// in between (as reads arrive on a socket). Both must frame the same lines,
// and stop at the same over-long line: framing may not depend on how bytes
// arrive. Every line is decoded, and every outcome is encoded the way the
// connection would; each reply must be one line of valid JSON. A broken
// invariant aborts, which libFuzzer reports as a crash.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "net/line_buffer.hpp"
#include "net/public_codec.hpp"

namespace {

using namespace authnode;
using json = nlohmann::json;

/// Small, so that over-long lines are common; the node's default is 65536.
constexpr size_t max_line = 512;

/// Bytes per append in the chunked pass: prime, so chunks cut lines, "\r\n"
/// pairs and multi-byte characters at every offset.
constexpr size_t chunk = 7;

void check(bool ok, const char* what) {
  if (ok)
    return;
  std::fprintf(stderr, "invariant broken: %s\n", what);
  std::abort();
}

/// A reply is one line: valid JSON, one object, "ok" of the right value.
void check_reply(const std::string& reply, bool ok) {
  check(!reply.empty() && reply.back() == '\n', "reply ends in \\n");
  check(reply.find('\n') == reply.size() - 1, "reply is one line");
  auto parsed = json::parse(reply, nullptr, false);
  check(!parsed.is_discarded(), "reply is valid JSON");
  check(parsed.is_object(), "reply is an object");
  check(parsed.value("ok", !ok) == ok, "reply has the right ok");
}

struct encoder {
  void operator()(const request_id& id, const ping_op&) {
    check_reply(encode_ok(id), true);
  }
  void operator()(const request_id& id, const stats_op&) {
    check_reply(encode_stats(id, stats_snapshot{}), true);
  }
  void operator()(const request_id& id, const register_request& r) {
    // Echo the client's strings where the node echoes stored ones.
    user_view u{1, r.email, r.name, 1764081289, 0};
    check_reply(encode_user(id, u), true);
  }
  void operator()(const request_id& id, const login_request& r) {
    session_grant g{user_view{2, r.email, r.client_addr, 1, 2},
                    secret{std::string{r.password.reveal()}}, 3,
                    secret{std::string{r.device_token.reveal()}}};
    check_reply(encode_grant(id, g), true);
  }
  void operator()(const request_id& id, const whoami_op& r) {
    user_view u{3, std::string{r.req.token.reveal()}, "", 1, 0};
    check_reply(encode_user(id, u), true);
  }
  void operator()(const request_id& id, const logout_op&) {
    check_reply(encode_ok(id), true);
  }
  void operator()(const request_id& id, const password_change_request& r) {
    check_reply(encode_error(id, ec::invalid_credentials,
                             r.old_password.reveal(), int64_t{-1}),
                false);
  }
  // The account-code ops: the node echoes the client's email and codes in
  // no reply, but the fuzzer writes them into one to test the encoder.
  void operator()(const request_id& id, const recovery_start_request&) {
    check_reply(encode_ok(id), true);
  }
  void operator()(const request_id& id, const recovery_finish_request& r) {
    session_grant g{user_view{4, r.email, std::string{r.code.reveal()}, 1, 2,
                              true},
                    secret{std::string{r.new_password.reveal()}}, 3,
                    secret{}};
    check_reply(encode_grant(id, g), true);
  }
  void operator()(const request_id& id, const verify_start_op&) {
    check_reply(encode_sent(id, true), true);
  }
  void operator()(const request_id& id, const verify_finish_op& r) {
    user_view u{5, std::string{r.req.code.reveal()}, "", 1, 0, true};
    check_reply(encode_user(id, u), true);
  }
  void operator()(const request_id& id, const email_change_request& r) {
    check_reply(encode_error(id, ec::email_taken, r.new_email), false);
  }
  void operator()(const request_id& id, const email_finish_op& r) {
    check_reply(encode_error(id, ec::invalid_code, r.req.code.reveal()), false);
  }
  // The second-factor ops: the fuzzer writes the client's token and codes
  // where the node writes a seed, codes and a challenge.
  void operator()(const request_id& id, const totp_setup_op& r) {
    totp_setup_reply setup{secret{std::string{r.req.token.reveal()}},
                           secret{std::string{r.req.token.reveal()}}};
    check_reply(encode_totp_setup(id, setup), true);
  }
  void operator()(const request_id& id, const totp_enable_op& r) {
    recovery_code_list list;
    list.codes.emplace_back(std::string{r.req.code.reveal()});
    check_reply(encode_recovery_codes(id, list), true);
  }
  void operator()(const request_id& id, const totp_disable_request& r) {
    wire_error failure;
    failure.code = ec::second_factor_required;
    failure.message = r.password.reveal();
    failure.challenge = pending_challenge{
      secret{std::string{r.code.reveal()}}, 1, {r.client_addr}};
    check_reply(encode_failure(id, failure), false);
  }
  void operator()(const request_id& id, const codes_renew_op& r) {
    check_reply(encode_error(id, ec::conflict, r.req.code.reveal()), false);
  }
  void operator()(const request_id& id, const second_factor_login& r) {
    session_grant g{user_view{6, r.client_addr, std::string{r.code.reveal()},
                              1, 2, true, true},
                    secret{std::string{r.challenge.reveal()}}, 3, secret{}};
    check_reply(encode_grant(id, g), true);
  }
  // The passkey ops: the fuzzer writes the decoded bytes (raw, any value)
  // where the node writes its ids, names and challenges, which the encoder
  // turns to base64url or escapes.
  void operator()(const request_id& id, const passkey_begin_request& r) {
    webauthn_options o;
    o.purpose = webauthn_purpose::registration;
    o.challenge = std::string{r.token.reveal()};
    o.rp_id = r.name;
    o.rp_name = r.name;
    o.user_handle = r.name;
    o.user_name = r.name;
    o.display_name = r.name;
    o.credential_ids = {r.name, std::string{r.token.reveal()}};
    check_reply(encode_passkey_options(id, o), true);
  }
  void operator()(const request_id& id, const passkey_register_request& r) {
    passkey_info p{r.credential.credential_id, r.credential.client_data_json,
                   1, 0};
    check_reply(encode_passkey(id, p), true);
  }
  void operator()(const request_id& id, const passkey_login_begin_request& r) {
    passkey_login_options o;
    o.challenge_id = r.email;
    o.options.rp_id = r.client_addr;
    o.options.challenge = r.email;
    o.options.credential_ids = {r.email};
    check_reply(encode_passkey_login_options(id, o), true);
  }
  void operator()(const request_id& id, const passkey_login_request& r) {
    session_grant g{user_view{7, r.credential.user_handle,
                              r.credential.client_data_json, 1, 2},
                    secret{r.challenge_id}, 3,
                    secret{std::string{r.device_token.reveal()}}};
    check_reply(encode_grant(id, g), true);
  }
  void operator()(const request_id& id, const passkeys_list_op& r) {
    passkey_list list;
    list.passkeys.push_back(
      passkey_info{std::string{r.req.token.reveal()}, "", 1, 2});
    check_reply(encode_passkeys(id, list), true);
  }
  void operator()(const request_id& id, const passkey_delete_request& r) {
    check_reply(encode_error(id, ec::no_such_passkey, r.passkey_id), false);
  }
};

void handle_line(std::string_view line) {
  auto out = decode_request(line, "127.0.0.1");
  if (auto f = std::get_if<decode_failure>(&out)) {
    check(f->id.is_null() || f->id.is_string() || f->id.is_number(),
          "a failure's id is null, a string or a number");
    check_reply(encode_error(f->id, f->code, f->message), false);
    return;
  }
  auto& req = std::get<decoded_request>(out);
  check(req.id.is_null() || req.id.is_string() || req.id.is_number(),
        "an id is null, a string or a number");
  std::visit(
    [&](const auto& body) {
      encoder{}(req.id, body);
    },
    req.body);
}

/// The lines of `data`, then "" for an over-long line (which ends the
/// connection) or nothing if the stream ends inside a line.
std::vector<std::string> frame_at_once(const char* data, size_t size,
                                       bool& too_long) {
  line_buffer buf{max_line};
  buf.append(data, size);
  std::vector<std::string> lines;
  std::string_view line;
  for (;;) {
    switch (buf.next(line)) {
      case line_buffer::status::line:
        check(line.size() <= max_line, "a line is within the limit");
        check(line.find('\n') == std::string_view::npos, "a line has no \\n");
        lines.emplace_back(line);
        continue;
      case line_buffer::status::too_long:
        too_long = true;
        return lines;
      case line_buffer::status::need_more:
        too_long = false;
        return lines;
    }
  }
}

std::vector<std::string> frame_in_chunks(const char* data, size_t size,
                                         bool& too_long) {
  line_buffer buf{max_line};
  std::vector<std::string> lines;
  std::string_view line;
  too_long = false;
  for (size_t off = 0; off < size && !too_long; off += chunk) {
    buf.append(data + off, std::min(chunk, size - off));
    for (bool more = true; more;) {
      switch (buf.next(line)) {
        case line_buffer::status::line:
          lines.emplace_back(line);
          break;
        case line_buffer::status::too_long:
          too_long = true;
          more = false;
          break;
        case line_buffer::status::need_more:
          more = false;
          break;
      }
    }
  }
  return lines;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto bytes = reinterpret_cast<const char*>(data);
  bool too_long = false;
  auto lines = frame_at_once(bytes, size, too_long);
  for (auto& line : lines)
    handle_line(line);
  if (too_long)
    check_reply(encode_error(nullptr, ec::line_too_long, "too long"), false);

  bool chunked_too_long = false;
  auto chunked = frame_in_chunks(bytes, size, chunked_too_long);
  check(chunked == lines, "chunked reads frame the same lines");
  check(chunked_too_long == too_long, "chunked reads agree on too_long");
  return 0;
}
