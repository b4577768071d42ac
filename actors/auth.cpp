#include "actors/auth.hpp"

#include <algorithm>
#include <functional>
#include <optional>

#include <caf/typed_event_based_actor.hpp>

#include <caf/sec.hpp>

#include <sodium.h>

#include "core/account_rules.hpp"
#include "core/clock.hpp"
#include "core/counters.hpp"
#include "core/email.hpp"
#include "core/error_code.hpp"
#include "core/source_key.hpp"

namespace authnode {

namespace {

using auth_ptr = auth_actor::stateful_pointer<auth_state>;

bool is_not_found(const caf::error& err) {
  return err == caf::make_error(ec::not_found);
}

/// The address a request is throttled and recorded under: the peer's, or
/// the end user's when a trusted application server names it.
caf::expected<std::string> effective_source(auth_ptr self,
                                            const std::string& peer,
                                            const std::string& client_addr) {
  if (client_addr.empty())
    return peer;
  auto& trusted = self->state.cfg.trusted_sources;
  auto is_trusted = std::any_of(trusted.begin(), trusted.end(),
                                [&](const cidr& r) {
                                  return r.contains(peer);
                                });
  if (!is_trusted)
    return caf::make_error(ec::bad_request,
                           std::string{"client_addr is only accepted from "
                                       "--trusted-sources"});
  if (!is_ip_address(client_addr))
    return caf::make_error(ec::bad_request,
                           std::string{"client_addr must be an IP address"});
  return client_addr;
}

/// One line in the audit log, if there is one. Never a secret.
void audit_outcome(auth_ptr self, const char* op, const char* outcome,
                   const std::string& source, const std::string& account,
                   const char* reason) {
  if (self->state.audit)
    self->send(self->state.audit, audit_atom::value,
               audit_event{now_seconds(), op, outcome, source, account,
                           reason});
}

/// Runs `on_error` for a refusal by the guard, after writing it down.
std::function<void(caf::error)>
audited_refusal(auth_ptr self, const char* op, std::string source,
                std::string account, std::function<void(caf::error)> on_error) {
  return [=](caf::error err) {
    if (to_wire(err).code == ec::rate_limited)
      audit_outcome(self, op, "rate_limited", source, account, "throttled");
    on_error(std::move(err));
  };
}

caf::error failed_credentials(auth_ptr self) {
  self->state.counters->logins_failed += 1;
  return make_held_error(ec::invalid_credentials,
                         self->state.cfg.failure_delay);
}

/// Sends a request tracked as `call` in the deadline queue: its answer is
/// taken only while the call is open, so that exactly one of the callbacks
/// runs, whether the answer, the time limit or the loss of the storage node
/// comes first.
template <class Result, class Dest, class OnResult, class... Ts>
void ask_tracked(auth_ptr self, const Dest& dest, deadline_queue::call_id call,
                 OnResult on_result, std::function<void(caf::error)> on_error,
                 Ts&&... xs) {
  self->request(dest, caf::infinite, std::forward<Ts>(xs)...)
    .then(
      [=](Result& result) mutable {
        if (self->state.deadlines.close(call))
          on_result(result);
      },
      [=](caf::error& err) mutable {
        if (self->state.deadlines.close(call))
          on_error(std::move(err));
      });
}

/// Asks the database under the backend time limit, which the deadline queue
/// keeps instead of a CAF timer per request. Exactly one of the callbacks
/// runs: `on_error` with the database's error, or with request_timeout when
/// the limit passes first (a late answer is then dropped).
template <class Result, class OnResult, class... Ts>
void ask_db(auth_ptr self, OnResult on_result,
            std::function<void(caf::error)> on_error, Ts&&... xs) {
  auto& st = self->state;
  auto now = self->clock().now();
  auto call = st.deadlines.open(now + st.cfg.backend_timeout, [on_error] {
    on_error(caf::make_error(caf::sec::request_timeout));
  });
  if (!st.tick_armed) {
    st.tick_armed = true;
    self->delayed_send(self, st.cfg.backend_timeout, tick_atom::value);
  }
  ask_tracked<Result>(self, st.db, call, std::move(on_result),
                      std::move(on_error), std::forward<Ts>(xs)...);
}

/// Asks the guard, with no time limit (it holds an admission for as long as
/// a penalty lasts), but failed with unavailable if the storage node that
/// runs the guard is lost meanwhile (storage_lost_atom).
template <class Result, class OnResult, class... Ts>
void ask_guard(auth_ptr self, OnResult on_result,
               std::function<void(caf::error)> on_error, Ts&&... xs) {
  auto& st = self->state;
  auto call = st.deadlines.open_untimed([on_error] {
    on_error(caf::make_error(ec::unavailable, "the storage node was lost"));
  });
  ask_tracked<Result>(self, st.guard, call, std::move(on_result),
                      std::move(on_error), std::forward<Ts>(xs)...);
}

void on_tick(auth_ptr self) {
  auto& st = self->state;
  auto now = self->clock().now();
  st.tick_armed = false;
  if (auto next = st.deadlines.expire(now)) {
    st.tick_armed = true;
    self->delayed_send(self, *next - now, tick_atom::value);
  }
}

// -- register ----------------------------------------------------------------

caf::result<user_view> on_register(auth_ptr self, register_request& req) {
  auto source = effective_source(self, req.source, req.client_addr);
  if (!source)
    return std::move(source.error());
  req.source = std::move(*source);
  if (auto err = check_new_account(req.email, req.name, req.password,
                                   self->state.cfg.min_password))
    return err;
  auto email = req.email;
  auto name = req.name;
  auto rp = self->make_response_promise<user_view>();
  auto store = [=](std::string phc) mutable {
    new_user user{email, name, std::move(phc), now_seconds()};
    ask_db<user_view>(
      self,
      [=](user_view& created) mutable {
        self->state.counters->registrations_total += 1;
        rp.deliver(std::move(created));
      },
      [=](caf::error err) mutable {
        rp.deliver(std::move(err));
      },
      user_add_atom::value, std::move(user));
  };
  auto hash = [=, password = std::move(req.password)]() mutable {
    self
      ->request(self->state.hasher, caf::infinite, hash_atom::value,
                std::move(password), self->state.cfg.params)
      .then(
        [=](std::string& phc) mutable {
          store(std::move(phc));
        },
        [=](caf::error& err) mutable {
          rp.deliver(std::move(err));
        });
  };
  // Every hash is paid from the source's registration budget, so that a
  // registration flood cannot take the CPU that logins need.
  auto budgeted_hash = [=, peer = req.source,
                        source = source_key(req.source)]() mutable {
    if (!self->state.guard) {
      hash();
      return;
    }
    ask_guard<caf::ok_atom>(
      self, [=](caf::ok_atom) mutable { hash(); },
      audited_refusal(self, "register", peer, email,
                      [=](caf::error err) mutable {
                        rp.deliver(std::move(err));
                      }),
      guard_spend_atom::value, source);
  };
  // Look first so that a taken email costs no hash; the UNIQUE constraint
  // still settles a race between two registrations of one email.
  ask_db<user_record>(
    self,
    [=](user_record&) mutable {
      rp.deliver(caf::make_error(ec::email_taken));
    },
    [=](caf::error err) mutable {
      if (is_not_found(err))
        budgeted_hash();
      else
        rp.deliver(std::move(err));
    },
    user_get_atom::value, email);
  return rp;
}

// -- login -------------------------------------------------------------------

/// `new_device`: hand out a device token with the session (the login did
/// not present a valid one).
void grant_session(auth_ptr self, caf::typed_response_promise<session_grant> rp,
                   user_view user, std::string source, bool new_device) {
  auto now = now_seconds();
  auto ttl = std::chrono::duration_cast<std::chrono::seconds>(
               self->state.cfg.session_ttl)
               .count();
  auto token = make_token();
  login_commit commit;
  commit.user_id = user.id;
  commit.at = now;
  commit.session = session_row{token_digest(token), user.id, now, now + ttl,
                               std::move(source)};
  user.last_login_at = now;
  auto digest = commit.session.token_digest;
  session_grant grant{std::move(user), secret{std::move(token)}, now + ttl,
                      secret{}};
  if (new_device) {
    auto device = make_token();
    commit.device_digest = token_digest(device);
    grant.device_token = secret{std::move(device)};
  }
  ask_db<caf::ok_atom>(
    self,
    [=](caf::ok_atom) mutable {
      self->state.counters->logins_ok += 1;
      self->state.sessions.put(digest, grant.user, grant.expires_at);
      rp.deliver(std::move(grant));
    },
    [=](caf::error err) mutable {
      rp.deliver(std::move(err));
    },
    login_commit_atom::value, std::move(commit));
}

/// A login that the guard admitted: it must hear how the attempt ended.
struct guarded_attempt {
  throttle_keys keys;
  uint64_t fingerprint = 0;
};

using maybe_guarded = std::optional<guarded_attempt>;

void report(auth_ptr self, const maybe_guarded& attempt,
            attempt_result result) {
  if (attempt)
    self->send(self->state.guard, guard_done_atom::value,
               attempt_report{attempt->keys, static_cast<uint8_t>(result),
                              attempt->fingerprint});
}

/// A short keyed hash of a password: lets the guard recognize a repeated
/// wrong password without keeping it. The key lives only in this process.
uint64_t fingerprint(auth_ptr self, const secret& password) {
  uint64_t out = 0;
  crypto_generichash(
    reinterpret_cast<unsigned char*>(&out), sizeof(out),
    reinterpret_cast<const unsigned char*>(password.reveal().data()),
    password.size(), self->state.fingerprint_key.data(),
    self->state.fingerprint_key.size());
  return out == 0 ? 1 : out; // 0 means "no fingerprint"
}

/// Asks the guard whether a password check for `keys` may start; runs
/// `on_go` with the attempt to report (none when throttling is off), or
/// `on_refused` with rate_limited.
template <class OnGo>
void admit_then(auth_ptr self, throttle_keys keys, const secret& password,
                OnGo on_go, std::function<void(caf::error)> on_refused) {
  if (!self->state.guard) {
    on_go(maybe_guarded{});
    return;
  }
  guarded_attempt attempt{std::move(keys), fingerprint(self, password)};
  ask_guard<caf::ok_atom>(
    self, [=](caf::ok_atom) mutable { on_go(maybe_guarded{attempt}); },
    std::move(on_refused), guard_admit_atom::value, attempt.keys);
}

/// Replaces a hash that verified but is not argon2id at today's cost (an
/// imported one, or one made before --hash-ops/--hash-mem changed): hashes
/// the password again and has the database store it if the user's hash is
/// still `old_hash`. Runs after the login was answered, so the login waits
/// for one hash, not two; if anything fails the old hash stays and the next
/// login tries again.
void rehash_later(auth_ptr self, int64_t user_id, std::string old_hash,
                  secret password) {
  self
    ->request(self->state.hasher, caf::infinite, hash_atom::value,
              std::move(password), self->state.cfg.params)
    .then(
      [=](std::string& fresh) mutable {
        ask_db<bool>(
          self, [](bool) {}, [](caf::error) {}, rehash_atom::value,
          password_rehash{user_id, std::move(old_hash), std::move(fresh)});
      },
      [](caf::error&) {});
}

/// Verifies `password` against `phc`; `user` is empty for unknown emails,
/// which are checked against the dummy hash and always fail. A disabled
/// account is verified like any other, so its failure costs the same time,
/// and then fails like a wrong password; only the audit line tells why.
void verify_login(auth_ptr self, caf::typed_response_promise<session_grant> rp,
                  std::optional<user_view> user, bool disabled, std::string phc,
                  secret password, std::string source, std::string account,
                  maybe_guarded attempt, std::string device_digest = {}) {
  auto params = self->state.cfg.params;
  auto& hasher = self->state.hasher;
  // A valid device token goes ahead of anonymous guesses in the hash queue:
  // under a spray from many addresses, its owner still gets in quickly.
  auto verification = device_digest.empty()
    ? self->request(hasher, caf::infinite, verify_atom::value, phc, password,
                    params)
    : self->request(hasher, caf::infinite, urgent_atom::value,
                    verify_atom::value, phc, password, params);
  verification.then(
    [=](verify_outcome& out) mutable {
      // Counted once done: a check refused busy by the hash pool cost nothing.
      self->state.counters->hash_verifications_total += 1;
      if (!user || !out.match || disabled) {
        report(self, attempt, attempt_result::failure);
        audit_outcome(self, "login", "invalid_credentials", source, account,
                      !user          ? "unknown account"
                        : !out.match ? "wrong password"
                                     : "disabled");
        if (!device_digest.empty())
          ask_db<caf::ok_atom>(
            self, [](caf::ok_atom) {}, [](caf::error) {},
            device_fail_atom::value, device_digest);
        rp.deliver(failed_credentials(self));
        return;
      }
      report(self, attempt, attempt_result::success);
      audit_outcome(self, "login", "ok", source, account,
                    out.needs_rehash ? "password, re-hashing" : "password");
      if (out.needs_rehash)
        rehash_later(self, user->id, phc, password);
      // Device tokens serve the throttle only: without one (--throttle=off)
      // none is handed out, or every login would store another.
      bool new_device = device_digest.empty() && self->state.guard;
      grant_session(self, rp, std::move(*user), source, new_device);
    },
    [=](caf::error& err) mutable {
      report(self, attempt, attempt_result::aborted);
      if (to_wire(err).code == ec::busy)
        audit_outcome(self, "login", "busy", source, account,
                      "hash queue full");
      rp.deliver(std::move(err));
    });
}

void look_up_and_verify(auth_ptr self,
                        caf::typed_response_promise<session_grant> rp,
                        std::string email, secret password, std::string source,
                        maybe_guarded attempt) {
  ask_db<user_record>(
    self,
    [=](user_record& found) mutable {
      verify_login(self, rp, std::move(found.user), found.disabled,
                   std::move(found.password_hash), std::move(password),
                   std::move(source), email, std::move(attempt));
    },
    [=](caf::error err) mutable {
      if (!is_not_found(err)) {
        report(self, attempt, attempt_result::aborted);
        rp.deliver(std::move(err));
        return;
      }
      verify_login(self, rp, std::nullopt, false, self->state.cfg.dummy_hash,
                   std::move(password), std::move(source), email,
                   std::move(attempt));
    },
    user_get_atom::value, email);
}

/// A login that presented a valid device token for this account: exempt
/// from the account's and the source's penalty, so that its owner gets in
/// while the account is under attack. Anything else falls back to the
/// guarded path.
void login_with_device(auth_ptr self,
                       caf::typed_response_promise<session_grant> rp,
                       std::string email, secret password, std::string source,
                       std::string device_digest, int64_t device_user,
                       std::function<void()> guarded_path) {
  ask_db<user_record>(
    self,
    [=](user_record& found) mutable {
      if (found.user.id != device_user) {
        guarded_path();
        return;
      }
      verify_login(self, rp, std::move(found.user), found.disabled,
                   std::move(found.password_hash), std::move(password),
                   std::move(source), email, std::nullopt,
                   std::move(device_digest));
    },
    [=](caf::error) mutable {
      guarded_path();
    },
    user_get_atom::value, email);
}

caf::result<session_grant> on_login(auth_ptr self, login_request& req) {
  auto source = effective_source(self, req.source, req.client_addr);
  if (!source)
    return std::move(source.error());
  req.source = std::move(*source);
  auto rp = self->make_response_promise<session_grant>();
  auto email = normalize_email(req.email);
  // The guard decides before anything is looked up or hashed.
  auto guarded_path = [=, password = req.password,
                       source = req.source]() mutable {
    throttle_keys keys{source_key(source), email};
    admit_then(
      self, std::move(keys), password,
      [=](maybe_guarded attempt) mutable {
        look_up_and_verify(self, rp, email, password, source,
                           std::move(attempt));
      },
      audited_refusal(self, "login", source, email,
                      [=](caf::error err) mutable {
                        rp.deliver(std::move(err));
                      }));
  };
  if (req.device_token.empty() || !self->state.guard) {
    guarded_path();
    return rp;
  }
  auto digest = token_digest(req.device_token.reveal());
  ask_db<device_record>(
    self,
    [=, password = req.password,
     source = req.source](device_record& device) mutable {
      if (device.failures >= max_device_failures) {
        guarded_path();
        return;
      }
      login_with_device(self, rp, email, std::move(password), std::move(source),
                        digest, device.user_id, guarded_path);
    },
    [=](caf::error) mutable {
      guarded_path();
    },
    device_get_atom::value, digest);
  return rp;
}

// -- sessions ----------------------------------------------------------------

/// Looks up the session behind a token; not_found becomes invalid_token.
template <class F>
void with_session(auth_ptr self, const secret& token, F on_found,
                  std::function<void(caf::error)> on_error) {
  ask_db<session_owner>(
    self,
    [=](session_owner& owner) mutable {
      on_found(owner);
    },
    [=](caf::error err) {
      on_error(is_not_found(err) ? caf::make_error(ec::invalid_token)
                                 : std::move(err));
    },
    session_get_atom::value, token_digest(token.reveal()),
    int64_t{now_seconds()});
}

caf::result<user_view> on_whoami(auth_ptr self, token_request& req) {
  auto& cache = self->state.sessions;
  auto digest = token_digest(req.token.reveal());
  if (auto cached = cache.find(digest, now_seconds()))
    return *cached;
  auto rp = self->make_response_promise<user_view>();
  auto epoch = cache.epoch();
  with_session(
    self, req.token,
    [=](session_owner& owner) mutable {
      // A session dropped while we asked must not come back from the answer.
      auto& cache = self->state.sessions;
      if (cache.epoch() == epoch)
        cache.put(digest, owner.owner.user, owner.expires_at);
      rp.deliver(owner.owner.user);
    },
    [=](caf::error err) mutable {
      rp.deliver(std::move(err));
    });
  return rp;
}

caf::result<caf::ok_atom> on_logout(auth_ptr self, token_request& req) {
  auto rp = self->make_response_promise<caf::ok_atom>();
  // Forgotten when the logout starts and again when it is done, so that no
  // lookup answered in between can bring the session back.
  auto digest = token_digest(req.token.reveal());
  self->state.sessions.forget(digest);
  ask_db<caf::ok_atom>(
    self,
    [=](caf::ok_atom ok) mutable {
      self->state.sessions.forget(digest);
      rp.deliver(ok);
    },
    [=](caf::error err) mutable {
      self->state.sessions.forget(digest);
      rp.deliver(is_not_found(err) ? caf::make_error(ec::invalid_token)
                                   : std::move(err));
    },
    session_del_atom::value, token_digest(req.token.reveal()),
    int64_t{now_seconds()});
  return rp;
}

// -- change_password ---------------------------------------------------------

void store_new_password(auth_ptr self,
                        caf::typed_response_promise<caf::ok_atom> rp,
                        int64_t user_id, secret new_password,
                        std::string keep_digest) {
  auto& st = self->state;
  self
    ->request(st.hasher, caf::infinite, hash_atom::value,
              std::move(new_password), st.cfg.params)
    .then(
      [=](std::string& phc) mutable {
        password_change change{user_id, std::move(phc), keep_digest};
        ask_db<caf::ok_atom>(
          self,
          [=](caf::ok_atom ok) mutable {
            self->state.sessions.forget_user(user_id, keep_digest);
            rp.deliver(ok);
          },
          [=](caf::error err) mutable {
            rp.deliver(std::move(err));
          },
          password_set_atom::value, std::move(change));
      },
      [=](caf::error& err) mutable {
        rp.deliver(std::move(err));
      });
}

caf::result<caf::ok_atom> on_change_password(auth_ptr self,
                                             password_change_request& req) {
  auto source = effective_source(self, req.source, req.client_addr);
  if (!source)
    return std::move(source.error());
  req.source = std::move(*source);
  auto rp = self->make_response_promise<caf::ok_atom>();
  auto fail = [=](caf::error err) mutable {
    rp.deliver(std::move(err));
  };
  auto found
    = [=, old_pw = req.old_password, new_pw = req.new_password,
       keep = token_digest(req.token.reveal()),
       source = source_key(req.source)](session_owner& session) mutable {
        auto& user = session.owner;
        if (auto err = check_new_password(new_pw, user.user.email,
                                          self->state.cfg.min_password)) {
          rp.deliver(std::move(err));
          return;
        }
        auto user_id = user.user.id;
        auto email = user.user.email;
        auto phc = user.password_hash;
        // Guessing the old password with a stolen token is guessing all the
        // same: it is throttled like a login to this account.
        auto verify = [=](maybe_guarded attempt) mutable {
          self
            ->request(self->state.hasher, caf::infinite, verify_atom::value,
                      phc, old_pw, self->state.cfg.params)
            .then(
              [=](verify_outcome& out) mutable {
                self->state.counters->hash_verifications_total += 1;
                if (!out.match) {
                  report(self, attempt, attempt_result::failure);
                  audit_outcome(self, "change_password", "invalid_credentials",
                                source, email, "wrong old password");
                  rp.deliver(failed_credentials(self));
                  return;
                }
                report(self, attempt, attempt_result::success);
                store_new_password(self, rp, user_id, std::move(new_pw), keep);
              },
              [=](caf::error& err) mutable {
                report(self, attempt, attempt_result::aborted);
                rp.deliver(std::move(err));
              });
        };
        admit_then(self, throttle_keys{source, email}, old_pw, verify,
                   audited_refusal(self, "change_password", source, email,
                                   [=](caf::error err) mutable {
                                     rp.deliver(std::move(err));
                                   }));
      };
  with_session(self, req.token, found, fail);
  return rp;
}

} // namespace

auth_actor::behavior_type auth(auth_ptr self, auth_settings cfg,
                               database_actor db, hasher_actor hasher,
                               guard_actor guard, audit_actor audit,
                               std::shared_ptr<node_counters> counters) {
  self->state.guard = std::move(guard);
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
      return on_register(self, req);
    },
    [=](login_atom, login_request& req) {
      return on_login(self, req);
    },
    [=](whoami_atom, token_request& req) {
      return on_whoami(self, req);
    },
    [=](logout_atom, token_request& req) {
      return on_logout(self, req);
    },
    [=](chpass_atom, password_change_request& req) {
      return on_change_password(self, req);
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
      self->state.sessions.forget_user(user_id, std::string{});
      return caf::ok_atom::value;
    },
    [=](forget_atom, const user_ids& users) {
      for (auto id : users.ids)
        self->state.sessions.forget_user(id, std::string{});
      return caf::ok_atom::value;
    },
  };
}

} // namespace authnode
