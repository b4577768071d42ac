// authctl migrate: a node's SQLite database copied into PostgreSQL
// (storage/migration.hpp), offline, with no node. Both databases are
// brought to this build's schema version first (as a node starting on them
// would), the rows go over in batches under a progress bar, and the counts
// of every table are compared at the end. Run it again at any time: a row
// is written by its primary key, so a second run brings what changed since.
#include <chrono>
#include <iostream>

#include <unistd.h>

#include "ctl/commands.hpp"
#include "ctl/progress.hpp"
#include "ctl/table.hpp"
#include "storage/database_name.hpp"
#include "storage/migration.hpp"
#include "storage/schema.hpp"
#include "storage/sql_open.hpp"

namespace authnode::ctl {

namespace {

/// Opens and migrates one side; null after saying why.
std::unique_ptr<sql_db> open_side(const char* side, const std::string& name) {
  std::string error;
  auto db = open_sql(name, error);
  if (db && !migrate(*db, error))
    db.reset();
  if (!db)
    std::cerr << "authctl: " << side << " " << describe_database(name) << ": "
              << error << '\n';
  return db;
}

void print_report(const ctl_options& opts, const migrate_args& args,
                  const migration_report& r, double seconds) {
  if (opts.json) {
    auto tables = nlohmann::json::array();
    for (auto& t : r.tables)
      tables.push_back(
        {{"table", t.table}, {"source", t.source}, {"target", t.target}});
    print_json({{"to", describe_database(args.to)},
                {"copied", r.copied},
                {"seconds", seconds},
                {"counts_match", r.counts_match()},
                {"tables", tables}});
    return;
  }
  std::vector<row> rows;
  for (auto& t : r.tables)
    rows.push_back({t.table, std::to_string(t.source), std::to_string(t.target),
                    t.source == t.target ? "" : "differs"});
  print_table(std::cout, {"TABLE", "SOURCE", "TARGET", ""}, rows);
  std::cout << "copied " << r.copied << " rows to "
            << describe_database(args.to) << " in " << seconds << " s\n";
}

} // namespace

int cmd_migrate(const ctl_options& opts, const migrate_args& args) {
  if (is_postgres_conninfo(args.from)) {
    std::cerr << "authctl: --from must be the node's SQLite file\n";
    return exit_usage;
  }
  if (!is_postgres_conninfo(args.to)) {
    std::cerr << "authctl: --to must be a PostgreSQL URI or connection "
                 "string (postgresql://...)\n";
    return exit_usage;
  }
  auto from = open_side("source", args.from);
  if (!from)
    return exit_usage;
  auto to = open_side("target", args.to);
  if (!to)
    return exit_unreachable;
  bool draw = !opts.json
    && (args.progress < 0 ? isatty(STDERR_FILENO) == 1 : args.progress > 0);
  std::unique_ptr<progress_bar> bar;
  migration_options how;
  how.batch_size = args.batch_size;
  how.progress = [&](int64_t done, int64_t total) {
    if (!bar)
      bar = std::make_unique<progress_bar>(static_cast<size_t>(total), draw);
    bar->update(static_cast<size_t>(done));
  };
  auto start = std::chrono::steady_clock::now();
  migration_report report;
  std::string error;
  bool ok = copy_database(*from, *to, how, report, error);
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  if (bar)
    bar->finish(static_cast<size_t>(report.copied));
  if (!ok) {
    std::cerr << "authctl: " << error
              << "; what was copied stays, and running again completes it\n";
    return exit_refused;
  }
  print_report(opts, args, report, took.count());
  if (!report.counts_match()) {
    std::cerr << "authctl: the target holds other rows than the source (see "
                 "\"differs\"): rows of another database, or rows deleted "
                 "from the source since an earlier run\n";
    return exit_partial;
  }
  return exit_ok;
}

} // namespace authnode::ctl
