// Listening for line clients whose end of input is not the end of the
// connection.
//
// CAF 0.17's TCP stream reads recv() == 0 (the peer's FIN, e.g. after
// `shutdown(SHUT_WR)` or `nc -N`) as a failure: the scribe detaches from its
// broker with a connection_closed_msg, so replies the connection still owes
// (held failures, answers on their way from the auth actor) can no longer be
// written. A half-closed peer is still reading, and "every request gets
// exactly one reply" must hold for it.
//
// open_line_doorman() opens a doorman whose scribes tell the broker
// `end_of_input_atom` instead: the read side stops, the write side stays, and
// the broker closes once it has answered what it read (net/connection.cpp).
// Two more things CAF 0.17 does not do for a line server: a flush sends at
// once when the socket has room (CAF's waits for the loop's next turn and
// costs two epoll_ctl calls per reply), and Nagle is off (TCP_NODELAY), as
// for Redis. Everything else is CAF's own: the same multiplexer and event
// loop, CAF's stream (stream_impl, with a read policy of ours), CAF's
// accept loop. Read errors (a reset) and write errors (EPIPE) still detach
// the scribe as before, with a connection_closed_msg.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include <caf/expected.hpp>
#include <caf/io/abstract_broker.hpp>

namespace authnode {

/// Like open_doorman() (net/doorman.hpp), but the connections it accepts
/// report the peer's end of input as `end_of_input_atom` and stay open for
/// writing. Falls back to CAF's own doorman on a multiplexer other than
/// CAF's default one (then a half-close reads as a close, as in CAF).
caf::expected<std::pair<caf::io::accept_handle, uint16_t>>
open_line_doorman(caf::io::abstract_broker* self, const std::string& host,
                  uint16_t port, const char* what);

} // namespace authnode
