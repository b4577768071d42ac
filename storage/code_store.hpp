// One-time codes and the mail budget in SQLite, as plain blocking calls on
// the user store's connection (the database actor's thread only).
//
// A user has at most one live code per purpose: a new one replaces the row,
// so an older code stops working. Only the code's keyed digest is stored
// (core/account_code.hpp). Every call runs inside the transaction of its
// caller (storage/account_codes.cpp), so a code, the mail that carries it
// and its entry in the budget are written all or nothing.
#pragma once

#include <cstdint>
#include <string>

#include <caf/atom.hpp>
#include <caf/expected.hpp>

#include "core/account_code.hpp"
#include "storage/sql.hpp"

namespace authnode {

struct code_row {
  std::string digest;
  /// For email_change: the address the code proves.
  std::string new_email;
  int64_t expires_at = 0;
  int64_t failures = 0;
};

class code_store {
public:
  /// Prepares the statements on `db`, which must outlive the store.
  bool prepare(sql_db& db, std::string& error);

  /// Mails sent to the user for `purpose` at or after `since`.
  caf::expected<int64_t> mails_since(int64_t user_id, code_purpose purpose,
                                     int64_t since);

  /// Stores the user's code for `purpose` (replacing any) and counts its
  /// mail in the budget.
  caf::expected<caf::ok_atom> put(int64_t user_id, code_purpose purpose,
                                  const code_row& row, int64_t now);

  /// The user's code for `purpose`; ec::not_found if there is none.
  caf::expected<code_row> get(int64_t user_id, code_purpose purpose);

  /// Counts a wrong try of the user's code.
  caf::expected<caf::ok_atom> count_failure(int64_t user_id,
                                            code_purpose purpose);

  /// Uses up the code whose digest is `digest`; ec::not_found if it is not
  /// (any longer) the user's live code for `purpose` at `now`.
  caf::expected<caf::ok_atom> consume(int64_t user_id, code_purpose purpose,
                                      const std::string& digest, int64_t now);

  /// Kills the user's code for `purpose` (too many wrong tries).
  caf::expected<caf::ok_atom> remove(int64_t user_id, code_purpose purpose);

  /// Removes expired codes, and budget entries older than `mails_before`.
  caf::expected<caf::ok_atom> purge(int64_t now, int64_t mails_before);

private:
  sql_db* db_ = nullptr;
  statement mails_since_;
  statement log_mail_;
  statement put_;
  statement get_;
  statement count_failure_;
  statement consume_;
  statement remove_;
  statement purge_codes_;
  statement purge_mails_;
};

} // namespace authnode
