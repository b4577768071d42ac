#include "net/public_codec.hpp"

#include <array>
#include <optional>

#include <sodium.h>

namespace authnode {

namespace {

using json = nlohmann::json;

// -- decoding -----------------------------------------------------------------

/// The top-level fields any op reads. Everything else is ignored.
enum class field : uint8_t {
  id,
  op,
  email,
  password,
  name,
  token,
  old_password,
  new_password,
  client_addr,
  device_token,
  code,
  new_email,
  challenge,
  challenge_id,
  passkey_id,
  /// An object (a WebAuthn credential), read from a DOM of the line.
  credential,
  other,
};

constexpr size_t string_fields = 14; // op .. passkey_id

constexpr std::array<const char*, 17> field_names{
  "id",           "op",          "email",        "password",
  "name",         "token",       "old_password", "new_password",
  "client_addr",  "device_token", "code",        "new_email",
  "challenge",    "challenge_id", "passkey_id",  "credential",
  "other"};

field field_of(std::string_view key) {
  for (size_t i = 0; i < static_cast<size_t>(field::other); ++i)
    if (key == field_names[i])
      return static_cast<field>(i);
  return field::other;
}

/// Reads a request with nlohmann's SAX parser: no DOM is built, only the
/// top-level fields we know are kept, and nesting is cut off at
/// max_json_depth. Duplicate keys: the last one wins, as with nlohmann's DOM.
struct request_reader : nlohmann::json_sax<json> {
  enum class slot_state : uint8_t { absent, string, mistyped };

  depth_guard guard;
  bool top_is_object = false;
  field current = field::other;
  json id;
  bool id_mistyped = false;
  std::array<std::string, string_fields> values;
  std::array<slot_state, string_fields> states{};
  /// `credential` is an object (true), or absent or mistyped.
  bool credential_object = false;
  bool credential_mistyped = false;
  /// The whole line, for the ops that read `credential` from a DOM.
  std::string_view line;
  /// Why the op's fields do not make its request (set by need()).
  std::string problem;

  bool is_object() const {
    return top_is_object;
  }

  bool at_value() const {
    return guard.depth == 1;
  }

  void set_scalar_mistyped() {
    if (!at_value())
      return;
    if (current == field::id)
      id_mistyped = true, id = nullptr;
    else if (current == field::credential)
      credential_object = false, credential_mistyped = true;
    else if (current != field::other)
      states[index(current)] = slot_state::mistyped;
  }

  static size_t index(field f) {
    return static_cast<size_t>(f) - 1;
  }

  template <class T>
  bool number(T x) {
    if (at_value() && current == field::id) {
      id = x;
      id_mistyped = false;
    } else {
      set_scalar_mistyped();
    }
    return true;
  }

  bool null() override {
    if (at_value() && current == field::id) {
      id = nullptr;
      id_mistyped = false;
      return true;
    }
    set_scalar_mistyped();
    return true;
  }
  bool boolean(bool) override {
    set_scalar_mistyped();
    return true;
  }
  bool number_integer(number_integer_t x) override {
    return number(x);
  }
  bool number_unsigned(number_unsigned_t x) override {
    return number(x);
  }
  bool number_float(number_float_t x, const string_t&) override {
    return number(x);
  }
  bool string(string_t& x) override {
    if (!at_value())
      return true;
    if (current == field::id) {
      id = std::move(x);
      id_mistyped = false;
    } else if (current == field::credential) {
      set_scalar_mistyped();
    } else if (current != field::other) {
      values[index(current)] = std::move(x);
      states[index(current)] = slot_state::string;
    }
    return true;
  }
  bool binary(binary_t&) override {
    set_scalar_mistyped();
    return true;
  }
  bool start_object(std::size_t) override {
    if (guard.depth == 0)
      top_is_object = true;
    else if (at_value() && current == field::credential)
      credential_object = true, credential_mistyped = false;
    else
      set_scalar_mistyped();
    return guard.enter();
  }
  bool start_array(std::size_t) override {
    set_scalar_mistyped();
    return guard.enter();
  }
  bool end_object() override {
    guard.leave();
    return true;
  }
  bool end_array() override {
    guard.leave();
    return true;
  }
  bool key(string_t& k) override {
    if (guard.depth == 1)
      current = field_of(k);
    return true;
  }
  bool parse_error(std::size_t, const std::string&,
                   const nlohmann::detail::exception&) override {
    return false;
  }

  /// Moves the string field `f` into `out`, or sets `problem`.
  template <class T>
  bool need(field f, T& out) {
    auto i = index(f);
    if (states[i] == slot_state::string) {
      out = T{std::move(values[i])};
      return true;
    }
    problem = states[i] == slot_state::absent
      ? missing_field(field_names[i + 1])
      : field_problem(field_names[i + 1], "must be a string");
    return false;
  }

  /// need() for a field in base64url, decoded into `raw`.
  bool need_base64url(field f, std::string& raw) {
    std::string text;
    if (!need(f, text))
      return false;
    if (from_base64url(text, raw))
      return true;
    problem = field_problem(field_names[index(f) + 1], "must be base64url");
    return false;
  }

  /// Like need(), for a field that may be absent.
  template <class T>
  bool maybe(field f, T& out) {
    return states[index(f)] == slot_state::absent || need(f, out);
  }
};

// -- WebAuthn credentials ---------------------------------------------------------
//
// `credential` is a RegistrationResponseJSON or AuthenticationResponseJSON
// as the browser made it: nested objects, which the flat SAX reader above
// skips. The few ops that carry one read it from a DOM of the line, parsed
// a second time; the first pass has already bounded its depth.

/// The base64url string at `doc[key]` (`path` names it in the problem),
/// decoded; absent or null is empty when `optional`.
bool credential_bytes(const json& doc, const char* key, std::string path,
                      bool optional, std::string& out, std::string& problem) {
  auto it = doc.find(key);
  if (it == doc.end() || it->is_null()) {
    if (optional)
      return true;
    problem = missing_field(path);
    return false;
  }
  if (!it->is_string() || !from_base64url(it->get_ref<const std::string&>(), out)) {
    problem = field_problem(path, "must be a base64url string");
    return false;
  }
  return true;
}

/// The credential's response object, after its type and id are checked.
const json* credential_response(request_reader& r, json& doc,
                                std::string& raw_id) {
  if (!r.credential_object) {
    r.problem = r.credential_mistyped
                  ? field_problem("credential", "must be an object")
                  : missing_field("credential");
    return nullptr;
  }
  doc = json::parse(r.line, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    r.problem = field_problem("credential", "must be an object");
    return nullptr;
  }
  auto& cred = doc["credential"];
  auto type = cred.find("type");
  if (type != cred.end()
      && (!type->is_string() || *type != "public-key")) {
    r.problem = field_problem("credential.type", "must be \"public-key\"");
    return nullptr;
  }
  auto id_key = cred.contains("rawId") ? "rawId" : "id";
  if (!credential_bytes(cred, id_key, std::string{"credential."} + id_key,
                        false, raw_id, r.problem))
    return nullptr;
  auto response = cred.find("response");
  if (response == cred.end() || !response->is_object()) {
    r.problem = field_problem("credential.response", "must be an object");
    return nullptr;
  }
  return &*response;
}

bool read_credential(request_reader& r, webauthn_registration& x) {
  json doc;
  auto response = credential_response(r, doc, x.credential_id);
  return response
    && credential_bytes(*response, "clientDataJSON",
                        "credential.response.clientDataJSON", false,
                        x.client_data_json, r.problem)
    && credential_bytes(*response, "attestationObject",
                        "credential.response.attestationObject", false,
                        x.attestation_object, r.problem);
}

bool read_credential(request_reader& r, webauthn_assertion& x) {
  json doc;
  auto response = credential_response(r, doc, x.credential_id);
  return response
    && credential_bytes(*response, "clientDataJSON",
                        "credential.response.clientDataJSON", false,
                        x.client_data_json, r.problem)
    && credential_bytes(*response, "authenticatorData",
                        "credential.response.authenticatorData", false,
                        x.authenticator_data, r.problem)
    && credential_bytes(*response, "signature",
                        "credential.response.signature", false, x.signature,
                        r.problem)
    && credential_bytes(*response, "userHandle",
                        "credential.response.userHandle", true,
                        x.user_handle, r.problem);
}

// Each request's fields in the order they are checked: the first one that
// is missing or not a string is the problem reported.

bool read_fields(request_reader& r, register_request& x) {
  return r.need(field::email, x.email) && r.need(field::password, x.password)
    && r.need(field::name, x.name)
    && r.maybe(field::client_addr, x.client_addr);
}

bool read_fields(request_reader& r, login_request& x) {
  return r.need(field::email, x.email) && r.need(field::password, x.password)
    && r.maybe(field::client_addr, x.client_addr)
    && r.maybe(field::device_token, x.device_token);
}

bool read_fields(request_reader& r, token_request& x) {
  return r.need(field::token, x.token);
}

bool read_fields(request_reader& r, password_change_request& x) {
  return r.need(field::token, x.token)
    && r.need(field::old_password, x.old_password)
    && r.need(field::new_password, x.new_password)
    && r.maybe(field::client_addr, x.client_addr);
}

bool read_fields(request_reader& r, recovery_start_request& x) {
  return r.need(field::email, x.email)
    && r.maybe(field::client_addr, x.client_addr);
}

bool read_fields(request_reader& r, recovery_finish_request& x) {
  return r.need(field::email, x.email) && r.need(field::code, x.code)
    && r.need(field::new_password, x.new_password)
    && r.maybe(field::client_addr, x.client_addr);
}

bool read_fields(request_reader& r, token_code_request& x) {
  return r.need(field::token, x.token) && r.need(field::code, x.code)
    && r.maybe(field::client_addr, x.client_addr);
}

bool read_fields(request_reader& r, email_change_request& x) {
  return r.need(field::token, x.token) && r.need(field::password, x.password)
    && r.need(field::new_email, x.new_email)
    && r.maybe(field::client_addr, x.client_addr);
}

bool read_fields(request_reader& r, totp_disable_request& x) {
  return r.need(field::token, x.token) && r.need(field::password, x.password)
    && r.need(field::code, x.code)
    && r.maybe(field::client_addr, x.client_addr);
}

bool read_fields(request_reader& r, passkey_begin_request& x) {
  return r.need(field::token, x.token) && r.maybe(field::name, x.name);
}

bool read_fields(request_reader& r, passkey_register_request& x) {
  return r.need(field::token, x.token)
    && read_credential(r, x.credential);
}

bool read_fields(request_reader& r, passkey_login_begin_request& x) {
  return r.maybe(field::email, x.email)
    && r.maybe(field::client_addr, x.client_addr);
}

bool read_fields(request_reader& r, passkey_login_request& x) {
  return r.need_base64url(field::challenge_id, x.challenge_id)
    && read_credential(r, x.credential)
    && r.maybe(field::client_addr, x.client_addr)
    && r.maybe(field::device_token, x.device_token);
}

bool read_fields(request_reader& r, passkey_delete_request& x) {
  return r.need(field::token, x.token)
    && r.need_base64url(field::passkey_id, x.passkey_id);
}

bool read_fields(request_reader& r, second_factor_login& x) {
  return r.need(field::challenge, x.challenge) && r.need(field::code, x.code)
    && r.maybe(field::client_addr, x.client_addr);
}

using body_builder = std::optional<request_body> (*)(request_reader&,
                                                     const std::string&);

/// An op without fields.
template <class Op>
std::optional<request_body> no_fields(request_reader&, const std::string&) {
  return request_body{Op{}};
}

/// An op whose Request is read with read_fields(); `source` is the peer.
template <class Request, class Op = Request>
std::optional<request_body> with_fields(request_reader& r,
                                        const std::string& source) {
  Request req;
  req.source = source;
  if (!read_fields(r, req))
    return std::nullopt;
  return request_body{Op{std::move(req)}};
}

/// The public ops (docs/protocol.md); no admin op is here.
constexpr std::array<op_entry<body_builder>, 24> public_ops{{
  {"ping", no_fields<ping_op>},
  {"stats", no_fields<stats_op>},
  {"register", with_fields<register_request>},
  {"login", with_fields<login_request>},
  {"whoami", with_fields<token_request, whoami_op>},
  {"logout", with_fields<token_request, logout_op>},
  {"change_password", with_fields<password_change_request>},
  {"recovery_start", with_fields<recovery_start_request>},
  {"recovery_finish", with_fields<recovery_finish_request>},
  {"verify_email_start", with_fields<token_request, verify_start_op>},
  {"verify_email_finish", with_fields<token_code_request, verify_finish_op>},
  {"change_email_start", with_fields<email_change_request>},
  {"change_email_finish", with_fields<token_code_request, email_finish_op>},
  {"totp_setup", with_fields<token_request, totp_setup_op>},
  {"totp_enable", with_fields<token_code_request, totp_enable_op>},
  {"totp_disable", with_fields<totp_disable_request>},
  {"recovery_codes_renew", with_fields<token_code_request, codes_renew_op>},
  {"login_second_factor", with_fields<second_factor_login>},
  {"passkey_register_begin", with_fields<passkey_begin_request>},
  {"passkey_register_finish", with_fields<passkey_register_request>},
  {"passkey_login_begin", with_fields<passkey_login_begin_request>},
  {"passkey_login_finish", with_fields<passkey_login_request>},
  {"passkeys_list", with_fields<token_request, passkeys_list_op>},
  {"passkey_delete", with_fields<passkey_delete_request>},
}};

} // namespace

std::variant<decoded_request, decode_failure>
decode_request(std::string_view line, const std::string& source) {
  request_reader r;
  if (auto failure = parse_line(line, r))
    return *failure;
  if (r.id_mistyped)
    return bad_id();
  std::string op;
  if (!r.need(field::op, op))
    return bad_request(std::move(r.id), std::move(r.problem));
  auto entry = find_op(public_ops, op);
  if (!entry)
    return unknown_op(std::move(r.id), op);
  r.line = line;
  auto body = entry->build(r, source);
  if (!body)
    return bad_request(std::move(r.id), std::move(r.problem));
  return decoded_request{std::move(r.id), std::move(*body)};
}

std::string encode_sent(const request_id& id, bool sent) {
  auto out = reply_head(id, true);
  append_member(out, "sent", sent);
  return reply_end(std::move(out));
}

std::string encode_grant(const request_id& id, const session_grant& grant) {
  auto out = reply_head(id, true);
  append_member(out, "token", grant.token.reveal());
  append_member(out, "expires_at", unix_time{grant.expires_at});
  if (!grant.device_token.empty())
    append_member(out, "device_token", grant.device_token.reveal());
  append_member(out, "password_breached", grant.password_breached);
  append_key(out, "user");
  append_user(out, grant.user);
  return reply_end(std::move(out));
}

std::string encode_totp_setup(const request_id& id,
                              const totp_setup_reply& setup) {
  auto out = reply_head(id, true);
  append_member(out, "secret", setup.seed.reveal());
  append_member(out, "uri", setup.uri.reveal());
  return reply_end(std::move(out));
}

std::string encode_recovery_codes(const request_id& id,
                                  const recovery_code_list& list) {
  auto out = reply_head(id, true);
  std::vector<std::string> codes;
  for (auto& code : list.codes)
    codes.push_back(code.reveal());
  append_member(out, "recovery_codes", codes);
  for (auto& code : codes)
    sodium_memzero(code.data(), code.size());
  return reply_end(std::move(out));
}

namespace {

json credential_list(const std::vector<std::string>& ids) {
  auto out = json::array();
  for (auto& id : ids)
    out.push_back({{"type", "public-key"}, {"id", base64url(id)}});
  return out;
}

const char* uv_name(webauthn_uv uv) {
  return uv == webauthn_uv::required ? "required" : "preferred";
}

/// PublicKeyCredentialCreationOptionsJSON / ...RequestOptionsJSON. Built
/// with nlohmann, not member by member: twice per passkey, never hot, and
/// its nesting is deeper than the reply writers go.
json options_json(const webauthn_options& o) {
  if (o.purpose == webauthn_purpose::login)
    return {{"challenge", base64url(o.challenge)},
            {"timeout", o.timeout_ms},
            {"rpId", o.rp_id},
            {"allowCredentials", credential_list(o.credential_ids)},
            {"userVerification", uv_name(o.user_verification)}};
  auto params = json::array();
  for (auto alg : {cose_alg::es256, cose_alg::eddsa, cose_alg::rs256})
    params.push_back(
      {{"type", "public-key"}, {"alg", static_cast<int32_t>(alg)}});
  return {{"rp", {{"id", o.rp_id}, {"name", o.rp_name}}},
          {"user",
           {{"id", base64url(o.user_handle)},
            {"name", o.user_name},
            {"displayName", o.display_name}}},
          {"challenge", base64url(o.challenge)},
          {"pubKeyCredParams", std::move(params)},
          {"timeout", o.timeout_ms},
          {"excludeCredentials", credential_list(o.credential_ids)},
          {"authenticatorSelection",
           {{"residentKey", "preferred"},
            {"requireResidentKey", false},
            {"userVerification", uv_name(o.user_verification)}}},
          {"attestation", "none"}};
}

void append_options(std::string& out, const webauthn_options& o) {
  append_key(out, "options");
  out += options_json(o).dump(-1, ' ', false, json::error_handler_t::replace);
}

} // namespace

std::string encode_passkey_options(const request_id& id,
                                   const webauthn_options& options) {
  auto out = reply_head(id, true);
  append_options(out, options);
  return reply_end(std::move(out));
}

std::string encode_passkey_login_options(const request_id& id,
                                         const passkey_login_options& login) {
  auto out = reply_head(id, true);
  append_member(out, "challenge_id", login.challenge_id);
  append_options(out, login.options);
  return reply_end(std::move(out));
}

std::string encode_passkey(const request_id& id, const passkey_info& passkey) {
  auto out = reply_head(id, true);
  append_key(out, "passkey");
  append_passkey(out, passkey);
  return reply_end(std::move(out));
}

std::string encode_passkeys(const request_id& id, const passkey_list& list) {
  auto out = reply_head(id, true);
  append_key(out, "passkeys");
  append_passkeys(out, list.passkeys);
  return reply_end(std::move(out));
}

} // namespace authnode
