#include "actors/hash_pool.hpp"

#include <algorithm>
#include <chrono>
#include <tuple>

#include <caf/event_based_actor.hpp>
#include <caf/spawn_options.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/hasher.hpp"
#include "core/error_code.hpp"
#include "core/log.hpp"

namespace authnode {

namespace {

using pool_ptr = hash_pool_actor::stateful_pointer<hash_pool_state>;

void publish_depth(const hash_pool_state& st) {
  if (st.counters)
    st.counters->hash_queue_depth
      = static_cast<int64_t>(st.urgent.size() + st.waiting.size());
}

void release(pool_ptr self, hasher_actor worker) {
  auto& st = self->state;
  auto& queue = st.urgent.empty() ? st.waiting : st.urgent;
  if (queue.empty()) {
    st.idle.emplace_back(std::move(worker));
    return;
  }
  auto job = std::move(queue.front());
  queue.pop_front();
  publish_depth(st);
  job(std::move(worker));
}

bool is_remote(pool_ptr self, const hasher_actor& worker) {
  return self->state.remote_slots.count(worker.address()) > 0;
}

/// Runs `job` again ahead of the queue: its worker was lost.
void retry(pool_ptr self, hash_pool_state::job job) {
  auto& st = self->state;
  if (!st.idle.empty()) {
    auto worker = std::move(st.idle.back());
    st.idle.pop_back();
    job(std::move(worker));
    return;
  }
  st.urgent.emplace_front(std::move(job));
  publish_depth(st);
}

/// One request for a worker. A value, not a closure over itself: a job
/// sent again after its worker was lost is a copy of this.
template <class Result, class... Ts>
struct hash_job {
  pool_ptr self;
  caf::typed_response_promise<Result> rp;
  std::tuple<Ts...> args;

  void operator()(hasher_actor worker) {
    if (!worker) { // every worker is gone
      rp.deliver(caf::make_error(ec::unavailable, "no hasher is reachable"));
      return;
    }
    auto started = std::chrono::steady_clock::now();
    auto remote = is_remote(self, worker);
    auto number = self->state.next_job++;
    if (remote)
      self->state.at_remote.emplace(
        number, hash_pool_state::remote_job{worker.address(), *this});
    auto again = *this;
    // Copies for the callbacks, which outlive this job object.
    auto pool = self;
    auto promise = rp;
    auto handle = std::apply(
      [&](const Ts&... xs) {
        return pool->request(worker, caf::infinite, xs...);
      },
      args);
    handle.then(
      [=](Result& result) mutable {
        if (remote && pool->state.at_remote.erase(number) == 0)
          return; // its worker was lost meanwhile: the job runs elsewhere
        if (auto& counters = pool->state.counters)
          counters->hash_duration.observe(std::chrono::steady_clock::now()
                                          - started);
        promise.deliver(std::move(result));
        release(pool, worker);
      },
      [=](caf::error& err) mutable {
        if (remote && pool->state.at_remote.erase(number) == 0)
          return;
        if (remote && err == caf::sec::request_receiver_down) {
          // Lost before its down message came: that message drops the
          // worker; the job goes elsewhere now.
          retry(pool, again);
          return;
        }
        promise.deliver(std::move(err));
        // A dead worker is not handed out again.
        if (err != caf::sec::request_receiver_down)
          release(pool, worker);
      });
  }
};

/// Forwards one request to a worker and hands the worker back when it
/// answers; queues it (urgent or not) while every worker is busy.
template <class Result, class... Ts>
void dispatch(pool_ptr self, caf::typed_response_promise<Result> rp,
              bool urgent, Ts... xs) {
  auto& st = self->state;
  if (st.workers == 0) {
    rp.deliver(caf::make_error(ec::unavailable, "no hasher is reachable"));
    return;
  }
  hash_pool_state::job job
    = hash_job<Result, Ts...>{self, rp, std::make_tuple(std::move(xs)...)};
  if (!st.idle.empty()) {
    auto worker = std::move(st.idle.back());
    st.idle.pop_back();
    job(std::move(worker));
    return;
  }
  auto& queue = urgent ? st.urgent : st.waiting;
  // A full queue answers at once: waiting longer than the queue already
  // makes everyone wait would help no one, and it keeps memory bounded.
  if (queue.size() >= st.max_queue) {
    rp.deliver(caf::make_error(ec::busy));
    return;
  }
  queue.emplace_back(std::move(job));
  publish_depth(st);
}

void join(pool_ptr self, hasher_actor worker, uint32_t slots) {
  auto& st = self->state;
  if (!worker || slots == 0 || st.remote_slots.count(worker.address()) > 0)
    return;
  self->monitor(worker);
  st.remote_slots.emplace(worker.address(), slots);
  st.workers += slots;
  for (uint32_t i = 0; i < slots; ++i)
    release(self, worker);
}

/// A remote worker is gone: forget it, and run what it had elsewhere.
void lose(pool_ptr self, const caf::actor_addr& gone) {
  auto& st = self->state;
  auto slots = st.remote_slots.find(gone);
  if (slots == st.remote_slots.end())
    return;
  st.workers -= slots->second;
  st.remote_slots.erase(slots);
  st.idle.erase(std::remove_if(st.idle.begin(), st.idle.end(),
                               [&](const hasher_actor& w) {
                                 return w.address() == gone;
                               }),
                st.idle.end());
  std::vector<hash_pool_state::job> orphans;
  for (auto i = st.at_remote.begin(); i != st.at_remote.end();) {
    if (i->second.worker == gone) {
      orphans.emplace_back(std::move(i->second.run));
      i = st.at_remote.erase(i);
    } else {
      ++i;
    }
  }
  if (st.workers == 0) {
    // No one left to do them: say so now rather than let them wait for a
    // worker that may never come (a job given no worker answers
    // unavailable).
    log_warning("the last hasher node was lost; hashing is unavailable");
    for (auto* queue : {&st.urgent, &st.waiting}) {
      for (auto& job : *queue)
        orphans.emplace_back(std::move(job));
      queue->clear();
    }
    publish_depth(st);
    for (auto& job : orphans)
      job(hasher_actor{});
    return;
  }
  log_warning("a hasher node was lost; " + std::to_string(orphans.size())
              + " hashes in progress go to the other hashers");
  for (auto& job : orphans)
    retry(self, std::move(job));
}

void publish_breached(pool_ptr self, const breached_status& status) {
  if (auto& counters = self->state.counters) {
    counters->breached_index_state = static_cast<int64_t>(status.state);
    counters->breached_index_entries = static_cast<int64_t>(status.entries);
  }
}

/// Asks every local hasher to map the index again (`again`) or to tell
/// its state; runs `done` with the last answer, once all have answered.
void reload(pool_ptr self, bool again,
            std::function<void(breached_status)> done) {
  auto& st = self->state;
  if (st.local.empty()) {
    breached_status none;
    none.path = st.breached_path;
    if (!none.path.empty())
      none.problem = "no hasher runs on this node: hasher nodes map their "
                     "own index";
    done(std::move(none));
    return;
  }
  auto left = std::make_shared<size_t>(st.local.size());
  auto last = std::make_shared<breached_status>();
  auto one_done = [=] {
    if (--*left > 0)
      return;
    publish_breached(self, *last);
    if (again && !last->problem.empty())
      log_warning("breached-password index not reloaded: " + last->problem);
    else if (again)
      log_info("breached-password index " + last->path + " mapped, "
               + std::to_string(last->entries) + " entries");
    done(*last);
  };
  for (auto& worker : st.local)
    self->request(worker, caf::infinite, breached_reload_atom::value, again)
      .then(
        [=](breached_status& status) {
          *last = std::move(status);
          one_done();
        },
        [=](caf::error& err) {
          last->problem = to_wire(err).message;
          one_done();
        });
}

} // namespace

hash_pool_actor::behavior_type
hash_pool(pool_ptr self, size_t workers, size_t max_queue,
          std::shared_ptr<node_counters> counters, breached_settings breached) {
  self->state.counters = std::move(counters);
  self->state.max_queue = max_queue;
  self->state.workers = workers;
  self->state.breached_path = breached.path;
  for (size_t i = 0; i < workers; ++i)
    self->state.local.emplace_back(
      self->spawn<caf::detached + caf::linked>(hasher, breached));
  self->state.idle = self->state.local;
  // The state for stats, once the hashers have mapped the file.
  reload(self, false, [](breached_status) {});
  self->set_down_handler([=](caf::down_msg& msg) {
    lose(self, msg.source);
  });
  return {
    [=](hash_atom a, secret& password, hash_params p) {
      auto rp = self->make_response_promise<std::string>();
      dispatch(self, rp, false, a, std::move(password), p);
      return rp;
    },
    [=](hash_new_atom a, secret& password, hash_params p) {
      auto rp = self->make_response_promise<std::string>();
      dispatch(self, rp, false, a, std::move(password), p);
      return rp;
    },
    [=](breached_reload_atom, bool again) {
      auto rp = self->make_response_promise<breached_status>();
      reload(self, again, [rp](breached_status status) mutable {
        rp.deliver(std::move(status));
      });
      return rp;
    },
    [=](verify_atom a, std::string& phc, secret& password, hash_params p) {
      auto rp = self->make_response_promise<verify_outcome>();
      dispatch(self, rp, false, a, std::move(phc), std::move(password), p);
      return rp;
    },
    [=](urgent_atom, verify_atom a, std::string& phc, secret& password,
        hash_params p) {
      // The worker gets a plain verification: urgency ends at the queue.
      auto rp = self->make_response_promise<verify_outcome>();
      dispatch(self, rp, true, a, std::move(phc), std::move(password), p);
      return rp;
    },
    // A signature check costs a fraction of a millisecond next to argon2's
    // tens: ahead of the queue it delays the passwords behind it by next to
    // nothing, and the guard has admitted every assertion that gets here.
    [=](wa_register_atom a, webauthn_registration& reg, std::string& challenge,
        webauthn_policy& policy) {
      auto rp = self->make_response_promise<registration_verdict>();
      dispatch(self, rp, true, a, std::move(reg), std::move(challenge),
               std::move(policy));
      return rp;
    },
    [=](wa_assert_atom a, webauthn_assertion& assertion,
        std::string& challenge, webauthn_credential& stored,
        webauthn_policy& policy) {
      auto rp = self->make_response_promise<assertion_verdict>();
      dispatch(self, rp, true, a, std::move(assertion), std::move(challenge),
               std::move(stored), std::move(policy));
      return rp;
    },
    [=](hasher_join_atom, hasher_actor worker, uint32_t slots) {
      join(self, std::move(worker), slots);
    },
  };
}

} // namespace authnode
