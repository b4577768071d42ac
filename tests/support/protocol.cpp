#include "support/protocol.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>

namespace authnode::test {

bool succeeded(const json& reply) {
  if (!reply.is_object())
    return false;
  auto ok = reply.find("ok");
  return ok != reply.end() && ok->is_boolean() && ok->get<bool>();
}

bool failed(const json& reply) {
  if (!reply.is_object())
    return false;
  auto ok = reply.find("ok");
  if (ok == reply.end() || !ok->is_boolean() || ok->get<bool>())
    return false;
  auto error = reply.find("error");
  if (error == reply.end() || !error->is_object())
    return false;
  auto code = error->find("code");
  return code != error->end() && code->is_string();
}

std::string error_code(const json& reply) {
  if (failed(reply))
    return reply["error"]["code"].get<std::string>();
  return "<not a failure: " + reply.dump().substr(0, 200) + ">";
}

std::string outcome(const json& reply) {
  return succeeded(reply) ? "ok" : error_code(reply);
}

int64_t retry_after_ms(const json& reply) {
  if (!failed(reply))
    return -1;
  auto& error = reply["error"];
  auto ms = error.find("retry_after_ms");
  if (ms == error.end() || !ms->is_number_integer())
    return -1;
  return ms->get<int64_t>();
}

const std::string default_password = "correct horse";

json register_request(const std::string& email, const std::string& password,
                      const std::string& name) {
  return {{"op", "register"},
          {"email", email},
          {"password", password},
          {"name", name}};
}

json login_request(const std::string& email, const std::string& password,
                   const std::string& device_token) {
  json req{{"op", "login"}, {"email", email}, {"password", password}};
  if (!device_token.empty())
    req["device_token"] = device_token;
  return req;
}

std::string line_of(const json& request) {
  return request.dump() + "\n";
}

json with_id(json id, json request) {
  request["id"] = std::move(id);
  return request;
}

json register_user(line_client& c, const std::string& email,
                   const std::string& password, const std::string& name) {
  return c.call(register_request(email, password, name));
}

json login(line_client& c, const std::string& email,
           const std::string& password, const std::string& device_token) {
  return c.call(login_request(email, password, device_token));
}

json whoami(line_client& c, const std::string& token) {
  return c.call({{"op", "whoami"}, {"token", token}});
}

json logout(line_client& c, const std::string& token) {
  return c.call({{"op", "logout"}, {"token", token}});
}

json change_password(line_client& c, const std::string& token,
                     const std::string& old_password,
                     const std::string& new_password) {
  return c.call({{"op", "change_password"},
                 {"token", token},
                 {"old_password", old_password},
                 {"new_password", new_password}});
}

json stats_of(line_client& c) {
  auto reply = c.call({{"op", "stats"}});
  INFO("stats: " << reply.dump());
  REQUIRE(succeeded(reply));
  REQUIRE(reply["stats"].is_object());
  return reply["stats"];
}

json register_user(uint16_t port, const std::string& email,
                   const std::string& password, const std::string& name) {
  line_client c{port};
  return register_user(c, email, password, name);
}

json login(uint16_t port, const std::string& email,
           const std::string& password) {
  line_client c{port};
  return login(c, email, password);
}

json stats_of(uint16_t port) {
  line_client c{port};
  return stats_of(c);
}

std::string session_token(line_client& c, const std::string& email,
                          const std::string& password) {
  auto granted = login(c, email, password);
  INFO("login of " << email << ": " << granted.dump());
  REQUIRE(succeeded(granted));
  return granted["token"].get<std::string>();
}

std::map<std::string, int> guess_burst(const std::vector<uint16_t>& ports,
                                       const std::string& email, int per_node) {
  std::vector<std::unique_ptr<line_client>> conns;
  for (auto port : ports) {
    conns.push_back(std::make_unique<line_client>(port));
    std::string burst;
    for (int i = 0; i < per_node; ++i) {
      auto guess = "guess " + std::to_string(port) + "-" + std::to_string(i);
      burst += line_of(with_id(i, login_request(email, guess)));
    }
    conns.back()->send_raw(burst);
  }
  std::map<std::string, int> codes;
  for (auto& c : conns)
    for (int i = 0; i < per_node; ++i)
      ++codes[outcome(c->read(std::chrono::seconds(10)))];
  return codes;
}

int64_t hash_verifications(const std::vector<uint16_t>& ports) {
  int64_t total = 0;
  for (auto port : ports)
    total += stats_of(port)["hash_verifications_total"].get<int64_t>();
  return total;
}

} // namespace authnode::test
