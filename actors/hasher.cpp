#include "actors/hasher.hpp"

#include <sodium.h>

#include "core/error_code.hpp"
#include "core/hash_format.hpp"
#include "core/hash_verify.hpp"
#include "core/webauthn.hpp"

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

namespace {

using hasher_ptr = hasher_actor::stateful_pointer<hasher_state>;

caf::result<std::string> hash_or_error(const secret& password,
                                       const hash_params& p) {
  auto phc = hash_password(password.reveal(), p);
  if (phc.empty())
    return caf::make_error(ec::internal,
                           std::string{"argon2id ran out of memory"});
  return phc;
}

bool is_breached(hasher_ptr self, const secret& password) {
  auto& st = self->state;
  return st.index && st.index->breached(password.reveal(), st.cfg.min_count);
}

/// Maps the file again: a good one replaces the mapping, a bad one leaves
/// the old in place and is remembered as the problem.
void remap(hasher_ptr self) {
  auto& st = self->state;
  if (st.cfg.path.empty())
    return;
  std::string error;
  auto fresh = breached_index::open(st.cfg.path, error);
  if (!fresh) {
    st.problem = std::move(error);
    return;
  }
  st.index = std::move(fresh);
  st.problem.clear();
}

breached_status status_of(const hasher_state& st) {
  breached_status out;
  out.path = st.cfg.path;
  out.problem = st.problem;
  if (st.cfg.path.empty())
    out.state = breached_state::off;
  else if (!st.index)
    out.state = breached_state::missing;
  else
    out.state = breached_state::on;
  out.entries = st.index ? st.index->entries() : 0;
  return out;
}

verify_outcome verify(hasher_ptr self, const std::string& phc,
                      const secret& password, const hash_params& p) {
  auto out = verify_password(phc, password, p);
  out.breached = out.match && is_breached(self, password);
  return out;
}

} // namespace

hasher_actor::behavior_type hasher(hasher_ptr self, breached_settings cfg) {
  self->state.cfg = std::move(cfg);
  remap(self);
  return {
    [](hash_atom, const secret& password, const hash_params& p) {
      return hash_or_error(password, p);
    },
    // Looked up before argon2 is spent on a password that is refused.
    [=](hash_new_atom, const secret& password,
        const hash_params& p) -> caf::result<std::string> {
      if (is_breached(self, password))
        return caf::make_error(ec::breached_password);
      return hash_or_error(password, p);
    },
    [=](breached_reload_atom, bool again) {
      if (again)
        remap(self);
      return status_of(self->state);
    },
    [=](verify_atom, const std::string& phc, const secret& password,
        const hash_params& p) {
      return verify(self, phc, password, p);
    },
    // Priority is the pool's business; a hasher verifies all alike.
    [=](urgent_atom, verify_atom, const std::string& phc,
        const secret& password, const hash_params& p) {
      return verify(self, phc, password, p);
    },
    [](wa_register_atom, const webauthn_registration& reg,
       const std::string& challenge, const webauthn_policy& policy) {
      auto checked = verify_registration(reg, challenge, policy);
      return registration_verdict{checked.refusal, std::move(checked.value)};
    },
    [](wa_assert_atom, const webauthn_assertion& assertion,
       const std::string& challenge, const webauthn_credential& stored,
       const webauthn_policy& policy) {
      auto checked = verify_assertion(assertion, challenge, stored, policy);
      return assertion_verdict{checked.refusal, checked.value};
    },
  };
}

} // namespace authnode
