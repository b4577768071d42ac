// The admin channel's line handler: what an admin connection does with a
// line, as net/public_protocol is the public port's. The listener and
// connection brokers are the public port's (net/listener, net/connection);
// only this handler differs. Its requests are not counted by op for
// /metrics.
//
// The key is checked here, on the broker thread, before the op is looked
// at: a BLAKE2b digest of the presented key against the digest of the right
// one, in constant time (core/admin_key). It never travels further. A line
// without the right key goes to the admin actor as a denial, which the guard
// counts like a failed login from that source and which is answered
// `forbidden`, late, like a failed login.
#pragma once

#include <string>

#include "actors/interfaces.hpp"
#include "net/connection.hpp"

namespace authnode {

/// `key_digest`: admin_key_digest() of the right key.
line_handler admin_protocol(admin_actor admin, std::string key_digest);

} // namespace authnode
