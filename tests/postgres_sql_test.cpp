// What the PostgreSQL side of the SQL port does without a server: the
// stores' ?N parameters as $N, which --db values are connection strings,
// and how a connection string is named in a log line (never with its
// password).
#include <catch2/catch.hpp>

#include <string>

#include "storage/database_name.hpp"
#include "storage/postgres_sql.hpp"

using namespace authnode;

TEST_CASE("numbered parameters become PostgreSQL's, outside string literals "
          "only",
          "[postgres]") {
  int count = 0;
  CHECK(to_postgres_parameters("SELECT ?1, '?2', ?10 FROM t WHERE a = ?2",
                               count)
        == "SELECT $1, '?2', $10 FROM t WHERE a = $2");
  CHECK(count == 10);
  CHECK(to_postgres_parameters("SELECT 'it''s ?3' WHERE x = ?1", count)
        == "SELECT 'it''s ?3' WHERE x = $1");
  CHECK(count == 1);
  CHECK(to_postgres_parameters("SELECT 1", count) == "SELECT 1");
  CHECK(count == 0);
}

TEST_CASE("a --db value is PostgreSQL when it is a libpq URI or key=value "
          "string, else a SQLite file",
          "[postgres][config]") {
  CHECK(is_postgres_conninfo("postgresql://db1/authnode"));
  CHECK(is_postgres_conninfo("postgres://u@db1:5433/authnode"));
  CHECK(is_postgres_conninfo("host=db1 dbname=authnode"));
  CHECK(is_postgres_conninfo("dbname=authnode"));
  CHECK_FALSE(is_postgres_conninfo("authnode.db"));
  CHECK_FALSE(is_postgres_conninfo(":memory:"));
  CHECK_FALSE(is_postgres_conninfo("/var/lib/authnode/host=x.db"));
  CHECK_FALSE(is_postgres_conninfo("./host=x"));
  CHECK_FALSE(is_postgres_conninfo("=x"));
}

TEST_CASE("a connection string is logged by its hosts and database, never "
          "its password",
          "[postgres][config]") {
  CHECK(describe_database("authnode.db") == "authnode.db");
  auto uri = describe_database(
    "postgresql://authnode:s3cret@db1:5432,db2:5433/accounts?"
    "target_session_attrs=read-write&password=other");
  CHECK(uri == "postgresql db1:5432,db2:5433/accounts");
  auto words = describe_database("host=db1 port=6543 dbname=accounts "
                                 "user=authnode password=s3cret");
  CHECK(words == "postgresql db1:6543/accounts");
  CHECK(describe_database("dbname=accounts")
        == "postgresql localhost:5432/accounts");
  auto broken = describe_database("host='db1 password=s3cret");
  CHECK(broken.find("s3cret") == std::string::npos);
}
