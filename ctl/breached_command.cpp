// authctl breached build: the breached-password index from a Pwned
// Passwords text file (core/breached_builder.hpp), offline, with no node.
// The progress bar counts bytes of the corpus read, since its size is
// known before the first line and lines are all about as long; the summary
// gives what an operator sizes disks and rebuild windows by: entries, bytes
// per entry, file size and lines per second. Ctrl-C (or SIGTERM) stops the
// build cleanly: the builder is asked between blocks of lines, removes
// OUT.tmp and its sort runs, and authctl exits 128 + the signal as a shell
// would.
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>

#include <sys/stat.h>
#include <unistd.h>

#include "core/breached_builder.hpp"
#include "core/breached_index.hpp"
#include "ctl/commands.hpp"
#include "ctl/progress.hpp"

namespace authnode::ctl {

namespace {

volatile std::sig_atomic_t stop_signal = 0;

extern "C" void note_stop_signal(int signal) {
  stop_signal = signal;
}

/// SIGINT and SIGTERM noted instead of ending the process, for its scope.
class stop_signals {
public:
  stop_signals() {
    stop_signal = 0;
    struct sigaction action {};
    action.sa_handler = note_stop_signal;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGINT, &action, &old_int_);
    ::sigaction(SIGTERM, &action, &old_term_);
  }
  stop_signals(const stop_signals&) = delete;
  stop_signals& operator=(const stop_signals&) = delete;
  ~stop_signals() {
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::sigaction(SIGTERM, &old_term_, nullptr);
  }

private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

size_t file_size(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 ? static_cast<size_t>(info.st_size)
                                          : 0;
}

void print_summary(const ctl_options& opts, const breached_build_args& args,
                   const breached_build_result& r, double seconds) {
  auto rate = static_cast<int64_t>(r.lines / std::max(seconds, 1e-3));
  if (opts.json) {
    print_json({{"lines", r.lines},
                {"entries", r.entries},
                {"bytes_per_entry", breached_entry_bytes},
                {"file_bytes", r.file_bytes},
                {"sorted_runs", r.runs},
                {"seconds", seconds},
                {"lines_per_second", rate}});
    return;
  }
  std::cout << "wrote " << args.out << ": " << r.entries << " entries, "
            << breached_entry_bytes << " bytes each, " << r.file_bytes
            << " bytes (" << r.file_bytes / (1024 * 1024) << " MiB); "
            << r.lines << " lines in " << seconds << " s (" << rate
            << " lines/s)";
  if (args.sort)
    std::cout << "; " << r.runs << " sorted runs merged";
  std::cout << '\n';
}

} // namespace

int cmd_breached_build(const ctl_options& opts,
                       const breached_build_args& args) {
  std::ifstream corpus{args.corpus, std::ios::binary};
  if (!corpus) {
    std::cerr << "authctl: cannot open corpus " << args.corpus << ": "
              << std::strerror(errno) << '\n';
    return exit_usage;
  }
  bool draw = !opts.json
    && (args.progress < 0 ? isatty(STDERR_FILENO) == 1 : args.progress > 0);
  progress_bar bar{file_size(args.corpus), draw};
  breached_build_options build;
  build.sort = args.sort;
  build.sort_memory_bytes = args.sort_memory_mb << 20;
  build.progress = [&bar](uint64_t bytes) {
    bar.update(bytes);
  };
  // With --sort, reading ends the bar; merging the runs takes a while more.
  bool bar_done = false;
  build.merging = [&] {
    bar.finish(file_size(args.corpus));
    bar_done = true;
    if (draw)
      std::cerr << "merging the sorted runs...\n";
  };
  stop_signals signals;
  build.interrupted = [] {
    return stop_signal != 0;
  };
  auto start = std::chrono::steady_clock::now();
  auto result = build_breached_index(corpus, args.out, build);
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  if (!result.ok()) {
    // Over the progress bar, which ends here.
    if (draw)
      std::cerr << "\r\x1b[K";
    if (stop_signal != 0) {
      std::cerr << "authctl: interrupted; no index written\n";
      return 128 + stop_signal;
    }
    std::cerr << "authctl: ";
    if (result.error_line > 0)
      std::cerr << args.corpus << ":" << result.error_line << ": line "
                << result.error_line << " ";
    std::cerr << result.error << "; no index written\n";
    return exit_usage;
  }
  if (!bar_done)
    bar.finish(file_size(args.corpus));
  print_summary(opts, args, result, took.count());
  return exit_ok;
}

} // namespace authnode::ctl
