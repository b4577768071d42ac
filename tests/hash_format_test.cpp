// core/hash_format: which scheme a stored hash has, and which strings
// user_import accepts (with hashes made by passlib, support/passlib_hashes).
#include <catch2/catch.hpp>

#include <string>

#include "core/hash_format.hpp"
#include "support/passlib_hashes.hpp"

using namespace authnode;
using namespace authnode::test;

namespace {

/// What import_problem says about `stored`, or "ok".
std::string verdict(const std::string& stored) {
  auto why = import_problem(stored);
  return why ? *why : "ok";
}

const std::string bcrypt_2b
  = "$2b$04$nYZI84GlCDmjyEo1HFzMeeV8tj6heGMJgnTEPeEJ//0cquTi5frXu";
const std::string argon2id_p1
  = "$argon2id$v=19$m=64,t=1,p=1$qtX6v7fWOkfonZNS6n0PwQ$UL/3nFrRKMT5OMLVejuByg";
const std::string sha512_rounds
  = "$6$rounds=1000$6ToDDfvaJNfHQf50$DktCjUu0r/pDj/"
    "gR2eWevvjcfV57aaUe8yO0Ygg8ULJEbLz5jHp5QGApKmxRWbNCAbmPpMEXTvkqxg96FLfaZ0";
const std::string sha256_plain
  = "$5$iWJPJK5NjLYRaCH4$a7T5VzevS1b0GSZ9sEEOw5stLz0C8EX4fp.3Dc44ii0";

/// `s` with the part `from` replaced by `to` (which must be there).
std::string with(std::string s, const std::string& from,
                 const std::string& to) {
  auto at = s.find(from);
  REQUIRE(at != std::string::npos);
  return s.replace(at, from.size(), to);
}

} // namespace

TEST_CASE("every passlib format is recognized and accepted for import",
          "[hash_format]") {
  for (auto& h : passlib_hashes) {
    INFO(h.label);
    CHECK(scheme_name(scheme_of(h.hash)) == h.scheme);
    CHECK(verdict(h.hash) == "ok");
  }
}

TEST_CASE("unknown formats are named unknown and refused", "[hash_format]") {
  for (std::string s :
       {"", "plain text", "$1$abc$Kb85XxsXB.VXinPhbS4431", "abzlUXK5ed5rs",
        "$2x$04$0k37hUyx2jr82fcw.byRmuBqiFbKTA7nC7KNmMXWksdFcJu7reFGe",
        "$y$j9T$abcdefgh$abcdefghabcdefghabcdefghabcdefghabcdefghabc",
        "$argon2d$v=19$m=64,t=1,p=1$qtX6v7fWOkfonZNS6n0PwQ$UL/"
        "3nFrRKMT5OMLVejuByg",
        "{SSHA}abcdef", "$pbkdf2-sha256$29000$abc$def"}) {
    INFO(s);
    CHECK(scheme_of(s) == hash_scheme::unknown);
    CHECK(scheme_name(scheme_of(s)) == "unknown");
    CHECK(verdict(s) != "ok");
  }
  CHECK(verdict("") == "the hash is empty");
  CHECK_THAT(verdict("$1$abc$x"), Catch::StartsWith("unknown hash format"));
}

TEST_CASE("a hash longer than 127 bytes is refused whatever it claims",
          "[hash_format]") {
  auto long_one = "$argon2id$v=19$m=64,t=1,p=1$" + std::string(200, 'A');
  CHECK(long_one.size() > 200);
  CHECK(verdict(long_one) == "the hash is longer than 127 bytes");
  CHECK(verdict(std::string(200, 'x')) == "the hash is longer than 127 bytes");
  // 127 bytes is the most: the salt made longer until the string has 128.
  auto at_limit = with(argon2id_p1, "qtX6v7fWOkfonZNS6n0PwQ",
                       std::string(22 + 128 - 1 - argon2id_p1.size(), 'A'));
  CHECK(at_limit.size() == 127);
  CHECK(verdict(at_limit) == "ok");
  CHECK(verdict(at_limit + "AAAA").find("longer than 127")
        != std::string::npos);
}

TEST_CASE("truncated hashes of every format are refused", "[hash_format]") {
  for (auto& h : passlib_hashes) {
    for (size_t cut :
         {size_t{1}, size_t{2}, h.hash.size() / 2, h.hash.size() - 4}) {
      auto truncated = h.hash.substr(0, h.hash.size() - cut);
      INFO(h.label << " without its last " << cut << " characters");
      CHECK(verdict(truncated) != "ok");
    }
  }
}

TEST_CASE("malformed argon2 strings are refused as libsodium would",
          "[hash_format]") {
  for (auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
         {"v=19$", ""},                                          // no version
         {"v=19", "v=16"},                                       // old version
         {"m=64", "m=064"},                                      // leading zero
         {"m=64", "m=4"},                                        // m < 8p
         {"t=1", "t=0"},                                         //
         {"p=1", "p=0"},                                         //
         {",t=1", "t=1"},                                        //
         {"UL/3nFrRKMT5OMLVejuByg", "UL/3nFrRKMT5OMLVejuByh"},   // unused bits
         {"UL/3nFrRKMT5OMLVejuByg", "UL/3nFrRKMT5OMLVejuByg=="}, // padding
         {"UL/3nFrRKMT5OMLVejuByg", "UL/3nFrRKMT5OMLVejuBy!"},
         {"qtX6v7fWOkfonZNS6n0PwQ", "qtX6v7fW"}, // a 6-byte salt
         {"$UL/", "$$UL/"}}) {
    auto bad = with(argon2id_p1, from, to);
    INFO(bad);
    CHECK_THAT(verdict(bad), Catch::StartsWith("argon2:"));
  }
}

TEST_CASE("argon2 costs beyond the import limits are refused",
          "[hash_format]") {
  CHECK(verdict(with(argon2id_p1, "t=1", "t=64")) == "ok");
  CHECK(verdict(with(argon2id_p1, "t=1", "t=65"))
        == "argon2: t must be 1 to 64");
  CHECK(verdict(with(argon2id_p1, "p=1", "p=65"))
        == "argon2: p must be 1 to 64");
  CHECK(verdict(with(argon2id_p1, "m=64", "m=4194304")) == "ok");
  CHECK(verdict(with(argon2id_p1, "m=64", "m=4194305"))
        == "argon2: m must be 8*p to 4194304 KiB");
  CHECK(verdict(with(argon2id_p1, "m=64", "m=99999999999")) != "ok");
}

TEST_CASE("malformed bcrypt strings are refused", "[hash_format]") {
  for (auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
         {"$04$", "$4$"},
         {"$04$", "$0x$"},
         {"$04$", "$03$"}, // below the minimum cost
         {"$04$", "$19$"}, // above the import limit
         {"$04$", "$31$"},
         {"nYZI84", "nYZI8!"},
         {"$04$nYZI", "$04$$nYZI"},
         {"cquTi5frXu", "cquTi5frXv"}, // unused bits of the hash set
         {"HFzMee", "HFzMef"},         // unused bits of the salt set
         {"cquTi5frXu", "cquTi5frXuA"}}) {
    auto bad = with(bcrypt_2b, from, to);
    INFO(bad);
    CHECK_THAT(verdict(bad), Catch::StartsWith("bcrypt:"));
  }
  CHECK(verdict(with(bcrypt_2b, "$04$", "$18$")) == "ok");
  CHECK(verdict(with(bcrypt_2b, "$04$", "$19$"))
        == "bcrypt: the cost must be 4 to 18");
}

TEST_CASE("malformed sha-crypt strings are refused", "[hash_format]") {
  for (auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
         {"rounds=1000", "rounds=999"},
         {"rounds=1000", "rounds=01000"},
         {"rounds=1000", "rounds=20000001"},
         {"rounds=1000", "rounds="},
         {"rounds=1000", "rounds=1e3"},
         {"6ToDDfvaJNfHQf50", "6ToDDfvaJNfHQf50x"}, // a 17-character salt
         {"6ToDDfvaJNfHQf50", ""},
         {"6ToDDfvaJNfHQf50", "6ToDDfva:NfHQf50"},
         {"FLfaZ0", "FLfaZ4"}, // unused bits of the hash set
         {"FLfaZ0", "FLfaZ0."},
         {"FLfaZ0", "FLfa!0"}}) {
    auto bad = with(sha512_rounds, from, to);
    INFO(bad);
    CHECK_THAT(verdict(bad), Catch::StartsWith("sha512_crypt:"));
  }
  CHECK(verdict(with(sha512_rounds, "rounds=1000", "rounds=20000000")) == "ok");
  CHECK(verdict(with(sha256_plain, "ii0", "iiG"))
        == "sha256_crypt: the hash has unused bits set");
  CHECK(verdict(with(sha256_plain, "$5$", "$5$rounds=5000$")) == "ok");
  // A sha512 hash's length under the sha256 prefix, and the other way.
  CHECK(verdict(with(sha512_rounds, "$6$", "$5$")) != "ok");
  CHECK(verdict(with(sha256_plain, "$5$", "$6$")) != "ok");
}

TEST_CASE("only argon2id with the node's exact parameters is current",
          "[hash_format]") {
  // The node's own hash with --hash-ops=1 --hash-mem=65536 would read so.
  CHECK(is_current_hash(argon2id_p1, 1, 64 * 1024));
  CHECK_FALSE(is_current_hash(argon2id_p1, 2, 64 * 1024));
  CHECK_FALSE(is_current_hash(argon2id_p1, 1, 128 * 1024));
  CHECK_FALSE(is_current_hash(with(argon2id_p1, "p=1", "p=2"), 1, 64 * 1024));
  for (auto& h : passlib_hashes)
    if (h.scheme != "argon2id") {
      INFO(h.label);
      CHECK_FALSE(is_current_hash(h.hash, 1, 64 * 1024));
    }
  CHECK_FALSE(is_current_hash("$argon2id$garbage", 1, 64 * 1024));
  CHECK_FALSE(is_current_hash("", 1, 64 * 1024));
}
