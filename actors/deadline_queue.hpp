// Time limits for requests to a backend, without one CAF timer per request.
//
// CAF 0.17 gives every request with a timeout its own event on the clock
// thread (a locked queue, touched again when the answer comes); at tens of
// thousands of whoami/s the clock thread alone took a tenth of a core. All
// backend requests of one actor share one time limit, so their deadlines come
// in order: a FIFO of deadlines and one armed timer serve them all.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <unordered_map>

#include <caf/actor_clock.hpp>

namespace authnode {

class deadline_queue {
public:
  using time_point = caf::actor_clock::time_point;
  using call_id = uint64_t;

  /// Tracks a call; `on_expiry` runs from expire() if the call is still open
  /// at `due`. Deadlines must not decrease from one call to the next.
  call_id open(time_point due, std::function<void()> on_expiry);

  /// Tracks a call with no time limit of its own: only expire_all() ends it
  /// early.
  call_id open_untimed(std::function<void()> on_expiry);

  /// Stops tracking a call. False if it already expired: its answer is late
  /// and must be dropped, since the requester was answered already.
  bool close(call_id id);

  /// Runs the handlers of every call due at or before `now`; returns the
  /// next due time, if calls remain open.
  std::optional<time_point> expire(time_point now);

  /// Runs the handlers of every open call, timed or not: the backend they
  /// wait for is gone.
  void expire_all();

  size_t open_calls() const {
    return open_.size();
  }

private:
  std::deque<std::pair<time_point, call_id>> order_;
  std::unordered_map<call_id, std::function<void()>> open_;
  call_id next_ = 1;
};

} // namespace authnode
