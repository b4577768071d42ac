#include "storage/account_store.hpp"
#include "storage/store_errors.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>
#include <sodium.h>

#include "core/error_code.hpp"
#include "core/log.hpp"

namespace authnode {

namespace {

caf::error invalid_code() {
  return caf::make_error(ec::invalid_code);
}

mail_purpose mail_of(code_purpose purpose) {
  switch (purpose) {
    case code_purpose::recovery:
      return mail_purpose::recovery;
    case code_purpose::verification:
      return mail_purpose::verification;
    case code_purpose::email_change:
    case code_purpose::second_factor: // never mailed: issue() refuses it
      break;
  }
  return mail_purpose::email_change;
}

bool same_digest(const std::string& a, const std::string& b) {
  return a.size() == b.size()
         && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

constexpr int64_t hour = 3600;

} // namespace

std::unique_ptr<account_store>
account_store::open(user_store& users, std::shared_ptr<const mail_setup> setup,
                    std::string& error) {
  std::unique_ptr<account_store> store{
    new account_store(users, std::move(setup))};
  if (!store->codes_.prepare(users.connection(), error)
      || !store->outbox_.prepare(users.connection(), error))
    return nullptr;
  return store;
}

caf::expected<code_issued> account_store::issue(const code_request& req,
                                                int64_t now) {
  // Recovery codes of the second factor are shown once, never mailed: a
  // request for one here is a bug in the caller, not a user's mistake.
  if (req.purpose == code_purpose::second_factor)
    return caf::make_error(ec::internal, "second-factor codes are not mailed");
  auto found = users_.user_by_email(req.email);
  if (!found) {
    if (found.error() == caf::make_error(ec::not_found))
      return code_issued{false, "unknown account"};
    return std::move(found.error());
  }
  auto& user = found->user;
  if (found->disabled)
    return code_issued{false, "disabled"};
  if (req.purpose == code_purpose::verification && user.email_verified)
    return code_issued{false, "already verified"};
  if (req.purpose == code_purpose::email_change) {
    auto taken = users_.user_by_email(req.new_email);
    if (taken)
      return caf::make_error(ec::email_taken);
    if (taken.error() != caf::make_error(ec::not_found))
      return std::move(taken.error());
  }
  auto spent = codes_.mails_since(user.id, req.purpose, now - hour);
  if (!spent)
    return std::move(spent.error());
  if (*spent >= setup_->mails_per_hour)
    return code_issued{false, code_issued::budget_spent};
  auto code = make_account_code();
  auto ttl = std::chrono::duration_cast<std::chrono::seconds>(setup_->code_ttl)
               .count();
  code_row row{code_digest(setup_->keys.codes, req.purpose, user.id,
                           *canonical_code(code)),
               req.new_email, now + ttl, 0};
  mail_fields fields{code, user.name, user.email, setup_->app_url,
                     std::max<int64_t>(1, ttl / 60)};
  auto to = user.email;
  if (req.purpose == code_purpose::email_change)
    to = fields.email = req.new_email;
  auto now_ms = now * 1000;
  transaction tx{users_.connection()};
  if (!tx.active())
    return db_failure("cannot begin issuing a code", tx.status());
  if (auto put = codes_.put(user.id, req.purpose, row, now); !put)
    return std::move(put.error());
  if (auto queued = queue_mail(mail_of(req.purpose), to, fields, now_ms);
      !queued)
    return std::move(queued.error());
  if (req.purpose == code_purpose::email_change) {
    // The old address hears of the change, without the code: if its owner
    // did not ask for it, they know their password is known.
    mail_fields notice{std::string{}, user.name, req.new_email,
                       setup_->app_url, fields.expires_minutes};
    if (auto queued = queue_mail(mail_purpose::change_notice, user.email,
                                 notice, now_ms);
        !queued)
      return std::move(queued.error());
  }
  if (auto st = tx.commit(); !st.ok())
    return db_failure("cannot commit a code", st);
  return code_issued{true, "sent"};
}

caf::expected<caf::ok_atom>
account_store::queue_mail(mail_purpose purpose, const std::string& to,
                          const mail_fields& fields, int64_t now_ms) {
  auto mail = render(setup_->templates.of[static_cast<size_t>(purpose)],
                     fields);
  nlohmann::json plain{{"to", to},
                       {"subject", std::move(mail.subject)},
                       {"body", std::move(mail.body)}};
  auto text = plain.dump();
  auto sealed = seal(setup_->keys.mail, text);
  sodium_memzero(text.data(), text.size());
  auto id = outbox_.enqueue(sealed, now_ms);
  if (!id)
    return std::move(id.error());
  return caf::ok_atom::value;
}

caf::expected<user_record> account_store::match(const code_attempt& x,
                                                int64_t now,
                                                std::string* new_email) {
  auto found = users_.user_by_email(x.email);
  if (!found) {
    if (found.error() == caf::make_error(ec::not_found))
      return invalid_code();
    return std::move(found.error());
  }
  auto id = found->user.id;
  auto row = codes_.get(id, x.purpose);
  if (!row) {
    if (row.error() == caf::make_error(ec::not_found))
      return invalid_code();
    return std::move(row.error());
  }
  if (found->disabled || row->expires_at <= now
      || row->failures >= setup_->max_failures)
    return invalid_code();
  auto typed = canonical_code(x.code.reveal());
  if (typed
      && same_digest(row->digest, code_digest(setup_->keys.codes, x.purpose,
                                              id, *typed))) {
    if (new_email)
      *new_email = row->new_email;
    return found;
  }
  // A wrong try: counted, and the last allowed one kills the code.
  auto counted = row->failures + 1 >= setup_->max_failures
                   ? codes_.remove(id, x.purpose)
                   : codes_.count_failure(id, x.purpose);
  if (!counted)
    return std::move(counted.error());
  return invalid_code();
}

caf::expected<user_view> account_store::check(const code_attempt& x,
                                              int64_t now) {
  auto found = match(x, now);
  if (!found)
    return std::move(found.error());
  return std::move(found->user);
}

caf::expected<user_view> account_store::use(const code_attempt& x,
                                            int64_t now) {
  transaction tx{users_.connection()};
  if (!tx.active())
    return db_failure("cannot begin using a code", tx.status());
  std::string new_email;
  auto found = match(x, now, &new_email);
  if (!found) {
    // A wrong try is counted even though the code is refused.
    if (found.error() == invalid_code())
      tx.commit();
    return std::move(found.error());
  }
  auto& user = found->user;
  if (auto used = codes_.remove(user.id, x.purpose); !used)
    return std::move(used.error());
  auto done = x.purpose == code_purpose::email_change
                ? users_.change_email(user.id, new_email)
                : users_.mark_verified(user.id);
  if (!done)
    return std::move(done.error());
  if (auto st = tx.commit(); !st.ok())
    return db_failure("cannot commit a code", st);
  if (x.purpose == code_purpose::email_change)
    user.email = new_email;
  user.email_verified = true;
  return std::move(user);
}

caf::expected<user_view> account_store::recover(const account_recovery& x,
                                                int64_t now) {
  transaction tx{users_.connection()};
  if (!tx.active())
    return db_failure("cannot begin a recovery", tx.status());
  auto found = match(x.attempt, now);
  if (!found) {
    if (found.error() == invalid_code())
      tx.commit();
    return std::move(found.error());
  }
  auto& user = found->user;
  if (x.login.user_id != user.id)
    return invalid_code(); // the code was replaced since it was checked
  if (auto used = codes_.remove(user.id, x.attempt.purpose); !used)
    return std::move(used.error());
  if (auto hashed = users_.replace_hash(user.id, x.password_hash); !hashed)
    return std::move(hashed.error());
  if (auto marked = users_.mark_verified(user.id); !marked)
    return std::move(marked.error());
  // With TOTP on, the recovery ends without a session: the login goes on
  // with a second factor (the caller sees user.totp).
  if (!user.totp) {
    if (auto logged = users_.write_login(x.login); !logged)
      return std::move(logged.error());
  }
  if (auto st = tx.commit(); !st.ok())
    return db_failure("cannot commit a recovery", st);
  user.email_verified = true;
  if (!user.totp)
    user.last_login_at = x.login.at;
  return std::move(user);
}

void account_store::purge(int64_t now) {
  codes_.purge(now, now - hour);
}

// -- the outbox ----------------------------------------------------------

caf::expected<outbox_batch> account_store::take(int64_t now_ms,
                                                int64_t limit) {
  auto lease = std::chrono::duration_cast<std::chrono::milliseconds>(
                 setup_->lease)
                 .count();
  auto rows = outbox_.claim(now_ms, limit, now_ms + lease);
  if (!rows)
    return std::move(rows.error());
  outbox_batch batch;
  for (auto& row : *rows) {
    auto plain = unseal(setup_->keys.mail, row.sealed);
    auto parsed = plain ? nlohmann::json::parse(*plain, nullptr, false)
                        : nlohmann::json{};
    if (plain)
      sodium_memzero(plain->data(), plain->size());
    if (!parsed.is_object() || !parsed.value("to", nlohmann::json{}).is_string()
        || !parsed.value("subject", nlohmann::json{}).is_string()
        || !parsed.value("body", nlohmann::json{}).is_string()) {
      // Sealed with another key (the key file was replaced) or altered:
      // it can never be sent.
      log_warning("outbox: mail " + std::to_string(row.id)
                  + " cannot be opened with this node's secret key; dropped");
      outbox_.remove(row.id);
      continue;
    }
    batch.mails.push_back(outgoing_mail{
      row.id, parsed["to"].get<std::string>(),
      parsed["subject"].get<std::string>(), parsed["body"].get<std::string>(),
      row.created_at_ms, row.attempts});
  }
  auto pending = outbox_.pending(now_ms);
  if (!pending)
    return std::move(pending.error());
  batch.pending = pending->first;
  // A leased mail falls due again when its lease ends, which is its
  // next_at_ms.
  batch.next_due_ms = pending->second;
  return batch;
}

caf::expected<caf::ok_atom> account_store::sent(int64_t id) {
  return outbox_.remove(id);
}

caf::expected<caf::ok_atom> account_store::retry(int64_t id,
                                                 int64_t next_at_ms,
                                                 const std::string& error) {
  return outbox_.retry(id, next_at_ms, error);
}

caf::expected<caf::ok_atom> account_store::drop(int64_t id,
                                                const std::string& error) {
  log_warning("outbox: mail " + std::to_string(id) + " given up: " + error);
  return outbox_.remove(id);
}

caf::expected<outbox_status> account_store::status() {
  return outbox_.status();
}

} // namespace authnode
