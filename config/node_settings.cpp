// resolve(): the checks of every option, in a fixed order (the first
// problem is the one reported, and tests and operators read its wording),
// each parsing what it checks into node_settings as it goes, so that a
// value is parsed once, here.
#include "config/node_settings.hpp"

#include <thread>

#include "core/admin_key.hpp"
#include "core/node_keys.hpp"
#include "storage/database_name.hpp"
#include "core/password_context.hpp"

#include <sodium.h>

namespace authnode {

std::optional<std::vector<node_address>>
parse_node_addresses(const std::string& text, std::string& bad) {
  std::vector<node_address> out;
  size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find(',', start);
    if (end == std::string::npos)
      end = text.size();
    auto item = text.substr(start, end - start);
    start = end + 1;
    auto colon = item.rfind(':');
    node_address addr;
    if (colon != std::string::npos && colon > 0) {
      addr.host = item.substr(0, colon);
      if (addr.host.size() > 2 && addr.host.front() == '['
          && addr.host.back() == ']')
        addr.host = addr.host.substr(1, addr.host.size() - 2);
      auto digits = item.substr(colon + 1);
      bool numeric = !digits.empty() && digits.size() <= 5
        && digits.find_first_not_of("0123456789") == std::string::npos;
      auto port = numeric ? std::stoul(digits) : 0;
      addr.port = static_cast<uint16_t>(port);
      addr.text = item;
      if (numeric && port > 0 && port <= 65535) {
        out.push_back(addr);
        continue;
      }
    }
    bad = item;
    return std::nullopt;
  }
  return out;
}

bool is_loopback_host(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

namespace {

/// --hasher-nodes and --storage into `s`.
std::string resolve_node_addresses(const node_options& o, node_settings& s) {
  std::string bad;
  if (!o.hasher_nodes.empty()) {
    auto hashers = parse_node_addresses(o.hasher_nodes, bad);
    if (!hashers)
      return "--hasher-nodes: not HOST:PORT: " + bad;
    s.hasher_nodes = std::move(*hashers);
  }
  if (!o.storage.empty()) {
    auto storage = parse_node_addresses(o.storage, bad);
    if (!storage)
      return "--storage: not HOST:PORT: " + bad;
    if (storage->size() != 1)
      return "--storage: one storage node, HOST:PORT";
    s.storage = storage->front();
  }
  return {};
}

/// What the role needs and allows: hashers, node addresses, TLS, the node
/// port's address.
std::string resolve_role(const node_options& o, node_settings& s) {
  auto role = parse_node_role(o.role);
  if (!role)
    return "--role: must be all, storage, hasher or gateway";
  s.role = *role;
  bool gateway = s.role == node_role::gateway;
  if (o.hashers < -1)
    return "--hashers: must be -1 (one per hardware thread) or more";
  if (o.hashers == 0 && !gateway)
    return "--hashers: 0 only on a gateway with --hasher-nodes; -1 (the "
           "default) runs one per hardware thread";
  if (auto problem = resolve_node_addresses(o, s); !problem.empty())
    return problem;
  if (gateway) {
    if (!s.storage)
      return "--storage: a gateway needs its storage node, HOST:PORT";
    if (o.hashers == 0 && s.hasher_nodes.empty())
      return "--hashers: 0 needs --hasher-nodes, or nothing can hash";
  } else if (s.storage || !s.hasher_nodes.empty()) {
    return "--storage and --hasher-nodes: only for --role=gateway";
  }
  bool any_tls = !o.tls_cert.empty() || !o.tls_key.empty() || !o.tls_ca.empty()
    || !o.tls_passphrase_file.empty();
  bool all_tls = !o.tls_cert.empty() && !o.tls_key.empty() && !o.tls_ca.empty();
  if (any_tls && !all_tls)
    return "--tls-cert, --tls-key and --tls-ca: all three or none (CAF would "
           "otherwise encrypt without authenticating anyone)";
  if (all_tls && s.role == node_role::all)
    return "--tls-cert: only for storage, hasher and gateway nodes";
  s.node_host_loopback = is_loopback_host(o.node_host);
  if (s.role == node_role::storage || s.role == node_role::hasher) {
    if (o.node_host.empty())
      return "--node-host: must not be empty";
    if (!s.node_host_loopback && !o.allow_plaintext_nodes && !all_tls)
      return "--node-host: " + o.node_host
        + " is not a loopback address, and node ports carry no "
          "authentication without TLS: set --tls-cert, --tls-key and --tls-ca, "
          "or --allow-plaintext-nodes to open it anyway (docs/deployment.md)";
  }
  return {};
}

/// The client service: addresses, hashing, limits per connection; and
/// whether to throttle.
std::string resolve_service(const node_options& o, node_settings& s) {
  using std::to_string;
  if (o.host.empty())
    return "--host: must not be empty";
  if (o.db.empty())
    return "--db: must not be empty (use :memory: for a throwaway database)";
  if (o.db_pool < 1 || o.db_pool > 64)
    return "--db-pool: must be between 1 and 64";
  if (o.failure_delay.count() < 0)
    return "--failure-delay: must not be negative";
  if (o.failure_delay > std::chrono::minutes(10))
    return "--failure-delay: must be at most 10min";
  if (o.hash_ops < crypto_pwhash_OPSLIMIT_MIN
      || o.hash_ops > crypto_pwhash_OPSLIMIT_MAX)
    return "--hash-ops: must be between "
      + to_string(crypto_pwhash_OPSLIMIT_MIN) + " and "
      + to_string(crypto_pwhash_OPSLIMIT_MAX);
  if (o.hash_mem < crypto_pwhash_MEMLIMIT_MIN
      || o.hash_mem > (uint64_t{1} << 32))
    return "--hash-mem: must be between "
      + to_string(crypto_pwhash_MEMLIMIT_MIN) + " and 4294967296 bytes";
  if (o.hashers > 1024)
    return "--hashers: must be at most 1024 (-1 means one per core)";
  auto cores = std::thread::hardware_concurrency();
  s.hashers = o.hashers >= 0 ? static_cast<uint32_t>(o.hashers)
                             : (cores > 0 ? cores : 1);
  if (o.session_ttl < std::chrono::seconds(1))
    return "--session-ttl: must be at least 1s";
  if (o.max_line < 64 || o.max_line > (uint64_t{16} << 20))
    return "--max-line: must be between 64 and 16777216 bytes";
  if (o.max_connections < 1)
    return "--max-connections: must be at least 1";
  if (o.max_in_flight < 1 || o.max_in_flight > 65536)
    return "--max-in-flight: must be between 1 and 65536";
  if (o.idle_timeout.count() < 0)
    return "--idle-timeout: must not be negative (0s turns it off)";
  if (o.min_password < 1 || o.min_password > 1024)
    return "--min-password: must be between 1 and 1024";
  if (o.session_cache > 10'000'000)
    return "--session-cache: must be at most 10000000 sessions";
  // Other nodes on a PostgreSQL database end sessions this node's caches
  // never hear of (a notification would come after the logout's answer):
  // every whoami asks the database, so that a logout counts everywhere at
  // once.
  if (is_postgres_conninfo(o.db))
    s.session_cache = 0;
  if (o.throttle != "on" && o.throttle != "off")
    return "--throttle: must be on or off";
  s.throttle = o.throttle == "on";
  return {};
}

/// The throttle's limits, used as they are.
std::string check_throttle(const node_options& o, node_settings&) {
  if (o.max_penalty < o.failure_delay)
    return "--max-penalty: must be at least --failure-delay";
  if (o.max_penalty > std::chrono::hours(24))
    return "--max-penalty: must be at most 24h";
  if (o.failure_window < std::chrono::seconds(1))
    return "--failure-window: must be at least 1s";
  if (o.max_pending < 1)
    return "--max-pending: must be at least 1";
  if (o.max_hash_queue < 1)
    return "--max-hash-queue: must be at least 1";
  if (o.register_rate < 1 || o.register_rate > 1000000)
    return "--register-rate: must be between 1 and 1000000";
  if (o.max_pending_per_source < 1)
    return "--max-pending-per-source: must be at least 1";
  return {};
}

/// Trusted sources, the log, the audit sink.
std::string resolve_records(const node_options& o, node_settings& s) {
  std::string bad;
  auto trusted = parse_cidr_list(o.trusted_sources, bad);
  if (!trusted)
    return "--trusted-sources: not an address or CIDR range: " + bad;
  s.trusted_sources = std::move(*trusted);
  s.password_context_words = split_word_list(o.password_context_words);
  if (o.breached_min_count < 1)
    return "--breached-min-count: must be at least 1";
  auto level = parse_log_level(o.log_level);
  if (!level)
    return "--log-level: must be debug, info, warning or error";
  s.log_level = *level;
  auto format = parse_log_format(o.log_format);
  if (!format)
    return "--log-format: must be text or json";
  s.log_format = *format;
  if (o.audit.empty())
    return "--audit: must be stderr, off or a file path";
  s.audit = o.audit == "off" ? std::nullopt
                             : std::optional<std::string>{o.audit};
  return {};
}

/// The admin channel, backups, metrics and the backends' time limit.
std::string resolve_channels(const node_options& o, node_settings& s) {
  if (o.admin_host.empty())
    return "--admin-host: must not be empty";
  if (o.admin_port != 0 && o.admin_port == o.port && o.admin_host == o.host)
    return "--admin-port: must differ from --port";
  // A connection string is no file name to put .admin-key after.
  auto key_base = is_postgres_conninfo(o.db) ? ":memory:" : o.db;
  s.admin_key_path = o.admin_key_file.empty() ? default_admin_key_path(key_base)
                                              : o.admin_key_file;
  if (o.backup_step_pages < 1 || o.backup_step_pages > 1000000)
    return "--backup-step-pages: must be between 1 and 1000000";
  if (o.metrics_host.empty())
    return "--metrics-host: must not be empty";
  if (o.metrics_port < -1 || o.metrics_port > 65535)
    return "--metrics-port: must be between 0 and 65535 (0 picks one)";
  if (o.metrics_port > 0 && o.metrics_port == o.admin_port
      && o.metrics_host == o.admin_host)
    return "--metrics-port: must differ from --admin-port";
  if (o.metrics_port >= 0)
    s.metrics_port = static_cast<uint16_t>(o.metrics_port);
  if (o.backend_timeout < std::chrono::milliseconds(10))
    return "--backend-timeout: must be at least 10ms";
  if (o.session_lease < std::chrono::milliseconds(20))
    return "--session-lease: must be at least 20ms";
  return {};
}

/// Mail and account codes.
std::string resolve_mail(const node_options& o, node_settings& s) {
  auto url = o.smtp_url;
  if (!url.empty() && url.rfind("smtp://", 0) != 0
      && url.rfind("smtps://", 0) != 0)
    return "--smtp-url: must start with smtp:// or smtps://";
  if (!url.empty() && o.mail_from.empty())
    return "--mail-from: needed with --smtp-url";
  if (!url.empty() && o.app_url.empty())
    return "--app-url: needed with --smtp-url (mails tell users where to go)";
  if (!o.mail_from.empty() && o.mail_from.find('@') == std::string::npos)
    return "--mail-from: must be an address";
  if (o.mail_max_age < std::chrono::minutes(1))
    return "--mail-max-age: must be at least 1min";
  if (o.mail_retry < std::chrono::milliseconds(10)
      || o.mail_retry > std::chrono::hours(1))
    return "--mail-retry: must be between 10ms and 1h";
  if (o.code_ttl < std::chrono::seconds(1)
      || o.code_ttl > std::chrono::hours(24))
    return "--code-ttl: must be between 1s and 24h";
  if (o.recovery_mails < 1 || o.recovery_mails > 1000)
    return "--recovery-mails: must be between 1 and 1000";
  if (o.recovery_reply_time.count() < 0
      || o.recovery_reply_time > std::chrono::seconds(10))
    return "--recovery-reply-time: must be between 0s and 10s";
  if (o.verify_email == "auto")
    s.verify_email = !url.empty();
  else if (o.verify_email == "on" || o.verify_email == "off")
    s.verify_email = o.verify_email == "on";
  else
    return "--verify-email: must be auto, on or off";
  // Codes, queued mail and TOTP seeds in a shared database must open on
  // every node on it: one key for all, which a node cannot make alone.
  if (is_postgres_conninfo(o.db) && o.secret_key_file.empty())
    return "--secret-key-file: needed with a PostgreSQL --db (every node on "
           "the database must use the same key: the first node makes the "
           "file if it is missing, copy it to the others; docs/deployment.md)";
  s.secret_key_path = o.secret_key_file.empty()
                        ? default_secret_key_path(o.db)
                        : o.secret_key_file;
  if (o.totp_issuer.empty() || o.totp_issuer.size() > 64
      || o.totp_issuer.find(':') != std::string::npos)
    return "--totp-issuer: must be 1 to 64 characters, without ':'";
  if (o.totp_skew > 10)
    return "--totp-skew: must be between 0 and 10";
  return {};
}

/// Passkeys: the relying party, its origins, user verification.
std::string resolve_webauthn(const node_options& o, node_settings& s) {
  auto& w = s.webauthn;
  w.rp_id = o.webauthn_rp_id;
  if (o.webauthn_user_verification == "preferred")
    w.user_verification = webauthn_uv::preferred;
  else if (o.webauthn_user_verification == "required")
    w.user_verification = webauthn_uv::required;
  else
    return "--webauthn-user-verification: must be preferred or required";
  if (w.rp_id.empty()) {
    if (!o.webauthn_origins.empty() || !o.webauthn_rp_name.empty())
      return "--webauthn-origins and --webauthn-rp-name need "
             "--webauthn-rp-id";
    return {};
  }
  if (w.rp_id.find_first_of(":/ ") != std::string::npos)
    return "--webauthn-rp-id: must be a domain name, without scheme or port";
  w.origins = split_word_list(o.webauthn_origins);
  if (w.origins.empty())
    w.origins.push_back("https://" + w.rp_id);
  for (auto& origin : w.origins)
    if (origin.rfind("https://", 0) != 0 && origin.rfind("http://", 0) != 0)
      return "--webauthn-origins: not an origin (https://host[:port]): "
             + origin;
  if (s.webauthn_rp_name.empty())
    s.webauthn_rp_name = w.rp_id;
  return {};
}

/// The options used as they are.
void copy_plain(const node_options& o, node_settings& s) {
#define AUTHNODE_OPTION(type, field, ...) s.field = o.field;
#define AUTHNODE_PARSED_OPTION(...)
#include "config/options.def"
}

} // namespace

std::optional<node_settings> resolve(const node_options& o,
                                     std::string& problem) {
  node_settings s;
  copy_plain(o, s);
  for (auto step : {resolve_role, resolve_service, check_throttle,
                    resolve_records, resolve_channels, resolve_mail,
                    resolve_webauthn}) {
    problem = step(o, s);
    if (!problem.empty())
      return std::nullopt;
  }
  return s;
}

} // namespace authnode
