#include "storage/database.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <utility>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/result.hpp>
#include <caf/send.hpp>
#include <caf/spawn_options.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/system_messages.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "core/clock.hpp"
#include "core/error_code.hpp"
#include "core/log.hpp"
#include "storage/database_pool.hpp"
#include "storage/passkey_store.hpp"
#include "storage/postgres_sql.hpp"
#include "storage/store_errors.hpp"
#include "storage/throttle_store.hpp"
#include "storage/user_store.hpp"

namespace authnode {

namespace {

/// The backup in progress and whom to tell when it ends.
struct running_backup {
  std::unique_ptr<backup_job> job;
  caf::typed_response_promise<backup_result> rp;
  std::chrono::steady_clock::time_point started;
  /// Tags its step messages, so that one left over from an earlier backup
  /// does not step this one.
  uint64_t generation = 0;
};

struct database_state {
  std::unique_ptr<user_store> store;
  /// Null without mail. Declared after the store, whose connection it uses.
  std::unique_ptr<account_store> accounts;
  /// Declared after the store too.
  std::unique_ptr<second_factor_store> factors;
  /// Declared after the store too.
  std::unique_ptr<passkey_store> passkeys;
  /// Declared after the store too.
  std::unique_ptr<throttle_store> throttle;
  /// Woken when mail is queued; invalid until the node names it.
  mailer_actor mailer;
  database_settings cfg;
  /// Declared after the store, so it is destroyed first: the job reads the
  /// store's connection.
  std::optional<running_backup> backup;
  uint64_t backup_generation = 0;

  static inline const char* name = "database";
};

using database_ptr = database_actor::stateful_pointer<database_state>;

/// How often a request that met a serialization conflict runs: PostgreSQL
/// undid all of it, and the conflict was with another transaction that
/// committed, so each try makes progress.
constexpr int max_attempts = 5;

/// Runs one request's store calls `f`: connects again first if the server
/// was lost (answering `unavailable` at once while it stays lost), and runs
/// `f` again while it fails on a serialization conflict. A request that
/// lost the server on the way is not run again: its COMMIT may have taken
/// effect, and a second run could answer for the first (a registration
/// told email_taken by itself). It answers `unavailable`, which says so.
/// So does a request whose every run met a conflict: nothing of it was
/// kept, and a later try may well get through.
template <class F>
auto serve(database_ptr self, F f) -> decltype(f()) {
  auto& db = self->state.store->connection();
  for (int attempt = 1;; ++attempt) {
    if (auto st = db.reconnect(); !st.ok())
      return caf::make_error(ec::unavailable,
                             "the database is unreachable: " + st.message);
    db.forget_failure();
    auto result = f();
    if (result || !db.last_failure().retry())
      return result;
    if (attempt == max_attempts)
      return caf::make_error(ec::unavailable,
                             "the request met conflicting writes "
                               + std::to_string(max_attempts)
                               + " times and was undone each time; try again");
    log_debug("database: a serialization conflict; the request runs again",
              {{"attempt", attempt}});
  }
}

caf::error no_mail() {
  return caf::make_error(ec::unavailable,
                         std::string{"mail is not configured: start the node "
                                     "with --smtp-url"});
}

/// Runs `f` on the account store, or fails with no_mail().
template <class F>
auto with_accounts(database_ptr self, F f)
  -> decltype(f(*self->state.accounts)) {
  if (!self->state.accounts)
    return no_mail();
  return serve(self, [&] {
    return f(*self->state.accounts);
  });
}

void schedule_purge(database_ptr self) {
  if (self->state.cfg.purge_interval.count() > 0)
    self->delayed_send(self, self->state.cfg.purge_interval, purge_atom::value);
}

/// Ends the running backup with `result`. The job goes first, so that its
/// partial file is gone by the time the requester hears of a failure.
template <class Result>
void end_backup(database_ptr self, Result result) {
  auto rp = std::move(self->state.backup->rp);
  self->state.backup.reset();
  rp.deliver(std::move(result));
}

/// Copies one step; then asks itself to go on (behind whatever requests
/// came in meanwhile), or renames the finished copy into place and answers.
void step_backup(database_ptr self) {
  auto& b = *self->state.backup;
  auto copied = b.job->step(self->state.cfg.backup_step_pages);
  if (!copied)
    return end_backup(self, std::move(copied.error()));
  if (!*copied) {
    self->send(self, backup_step_atom::value, b.generation);
    return;
  }
  auto result = b.job->finish();
  if (!result)
    return end_backup(self, std::move(result.error()));
  result->duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - b.started)
                          .count();
  end_backup(self, std::move(*result));
}

caf::result<backup_result> start_backup(database_ptr self,
                                        const std::string& path) {
  auto& st = self->state;
  if (st.backup)
    return caf::make_error(ec::busy,
                           std::string{"a backup is already running"});
  auto started = std::chrono::steady_clock::now();
  auto job = st.store->begin_backup(path);
  if (!job)
    return std::move(job.error());
  auto rp = self->make_response_promise<backup_result>();
  st.backup = running_backup{std::move(*job), rp, started,
                             ++st.backup_generation};
  step_backup(self);
  return rp;
}

void abort_backup(database_ptr self, const char* why) {
  if (self->state.backup)
    end_backup(self, caf::make_error(ec::backup_failed, std::string{why}));
}

/// user_show: the user with their passkeys.
caf::expected<user_detail> show_user(database_ptr self,
                                     const std::string& email, int64_t now) {
  auto detail = self->state.store->user_detail_of(email, now);
  if (!detail)
    return std::move(detail.error());
  auto passkeys = self->state.passkeys->list(detail->user.id);
  if (!passkeys)
    return std::move(passkeys.error());
  detail->passkeys = std::move(passkeys->passkeys);
  return std::move(*detail);
}

/// The admin's passkey_delete: the user's id; not_found for an unknown
/// email, no_such_passkey for an id the user does not have.
caf::expected<int64_t> delete_passkey(database_ptr self,
                                      const std::string& email,
                                      const std::string& credential_id) {
  auto user = self->state.store->user_by_email(email);
  if (!user)
    return std::move(user.error());
  auto removed = self->state.passkeys->remove(user->user.id, credential_id);
  if (!removed && removed.error() == caf::make_error(ec::not_found))
    return caf::make_error(ec::no_such_passkey);
  if (!removed)
    return std::move(removed.error());
  return user->user.id;
}

/// Holds PostgreSQL's session-level advisory lock `key` while it lives, if
/// no other connection held it: work that one node at a time should do.
/// On SQLite (one node per file) it is always held.
class work_claim {
public:
  work_claim(sql_db& db, int64_t key) : db_(db), key_(key) {
    if (db_.dialect() != sql_dialect::postgresql) {
      held_ = true;
      return;
    }
    held_ = ask("SELECT pg_try_advisory_lock(?1)");
  }
  work_claim(const work_claim&) = delete;
  work_claim& operator=(const work_claim&) = delete;
  ~work_claim() {
    if (held_ && db_.dialect() == sql_dialect::postgresql)
      ask("SELECT pg_advisory_unlock(?1)");
  }
  bool held() const {
    return held_;
  }

private:
  bool ask(const char* sql) {
    statement stmt;
    if (!stmt.prepare(db_, sql).ok())
      return false;
    stmt.bind_int64(1, key_);
    return stmt.step() == step_result::row && stmt.column_int64(0) == 1;
  }

  sql_db& db_;
  int64_t key_;
  bool held_ = false;
};

/// The advisory lock of purges (see work_claim).
constexpr int64_t purge_lock = 7303010002;

/// Removes what expired. A failed purge has nobody to report to; the next
/// tick tries again and lookups ignore expired rows meanwhile. Of the nodes
/// on one PostgreSQL database, the one that holds the lock purges for all;
/// the others skip this tick.
void purge_expired(database_ptr self) {
  auto& st = self->state;
  if (!st.store->connection().reconnect().ok())
    return;
  work_claim claim{st.store->connection(), purge_lock};
  if (!claim.held())
    return;
  auto now = now_seconds();
  st.store->purge_expired(now);
  if (st.accounts)
    st.accounts->purge(now);
  st.factors->purge(now);
  st.passkeys->purge(now);
  auto window = std::chrono::duration_cast<std::chrono::milliseconds>(
    st.cfg.throttle_window);
  st.throttle->purge(now_millis() - window.count());
}

/// Reads (or with `add`, adds one failure to) the lookup's keys, in one
/// transaction: a failure counts on both keys or on neither.
caf::expected<shared_failures>
count_failures(database_ptr self, const throttle_lookup& x, bool add) {
  auto& t = *self->state.throttle;
  transaction tx{self->state.store->connection()};
  if (!tx.active())
    return db_failure("cannot count failures", tx.status());
  shared_failures out;
  auto one = [&](const std::string& digest, int64_t& failures,
                 int64_t& last_ms) -> caf::error {
    if (digest.empty())
      return {};
    auto r = add ? t.add_failure(digest, x.now_ms, x.window_ms)
                 : t.get(digest, x.now_ms, x.window_ms);
    if (!r)
      return std::move(r.error());
    failures = r->failures;
    last_ms = r->last_failure_ms;
    return {};
  };
  if (auto err = one(x.source, out.source, out.source_last_ms))
    return err;
  if (auto err = one(x.account, out.account, out.account_last_ms))
    return err;
  if (auto st = tx.commit(); !st.ok())
    return db_failure("cannot count failures", st);
  return out;
}

/// The stores a database actor serves, all on one connection.
struct stores {
  std::unique_ptr<user_store> users;
  std::unique_ptr<account_store> accounts;
  std::unique_ptr<second_factor_store> factors;
  std::unique_ptr<passkey_store> passkeys;
  std::unique_ptr<throttle_store> throttle;
};

/// The stores must be open; spawned only by spawn_database, detached.
database_actor::behavior_type database(database_ptr self,
                                       std::shared_ptr<stores> open,
                                       database_settings cfg) {
  self->state.store = std::move(open->users);
  self->state.accounts = std::move(open->accounts);
  self->state.factors = std::move(open->factors);
  self->state.passkeys = std::move(open->passkeys);
  self->state.throttle = std::move(open->throttle);
  self->state.cfg = cfg;
  schedule_purge(self);
  // However the actor is stopped, a backup in progress gets its one reply
  // and leaves no partial file.
  self->set_exit_handler([=](caf::exit_msg& msg) {
    if (!msg.reason)
      return; // a linked actor ended normally: nothing to stop for
    abort_backup(self, "the database stopped; the backup was abandoned");
    self->quit(msg.reason);
  });
  return {
    [=](user_add_atom, const new_user& x) -> caf::result<user_view> {
      return serve(self, [&] {
        return self->state.store->add_user(x);
      });
    },
    [=](user_get_atom, const std::string& email) -> caf::result<user_record> {
      return serve(self, [&] {
        return self->state.store->user_by_email(email);
      });
    },
    [=](login_commit_atom, const login_commit& x) -> caf::result<caf::ok_atom> {
      return serve(self, [&] {
        return self->state.store->commit_login(x);
      });
    },
    [=](session_get_atom, const std::string& token_digest,
        int64_t now) -> caf::result<session_owner> {
      return serve(self, [&] {
        return self->state.store->session_owner_of(token_digest, now);
      });
    },
    [=](session_del_atom, const std::string& token_digest,
        int64_t now) -> caf::result<caf::ok_atom> {
      return serve(self, [&] {
        return self->state.store->delete_session(token_digest, now);
      });
    },
    [=](device_get_atom,
        const std::string& token_digest) -> caf::result<device_record> {
      return serve(self, [&] {
        return self->state.store->device_of(token_digest);
      });
    },
    [=](device_fail_atom,
        const std::string& token_digest) -> caf::result<caf::ok_atom> {
      return serve(self, [&] {
        return self->state.store->device_failed(token_digest);
      });
    },
    [=](password_set_atom,
        const password_change& x) -> caf::result<caf::ok_atom> {
      return serve(self, [&] {
        return self->state.store->set_password(x);
      });
    },
    [=](user_show_atom, const std::string& email,
        int64_t now) -> caf::result<user_detail> {
      return serve(self, [&] {
        return show_user(self, email, now);
      });
    },
    [=](user_list_atom, const user_query& q) -> caf::result<user_page> {
      return serve(self, [&] {
        return self->state.store->list_users(q);
      });
    },
    [=](user_disable_atom, const std::string& email,
        bool disabled) -> caf::result<int64_t> {
      return serve(self, [&] {
        return self->state.store->set_disabled(email, disabled);
      });
    },
    [=](user_delete_atom, const std::string& email) -> caf::result<int64_t> {
      return serve(self, [&] {
        return self->state.store->delete_user(email);
      });
    },
    [=](sessions_list_atom, const std::string& email,
        int64_t now) -> caf::result<session_list> {
      return serve(self, [&] {
        return self->state.store->sessions_of(email, now);
      });
    },
    [=](sessions_revoke_atom, const std::string& email,
        int64_t session_id) -> caf::result<revoke_result> {
      return serve(self, [&] {
        return self->state.store->revoke_sessions(email, session_id);
      });
    },
    [=](user_import_atom,
        const import_batch& batch) -> caf::result<import_outcome> {
      return serve(self, [&] {
        return self->state.store->import_users(batch);
      });
    },
    [=](rehash_atom, const password_rehash& x) -> caf::result<bool> {
      return serve(self, [&] {
        return self->state.store->rehash_password(x);
      });
    },
    [=](purge_atom) {
      purge_expired(self);
      // Only the timer's own message re-arms it: a purge sent by anyone else
      // would otherwise start a second timer chain.
      if (self->current_sender().get() == self->ctrl())
        schedule_purge(self);
    },
    [=](backup_atom, const std::string& path) -> caf::result<backup_result> {
      return start_backup(self, path);
    },
    [=](backup_step_atom, uint64_t generation) {
      // Only the actor's own message for the backup running now steps it.
      auto& b = self->state.backup;
      if (b && b->generation == generation
          && self->current_sender().get() == self->ctrl())
        step_backup(self);
    },
    [=](backup_abort_atom) {
      abort_backup(self, "the node is shutting down; the backup was abandoned");
    },
    [=](user_verify_atom, const std::string& email,
        bool verified) -> caf::result<int64_t> {
      return serve(self, [&] {
        return self->state.store->set_verified(email, verified);
      });
    },
    // -- account codes --
    [=](mailer_atom, mailer_actor mailer) {
      self->state.mailer = std::move(mailer);
    },
    [=](code_issue_atom, const code_request& req) -> caf::result<code_issued> {
      return with_accounts(self, [&](account_store& a) {
        auto issued = a.issue(req, now_seconds());
        if (issued && issued->sent && self->state.mailer)
          self->send(self->state.mailer, mail_ready_atom::value);
        return issued;
      });
    },
    [=](code_check_atom, const code_attempt& x) -> caf::result<user_view> {
      return with_accounts(self, [&](account_store& a) {
        return a.check(x, now_seconds());
      });
    },
    [=](code_use_atom, const code_attempt& x) -> caf::result<user_view> {
      return with_accounts(self, [&](account_store& a) {
        return a.use(x, now_seconds());
      });
    },
    [=](recover_atom, const account_recovery& x) -> caf::result<user_view> {
      return with_accounts(self, [&](account_store& a) {
        return a.recover(x, now_seconds());
      });
    },
    // -- second factors --
    [=](totp_setup_atom, int64_t user_id) -> caf::result<secret> {
      return serve(self, [&] {
        return self->state.factors->setup(user_id);
      });
    },
    [=](totp_enable_atom,
        const factor_attempt& x) -> caf::result<recovery_code_list> {
      return serve(self, [&] {
        return self->state.factors->enable(x, now_seconds());
      });
    },
    [=](totp_disable_atom,
        const factor_attempt& x) -> caf::result<caf::ok_atom> {
      return serve(self, [&] {
        return self->state.factors->disable(x, now_seconds());
      });
    },
    [=](codes_renew_atom,
        const factor_attempt& x) -> caf::result<recovery_code_list> {
      return serve(self, [&] {
        return self->state.factors->renew(x, now_seconds());
      });
    },
    [=](challenge_new_atom,
        const challenge_request& x) -> caf::result<second_factor_challenge> {
      return serve(self, [&] {
        return self->state.factors->open_challenge(x, now_seconds());
      });
    },
    [=](challenge_owner_atom,
        const secret& challenge) -> caf::result<challenge_info> {
      return serve(self, [&] {
        return self->state.factors->challenge_owner(challenge, now_seconds());
      });
    },
    [=](challenge_use_atom,
        const challenge_attempt& x) -> caf::result<factor_used> {
      return serve(self, [&] {
        return self->state.factors->answer_challenge(x, now_seconds());
      });
    },
    [=](mfa_reset_atom, const std::string& email) -> caf::result<int64_t> {
      return serve(self, [&] {
        return self->state.factors->reset(email);
      });
    },
    // -- passkeys --
    [=](pk_reg_begin_atom,
        const webauthn_challenge& c) -> caf::result<passkey_owner> {
      return serve(self, [&] {
        return self->state.passkeys->begin_registration(c);
      });
    },
    [=](pk_reg_finish_atom, const std::string& challenge, int64_t user_id,
        int64_t now) -> caf::result<webauthn_challenge> {
      return serve(self, [&] {
        return self->state.passkeys->take_registration(challenge, user_id, now);
      });
    },
    [=](pk_add_atom, const passkey_new& x) -> caf::result<passkey_info> {
      return serve(self, [&] {
        return self->state.passkeys->add(x);
      });
    },
    [=](pk_login_begin_atom,
        const webauthn_challenge& c) -> caf::result<passkey_owner> {
      return serve(self, [&] {
        return self->state.passkeys->begin_login(c);
      });
    },
    [=](pk_find_atom, const passkey_lookup& x) -> caf::result<passkey_claim> {
      return serve(self, [&] {
        return self->state.passkeys->claim(x);
      });
    },
    [=](pk_use_atom, const passkey_use& x) -> caf::result<caf::ok_atom> {
      return serve(self, [&] {
        return self->state.passkeys->use(x);
      });
    },
    [=](pk_list_atom, int64_t user_id) -> caf::result<passkey_list> {
      return serve(self, [&] {
        return self->state.passkeys->list(user_id);
      });
    },
    [=](pk_delete_atom, int64_t user_id,
        const std::string& id) -> caf::result<caf::ok_atom> {
      return serve(self, [&] {
        return self->state.passkeys->remove(user_id, id);
      });
    },
    [=](pk_delete_atom, const std::string& email,
        const std::string& id) -> caf::result<int64_t> {
      return serve(self, [&] {
        return delete_passkey(self, email, id);
      });
    },
    // -- the guard's shared failures --
    [=](throttle_load_atom,
        const throttle_lookup& x) -> caf::result<shared_failures> {
      return serve(self, [&] {
        return count_failures(self, x, false);
      });
    },
    [=](throttle_fail_atom,
        const throttle_lookup& x) -> caf::result<shared_failures> {
      return serve(self, [&] {
        return count_failures(self, x, true);
      });
    },
    [=](throttle_forget_atom,
        const std::string& digest) -> caf::result<bool> {
      return serve(self, [&] {
        return self->state.throttle->clear(digest);
      });
    },
    // -- the outbox --
    [=](outbox_take_atom, int64_t now_ms,
        int64_t limit) -> caf::result<outbox_batch> {
      return with_accounts(self, [&](account_store& a) {
        return a.take(now_ms, limit);
      });
    },
    [=](outbox_sent_atom, int64_t id) -> caf::result<caf::ok_atom> {
      return with_accounts(self, [&](account_store& a) {
        return a.sent(id);
      });
    },
    [=](outbox_retry_atom, int64_t id, int64_t next_at_ms,
        const std::string& error) -> caf::result<caf::ok_atom> {
      return with_accounts(self, [&](account_store& a) {
        return a.retry(id, next_at_ms, error);
      });
    },
    [=](outbox_drop_atom, int64_t id,
        const std::string& error) -> caf::result<caf::ok_atom> {
      return with_accounts(self, [&](account_store& a) {
        return a.drop(id, error);
      });
    },
    [=](outbox_status_atom) -> caf::result<outbox_status> {
      return with_accounts(self, [&](account_store& a) {
        return a.status();
      });
    },
  };
}

} // namespace

namespace {

/// One database actor with stores of its own on a connection of its own.
caf::expected<database_actor> spawn_member(caf::actor_system& sys,
                                           const std::string& path,
                                           const database_settings& cfg,
                                           std::string& error) {
  auto open = std::make_shared<stores>();
  open->users = user_store::open(path, error);
  if (!open->users)
    return caf::make_error(ec::unavailable, error);
  auto& store = open->users;
  if (cfg.mail) {
    open->accounts = account_store::open(*store, cfg.mail, error);
    if (!open->accounts)
      return caf::make_error(ec::unavailable, error);
  }
  auto setup = cfg.factors;
  open->passkeys = passkey_store::open(*store, setup->keys, error);
  if (!open->passkeys)
    return caf::make_error(ec::unavailable, error);
  open->factors = second_factor_store::open(*store, std::move(setup), error);
  if (!open->factors)
    return caf::make_error(ec::unavailable, error);
  open->throttle = std::make_unique<throttle_store>();
  if (!open->throttle->prepare(store->connection(), error))
    return caf::make_error(ec::unavailable, error);
  return sys.spawn<caf::detached>(database, std::move(open), cfg);
}

} // namespace

caf::expected<database_actor> spawn_database(caf::actor_system& sys,
                                             const std::string& path,
                                             database_settings cfg,
                                             std::string& error) {
  if (!cfg.factors) {
    // One set of keys for all members: a seed one seals, another opens.
    auto fresh = std::make_shared<factor_setup>();
    fresh->keys = random_node_keys();
    cfg.factors = std::move(fresh);
  }
  auto size = is_postgres_conninfo(path) ? std::max(cfg.pool, 1) : 1;
  std::vector<database_actor> members;
  for (int i = 0; i < size; ++i) {
    auto member = spawn_member(sys, path, cfg, error);
    if (!member) {
      for (auto& m : members)
        caf::anon_send_exit(m, caf::exit_reason::user_shutdown);
      return member;
    }
    members.push_back(std::move(*member));
    // One member's timer purges for the pool.
    cfg.purge_interval = caf::timespan{0};
  }
  if (size == 1)
    return members.front();
  return caf::actor_cast<database_actor>(
    sys.spawn(database_pool, std::move(members)));
}

} // namespace authnode
