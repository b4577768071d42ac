#include "actors/session_cache.hpp"

#include <algorithm>

namespace authnode {

const session_cache::user_entry*
session_cache::live(const std::string& digest, int64_t now,
                    int64_t* expires_at) const {
  auto i = sessions_.find(digest);
  if (i == sessions_.end() || i->second.expires_at <= now)
    return nullptr;
  auto u = users_.find(i->second.user_id);
  if (u == users_.end())
    return nullptr;
  if (expires_at)
    *expires_at = i->second.expires_at;
  return &u->second;
}

const user_view* session_cache::find(const std::string& digest, int64_t now,
                                     int64_t* expires_at) const {
  auto u = live(digest, now, expires_at);
  return u ? &u->view : nullptr;
}

const std::string* session_cache::find_encoded(const std::string& digest,
                                               int64_t now) const {
  auto u = live(digest, now, nullptr);
  return u && !u->encoded.empty() ? &u->encoded : nullptr;
}

void session_cache::put(const std::string& digest, const user_view& user,
                        int64_t expires_at, std::string encoded) {
  if (!enabled())
    return;
  auto known = sessions_.find(digest);
  // Full: start over rather than track recency. Misses refill it from the
  // database, and a full cache is rare at the default size.
  if (known == sessions_.end() && sessions_.size() >= capacity_) {
    // No new epoch: nothing was dropped that a lookup on its way could
    // put back stale.
    sessions_.clear();
    users_.clear();
  }
  auto& owner = users_[user.id];
  owner.view = user;
  owner.encoded = std::move(encoded);
  if (known != sessions_.end()) {
    known->second.expires_at = expires_at;
    return;
  }
  auto added = sessions_.emplace(digest, entry{user.id, expires_at}).first;
  owner.digests.push_back(&added->first);
}

void session_cache::forget(const std::string& digest) {
  ++epoch_;
  auto i = sessions_.find(digest);
  if (i == sessions_.end())
    return;
  auto u = users_.find(i->second.user_id);
  if (u != users_.end()) {
    auto& digests = u->second.digests;
    auto mine = std::find(digests.begin(), digests.end(), &i->first);
    if (mine != digests.end()) {
      *mine = digests.back();
      digests.pop_back();
    }
    if (digests.empty())
      users_.erase(u);
  }
  sessions_.erase(i);
}

void session_cache::forget_user(int64_t user_id, const std::string& keep) {
  ++epoch_;
  auto u = users_.find(user_id);
  if (u == users_.end())
    return;
  std::vector<const std::string*> kept;
  for (auto digest : u->second.digests) {
    if (*digest == keep)
      kept.push_back(digest);
    else
      sessions_.erase(sessions_.find(*digest)); // not by the key it frees
  }
  if (kept.empty())
    users_.erase(u);
  else
    u->second.digests = std::move(kept);
}

void session_cache::clear() {
  ++epoch_;
  sessions_.clear();
  users_.clear();
}

} // namespace authnode
