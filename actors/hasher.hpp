// A hasher: makes argon2id hashes through libsodium, and verifies passwords
// against stored hashes of every accepted format (argon2id, and those an
// operator imported: core/hash_verify), one password at a time.
//
// Spawned detached (its own thread) because one hash takes tens of
// milliseconds of CPU and memory by design and must never run on CAF's
// cooperative scheduler threads. The cost parameters come with every
// request, so a hasher on another node needs no hash configuration.
//
// Each hasher also maps the breached-password index (--breached-passwords,
// core/breached_index.hpp) on its own: a lookup may touch a page not in
// memory, which is disk I/O, and hashers are the threads of this node that
// may block. Why here and not in a separate detached breach checker: a new
// password goes to a hasher anyway, so the check costs no extra message and
// no extra thread, and a hasher node (role hasher) checks against its own
// copy without the gateway knowing the file. Every mapping of one file
// shares the page cache, so n hashers cost the memory of one. A hasher's
// index is its own (never shared between threads); a reload maps the file
// again and keeps the old mapping when the new file is bad.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/interfaces.hpp"
#include "core/breached_index.hpp"

namespace authnode {

/// What a hasher knows of the breached-password index.
struct breached_settings {
  /// --breached-passwords; empty: no check.
  std::string path;
  /// --breached-min-count.
  uint32_t min_count = 1;
};

struct hasher_state {
  breached_settings cfg;
  /// Nothing while the check is off or the file could not be mapped.
  std::optional<breached_index> index;
  /// Why the last map failed; empty when it did not.
  std::string problem;
  static inline const char* name = "hasher";
};

hasher_actor::behavior_type
hasher(hasher_actor::stateful_pointer<hasher_state> self,
       breached_settings cfg);

/// Hashes outside any actor; for start-up work such as the dummy hash.
std::string hash_password(const std::string& password, const hash_params& p);

/// Checks a password against a stored hash of any accepted format; a garbage
/// string is a non-match. A match asks for a rehash unless the hash is
/// argon2id with exactly the parameters `p` (core/hash_format).
verify_outcome verify_password(const std::string& phc, const secret& password,
                               const hash_params& p);

} // namespace authnode
