#include "apps/actor_settings.hpp"

#include <algorithm>
#include <chrono>

#include "actors/hasher.hpp"
#include "core/secrets.hpp"
#include "net/admin_codec.hpp"

namespace authnode {

auth_settings make_auth_settings(const node_settings& s) {
  auth_settings a;
  a.failure_delay = s.failure_delay;
  a.session_ttl = s.session_ttl;
  a.backend_timeout = s.backend_timeout;
  a.min_password = s.min_password;
  a.context_words = s.password_context_words;
  a.params = hash_params{s.hash_ops, s.hash_mem};
  a.dummy_hash = hash_password(make_token(), a.params);
  // Sessions change on other gateways too, unseen by a gateway's cache.
  a.session_cache_size = s.role == node_role::gateway ? 0 : s.session_cache;
  a.trusted_sources = s.trusted_sources;
  a.verify_on_register = s.verify_email;
  a.require_verified = s.require_verified_email;
  a.totp_issuer = s.totp_issuer;
  a.webauthn = s.webauthn;
  a.webauthn_rp_name = s.webauthn_rp_name;
  return a;
}

throttle_settings make_throttle_settings(const node_settings& s) {
  throttle_settings t;
  t.failure_delay = s.failure_delay;
  t.max_penalty = s.max_penalty;
  t.failure_window = s.failure_window;
  t.max_pending = s.max_pending;
  t.max_pending_per_source = s.max_pending_per_source;
  t.register_rate = s.register_rate;
  return t;
}

admin_settings make_admin_settings(const node_settings& s) {
  admin_settings a;
  a.failure_delay = s.failure_delay;
  a.backend_timeout = s.backend_timeout;
  a.min_password = s.min_password;
  a.context_words = s.password_context_words;
  a.params = hash_params{s.hash_ops, s.hash_mem};
  return a;
}

listener_settings make_listener_settings(const node_settings& s) {
  listener_settings l;
  l.host = s.host;
  l.port = s.port;
  l.max_connections = s.max_connections;
  l.connection.max_line = s.max_line;
  l.connection.max_in_flight = s.max_in_flight;
  l.connection.idle_timeout = s.idle_timeout;
  l.connection.trusted_sources = s.trusted_sources;
  return l;
}

public_settings make_public_settings(const node_settings& s) {
  public_settings p;
  p.recovery_reply_time = s.recovery_reply_time;
  return p;
}

listener_settings make_admin_listener_settings(const node_settings& s) {
  auto l = make_listener_settings(s);
  l.host = s.admin_host;
  l.port = s.admin_port;
  l.max_connections = 64;
  l.connection.max_line = std::max<size_t>(l.connection.max_line,
                                           min_admin_line);
  return l;
}

metrics_settings make_metrics_settings(const node_settings& s) {
  metrics_settings m;
  m.host = s.metrics_host;
  m.port = s.metrics_port.value_or(0);
  return m;
}

database_settings make_database_settings(const node_settings& s) {
  database_settings d;
  d.purge_interval = std::chrono::minutes(1);
  d.backup_step_pages = static_cast<int>(s.backup_step_pages);
  d.pool = static_cast<int>(s.db_pool);
  d.throttle_window = s.failure_window;
  return d;
}

} // namespace authnode
