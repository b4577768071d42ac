#include "actors/auth_steps.hpp"

#include <algorithm>

#include <sodium.h>

#include "actors/guard.hpp"
#include "core/cidr.hpp"
#include "core/clock.hpp"
#include "core/source_key.hpp"

namespace authnode {

bool is_not_found(const caf::error& err) {
  return err == caf::make_error(ec::not_found);
}

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

void audit_outcome(auth_ptr self, const char* op, const char* outcome,
                   const std::string& source, const std::string& account,
                   const char* reason) {
  if (self->state.audit)
    self->send(self->state.audit, audit_atom::value,
               audit_event{now_seconds(), op, outcome, source, account,
                           reason});
}

error_fn audited_refusal(auth_ptr self, const char* op, std::string source,
                         std::string account, error_fn on_error) {
  return [=](caf::error err) {
    if (to_wire(err).code == ec::rate_limited)
      audit_outcome(self, op, "rate_limited", source, account, "throttled");
    on_error(std::move(err));
  };
}

error_fn counted_breach(auth_ptr self, const char* op, std::string source,
                        std::string account, error_fn on_error) {
  return [=](caf::error err) {
    if (to_wire(err).code == ec::breached_password) {
      self->state.counters->breached_password_refused_total += 1;
      audit_outcome(self, op, "breached_password", source, account,
                    "new password in the breached index");
    }
    on_error(std::move(err));
  };
}

caf::error failed_credentials(auth_ptr self) {
  self->state.counters->logins_failed += 1;
  return make_held_error(ec::invalid_credentials,
                         self->state.cfg.failure_delay);
}

caf::error failed_code(auth_ptr self) {
  return make_held_error(ec::invalid_code, self->state.cfg.failure_delay);
}

throttle_keys code_keys(guess_kind kind, const std::string& source,
                        const std::string& email) {
  auto prefix = key_prefix(kind);
  return throttle_keys{prefix + source_key(source), prefix + email};
}

session_grant make_grant(auth_ptr self, user_view user, std::string source,
                         login_commit& commit) {
  auto now = now_seconds();
  auto ttl = std::chrono::duration_cast<std::chrono::seconds>(
               self->state.cfg.session_ttl)
               .count();
  auto token = make_token();
  commit.user_id = user.id;
  commit.at = now;
  commit.session = session_row{token_digest(token), user.id, now, now + ttl,
                               std::move(source)};
  user.last_login_at = now;
  session_grant granted{std::move(user), secret{std::move(token)}, now + ttl,
                        secret{}};
  // Device tokens serve the throttle only: without one (--throttle=off)
  // none is handed out, or every login would store another.
  if (self->state.guard) {
    auto device = make_token();
    commit.device_digest = token_digest(device);
    granted.device_token = secret{std::move(device)};
  }
  return granted;
}

namespace {

/// Asks the connections' cache (or, on a gateway, the session hub) to drop
/// what `xs` name, then runs `then`; at once without one. Under the backend
/// time limit, and failed if the storage node is lost meanwhile, as a
/// database request is.
template <class... Ts>
void forget_on_io(auth_ptr self, std::function<void()> then, error_fn failed,
                  Ts&&... xs) {
  auto& keeper = self->state.io_sessions;
  if (!keeper)
    return then();
  ask_timed<caf::ok_atom>(
    self, keeper, [then](caf::ok_atom) { then(); }, std::move(failed),
    io_forget_atom::value, std::forward<Ts>(xs)...);
}

} // namespace

void with_device(auth_ptr self, const std::string& digest,
                 std::function<void(int64_t)> honoured,
                 std::function<void()> not_honoured) {
  ask_db<device_record>(
    self,
    [=](device_record& device) {
      if (device.failures >= max_device_failures)
        return not_honoured();
      honoured(device.user_id);
    },
    [=](caf::error) { not_honoured(); }, device_get_atom::value, digest);
}

void forget_session(auth_ptr self, const std::string& digest,
                    std::function<void()> then, error_fn failed) {
  self->state.sessions.forget(digest);
  forget_on_io(self, std::move(then), std::move(failed), digest);
}

void forget_sessions(auth_ptr self, int64_t user_id, const std::string& keep,
                     std::function<void()> then, error_fn failed) {
  self->state.sessions.forget_user(user_id, keep);
  forget_on_io(self, std::move(then), std::move(failed), user_id, keep);
}

void commit_grant(auth_ptr self, user_view user, std::string source,
                  bool keep_device,
                  caf::typed_response_promise<session_grant> rp,
                  bool breached) {
  login_commit commit;
  auto granted = make_grant(self, std::move(user), std::move(source), commit);
  granted.password_breached = breached;
  if (keep_device) {
    commit.device_digest.clear();
    granted.device_token = secret{};
  }
  auto digest = commit.session.token_digest;
  ask_db<caf::ok_atom>(
    self,
    [=](caf::ok_atom) mutable {
      self->state.counters->logins_ok += 1;
      self->state.sessions.put(digest, granted.user, granted.expires_at);
      // The connections' cache holds the user as of an earlier login (its
      // last_login_at): it lets go of them before the answer, so that a
      // whoami after it tells of this login.
      auto user_id = granted.user.id;
      forget_on_io(
        self, [=]() mutable { rp.deliver(std::move(granted)); },
        answer_error(rp), user_id, std::string{});
    },
    [=](caf::error err) mutable {
      rp.deliver(std::move(err));
    },
    login_commit_atom::value, std::move(commit));
}

void arm_tick(auth_ptr self) {
  auto& st = self->state;
  if (st.tick_armed)
    return;
  st.tick_armed = true;
  self->delayed_send(self, st.cfg.backend_timeout, tick_atom::value);
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

namespace {

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

} // namespace

void admit_then(auth_ptr self, throttle_keys keys, const secret& password,
                std::function<void(maybe_guarded)> on_go, error_fn on_refused) {
  if (!self->state.guard) {
    on_go(maybe_guarded{});
    return;
  }
  guarded_attempt attempt{std::move(keys), fingerprint(self, password)};
  ask_guard<caf::ok_atom>(
    self,
    [=](caf::ok_atom) {
      on_go(maybe_guarded{attempt});
    },
    std::move(on_refused), guard_admit_atom::value, attempt.keys);
}

void report(auth_ptr self, const maybe_guarded& attempt,
            attempt_result result) {
  if (!attempt)
    return;
  report_to_guard(self, self->state.guard,
                  attempt_report{attempt->keys, result, attempt->fingerprint},
                  [] {});
}

void report_failure(auth_ptr self, const maybe_guarded& attempt,
                    std::function<void()> answer) {
  if (!attempt) {
    answer();
    return;
  }
  report_to_guard(self, self->state.guard,
                  attempt_report{attempt->keys, attempt_result::failure,
                                 attempt->fingerprint},
                  std::move(answer));
}

void recheck_password(auth_ptr self, password_recheck check,
                      std::function<void()> on_match, error_fn on_error) {
  auto password = std::move(check.password);
  check.password = secret{}; // the hasher's request has it; the rest does not
  auto asked = std::make_shared<password_recheck>(std::move(check));
  self
    ->request(self->state.hasher, caf::infinite, verify_atom::value,
              asked->phc, std::move(password), self->state.cfg.params)
    .then(
      [=](verify_outcome& out) {
        self->state.counters->hash_verifications_total += 1;
        if (!out.match) {
          audit_outcome(self, asked->op, "invalid_credentials", asked->source,
                        asked->email, asked->wrong);
          report_failure(self, asked->attempt, [=] {
            on_error(failed_credentials(self));
          });
          return;
        }
        report(self, asked->attempt, attempt_result::success);
        on_match();
      },
      [=](caf::error& err) {
        report(self, asked->attempt, attempt_result::aborted);
        on_error(std::move(err));
      });
}

void with_session(auth_ptr self, const secret& token,
                  std::function<void(session_owner&)> on_found,
                  error_fn on_error) {
  ask_db<session_owner>(
    self,
    [=](session_owner& owner) {
      on_found(owner);
    },
    [=](caf::error err) {
      on_error(is_not_found(err) ? caf::make_error(ec::invalid_token)
                                 : std::move(err));
    },
    session_get_atom::value, token_digest(token.reveal()),
    int64_t{now_seconds()});
}

} // namespace authnode
