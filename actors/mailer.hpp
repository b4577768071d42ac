// The mailer: takes due mail from the outbox and hands it to the SMTP relay,
// one mail at a time, reporting each outcome back to the outbox.
//
// Detached, because smtp_send blocks (DNS, TCP, TLS, the relay's replies):
// curl holds up only the mailer's own thread, never a scheduler thread.
//
// The outbox is the only truth. The mailer keeps no mail between batches,
// so a mailer that dies (or a node that is killed) loses nothing: what was
// not reported sent is taken again. A mail is reported sent right after
// the relay accepted it, so a crash can at worst repeat the one mail whose
// report was lost, never a batch. The outbox may live on another node (the
// storage node's database): the mailer talks to it only through its handle.
//
// When to take: at start (mail left over from before a restart), when the
// database says mail_ready, and on the mailer's one timer, armed for the
// earliest time a mail falls due (the outbox's next_due_ms, or a retry the
// mailer just scheduled). Timers cannot be cancelled in CAF 0.17: a tick
// that comes before the armed time is a superseded one and is ignored. A
// mail_ready while a take is in flight is remembered and taken right after.
//
// Backoff: a failed delivery is tried again after retry_first * 2^attempts,
// at most retry_max; a mail older than max_age is given up (dropped).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

#include <caf/actor_system.hpp>
#include <caf/timespan.hpp>

#include "actors/interfaces.hpp"
#include "core/counters.hpp"
#include "net/smtp_client.hpp"

namespace authnode {

struct mailer_settings {
  smtp_settings smtp;
  /// The wait before the first retry; doubled for each further attempt.
  caf::timespan retry_first = std::chrono::seconds(30);
  /// The longest wait between two attempts.
  caf::timespan retry_max = std::chrono::hours(1);
  /// Given up after this long without a delivery (--mail-max-age).
  caf::timespan max_age = std::chrono::hours(24);
  /// Mails taken from the outbox at once.
  int64_t batch = 16;
};

struct mailer_state {
  mailer_settings settings;
  outbox_actor outbox;
  std::shared_ptr<node_counters> counters;
  /// A take is in flight: a wake-up now only sets take_again.
  bool taking = false;
  bool take_again = false;
  /// Takes that failed in a row (the outbox unreachable): their backoff.
  int64_t take_failures = 0;
  /// When the one timer that counts fires (steady clock); none: no timer.
  std::optional<std::chrono::steady_clock::time_point> armed;
  static inline const char* name = "mailer";
};

/// How long after a failed delivery number `attempts + 1` to try again.
caf::timespan retry_delay(const mailer_settings& s, int64_t attempts);

mailer_actor::behavior_type
mailer(mailer_actor::stateful_pointer<mailer_state> self,
       mailer_settings settings, outbox_actor outbox,
       std::shared_ptr<node_counters> counters);

/// Spawns it detached (after curl_global_init, see smtp_global_init). It
/// takes once at start. Stop it explicitly before the system goes down
/// (CAF 0.17 and detached actors); a delivery under way finishes first.
mailer_actor spawn_mailer(caf::actor_system& sys, mailer_settings settings,
                          outbox_actor outbox,
                          std::shared_ptr<node_counters> counters);

} // namespace authnode
