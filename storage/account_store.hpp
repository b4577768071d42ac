// Account codes and the mail that carries them, on the user store's
// connection (the database actor's thread only).
//
// Issuing a code writes the code's digest, its entry in the hourly mail
// budget and its sealed mail in one transaction: a code is never stored
// without its mail, nor a mail queued for a code that was not. Using a code
// writes what it proves (a new password, a proven or new address) and uses
// it up in one transaction too. The outbox hands each due mail to one
// mailer at a time: a mail taken and not yet reported is leased, in the
// database (its next_at_ms is the lease's end), so that two takes never send
// it twice, whether from two database actors or two nodes on one
// PostgreSQL. A mail whose mailer died before reporting falls due again
// when its lease ends, restart or not.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <caf/expected.hpp>
#include <caf/timespan.hpp>

#include "actors/interfaces.hpp"
#include "core/mail_template.hpp"
#include "core/node_keys.hpp"
#include "storage/code_store.hpp"
#include "storage/outbox_store.hpp"
#include "storage/user_store.hpp"

namespace authnode {

/// What the storage node needs to issue codes and queue their mail.
struct mail_setup {
  node_keys keys;
  mail_templates templates;
  /// Written into mails as {app_url}.
  std::string app_url;
  caf::timespan code_ttl = std::chrono::minutes(15);
  /// Code mails per user and purpose per hour (--recovery-mails).
  int64_t mails_per_hour = 3;
  /// Wrong tries that kill a code.
  int64_t max_failures = 5;
  /// How long a taken mail is not handed out again unless reported.
  caf::timespan lease = std::chrono::minutes(15);
};

class account_store {
public:
  /// Prepares the statements on the users' connection; `users` must
  /// outlive the store.
  static std::unique_ptr<account_store> open(user_store& users,
                                             std::shared_ptr<const mail_setup>,
                                             std::string& error);

  /// Mails a code, unless the account is unknown, disabled, verified
  /// already (verification) or out of budget: code_issued says which.
  /// email_change: ec::email_taken if the new address has an account.
  caf::expected<code_issued> issue(const code_request& req, int64_t now);

  /// The user whose live code this is; ec::invalid_code otherwise (a wrong
  /// code counts against the live one).
  caf::expected<user_view> check(const code_attempt& x, int64_t now);

  /// Checks the code and does what it proves, using it up: verification
  /// marks the address proven; email_change moves the user to the new,
  /// proven address (ec::email_taken if it was taken meanwhile).
  caf::expected<user_view> use(const code_attempt& x, int64_t now);

  /// Checks the code and recovers the account (account_recovery).
  caf::expected<user_view> recover(const account_recovery& x, int64_t now);

  /// Removes expired codes and budget entries older than an hour.
  void purge(int64_t now);

  // -- the outbox ----------------------------------------------------------

  caf::expected<outbox_batch> take(int64_t now_ms, int64_t limit);
  caf::expected<caf::ok_atom> sent(int64_t id);
  caf::expected<caf::ok_atom> retry(int64_t id, int64_t next_at_ms,
                                    const std::string& error);
  caf::expected<caf::ok_atom> drop(int64_t id, const std::string& error);
  caf::expected<outbox_status> status();

private:
  account_store(user_store& users, std::shared_ptr<const mail_setup> setup)
    : users_(users), setup_(std::move(setup)) {
  }

  /// The user and the live code row `x` matches, counting a miss.
  caf::expected<user_record> match(const code_attempt& x, int64_t now,
                                   std::string* new_email = nullptr);

  caf::expected<caf::ok_atom> queue_mail(mail_purpose purpose,
                                         const std::string& to,
                                         const mail_fields& fields,
                                         int64_t now_ms);

  user_store& users_;
  std::shared_ptr<const mail_setup> setup_;
  code_store codes_;
  outbox_store outbox_;
};

} // namespace authnode
