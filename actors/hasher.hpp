// A hasher: makes argon2id hashes through libsodium, and verifies passwords
// against stored hashes of every accepted format (argon2id, and those an
// operator imported: core/hash_verify), one password at a time.
//
// Spawned detached (its own thread) because one hash takes tens of
// milliseconds of CPU and memory by design and must never run on CAF's
// cooperative scheduler threads. Stateless: the cost parameters come with
// every request, so a hasher on another node needs no configuration.
#pragma once

#include "actors/interfaces.hpp"

namespace authnode {

hasher_actor::behavior_type hasher(hasher_actor::pointer self);

/// Hashes outside any actor; for start-up work such as the dummy hash.
std::string hash_password(const std::string& password, const hash_params& p);

/// Checks a password against a stored hash of any accepted format; a garbage
/// string is a non-match. A match asks for a rehash unless the hash is
/// argon2id with exactly the parameters `p` (core/hash_format).
verify_outcome verify_password(const std::string& phc, const secret& password,
                               const hash_params& p);

} // namespace authnode
