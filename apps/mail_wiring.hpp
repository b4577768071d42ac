// The storage node's secrets and mail, from its options: its secret key
// (which seals TOTP seeds and queued mail and keys the digests of codes),
// what it needs to issue codes (the templates, the limits) and the mailer
// that delivers the outbox. All are made on the node that owns the
// database (roles all and storage); without --smtp-url there is no mail,
// and the node says so at start.
#pragma once

#include <memory>
#include <optional>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "actors/interfaces.hpp"
#include "config/node_settings.hpp"
#include "core/counters.hpp"
#include "storage/account_store.hpp"
#include "storage/second_factor_store.hpp"

namespace authnode {

/// The node's secret key file (made at first start), or random keys for an
/// in-memory database without --secret-key-file; nothing, after logging
/// why, if the file cannot be read or others may read it.
std::optional<node_keys> load_secret_keys(const node_settings& s);

/// The second factors' settings, with the node's keys.
std::shared_ptr<const factor_setup> make_factor_setup(const node_settings& s,
                                                      const node_keys& keys);

/// Loads the templates; null without mail. False, after logging why, if the
/// node must not start: a template with an unknown placeholder, an
/// unreadable --smtp-password-file.
bool load_mail_setup(const node_settings& s, const node_keys& keys,
                     std::shared_ptr<const mail_setup>& out);

/// Spawns the mailer for the outbox of `db` and tells `db` about it; an
/// invalid handle without mail.
caf::actor start_mailer(caf::actor_system& sys, const node_settings& s,
                        const database_actor& db,
                        std::shared_ptr<node_counters> counters);

} // namespace authnode
