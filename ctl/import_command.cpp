#include <algorithm>
#include <deque>
#include <iostream>

#include <unistd.h>

#include "ctl/commands.hpp"
#include "ctl/progress.hpp"

namespace authnode::ctl {

namespace {

using nlohmann::json;

/// Batches sent and not answered yet: the node works on one while the next
/// is on its way, and max-in-flight (8 by default) is never reached.
constexpr size_t batches_in_flight = 2;

struct sent_batch {
  int64_t id = 0;
  /// The file line of each user in the batch, by index.
  std::vector<size_t> lines;
};

struct tally {
  int64_t imported = 0, updated = 0, skipped = 0;
  json rejected = json::array();
  size_t rows_done = 0;
};

class importer {
public:
  importer(const ctl_options& opts, const import_args& args, node_link& link,
           bool bar_drawn)
    : opts_(opts), args_(args), link_(link), bar_drawn_(bar_drawn) {}

  void add(const import_row& r) {
    json user{{"email", r.email}, {"name", r.name}, {"hash", r.hash}};
    if (r.created_at)
      user["created_at"] = *r.created_at;
    auto size = user.dump().size() + 1;
    if (!batch_.empty()
        && (batch_.size() >= args_.batch_size
            || batch_bytes_ + size > args_.batch_bytes))
      flush();
    batch_bytes_ += size;
    batch_.push_back(std::move(user));
    lines_.push_back(r.line);
  }

  void reject_locally(const import_problem& p) {
    note_rejected(p.line, "unreadable", p.reason);
    ++done_.rows_done;
  }

  /// Sends what is left and waits for every answer. false: the node refused
  /// a whole batch (the reply is in failure()).
  bool finish() {
    flush();
    while (!in_flight_.empty() && failure_.is_null())
      take_reply();
    return failure_.is_null();
  }

  bool failed() const {
    return !failure_.is_null();
  }
  const json& failure() const {
    return failure_;
  }
  const tally& done() const {
    return done_;
  }

private:
  void flush() {
    if (batch_.empty() || failed())
      return;
    while (in_flight_.size() >= batches_in_flight && !failed())
      take_reply();
    if (failed())
      return;
    json request{{"op", "user_import"}, {"users", std::move(batch_)}};
    if (args_.update)
      request["update"] = true;
    in_flight_.push_back({link_.send(std::move(request)), std::move(lines_)});
    batch_ = json::array();
    batch_bytes_ = 0;
    lines_.clear();
  }

  void take_reply() {
    auto batch = std::move(in_flight_.front());
    in_flight_.pop_front();
    auto reply = link_.read_reply(batch.id);
    if (!succeeded(reply)) {
      failure_ = reply;
      return;
    }
    done_.imported += reply.value("imported", int64_t{0});
    done_.updated += reply.value("updated", int64_t{0});
    done_.skipped += reply.value("skipped", int64_t{0});
    for (auto& r : reply.value("rejected", json::array())) {
      auto index = r.value("index", size_t{0});
      auto line = index < batch.lines.size() ? batch.lines[index] : 0;
      note_rejected(line, r.value("code", "?"), r.value("message", ""));
    }
    done_.rows_done += batch.lines.size();
  }

  void note_rejected(size_t line, const std::string& code,
                     const std::string& message) {
    // Over the progress bar, which is drawn again below it.
    if (bar_drawn_)
      std::cerr << "\r\x1b[K";
    if (!opts_.json)
      std::cerr << args_.path << ":" << line << ": " << code
                << (message.empty() ? "" : ": " + message) << '\n';
    done_.rejected.push_back(
      {{"line", line}, {"code", code}, {"message", message}});
  }

  const ctl_options& opts_;
  const import_args& args_;
  node_link& link_;
  bool bar_drawn_;
  json batch_ = json::array();
  size_t batch_bytes_ = 0;
  std::vector<size_t> lines_;
  std::deque<sent_batch> in_flight_;
  json failure_;
  tally done_;
};

} // namespace

int cmd_import(const ctl_options& opts, const import_args& args) {
  auto format = args.format ? args.format : format_from_path(args.path);
  if (!format) {
    std::cerr << "authctl: " << args.path
              << ": say --format=csv or --format=jsonl (the name does not "
                 "end in .csv or .jsonl)\n";
    return exit_usage;
  }
  std::string error;
  import_reader reader{args.path, *format, error};
  if (!reader.ok()) {
    std::cerr << "authctl: " << error << '\n';
    return exit_usage;
  }
  auto lines = count_lines(args.path);
  auto total = *format == import_format::csv && lines > 0 ? lines - 1 : lines;
  bool show_progress = args.progress < 0 ? isatty(STDERR_FILENO) == 1
                                         : args.progress > 0;
  auto link = admin_link(opts, std::chrono::minutes(1));
  auto start = std::chrono::steady_clock::now();
  bool draw = show_progress && !opts.json;
  progress_bar bar{total, draw};
  importer run{opts, args, *link, draw};
  while (auto item = reader.next()) {
    if (auto row = std::get_if<import_row>(&*item))
      run.add(*row);
    else
      run.reject_locally(std::get<import_problem>(*item));
    if (run.failed())
      break;
    bar.update(run.done().rows_done);
  }
  bool whole = run.finish();
  bar.finish(run.done().rows_done);
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  if (!whole) {
    std::cerr << "authctl: the node refused a batch; stopped after "
              << run.done().rows_done << " rows (batches before it are "
              << "imported; run the import again to go on: existing emails "
              << "are skipped)\n";
    return report_failure(opts, run.failure());
  }
  auto t = run.done();
  // Rows the file got wrong are found before the node's verdicts on the
  // rows around them: report all in file order.
  std::stable_sort(t.rejected.begin(), t.rejected.end(),
                   [](const json& a, const json& b) {
                     return a["line"].get<size_t>() < b["line"].get<size_t>();
                   });
  if (opts.json) {
    print_json({{"imported", t.imported},
                {"updated", t.updated},
                {"skipped", t.skipped},
                {"rejected", t.rejected},
                {"seconds", took.count()}});
  } else {
    std::cout << "imported " << t.imported << ", updated " << t.updated
              << ", skipped " << t.skipped << " (already there), rejected "
              << t.rejected.size() << ", in " << took.count() << " s ("
              << static_cast<int64_t>(t.rows_done
                                      / std::max(took.count(), 1e-3))
              << " rows/s)\n";
  }
  return t.rejected.empty() ? exit_ok : exit_partial;
}

} // namespace authnode::ctl
