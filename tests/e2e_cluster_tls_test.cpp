// End to end: TLS between nodes (--tls-cert, --tls-key, --tls-ca), with
// certificates made by scripts/make_dev_certs.sh as docs/deployment.md
// tells operators to.
#include <catch2/catch.hpp>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "support/line_client.hpp"
#include "support/node_process.hpp"
#include "support/program.hpp"
#include "support/protocol.hpp"

using namespace authnode::test;

namespace {

/// A CA and certificates for `names` in `dir` (scripts/make_dev_certs.sh).
void make_certs(const std::string& dir, const std::vector<std::string>& names,
                std::vector<std::string> env = {}) {
  program_run run;
  run.args = {dir};
  run.args.insert(run.args.end(), names.begin(), names.end());
  run.env = std::move(env);
  auto made = run_program(
    std::string{AUTHNODE_SOURCE_DIR} + "/scripts/make_dev_certs.sh", run);
  INFO(made.err);
  REQUIRE(made.status == 0);
}

std::vector<std::string> tls(const std::string& dir, const std::string& name,
                             const std::string& ca_dir = {}) {
  auto ca = (ca_dir.empty() ? dir : ca_dir) + "/ca.pem";
  return {"--tls-cert=" + dir + "/" + name + ".pem",
          "--tls-key=" + dir + "/" + name + ".key", "--tls-ca=" + ca};
}

std::vector<std::string> with(std::vector<std::string> a,
                              const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::vector<std::string> storage_args(std::vector<std::string> extra) {
  return with({"--role=storage", "--node-port=0"}, extra);
}

std::vector<std::string> gateway_args(const node_process& storage,
                                      std::vector<std::string> extra) {
  return with(
    {"--role=gateway", "--storage=127.0.0.1:" + std::to_string(storage.port()),
     "--hash-ops=1", "--hash-mem=8192", "--failure-delay=300ms", "--hashers=1"},
    extra);
}

} // namespace

TEST_CASE("nodes with certificates from the cluster CA work over TLS") {
  temp_dir certs;
  make_certs(certs.path(), {"storage", "gateway"});
  node_process storage{storage_args(tls(certs.path(), "storage"))};
  CHECK(storage.log().find("TLS with peer certificates from")
        != std::string::npos);
  node_process gw{gateway_args(storage, tls(certs.path(), "gateway"))};
  REQUIRE(gw.wait_for_log("linked to storage node"));
  CHECK(succeeded(register_user(gw.port(), "ann@example.org")));
}

TEST_CASE(
  "a peer without a valid certificate gets nothing from the storage node") {
  temp_dir certs;
  temp_dir stranger;
  make_certs(certs.path(), {"storage"});
  make_certs(stranger.path(), {"gateway"});
  node_process storage{storage_args(tls(certs.path(), "storage"))};
  // No TLS at all, and TLS with a certificate of another CA (which also
  // refuses the storage node's, but the storage node refuses first).
  node_process plain{gateway_args(storage, {})};
  node_process foreign{gateway_args(storage, tls(stranger.path(), "gateway"))};
  CHECK(plain.wait_for_log("cannot reach storage node"));
  CHECK(foreign.wait_for_log("cannot reach storage node"));
  for (auto* gw : {&plain, &foreign}) {
    CHECK(error_code(register_user(gw->port(), "ann@example.org"))
          == "unavailable");
    CHECK(gw->log().find("linked to storage node") == std::string::npos);
  }
  // A raw connection that speaks no TLS gets no byte back.
  line_client raw{storage.port()};
  raw.send_raw("hello, is this the database?\n");
  CHECK_FALSE(raw.read_line(std::chrono::milliseconds(300)));
}

TEST_CASE("an encrypted key opens with its passphrase file and not without") {
  temp_dir certs;
  auto pass = certs.path() + "/pass";
  std::ofstream{pass} << "swordfish\n";
  make_certs(certs.path(), {"storage"},
             {"AUTHNODE_KEY_PASSPHRASE_FILE=" + pass});
  auto files = tls(certs.path(), "storage");
  auto without = run_node_to_exit(storage_args(files));
  CHECK(without.status == 2);
  CHECK(without.output.find("cannot read the private key")
        != std::string::npos);
  auto wrong_pass = certs.path() + "/wrong";
  std::ofstream{wrong_pass} << "not it\n";
  auto wrong = run_node_to_exit(
    storage_args(with(files, {"--tls-passphrase-file=" + wrong_pass})));
  CHECK(wrong.status == 2);
  CHECK(wrong.output.find("wrong passphrase") != std::string::npos);
  node_process storage{
    storage_args(with(files, {"--tls-passphrase-file=" + pass}))};
  CHECK(storage.log().find("TLS with peer certificates") != std::string::npos);
}

TEST_CASE("key material that does not fit together stops the node at start") {
  temp_dir certs;
  temp_dir other;
  make_certs(certs.path(), {"storage", "gateway"});
  make_certs(other.path(), {"storage"});
  auto mismatched = run_node_to_exit(
    storage_args({"--tls-cert=" + certs.path() + "/storage.pem",
                  "--tls-key=" + certs.path() + "/gateway.key",
                  "--tls-ca=" + certs.path() + "/ca.pem"}));
  CHECK(mismatched.status == 2);
  CHECK(mismatched.output.find("does not belong to --tls-cert")
        != std::string::npos);
  auto unsigned_by_ca = run_node_to_exit(
    storage_args(tls(other.path(), "storage", certs.path())));
  CHECK(unsigned_by_ca.status == 2);
  CHECK(unsigned_by_ca.output.find("not valid under --tls-ca")
        != std::string::npos);
  auto partial = run_node_to_exit(
    storage_args({"--tls-cert=" + certs.path() + "/storage.pem"}));
  CHECK(partial.status == 2);
  CHECK(partial.output.find("all three or none") != std::string::npos);
}
