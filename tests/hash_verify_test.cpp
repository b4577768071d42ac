// core/hash_verify and the hasher's verify_password against hashes made by
// passlib (support/passlib_hashes): the right password matches, anything
// else does not, and a match of an imported format asks for a rehash.
#include <catch2/catch.hpp>

#include <string>

#include "actors/hasher.hpp"
#include "core/hash_verify.hpp"
#include "core/secrets.hpp"
#include "support/passlib_hashes.hpp"

using namespace authnode;
using namespace authnode::test;

namespace {

bool matches(const std::string& stored, const std::string& password) {
  return hash_matches(stored, secret{password});
}

} // namespace

TEST_CASE("every passlib hash matches its password and nothing else",
          "[hash_verify]") {
  REQUIRE(init_sodium());
  for (auto& h : passlib_hashes) {
    INFO(h.label);
    CHECK(matches(h.hash, passlib_password));
    CHECK_FALSE(matches(h.hash, passlib_password + " "));
    CHECK_FALSE(matches(h.hash, "Correct horse battery"));
    CHECK_FALSE(matches(h.hash, ""));
  }
}

TEST_CASE("non-ASCII passwords are verified byte for byte", "[hash_verify]") {
  REQUIRE(init_sodium());
  const std::string pw = "p\xc3\xa4ssw\xc3\xb6rd \xe2\x9c\x93"; // pässwörd ✓
  for (std::string stored :
       {"$2b$04$jT5hVq78ttB95sgtd1sAMut1Iepu4jMdnwiDVkqB0HFmGgcmUF.5K",
        "$6$rounds=1000$/3wz8lIx7TwcbUxL$SCg.JNB3/"
        "Yxvz7iK/PmEnTVsBbNxvvWQIMpNiJ7CXIOYJFSmMkrsKklzf.nSJyTwVF8PlmdjVgbIvC"
        "GckMeOo0",
        "$argon2id$v=19$m=64,t=1,p=1$V2rtnfN+b21t7d37XytFCA$Im/DfjZ/"
        "APwF5pVmJ9hG2Q"}) {
    INFO(stored);
    CHECK(matches(stored, pw));
    CHECK_FALSE(matches(stored, "p\xc3\xa4ssw\xc3\xb6rd"));
  }
}

TEST_CASE("truncated, altered and overlong stored hashes never match",
          "[hash_verify]") {
  REQUIRE(init_sodium());
  for (auto& h : passlib_hashes) {
    INFO(h.label);
    CHECK_FALSE(matches(h.hash.substr(0, h.hash.size() - 1), passlib_password));
    CHECK_FALSE(matches(h.hash.substr(0, h.hash.size() / 2), passlib_password));
    auto altered = h.hash;
    altered[altered.size() - 3] = altered[altered.size() - 3] == 'A' ? 'B'
                                                                     : 'A';
    CHECK_FALSE(matches(altered, passlib_password));
    // Padded out to 200 characters: refused before libsodium or crypt reads
    // it (libsodium reads a fixed 128-byte buffer).
    auto padded = h.hash + std::string(200 - h.hash.size(), 'A');
    CHECK_FALSE(matches(padded, passlib_password));
  }
  CHECK_FALSE(matches(std::string(200, '$'), passlib_password));
  CHECK_FALSE(matches("", passlib_password));
  CHECK_FALSE(matches("$1$abc$Kb85XxsXB.VXinPhbS4431", "pw"));
  CHECK_FALSE(matches("*0", "pw"));
  CHECK_FALSE(matches(std::string("$2b$04$\0", 8), "pw"));
}

TEST_CASE("crypt formats refuse passwords crypt cannot have hashed",
          "[hash_verify]") {
  REQUIRE(init_sodium());
  const std::string bcrypt_long // bcrypt of 100 times 'x'
    = "$2b$04$Osy8lRO6FZFCyDqMIe0Yc.yg2i5Yfn1UHNAQJOS2V9eEnwcC4hRA6";
  CHECK(matches(bcrypt_long, std::string(100, 'x')));
  // bcrypt reads 72 bytes, here as in the system the hash came from.
  CHECK(matches(bcrypt_long, std::string(72, 'x') + "something else"));
  CHECK_FALSE(matches(bcrypt_long, std::string(71, 'x')));
  for (auto& h : passlib_hashes) {
    if (h.scheme == "argon2id" || h.scheme == "argon2i")
      continue;
    INFO(h.label);
    // crypt reads C strings: a NUL would cut the password short.
    CHECK_FALSE(matches(h.hash, passlib_password + std::string(1, '\0')));
    CHECK_FALSE(matches(h.hash, passlib_password + std::string(1, '\0') + "x"));
    // crypt refuses passphrases of 512 bytes and more.
    CHECK_FALSE(matches(h.hash, std::string(512, 'x')));
    CHECK_FALSE(matches(h.hash, std::string(1024, 'x')));
  }
}

TEST_CASE("a verified imported hash asks for a rehash, the node's own does "
          "not",
          "[hash_verify][hasher]") {
  REQUIRE(init_sodium());
  const hash_params node_params{1, 8192};
  for (auto& h : passlib_hashes) {
    INFO(h.label);
    auto right = verify_password(h.hash, secret{passlib_password}, node_params);
    CHECK(right.match);
    CHECK(right.needs_rehash);
    auto wrong = verify_password(h.hash, secret{"wrong"}, node_params);
    CHECK_FALSE(wrong.match);
    CHECK_FALSE(wrong.needs_rehash);
  }
  auto own = hash_password(passlib_password, node_params);
  REQUIRE(own.rfind("$argon2id$v=19$m=8,t=1,p=1$", 0) == 0);
  auto out = verify_password(own, secret{passlib_password}, node_params);
  CHECK(out.match);
  CHECK_FALSE(out.needs_rehash);
  // The same hash under a node that now hashes at a higher cost.
  CHECK(verify_password(own, secret{passlib_password}, {2, 8192}).needs_rehash);
}
