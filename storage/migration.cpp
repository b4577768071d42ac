#include "storage/migration.hpp"

#include <algorithm>

namespace authnode {

namespace {

/// A table and how a row of it is written again: by its primary key
/// (`key`, the ON CONFLICT target; null: the table has none and is
/// replaced whole), and its identity column, whose sequence must continue
/// after the ids copied (null: none).
struct table_spec {
  const char* name;
  const char* key;
  const char* identity;
};

// Users first: every other table refers to them. Append a table here when
// a migration in storage/schema.cpp makes one; copy_database refuses a
// source with a table it does not know.
constexpr table_spec specs[] = {
  {"users", "id", "id"},
  {"sessions", "id", "id"},
  {"device_tokens", "id", "id"},
  {"account_codes", "user_id, purpose", nullptr},
  {"code_mails", nullptr, nullptr},
  {"mail_outbox", "id", "id"},
  {"second_factors", "user_id", nullptr},
  {"recovery_codes", "user_id, code_hash", nullptr},
  {"login_challenges", "challenge_hash", nullptr},
  {"passkeys", "id", "id"},
  {"webauthn_challenges", "challenge_hash", nullptr},
  {"throttle_failures", "key_hash", nullptr},
};

enum class column_type { integer, text, blob };

struct column {
  std::string name;
  column_type type;
};

bool fail(std::string& error, const std::string& what, const sql_status& st) {
  error = what + ": " + st.message;
  return false;
}

/// The first column of the one row `sql` gives.
bool scalar(sql_db& db, const std::string& sql, int64_t& out,
            std::string& error) {
  statement stmt;
  auto st = stmt.prepare(db, sql);
  if (st.ok() && stmt.step() != step_result::row)
    st = stmt.status();
  if (!st.ok())
    return fail(error, sql, st);
  out = stmt.column_int64(0);
  return true;
}

bool count_rows(sql_db& db, const char* table, int64_t& out,
                std::string& error) {
  // Table names come from `specs`, never from input.
  return scalar(db, std::string{"SELECT count(*) FROM "} + table, out, error);
}

/// Every table of the source must be one this copy knows.
bool check_tables(sql_db& from, std::string& error) {
  statement stmt;
  auto st = stmt.prepare(from,
                         "SELECT name FROM sqlite_master WHERE type ="
                         " 'table' AND name NOT LIKE 'sqlite_%'");
  if (!st.ok())
    return fail(error, "cannot list the source's tables", st);
  step_result r;
  while ((r = stmt.step()) == step_result::row) {
    auto name = stmt.column_text(0);
    auto& known = migrated_tables();
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      error = "the source has a table this authctl does not copy: " + name;
      return false;
    }
  }
  if (r == step_result::error)
    return fail(error, "cannot list the source's tables", stmt.status());
  return true;
}

/// The source's columns of `table`, in order, by their declared types.
bool columns_of(sql_db& from, const char* table, std::vector<column>& out,
                std::string& error) {
  statement stmt;
  auto st = stmt.prepare(from,
                         "SELECT name, upper(type) FROM"
                         " pragma_table_info(?1) ORDER BY cid");
  if (!st.ok())
    return fail(error, std::string{"cannot read the columns of "} + table, st);
  stmt.bind_text(1, table);
  step_result r;
  while ((r = stmt.step()) == step_result::row) {
    auto type = stmt.column_text(1);
    auto kind = type.find("INT") != std::string::npos ? column_type::integer
      : type == "BLOB"                                ? column_type::blob
                                                      : column_type::text;
    out.push_back(column{stmt.column_text(0), kind});
  }
  if (r == step_result::error)
    return fail(error, std::string{"cannot read the columns of "} + table,
                stmt.status());
  return true;
}

std::string joined(const std::vector<column>& cols, const std::string& each) {
  std::string out;
  for (size_t i = 0; i < cols.size(); ++i) {
    if (i > 0)
      out += ", ";
    auto text = each;
    for (size_t at; (at = text.find('#')) != std::string::npos;)
      text.replace(at, 1, cols[i].name);
    for (size_t at; (at = text.find('$')) != std::string::npos;)
      text.replace(at, 1, "?" + std::to_string(i + 1));
    out += text;
  }
  return out;
}

/// INSERT of a row, replacing the row under the same primary key.
std::string upsert_sql(const table_spec& t, const std::vector<column>& cols) {
  auto sql = std::string{"INSERT INTO "} + t.name + " (" + joined(cols, "#")
    + ") VALUES (" + joined(cols, "$") + ")";
  if (t.key == nullptr)
    return sql;
  std::vector<column> rest;
  std::string keys = std::string{", "} + t.key + ",";
  for (auto& c : cols)
    if (keys.find(", " + c.name + ",") == std::string::npos)
      rest.push_back(c);
  sql += std::string{" ON CONFLICT ("} + t.key + ")";
  return sql
    + (rest.empty() ? " DO NOTHING"
                    : " DO UPDATE SET " + joined(rest, "# = excluded.#"));
}

/// Binds the source row's columns (from column 1: 0 is its rowid).
void bind_row(const statement& from, statement& to,
              const std::vector<column>& cols) {
  for (size_t i = 0; i < cols.size(); ++i) {
    int in = static_cast<int>(i) + 1;
    int out = static_cast<int>(i) + 1;
    if (from.column_is_null(in)) {
      to.bind_null(out);
      continue;
    }
    switch (cols[i].type) {
      case column_type::integer:
        to.bind_int64(out, from.column_int64(in));
        break;
      case column_type::text:
        to.bind_text(out, from.column_text(in));
        break;
      case column_type::blob:
        to.bind_blob(out, from.column_blob(in));
        break;
    }
  }
}

/// What one copy is at: rows written, of how many.
struct copy_run {
  const migration_options& opts;
  int64_t done = 0;
  int64_t total = 0;
};

/// Copies one table, a batch of rows per transaction; a table without a
/// primary key is emptied first and copied in one transaction.
bool copy_table(sql_db& from, sql_db& to, const table_spec& t, copy_run& run,
                std::string& error) {
  std::vector<column> cols;
  if (!columns_of(from, t.name, cols, error))
    return false;
  statement read;
  auto st = read.prepare(from,
                         "SELECT rowid, " + joined(cols, "#") + " FROM "
                           + t.name
                           + " WHERE rowid > ?1 ORDER BY rowid LIMIT ?2");
  if (!st.ok())
    return fail(error, std::string{"cannot read "} + t.name, st);
  statement write;
  if (st = write.prepare(to, upsert_sql(t, cols)); !st.ok())
    return fail(error, std::string{"cannot write "} + t.name, st);
  bool whole = t.key == nullptr;
  auto begin = [&] {
    if (auto b = to.begin(); !b.ok())
      return fail(error, std::string{"cannot write "} + t.name, b);
    return true;
  };
  auto commit = [&] {
    if (auto c = to.commit(); !c.ok())
      return fail(error, std::string{"cannot write "} + t.name, c);
    return true;
  };
  if (whole) {
    if (!begin())
      return false;
    if (st = to.exec((std::string{"DELETE FROM "} + t.name).c_str()); !st.ok())
      return fail(error, std::string{"cannot empty "} + t.name, st);
  }
  int64_t after = 0;
  for (;;) {
    read.reset();
    read.bind_int64(1, after).bind_int64(
      2, static_cast<int64_t>(run.opts.batch_size));
    if (!whole && !begin())
      return false;
    int64_t rows = 0;
    step_result r;
    while ((r = read.step()) == step_result::row) {
      after = read.column_int64(0);
      write.reset();
      bind_row(read, write, cols);
      if (write.step() == step_result::error)
        return fail(error, std::string{"cannot write "} + t.name,
                    write.status());
      ++rows;
    }
    if (r == step_result::error)
      return fail(error, std::string{"cannot read "} + t.name, read.status());
    if (!whole && !commit())
      return false;
    run.done += rows;
    if (rows > 0 && run.opts.progress)
      run.opts.progress(run.done, run.total);
    if (rows < static_cast<int64_t>(run.opts.batch_size))
      break;
  }
  return !whole || commit();
}

/// Ids made on the target after the copy continue after the ones copied.
bool continue_identities(sql_db& to, std::string& error) {
  if (to.dialect() != sql_dialect::postgresql)
    return true;
  for (auto& t : specs) {
    if (t.identity == nullptr)
      continue;
    auto name = std::string{t.name};
    auto id = std::string{t.identity};
    int64_t next = 0;
    if (!scalar(to,
                "SELECT setval(pg_get_serial_sequence('" + name + "', '" + id
                  + "'), coalesce(max(" + id + "), 0) + 1, false) FROM " + name,
                next, error))
      return false;
  }
  return true;
}

/// A read transaction on the source for as long as it lives.
class read_snapshot {
public:
  explicit read_snapshot(sql_db& db) : db_(db) {}
  read_snapshot(const read_snapshot&) = delete;
  read_snapshot& operator=(const read_snapshot&) = delete;
  ~read_snapshot() {
    db_.exec("COMMIT");
  }
  sql_status begin() {
    return db_.exec("BEGIN");
  }

private:
  sql_db& db_;
};

} // namespace

bool migration_report::counts_match() const {
  return std::all_of(tables.begin(), tables.end(), [](const table_count& t) {
    return t.source == t.target;
  });
}

const std::vector<std::string>& migrated_tables() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (auto& t : specs)
      out.emplace_back(t.name);
    return out;
  }();
  return names;
}

bool copy_database(sql_db& from, sql_db& to, const migration_options& opts,
                   migration_report& report, std::string& error) {
  if (!check_tables(from, error))
    return false;
  {
    // One read transaction: every table as it was at one moment.
    read_snapshot snapshot{from};
    if (auto st = snapshot.begin(); !st.ok())
      return fail(error, "cannot read the source", st);
    copy_run run{opts};
    report.tables.clear();
    for (auto& t : specs) {
      table_count count{t.name};
      if (!count_rows(from, t.name, count.source, error))
        return false;
      run.total += count.source;
      report.tables.push_back(count);
    }
    for (auto& t : specs)
      if (!copy_table(from, to, t, run, error))
        return false;
    report.copied = run.done;
  }
  if (!continue_identities(to, error))
    return false;
  for (auto& count : report.tables)
    if (!count_rows(to, count.table.c_str(), count.target, error))
      return false;
  return true;
}

} // namespace authnode
