// The database actor: the one owner of the user store.
//
// It is spawned detached (its own thread) because every SQLite call blocks,
// for up to the 5 s busy timeout; on a scheduler thread it would stall other
// actors. One actor means one writer, so requests are serialized here rather
// than fought over with SQLite locks.
//
// An online backup (storage/backup.hpp) runs here too, since it needs the
// connection, in steps: each message copies `backup_step_pages` pages and
// sends the actor a message to go on, which queues behind the requests that
// arrived meanwhile, so logins wait for at most one step, not for the whole
// copy. Writes the actor makes between steps go into the copy as they
// happen (same connection), so the backup ends however busy the node is.
#pragma once

#include <memory>
#include <string>

#include <caf/expected.hpp>
#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

#include "actors/interfaces.hpp"
#include "storage/account_store.hpp"
#include "storage/second_factor_store.hpp"

namespace authnode {

/// Pages a backup copies per step unless told otherwise: 1 MiB of 4 KiB
/// pages, a few milliseconds of copying.
constexpr int default_backup_step_pages = 256;

struct database_settings {
  /// How often expired sessions are removed; zero or less: never.
  caf::timespan purge_interval{0};
  /// Pages a backup copies before the actor serves other requests.
  int backup_step_pages = default_backup_step_pages;
  /// Keys, templates and limits for account codes and their mail; null:
  /// the node has no mail, and the code and outbox requests fail with
  /// ec::unavailable.
  std::shared_ptr<const mail_setup> mail = nullptr;
  /// The key that seals TOTP seeds and the limits of second factors; null:
  /// keys of fresh random bytes, kept nowhere (for tests and in-memory
  /// databases, whose seeds die with the process anyway).
  std::shared_ptr<const factor_setup> factors = nullptr;
  /// How long the guard's shared failures count (--failure-window); older
  /// ones are purged.
  caf::timespan throttle_window = std::chrono::minutes(15);
  /// Database actors, each with a connection of its own, for a PostgreSQL
  /// `path` (storage/database_pool.hpp); SQLite always has one.
  int pool = 1;
};

/// The one way to start the database actor, for the node and the tests
/// alike: opens the store at `path` first, so a bad path fails before
/// anything is spawned, then spawns the actor detached (or, for a
/// PostgreSQL `path` and a `pool` above 1, that many behind a pool). On failure
/// `error` holds a message for people and the result an ec::unavailable with
/// that message. The first purge runs one interval after start. Stop the actor
/// (send_exit + wait_for) before the actor system goes away.
caf::expected<database_actor> spawn_database(caf::actor_system& sys,
                                             const std::string& path,
                                             database_settings cfg,
                                             std::string& error);

} // namespace authnode
