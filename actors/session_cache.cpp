#include "actors/session_cache.hpp"

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
  // Full: start over rather than track recency. Misses refill it from the
  // database, and a full cache is rare at the default size.
  if (sessions_.size() >= capacity_ && sessions_.count(digest) == 0) {
    sessions_.clear();
    users_.clear();
  }
  sessions_[digest] = entry{user.id, expires_at};
  users_[user.id] = user_entry{user, std::move(encoded)};
}

void session_cache::forget(const std::string& digest) {
  ++epoch_;
  sessions_.erase(digest);
}

void session_cache::forget_user(int64_t user_id, const std::string& keep) {
  ++epoch_;
  for (auto i = sessions_.begin(); i != sessions_.end();) {
    if (i->second.user_id == user_id && i->first != keep)
      i = sessions_.erase(i);
    else
      ++i;
  }
}

} // namespace authnode
