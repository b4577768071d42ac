// The breached-password index as an operator and the node see it: built
// from corpora the tests make (SHA-1 of their own words, with counts, in
// HIBP's text format), looked up by password, refused when the file is not
// a whole index, and corpus mistakes reported by line number with nothing
// left at OUT. The million-line case prints its build and lookup rates (a
// measurement, not an assertion: the machine is shared).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

#include <unistd.h>

#include "core/breached_builder.hpp"
#include "core/breached_index.hpp"
#include "support/breached_corpus.hpp"
#include "support/program.hpp"
#include "support/temp_dir.hpp"

using namespace authnode;
using namespace authnode::test;

namespace {

std::string join(const std::vector<std::string>& lines,
                 const char* end = "\n") {
  std::string text;
  for (auto& l : lines)
    text += l + end;
  return text;
}

breached_build_result build(const std::string& text, const std::string& out,
                            breached_build_options opts = {}) {
  std::istringstream in{text};
  return build_breached_index(in, out, opts);
}

breached_index open_ok(const std::string& path) {
  std::string error;
  auto index = breached_index::open(path, error);
  INFO(error);
  REQUIRE(index);
  return std::move(*index);
}

std::string open_error(const std::string& path) {
  std::string error;
  REQUIRE_FALSE(breached_index::open(path, error));
  return error;
}

bool exists(const std::string& path) {
  return ::access(path.c_str(), F_OK) == 0;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  return {std::istreambuf_iterator<char>(in), {}};
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// A failed build: its line and message, and nothing at OUT or OUT.tmp.
void require_refused(const std::string& text, uint64_t line,
                     const std::string& says) {
  temp_dir dir;
  auto out = dir.file("index");
  auto r = build(text, out);
  INFO(r.error);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error_line == line);
  CHECK(contains(r.error, says));
  CHECK_FALSE(exists(out));
  CHECK_FALSE(exists(out + ".tmp"));
}

/// The million-word index, built once for the cases that need it.
struct million_index {
  static constexpr size_t words = 1'000'000;
  temp_dir dir;
  std::string path = dir.file("million.idx");
  double build_seconds = 0;

  million_index() {
    auto text = join(corpus_lines(words));
    auto start = std::chrono::steady_clock::now();
    auto r = build(text, path);
    std::chrono::duration<double> took = std::chrono::steady_clock::now()
      - start;
    build_seconds = took.count();
    REQUIRE(r.ok());
    REQUIRE(r.entries == words);
  }
};

const million_index& million() {
  static million_index index;
  return index;
}

} // namespace

TEST_CASE("a sorted corpus gives an index that knows each word and its "
          "count",
          "[breached]") {
  temp_dir dir;
  auto out = dir.file("index");
  auto r = build(join(corpus_lines(1000)), out);
  REQUIRE(r.ok());
  CHECK(r.lines == 1000);
  CHECK(r.entries == 1000);
  CHECK(r.file_bytes == 64 + 1000 * 12);
  CHECK_FALSE(exists(out + ".tmp"));
  auto index = open_ok(out);
  CHECK(index.entries() == 1000);
  CHECK(index.file_bytes() == r.file_bytes);
  CHECK(index.max_count() == 1000);
  for (size_t i = 0; i < 1000; ++i) {
    auto n = index.count(sha1_of(corpus_word(i)).data());
    REQUIRE(n);
    CHECK(*n == corpus_count(i));
    CHECK(index.breached(corpus_word(i), 1));
  }
  for (size_t i = 1000; i < 2000; ++i)
    CHECK_FALSE(index.breached(corpus_word(i), 1));
  CHECK_FALSE(index.breached("", 1));
}

TEST_CASE("lowercase hex and CRLF line ends build the same index",
          "[breached]") {
  temp_dir dir;
  auto lines = corpus_lines(500);
  REQUIRE(build(join(lines), dir.file("upper")).ok());
  for (auto& l : lines)
    std::transform(l.begin(), l.end(), l.begin(), [](unsigned char c) {
      return std::tolower(c);
    });
  REQUIRE(build(join(lines, "\r\n"), dir.file("lower")).ok());
  CHECK(read_bytes(dir.file("upper")) == read_bytes(dir.file("lower")));
}

TEST_CASE("breached takes a password only when seen min-count times",
          "[breached]") {
  temp_dir dir;
  REQUIRE(build(join(corpus_lines(300)), dir.file("index")).ok());
  auto index = open_ok(dir.file("index"));
  for (size_t i = 0; i < 300; ++i) {
    CHECK(index.breached(corpus_word(i), corpus_count(i)));
    CHECK_FALSE(index.breached(corpus_word(i), corpus_count(i) + 1));
  }
}

TEST_CASE("a million-line corpus: every 1000th word is found with its count",
          "[breached]") {
  auto& m = million();
  auto index = open_ok(m.path);
  CHECK(index.entries() == million_index::words);
  CHECK(index.file_bytes() == 64 + 12 * million_index::words);
  size_t found = 0;
  auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < million_index::words; i += 1000) {
    auto n = index.count(sha1_of(corpus_word(i)).data());
    REQUIRE(n);
    CHECK(*n == corpus_count(i));
    ++found;
  }
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  CHECK(found == 1000);
  std::cout << "breached index: 1,000,000 lines built in " << m.build_seconds
            << " s; 1000 lookups (with SHA-1) in " << took.count() * 1e3
            << " ms\n";
}

TEST_CASE("false positives: none of 100,000 random passwords is found in a "
          "million entries",
          "[breached]") {
  // 64-bit prefixes: each absent password matches one of n entries with
  // probability n / 2^64, about 5e-14 here; 1e5 of them expect 5e-9 hits.
  auto index = open_ok(million().path);
  std::mt19937_64 rng{800'63};
  const std::string alphabet
    = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#%&*";
  size_t hits = 0;
  for (int i = 0; i < 100'000; ++i) {
    std::string password(16, ' ');
    for (auto& c : password)
      c = alphabet[rng() % alphabet.size()];
    hits += index.breached(password, 1) ? 1 : 0;
  }
  CHECK(hits == 0);
}

TEST_CASE("a missing, truncated or foreign index is refused, naming the file",
          "[breached]") {
  temp_dir dir;
  auto good = dir.file("good");
  REQUIRE(build(join(corpus_lines(100)), good).ok());
  auto bytes = read_bytes(good);

  auto missing = dir.file("missing");
  auto e = open_error(missing);
  CHECK(contains(e, missing));
  CHECK(contains(e, "No such file"));

  auto cut = dir.file("cut");
  std::ofstream{cut, std::ios::binary} << bytes.substr(0, bytes.size() - 5);
  e = open_error(cut);
  CHECK(contains(e, cut));
  CHECK(contains(e, "truncated"));

  auto header_only = dir.file("short");
  std::ofstream{header_only, std::ios::binary} << bytes.substr(0, 20);
  e = open_error(header_only);
  CHECK(contains(e, header_only));
  CHECK(contains(e, "truncated"));

  auto foreign = dir.file("foreign");
  std::ofstream{foreign, std::ios::binary} << join(corpus_lines(100));
  e = open_error(foreign);
  CHECK(contains(e, foreign));
  CHECK(contains(e, "not a breached-password index"));

  auto newer = dir.file("newer");
  auto changed = bytes;
  changed[8] = 2;
  std::ofstream{newer, std::ios::binary} << changed;
  e = open_error(newer);
  CHECK(contains(e, newer));
  CHECK(contains(e, "format version 2"));

  auto longer = dir.file("longer");
  std::ofstream{longer, std::ios::binary} << bytes << "extra";
  e = open_error(longer);
  CHECK(contains(e, longer));
  CHECK(contains(e, "more than its header"));
}

TEST_CASE("an index of no entries opens and finds nothing", "[breached]") {
  temp_dir dir;
  REQUIRE(build("", dir.file("empty")).ok());
  auto index = open_ok(dir.file("empty"));
  CHECK(index.entries() == 0);
  CHECK_FALSE(index.breached("password", 1));
}

TEST_CASE("a moved index still answers, and the moved-from one is empty",
          "[breached]") {
  temp_dir dir;
  REQUIRE(build(join(corpus_lines(50)), dir.file("index")).ok());
  auto a = open_ok(dir.file("index"));
  breached_index b = std::move(a);
  CHECK(b.breached(corpus_word(7), 1));
  CHECK(a.entries() == 0);
  CHECK_FALSE(a.breached(corpus_word(7), 1));
}

TEST_CASE("a line out of order is reported by number and no index is left",
          "[breached]") {
  auto lines = corpus_lines(20);
  std::swap(lines[9], lines[10]);
  // Line 10 now holds the 11th hash, so line 11 is the first below its
  // predecessor.
  require_refused(join(lines), 11, "out of order");
}

TEST_CASE("a hash repeated on the next line is refused in a sorted corpus",
          "[breached]") {
  auto lines = corpus_lines(20);
  lines.insert(lines.begin() + 5, lines[4]);
  require_refused(join(lines), 6, "repeats the hash");
}

TEST_CASE("malformed lines are reported by number and no index is left",
          "[breached]") {
  auto lines = corpus_lines(10);
  auto with_line_4 = [&](const std::string& bad) {
    auto copy = lines;
    copy[3] = bad;
    return join(copy);
  };
  auto hash = lines[3].substr(0, 40);
  require_refused(with_line_4(hash.substr(1) + "Z:5"), 4, "not 40 hex digits");
  require_refused(with_line_4(hash + "5"), 4, "malformed");
  require_refused(with_line_4(hash + ";5"), 4, "no ':'");
  require_refused(with_line_4(hash + ":"), 4, "malformed");
  require_refused(with_line_4(hash + ":12a"), 4, "count is not a decimal");
  require_refused(with_line_4(hash + ": 12"), 4, "count is not a decimal");
  require_refused(with_line_4(" "), 4, "malformed");
}

TEST_CASE("blank lines are skipped but counted for the line numbers",
          "[breached]") {
  temp_dir dir;
  auto lines = corpus_lines(10);
  REQUIRE(build(join(lines), dir.file("plain")).ok());
  auto with_blanks = lines;
  with_blanks.insert(with_blanks.begin() + 3, "");
  with_blanks.insert(with_blanks.begin() + 6, "\r");
  with_blanks.push_back("");
  auto r = build(join(with_blanks), dir.file("blanks"));
  REQUIRE(r.ok());
  CHECK(r.entries == 10);
  CHECK(read_bytes(dir.file("plain")) == read_bytes(dir.file("blanks")));

  // Lines 8 and 9 of the file (after two blanks) hold the 6th and 7th
  // hashes; swapped, line 9 is out of order.
  std::swap(with_blanks[7], with_blanks[8]);
  require_refused(join(with_blanks), 9, "out of order");
}

TEST_CASE("a count past 2^32 - 1 is clamped, not refused", "[breached]") {
  temp_dir dir;
  auto digest = sha1_of("clamped");
  REQUIRE(
    build(sha1_hex(digest) + ":123456789012345678901234\n", dir.file("i")).ok());
  auto n = open_ok(dir.file("i")).count(digest.data());
  REQUIRE(n);
  CHECK(*n == UINT32_MAX);
}

TEST_CASE("a build with --sort and memory for a few entries merges runs "
          "into the same bytes as the sorted build",
          "[breached]") {
  temp_dir dir;
  REQUIRE(build(join(corpus_lines(10'000)), dir.file("sorted")).ok());
  auto shuffled = join(corpus_lines(10'000, true));
  REQUIRE_FALSE(build(shuffled, dir.file("refused")).ok());

  breached_build_options opts;
  opts.sort = true;
  opts.sort_memory_bytes = 3000 * 12; // 4 runs
  auto r = build(shuffled, dir.file("few_runs"), opts);
  REQUIRE(r.ok());
  CHECK(r.runs >= 3);
  CHECK(read_bytes(dir.file("few_runs")) == read_bytes(dir.file("sorted")));

  // 16 entries a run: 625 runs, merged 64 at a time before the last merge.
  opts.sort_memory_bytes = 16 * 12;
  r = build(shuffled, dir.file("many_runs"), opts);
  REQUIRE(r.ok());
  CHECK(r.runs > 625);
  CHECK(read_bytes(dir.file("many_runs")) == read_bytes(dir.file("sorted")));

  // Everything in memory: no run at all.
  opts.sort_memory_bytes = size_t{1} << 20;
  r = build(shuffled, dir.file("in_memory"), opts);
  REQUIRE(r.ok());
  CHECK(r.runs == 0);
  CHECK(read_bytes(dir.file("in_memory")) == read_bytes(dir.file("sorted")));

  // No run file is left next to the index.
  for (auto& name : {"few_runs", "many_runs", "in_memory"})
    CHECK_FALSE(exists(dir.file(name) + ".sort-0.tmp"));
}

TEST_CASE("a build with --sort merges a repeated hash into one entry with "
          "the counts summed",
          "[breached]") {
  temp_dir dir;
  auto a = sha1_hex(sha1_of("repeated"));
  auto b = sha1_hex(sha1_of("once"));
  breached_build_options opts;
  opts.sort = true;
  opts.sort_memory_bytes = 16 * 12;
  auto r = build(a + ":3\n" + b + ":1\n" + a + ":4\n", dir.file("i"), opts);
  REQUIRE(r.ok());
  CHECK(r.lines == 3);
  CHECK(r.entries == 2);
  auto index = open_ok(dir.file("i"));
  CHECK(index.count(sha1_of("repeated").data()) == 7u);
  CHECK(index.count(sha1_of("once").data()) == 1u);
}

TEST_CASE("a build with --sort still reports a malformed line by number "
          "and leaves no files",
          "[breached]") {
  temp_dir dir;
  auto lines = corpus_lines(100, true);
  lines[60] = "not a hash";
  breached_build_options opts;
  opts.sort = true;
  opts.sort_memory_bytes = 16 * 12;
  auto r = build(join(lines), dir.file("i"), opts);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error_line == 61);
  CHECK_FALSE(exists(dir.file("i")));
  CHECK_FALSE(exists(dir.file("i.tmp")));
  CHECK_FALSE(exists(dir.file("i.sort-0.tmp")));
}

TEST_CASE("an interrupted build stops and leaves no file, sorted or not",
          "[breached]") {
  // 200,000 lines: the builder asks every 65,536 lines and, with --sort,
  // every 65,536 entries merged.
  auto text = join(corpus_lines(200'000, true));
  auto sorted_text = join(corpus_lines(200'000));
  for (int asks_before_stop : {0, 2, 4}) {
    for (bool sort : {false, true}) {
      temp_dir dir;
      breached_build_options opts;
      opts.sort = sort;
      opts.sort_memory_bytes = 40'000 * 12;
      int asked = 0;
      opts.interrupted = [&] {
        return asked++ >= asks_before_stop;
      };
      auto out = dir.file("index");
      auto r = build(sort ? text : sorted_text, out, opts);
      INFO("sort " << sort << ", stopped at ask " << asks_before_stop);
      if (!sort && asks_before_stop > 2) {
        // Only 3 asks in 200,000 sorted lines: it finished first.
        CHECK(r.ok());
        continue;
      }
      REQUIRE_FALSE(r.ok());
      CHECK(r.error == "interrupted");
      CHECK_FALSE(exists(out));
      CHECK_FALSE(exists(out + ".tmp"));
      for (int run = 0; run < 8; ++run)
        CHECK_FALSE(exists(out + ".sort-" + std::to_string(run) + ".tmp"));
    }
  }
}

TEST_CASE("authctl breached build writes the index and reports a bad line "
          "by number",
          "[breached]") {
  temp_dir dir;
  auto lines = corpus_lines(200);
  auto corpus = dir.file("corpus.txt");
  std::ofstream{corpus, std::ios::binary} << join(lines);
  auto out = dir.file("index");
  authnode::test::program_run run;
  run.args = {"breached", "build", corpus, out};
  auto result = authnode::test::run_program(AUTHCTL_BINARY, run);
  INFO(result.err);
  CHECK(result.status == 0);
  CHECK(contains(result.out, "200 entries, 12 bytes each"));
  CHECK(open_ok(out).breached(corpus_word(42), 1));
  // No terminal here: no bar unless asked for, and then by bytes read.
  CHECK(result.err.empty());
  run.args = {"breached", "build", "--progress", corpus, out};
  result = authnode::test::run_program(AUTHCTL_BINARY, run);
  CHECK(result.status == 0);
  auto size = std::to_string(read_bytes(corpus).size());
  CHECK(contains(result.err, size + "/" + size + "  100%"));
  run.args = {"breached", "build", "--no-progress", corpus, out};
  CHECK(authnode::test::run_program(AUTHCTL_BINARY, run).err.empty());

  lines[2] = lines[2].substr(0, 39) + ":9";
  std::ofstream{corpus, std::ios::binary} << join(lines);
  auto bad_out = dir.file("bad_index");
  run.args = {"breached", "build", corpus, bad_out};
  result = authnode::test::run_program(AUTHCTL_BINARY, run);
  INFO(result.err);
  CHECK(result.status == 2);
  CHECK(contains(result.err, corpus + ":3: line 3 is malformed"));
  CHECK(contains(result.err, "no index written"));
  CHECK_FALSE(exists(bad_out));
  CHECK(result.out.empty());

  run.args = {"breached", "build", dir.file("no_such_corpus"), bad_out};
  result = authnode::test::run_program(AUTHCTL_BINARY, run);
  CHECK(result.status == 2);
}
