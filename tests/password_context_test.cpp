#include <catch2/catch.hpp>

#include "core/account_rules.hpp"
#include "core/error_code.hpp"
#include "core/password_context.hpp"

using namespace authnode;

namespace {

bool refused(const char* password, const char* email, const char* name,
             std::vector<std::string> site = {}) {
  return made_of_context(password, context_words(email, name, site));
}

} // namespace

TEST_CASE("context words: the email's local part, its parts, the name's "
          "words and the site's, lowercased, 3 letters or more") {
  auto words = context_words("ann.lee-x+tag@example.org", "Ann  O'Brien",
                             {"Example", "ab"});
  CHECK(words
        == std::vector<std::string>{"annleextag", "ann", "lee", "tag",
                                    "annobrien", "obrien", "example"});
}

TEST_CASE("a password made of context words plus digits and punctuation is "
          "refused, case-insensitively") {
  CHECK(refused("Ann1990!", "ann@example.org", ""));
  CHECK(refused("ANN.LEE 2024", "ann.lee@example.org", ""));
  CHECK(refused("!!example2024", "x@y.org", "", {"example"}));
  CHECK(refused("annexample", "ann@y.org", "", {"example"}));
  CHECK(refused("Example-Ann-1", "z@y.org", "Ann Smith", {"example"}));
  CHECK(refused("smith-smith!", "z@y.org", "Ann Smith"));
}

TEST_CASE("a password with anything besides context words is not refused") {
  CHECK_FALSE(refused("Ann1990!x", "ann@example.org", ""));
  CHECK_FALSE(refused("correct horse", "ann@example.org", "Ann"));
  CHECK_FALSE(refused("12345678", "ann@example.org", "Ann"));
  CHECK_FALSE(refused("jo123456", "jo@example.org", "Jo"));
  CHECK_FALSE(refused("example1", "ann@y.org", ""));
}

TEST_CASE("check_new_account refuses a context password with "
          "breached_password and says why, without the password") {
  std::string email = "Ann.Lee@Example.org";
  std::string name = "Ann Lee";
  secret password{"AnnLee2024!"};
  auto err = check_new_account(email, name, password, 8, {});
  REQUIRE(err);
  auto wire = to_wire(err);
  CHECK(wire.code == ec::breached_password);
  CHECK(wire.message.find("your name") != std::string::npos);
  CHECK(wire.message.find("AnnLee") == std::string::npos);
  email = "ann@example.org";
  CHECK_FALSE(check_new_account(email, name, secret{"a fresh one 9"}, 8, {}));
}

TEST_CASE("the list of --password-context-words splits on commas and trims") {
  CHECK(split_word_list(" acme, Acme Corp ,,x") 
        == std::vector<std::string>{"acme", "Acme Corp", "x"});
  CHECK(split_word_list("").empty());
}
