// A pass over CBOR before libcbor builds it, so that a few hostile bytes
// cannot make it allocate gigabytes.
//
// Why: libcbor 0.8 (Debian 12) allocates a definite array or map for the
// size its head claims before it reads a single element. A five-byte
// attestation object claiming 2^31 elements made it allocate 16 GiB and
// take 40 s. The same goes for the CBOR libfido2 parses inside
// authenticator data (COSE keys, extensions). This pass uses libcbor's own
// streaming decoder, which builds nothing, and asks of every head what a
// well-formed item must satisfy anyway: the elements still owed by all
// open arrays and maps fit in the bytes left (each takes one at least).
// So whatever is then built is no larger than the input.
//
// It also refuses what WebAuthn's CTAP2 canonical CBOR never has:
// indefinite lengths and tags, and nesting deeper than `max_depth`.
#pragma once

#include <cstddef>
#include <string_view>

namespace authnode {

/// Whether `data` starts with one CBOR item that is complete and bounded
/// as above; if so, `read` is the number of bytes it takes.
bool cbor_item_bounded(std::string_view data, size_t& read,
                       size_t max_depth = 8);

} // namespace authnode
