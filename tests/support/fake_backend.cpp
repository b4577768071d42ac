#include "support/fake_backend.hpp"

#include "core/error_code.hpp"
#include "core/secrets.hpp"

namespace authnode::test {

namespace {


template <class T>
caf::result<T> never_answer(database_actor::pointer self, fake_store& store) {
  auto rp = self->make_response_promise<T>();
  store.unanswered.push_back(rp);
  return rp;
}

user_record* find_user(fake_store& store, int64_t id) {
  for (auto& [email, record] : store.users)
    if (record.user.id == id)
      return &record;
  return nullptr;
}

caf::error no_second_factors() {
  return caf::make_error(ec::conflict, std::string{"TOTP is not on"});
}

caf::error no_passkeys() {
  return caf::make_error(ec::unavailable, std::string{"no passkeys here"});
}

} // namespace

database_actor::behavior_type fake_database(database_actor::pointer self,
                                            store_ptr store) {
  return {
    [=](user_add_atom, new_user& user) -> caf::result<user_view> {
      if (store->silent)
        return never_answer<user_view>(self, *store);
      store->added.push_back(user);
      if (store->users.count(user.email) > 0)
        return caf::make_error(ec::email_taken);
      user_view view{store->next_id++, user.email, user.name, user.created_at,
                     0};
      store->users[user.email] = user_record{view, user.password_hash};
      return view;
    },
    [=](user_get_atom, std::string& email) -> caf::result<user_record> {
      if (store->silent)
        return never_answer<user_record>(self, *store);
      store->user_lookups.push_back(email);
      auto i = store->users.find(email);
      if (i == store->users.end())
        return caf::make_error(ec::not_found);
      return i->second;
    },
    [=](login_commit_atom, login_commit& commit) -> caf::result<caf::ok_atom> {
      if (store->silent)
        return never_answer<caf::ok_atom>(self, *store);
      store->commits.push_back(commit);
      auto user = find_user(*store, commit.user_id);
      if (user == nullptr)
        return caf::make_error(ec::not_found);
      user->user.last_login_at = commit.at;
      store->sessions[commit.session.token_digest] = session_owner{
        static_cast<int64_t>(store->sessions.size() + 1), *user};
      return caf::ok_atom::value;
    },
    [=](session_get_atom, std::string& digest,
        int64_t /* now */) -> caf::result<session_owner> {
      if (auto hook = std::exchange(store->before_lookup, nullptr))
        hook();
      if (store->silent)
        return never_answer<session_owner>(self, *store);
      store->session_lookups.push_back(digest);
      auto i = store->sessions.find(digest);
      if (i == store->sessions.end())
        return caf::make_error(ec::not_found);
      return i->second;
    },
    [=](session_del_atom, std::string& digest,
        int64_t) -> caf::result<caf::ok_atom> {
      if (store->silent)
        return never_answer<caf::ok_atom>(self, *store);
      store->session_deletes.push_back(digest);
      if (auto hook = std::exchange(store->after_delete, nullptr))
        hook();
      if (store->sessions.erase(digest) == 0)
        return caf::make_error(ec::not_found);
      return caf::ok_atom::value;
    },
    [=](device_get_atom, std::string&) -> caf::result<device_record> {
      return caf::make_error(ec::not_found);
    },
    [=](device_fail_atom, std::string& digest) -> caf::result<caf::ok_atom> {
      store->device_failures.push_back(digest);
      return caf::make_error(ec::not_found);
    },
    [=](password_set_atom,
        password_change& change) -> caf::result<caf::ok_atom> {
      if (store->silent)
        return never_answer<caf::ok_atom>(self, *store);
      store->password_changes.push_back(change);
      auto user = find_user(*store, change.user_id);
      if (user == nullptr)
        return caf::make_error(ec::not_found);
      user->password_hash = change.password_hash;
      return caf::ok_atom::value;
    },
    // The admin channel's queries are not used by auth.
    [=](user_show_atom, std::string&, int64_t) -> caf::result<user_detail> {
      return caf::make_error(ec::not_found);
    },
    [=](user_list_atom, user_query&) -> caf::result<user_page> {
      return caf::make_error(ec::not_found);
    },
    [=](user_disable_atom, std::string&, bool) -> caf::result<int64_t> {
      return caf::make_error(ec::not_found);
    },
    [=](user_delete_atom, std::string&) -> caf::result<int64_t> {
      return caf::make_error(ec::not_found);
    },
    [=](sessions_list_atom, std::string&,
        int64_t) -> caf::result<session_list> {
      return caf::make_error(ec::not_found);
    },
    [=](sessions_revoke_atom, std::string&,
        int64_t) -> caf::result<revoke_result> {
      return caf::make_error(ec::not_found);
    },
    [=](user_import_atom, import_batch&) -> caf::result<import_outcome> {
      return caf::make_error(ec::not_found);
    },
    [=](rehash_atom, password_rehash& x) -> caf::result<bool> {
      store->rehashes.push_back(x);
      if (store->hold_rehashes)
        return never_answer<bool>(self, *store);
      auto user = find_user(*store, x.user_id);
      if (user == nullptr || user->password_hash != x.old_hash)
        return false;
      user->password_hash = x.new_hash;
      return true;
    },
    [=](purge_atom) {
      // nop
    },
    [=](backup_atom, std::string&) -> caf::result<backup_result> {
      return caf::make_error(ec::backup_failed);
    },
    [=](backup_step_atom, uint64_t) {
      // nop
    },
    [=](backup_abort_atom) {
      // nop
    },
    [=](outbox_take_atom, int64_t, int64_t) -> caf::result<outbox_batch> {
      return outbox_batch{};
    },
    [=](outbox_sent_atom, int64_t) -> caf::result<caf::ok_atom> {
      return caf::ok_atom::value;
    },
    [=](outbox_retry_atom, int64_t, int64_t,
        std::string&) -> caf::result<caf::ok_atom> {
      return caf::ok_atom::value;
    },
    [=](outbox_drop_atom, int64_t, std::string&) -> caf::result<caf::ok_atom> {
      return caf::ok_atom::value;
    },
    [=](outbox_status_atom) -> caf::result<outbox_status> {
      return outbox_status{};
    },
    [=](mailer_atom, mailer_actor) {
      // nop
    },
    [=](code_issue_atom, code_request& req) -> caf::result<code_issued> {
      store->issued.push_back(req);
      auto i = store->users.find(req.email);
      if (i == store->users.end())
        return code_issued{false, "unknown account"};
      if (i->second.disabled)
        return code_issued{false, "disabled"};
      store->codes[{req.email, req.purpose}] = "C-" + req.email;
      return code_issued{true, "sent"};
    },
    [=](code_check_atom, code_attempt& x) -> caf::result<user_view> {
      auto i = store->codes.find({x.email, x.purpose});
      if (i == store->codes.end() || i->second != x.code.reveal())
        return caf::make_error(ec::invalid_code);
      return store->users[x.email].user;
    },
    [=](code_use_atom, code_attempt& x) -> caf::result<user_view> {
      auto i = store->codes.find({x.email, x.purpose});
      if (i == store->codes.end() || i->second != x.code.reveal())
        return caf::make_error(ec::invalid_code);
      store->codes.erase(i);
      auto& user = store->users[x.email].user;
      user.email_verified = true;
      return user;
    },
    [=](recover_atom, account_recovery& x) -> caf::result<user_view> {
      auto i = store->codes.find({x.attempt.email, x.attempt.purpose});
      if (i == store->codes.end() || i->second != x.attempt.code.reveal())
        return caf::make_error(ec::invalid_code);
      store->codes.erase(i);
      store->recoveries.push_back(x);
      auto& user = store->users[x.attempt.email];
      user.password_hash = x.password_hash;
      user.user.email_verified = true;
      return user.user;
    },
    [=](user_verify_atom, std::string&, bool) -> caf::result<int64_t> {
      return caf::make_error(ec::not_found);
    },
    // Second factors: no user of this fake has one, but a test may open
    // login challenges (store->challenges) to answer; the flows are tested
    // against the real store in tests/e2e_totp_test.cpp.
    [=](totp_setup_atom, int64_t) -> caf::result<secret> {
      return no_second_factors();
    },
    [=](totp_enable_atom, factor_attempt&) -> caf::result<recovery_code_list> {
      return no_second_factors();
    },
    [=](totp_disable_atom, factor_attempt&) -> caf::result<caf::ok_atom> {
      return no_second_factors();
    },
    [=](codes_renew_atom, factor_attempt&) -> caf::result<recovery_code_list> {
      return no_second_factors();
    },
    [=](challenge_new_atom,
        challenge_request&) -> caf::result<second_factor_challenge> {
      return no_second_factors();
    },
    [=](challenge_owner_atom,
        secret& challenge) -> caf::result<challenge_info> {
      auto i = store->challenges.find(challenge.reveal());
      if (i == store->challenges.end())
        return caf::make_error(ec::invalid_code);
      return challenge_info{store->users.at(i->second).user,
                            store->challenge_devices[challenge.reveal()]};
    },
    [=](challenge_use_atom, challenge_attempt& x) -> caf::result<factor_used> {
      store->code_checks.push_back(self->clock().now());
      auto i = store->challenges.find(x.challenge.reveal());
      if (i == store->challenges.end()
          || x.code.reveal() != store->second_factor_code)
        return caf::make_error(ec::invalid_code);
      auto user = store->users.at(i->second).user;
      store->challenges.erase(i);
      return factor_used{user, "totp"};
    },
    [=](mfa_reset_atom, std::string&) -> caf::result<int64_t> {
      return caf::make_error(ec::not_found);
    },
    // Passkeys are tested on the real store (passkey_store_test.cpp) and
    // over TCP (e2e_passkey_test.cpp).
    [=](pk_reg_begin_atom, webauthn_challenge&) -> caf::result<passkey_owner> {
      return no_passkeys();
    },
    [=](pk_reg_finish_atom, std::string&, int64_t,
        int64_t) -> caf::result<webauthn_challenge> {
      return no_passkeys();
    },
    [=](pk_add_atom, passkey_new&) -> caf::result<passkey_info> {
      return no_passkeys();
    },
    [=](pk_login_begin_atom,
        webauthn_challenge&) -> caf::result<passkey_owner> {
      return no_passkeys();
    },
    [=](pk_find_atom, passkey_lookup&) -> caf::result<passkey_claim> {
      return no_passkeys();
    },
    [=](pk_use_atom, passkey_use&) -> caf::result<caf::ok_atom> {
      return no_passkeys();
    },
    [=](pk_list_atom, int64_t) -> caf::result<passkey_list> {
      return no_passkeys();
    },
    [=](pk_delete_atom, int64_t, std::string&) -> caf::result<caf::ok_atom> {
      return no_passkeys();
    },
    [=](pk_delete_atom, std::string&, std::string&) -> caf::result<int64_t> {
      return no_passkeys();
    },
    // The fake keeps no throttle records: nothing counted elsewhere.
    [=](throttle_load_atom, throttle_lookup&) {
      return shared_failures{};
    },
    [=](throttle_fail_atom, throttle_lookup&) {
      return shared_failures{};
    },
    [=](throttle_forget_atom, std::string&) {
      return false;
    },
  };
}


namespace {

std::string fake_hash(hash_log& log, const secret& password) {
  log.hashed.push_back(password.reveal());
  return "H:" + password.reveal();
}

verify_outcome fake_verify(hash_log& log, const std::string& phc,
                           const secret& password) {
  log.verified.push_back(phc);
  verify_outcome out;
  auto old = "OLD:" + password.reveal();
  out.match = phc == "H:" + password.reveal() || phc == old;
  out.needs_rehash = out.match && phc == old;
  return out;
}

} // namespace

hasher_actor::behavior_type fake_hasher(hasher_actor::pointer,
                                        hash_log_ptr log) {
  return {
    [=](hash_atom, const secret& password, const hash_params&) {
      return fake_hash(*log, password);
    },
    // No breached index here: tests/e2e_breached_test.cpp has the real one.
    [=](hash_new_atom, const secret& password, const hash_params&) {
      return fake_hash(*log, password);
    },
    [=](breached_reload_atom, bool) {
      return breached_status{};
    },
    [=](verify_atom, const std::string& phc, const secret& password,
        const hash_params&) {
      return fake_verify(*log, phc, password);
    },
    [=](urgent_atom, verify_atom, const std::string& phc,
        const secret& password, const hash_params&) {
      return fake_verify(*log, phc, password);
    },
    [](wa_register_atom, webauthn_registration&, std::string&,
       webauthn_policy&) {
      return registration_verdict{};
    },
    [](wa_assert_atom, webauthn_assertion&, std::string&,
       webauthn_credential&, webauthn_policy&) {
      return assertion_verdict{};
    },
  };
}


} // namespace authnode::test
