// authnode: the node binary. main() checks what can be checked before the
// actor system exists (options, hashing, the audit sink, the admin key, the
// TLS files): a bad one ends the process (status 2) with nothing to stop.
// run() opens the database where the role has one and starts the role's
// actors (apps/roles.cpp), which serve until SIGINT/SIGTERM and then stop
// every actor before the actor system goes down (apps/shutdown.hpp says why
// that matters in CAF 0.17).
#include <algorithm>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>

#include "actors/audit.hpp"
#include "apps/actor_settings.hpp"
#include "apps/mail_wiring.hpp"
#include "apps/roles.hpp"
#include "apps/shutdown.hpp"
#include "cluster/tls.hpp"
#include "config/ini_check.hpp"
#include "config/node_config.hpp"
#include "config/node_settings.hpp"
#include "core/admin_key.hpp"
#include "core/breached_index.hpp"
#include "core/log.hpp"
#include "core/secrets.hpp"
#include "storage/database.hpp"
#include "storage/database_name.hpp"

using namespace authnode;

namespace {

/// The audit sink's descriptor in `fd` (-1 for --audit=off); false after
/// logging why it cannot be opened.
bool open_audit(const node_settings& s, int& fd) {
  fd = -1;
  if (!s.audit)
    return true;
  std::string error;
  fd = open_audit_sink(*s.audit, error);
  if (fd < 0) {
    log_error("--audit=" + *s.audit + ": " + error);
    return false;
  }
  return true;
}

/// The admin key's digest in `digest`, where clients are served (the admin
/// channel runs there; elsewhere it stays empty); false after logging why
/// the key cannot be had.
bool load_admin_key_digest(const node_settings& s, std::string& digest) {
  if (!s.serves_clients())
    return true;
  std::string error;
  bool key_created = false;
  auto key = load_admin_key(s.admin_key_path, key_created, error);
  if (!key) {
    log_error("--admin-key-file: " + error);
    return false;
  }
  if (key_created)
    log_info("created admin key file " + s.admin_key_path + " (mode 0600)");
  digest = std::move(*key);
  return true;
}

/// Loads CAF's OpenSSL module with the node's key material when TLS is on;
/// false after logging what is wrong with the files.
bool configure_tls(node_config& cfg, const node_settings& s) {
  if (!s.tls())
    return true;
  tls_files files{s.tls_cert, s.tls_key, s.tls_ca, {}};
  if (!s.tls_passphrase_file.empty()) {
    std::string error;
    files.passphrase = read_passphrase_file(s.tls_passphrase_file, error);
    if (!error.empty()) {
      log_error(error);
      return false;
    }
  }
  if (auto problem = check_tls_files(files); !problem.empty()) {
    log_error(problem);
    return false;
  }
  cfg.openssl_certificate = files.cert;
  cfg.openssl_key = files.key;
  cfg.openssl_cafile = files.ca;
  cfg.openssl_passphrase = files.passphrase;
  cfg.load<caf::openssl::manager>();
  return true;
}

/// Maps the breached-password index once, where hashers run, so that a
/// missing, truncated or foreign file stops the node before anything
/// starts; false after logging why. With --breached-passwords-optional it
/// only warns, and the hashers run without the check (stats: "missing").
/// What it found goes to `start`, for stats.
bool check_breached_index(const node_settings& s, node_start& start) {
  if (s.breached_passwords.empty() || s.hashers == 0
      || s.role == node_role::storage)
    return true;
  std::string error;
  if (auto index = breached_index::open(s.breached_passwords, error)) {
    log_info("breached-password index " + s.breached_passwords + ": "
             + std::to_string(index->entries()) + " entries");
    start.breached = breached_state::on;
    start.breached_entries = index->entries();
    return true;
  }
  start.breached = breached_state::missing;
  if (s.breached_passwords_optional) {
    log_warning("--breached-passwords: " + error
                + "; starting without the breached-password check "
                  "(--breached-passwords-optional)");
    return true;
  }
  log_error("--breached-passwords: " + error);
  return false;
}

/// Starts the role's actors and serves until a stop signal; the exit status.
/// The database comes first where there is one, so that a bad --db stops
/// the node before anything else runs.
int run(caf::actor_system& sys, const node_start& start) {
  const auto& s = start.settings;
  auto counters = std::make_shared<node_counters>();
  counters->breached_index_state = static_cast<int64_t>(start.breached);
  counters->breached_index_entries
    = static_cast<int64_t>(start.breached_entries);
  switch (s.role) {
    case node_role::hasher:
      return serve_hasher(sys, start, counters);
    case node_role::gateway:
      return serve_clients(sys, start, gateway_backends(sys, s, counters),
                           counters);
    case node_role::all:
    case node_role::storage:
      break;
  }
  auto db_settings = make_database_settings(s);
  auto keys = load_secret_keys(s);
  if (!keys)
    return 2;
  db_settings.factors = make_factor_setup(s, *keys);
  if (!load_mail_setup(s, *keys, db_settings.mail))
    return 2;
  std::string error;
  auto db = spawn_database(sys, s.db, db_settings, error);
  if (!db) {
    log_error("--db " + describe_database(s.db) + ": " + error);
    return 1;
  }
  auto b = local_backends(sys, s, std::move(*db), counters);
  b.mailer = start_mailer(sys, s, b.db, counters);
  if (s.role == node_role::storage)
    return serve_storage(sys, start, std::move(b), counters);
  return serve_clients(sys, start, std::move(b), counters);
}

} // namespace

int main(int argc, char** argv) {
  node_start start;
  start.stop_signals = block_stop_signals();
  if (!init_sodium()) {
    std::cerr << "authnode: libsodium cannot be initialised\n";
    return 1;
  }
  node_config cfg;
  // --dump-config is ours: CAF's would print its own settings, not ours.
  std::vector<std::string> args(argv + 1, argv + argc);
  auto dump = std::find(args.begin(), args.end(), "--dump-config");
  bool dump_config = dump != args.end();
  if (dump_config)
    args.erase(dump);
  if (auto err = cfg.parse(args)) {
    std::cerr << "authnode: " << caf::to_string(err) << "\n";
    return 2;
  }
  if (cfg.cli_helptext_printed)
    return 0;
  ini_lines ini;
  auto bad = check_ini_file(cfg.config_file_path, cfg.options(), ini);
  if (!bad.empty()) {
    std::cerr << "authnode: " << bad << "\n";
    return 2;
  }
  std::string problem;
  auto settings = resolve(cfg.opts, problem);
  if (!settings) {
    std::cerr << "authnode: "
              << locate_problem(problem, cfg.config_file_path, ini, args)
              << "\n";
    return 2;
  }
  if (dump_config) {
    std::cout << dump_options(cfg.opts);
    return 0;
  }
  start.settings = std::move(*settings);
  const auto& s = start.settings;
  configure_log(s.log_level, s.log_format);
  // The dummy hash doubles as a check that hashing works with these
  // settings, before anything is started that would have to be stopped.
  start.auth = make_auth_settings(s);
  if (start.auth.dummy_hash.empty()) {
    log_error("--hash-mem=" + std::to_string(s.hash_mem)
              + ": argon2id cannot allocate that much memory");
    return 2;
  }
  if (!open_audit(s, start.audit_fd)
      || !load_admin_key_digest(s, start.admin_key_digest)
      || !check_breached_index(s, start))
    return 2;
  cfg.load<caf::io::middleman>();
  if (!configure_tls(cfg, s))
    return 2;
  int status = 0;
  {
    caf::actor_system sys{cfg};
    status = run(sys, start);
  }
  return status;
}
