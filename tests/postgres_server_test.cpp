// The tests' own PostgreSQL server (tests/support/postgres_server, issue 17):
// it starts on a fresh machine as CI runs it (as root, through the postgres
// user), serves libpq on loopback, keeps what was committed, and is gone
// with the object.
#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include <libpq-fe.h>

#include "support/postgres_server.hpp"

using authnode::test::postgres_server;

namespace {

struct connection {
  explicit connection(const std::string& uri) : pg(PQconnectdb(uri.c_str())) {}
  ~connection() {
    PQfinish(pg);
  }
  bool ok() const {
    return PQstatus(pg) == CONNECTION_OK;
  }
  /// Runs `sql`; the first column of the first row, or "" with no rows.
  std::string one(const std::string& sql) {
    auto* res = PQexec(pg, sql.c_str());
    auto status = PQresultStatus(res);
    INFO(sql << ": " << PQerrorMessage(pg));
    CHECK((status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK));
    std::string value = PQntuples(res) > 0 ? PQgetvalue(res, 0, 0) : "";
    PQclear(res);
    return value;
  }
  PGconn* pg;
};

} // namespace

TEST_CASE("the tests' PostgreSQL server keeps what was committed",
          "[postgres]") {
  postgres_server server;
  {
    connection c{server.uri()};
    INFO(PQerrorMessage(c.pg));
    REQUIRE(c.ok());
    CHECK(c.one("SHOW server_version_num") >= "150000");
    CHECK(c.one("SHOW listen_addresses") == "127.0.0.1");
    c.one("CREATE TABLE users (email text PRIMARY KEY)");
    c.one("INSERT INTO users VALUES ('ann@example.org')");
  }
  connection again{server.uri()};
  REQUIRE(again.ok());
  CHECK(again.one("SELECT email FROM users") == "ann@example.org");
}

TEST_CASE("the tests' PostgreSQL server is gone with its object",
          "[postgres]") {
  std::string uri;
  {
    postgres_server server;
    uri = server.uri();
  }
  connection c{uri + "?connect_timeout=2"};
  CHECK_FALSE(c.ok());
}
