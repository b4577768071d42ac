// From the node's settings to each actor's own: every actor takes a small
// settings struct of its own (so that a test can make one without the
// node's options), and this is the one place that fills them in.
#pragma once

#include "actors/admin.hpp"
#include "actors/auth.hpp"
#include "actors/throttle.hpp"
#include "config/node_settings.hpp"
#include "net/listener.hpp"
#include "net/metrics_listener.hpp"
#include "net/public_protocol.hpp"
#include "storage/database.hpp"

namespace authnode {

/// Hashes a random password once for the dummy hash: empty `dummy_hash`
/// means argon2id cannot run with these settings.
auth_settings make_auth_settings(const node_settings& s);

throttle_settings make_throttle_settings(const node_settings& s);

admin_settings make_admin_settings(const node_settings& s);

listener_settings make_listener_settings(const node_settings& s);

public_settings make_public_settings(const node_settings& s);

/// The admin channel's listener: the public one's settings but its own
/// address, a few connections, and lines long enough for a user_import
/// batch.
listener_settings make_admin_listener_settings(const node_settings& s);

/// Only when `s.metrics_port` is set.
metrics_settings make_metrics_settings(const node_settings& s);

database_settings make_database_settings(const node_settings& s);

} // namespace authnode
