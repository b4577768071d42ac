// Opening a listening socket on one address, for every broker that accepts
// connections (the client listener, the metrics listener). CAF's
// spawn_server would bind every interface; add_tcp_doorman binds the one
// given, and port 0 picks a free port.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include <caf/expected.hpp>
#include <caf/io/abstract_broker.hpp>

#include "core/error_code.hpp"

namespace authnode {

/// The accept handle and the bound port, or `unavailable` with a message
/// like "cannot <what> on HOST:PORT: <reason>".
inline caf::expected<std::pair<caf::io::accept_handle, uint16_t>>
open_doorman(caf::io::abstract_broker* self, const std::string& host,
             uint16_t port, const char* what) {
  auto bound = self->add_tcp_doorman(port, host.c_str(), true);
  if (!bound)
    return caf::make_error(ec::unavailable,
                           std::string{"cannot "} + what + " on " + host + ":"
                             + std::to_string(port) + ": "
                             + self->system().render(bound.error()));
  return bound;
}

} // namespace authnode
