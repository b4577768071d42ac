#include "storage/database.hpp"

#include <utility>

#include <caf/actor_system.hpp>
#include <caf/result.hpp>
#include <caf/spawn_options.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "core/clock.hpp"
#include "core/error_code.hpp"

namespace authnode {

namespace {

void schedule_purge(database_actor::stateful_pointer<database_state> self) {
  if (self->state.purge_interval.count() > 0)
    self->delayed_send(self, self->state.purge_interval, purge_atom::value);
}

} // namespace

database_actor::behavior_type
database(database_actor::stateful_pointer<database_state> self,
         std::unique_ptr<user_store> store, caf::timespan purge_interval) {
  self->state.store = std::move(store);
  self->state.purge_interval = purge_interval;
  schedule_purge(self);
  return {
    [=](user_add_atom, const new_user& x) -> caf::result<user_view> {
      return self->state.store->add_user(x);
    },
    [=](user_get_atom, const std::string& email) -> caf::result<user_record> {
      return self->state.store->user_by_email(email);
    },
    [=](login_commit_atom, const login_commit& x) -> caf::result<caf::ok_atom> {
      return self->state.store->commit_login(x);
    },
    [=](session_get_atom, const std::string& token_digest,
        int64_t now) -> caf::result<session_owner> {
      return self->state.store->session_owner_of(token_digest, now);
    },
    [=](session_del_atom, const std::string& token_digest,
        int64_t now) -> caf::result<caf::ok_atom> {
      return self->state.store->delete_session(token_digest, now);
    },
    [=](device_get_atom,
        const std::string& token_digest) -> caf::result<device_record> {
      return self->state.store->device_of(token_digest);
    },
    [=](device_fail_atom,
        const std::string& token_digest) -> caf::result<caf::ok_atom> {
      return self->state.store->device_failed(token_digest);
    },
    [=](password_set_atom,
        const password_change& x) -> caf::result<caf::ok_atom> {
      return self->state.store->set_password(x);
    },
    [=](user_show_atom, const std::string& email,
        int64_t now) -> caf::result<user_detail> {
      return self->state.store->user_detail_of(email, now);
    },
    [=](user_list_atom, const user_query& q) -> caf::result<user_page> {
      return self->state.store->list_users(q);
    },
    [=](user_disable_atom, const std::string& email,
        bool disabled) -> caf::result<int64_t> {
      return self->state.store->set_disabled(email, disabled);
    },
    [=](user_delete_atom, const std::string& email) -> caf::result<int64_t> {
      return self->state.store->delete_user(email);
    },
    [=](sessions_list_atom, const std::string& email,
        int64_t now) -> caf::result<session_list> {
      return self->state.store->sessions_of(email, now);
    },
    [=](sessions_revoke_atom, const std::string& email,
        int64_t session_id) -> caf::result<revoke_result> {
      return self->state.store->revoke_sessions(email, session_id);
    },
    [=](user_import_atom,
        const import_batch& batch) -> caf::result<import_outcome> {
      return self->state.store->import_users(batch);
    },
    [=](rehash_atom, const password_rehash& x) -> caf::result<bool> {
      return self->state.store->rehash_password(x);
    },
    [=](purge_atom) {
      // A failed purge has nobody to report to; the next tick tries again and
      // lookups ignore expired sessions meanwhile.
      self->state.store->purge_expired(now_seconds());
      // Only the timer's own message re-arms it: a purge sent by anyone else
      // would otherwise start a second timer chain.
      if (self->current_sender().get() == self->ctrl())
        schedule_purge(self);
    },
  };
}

caf::expected<database_actor> spawn_database(caf::actor_system& sys,
                                             const std::string& path,
                                             caf::timespan purge_interval,
                                             std::string& error) {
  auto store = user_store::open(path, error);
  if (!store)
    return caf::make_error(ec::unavailable, error);
  return sys.spawn<caf::detached>(database, std::move(store), purge_interval);
}

} // namespace authnode
