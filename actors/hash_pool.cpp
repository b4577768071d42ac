#include "actors/hash_pool.hpp"

#include <chrono>

#include <caf/event_based_actor.hpp>
#include <caf/spawn_options.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/hasher.hpp"
#include "core/error_code.hpp"

namespace authnode {

namespace {

using pool_ptr = hasher_actor::stateful_pointer<hash_pool_state>;

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

/// Forwards one request to a worker and hands the worker back when it
/// answers; queues it (urgent or not) while every worker is busy.
template <class Result, class... Ts>
void dispatch(pool_ptr self, caf::typed_response_promise<Result> rp,
              bool urgent, Ts... xs) {
  auto& st = self->state;
  hash_pool_state::job job = [=](hasher_actor worker) mutable {
    auto started = std::chrono::steady_clock::now();
    self->request(worker, caf::infinite, xs...)
      .then(
        [=](Result& result) mutable {
          if (auto& counters = self->state.counters)
            counters->hash_duration.observe(std::chrono::steady_clock::now()
                                            - started);
          rp.deliver(std::move(result));
          release(self, worker);
        },
        [=](caf::error& err) mutable {
          rp.deliver(std::move(err));
          // A dead worker is not handed out again.
          if (err != caf::sec::request_receiver_down)
            release(self, worker);
        });
  };
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

} // namespace

hasher_actor::behavior_type hash_pool(pool_ptr self, size_t workers,
                                      size_t max_queue,
                                      std::shared_ptr<node_counters> counters) {
  self->state.counters = std::move(counters);
  self->state.max_queue = max_queue;
  for (size_t i = 0; i < workers; ++i)
    self->state.idle.emplace_back(
      self->spawn<caf::detached + caf::linked>(hasher));
  return {
    [=](hash_atom a, secret& password, hash_params p) {
      auto rp = self->make_response_promise<std::string>();
      dispatch(self, rp, false, a, std::move(password), p);
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
  };
}

} // namespace authnode
