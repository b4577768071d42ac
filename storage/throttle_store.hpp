// The guard's failures per key in the database, as plain blocking calls on
// the user store's connection (the database actor's thread only). On
// PostgreSQL every node on the database counts a key's failures in one row
// and a restart forgets none of them (issue 17); the guard keeps its
// in-memory policy for what it decides now and takes the larger count.
//
// A key is stored by its digest (throttle_key_digest, actors/throttle.hpp): the
// addresses of attackers and the emails they tried, which may belong to no one,
// are not kept in the clear. Times are Unix milliseconds.
#pragma once

#include <cstdint>
#include <string>

#include <caf/expected.hpp>

#include "storage/sql.hpp"

namespace authnode {

/// A key's failures in the window and the time of its last one.
struct throttle_record {
  int64_t failures = 0;
  int64_t last_failure_ms = 0;
};

class throttle_store {
public:
  /// Prepares the statements on `db`, which must outlive the store.
  bool prepare(sql_db& db, std::string& error);

  /// One more failure of the key at `now_ms`, counted from 1 again when the
  /// last one was `window_ms` or longer ago; the record after it. Two nodes
  /// that add at once both count (one row, updated in place).
  caf::expected<throttle_record> add_failure(const std::string& digest,
                                             int64_t now_ms, int64_t window_ms);

  /// The key's record as of `now_ms`: no failures when it has none in the
  /// window.
  caf::expected<throttle_record> get(const std::string& digest, int64_t now_ms,
                                     int64_t window_ms);

  /// Forgets the key's failures (a success of the account, the operator's
  /// unlock); whether it had a record.
  caf::expected<bool> clear(const std::string& digest);

  /// Removes records whose last failure is before `before_ms`; how many.
  caf::expected<int64_t> purge(int64_t before_ms);

private:
  sql_db* db_ = nullptr;
  statement add_;
  statement get_;
  statement clear_;
  statement purge_;
};

} // namespace authnode
