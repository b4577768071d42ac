// The auth actor's routing: each request goes to the flow that carries it
// out (actors/*_flow.cpp, actors/session_ops.cpp), whose steps share this
// actor's state (actors/auth.hpp) through actors/auth_steps.hpp. Nothing
// here decides a request; this file says which code does.
#include "actors/auth.hpp"

#include <caf/typed_event_based_actor.hpp>

#include <sodium.h>

#include "actors/auth_steps.hpp"
#include "actors/email_flow.hpp"
#include "actors/login_flow.hpp"
#include "actors/passkey_flow.hpp"
#include "actors/password_flow.hpp"
#include "actors/recovery_flow.hpp"
#include "actors/register_flow.hpp"
#include "actors/second_factor_flow.hpp"
#include "actors/session_ops.hpp"
#include "core/counters.hpp"

namespace authnode {

auth_actor::behavior_type auth(auth_ptr self, auth_settings cfg,
                               database_actor db, hasher_actor hasher,
                               guard_actor guard, audit_actor audit,
                               std::shared_ptr<node_counters> counters,
                               caf::actor io_sessions) {
  self->state.guard = std::move(guard);
  self->state.io_sessions = std::move(io_sessions);
  self->state.audit = std::move(audit);
  randombytes_buf(self->state.fingerprint_key.data(),
                  self->state.fingerprint_key.size());
  self->state.cfg = std::move(cfg);
  self->state.sessions = session_cache{self->state.cfg.session_cache_size};
  self->state.db = std::move(db);
  self->state.hasher = std::move(hasher);
  self->state.counters = std::move(counters);
  return {
    [=](register_atom, register_request& req) {
      return start_register(self, req);
    },
    [=](login_atom, login_request& req) {
      return start_login(self, req);
    },
    [=](whoami_atom, token_request& req) {
      return start_whoami(self, req);
    },
    [=](whoami_io_atom, token_request& req) {
      return start_whoami_io(self, req);
    },
    [=](logout_atom, token_request& req) {
      return start_logout(self, req);
    },
    [=](chpass_atom, password_change_request& req) {
      return start_change_password(self, req);
    },
    [=](recovery_start_atom, recovery_start_request& req) {
      return start_recovery(self, req);
    },
    [=](recovery_finish_atom, recovery_finish_request& req) {
      return finish_recovery(self, req);
    },
    [=](verify_start_atom, token_request& req) {
      return start_verify_email(self, req);
    },
    [=](verify_finish_atom, token_code_request& req) {
      return finish_verify_email(self, req);
    },
    [=](email_start_atom, email_change_request& req) {
      return start_change_email(self, req);
    },
    [=](email_finish_atom, token_code_request& req) {
      return finish_change_email(self, req);
    },
    [=](totp_setup_atom, token_request& req) {
      return start_totp_setup(self, req);
    },
    [=](totp_enable_atom, token_code_request& req) {
      return enable_totp(self, req);
    },
    [=](totp_disable_atom, totp_disable_request& req) {
      return disable_totp(self, req);
    },
    [=](codes_renew_atom, token_code_request& req) {
      return renew_recovery_codes(self, req);
    },
    [=](login_factor_atom, second_factor_login& req) {
      return finish_second_factor_login(self, req);
    },
    [=](pk_reg_begin_atom, passkey_begin_request& req) {
      return start_passkey_register(self, req);
    },
    [=](pk_reg_finish_atom, passkey_register_request& req) {
      return finish_passkey_register(self, req);
    },
    [=](pk_login_begin_atom, passkey_login_begin_request& req) {
      return start_passkey_login(self, req);
    },
    [=](pk_login_finish_atom, passkey_login_request& req) {
      return finish_passkey_login(self, req);
    },
    [=](pk_list_atom, token_request& req) {
      return list_passkeys(self, req);
    },
    [=](pk_delete_atom, passkey_delete_request& req) {
      return delete_passkey(self, req);
    },
    [=](tick_atom) {
      on_tick(self);
    },
    [=](storage_lost_atom) {
      // Requests on their way to the lost node will never be answered:
      // answer them now. The forwarders answer new ones at once.
      self->state.deadlines.expire_all();
    },
    [=](stats_atom) {
      return take_stats(*self->state.counters);
    },
    [=](forget_atom, int64_t user_id) {
      auto rp = self->make_response_promise<caf::ok_atom>();
      forget_sessions(
        self, user_id, std::string{},
        [=]() mutable { rp.deliver(caf::ok_atom::value); }, answer_error(rp));
      return rp;
    },
    [=](forget_atom, const user_ids& users) {
      // One answer once the connections' cache has dropped them all.
      auto rp = self->make_response_promise<caf::ok_atom>();
      auto left = std::make_shared<size_t>(users.ids.size());
      if (users.ids.empty())
        rp.deliver(caf::ok_atom::value);
      // The first failure answers, and nothing after it.
      for (auto id : users.ids)
        forget_sessions(
          self, id, std::string{},
          [=]() mutable {
            if (*left > 0 && --*left == 0)
              rp.deliver(caf::ok_atom::value);
          },
          [=](caf::error err) mutable {
            if (*left > 0) {
              *left = 0;
              rp.deliver(std::move(err));
            }
          });
      return rp;
    },
  };
}

} // namespace authnode
