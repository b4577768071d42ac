#include "cluster/session_hub.hpp"

#include <chrono>
#include <memory>
#include <utility>
#include <vector>

#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "core/log.hpp"

namespace authnode {

namespace {

using hub_ptr = session_hub_actor::stateful_pointer<session_hub_state>;

/// Passes a drop to every joined cache; `rp` gets ok once each has answered
/// or had one lease to do so. A cache that let the lease pass is forgotten.
template <class... Ts>
caf::typed_response_promise<caf::ok_atom> fan_out(hub_ptr self,
                                                  const Ts&... xs) {
  auto rp = self->make_response_promise<caf::ok_atom>();
  auto& caches = self->state.caches;
  if (caches.empty()) {
    rp.deliver(caf::ok_atom::value);
    return rp;
  }
  auto left = std::make_shared<size_t>(caches.size());
  auto one_done = [rp, left]() mutable {
    if (--*left == 0)
      rp.deliver(caf::ok_atom::value);
  };
  for (auto& [addr, cache] : caches) {
    auto who = addr;
    self->request(cache, self->state.lease, io_forget_atom::value, xs...)
      .then(
        [one_done](caf::ok_atom) mutable {
          one_done();
        },
        [self, who, one_done](caf::error&) mutable {
          // Its lease has run out by now: it answers no hit until it
          // joins again, and joining drops what it holds.
          if (self->state.caches.erase(who) > 0) {
            self->demonitor(who);
            log_warning("a gateway's session cache did not answer a drop "
                        "within its lease; it answers from the storage "
                        "node until it joins again");
          }
          one_done();
        });
  }
  return rp;
}

} // namespace

session_hub_actor::behavior_type
session_hub(session_hub_actor::stateful_pointer<session_hub_state> self,
            caf::timespan lease) {
  self->state.lease = lease;
  self->set_down_handler([=](caf::down_msg& msg) {
    auto& caches = self->state.caches;
    if (caches.erase(msg.source) == 0)
      return;
    for (auto& entry : caches)
      caf::anon_send(entry.second, io_clear_atom::value);
  });
  return {
    [=](session_lease_atom, caf::actor cache) -> caf::result<int64_t, bool> {
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  self->state.lease)
                  .count();
      if (!cache)
        return {int64_t{ms}, true};
      auto addr = caf::actor_cast<caf::actor_addr>(cache);
      auto joined = self->state.caches.emplace(addr, cache).second;
      if (joined)
        self->monitor(cache);
      return {int64_t{ms}, joined};
    },
    [=](io_forget_atom, const std::string& digest) {
      return fan_out(self, digest);
    },
    [=](io_forget_atom, int64_t user_id, const std::string& keep) {
      return fan_out(self, user_id, keep);
    },
  };
}

} // namespace authnode
