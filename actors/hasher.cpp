#include "actors/hasher.hpp"

#include <sodium.h>

#include "core/error_code.hpp"
#include "core/hash_format.hpp"
#include "core/hash_verify.hpp"

namespace authnode {

std::string hash_password(const std::string& password, const hash_params& p) {
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), p.ops,
                        static_cast<size_t>(p.mem))
      != 0)
    return {};
  return out;
}

verify_outcome verify_password(const std::string& phc, const secret& password,
                               const hash_params& p) {
  verify_outcome out;
  out.match = hash_matches(phc, password);
  out.needs_rehash = out.match && !is_current_hash(phc, p.ops, p.mem);
  return out;
}

hasher_actor::behavior_type hasher(hasher_actor::pointer) {
  return {
    [](hash_atom, const secret& password,
       const hash_params& p) -> caf::result<std::string> {
      auto phc = hash_password(password.reveal(), p);
      if (phc.empty())
        return caf::make_error(ec::internal,
                               std::string{"argon2id ran out of memory"});
      return phc;
    },
    [](verify_atom, const std::string& phc, const secret& password,
       const hash_params& p) {
      return verify_password(phc, password, p);
    },
    // Priority is the pool's business; a hasher verifies all alike.
    [](urgent_atom, verify_atom, const std::string& phc, const secret& password,
       const hash_params& p) {
      return verify_password(phc, password, p);
    },
  };
}

} // namespace authnode
