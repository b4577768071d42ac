#include "storage/second_factor_store.hpp"
#include "storage/store_errors.hpp"

#include <sodium.h>

#include "core/account_code.hpp"
#include "core/error_code.hpp"
#include "core/secrets.hpp"
#include "core/totp.hpp"

namespace authnode {

namespace {

caf::error invalid_code() {
  return caf::make_error(ec::invalid_code);
}

bool is(const caf::error& err, ec code) {
  return err == caf::make_error(code);
}

caf::error conflict(const char* why) {
  return caf::make_error(ec::conflict, std::string{why});
}

/// A user's TOTP row: the live seed (sealed; empty: TOTP off), the pending
/// one, the last step accepted.
struct seed_row {
  std::string sealed;
  std::string pending;
  int64_t last_step = -1;
};

} // namespace

std::unique_ptr<second_factor_store>
second_factor_store::open(user_store& users,
                          std::shared_ptr<const factor_setup> setup,
                          std::string& error) {
  std::unique_ptr<second_factor_store> s{
    new second_factor_store(users, std::move(setup))};
  const statement_text entries[] = {
    {s->seed_of_,
     "SELECT totp_sealed, pending_sealed, last_step FROM second_factors"
     " WHERE user_id = ?1"},
    {s->put_pending_,
     "INSERT INTO second_factors(user_id, pending_sealed) VALUES (?1, ?2)"
     " ON CONFLICT(user_id) DO UPDATE SET pending_sealed = ?2"},
    {s->enable_,
     "UPDATE second_factors SET totp_sealed = pending_sealed,"
     " pending_sealed = NULL, last_step = ?2, enabled_at = ?3"
     " WHERE user_id = ?1 AND pending_sealed IS NOT NULL"},
    // The replay rule in one statement: only a later step is accepted.
    {s->use_step_,
     "UPDATE second_factors SET last_step = ?2"
     " WHERE user_id = ?1 AND totp_sealed IS NOT NULL AND last_step < ?2"},
    {s->delete_factor_, "DELETE FROM second_factors WHERE user_id = ?1"},
    {s->delete_codes_, "DELETE FROM recovery_codes WHERE user_id = ?1"},
    {s->insert_code_,
     "INSERT INTO recovery_codes(user_id, code_hash) VALUES (?1, ?2)"
     " ON CONFLICT DO NOTHING"},
    {s->use_recovery_code_,
     "DELETE FROM recovery_codes WHERE user_id = ?1 AND code_hash = ?2"},
    {s->count_codes_, "SELECT count(*) FROM recovery_codes WHERE user_id = ?1"},
    {s->put_challenge_,
     "INSERT INTO login_challenges(challenge_hash, user_id, source,"
     " created_at, expires_at, device_hash, password_breached)"
     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"},
    {s->get_challenge_,
     "SELECT user_id, failures, device_hash, password_breached"
     " FROM login_challenges"
     " WHERE challenge_hash = ?1 AND expires_at > ?2"},
    {s->fail_challenge_,
     "UPDATE login_challenges SET failures = failures + 1"
     " WHERE challenge_hash = ?1"},
    {s->delete_challenge_,
     "DELETE FROM login_challenges WHERE challenge_hash = ?1"},
    {s->delete_challenges_of_,
     "DELETE FROM login_challenges WHERE user_id = ?1"},
    {s->purge_challenges_,
     "DELETE FROM login_challenges WHERE expires_at <= ?1"},
  };
  if (!prepare_statements(users.connection(), entries, error))
    return nullptr;
  return s;
}

caf::expected<secret> second_factor_store::setup(int64_t user_id) {
  {
    reset_guard guard{seed_of_};
    seed_of_.bind_int64(1, user_id);
    auto step = seed_of_.step();
    if (step == step_result::error)
      return db_failure("cannot read second factors", seed_of_.status());
    if (step == step_result::row && !seed_of_.column_is_null(0))
      return conflict("TOTP is on already: turn it off first (totp_disable)");
  }
  auto seed = make_totp_seed();
  auto base32 = totp_base32(seed);
  auto sealed = seal(setup_->keys.seeds, seed);
  sodium_memzero(seed.data(), seed.size());
  reset_guard guard{put_pending_};
  put_pending_.bind_int64(1, user_id).bind_blob(2, sealed);
  if (auto ok = run(put_pending_, "cannot store a TOTP setup"); !ok)
    return std::move(ok.error());
  return secret{std::move(base32)};
}

caf::expected<recovery_code_list>
second_factor_store::enable(const factor_attempt& x, int64_t now) {
  seed_row row;
  {
    reset_guard guard{seed_of_};
    seed_of_.bind_int64(1, x.user_id);
    auto step = seed_of_.step();
    if (step == step_result::error)
      return db_failure("cannot read second factors", seed_of_.status());
    if (step == step_result::done || seed_of_.column_is_null(1)) {
      if (step == step_result::row && !seed_of_.column_is_null(0))
        return conflict("TOTP is on already");
      return conflict("no TOTP setup is pending: call totp_setup first");
    }
    row.pending = seed_of_.column_blob(1);
  }
  auto seed = unseal(setup_->keys.seeds, row.pending);
  if (!seed)
    return caf::make_error(ec::internal,
                           std::string{"a TOTP seed does not open with this "
                                       "node's secret key"});
  auto code = canonical_totp(x.code.reveal());
  auto step = code ? totp_match(*seed, *code, now, setup_->skew, -1)
                   : std::nullopt;
  sodium_memzero(seed->data(), seed->size());
  if (!step)
    return invalid_code();
  transaction tx{users_.connection()};
  if (!tx.active())
    return db_failure("cannot begin enabling TOTP", tx.status());
  {
    reset_guard guard{enable_};
    enable_.bind_int64(1, x.user_id).bind_int64(2, *step).bind_int64(3, now);
    if (auto ok = run(enable_, "cannot enable TOTP"); !ok)
      return std::move(ok.error());
  }
  auto codes = replace_codes(x.user_id);
  if (!codes)
    return codes;
  if (auto st = tx.commit(); !st.ok())
    return db_failure("cannot commit enabling TOTP", st);
  return codes;
}

caf::expected<caf::ok_atom>
second_factor_store::disable(const factor_attempt& x, int64_t now) {
  transaction tx{users_.connection()};
  if (!tx.active())
    return db_failure("cannot begin disabling TOTP", tx.status());
  auto used = use_code(x.user_id, x.code, now);
  if (!used)
    return std::move(used.error());
  if (auto gone = remove_all(x.user_id); !gone)
    return gone;
  if (auto st = tx.commit(); !st.ok())
    return db_failure("cannot commit disabling TOTP", st);
  return caf::ok_atom::value;
}

caf::expected<recovery_code_list>
second_factor_store::renew(const factor_attempt& x, int64_t now) {
  transaction tx{users_.connection()};
  if (!tx.active())
    return db_failure("cannot begin renewing recovery codes", tx.status());
  auto used = use_code(x.user_id, x.code, now);
  if (!used)
    return std::move(used.error());
  auto codes = replace_codes(x.user_id);
  if (!codes)
    return codes;
  if (auto st = tx.commit(); !st.ok())
    return db_failure("cannot commit new recovery codes", st);
  return codes;
}

caf::expected<second_factor_challenge>
second_factor_store::open_challenge(const challenge_request& x, int64_t now) {
  auto ttl = std::chrono::duration_cast<std::chrono::seconds>(
               setup_->challenge_ttl)
               .count();
  second_factor_challenge out;
  out.challenge = secret{make_token()};
  out.expires_at = now + ttl;
  out.methods = {"totp", "recovery_code"};
  reset_guard guard{put_challenge_};
  put_challenge_.bind_blob(1, challenge_digest(out.challenge))
    .bind_int64(2, x.user_id)
    .bind_text(3, x.source)
    .bind_int64(4, now)
    .bind_int64(5, out.expires_at)
    .bind_int64(7, x.password_breached ? 1 : 0);
  if (!x.device_digest.empty())
    put_challenge_.bind_blob(6, x.device_digest);
  if (auto ok = run(put_challenge_, "cannot store a login challenge"); !ok)
    return std::move(ok.error());
  return out;
}

caf::expected<challenge_info>
second_factor_store::challenge_owner(const secret& challenge, int64_t now) {
  auto found = live_challenge(challenge_digest(challenge), now);
  if (!found)
    return std::move(found.error());
  return challenge_info{std::move(found->user),
                        std::move(found->device_digest)};
}

caf::expected<second_factor_store::challenge_row>
second_factor_store::live_challenge(const std::string& digest, int64_t now) {
  challenge_row row;
  int64_t user_id = 0;
  {
    reset_guard guard{get_challenge_};
    get_challenge_.bind_blob(1, digest).bind_int64(2, now);
    switch (get_challenge_.step()) {
      case step_result::row:
        user_id = get_challenge_.column_int64(0);
        row.failures = get_challenge_.column_int64(1);
        row.device_digest = get_challenge_.column_blob(2);
        row.password_breached = get_challenge_.column_int64(3) != 0;
        break;
      case step_result::done:
        return invalid_code();
      default:
        return db_failure("cannot look up a login challenge",
                          get_challenge_.status());
    }
  }
  auto found = users_.user_by_id(user_id);
  if (!found)
    return is(found.error(), ec::not_found) ? invalid_code()
                                            : std::move(found.error());
  row.user = std::move(found->user);
  return row;
}

caf::expected<factor_used>
second_factor_store::answer_challenge(const challenge_attempt& x, int64_t now) {
  auto digest = challenge_digest(x.challenge);
  auto found = live_challenge(digest, now);
  if (!found)
    return std::move(found.error());
  auto user_id = found->user.id;
  auto failures = found->failures;
  transaction tx{users_.connection()};
  if (!tx.active())
    return db_failure("cannot begin a second factor check", tx.status());
  auto used = use_code(user_id, x.code, now);
  if (!used) {
    // A wrong code counts, and the last one allowed kills the challenge; a
    // challenge whose TOTP was removed meanwhile (mfa-reset) dies at once.
    bool wrong = is(used.error(), ec::invalid_code);
    if (!wrong && used.error().code() != static_cast<uint8_t>(ec::conflict))
      return std::move(used.error());
    bool last = !wrong || failures + 1 >= setup_->challenge_failures;
    auto& stmt = last ? delete_challenge_ : fail_challenge_;
    reset_guard guard{stmt};
    stmt.bind_blob(1, digest);
    if (auto ok = run(stmt, "cannot count a wrong code"); !ok)
      return std::move(ok.error());
    if (auto st = tx.commit(); !st.ok())
      return db_failure("cannot commit a wrong code", st);
    return invalid_code();
  }
  {
    reset_guard guard{delete_challenge_};
    delete_challenge_.bind_blob(1, digest);
    if (auto ok = run(delete_challenge_, "cannot end a login challenge"); !ok)
      return std::move(ok.error());
  }
  if (auto st = tx.commit(); !st.ok())
    return db_failure("cannot commit a second factor", st);
  return factor_used{std::move(found->user), std::move(*used),
                     found->password_breached};
}

caf::expected<int64_t> second_factor_store::reset(const std::string& email) {
  auto found = users_.user_by_email(email);
  if (!found)
    return std::move(found.error());
  auto id = found->user.id;
  transaction tx{users_.connection()};
  if (!tx.active())
    return db_failure("cannot begin removing second factors", tx.status());
  if (auto gone = remove_all(id); !gone)
    return std::move(gone.error());
  if (auto st = tx.commit(); !st.ok())
    return db_failure("cannot commit removing second factors", st);
  return id;
}

caf::expected<int64_t> second_factor_store::codes_left(int64_t user_id) {
  reset_guard guard{count_codes_};
  count_codes_.bind_int64(1, user_id);
  if (count_codes_.step() != step_result::row)
    return db_failure("cannot count recovery codes", count_codes_.status());
  return count_codes_.column_int64(0);
}

void second_factor_store::purge(int64_t now) {
  reset_guard guard{purge_challenges_};
  purge_challenges_.bind_int64(1, now);
  run(purge_challenges_, "cannot purge login challenges");
}

caf::expected<std::string>
second_factor_store::use_code(int64_t user_id, const secret& typed,
                              int64_t now) {
  seed_row row;
  {
    reset_guard guard{seed_of_};
    seed_of_.bind_int64(1, user_id);
    auto step = seed_of_.step();
    if (step == step_result::error)
      return db_failure("cannot read second factors", seed_of_.status());
    if (step == step_result::done || seed_of_.column_is_null(0))
      return conflict("TOTP is not on");
    row.sealed = seed_of_.column_blob(0);
    row.last_step = seed_of_.column_int64(2);
  }
  if (auto code = canonical_totp(typed.reveal())) {
    auto seed = unseal(setup_->keys.seeds, row.sealed);
    if (!seed)
      return caf::make_error(ec::internal,
                             std::string{"a TOTP seed does not open with this "
                                         "node's secret key"});
    auto step = totp_match(*seed, *code, now, setup_->skew, row.last_step);
    sodium_memzero(seed->data(), seed->size());
    if (!step)
      return invalid_code();
    reset_guard guard{use_step_};
    use_step_.bind_int64(1, user_id).bind_int64(2, *step);
    if (auto ok = run(use_step_, "cannot use a TOTP step"); !ok)
      return std::move(ok.error());
    if (users_.connection().changes() == 0)
      return invalid_code(); // a later step was used meanwhile
    return std::string{"totp"};
  }
  auto canonical = canonical_code(typed.reveal());
  if (!canonical)
    return invalid_code();
  reset_guard guard{use_recovery_code_};
  use_recovery_code_.bind_int64(1, user_id).bind_blob(
    2, code_digest(setup_->keys.codes, code_purpose::second_factor, user_id,
                   *canonical));
  if (auto ok = run(use_recovery_code_, "cannot use a recovery code"); !ok)
    return std::move(ok.error());
  if (users_.connection().changes() == 0)
    return invalid_code();
  return std::string{"recovery_code"};
}

caf::expected<recovery_code_list>
second_factor_store::replace_codes(int64_t user_id) {
  {
    reset_guard guard{delete_codes_};
    delete_codes_.bind_int64(1, user_id);
    if (auto ok = run(delete_codes_, "cannot remove recovery codes"); !ok)
      return std::move(ok.error());
  }
  recovery_code_list out;
  auto wanted = static_cast<size_t>(setup_->recovery_codes);
  // A code equal to one drawn before (40 random bits each) is ignored by the
  // INSERT and drawn again; twice as many draws as codes is plenty.
  for (size_t draws = 0; out.codes.size() < wanted && draws < 2 * wanted;
       ++draws) {
    auto code = make_account_code();
    auto digest = code_digest(setup_->keys.codes, code_purpose::second_factor,
                              user_id, *canonical_code(code));
    reset_guard guard{insert_code_};
    insert_code_.bind_int64(1, user_id).bind_blob(2, digest);
    if (auto ok = run(insert_code_, "cannot store a recovery code"); !ok)
      return std::move(ok.error());
    if (users_.connection().changes() == 1)
      out.codes.emplace_back(std::move(code));
  }
  if (out.codes.size() < wanted)
    return caf::make_error(ec::internal,
                           std::string{"cannot draw distinct recovery codes"});
  return out;
}

caf::expected<caf::ok_atom> second_factor_store::remove_all(int64_t user_id) {
  for (auto* stmt : {&delete_factor_, &delete_codes_, &delete_challenges_of_}) {
    reset_guard guard{*stmt};
    stmt->bind_int64(1, user_id);
    if (auto ok = run(*stmt, "cannot remove second factors"); !ok)
      return ok;
  }
  return caf::ok_atom::value;
}

std::string
second_factor_store::challenge_digest(const secret& challenge) const {
  return token_digest(challenge.reveal());
}

} // namespace authnode
