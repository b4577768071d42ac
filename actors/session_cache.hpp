// Live sessions the auth actor has seen, so that whoami, the most frequent
// request of a busy site, is answered without a database round trip. The
// connections keep one of these too, on the I/O thread
// (net/session_keeper.hpp), which the auth actor empties as it empties its
// own, before it answers the op that ended the sessions.
//
// A cache is only as good as its invalidation. This one is coherent while its
// auth actor sees every change to sessions and users, which holds on a
// single node: logins, logouts and password changes all pass through that
// actor, which updates the cache as it makes them. Lookups that were already
// on their way to the database when a session was dropped must not put their
// stale answer back: epoch() tells them.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "actors/interfaces.hpp"

namespace authnode {

class session_cache {
public:
  /// At most `capacity` sessions; 0 turns the cache off.
  explicit session_cache(size_t capacity = 0) : capacity_(capacity) {}

  bool enabled() const {
    return capacity_ > 0;
  }

  /// The user behind a token digest, if cached and live at `now`; its
  /// expiry goes to `expires_at` if given.
  const user_view* find(const std::string& digest, int64_t now,
                        int64_t* expires_at = nullptr) const;

  /// The same, as the `encoded` given to put() (the connections' cache
  /// keeps the user's JSON so that a hit only copies it); null if not
  /// cached, not live, or put without it.
  const std::string* find_encoded(const std::string& digest,
                                  int64_t now) const;

  /// Remembers a live session of `user` (and the user's current details,
  /// with `encoded`, their JSON, if given).
  void put(const std::string& digest, const user_view& user,
           int64_t expires_at, std::string encoded = {});

  /// Drops one session (logout).
  void forget(const std::string& digest);

  /// Drops every session of a user except `keep` (password change); costs
  /// the user's sessions, not the cache's.
  void forget_user(int64_t user_id, const std::string& keep);

  /// Drops everything (the node that owns the sessions is out of reach).
  void clear();

  using clock = std::chrono::steady_clock;

  /// Hits are answered until `t` only: a gateway's lease from the storage
  /// node (net/session_keeper). Without a call, always.
  void answer_until(clock::time_point t) {
    answer_until_ = t;
  }

  bool answering() const {
    return answer_until_ == clock::time_point::max()
           || clock::now() < answer_until_;
  }

  /// Changes whenever a session is dropped.
  uint64_t epoch() const {
    return epoch_;
  }

  size_t size() const {
    return sessions_.size();
  }

private:
  struct entry {
    int64_t user_id;
    int64_t expires_at;
  };
  size_t capacity_;
  uint64_t epoch_ = 0;
  clock::time_point answer_until_ = clock::time_point::max();
  struct user_entry {
    user_view view;
    std::string encoded;
    /// The user's cached sessions: keys of sessions_, which stay where they
    /// are until erased.
    std::vector<const std::string*> digests;
  };
  const user_entry* live(const std::string& digest, int64_t now,
                         int64_t* expires_at) const;
  std::unordered_map<std::string, entry> sessions_;
  std::unordered_map<int64_t, user_entry> users_;
};

} // namespace authnode
