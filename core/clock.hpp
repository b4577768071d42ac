// Wall-clock time as the protocol and the database see it: whole seconds since
// the Unix epoch, printed as RFC 3339 UTC.
#pragma once

#include <cstdint>
#include <string>

namespace authnode {

using unix_seconds = int64_t;

unix_seconds now_seconds();

/// Milliseconds since the Unix epoch (the outbox's and the guard's shared
/// records' times).
int64_t now_millis();

/// "2026-11-25T14:34:49Z".
std::string rfc3339(unix_seconds t);

} // namespace authnode
