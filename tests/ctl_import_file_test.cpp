// authctl's reading of import files and its progress line, unit by unit.
#include <catch2/catch.hpp>

#include <fstream>

#include "ctl/import_file.hpp"
#include "ctl/progress.hpp"
#include "support/temp_dir.hpp"

using namespace authnode::ctl;
using authnode::test::temp_dir;

namespace {

std::string write_file(const temp_dir& dir, const std::string& name,
                       const std::string& text) {
  auto path = dir.path() + "/" + name;
  std::ofstream{path, std::ios::binary} << text;
  return path;
}

std::vector<import_item> read_all(const std::string& path, import_format f) {
  std::string error;
  import_reader reader{path, f, error};
  REQUIRE(reader.ok());
  std::vector<import_item> items;
  for (int i = 0; i < 1000; ++i) {
    auto item = reader.next();
    if (!item)
      break;
    items.push_back(*item);
  }
  return items;
}

const import_row& row_of(const import_item& item) {
  REQUIRE(std::holds_alternative<import_row>(item));
  return std::get<import_row>(item);
}

const import_problem& problem_of(const import_item& item) {
  REQUIRE(std::holds_alternative<import_problem>(item));
  return std::get<import_problem>(item);
}

} // namespace

TEST_CASE("a CSV import file is read by its header with quoted fields") {
  temp_dir dir;
  auto path = write_file(
    dir, "users.csv",
    "\xEF\xBB\xBFhash,Email,name,created_at,extra\r\n"
    "$2b$04$abc,ann@example.org,Ann,1700000000,x\r\n"
    "\n"
    "$6$salt$h,bob@example.org,\"Smith, Bob \"\"B\"\"\",,y\n"
    "$5$s$h,\"multi@example.org\",\"two\nlines\",2024-03-01T12:00:00Z,z\n"
    "$5$s$h,short@example.org\n"
    "$5$s$h,t@example.org,T,yesterday,w\n");
  auto items = read_all(path, import_format::csv);
  REQUIRE(items.size() == 5);
  auto& ann = row_of(items[0]);
  CHECK(ann.line == 2);
  CHECK(ann.email == "ann@example.org");
  CHECK(ann.name == "Ann");
  CHECK(ann.hash == "$2b$04$abc");
  CHECK(ann.created_at == 1700000000);
  auto& bob = row_of(items[1]);
  CHECK(bob.line == 4);
  CHECK(bob.name == "Smith, Bob \"B\"");
  CHECK_FALSE(bob.created_at.has_value());
  auto& multi = row_of(items[2]);
  CHECK(multi.line == 5);
  CHECK(multi.name == "two\nlines");
  CHECK(multi.created_at == 1709294400);
  CHECK(problem_of(items[3]).line == 7);
  CHECK(problem_of(items[4]).line == 8);
  CHECK(problem_of(items[4]).reason.find("created_at") != std::string::npos);
}

TEST_CASE("a CSV file without the needed columns is refused whole") {
  temp_dir dir;
  std::string error;
  import_reader no_hash{write_file(dir, "a.csv", "email,name\nx@y.z,X\n"),
                        import_format::csv, error};
  CHECK_FALSE(no_hash.ok());
  CHECK(error.find("email, name and hash") != std::string::npos);
  import_reader empty{write_file(dir, "b.csv", ""), import_format::csv, error};
  CHECK_FALSE(empty.ok());
  import_reader missing{dir.path() + "/none.csv", import_format::csv, error};
  CHECK_FALSE(missing.ok());
}

TEST_CASE("a JSON Lines import file gives each bad line its number") {
  temp_dir dir;
  auto path = write_file(
    dir, "users.jsonl",
    "{\"email\":\"a@example.org\",\"name\":\"A\",\"hash\":\"$6$x$y\"}\n"
    "not json\n"
    "{\"email\":\"b@example.org\",\"name\":\"B\"}\n"
    "\n"
    "{\"email\":\"c@example.org\",\"name\":\"C\",\"hash\":\"h\","
    "\"created_at\":\"2024-03-01 14:00:00+02:00\"}\n");
  auto items = read_all(path, import_format::jsonl);
  REQUIRE(items.size() == 4);
  CHECK(row_of(items[0]).email == "a@example.org");
  CHECK(problem_of(items[1]).line == 2);
  CHECK(problem_of(items[2]).line == 3);
  CHECK(problem_of(items[2]).reason.find("hash") != std::string::npos);
  CHECK(row_of(items[3]).line == 5);
  CHECK(row_of(items[3]).created_at == 1709294400);
}

TEST_CASE("created_at is unix seconds or an ISO 8601 time") {
  CHECK(parse_created_at("0") == 0);
  CHECK(parse_created_at(" 1700000000 ") == 1700000000);
  CHECK(parse_created_at("2024-03-01T12:00:00Z") == 1709294400);
  CHECK(parse_created_at("2024-03-01 12:00:00.123456") == 1709294400);
  CHECK(parse_created_at("2024-03-01T13:30:00+01:30") == 1709294400);
  CHECK(parse_created_at("2024-03-01T10:00:00-02:00") == 1709294400);
  CHECK_FALSE(parse_created_at("2024-13-01T12:00:00Z").has_value());
  CHECK_FALSE(parse_created_at("2024-03-01").has_value());
  CHECK_FALSE(parse_created_at("2024-03-01T12:00:00 UTC").has_value());
  CHECK_FALSE(parse_created_at("-5").has_value());
  CHECK_FALSE(parse_created_at("").has_value());
}

TEST_CASE("the import format comes from the file name") {
  CHECK(format_from_path("x/users.CSV") == import_format::csv);
  CHECK(format_from_path("users.jsonl") == import_format::jsonl);
  CHECK(format_from_path("users.ndjson") == import_format::jsonl);
  CHECK_FALSE(format_from_path("users.txt").has_value());
}

TEST_CASE("the progress line shows count percent rate and time left") {
  CHECK(progress_line(0, 100, 0, 10) == "[----------]  0/100  0%");
  CHECK(progress_line(50, 100, 2.0, 10)
        == "[#####-----]  50/100  50%  25/s  ETA 2s");
  CHECK(progress_line(45000, 100000, 4.5, 10)
        == "[####------]  45000/100000  45%  10000/s  ETA 6s");
  CHECK(progress_line(100, 100, 4.0, 10)
        == "[##########]  100/100  100%  25/s  in 4s");
  // More done than the estimate (rows spanning lines): never past 100%.
  CHECK(progress_line(12, 10, 1.0, 10)
        == "[##########]  12/12  100%  12/s  in 1s");
}
