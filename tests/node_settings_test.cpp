// resolve(): the options as given become typed settings once, and a bad one
// is named by the first check it fails. The wording of each message is
// checked end to end (e2e_*_test starting the node with bad flags); these
// tests check what resolve() hands the node.
#include <catch2/catch.hpp>

#include <thread>

#include "config/node_role.hpp"
#include "config/node_settings.hpp"
#include "core/admin_key.hpp"

using namespace authnode;

namespace {

/// The settings for `o`, which must be usable.
node_settings resolved(const node_options& o) {
  std::string problem;
  auto s = resolve(o, problem);
  INFO(problem);
  REQUIRE(s);
  CHECK(problem.empty());
  return *s;
}

/// The problem resolve() names for `o`, which must not be usable.
std::string refusal(const node_options& o) {
  std::string problem;
  CHECK_FALSE(resolve(o, problem));
  return problem;
}

node_options gateway_to(std::string storage) {
  node_options o;
  o.role = "gateway";
  o.storage = std::move(storage);
  return o;
}

} // namespace

TEST_CASE("every role's word reads back as that role", "[config]") {
  for (auto r : {node_role::all, node_role::storage, node_role::hasher,
                 node_role::gateway})
    CHECK(parse_node_role(to_string(r)) == r);
  CHECK(std::string{to_string(node_role::gateway)} == "gateway");
  CHECK_FALSE(parse_node_role("Gateway"));
  CHECK_FALSE(parse_node_role(""));
}

TEST_CASE("the defaults resolve to one process that serves clients",
          "[config]") {
  auto s = resolved(node_options{});
  CHECK(s.role == node_role::all);
  CHECK(s.serves_clients());
  CHECK(s.owns_database());
  CHECK(s.throttle);
  CHECK(s.log_level == log_level::info);
  CHECK(s.log_format == log_format::text);
  CHECK(s.audit == std::optional<std::string>{"stderr"});
  CHECK(s.admin_key_path == default_admin_key_path("authnode.db"));
  CHECK_FALSE(s.metrics_port);
  CHECK(s.trusted_sources.empty());
  CHECK_FALSE(s.storage);
  CHECK(s.hasher_nodes.empty());
  CHECK_FALSE(s.tls());
  CHECK(s.node_host_loopback);
  auto cores = std::thread::hardware_concurrency();
  CHECK(s.hashers == (cores > 0 ? cores : 1));
  // Options used as they are come through unchanged.
  CHECK(s.port == 7411);
  CHECK(s.failure_delay == std::chrono::seconds(2));
}

TEST_CASE("words and lists become the values they stand for", "[config]") {
  node_options o;
  o.trusted_sources = "10.0.0.0/8, ::1";
  o.log_level = "debug";
  o.log_format = "json";
  o.audit = "off";
  o.throttle = "off";
  o.metrics_port = 0;
  o.hashers = 3;
  o.admin_key_file = "/etc/authnode/key";
  auto s = resolved(o);
  REQUIRE(s.trusted_sources.size() == 2);
  CHECK(s.trusted_sources[0].contains("10.20.30.40"));
  CHECK(s.trusted_sources[1].contains("::1"));
  CHECK(s.log_level == log_level::debug);
  CHECK(s.log_format == log_format::json);
  CHECK_FALSE(s.audit);
  CHECK_FALSE(s.throttle);
  CHECK(s.metrics_port == std::optional<uint16_t>{0});
  CHECK(s.hashers == 3);
  CHECK(s.admin_key_path == "/etc/authnode/key");
}

TEST_CASE("a gateway's node addresses are parsed, and kept as written for "
          "the log",
          "[config]") {
  auto o = gateway_to("[::1]:07414");
  o.hasher_nodes = "10.0.0.5:7415,hasher.local:7416";
  auto s = resolved(o);
  CHECK(s.role == node_role::gateway);
  CHECK(s.serves_clients());
  CHECK_FALSE(s.owns_database());
  REQUIRE(s.storage);
  CHECK(s.storage->host == "::1");
  CHECK(s.storage->port == 7414);
  CHECK(s.storage->text == "[::1]:07414");
  REQUIRE(s.hasher_nodes.size() == 2);
  CHECK(s.hasher_nodes[0].host == "10.0.0.5");
  CHECK(s.hasher_nodes[0].port == 7415);
  CHECK(s.hasher_nodes[1].host == "hasher.local");
  CHECK(s.hasher_nodes[1].port == 7416);
}

TEST_CASE("a node port open beyond loopback is known as such", "[config]") {
  node_options o;
  o.role = "hasher";
  o.node_host = "0.0.0.0";
  o.allow_plaintext_nodes = true;
  auto s = resolved(o);
  CHECK(s.role == node_role::hasher);
  CHECK_FALSE(s.serves_clients());
  CHECK_FALSE(s.node_host_loopback);
}

TEST_CASE("the first bad option is the one named", "[config]") {
  node_options o;
  o.role = "everything";
  o.log_level = "verbose";
  CHECK(refusal(o) == "--role: must be all, storage, hasher or gateway");
  o.role = "all";
  CHECK(refusal(o) == "--log-level: must be debug, info, warning or error");
  CHECK(refusal(gateway_to("nowhere")) == "--storage: not HOST:PORT: nowhere");
  CHECK(refusal(gateway_to("a:1,b:2"))
        == "--storage: one storage node, HOST:PORT");
  node_options trusted;
  trusted.trusted_sources = "10.0.0.0/8,bad";
  CHECK(refusal(trusted)
        == "--trusted-sources: not an address or CIDR range: bad");
}

TEST_CASE("a PostgreSQL database needs the shared secret key named, and "
          "keeps no key file beside a connection string",
          "[config]") {
  node_options o;
  o.db = "postgresql://authnode@db1,db2/authnode?target_session_attrs="
         "read-write";
  CHECK(refusal(o).rfind("--secret-key-file: needed with a PostgreSQL --db",
                         0)
        == 0);
  o.secret_key_file = "/etc/authnode/secret-key";
  auto s = resolved(o);
  CHECK(s.secret_key_path == "/etc/authnode/secret-key");
  CHECK(s.admin_key_path == "authnode.admin-key");
  CHECK(s.db_pool == 4);
  CHECK(s.session_cache == 0);
  o.db_pool = 0;
  CHECK(refusal(o) == "--db-pool: must be between 1 and 64");
  o.db_pool = 65;
  CHECK(refusal(o) == "--db-pool: must be between 1 and 64");
}
