#include "core/breached_builder.hpp"

#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "core/breached_index.hpp"
#include "core/breached_runs.hpp"

namespace authnode {

namespace {

constexpr size_t read_buffer_bytes = 1 << 20;
/// Lines between two progress calls.
constexpr uint64_t progress_every = 1 << 16;
/// A count longer than this is clamped without being read further.
constexpr size_t max_count_digits = 19;

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

/// The corpus line by line from a large buffer: std::getline would copy
/// every line of a billion.
class line_reader {
public:
  explicit line_reader(std::istream& in)
    : in_(in), buffer_(read_buffer_bytes) {}

  /// The next line without its '\n'; false at the end. A line longer than
  /// the buffer comes back cut (and then fails to parse).
  bool next(std::string_view& line) {
    for (;;) {
      auto* begin = buffer_.data() + pos_;
      auto* nl = static_cast<char*>(std::memchr(begin, '\n', end_ - pos_));
      if (nl != nullptr || eof_ || (pos_ == 0 && end_ == buffer_.size())) {
        if (nl == nullptr && pos_ == end_)
          return false;
        size_t len = nl != nullptr ? static_cast<size_t>(nl - begin)
                                   : end_ - pos_;
        line = {begin, len};
        pos_ += nl != nullptr ? len + 1 : len;
        bytes_ += nl != nullptr ? len + 1 : len;
        return true;
      }
      refill();
    }
  }

  uint64_t bytes() const {
    return bytes_;
  }
  bool failed() const {
    return in_.bad();
  }

private:
  void refill() {
    std::memmove(buffer_.data(), buffer_.data() + pos_, end_ - pos_);
    end_ -= pos_;
    pos_ = 0;
    in_.read(buffer_.data() + end_,
             static_cast<std::streamsize>(buffer_.size() - end_));
    auto got = static_cast<size_t>(in_.gcount());
    end_ += got;
    if (!in_)
      eof_ = true;
  }

  std::istream& in_;
  std::vector<char> buffer_;
  size_t pos_ = 0, end_ = 0;
  bool eof_ = false;
  uint64_t bytes_ = 0;
};

/// One build: the corpus read line by line into the index at OUT.tmp.
class build {
public:
  build(std::istream& corpus, const std::string& out,
        const breached_build_options& opts)
    : reader_(corpus), out_(out), opts_(opts), index_(out + ".tmp", true) {
    if (opts.sort)
      sorter_ = std::make_unique<external_sort>(
        out + ".sort", opts.sort_memory_bytes, opts.interrupted);
  }

  breached_build_result run() {
    if (!index_.ok())
      return fail(0, index_.error());
    std::string_view line;
    while (reader_.next(line)) {
      ++result_.lines;
      if (!take(line))
        return std::move(result_);
      if (result_.lines % progress_every != 0)
        continue;
      if (opts_.progress)
        opts_.progress(reader_.bytes());
      if (opts_.interrupted && opts_.interrupted())
        return fail(0, "interrupted");
    }
    if (reader_.failed())
      return fail(0, "cannot read the corpus");
    if (opts_.progress)
      opts_.progress(reader_.bytes());
    if (sorter_) {
      if (sorter_->runs_written() > 0 && opts_.merging)
        opts_.merging();
      bool merged = sorter_->finish_into(index_);
      result_.runs = sorter_->runs_written();
      if (!merged)
        return fail(
          0, sorter_->error().empty() ? index_.error() : sorter_->error());
    }
    if (!index_.commit(out_))
      return fail(0, index_.error());
    result_.entries = index_.entries();
    result_.file_bytes = breached_header_bytes
      + result_.entries * breached_entry_bytes;
    return std::move(result_);
  }

private:
  bool take(std::string_view line) {
    if (line.empty() || line == "\r")
      return true;
    sha1_digest hash;
    uint32_t count = 0;
    if (auto problem = parse_corpus_line(line, hash.data(), count)) {
      fail(result_.lines, problem);
      return false;
    }
    auto prefix = breached_prefix(hash.data());
    if (sorter_) {
      if (sorter_->add(prefix, count))
        return true;
      fail(0, sorter_->error());
      return false;
    }
    if (have_last_) {
      auto order = std::memcmp(hash.data(), last_.data(), last_.size());
      if (order <= 0) {
        fail(result_.lines,
             order == 0 ? "repeats the hash before it (the corpus lists "
                          "each hash once)"
                        : "is out of order: its hash is below the one "
                          "before it (use --sort for an unordered corpus)");
        return false;
      }
    }
    last_ = hash;
    have_last_ = true;
    index_.add(prefix, count);
    return true;
  }

  breached_build_result fail(uint64_t line, const std::string& error) {
    result_.error_line = line;
    result_.error = error;
    return result_;
  }

  line_reader reader_;
  const std::string& out_;
  const breached_build_options& opts_;
  entry_file index_;
  std::unique_ptr<external_sort> sorter_;
  sha1_digest last_{};
  bool have_last_ = false;
  breached_build_result result_;
};

} // namespace

const char* parse_corpus_line(std::string_view line, unsigned char* sha1,
                              uint32_t& count) {
  if (!line.empty() && line.back() == '\r')
    line.remove_suffix(1);
  if (line.size() < 42)
    return "is malformed: not <40 hex digits>:<count>";
  for (size_t i = 0; i < 20; ++i) {
    int high = hex_value(line[2 * i]), low = hex_value(line[2 * i + 1]);
    if (high < 0 || low < 0)
      return "is malformed: the hash is not 40 hex digits";
    sha1[i] = static_cast<unsigned char>(high << 4 | low);
  }
  if (line[40] != ':')
    return "is malformed: no ':' after the 40 hex digits of the hash";
  auto digits = line.substr(41);
  uint64_t value = 0;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (digits[i] < '0' || digits[i] > '9')
      return "is malformed: the count is not a decimal number";
    if (i < max_count_digits)
      value = value * 10 + static_cast<uint64_t>(digits[i] - '0');
    else
      value = UINT64_MAX;
  }
  count = value > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(value);
  return nullptr;
}

breached_build_result build_breached_index(std::istream& corpus,
                                           const std::string& out,
                                           const breached_build_options& opts) {
  return build{corpus, out, opts}.run();
}

} // namespace authnode
