#include "actors/guard.hpp"

#include <algorithm>
#include <functional>

#include <caf/typed_event_based_actor.hpp>

#include "core/clock.hpp"
#include "core/error_code.hpp"

namespace authnode {

namespace {

using guard_ptr = guard_actor::stateful_pointer<guard_state>;
using time_point = caf::actor_clock::time_point;

/// How often forgotten keys are dropped and the penalized counts refreshed.
constexpr auto sweep_interval = std::chrono::seconds(5);

bool later(const held_attempt& a, const held_attempt& b) {
  return a.due != b.due ? a.due > b.due : a.seq > b.seq;
}

void arm(guard_ptr self, time_point now) {
  auto& st = self->state;
  if (st.timed.empty())
    return;
  auto head = st.timed.front().due;
  if (st.armed && *st.armed > now && *st.armed <= head)
    return;
  st.armed = head;
  self->delayed_send(self, head - now, tick_atom::value);
}

void publish_held(guard_ptr self) {
  self->state.counters->throttle_held
    = static_cast<int64_t>(self->state.policy.held());
}

void refuse(guard_ptr self, caf::typed_response_promise<caf::ok_atom>& rp,
            time_point until, time_point now) {
  self->state.counters->rate_limited_total += 1;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(until - now)
              .count();
  rp.deliver(make_rate_limited(std::max<int64_t>(ms, 1)));
}

/// Decides about an attempt now, on what this node knows; `was_held` when
/// it is asked about again.
void decide_now(guard_ptr self, throttle_keys keys,
                caf::typed_response_promise<caf::ok_atom> rp, bool was_held) {
  auto& st = self->state;
  auto now = self->clock().now();
  auto v = st.policy.admit(keys, now, was_held);
  switch (v.what) {
    case throttle::decision::go:
      rp.deliver(caf::ok_atom::value);
      break;
    case throttle::decision::refuse:
      refuse(self, rp, v.until, now);
      break;
    case throttle::decision::wait:
      if (st.draining && v.until > now) {
        // A penalty may outlast the drain: the client hears when to try
        // again rather than nothing.
        st.policy.drop_hold(keys);
        refuse(self, rp, v.until, now);
        break;
      }
      if (v.until > now) {
        st.timed.push_back(
          held_attempt{v.until, st.next_seq++, std::move(keys), rp});
        std::push_heap(st.timed.begin(), st.timed.end(), later);
        arm(self, now);
      } else {
        st.waiting_for_slot.push_back(
          held_attempt{v.until, st.next_seq++, std::move(keys), rp});
      }
      break;
  }
  publish_held(self);
}

// -- failures shared through the database ------------------------------------

throttle_lookup lookup_of(guard_ptr self, const throttle_keys& keys,
                          bool source = true, bool account = true) {
  throttle_lookup x;
  if (source)
    x.source = throttle_key_digest(false, keys.source);
  if (account)
    x.account = throttle_key_digest(true, keys.account);
  x.now_ms = now_millis();
  x.window_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  self->state.cfg.failure_window)
                  .count();
  return x;
}

/// Takes the database's counts into the policy: the larger of its own and
/// the database's, or with `exact` the database's (a success on another
/// node clears the account there). Its times are wall-clock milliseconds,
/// the policy's the actor clock's: placed as long before now as they were
/// before `x.now_ms`.
void adopt(guard_ptr self, const throttle_keys& keys, const throttle_lookup& x,
           const shared_failures& f, bool exact = false) {
  auto now = self->clock().now();
  auto at = [&](int64_t last_ms) {
    return now - std::chrono::milliseconds(x.now_ms - last_ms);
  };
  auto& policy = self->state.policy;
  policy.adopt(false, keys.source, f.source, at(f.source_last_ms), now, exact);
  policy.adopt(true, keys.account, f.account, at(f.account_last_ms), now,
               exact);
}

/// A new attempt: with a shared database, its keys' failures are read
/// first. A database out of reach leaves the decision to what this node
/// remembers, rather than refusing every login.
void decide(guard_ptr self, throttle_keys keys,
            caf::typed_response_promise<caf::ok_atom> rp) {
  auto& shared = self->state.shared;
  if (!shared.db) {
    decide_now(self, std::move(keys), rp, false);
    return;
  }
  auto x = lookup_of(self, keys);
  auto forgets = self->state.forgets;
  auto writes = self->state.writes;
  self->request(shared.db, shared.timeout, throttle_load_atom::value, x)
    .then(
      [=](const shared_failures& f) mutable {
        auto& st = self->state;
        bool exact = st.writes == writes && st.writes_pending == 0;
        if (st.forgets == forgets)
          adopt(self, keys, x, f, exact);
        decide_now(self, std::move(keys), rp, false);
      },
      [=](const caf::error&) mutable {
        decide_now(self, std::move(keys), rp, false);
      });
}

/// Forgets a key's failures in the shared database, if there is one, and
/// runs `done` once that is over (written, or not: a lost write leaves
/// failures that the window ends anyway). Counts read meanwhile are not
/// adopted: they may hold what was just forgiven.
void forget_shared(
  guard_ptr self, bool account, const std::string& key,
  std::function<void()> done = [] {}) {
  auto& shared = self->state.shared;
  if (!shared.db) {
    done();
    return;
  }
  self->state.forgets += 1;
  auto over = [=] {
    self->state.forgets += 1;
    done();
  };
  self
    ->request(shared.db, shared.timeout, throttle_forget_atom::value,
              throttle_key_digest(account, key))
    .then(
      [=](bool) {
        over();
      },
      [=](const caf::error&) {
        over();
      });
}

/// Writes what a verification changed to the shared database: a failure
/// on the keys it counted on (and takes the counts back, which hold the
/// other nodes' failures too), a success clears the account. `rp` is
/// answered when a failure is written, or could not be (the database out
/// of reach or slower than the time limit): its reply waits for that, so
/// that a guess sent to another node after it meets the failure.
void share(guard_ptr self, const attempt_report& report,
           throttle::counted counted,
           caf::typed_response_promise<caf::ok_atom> rp) {
  auto& shared = self->state.shared;
  if (report.result == attempt_result::success)
    forget_shared(self, true, report.keys.account);
  if (!shared.db || report.result != attempt_result::failure
      || !(counted.source || counted.account)) {
    rp.deliver(caf::ok_atom::value);
    return;
  }
  auto x = lookup_of(self, report.keys, counted.source, counted.account);
  auto keys = report.keys;
  auto& st = self->state;
  auto forgets = st.forgets;
  st.writes += 1;
  st.writes_pending += 1;
  auto written = [=] {
    self->state.writes += 1;
    self->state.writes_pending -= 1;
  };
  self->request(shared.db, shared.timeout, throttle_fail_atom::value, x)
    .then(
      [=](const shared_failures& f) mutable {
        written();
        if (self->state.forgets == forgets)
          adopt(self, keys, x, f);
        rp.deliver(caf::ok_atom::value);
      },
      [=](const caf::error&) mutable {
        written();
        rp.deliver(caf::ok_atom::value);
      });
}

void on_tick(guard_ptr self) {
  auto& st = self->state;
  auto now = self->clock().now();
  if (st.armed && *st.armed <= now)
    st.armed.reset();
  std::vector<held_attempt> due;
  while (!st.timed.empty() && st.timed.front().due <= now) {
    std::pop_heap(st.timed.begin(), st.timed.end(), later);
    due.push_back(std::move(st.timed.back()));
    st.timed.pop_back();
  }
  for (auto& h : due)
    decide_now(self, std::move(h.keys), h.rp, true);
  arm(self, now);
}

caf::typed_response_promise<caf::ok_atom>
on_done(guard_ptr self, const attempt_report& report) {
  auto& st = self->state;
  auto now = self->clock().now();
  auto counted = st.policy.finished(report.keys, report.result,
                                    report.fingerprint, now);
  auto rp = self->make_response_promise<caf::ok_atom>();
  share(self, report, counted, rp);
  // A slot is free: everyone waiting for one is asked about again, once.
  auto waiting = std::move(st.waiting_for_slot);
  st.waiting_for_slot.clear();
  for (auto& h : waiting)
    decide_now(self, std::move(h.keys), h.rp, true);
  return rp;
}

/// Forgets a key's failures and asks about its held attempts again now;
/// answers once the shared database has forgotten them too, so that an
/// attempt sent after the answer meets none of them.
caf::typed_response_promise<bool> on_reset(guard_ptr self,
                                           const throttle_target& target) {
  auto& st = self->state;
  auto now = self->clock().now();
  auto had = st.policy.reset(target.account, target.key, now);
  auto rp = self->make_response_promise<bool>();
  forget_shared(self, target.account, target.key, [=]() mutable {
    rp.deliver(had);
  });
  bool released = false;
  for (auto& h : st.timed) {
    auto& key = target.account ? h.keys.account : h.keys.source;
    if (key == target.key && h.due > now) {
      h.due = now;
      released = true;
    }
  }
  if (released) {
    std::make_heap(st.timed.begin(), st.timed.end(), later);
    on_tick(self);
  }
  return rp;
}

/// The node is stopping: every attempt held for a penalty is answered
/// now, rate_limited until the penalty ends, so that the connections can
/// finish within the drain. Those waiting only for a verification slot get
/// one soon and are left to it.
void on_drain(guard_ptr self) {
  auto& st = self->state;
  st.draining = true;
  auto now = self->clock().now();
  auto timed = std::move(st.timed);
  st.timed.clear();
  for (auto& h : timed) {
    st.policy.drop_hold(h.keys);
    refuse(self, h.rp, std::max(h.due, now), now);
  }
  publish_held(self);
}

void on_sweep(guard_ptr self) {
  auto& st = self->state;
  auto [sources, accounts] = st.policy.sweep(self->clock().now());
  st.counters->penalized_sources = static_cast<int64_t>(sources);
  st.counters->penalized_accounts = static_cast<int64_t>(accounts);
  self->delayed_send(self, sweep_interval, purge_atom::value);
}

} // namespace

guard_actor::behavior_type guard(guard_ptr self, throttle_settings cfg,
                                 std::shared_ptr<node_counters> counters) {
  return shared_guard(self, cfg, std::move(counters), shared_throttle{});
}

guard_actor::behavior_type shared_guard(guard_ptr self, throttle_settings cfg,
                                        std::shared_ptr<node_counters> counters,
                                        shared_throttle shared) {
  self->state.policy = throttle{cfg};
  self->state.cfg = cfg;
  self->state.shared = std::move(shared);
  self->state.counters = std::move(counters);
  self->delayed_send(self, sweep_interval, purge_atom::value);
  return {
    [=](guard_admit_atom, throttle_keys& keys) {
      auto rp = self->make_response_promise<caf::ok_atom>();
      decide(self, std::move(keys), rp);
      return rp;
    },
    [=](guard_spend_atom,
        const std::string& source) -> caf::result<caf::ok_atom> {
      auto wait = self->state.policy.spend(source, self->clock().now());
      if (wait.count() == 0)
        return caf::ok_atom::value;
      self->state.counters->rate_limited_total += 1;
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(wait);
      return make_rate_limited(std::max<int64_t>(ms.count(), 1));
    },
    [=](guard_done_atom, const attempt_report& report) {
      return on_done(self, report);
    },
    [=](tick_atom) {
      on_tick(self);
    },
    [=](purge_atom) {
      on_sweep(self);
    },
    [=](throttle_show_atom, const throttle_target& target) {
      return self->state.policy.status(target.account, target.key,
                                       self->clock().now());
    },
    [=](throttle_reset_atom, const throttle_target& target) {
      return on_reset(self, target);
    },
    [=](drain_atom) {
      on_drain(self);
    },
  };
}

} // namespace authnode
