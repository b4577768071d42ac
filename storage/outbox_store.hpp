// The mail outbox, as plain blocking calls on the user store's
// connection (the database actor's thread only).
//
// A mail is written in the transaction that made its code
// (storage/account_codes.cpp), so a code is never stored without its mail
// nor a mail queued for a code that was not. Its content (recipient,
// subject, body, which holds the code) is stored sealed with the node's
// secret key; the row is deleted once the relay took the mail, or when the
// mailer gives up on it. Times are Unix milliseconds.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/atom.hpp>
#include <caf/expected.hpp>

#include "actors/interfaces.hpp"
#include "storage/sql.hpp"

namespace authnode {

struct outbox_row {
  int64_t id = 0;
  std::string sealed;
  int64_t created_at_ms = 0;
  int64_t attempts = 0;
};

class outbox_store {
public:
  /// Prepares the statements on `db`, which must outlive the store.
  bool prepare(sql_db& db, std::string& error);

  /// Queues a sealed mail, due at once; returns its id.
  caf::expected<int64_t> enqueue(const std::string& sealed, int64_t now_ms);

  /// Takes the mails due at `now_ms`, oldest first, at most `limit`: each is
  /// leased until `lease_until_ms` (due again then, unless reported before),
  /// in the same statement, so that no other take (another database actor,
  /// another node) gets it meanwhile.
  caf::expected<std::vector<outbox_row>> claim(int64_t now_ms, int64_t limit,
                                               int64_t lease_until_ms);

  /// How many mails wait in all, and when the first of those due after
  /// `now_ms` falls due (0: none).
  caf::expected<std::pair<int64_t, int64_t>> pending(int64_t now_ms);

  /// Delivered or given up: the mail is gone. Removing a mail that is gone
  /// already is fine (it was reported twice).
  caf::expected<caf::ok_atom> remove(int64_t id);

  /// A failed delivery: counted, with its error, due again at `next_at_ms`.
  caf::expected<caf::ok_atom> retry(int64_t id, int64_t next_at_ms,
                                    const std::string& error);

  /// What operators see: counts, ages and the last error, no content.
  caf::expected<outbox_status> status();

private:
  sql_db* db_ = nullptr;
  statement insert_;
  statement claim_;
  statement count_;
  statement next_due_;
  statement remove_;
  statement retry_;
  statement status_;
  statement last_error_;
};

} // namespace authnode
