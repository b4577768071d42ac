#include "net/http_head.hpp"

namespace authnode {

namespace {

/// RFC 9110 tchar: what a method or a header name may consist of.
bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
      || (c >= '0' && c <= '9'))
    return true;
  for (char x : std::string_view{"!#$%&'*+-.^_`|~"})
    if (c == x)
      return true;
  return false;
}

bool is_token(std::string_view s) {
  if (s.empty())
    return false;
  for (char c : s)
    if (!is_tchar(c))
      return false;
  return true;
}

/// Visible ASCII only: no controls, spaces or bytes above 0x7e.
bool is_visible(std::string_view s) {
  for (char c : s)
    if (c <= 0x20 || c >= 0x7f)
      return false;
  return !s.empty();
}

/// Header values: visible ASCII, spaces and tabs.
bool is_field_value(std::string_view s) {
  for (char c : s)
    if ((c < 0x20 && c != '\t') || c == 0x7f)
      return false;
  return true;
}

/// The next line of `rest` without its line end; advances `rest`.
std::string_view next_line(std::string_view& rest) {
  auto nl = rest.find('\n');
  auto line = rest.substr(0, nl);
  rest = nl == std::string_view::npos ? std::string_view{}
                                      : rest.substr(nl + 1);
  if (!line.empty() && line.back() == '\r')
    line.remove_suffix(1);
  return line;
}

bool valid_header_line(std::string_view line) {
  auto colon = line.find(':');
  return colon != std::string_view::npos && is_token(line.substr(0, colon))
    && is_field_value(line.substr(colon + 1));
}

const char* reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 431:
      return "Request Header Fields Too Large";
    case 503:
      return "Service Unavailable";
    default:
      return "Unknown";
  }
}

} // namespace

size_t http_head_length(std::string_view buf) {
  size_t pos = 0;
  while (pos < buf.size()) {
    auto nl = buf.find('\n', pos);
    if (nl == std::string_view::npos)
      return 0;
    auto line_len = nl - pos;
    bool empty = line_len == 0 || (line_len == 1 && buf[pos] == '\r');
    // An empty first line is garbage, not the end of a head: it is still
    // "complete", and route_http_head() refuses it.
    if (empty)
      return nl + 1;
    pos = nl + 1;
  }
  return 0;
}

http_route route_http_head(std::string_view head) {
  auto rest = head;
  auto request_line = next_line(rest);
  auto sp1 = request_line.find(' ');
  if (sp1 == std::string_view::npos)
    return http_route::bad_request;
  auto sp2 = request_line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos)
    return http_route::bad_request;
  auto method = request_line.substr(0, sp1);
  auto target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
  auto version = request_line.substr(sp2 + 1);
  if (!is_token(method) || !is_visible(target) || target.front() != '/'
      || (version != "HTTP/1.1" && version != "HTTP/1.0"))
    return http_route::bad_request;
  for (auto line = next_line(rest); !line.empty(); line = next_line(rest))
    if (!valid_header_line(line))
      return http_route::bad_request;
  bool get = method == "GET";
  bool head_method = method == "HEAD";
  if (!get && !head_method)
    return http_route::bad_method;
  auto path = target.substr(0, target.find('?'));
  if (path != "/metrics")
    return http_route::not_found;
  return get ? http_route::metrics : http_route::metrics_head;
}

std::string http_response(int status, std::string_view content_type,
                          std::string_view body, bool head_only) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reason(status)
    + "\r\nContent-Type: ";
  out += content_type;
  out += "\r\nContent-Length: " + std::to_string(body.size());
  if (status == 405)
    out += "\r\nAllow: GET, HEAD";
  out += "\r\nConnection: close\r\n\r\n";
  if (!head_only)
    out += body;
  return out;
}

} // namespace authnode
