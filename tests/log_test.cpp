// The node's log lines: text for people, JSON for shippers, filtered by
// level.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "core/log.hpp"

using namespace authnode;
using nlohmann::json;

TEST_CASE("a text log line is the time and level and message then key=value") {
  auto line = format_log_line(log_level::info, "request",
                              json{{"source", "127.0.0.2"}, {"ms", 3}},
                              log_format::text);
  REQUIRE(line.back() == '\n');
  // 2026-11-25T20:13:16Z authnode info: request ms=3 source=127.0.0.2
  CHECK(line.find("Z authnode info: request ") == 19);
  CHECK(line.find(" ms=3") != std::string::npos);
  CHECK(line.find(" source=127.0.0.2") != std::string::npos);
}

TEST_CASE("a text log value that has spaces or quotes is quoted") {
  auto line = format_log_line(
    log_level::warning, "admin request refused",
    json{{"reason", "wrong admin key"}, {"odd", "a\"b"}}, log_format::text);
  CHECK(line.find(" reason=\"wrong admin key\"") != std::string::npos);
  CHECK(line.find(" odd=\"a\\\"b\"") != std::string::npos);
  // A line break in a value never splits the event.
  auto broken = format_log_line(log_level::info, "x", json{{"v", "a\nb"}},
                                log_format::text);
  CHECK(broken.find('\n') == broken.size() - 1);
}

TEST_CASE("a JSON log line is one object with time level msg and the fields") {
  auto line = format_log_line(log_level::debug, "connection closed",
                              json{{"source", "::1"},
                                   {"reason", "idle"},
                                   {"requests", 4},
                                   {"msg", "cannot replace the message"}},
                              log_format::json);
  REQUIRE(line.back() == '\n');
  CHECK(line.find('\n') == line.size() - 1);
  auto event = json::parse(line);
  CHECK(event["level"] == "debug");
  CHECK(event["msg"] == "connection closed");
  CHECK(event["source"] == "::1");
  CHECK(event["reason"] == "idle");
  CHECK(event["requests"] == 4);
  CHECK(event["time"].get<std::string>().size() == 20);
}

TEST_CASE("invalid UTF-8 in a field still makes valid JSON") {
  auto line = format_log_line(log_level::info, "x",
                              json{{"v", std::string("\xff\xfe", 2)}},
                              log_format::json);
  CHECK_NOTHROW(json::parse(line));
}

TEST_CASE("log levels and formats are parsed by name") {
  CHECK(parse_log_level("debug") == log_level::debug);
  CHECK(parse_log_level("warning") == log_level::warning);
  CHECK_FALSE(parse_log_level("warn").has_value());
  CHECK_FALSE(parse_log_level("INFO").has_value());
  CHECK(parse_log_format("json") == log_format::json);
  CHECK_FALSE(parse_log_format("xml").has_value());
}

TEST_CASE("events below the configured level are not written") {
  configure_log(log_level::warning, log_format::text);
  CHECK_FALSE(log_enabled(log_level::debug));
  CHECK_FALSE(log_enabled(log_level::info));
  CHECK(log_enabled(log_level::warning));
  CHECK(log_enabled(log_level::error));
  configure_log(log_level::debug, log_format::text);
  CHECK(log_enabled(log_level::debug));
  configure_log(log_level::info, log_format::text);
}
