// The node's mail, from its options: what the storage node needs to issue
// codes (its secret key, the templates, the limits) and the mailer that
// delivers the outbox. Both are made on the node that owns the database
// (roles all and storage); without --smtp-url there is neither, and the
// node says so at start.
#pragma once

#include <memory>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "actors/interfaces.hpp"
#include "config/node_settings.hpp"
#include "core/counters.hpp"
#include "storage/account_store.hpp"

namespace authnode {

/// Loads the secret key (making it at first start) and the templates; null
/// without mail. False, after logging why, if the node must not start: an
/// unreadable key file or one others may read, a template with an unknown
/// placeholder, an unreadable --smtp-password-file.
bool load_mail_setup(const node_settings& s,
                     std::shared_ptr<const mail_setup>& out);

/// Spawns the mailer for the outbox of `db` and tells `db` about it; an
/// invalid handle without mail.
caf::actor start_mailer(caf::actor_system& sys, const node_settings& s,
                        const database_actor& db,
                        std::shared_ptr<node_counters> counters);

} // namespace authnode
