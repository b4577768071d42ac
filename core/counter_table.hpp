// The node's counters, listed once. Each row is one counter:
//
//   X(name, source, metric_type, metric_name, help)
//
// - name: the member of node_counters and of stats_snapshot, and the key in
//   the JSON of the `stats` reply (in this order: docs/protocol.md).
// - source: `atomic`, an std::atomic in node_counters that the actors bump;
//   `uptime`, read off the clock (seconds since node_counters::started).
// - metric_type, metric_name, help: the row in /metrics (core/metrics_text),
//   `none` for a counter that only `stats` shows.
//
// From this one list come node_counters' atomics (core/counters.hpp),
// stats_snapshot with its inspect() (actors/interfaces.hpp), take_stats()
// (core/counters.cpp), the `stats` JSON (net/wire.cpp) and the scalar rows
// of /metrics. A counter added here appears in all of them, and in the
// message stats_snapshot, which crosses nodes: a new row is a new
// cluster_protocol (actors/interfaces.hpp).
// Histograms and the request matrix are not scalars and stay in
// core/metrics.hpp.
#pragma once

// clang-format off
#define AUTHNODE_STATS(X)                                                      \
  X(connections, atomic, gauge, "authnode_connections",                        \
    "Client connections open.")                                                \
  X(requests_total, atomic, none, "", "")                                      \
  X(registrations_total, atomic, counter, "authnode_registrations_total",      \
    "Accounts created.")                                                       \
  X(logins_ok, atomic, none, "", "")                                           \
  X(logins_failed, atomic, none, "", "")                                       \
  X(pending_delayed, atomic, gauge, "authnode_delayed_replies_pending",        \
    "Failure replies held until their failure-delay is over.")                 \
  X(hash_verifications_total, atomic, counter,                                 \
    "authnode_hash_verifications_total",                                       \
    "argon2id password verifications done (logins, password changes).")       \
  X(rate_limited_total, atomic, counter, "authnode_rate_limited_total",        \
    "Attempts refused by the throttle with rate_limited.")                     \
  X(penalized_sources, atomic, gauge, "authnode_penalized_sources",            \
    "Client addresses with a throttle penalty.")                               \
  X(penalized_accounts, atomic, gauge, "authnode_penalized_accounts",          \
    "Accounts with a throttle penalty.")                                       \
  X(throttle_held, atomic, gauge, "authnode_throttle_held",                    \
    "Logins held by the throttle until their penalty is over.")                \
  X(hash_queue_depth, atomic, gauge, "authnode_hash_queue_depth",              \
    "Hash jobs waiting for a free hasher (both queues).")                      \
  X(idle_closed_total, atomic, counter, "authnode_idle_closed_total",          \
    "Connections closed by --idle-timeout.")                                   \
  X(tarpitted_total, atomic, counter, "authnode_tarpitted_total",              \
    "Times a connection was made to wait for ignoring retry_after_ms.")        \
  X(mails_sent_total, atomic, counter, "authnode_mails_sent_total",          \
    "Mails handed over to the SMTP relay.")                                    \
  X(mails_failed_total, atomic, counter, "authnode_mails_failed_total",      \
    "Mail deliveries that failed and will be tried again.")                    \
  X(mails_dropped_total, atomic, counter, "authnode_mails_dropped_total",    \
    "Mails given up after --mail-max-age without a delivery.")                 \
  X(outbox_depth, atomic, gauge, "authnode_outbox_depth",                      \
    "Mails in the outbox waiting for delivery.")                               \
  X(second_factor_challenges_total, atomic, counter,                           \
    "authnode_second_factor_challenges_total",                                 \
    "Logins whose password matched that were asked for a second factor.")     \
  X(second_factor_ok_total, atomic, counter,                                   \
    "authnode_second_factor_ok_total",                                         \
    "Second-factor codes accepted (TOTP or recovery code).")                   \
  X(second_factor_failed_total, atomic, counter,                               \
    "authnode_second_factor_failed_total",                                     \
    "Second-factor codes refused (wrong, replayed, used or no challenge).")    \
  X(breached_password_refused_total, atomic, counter,                          \
    "authnode_breached_password_refused_total",                                \
    "New passwords refused because the breached index has them.")           \
  X(breached_login_total, atomic, counter, "authnode_breached_login_total",    \
    "Successful logins whose password is in the breached index.")             \
  X(breached_index_state, atomic, gauge, "authnode_breached_index_state",      \
    "Breached-password index: 0 off, 1 on, 2 missing.")                        \
  X(breached_index_entries, atomic, gauge, "authnode_breached_index_entries",  \
    "Entries of the breached-password index the hashers map.")                 \
  X(uptime_seconds, uptime, gauge, "authnode_uptime_seconds",                  \
    "Seconds since the node started.")
// clang-format on
