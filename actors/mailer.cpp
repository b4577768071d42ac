#include "actors/mailer.hpp"

#include <algorithm>
#include <string>

#include <caf/spawn_options.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "core/clock.hpp"
#include "core/error_code.hpp"
#include "core/log.hpp"

namespace authnode {

namespace {

using mailer_ptr = mailer_actor::stateful_pointer<mailer_state>;
using namespace std::chrono;

/// How long a request to the outbox may take before it counts as failed.
constexpr auto outbox_patience = seconds(30);

int64_t to_ms(caf::timespan t) {
  return duration_cast<milliseconds>(t).count();
}

std::string error_text(const caf::error& err) {
  if (err.category() == caf::atom("authnode"))
    return to_wire(err).message;
  return caf::to_string(err);
}

/// What one batch did, for the depth gauge and the next wake-up.
struct batch_outcome {
  int64_t done = 0;              // sent or dropped: gone from the outbox
  int64_t earliest_retry_ms = 0; // 0: no retry scheduled
};

// -- the steps of one round, in the order they run -------------------------

void take(mailer_ptr self);
void on_batch(mailer_ptr self, const outbox_batch& batch);
void deliver(mailer_ptr self, const outgoing_mail& mail, int64_t now,
             batch_outcome& out);
void after_batch(mailer_ptr self, const outbox_batch& batch,
                 const batch_outcome& out);

/// Arms the timer for `due_ms` (Unix ms) unless one fires earlier already.
void arm(mailer_ptr self, int64_t due_ms);

void wake(mailer_ptr self) {
  auto& st = self->state;
  if (st.taking) {
    st.take_again = true;
    return;
  }
  take(self);
}

void take(mailer_ptr self) {
  auto& st = self->state;
  st.taking = true;
  st.take_again = false;
  self
    ->request(st.outbox, outbox_patience, outbox_take_atom::value, now_millis(),
              st.settings.batch)
    .then(
      [=](const outbox_batch& batch) {
        self->state.taking = false;
        self->state.take_failures = 0;
        on_batch(self, batch);
      },
      [=](caf::error& err) {
        auto& st = self->state;
        st.taking = false;
        auto wait = retry_delay(st.settings, st.take_failures++);
        log_warning("mailer cannot take mail from the outbox",
                    {{"error", error_text(err)}, {"retry_in_ms", to_ms(wait)}});
        arm(self, now_millis() + to_ms(wait));
      });
}

void on_batch(mailer_ptr self, const outbox_batch& batch) {
  batch_outcome out;
  for (auto& mail : batch.mails)
    deliver(self, mail, now_millis(), out);
  after_batch(self, batch, out);
}

/// Reports one outcome to the outbox; a failed report is only logged (the
/// mail stays in the outbox and comes back in a later take).
template <class... Ts>
void report(mailer_ptr self, int64_t id, Ts&&... xs) {
  self->request(self->state.outbox, outbox_patience, std::forward<Ts>(xs)...)
    .then([](caf::ok_atom) {},
          [id](caf::error& err) {
            log_warning("mailer cannot report to the outbox",
                        {{"mail", id}, {"error", error_text(err)}});
          });
}

void deliver(mailer_ptr self, const outgoing_mail& mail, int64_t now,
             batch_outcome& out) {
  auto& st = self->state;
  if (now - mail.created_at_ms > to_ms(st.settings.max_age)) {
    report(self, mail.id, outbox_drop_atom::value, mail.id,
           std::string("not delivered within --mail-max-age"));
    if (st.counters)
      st.counters->mails_dropped_total += 1;
    ++out.done;
    log_warning("mail dropped: too old",
                {{"mail", mail.id}, {"attempts", mail.attempts}});
    return;
  }
  if (log_enabled(log_level::debug))
    log_debug("mail to send", {{"mail", mail.id}, {"to", mail.to}});
  auto err = smtp_send(st.settings.smtp, mail);
  if (!err) {
    // At once: every moment between the relay's yes and this report is a
    // moment in which a crash would send the mail again.
    report(self, mail.id, outbox_sent_atom::value, mail.id);
    if (st.counters)
      st.counters->mails_sent_total += 1;
    ++out.done;
    log_info("mail sent", {{"mail", mail.id}, {"attempts", mail.attempts + 1}});
    return;
  }
  auto why = error_text(err);
  auto due = now_millis() + to_ms(retry_delay(st.settings, mail.attempts));
  report(self, mail.id, outbox_retry_atom::value, mail.id, due, why);
  if (st.counters)
    st.counters->mails_failed_total += 1;
  if (out.earliest_retry_ms == 0 || due < out.earliest_retry_ms)
    out.earliest_retry_ms = due;
  log_warning("mail delivery failed",
              {{"mail", mail.id},
               {"attempts", mail.attempts + 1},
               {"error", why},
               {"retry_in_ms", due - now_millis()}});
}

void after_batch(mailer_ptr self, const outbox_batch& batch,
                 const batch_outcome& out) {
  auto& st = self->state;
  if (st.counters)
    st.counters->outbox_depth = std::max<int64_t>(0, batch.pending - out.done);
  auto full = static_cast<int64_t>(batch.mails.size()) >= st.settings.batch
    && st.settings.batch > 0;
  if (full || st.take_again) {
    take(self);
    return;
  }
  int64_t due = batch.next_due_ms;
  if (out.earliest_retry_ms != 0 && (due == 0 || out.earliest_retry_ms < due))
    due = out.earliest_retry_ms;
  if (due == 0 && batch.pending - out.done > 0)
    // Mail waits but the outbox named no time (handed out elsewhere, say):
    // look again later rather than only on the next mail_ready.
    due = now_millis() + to_ms(st.settings.retry_max);
  if (due != 0)
    arm(self, due);
}

void arm(mailer_ptr self, int64_t due_ms) {
  auto& st = self->state;
  auto wait = milliseconds(std::max<int64_t>(0, due_ms - now_millis()));
  auto at = steady_clock::now() + wait;
  if (st.armed && *st.armed <= at)
    return;
  st.armed = at;
  self->delayed_send(self, wait, tick_atom::value);
}

void on_tick(mailer_ptr self) {
  auto& st = self->state;
  // A tick before the armed time belongs to a timer that was superseded by
  // an earlier one; the armed timer comes on its own.
  if (!st.armed || steady_clock::now() < *st.armed)
    return;
  st.armed.reset();
  wake(self);
}

} // namespace

caf::timespan retry_delay(const mailer_settings& s, int64_t attempts) {
  caf::timespan wait = s.retry_first;
  for (int64_t i = 0; i < attempts && wait < s.retry_max; ++i)
    wait *= 2;
  return std::min(wait, s.retry_max);
}

mailer_actor::behavior_type mailer(mailer_ptr self, mailer_settings settings,
                                   outbox_actor outbox,
                                   std::shared_ptr<node_counters> counters) {
  auto& st = self->state;
  st.settings = std::move(settings);
  st.outbox = std::move(outbox);
  st.counters = std::move(counters);
  // Mail left over from before a restart.
  take(self);
  return {
    [=](mail_ready_atom) {
      wake(self);
    },
    [=](tick_atom) {
      on_tick(self);
    },
  };
}

mailer_actor spawn_mailer(caf::actor_system& sys, mailer_settings settings,
                          outbox_actor outbox,
                          std::shared_ptr<node_counters> counters) {
  if (!smtp_global_init())
    log_error("libcurl could not be initialised: no mail can be sent");
  return sys.spawn<caf::detached>(mailer, std::move(settings),
                                  std::move(outbox), std::move(counters));
}

} // namespace authnode
