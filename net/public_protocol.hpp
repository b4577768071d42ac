// The public port's line handler: what a client connection does with a
// line. It decodes the line (net/public_codec), answers `ping` itself, hands
// every other op to the auth actor as a typed request, encodes the answer
// and counts it by op and result for /metrics. The admin port's handler is
// net/admin_protocol; the connection broker (net/connection) that calls
// either one knows only framing, backpressure and held replies.
#pragma once

#include <memory>

#include "actors/interfaces.hpp"
#include "actors/session_cache.hpp"
#include "net/connection.hpp"

namespace authnode {

struct public_settings {
  /// The least time from a recovery_start to its reply
  /// (--recovery-reply-time).
  caf::timespan recovery_reply_time = std::chrono::milliseconds(250);
};

/// Every op of docs/protocol.md, answered by `auth`; whoami first from
/// `sessions`, the connections' cache (net/session_keeper.hpp), if any.
line_handler public_protocol(auth_actor auth, public_settings cfg = {},
                             std::shared_ptr<session_cache> sessions = {});

} // namespace authnode
