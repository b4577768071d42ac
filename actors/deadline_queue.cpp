#include "actors/deadline_queue.hpp"

namespace authnode {

deadline_queue::call_id deadline_queue::open(time_point due,
                                             std::function<void()> on_expiry) {
  auto id = next_++;
  order_.emplace_back(due, id);
  open_.emplace(id, std::move(on_expiry));
  return id;
}

deadline_queue::call_id
deadline_queue::open_untimed(std::function<void()> on_expiry) {
  auto id = next_++;
  open_.emplace(id, std::move(on_expiry));
  return id;
}

void deadline_queue::expire_all() {
  // Handlers may open new calls: they go into a fresh map.
  auto calls = std::move(open_);
  open_.clear();
  order_.clear();
  for (auto& [id, handler] : calls)
    handler();
}

bool deadline_queue::close(call_id id) {
  return open_.erase(id) > 0;
}

std::optional<deadline_queue::time_point>
deadline_queue::expire(time_point now) {
  while (!order_.empty()) {
    auto [due, id] = order_.front();
    auto i = open_.find(id);
    if (i == open_.end()) { // answered in time
      order_.pop_front();
      continue;
    }
    if (due > now)
      return due;
    auto handler = std::move(i->second);
    open_.erase(i);
    order_.pop_front();
    handler(); // may open new calls: state is consistent by now
  }
  return std::nullopt;
}

} // namespace authnode
