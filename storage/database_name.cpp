#include "storage/database_name.hpp"

#include <cctype>
#include <libpq-fe.h>
#include <memory>
#include <vector>

namespace authnode {

bool is_postgres_conninfo(const std::string& db) {
  if (db.rfind("postgresql://", 0) == 0 || db.rfind("postgres://", 0) == 0)
    return true;
  // key=value: a word of letters and underscores, then '=' (host=...,
  // dbname=...). A file path of that shape would have to be given as
  // ./host=x.
  size_t i = 0;
  while (i < db.size()
         && (std::isalpha(static_cast<unsigned char>(db[i])) || db[i] == '_'))
    ++i;
  return i > 0 && i < db.size() && db[i] == '=';
}

namespace {

/// The hosts of a parsed connection string joined with their ports
/// ("a:5432,b:5433"): libpq lists both comma-separated, one port for all
/// or one per host.
std::string hosts_of(const std::string& hosts, const std::string& ports) {
  auto split = [](const std::string& s) {
    std::vector<std::string> out;
    size_t start = 0;
    for (;;) {
      auto end = s.find(',', start);
      out.push_back(s.substr(start, end - start));
      if (end == std::string::npos)
        return out;
      start = end + 1;
    }
  };
  auto h = split(hosts.empty() ? "localhost" : hosts);
  auto p = split(ports.empty() ? "5432" : ports);
  std::string out;
  for (size_t i = 0; i < h.size(); ++i) {
    if (i > 0)
      out += ',';
    out += h[i] + ":" + (p.size() == h.size() ? p[i] : p.front());
  }
  return out;
}

} // namespace

std::string describe_database(const std::string& db) {
  if (!is_postgres_conninfo(db))
    return db;
  char* error = nullptr;
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options{
    PQconninfoParse(db.c_str(), &error), PQconninfoFree};
  if (error != nullptr)
    PQfreemem(error); // Its text may quote the string: not shown.
  if (!options)
    return "postgresql (connection string not readable)";
  std::string hosts, ports, dbname;
  for (auto o = options.get(); o->keyword != nullptr; ++o) {
    if (o->val == nullptr)
      continue;
    std::string key = o->keyword;
    if (key == "host")
      hosts = o->val;
    else if (key == "port")
      ports = o->val;
    else if (key == "dbname")
      dbname = o->val;
  }
  return "postgresql " + hosts_of(hosts, ports) + "/" + dbname;
}

} // namespace authnode
