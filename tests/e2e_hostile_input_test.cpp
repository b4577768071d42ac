// End to end: hostile bytes over real TCP. Every malformed line gets exactly
// one reply, a JSON failure with a code from docs/protocol.md, on a
// connection that stays usable (or, for an over-long line, line_too_long and
// then the close); and the node keeps serving everyone else.
//
// The cases are a table: a name, the bytes (in one write or several), and the
// codes of the replies expected, in order. Each case runs on a connection of
// its own, and ends with a ping that must be the very next reply, which shows
// that no extra reply came and the connection still works. A failing case is
// reported by name, and the rest still run.
#include <catch2/catch.hpp>

#include <chrono>
#include <set>
#include <sstream>
#include <thread>

#include "support/line_client.hpp"
#include "support/node_process.hpp"
#include "support/protocol.hpp"

using namespace authnode::test;

namespace {

using std::chrono::milliseconds;

struct hostile_case {
  std::string name;
  /// Written one after another, with a short pause between two writes.
  std::vector<std::string> writes;
  /// One reply per code, in this order.
  std::vector<std::string> codes;
  /// If set: the exact error.message of the first reply.
  std::string message = {};
  /// If set: the first reply's id must be this value.
  std::optional<json> id = {};
};

/// The codes of the table in docs/protocol.md ("Error codes").
const std::set<std::string> documented_codes{"bad_json",
                                             "bad_request",
                                             "unknown_op",
                                             "line_too_long",
                                             "busy",
                                             "unavailable",
                                             "internal",
                                             "invalid_email",
                                             "weak_password",
                                             "email_taken",
                                             "invalid_credentials",
                                             "invalid_token",
                                             "rate_limited"};

/// Codes whose replies never carry an id (docs/protocol.md).
const std::set<std::string> codes_without_id{"bad_json", "line_too_long"};

constexpr auto pause_between_writes = milliseconds(2);
constexpr auto reply_timeout = milliseconds(15000);

hostile_case one(std::string name, std::string line, std::string code,
                 std::string message = {}, std::optional<json> id = {}) {
  return {std::move(name),
          {std::move(line)},
          {std::move(code)},
          std::move(message),
          std::move(id)};
}

std::string repeat(std::string_view s, size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (size_t i = 0; i < n; ++i)
    out += s;
  return out;
}

/// `{"op":"fly","x":<nesting>}`: the request object is depth 1, so `levels`
/// arrays (or objects) inside it make a depth of levels + 1.
std::string nested_arrays(size_t levels) {
  return R"({"op":"fly","x":)" + repeat("[", levels) + repeat("]", levels)
    + "}\n";
}

std::string nested_objects(size_t levels) {
  return R"({"op":"fly","x":)" + repeat(R"({"a":)", levels) + "1"
    + repeat("}", levels) + "}\n";
}

// -- the table ----------------------------------------------------------------

void add_invalid_utf8(std::vector<hostile_case>& out) {
  struct bad_bytes {
    const char* what;
    std::string bytes;
  };
  const std::vector<bad_bytes> sequences{
    {"0xFF", "\xff"},
    {"0xFE 0xFF", "\xfe\xff"},
    {"a lone continuation byte", "\x80"},
    {"a truncated 2-byte sequence", "\xc3"},
    {"a truncated 4-byte sequence", "\xf0\x9f\x98"},
    {"an overlong encoding of '/'", "\xc0\xaf"},
    {"an overlong NUL", "\xc0\x80"},
    {"a UTF-16 surrogate encoded as UTF-8", "\xed\xa0\x80"},
    {"a code point above U+10FFFF", "\xf4\x90\x80\x80"},
    {"a 5-byte sequence", "\xf8\x88\x80\x80\x80"},
  };
  for (auto& s : sequences)
    out.push_back(
      one(std::string{"invalid UTF-8 in an ignored string: "} + s.what,
          R"({"id":1,"op":"ping","x":")" + s.bytes + "\"}\n", "bad_json"));
  auto bad = std::string{"\xff"};
  out.push_back(one("invalid UTF-8 in the op",
                    R"({"id":1,"op":"pi)" + bad + "ng\"}\n", "bad_json"));
  out.push_back(one("invalid UTF-8 in a key",
                    R"({"id":1,"op":"ping",")" + bad + "\":1}\n", "bad_json"));
  out.push_back(one("invalid UTF-8 in a string id",
                    R"({"id":"a)" + bad + R"(","op":"ping"})" + "\n",
                    "bad_json"));
  out.push_back(one("invalid UTF-8 in the email of register",
                    R"({"id":1,"op":"register","email":"a)" + bad
                      + R"(@b.co","password":"correct horse","name":"N"})"
                      + "\n",
                    "bad_json"));
  out.push_back(
    one("invalid UTF-8 in the password of login",
        R"({"id":1,"op":"login","email":"a@b.co","password":")" + bad + "\"}\n",
        "bad_json"));
  out.push_back(one("invalid UTF-8 in the token of whoami",
                    R"({"id":1,"op":"whoami","token":")" + bad + "\"}\n",
                    "bad_json"));
  out.push_back(one("invalid UTF-8 between tokens",
                    R"({"id":1,"op":"ping")" + bad + "}\n", "bad_json"));
  out.push_back(
    one("invalid UTF-8 as the whole line", "\xff\xfe\xfd\n", "bad_json"));
  out.push_back(one("a lone high surrogate escape",
                    R"({"op":"ping","x":"\ud800"})"
                    "\n",
                    "bad_json"));
  out.push_back(one("a lone low surrogate escape",
                    R"({"op":"ping","x":"\udc00"})"
                    "\n",
                    "bad_json"));
  out.push_back(one("a high surrogate escape before a non-surrogate",
                    R"({"op":"ping","x":"\ud800\u0041"})"
                    "\n",
                    "bad_json"));
}

void add_nesting(std::vector<hostile_case>& out) {
  const std::string too_deep = "the line is nested too deeply";
  out.push_back(
    one("arrays nested 32 deep (the limit)", nested_arrays(31), "unknown_op"));
  out.push_back(
    one("arrays nested 33 deep", nested_arrays(32), "bad_json", too_deep));
  out.push_back(one("objects nested 32 deep (the limit)", nested_objects(31),
                    "unknown_op"));
  out.push_back(
    one("objects nested 33 deep", nested_objects(32), "bad_json", too_deep));
  out.push_back(one("arrays and objects mixed, 33 deep",
                    R"({"op":"fly","x":)" + repeat(R"([{"a":)", 16) + "1"
                      + repeat("}]", 16) + "}\n",
                    "bad_json", too_deep));
  out.push_back(one("20,000 unclosed brackets",
                    R"({"op":"fly","x":)" + repeat("[", 20000) + "\n",
                    "bad_json", too_deep));
  out.push_back(one("5,000 unclosed objects",
                    R"({"op":"fly","x":)" + repeat(R"({"a":)", 5000) + "\n",
                    "bad_json", too_deep));
  out.push_back(
    one("an id nested 33 deep",
        R"({"op":"fly","id":)" + repeat("[", 32) + repeat("]", 32) + "}\n",
        "bad_json", too_deep));
  out.push_back(one("a top-level array nested 33 deep",
                    repeat("[", 33) + repeat("]", 33) + "\n", "bad_json"));
  out.push_back(one("brackets inside a string are not nesting",
                    R"({"op":"fly","x":")" + repeat("[{", 5000) + "\"}\n",
                    "unknown_op"));
}

void add_huge_numbers(std::vector<hostile_case>& out) {
  // Beyond a double: nlohmann refuses the number (parse error 406), so the
  // whole line is not a JSON object to the node, wherever the number is.
  for (auto n : {"1e400", "-1e400"}) {
    out.push_back(one(std::string{"id "} + n,
                      std::string{R"({"op":"fly","id":)"} + n + "}\n",
                      "bad_json"));
    out.push_back(
      one(std::string{"email "} + n,
          std::string{R"({"id":1,"op":"login","password":"x","email":)"} + n
            + "}\n",
          "bad_json"));
    out.push_back(one(std::string{"ignored field "} + n,
                      std::string{R"({"op":"fly","x":)"} + n + "}\n",
                      "bad_json"));
  }
  out.push_back(one("op 1e400",
                    R"({"op":1e400})"
                    "\n",
                    "bad_json"));
  // Integers too big for 64 bits come back as doubles (docs/protocol.md).
  for (auto n : {"18446744073709551616", "99999999999999999999999999",
                 "-9223372036854775809"}) {
    out.push_back(one(std::string{"id "} + n,
                      std::string{R"({"op":"fly","id":)"} + n + "}\n",
                      "unknown_op", {}, json::parse(n)));
    out.push_back(one(std::string{"email "} + n,
                      std::string{R"({"id":2,"op":"login","email":)"} + n
                        + R"(,"password":"x"})" + "\n",
                      "bad_request", "field email must be a string", 2));
    out.push_back(
      one(std::string{"token "} + n,
          std::string{R"({"id":3,"op":"whoami","token":)"} + n + "}\n",
          "bad_request", "field token must be a string", 3));
  }
  // The extremes of 64 bits come back exactly.
  for (auto n : {"18446744073709551615", "-9223372036854775808"})
    out.push_back(one(std::string{"id "} + n,
                      std::string{R"({"op":"fly","id":)"} + n + "}\n",
                      "unknown_op", {}, json::parse(n)));
  out.push_back(one("id 1e-400 (underflow)",
                    R"({"op":"fly","id":1e-400})"
                    "\n",
                    "unknown_op"));
  out.push_back(one("id with 5,000 digits",
                    R"({"op":"fly","id":)" + repeat("9", 5000) + "}\n",
                    "bad_json"));
}

void add_nul_bytes(std::vector<hostile_case>& out) {
  using namespace std::string_literals;
  out.push_back(one("a raw NUL inside an ignored string",
                    "{\"op\":\"ping\",\"x\":\"a\0b\"}\n"s, "bad_json"));
  out.push_back(
    one("a raw NUL inside the op", "{\"op\":\"pi\0ng\"}\n"s, "bad_json"));
  out.push_back(one("a raw NUL inside a key", "{\"op\":\"ping\",\"a\0\":1}\n"s,
                    "bad_json"));
  out.push_back(
    one("a NUL before the object", "\0{\"op\":\"ping\"}\n"s, "bad_json"));
  out.push_back(one("a NUL, then more text, after the object",
                    "{\"id\":1,\"op\":\"ping\"}\0trailing\n"s, "bad_json"));
  out.push_back(one("a NUL between members", "{\"op\":\"ping\"\0,\"id\":1}\n"s,
                    "bad_json"));
  out.push_back(
    one("a line of NULs", std::string(100, '\0') + "\n", "bad_json"));
  out.push_back(one("an escaped NUL in the op",
                    R"({"id":4,"op":"pi\u0000ng"})"
                    "\n",
                    "unknown_op", "unknown op: pi"s + '\0' + "ng", 4));
  out.push_back(one("an escaped NUL in a string id",
                    R"({"id":"a\u0000b","op":"fly"})"
                    "\n",
                    "unknown_op", {}, json("a\0b"s)));
  out.push_back(one(
    "an escaped NUL in the email of register",
    R"({"id":5,"op":"register","email":"a\u0000@b.co","password":"correct horse","name":"N"})"
    "\n",
    "invalid_email", {}, 5));
}

/// Each field of each op, given each non-string JSON type.
void add_wrong_types(std::vector<hostile_case>& out) {
  struct op_fields {
    const char* op;
    std::vector<const char*> fields;
  };
  const std::vector<op_fields> ops{
    {"register", {"email", "password", "name"}},
    {"login", {"email", "password"}},
    {"whoami", {"token"}},
    {"logout", {"token"}},
    {"change_password", {"token", "old_password", "new_password"}},
  };
  const std::vector<std::pair<const char*, json>> wrong{
    {"a number", 42},
    {"a bool", true},
    {"null", nullptr},
    {"an array", json::array({"x"})},
    {"an object", json::object({{"a", "x"}})},
  };
  int id = 100;
  for (auto& op : ops) {
    for (auto field : op.fields) {
      for (auto& [type, value] : wrong) {
        json request{{"id", id}, {"op", op.op}};
        for (auto f : op.fields)
          request[f] = "correct horse";
        request[field] = value;
        out.push_back(one(std::string{op.op} + ": " + field + " is " + type,
                          request.dump() + "\n", "bad_request",
                          std::string{"field "} + field + " must be a string",
                          id));
        ++id;
      }
    }
  }
  // Optional fields, when present, must be strings too.
  const std::vector<std::pair<const char*, const char*>> optional{
    {"register", "client_addr"},
    {"login", "client_addr"},
    {"login", "device_token"},
    {"change_password", "client_addr"},
  };
  for (auto& [op, field] : optional) {
    for (auto& [type, value] : wrong) {
      json request{{"id", id}, {"op", op}};
      for (auto& o : ops)
        if (std::string_view{o.op} == op)
          for (auto f : o.fields)
            request[f] = "correct horse";
      request[field] = value;
      out.push_back(one(std::string{op} + ": optional " + field + " is " + type,
                        request.dump() + "\n", "bad_request",
                        std::string{"field "} + field + " must be a string",
                        id));
      ++id;
    }
  }
  for (auto& [type, value] : wrong) {
    json request{{"id", id}, {"op", value}};
    out.push_back(one(std::string{"op is "} + type, request.dump() + "\n",
                      "bad_request", "field op must be a string", id));
    ++id;
  }
  for (auto& [type, value] : wrong) {
    if (value.is_number() || value.is_null())
      continue; // valid ids
    json request{{"id", value}, {"op", "ping"}};
    out.push_back(one(std::string{"id is "} + type, request.dump() + "\n",
                      "bad_request", "id must be a string or a number"));
  }
  out.push_back(one("id is false",
                    R"({"id":false,"op":"ping"})"
                    "\n",
                    "bad_request", "id must be a string or a number"));
  out.push_back(one(
    "register without name",
    R"({"id":7,"op":"register","email":"a@b.co","password":"correct horse"})"
    "\n",
    "bad_request", "missing field: name", 7));
  out.push_back(
    one("change_password without new_password",
        R"({"id":8,"op":"change_password","token":"t","old_password":"x"})"
        "\n",
        "bad_request", "missing field: new_password", 8));
  out.push_back(one(
    "client_addr from a peer not in --trusted-sources",
    R"({"id":10,"op":"login","email":"a@b.co","password":"correct horse","client_addr":"203.0.113.7"})"
    "\n",
    "bad_request", {}, 10));
  out.push_back(one("an object without op",
                    R"({"id":9})"
                    "\n",
                    "bad_request", "missing field: op", 9));
  out.push_back(
    one("an empty object", "{}\n", "bad_request", "missing field: op"));
}

void add_duplicate_keys(std::vector<hostile_case>& out) {
  out.push_back(one("op twice, the last unknown",
                    R"({"id":1,"op":"ping","op":"fly"})"
                    "\n",
                    "unknown_op", "unknown op: fly", 1));
  out.push_back(one("id twice, the last a bool",
                    R"({"id":1,"id":true,"op":"fly"})"
                    "\n",
                    "bad_request", "id must be a string or a number"));
  out.push_back(one("id twice, the last a number",
                    R"({"id":true,"id":7,"op":"fly"})"
                    "\n",
                    "unknown_op", {}, 7));
  out.push_back(
    one("email twice, the last a number",
        R"({"id":2,"op":"login","email":"a@b.co","email":5,"password":"x"})"
        "\n",
        "bad_request", "field email must be a string", 2));
  out.push_back(one("token twice, the last a string",
                    R"({"id":3,"op":"whoami","token":5,"token":"made-up"})"
                    "\n",
                    "invalid_token", {}, 3));
  out.push_back(one("op 1,000 times",
                    "{" + repeat(R"("op":"fly",)", 1000) + R"("id":4})" + "\n",
                    "unknown_op", {}, 4));
}

void add_blank_lines(std::vector<hostile_case>& out) {
  out.push_back(one("an empty line", "\n", "bad_json"));
  out.push_back(one("an empty line ending in CRLF", "\r\n", "bad_json"));
  out.push_back(one("a line of spaces", "    \n", "bad_json"));
  out.push_back(one("a line of tabs", "\t\t\n", "bad_json"));
  out.push_back(one("spaces, tabs and CRLF", " \t \t\r\n", "bad_json"));
  out.push_back(one("a line holding one CR before CRLF", "\r\r\n", "bad_json"));
  out.push_back(one("a vertical tab", "\v\n", "bad_json"));
  out.push_back(one("a form feed", "\f\n", "bad_json"));
  out.push_back(
    one("a line of 60,000 spaces", std::string(60000, ' ') + "\n", "bad_json"));
}

void add_carriage_returns(std::vector<hostile_case>& out) {
  out.push_back({"CR without LF, the LF in a later write",
                 {R"({"id":1,"op":"fly"})"
                  "\r",
                  "\n"},
                 {"unknown_op"},
                 {},
                 1});
  out.push_back({"CR, more text, then LF",
                 {R"({"id":1,"op":"fly"})"
                  "\r",
                  R"({"id":2,"op":"fly"})"
                  "\n"},
                 {"bad_json"}});
  out.push_back(
    {"CR, CR and LF in three writes", {"\r", "\r", "\n"}, {"bad_json"}});
  out.push_back(one("CR as whitespace inside the object",
                    "{\"id\":1,\r\"op\":\r\"fly\"}\n", "unknown_op", {}, 1));
  out.push_back(one("two CRs before LF",
                    R"({"id":1,"op":"fly"})"
                    "\r\r\n",
                    "unknown_op", {}, 1));
  out.push_back(one("CR alone inside a string",
                    "{\"op\":\"ping\",\"x\":\"a\rb\"}\n", "bad_json"));
}

void add_segments_and_bursts(std::vector<hostile_case>& out) {
  std::string line = R"({"id":"slow","op":"fly","x":"é"})"
                     "\r\n";
  hostile_case byte_by_byte{"a line sent one byte per write",
                            {},
                            {"unknown_op"},
                            "unknown op: fly",
                            json("slow")};
  for (char ch : line)
    byte_by_byte.writes.emplace_back(1, ch);
  out.push_back(std::move(byte_by_byte));

  hostile_case invalid_split{
    "invalid UTF-8 sent one byte per write", {}, {"bad_json"}};
  for (char ch : std::string{"{\"op\":\"ping\",\"x\":\"\xc3\x28\"}\n"})
    invalid_split.writes.emplace_back(1, ch);
  out.push_back(std::move(invalid_split));

  hostile_case three{"a long line in 3-byte writes", {}, {"unknown_op"}};
  auto long_line = R"({"id":3,"op":"fly","x":")" + std::string(300, 'y')
    + "\"}\n";
  for (size_t i = 0; i < long_line.size(); i += 3)
    three.writes.push_back(long_line.substr(i, 3));
  out.push_back(std::move(three));

  // Fifty malformed lines of five kinds in one write: fifty replies, in order.
  hostile_case burst{"fifty malformed lines in one write", {""}, {}};
  const std::vector<std::pair<std::string, std::string>> kinds{
    {"not json\n", "bad_json"},
    {R"({"op":"fly"})"
     "\n",
     "unknown_op"},
    {R"({"id":true,"op":"ping"})"
     "\n",
     "bad_request"},
    {"[]\n", "bad_json"},
    {"\n", "bad_json"},
  };
  for (int i = 0; i < 50; ++i) {
    burst.writes[0] += kinds[i % kinds.size()].first;
    burst.codes.push_back(kinds[i % kinds.size()].second);
  }
  out.push_back(std::move(burst));
}

void add_bom(std::vector<hostile_case>& out) {
  const std::string bom = "\xef\xbb\xbf";
  out.push_back(one("a BOM before the object",
                    bom
                      + R"({"id":1,"op":"ping"})"
                        "\n",
                    "bad_json"));
  out.push_back(one("two BOMs before the object",
                    bom + bom
                      + R"({"op":"fly"})"
                        "\n",
                    "bad_json"));
  out.push_back(one("a BOM inside the object",
                    "{" + bom
                      + R"("op":"ping"})"
                        "\n",
                    "bad_json"));
  out.push_back(
    one("a BOM after the object", R"({"op":"ping"})" + bom + "\n", "bad_json"));
  out.push_back(one("a BOM alone", bom + "\n", "bad_json"));
}

void add_not_one_object(std::vector<hostile_case>& out) {
  const std::string not_object = "the line is not a JSON object";
  for (auto line : {
         R"({"op":"ping"} trailing)",
         R"({"op":"ping"}{})",
         R"({"op":"ping"},)",
         R"({"op":"ping"}})",
         R"({"op":"ping"}])",
         R"({"op":"ping"}// a comment)",
         R"({"op":"ping"}/* a comment */)",
         R"({"op":"ping"} 1)",
         R"({"op":"ping"}")",
         R"(x{"op":"ping"})",
         R"(/* a comment */{"op":"ping"})",
         "[]",
         R"([{"op":"ping"}])",
         R"("ping")",
         R"("")",
         "42",
         "-0",
         "1e5",
         "true",
         "false",
         "null",
         "this is not json",
       })
    out.push_back(one(std::string{"not one object: "} + line,
                      std::string{line} + "\n", "bad_json", not_object));
  for (auto line : {
         R"({"op":"ping")",
         R"({"op":"ping)",
         R"({"op" "ping"})",
         R"({'op':'ping'})",
         R"({op:"ping"})",
         R"({"op":"ping",})",
         R"({"op":"ping","x":01})",
         R"({"op":"ping","x":1.})",
         R"({"op":"ping","x":.5})",
         R"({"op":"ping","x":+1})",
         R"({"op":"ping","x":0x10})",
         R"({"op":"ping","x":NaN})",
         R"({"op":"ping","x":Infinity})",
         R"({"op":"ping","x":tru})",
         R"({"op":"ping","x":"\x41"})",
         R"({"op":"ping","x":"\u12"})",
         R"({"op":"ping","x":"\u12G4"})",
       })
    out.push_back(one(std::string{"broken JSON: "} + line,
                      std::string{line} + "\n", "bad_json", not_object));
}

void add_control_characters(std::vector<hostile_case>& out) {
  for (char ch : {'\x01', '\x08', '\t', '\x1b', '\x1f'}) {
    std::ostringstream name;
    name << "raw control character 0x" << std::hex << int(ch)
         << " inside a string";
    out.push_back(one(name.str(),
                      std::string{R"({"op":"ping","x":"a)"} + ch + "b\"}\n",
                      "bad_json"));
  }
  out.push_back(one("an ANSI escape after the object",
                    R"({"op":"ping"})"
                    "\x1b[2J\n",
                    "bad_json"));
  out.push_back(one("a backspace before the object",
                    "\b"
                    R"({"op":"ping"})"
                    "\n",
                    "bad_json"));
  out.push_back(one("DEL (allowed in JSON strings) as the op",
                    R"({"id":1,"op":")"
                    "\x7f"
                    "\"}\n",
                    "unknown_op", "unknown op: \x7f", 1));
  out.push_back(one("an escaped ESC in the op",
                    R"({"id":2,"op":"\u001b[2J"})"
                    "\n",
                    "unknown_op", "unknown op: \x1b[2J", 2));
  out.push_back(one(
    "escaped control characters in register's email",
    R"({"id":3,"op":"register","email":"a\u0007\u001b@b.co","password":"correct horse","name":"N"})"
    "\n",
    "invalid_email", {}, 3));
}

/// Strings of about 60,000 bytes, under the default max-line of 65,536.
void add_long_strings(std::vector<hostile_case>& out) {
  const std::string big(60000, 'a');
  auto with = [](json request) {
    return request.dump() + "\n";
  };
  out.push_back(one("register: a 60,000-byte email",
                    with({{"id", 1},
                          {"op", "register"},
                          {"email", big + "@b.co"},
                          {"password", "correct horse"},
                          {"name", "N"}}),
                    "invalid_email", {}, 1));
  out.push_back(one("register: a 60,000-byte password",
                    with({{"id", 2},
                          {"op", "register"},
                          {"email", "long.password@example.org"},
                          {"password", big},
                          {"name", "N"}}),
                    "weak_password", {}, 2));
  out.push_back(one("register: a 60,000-byte name",
                    with({{"id", 3},
                          {"op", "register"},
                          {"email", "long.name@example.org"},
                          {"password", "correct horse"},
                          {"name", big}}),
                    "bad_request", "name must have 1 to 200 bytes", 3));
  out.push_back(one("whoami: a 60,000-byte token",
                    with({{"id", 4}, {"op", "whoami"}, {"token", big}}),
                    "invalid_token", {}, 4));
  out.push_back(one("logout: a 60,000-byte token",
                    with({{"id", 5}, {"op", "logout"}, {"token", big}}),
                    "invalid_token", {}, 5));
  out.push_back(one("change_password: 20,000-byte token and passwords",
                    with({{"id", 6},
                          {"op", "change_password"},
                          {"token", std::string(20000, 't')},
                          {"old_password", std::string(20000, 'o')},
                          {"new_password", std::string(20000, 'n')}}),
                    "invalid_token", {}, 6));
  // The only failed login of this suite: a second one from the same address
  // would be throttled.
  out.push_back(one("login: 30,000-byte email and password",
                    with({{"id", 7},
                          {"op", "login"},
                          {"email", std::string(30000, 'e')},
                          {"password", std::string(30000, 'p')}}),
                    "invalid_credentials", {}, 7));
  out.push_back(one("a 60,000-byte op", with({{"id", 8}, {"op", big}}),
                    "unknown_op", "unknown op: " + big.substr(0, 64), 8));
  out.push_back(one("a 60,000-byte key",
                    with({{"id", 9}, {"op", "fly"}, {big, 1}}), "unknown_op",
                    {}, 9));
  out.push_back(one("a 60,000-byte ignored string",
                    with({{"id", 10}, {"op", "fly"}, {"x", big}}), "unknown_op",
                    {}, 10));
  out.push_back(one("an id that is a 60,000-byte string",
                    with({{"id", big}, {"op", "fly"}}), "unknown_op", {},
                    json(big)));
  out.push_back(one("an op of 10,000 escaped NULs",
                    R"({"id":11,"op":")" + repeat("\\u0000", 10000) + "\"}\n",
                    "unknown_op", "unknown op: " + std::string(64, '\0'), 11));
  out.push_back(
    one("an id of 10,000 escaped emoji",
        R"({"op":"fly","id":")" + repeat("\\ud83d\\ude00", 5000) + "\"}\n",
        "unknown_op", {}, json(repeat("\xf0\x9f\x98\x80", 5000))));
}

std::vector<hostile_case> hostile_cases() {
  std::vector<hostile_case> out;
  add_invalid_utf8(out);
  add_nesting(out);
  add_huge_numbers(out);
  add_nul_bytes(out);
  add_wrong_types(out);
  add_duplicate_keys(out);
  add_blank_lines(out);
  add_carriage_returns(out);
  add_segments_and_bursts(out);
  add_bom(out);
  add_not_one_object(out);
  add_control_characters(out);
  add_long_strings(out);
  return out;
}

// -- running a case
// -------------------------------------------------------------

/// What is wrong with `line` as the reply expected to carry `code`.
std::string check_reply(const std::optional<std::string>& line,
                        const std::string& code) {
  if (!line)
    return "no reply within the timeout (or the connection closed)";
  auto reply = json::parse(*line, nullptr, false);
  if (reply.is_discarded() || !reply.is_object())
    return "the reply is not a JSON object: " + line->substr(0, 200);
  if (!failed(reply))
    return "the reply is not ok:false with an error.code: "
      + line->substr(0, 200);
  if (!reply["error"].contains("message")
      || !reply["error"]["message"].is_string())
    return "the reply has no error.message: " + line->substr(0, 200);
  auto got = error_code(reply);
  if (documented_codes.count(got) == 0)
    return "undocumented code " + got;
  if (got != code)
    return "expected " + code + ", got " + got + ": " + line->substr(0, 200);
  if (codes_without_id.count(code) > 0 && reply.contains("id"))
    return "a " + code + " reply carries an id: " + line->substr(0, 200);
  return {};
}

/// Sends the case on a new connection; returns what went wrong, if anything.
std::vector<std::string> run_case(uint16_t port, const hostile_case& c,
                                  bool then_closed = false) {
  std::vector<std::string> problems;
  line_client client{port};
  for (size_t i = 0; i < c.writes.size(); ++i) {
    if (i > 0)
      std::this_thread::sleep_for(pause_between_writes);
    client.send_raw(c.writes[i]);
  }
  for (size_t i = 0; i < c.codes.size(); ++i) {
    auto line = client.read_line(reply_timeout);
    auto problem = check_reply(line, c.codes[i]);
    if (!problem.empty()) {
      problems.push_back("reply " + std::to_string(i + 1) + ": " + problem);
      return problems; // the rest would only repeat it
    }
    if (i > 0)
      continue;
    auto reply = json::parse(*line);
    if (!c.message.empty() && reply["error"]["message"] != c.message)
      problems.push_back("message " + reply["error"]["message"].dump());
    if (c.id && (!reply.contains("id") || reply["id"] != *c.id))
      problems.push_back("id " + reply.value("id", json("(none)")).dump()
                         + ", expected " + c.id->dump().substr(0, 100));
  }
  if (then_closed) {
    if (!client.closed_by_peer())
      problems.push_back("the connection was not closed");
    return problems;
  }
  // The connection still answers, and nothing else was owed on it.
  client.send(json{{"id", "after"}, {"op", "ping"}});
  auto line = client.read_line(reply_timeout);
  if (!line)
    problems.push_back("no answer to a ping afterwards");
  else if (json::parse(*line, nullptr, false)
           != json{{"id", "after"}, {"ok", true}})
    problems.push_back("an extra reply before the ping's: "
                       + line->substr(0, 200));
  return problems;
}

/// Runs every case, each on its own connection; stops early only if the
/// node stops answering altogether.
void run_all(const node_process& node, const std::vector<hostile_case>& cases,
             bool then_closed = false) {
  for (auto& c : cases) {
    std::vector<std::string> problems;
    try {
      problems = run_case(node.port(), c, then_closed);
    } catch (std::exception& e) {
      problems.push_back(std::string{"exception: "} + e.what());
    }
    std::string what_went_wrong;
    for (auto& p : problems)
      what_went_wrong += (what_went_wrong.empty() ? "" : "; ") + p;
    INFO("case: " << c.name);
    CHECK(what_went_wrong == "");
    if (!problems.empty()) {
      // Go on with the next case only if the node still answers at all.
      line_client probe{node.port()};
      REQUIRE(succeeded(probe.call({{"op", "ping"}})));
    }
  }
}

/// What a user would do after an attack: ping, register and log in, from
/// another address so the one failed login above does not throttle it.
void check_still_serving(const node_process& node) {
  line_client c{node.port(), "127.0.0.2"};
  CHECK(succeeded(c.call({{"op", "ping"}})));
  REQUIRE(succeeded(register_user(c, "after.attack@example.org")));
  auto token = session_token(c, "after.attack@example.org");
  CHECK(whoami(c, token)["user"]["email"] == "after.attack@example.org");
}

size_t count_lines(const std::vector<hostile_case>& cases) {
  size_t n = 0;
  for (auto& c : cases)
    n += c.codes.size();
  return n;
}

} // namespace

TEST_CASE("every hostile line gets one documented failure and the node "
          "keeps serving") {
  node_process node;
  auto cases = hostile_cases();
  INFO(cases.size() << " cases, " << count_lines(cases) << " malformed lines");
  run_all(node, cases);
  check_still_serving(node);
}

TEST_CASE("a line of exactly max-line is read, one byte more closes") {
  auto opts = fast_options();
  opts.push_back("--max-line=1024");
  node_process node{opts};

  // {"id":"max","op":"fly","x":"aaa…"} padded to exactly `size` bytes.
  auto line_of = [](size_t size) {
    std::string head = R"({"id":"max","op":"fly","x":")";
    return head + std::string(size - head.size() - 2, 'a') + "\"}";
  };
  REQUIRE(line_of(1024).size() == 1024);
  std::vector<hostile_case> fitting{
    {"1,024 bytes and LF", {line_of(1024) + "\n"}, {"unknown_op"}, {}, "max"},
    {"1,024 bytes and CRLF",
     {line_of(1024) + "\r\n"},
     {"unknown_op"},
     {},
     "max"},
    {"1,024 bytes, CR and LF in separate writes",
     {line_of(1024), "\r", "\n"},
     {"unknown_op"},
     {},
     "max"},
    {"1,023 bytes, a stray CR and CRLF",
     {line_of(1023) + "\r\r\n"},
     {"unknown_op"},
     {},
     "max"},
  };
  run_all(node, fitting);

  const std::string too_long = "the line is longer than 1024 bytes; closing";
  std::vector<hostile_case> over{
    {"1,025 bytes and LF", {line_of(1025) + "\n"}, {"line_too_long"}, too_long},
    {"1,025 bytes, a CR too many, then LF",
     {line_of(1024) + "\r\r\n"},
     {"line_too_long"},
     too_long},
    {"1,026 bytes without LF, the node does not wait",
     {line_of(1026)},
     {"line_too_long"},
     too_long},
    {"an unknown op, then 1,025 bytes",
     {R"({"id":1,"op":"fly"})"
      "\n"
      + line_of(1025) + "\n"},
     {"unknown_op", "line_too_long"}},
    // The second write crosses the limit; nothing is sent after it, since a
    // write that reaches a closed socket would reset the connection.
    {"a line without LF in two 1,000-byte writes",
     {std::string(1000, 'x'), std::string(1000, 'x')},
     {"line_too_long"},
     too_long},
  };
  run_all(node, over, /*then_closed=*/true);

  check_still_serving(node);
}
