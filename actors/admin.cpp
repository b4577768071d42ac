#include "actors/admin.hpp"

#include <algorithm>
#include <type_traits>
#include <unordered_map>
#include <variant>

#include <caf/typed_event_based_actor.hpp>

#include "actors/guard.hpp"
#include "actors/throttle.hpp"
#include "core/account_rules.hpp"
#include "core/cidr.hpp"
#include "core/clock.hpp"
#include "core/email.hpp"
#include "core/error_code.hpp"
#include "core/hash_format.hpp"
#include "core/source_key.hpp"

namespace authnode {

namespace {

using admin_ptr = admin_actor::stateful_pointer<admin_state>;

/// The database's not_found means, to an operator, an unknown email.
caf::error for_operator(caf::error err) {
  if (err == caf::make_error(ec::not_found))
    return caf::make_error(ec::no_such_user);
  return err;
}

/// Asks `dest` and runs `on_result`, or delivers the error to `rp`.
template <class Result, class RP, class Handle, class Timeout, class F,
          class... Ts>
void ask_then(admin_ptr self, RP rp, const Handle& dest, Timeout timeout,
              F on_result, Ts&&... xs) {
  self->request(dest, timeout, std::forward<Ts>(xs)...)
    .then(
      [=](Result& result) mutable {
        on_result(result);
      },
      [=](caf::error& err) mutable {
        rp.deliver(for_operator(std::move(err)));
      });
}

/// Asks the database (bounded by backend-timeout).
template <class Result, class RP, class F, class... Ts>
void ask_db(admin_ptr self, RP rp, F on_result, Ts&&... xs) {
  ask_then<Result>(self, rp, self->state.db, self->state.cfg.backend_timeout,
                   std::move(on_result), std::forward<Ts>(xs)...);
}

/// Hashes a password; waiting for a hasher is work, so no time limit.
template <class RP, class F>
void hash_then(admin_ptr self, RP rp, secret password, F on_hash) {
  ask_then<std::string>(self, rp, self->state.hasher, caf::infinite,
                        std::move(on_hash), hash_new_atom::value,
                        std::move(password), self->state.cfg.params);
}

void audit(admin_ptr self, const char* op, const char* outcome,
           const std::string& source, const std::string& account,
           const std::string& reason) {
  if (self->state.audit)
    self->send(self->state.audit, audit_atom::value,
               audit_event{now_seconds(), op, outcome, source, account,
                           reason});
}

/// Drops the cached sessions of a user (an id) or of several (user_ids) in
/// auth, then answers `result`.
template <class RP, class Users, class T>
void forget_then(admin_ptr self, RP rp, Users users, T result) {
  ask_then<caf::ok_atom>(
    self, rp, self->state.auth, self->state.cfg.backend_timeout,
    [=](caf::ok_atom) mutable {
      rp.deliver(std::move(result));
    },
    forget_atom::value, std::move(users));
}

void forget_then_ok(admin_ptr self,
                    caf::typed_response_promise<caf::ok_atom> rp,
                    int64_t user_id) {
  forget_then(self, rp, user_id, caf::ok_atom::value);
}

caf::result<caf::ok_atom> on_deny(admin_ptr self, admin_denial& d) {
  auto rp = self->make_response_promise<caf::ok_atom>();
  auto fail = [=]() mutable {
    audit(self, "admin", "forbidden", d.source, admin_account_key, d.reason);
    rp.deliver(make_held_error(ec::forbidden, self->state.cfg.failure_delay));
  };
  if (!self->state.guard) {
    fail();
    return rp;
  }
  throttle_keys keys{source_key(d.source), admin_account_key};
  self->request(self->state.guard, caf::infinite, guard_admit_atom::value, keys)
    .then(
      [=](caf::ok_atom) mutable {
        // Nothing to verify: the attempt failed the moment it was let in,
        // and is answered once the guard has recorded it.
        report_to_guard(
          self, self->state.guard,
          attempt_report{keys, attempt_result::failure, d.fingerprint}, fail);
      },
      [=](caf::error& err) mutable {
        audit(self, "admin", "rate_limited", d.source, admin_account_key,
              "throttled");
        rp.deliver(std::move(err));
      });
  return rp;
}

caf::result<stats_snapshot> on_stats(admin_ptr self) {
  auto rp = self->make_response_promise<stats_snapshot>();
  ask_then<stats_snapshot>(
    self, rp, self->state.auth, self->state.cfg.backend_timeout,
    [=](stats_snapshot& s) mutable {
      rp.deliver(std::move(s));
    },
    stats_atom::value);
  return rp;
}

caf::result<user_detail> on_show(admin_ptr self, const std::string& raw) {
  auto rp = self->make_response_promise<user_detail>();
  ask_db<user_detail>(
    self, rp,
    [=](user_detail& d) mutable {
      rp.deliver(std::move(d));
    },
    user_show_atom::value, normalize_email(raw), int64_t{now_seconds()});
  return rp;
}

caf::result<user_page> on_list(admin_ptr self, user_query& q) {
  auto rp = self->make_response_promise<user_page>();
  q.prefix = normalize_email(q.prefix);
  q.now = now_seconds();
  ask_db<user_page>(
    self, rp,
    [=](user_page& page) mutable {
      rp.deliver(std::move(page));
    },
    user_list_atom::value, std::move(q));
  return rp;
}

caf::result<user_view> on_add(admin_ptr self, admin_new_user& req) {
  if (auto err = check_new_account(req.email, req.name, req.password,
                                   self->state.cfg.min_password,
                                   self->state.cfg.context_words))
    return err;
  auto email = req.email;
  auto name = req.name;
  auto rp = self->make_response_promise<user_view>();
  hash_then(self, rp, std::move(req.password), [=](std::string& phc) mutable {
    ask_db<user_view>(
      self, rp,
      [=](user_view& created) mutable {
        audit(self, "admin:user_add", "ok", "", email, "admin channel");
        rp.deliver(std::move(created));
      },
      user_add_atom::value,
      new_user{email, name, std::move(phc), now_seconds()});
  });
  return rp;
}

caf::result<caf::ok_atom>
on_set_password(admin_ptr self, const std::string& raw, secret& password) {
  auto email = normalize_email(raw);
  if (auto err = check_new_password(password, email,
                                    self->state.cfg.min_password))
    return err;
  auto rp = self->make_response_promise<caf::ok_atom>();
  // Look first, so that an unknown email costs no hash.
  ask_db<user_record>(
    self, rp,
    [=, password = std::move(password)](user_record& found) mutable {
      auto id = found.user.id;
      if (auto err = check_context(password, email, found.user.name,
                                   self->state.cfg.context_words)) {
        rp.deliver(std::move(err));
        return;
      }
      hash_then(self, rp, std::move(password), [=](std::string& phc) mutable {
        // No session is kept: every session of the user is revoked.
        ask_db<caf::ok_atom>(
          self, rp,
          [=](caf::ok_atom) mutable {
            audit(self, "admin:user_set_password", "ok", "", email,
                  "admin channel");
            forget_then_ok(self, rp, id);
          },
          password_set_atom::value, password_change{id, std::move(phc), {}});
      });
    },
    user_get_atom::value, email);
  return rp;
}

caf::result<caf::ok_atom> on_disable(admin_ptr self, const std::string& raw,
                                     bool disabled) {
  auto rp = self->make_response_promise<caf::ok_atom>();
  auto email = normalize_email(raw);
  ask_db<int64_t>(
    self, rp,
    [=](int64_t id) mutable {
      audit(self, disabled ? "admin:user_disable" : "admin:user_enable", "ok",
            "", email, "admin channel");
      forget_then_ok(self, rp, id);
    },
    user_disable_atom::value, email, disabled);
  return rp;
}

/// The cached sessions hold the user object, email_verified with it: auth
/// forgets them, so a whoami after the reply shows the new flag.
caf::result<caf::ok_atom> on_verify(admin_ptr self, const std::string& raw,
                                    bool verified) {
  auto rp = self->make_response_promise<caf::ok_atom>();
  auto email = normalize_email(raw);
  ask_db<int64_t>(
    self, rp,
    [=](int64_t id) mutable {
      audit(self, verified ? "admin:user_verify" : "admin:user_unverify", "ok",
            "", email, "admin channel");
      forget_then_ok(self, rp, id);
    },
    user_verify_atom::value, email, verified);
  return rp;
}

/// TOTP, recovery codes and pending challenges gone; the cached sessions
/// hold the user with TOTP on, so auth forgets them.
caf::result<caf::ok_atom> on_mfa_reset(admin_ptr self, const std::string& raw) {
  auto rp = self->make_response_promise<caf::ok_atom>();
  auto email = normalize_email(raw);
  ask_db<int64_t>(
    self, rp,
    [=](int64_t id) mutable {
      audit(self, "admin:user_mfa_reset", "ok", "", email, "admin channel");
      forget_then_ok(self, rp, id);
    },
    mfa_reset_atom::value, email);
  return rp;
}

/// A passkey gone; sessions stay (they were granted, by it or not, and
/// sessions_revoke ends them).
caf::result<caf::ok_atom> on_passkey_delete(admin_ptr self,
                                            const std::string& raw,
                                            const std::string& id) {
  auto rp = self->make_response_promise<caf::ok_atom>();
  auto email = normalize_email(raw);
  ask_db<int64_t>(
    self, rp,
    [=](int64_t) mutable {
      audit(self, "admin:passkey_delete", "ok", "", email, "admin channel");
      rp.deliver(caf::ok_atom::value);
    },
    pk_delete_atom::value, email, id);
  return rp;
}

/// Counts, ages and the last error of the outbox; never an address, a body
/// or a code (the database's outbox_status holds none).
caf::result<outbox_status> on_outbox(admin_ptr self) {
  auto rp = self->make_response_promise<outbox_status>();
  ask_db<outbox_status>(
    self, rp,
    [=](outbox_status& st) mutable {
      rp.deliver(std::move(st));
    },
    outbox_status_atom::value);
  return rp;
}

/// A bad new file leaves the old mapping in place: the reply's `problem`
/// says why, and so do the log and the audit line.
caf::result<breached_status> on_breached_reload(admin_ptr self) {
  auto rp = self->make_response_promise<breached_status>();
  ask_then<breached_status>(
    self, rp, self->state.hasher, caf::infinite,
    [=](breached_status& status) mutable {
      audit(self, "admin:breached_reload",
            status.problem.empty() ? "ok" : "kept_old", "", "",
            status.problem.empty() ? "admin channel" : status.problem);
      rp.deliver(std::move(status));
    },
    breached_reload_atom::value, true);
  return rp;
}

caf::result<caf::ok_atom> on_delete(admin_ptr self, const std::string& raw) {
  auto rp = self->make_response_promise<caf::ok_atom>();
  auto email = normalize_email(raw);
  ask_db<int64_t>(
    self, rp,
    [=](int64_t id) mutable {
      audit(self, "admin:user_delete", "ok", "", email, "admin channel");
      forget_then_ok(self, rp, id);
    },
    user_delete_atom::value, email);
  return rp;
}

caf::result<session_list> on_sessions(admin_ptr self, const std::string& raw) {
  auto rp = self->make_response_promise<session_list>();
  ask_db<session_list>(
    self, rp,
    [=](session_list& l) mutable {
      rp.deliver(std::move(l));
    },
    sessions_list_atom::value, normalize_email(raw), int64_t{now_seconds()});
  return rp;
}

caf::result<revoke_result> on_revoke(admin_ptr self, const std::string& raw,
                                     int64_t session_id) {
  auto rp = self->make_response_promise<revoke_result>();
  auto email = normalize_email(raw);
  ask_db<revoke_result>(
    self, rp,
    [=](revoke_result& r) mutable {
      audit(self, "admin:sessions_revoke", "ok", "", email,
            std::to_string(r.revoked) + " revoked");
      forget_then(self, rp, r.user_id, r);
    },
    sessions_revoke_atom::value, email, session_id);
  return rp;
}

// -- user_import
// ----------------------------------------------------------------

/// How far ahead of the node's clock an imported created_at may be: the
/// clocks of the old system and of this node may disagree a little.
constexpr int64_t max_created_ahead = 86400;

import_rejection rejection(const import_row& row, import_code code,
                           std::string message) {
  return {row.index, code, std::move(message)};
}

/// Checks one row the way registration checks a new account, field by
/// field; turns it into a user to store, or says why not.
std::variant<new_user, import_rejection> check_row(const import_row& row,
                                                   int64_t now) {
  auto email = normalize_email(row.email);
  if (!is_valid_email(email))
    return rejection(row, import_code::bad_email,
                     std::string{default_message(ec::invalid_email)});
  auto name = row.name;
  if (!normalize_name(name))
    return rejection(row, import_code::bad_name, name_rule);
  if (auto why = import_problem(row.hash))
    return rejection(row, import_code::bad_hash, std::move(*why));
  if (row.created_at > now + max_created_ahead)
    return rejection(row, import_code::bad_created_at,
                     std::string{"created_at is more than a day ahead of the "
                                 "node's clock"});
  return new_user{std::move(email), std::move(name), row.hash,
                  row.created_at != 0 ? row.created_at : now};
}

/// The rows that pass every check, in order; a row whose email an earlier
/// passing row has is a duplicate (the first one wins). Every rejection,
/// the decoder's included, goes to `report`, ordered by index.
import_batch check_rows(const import_request& req, int64_t now,
                        import_report& report) {
  import_batch batch;
  batch.update = req.update;
  report.rejected = req.rejected;
  std::unordered_map<std::string, int64_t> first_row;
  for (auto& row : req.rows) {
    auto checked = check_row(row, now);
    if (auto rejected = std::get_if<import_rejection>(&checked)) {
      report.rejected.push_back(std::move(*rejected));
      continue;
    }
    auto& user = std::get<new_user>(checked);
    auto [at, fresh] = first_row.emplace(user.email, row.index);
    if (!fresh) {
      report.rejected.push_back(rejection(
        row, import_code::duplicate,
        "the same email as users[" + std::to_string(at->second) + "]"));
      continue;
    }
    batch.users.push_back(std::move(user));
  }
  std::sort(report.rejected.begin(), report.rejected.end(),
            [](const import_rejection& a, const import_rejection& b) {
              return a.index < b.index;
            });
  return batch;
}

/// Audits the batch and each user whose hash it replaced, then has auth
/// forget their sessions before the operator hears of it (as after
/// user_set_password).
void imported(admin_ptr self, caf::typed_response_promise<import_report> rp,
              import_report report, const import_outcome& done) {
  auto& n = report.counts = done.counts;
  audit(self, "admin:user_import", "ok", "", "",
        "imported " + std::to_string(n.imported) + ", updated "
          + std::to_string(n.updated) + ", skipped " + std::to_string(n.skipped)
          + ", rejected " + std::to_string(report.rejected.size()));
  if (done.replaced.empty()) {
    rp.deliver(std::move(report));
    return;
  }
  user_ids users;
  for (auto& user : done.replaced) {
    audit(self, "admin:user_import", "ok", "", user.email,
          "hash replaced, sessions revoked");
    users.ids.push_back(user.id);
  }
  forget_then(self, rp, std::move(users), std::move(report));
}

caf::result<import_report> on_import(admin_ptr self,
                                     const import_request& req) {
  import_report report;
  auto batch = check_rows(req, now_seconds(), report);
  if (batch.users.empty())
    return report;
  auto rp = self->make_response_promise<import_report>();
  ask_db<import_outcome>(
    self, rp,
    [=](import_outcome& done) mutable {
      imported(self, rp, std::move(report), done);
    },
    user_import_atom::value, std::move(batch));
  return rp;
}

caf::result<backup_result> on_backup(admin_ptr self, const std::string& path) {
  auto rp = self->make_response_promise<backup_result>();
  // No time limit: a backup takes as long as the database is big, and the
  // database actor answers it in any case (done, failed or abandoned).
  ask_then<backup_result>(
    self, rp, self->state.db, caf::infinite,
    [=](backup_result& r) mutable {
      audit(self, "admin:backup", "ok", "", "", r.path);
      rp.deliver(std::move(r));
    },
    backup_atom::value, path);
  return rp;
}

/// The key as the guard spells it, or why the operator's cannot be one.
caf::expected<throttle_target> guard_key(admin_ptr self, throttle_target t) {
  if (!self->state.guard)
    return caf::make_error(ec::bad_request,
                           std::string{"throttling is off (--throttle=off)"});
  if (t.account) {
    t.key = normalize_email(t.key);
  } else {
    if (!is_ip_address(t.key))
      return caf::make_error(ec::bad_request,
                             std::string{"source must be an IP address"});
    t.key = source_key(t.key);
  }
  t.key = key_prefix(t.kind) + t.key;
  return t;
}

template <class Result, class Atom>
caf::result<Result> on_throttle(admin_ptr self, Atom atom,
                                const throttle_target& raw) {
  auto target = guard_key(self, raw);
  if (!target)
    return std::move(target.error());
  auto rp = self->make_response_promise<Result>();
  ask_then<Result>(
    self, rp, self->state.guard, self->state.cfg.backend_timeout,
    [=](Result& r) mutable {
      if constexpr (std::is_same_v<Result, bool>)
        audit(self, "admin:throttle_reset", "ok", "", target->key,
              r ? "failures forgotten" : "nothing to forget");
      rp.deliver(std::move(r));
    },
    atom, *target);
  return rp;
}

} // namespace

admin_actor::behavior_type admin(admin_ptr self, admin_settings cfg,
                                 database_actor db, hasher_actor hasher,
                                 auth_actor auth, guard_actor guard,
                                 audit_actor audit) {
  auto& st = self->state;
  st.cfg = cfg;
  st.db = std::move(db);
  st.hasher = std::move(hasher);
  st.auth = std::move(auth);
  st.guard = std::move(guard);
  st.audit = std::move(audit);
  return {
    [=](deny_atom, admin_denial& d) {
      return on_deny(self, d);
    },
    [=](stats_atom) {
      return on_stats(self);
    },
    [=](user_show_atom, const std::string& email) {
      return on_show(self, email);
    },
    [=](user_list_atom, user_query& q) {
      return on_list(self, q);
    },
    [=](user_add_atom, admin_new_user& req) {
      return on_add(self, req);
    },
    [=](user_passwd_atom, const std::string& email, secret& password) {
      return on_set_password(self, email, password);
    },
    [=](user_disable_atom, const std::string& email, bool disabled) {
      return on_disable(self, email, disabled);
    },
    [=](user_delete_atom, const std::string& email) {
      return on_delete(self, email);
    },
    [=](sessions_list_atom, const std::string& email) {
      return on_sessions(self, email);
    },
    [=](sessions_revoke_atom, const std::string& email, int64_t session_id) {
      return on_revoke(self, email, session_id);
    },
    [=](throttle_show_atom, const throttle_target& t) {
      return on_throttle<throttle_status>(self, throttle_show_atom::value, t);
    },
    [=](throttle_reset_atom, const throttle_target& t) {
      return on_throttle<bool>(self, throttle_reset_atom::value, t);
    },
    [=](user_import_atom, const import_request& req) {
      return on_import(self, req);
    },
    [=](backup_atom, const std::string& path) {
      return on_backup(self, path);
    },
    [=](outbox_status_atom) {
      return on_outbox(self);
    },
    [=](user_verify_atom, const std::string& email, bool verified) {
      return on_verify(self, email, verified);
    },
    [=](pk_delete_atom, const std::string& email, const std::string& id) {
      return on_passkey_delete(self, email, id);
    },
    [=](mfa_reset_atom, const std::string& email) {
      return on_mfa_reset(self, email);
    },
    [=](breached_reload_atom) {
      return on_breached_reload(self);
    },
  };
}

} // namespace authnode
