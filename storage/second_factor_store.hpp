// Second factors in SQLite, on the user store's connection (the database
// actor's thread only): a user's TOTP seed, their recovery codes and the
// logins waiting for a second factor (challenges).
//
// The seed is stored only sealed with the node's key (core/node_keys.hpp),
// so a copy of the database gives no seed away; recovery codes and
// challenges only as keyed digests. Checking a code and using it up happen
// in one step of this one writer: the last accepted time step is compared
// and raised by one UPDATE, a recovery code is deleted by the statement that
// finds it. Two gateways that send the same code therefore reach the store
// one after the other, and only the first is accepted (RFC 6238 §5.2).
//
// Guessing is the guard's business (actors/second_factor_flow.cpp): every
// call here that checks a code is admitted by it first. What the store adds
// is the challenge's own limit: five wrong codes, or five minutes, and it
// is gone.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <caf/expected.hpp>
#include <caf/timespan.hpp>

#include "actors/interfaces.hpp"
#include "core/node_keys.hpp"
#include "storage/user_store.hpp"

namespace authnode {

/// What the storage node needs for second factors.
struct factor_setup {
  node_keys keys;
  /// Steps either side of now whose code is accepted (--totp-skew).
  int64_t skew = 1;
  /// How long a login may wait for its second factor.
  caf::timespan challenge_ttl = std::chrono::minutes(5);
  /// Wrong codes that kill a challenge.
  int64_t challenge_failures = 5;
  /// Recovery codes handed out at a time.
  int64_t recovery_codes = 10;
};

class second_factor_store {
public:
  /// Prepares the statements on the users' connection; `users` must
  /// outlive the store.
  static std::unique_ptr<second_factor_store>
  open(user_store& users, std::shared_ptr<const factor_setup> setup,
       std::string& error);

  /// A new TOTP seed for the user, pending until enabled (it replaces a
  /// pending one): its base32 text. ec::conflict if TOTP is on.
  caf::expected<secret> setup(int64_t user_id);

  /// Turns TOTP on if `x.code` is the pending seed's code: the seed becomes
  /// the user's, its step is used, and fresh recovery codes replace any
  /// old ones (returned in clear, this once). ec::invalid_code if the code
  /// is wrong, ec::conflict if TOTP is on or nothing is pending.
  caf::expected<recovery_code_list> enable(const factor_attempt& x,
                                           int64_t now);

  /// Turns TOTP off (seed and recovery codes gone) if `x.code` is a TOTP
  /// or recovery code of the user's. ec::conflict if TOTP is off.
  caf::expected<caf::ok_atom> disable(const factor_attempt& x, int64_t now);

  /// New recovery codes for old, if `x.code` is a code of the user's.
  caf::expected<recovery_code_list> renew(const factor_attempt& x,
                                          int64_t now);

  /// A login of `user_id` waiting for its second factor.
  caf::expected<second_factor_challenge> open_challenge(
    const challenge_request& x, int64_t now);

  /// The user a live challenge is for, and the device its login presented;
  /// ec::invalid_code if there is none.
  caf::expected<challenge_info> challenge_owner(const secret& challenge,
                                           int64_t now);

  /// Ends the challenge with the user's code: the user (to grant a session
  /// to) and which method it was. A wrong code counts against the
  /// challenge and kills it at the limit; ec::invalid_code.
  caf::expected<factor_used> answer_challenge(const challenge_attempt& x,
                                              int64_t now);

  /// Removes TOTP, recovery codes and challenges of the user with `email`
  /// (admin: mfa-reset); the user's id, ec::not_found if no such user.
  caf::expected<int64_t> reset(const std::string& email);

  /// Recovery codes the user has left.
  caf::expected<int64_t> codes_left(int64_t user_id);

  /// Removes expired challenges.
  void purge(int64_t now);

private:
  second_factor_store(user_store& users,
                      std::shared_ptr<const factor_setup> setup)
    : users_(users), setup_(std::move(setup)) {
  }

  /// Checks `typed` (a TOTP or a recovery code) and uses it up; the method
  /// ("totp", "recovery_code") or ec::invalid_code. Runs inside the
  /// caller's transaction. ec::conflict if TOTP is off.
  caf::expected<std::string> use_code(int64_t user_id, const secret& typed,
                                      int64_t now);

  /// Stores fresh recovery codes in place of the user's old ones.
  caf::expected<recovery_code_list> replace_codes(int64_t user_id);

  caf::expected<caf::ok_atom> remove_all(int64_t user_id);

  std::string challenge_digest(const secret& challenge) const;

  /// A live challenge, by its digest: whose it is, its wrong codes so far
  /// and the device its login presented; ec::invalid_code if there is none
  /// (or its user is gone).
  struct challenge_row {
    user_view user;
    int64_t failures = 0;
    std::string device_digest;
    bool password_breached = false;
  };
  caf::expected<challenge_row> live_challenge(const std::string& digest,
                                              int64_t now);

  user_store& users_;
  std::shared_ptr<const factor_setup> setup_;
  statement seed_of_;
  statement put_pending_;
  statement enable_;
  statement use_step_;
  statement delete_factor_;
  statement delete_codes_;
  statement insert_code_;
  statement use_recovery_code_;
  statement count_codes_;
  statement put_challenge_;
  statement get_challenge_;
  statement fail_challenge_;
  statement delete_challenge_;
  statement delete_challenges_of_;
  statement purge_challenges_;
  statement user_by_id_;
};

} // namespace authnode
