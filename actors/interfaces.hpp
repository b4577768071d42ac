// The message graph of authnode in one place: every atom, every message type
// and every actor's typed interface.
//
//   connection (net/, one per client) --auth_actor--> auth
//   auth --database_actor--> database (storage/, detached, owns SQLite)
//   auth --hasher_actor--> hash pool --hasher_actor--> hashers (detached)
//   admin connection (net/) --admin_actor--> admin --> database, hash pool,
//                                                      auth, guard, audit
//   (user_import: admin --> database for the batch, --> auth to forget the
//   sessions of users whose hash it replaced; user_verify: --> database,
//   then --> auth to forget the user's cached sessions)
//
// Every type here has an inspect() and is announced by
// register_message_types(), so any of these actors can live on another CAF
// node. Failures travel as caf::error values of the "authnode" category
// (core/error_code.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "core/account_code.hpp"
#include "core/counter_table.hpp"
#include "core/error_code.hpp"
#include "core/guess_kind.hpp"
#include "core/secrets.hpp"
#include "core/webauthn.hpp"

namespace authnode {

// -- atoms -------------------------------------------------------------------

using register_atom = caf::atom_constant<caf::atom("register")>;
using login_atom = caf::atom_constant<caf::atom("login")>;
using whoami_atom = caf::atom_constant<caf::atom("whoami")>;
/// whoami for a connection's session cache: the user and the expiry.
using whoami_io_atom = caf::atom_constant<caf::atom("whoami_io")>;
/// To the connections' session cache (net/session_keeper): drop a session
/// (a token digest) or a user's sessions (but `keep`); answered once done.
using io_forget_atom = caf::atom_constant<caf::atom("io_forget")>;
/// To a gateway's session cache: drop everything (another gateway was lost,
/// whose drops may not have come through).
using io_clear_atom = caf::atom_constant<caf::atom("io_clear")>;
using logout_atom = caf::atom_constant<caf::atom("logout")>;
using chpass_atom = caf::atom_constant<caf::atom("chpass")>;
using stats_atom = caf::atom_constant<caf::atom("stats")>;
using hash_atom = caf::atom_constant<caf::atom("hash")>;
/// Hashes a new password, refused breached_password first when the
/// breached-password index has it (a rehash at login uses hash_atom).
using hash_new_atom = caf::atom_constant<caf::atom("hash_new")>;
/// Maps the breached-password index again (true) or only tells its state
/// (false): SIGHUP, the admin op breached_reload, and stats.
using breached_reload_atom = caf::atom_constant<caf::atom("br_reload")>;
using verify_atom = caf::atom_constant<caf::atom("verify")>;
/// Marks a verification that goes ahead of the queue: a login with a valid
/// device token, whose owner should get in while anonymous guesses wait.
using urgent_atom = caf::atom_constant<caf::atom("urgent")>;
using user_add_atom = caf::atom_constant<caf::atom("user_add")>;
using user_get_atom = caf::atom_constant<caf::atom("user_get")>;
using login_commit_atom = caf::atom_constant<caf::atom("login_cmt")>;
using session_get_atom = caf::atom_constant<caf::atom("sess_get")>;
using session_del_atom = caf::atom_constant<caf::atom("sess_del")>;
using password_set_atom = caf::atom_constant<caf::atom("pw_set")>;
using purge_atom = caf::atom_constant<caf::atom("purge")>;
/// Asks the listener (and through it every connection) to finish up and stop.
using drain_atom = caf::atom_constant<caf::atom("drain")>;
/// Asks the listener to open its port; replies with the port it bound.
using listen_atom = caf::atom_constant<caf::atom("listen")>;
/// A connection's timer for held replies fired.
using due_atom = caf::atom_constant<caf::atom("due")>;
/// A connection may read its socket again (see resume_reading_later).
using resume_atom = caf::atom_constant<caf::atom("resume")>;
/// A connection's tarpit time is over (sent to itself).
using tarpit_over_atom = caf::atom_constant<caf::atom("tarpit_end")>;
/// A connection writes out the replies of this turn (sent to itself).
using flush_atom = caf::atom_constant<caf::atom("flush")>;
/// A connection's idle timer fired (sent to itself).
using idle_atom = caf::atom_constant<caf::atom("idle")>;
/// The peer of a connection sent its FIN (half-close): nothing more will be
/// read, but replies can still be written (net/half_close_stream.hpp).
using end_of_input_atom = caf::atom_constant<caf::atom("input_end")>;
/// A metrics client's time to send its request head is over (sent by the
/// metrics listener to itself, with the connection's id and generation).
using scrape_timeout_atom = caf::atom_constant<caf::atom("scrape_to")>;
/// An actor's timer for its backend time limits fired (sent to itself).
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using guard_admit_atom = caf::atom_constant<caf::atom("g_admit")>;
using guard_done_atom = caf::atom_constant<caf::atom("g_done")>;
using guard_spend_atom = caf::atom_constant<caf::atom("g_spend")>;
using audit_atom = caf::atom_constant<caf::atom("audit")>;
using device_get_atom = caf::atom_constant<caf::atom("dev_get")>;
using device_fail_atom = caf::atom_constant<caf::atom("dev_fail")>;
/// Drops the cached sessions of a user (the admin channel changed it).
using forget_atom = caf::atom_constant<caf::atom("forget")>;
/// An admin request came without the right key.
using deny_atom = caf::atom_constant<caf::atom("a_deny")>;
using user_show_atom = caf::atom_constant<caf::atom("u_show")>;
using user_list_atom = caf::atom_constant<caf::atom("u_list")>;
using user_passwd_atom = caf::atom_constant<caf::atom("u_passwd")>;
using user_disable_atom = caf::atom_constant<caf::atom("u_disable")>;
using user_delete_atom = caf::atom_constant<caf::atom("u_delete")>;
using sessions_list_atom = caf::atom_constant<caf::atom("s_list")>;
using sessions_revoke_atom = caf::atom_constant<caf::atom("s_revoke")>;
using throttle_show_atom = caf::atom_constant<caf::atom("t_show")>;
using throttle_reset_atom = caf::atom_constant<caf::atom("t_reset")>;
/// The guard's failures kept in a shared database (PostgreSQL): read
/// before an attempt is admitted, added to after a failure, forgotten
/// after a success or an operator's reset (storage/throttle_store.hpp).
using throttle_load_atom = caf::atom_constant<caf::atom("thr_load")>;
using throttle_fail_atom = caf::atom_constant<caf::atom("thr_fail")>;
using throttle_forget_atom = caf::atom_constant<caf::atom("thr_forget")>;
using user_import_atom = caf::atom_constant<caf::atom("u_import")>;
/// Stores a hash upgraded after a successful login.
using rehash_atom = caf::atom_constant<caf::atom("rehash")>;
/// An online backup of the database into a new file (admin channel).
using backup_atom = caf::atom_constant<caf::atom("backup")>;
/// The database actor's next backup step (sent to itself, with the
/// backup's generation, so that a stale one is ignored).
using backup_step_atom = caf::atom_constant<caf::atom("bk_step")>;
/// Abandons a running backup (the node is shutting down).
using backup_abort_atom = caf::atom_constant<caf::atom("bk_abort")>;

// -- mail (the outbox in the database, delivered by the mailer) -------------

/// The outbox has mail to send now (the database tells the mailer).
using mail_ready_atom = caf::atom_constant<caf::atom("mail_rdy")>;
/// Tells the database which mailer to wake when it queues mail.
using mailer_atom = caf::atom_constant<caf::atom("mailer")>;
using outbox_take_atom = caf::atom_constant<caf::atom("ob_take")>;
using outbox_sent_atom = caf::atom_constant<caf::atom("ob_sent")>;
using outbox_retry_atom = caf::atom_constant<caf::atom("ob_retry")>;
using outbox_drop_atom = caf::atom_constant<caf::atom("ob_drop")>;
using outbox_status_atom = caf::atom_constant<caf::atom("ob_status")>;

// -- account codes (recovery, verification, email change) -------------------

/// Mails a code (code_request -> code_issued).
using code_issue_atom = caf::atom_constant<caf::atom("code_new")>;
/// Checks a code without using it up (code_attempt -> user_view).
using code_check_atom = caf::atom_constant<caf::atom("code_chk")>;
/// Checks a code and does what it proves (code_attempt -> user_view).
using code_use_atom = caf::atom_constant<caf::atom("code_use")>;
/// Recovers an account with a code (account_recovery -> user_view).
using recover_atom = caf::atom_constant<caf::atom("recover")>;
/// Marks a user's address proven or not (admin channel).
using user_verify_atom = caf::atom_constant<caf::atom("u_verify")>;
// The public ops of the account codes (auth actor).
using recovery_start_atom = caf::atom_constant<caf::atom("rec_start")>;
using recovery_finish_atom = caf::atom_constant<caf::atom("rec_finish")>;
using verify_start_atom = caf::atom_constant<caf::atom("ver_start")>;
using verify_finish_atom = caf::atom_constant<caf::atom("ver_finish")>;
using email_start_atom = caf::atom_constant<caf::atom("em_start")>;
using email_finish_atom = caf::atom_constant<caf::atom("em_finish")>;

// -- second factors (TOTP and recovery codes) ---------------------------------

// The public ops (auth actor); the first four also name the database's part.
using totp_setup_atom = caf::atom_constant<caf::atom("totp_setup")>;
using totp_enable_atom = caf::atom_constant<caf::atom("totp_on")>;
using totp_disable_atom = caf::atom_constant<caf::atom("totp_off")>;
using codes_renew_atom = caf::atom_constant<caf::atom("codes_new")>;
using login_factor_atom = caf::atom_constant<caf::atom("login_2fa")>;
/// A login whose password matched waits for its second factor.
using challenge_new_atom = caf::atom_constant<caf::atom("chal_new")>;
/// Whose live challenge is this (to throttle its codes by account)?
using challenge_owner_atom = caf::atom_constant<caf::atom("chal_who")>;
/// Ends a challenge with a code.
using challenge_use_atom = caf::atom_constant<caf::atom("chal_use")>;
/// Removes a user's second factors (admin channel: mfa-reset).
using mfa_reset_atom = caf::atom_constant<caf::atom("u_mfa_rst")>;

// -- passkeys (WebAuthn) -------------------------------------------------------

// The public ops (auth actor); the first five also name the database's part.
using pk_reg_begin_atom = caf::atom_constant<caf::atom("pk_rbegin")>;
using pk_reg_finish_atom = caf::atom_constant<caf::atom("pk_rfinish")>;
using pk_login_begin_atom = caf::atom_constant<caf::atom("pk_lbegin")>;
using pk_list_atom = caf::atom_constant<caf::atom("pk_list")>;
using pk_delete_atom = caf::atom_constant<caf::atom("pk_delete")>;
using pk_login_finish_atom = caf::atom_constant<caf::atom("pk_lfinish")>;
/// The database: the credential an assertion names, its owner, and the
/// challenge it answers (used up by the asking).
using pk_find_atom = caf::atom_constant<caf::atom("pk_find")>;
/// The database: stores a verified registration.
using pk_add_atom = caf::atom_constant<caf::atom("pk_add")>;
/// The database: an assertion verified, its counter stored.
using pk_use_atom = caf::atom_constant<caf::atom("pk_use")>;
/// A hasher: checks a registration / an assertion (core/webauthn.hpp).
using wa_register_atom = caf::atom_constant<caf::atom("wa_reg")>;
using wa_assert_atom = caf::atom_constant<caf::atom("wa_assert")>;

// -- between nodes (cluster/) -----------------------------------------------

/// The first message a node sends to another, with its cluster protocol
/// version. Its form never changes (see cluster_protocol).
using hello_atom = caf::atom_constant<caf::atom("hello")>;
/// A peer link's own timer: time to connect (again).
using connect_try_atom = caf::atom_constant<caf::atom("conn_try")>;
/// Tells a forwarder where requests go now (or, with an invalid handle,
/// that they cannot go anywhere).
using route_atom = caf::atom_constant<caf::atom("route")>;
/// A hasher node joined the hash pool, with how many hashes it runs at once.
using hasher_join_atom = caf::atom_constant<caf::atom("h_join")>;
/// The storage node was lost: requests waiting for it get unavailable now.
using storage_lost_atom = caf::atom_constant<caf::atom("st_lost")>;
/// To a storage node's front: the actor that tells the gateways' session
/// caches what to drop (cluster/session_hub).
using session_hub_atom = caf::atom_constant<caf::atom("s_hub")>;
/// A gateway's session cache asks the hub for its lease (and joins).
using session_lease_atom = caf::atom_constant<caf::atom("s_lease")>;

/// The version of the messages nodes exchange. Raise it whenever a message
/// type or an interface below changes in a way an older node would
/// misread. Only the hello exchange itself (hello_atom + this number, and
/// its reply, see node_front_actor) must stay the same forever: it is how
/// two nodes find out they cannot talk. Every other message type is
/// announced under a name that carries the version (register_message_types),
/// so a message of another version fails to decode instead of being misread.
constexpr uint32_t cluster_protocol = 6;

// -- message types -----------------------------------------------------------

/// A user as clients see it. Timestamps are Unix seconds; 0 means never.
struct user_view {
  int64_t id = 0;
  std::string email;
  std::string name;
  int64_t created_at = 0;
  int64_t last_login_at = 0;
  /// The user proved the address is theirs (a code mailed to it).
  bool email_verified = false;
  /// TOTP is on: a login needs a code too (and recovery codes work).
  bool totp = false;
};

/// A user with the stored password hash: an argon2id PHC string, or one of
/// the formats user_import accepts (core/hash_format).
struct user_record {
  user_view user;
  std::string password_hash;
  /// Disabled by an operator: logins fail like a wrong password.
  bool disabled = false;
};

/// A passkey as its owner and operators see it: `id` is the raw credential
/// id (base64url on the wire), never the key.
struct passkey_info {
  std::string id;
  std::string name;
  int64_t created_at = 0;
  int64_t last_used_at = 0;
};

/// A user as operators see it on the admin channel: never a hash or token.
struct user_detail {
  user_view user;
  bool disabled = false;
  /// Live sessions and device tokens of the user.
  int64_t sessions = 0;
  int64_t devices = 0;
  /// The format of the stored hash ("argon2id", "bcrypt", ...: scheme_name
  /// in core/hash_format), never the hash.
  std::string hash_scheme;
  /// Recovery codes of the second factor not used yet.
  int64_t recovery_codes = 0;
  /// The user's passkeys (user_show only; empty in user_list's pages).
  std::vector<passkey_info> passkeys;
};

/// One page of users in email order: those after `after` whose email starts
/// with `prefix`, at most `limit`. `now` decides which sessions are live.
struct user_query {
  std::string after;
  std::string prefix;
  int64_t limit = 50;
  int64_t now = 0;
};

struct user_page {
  std::vector<user_detail> users;
};

/// user_add on the admin channel: like register, without a source.
struct admin_new_user {
  std::string email;
  std::string name;
  secret password;
};

/// A session as operators see it: never its token or the token's digest.
struct session_info {
  int64_t id = 0;
  int64_t created_at = 0;
  int64_t expires_at = 0;
  std::string source;
};

struct session_list {
  std::vector<session_info> sessions;
};

/// Sessions revoked by sessions_revoke, and whose they were.
struct revoke_result {
  int64_t user_id = 0;
  int64_t revoked = 0;
};

/// One throttling key: a source address (`account` false; IPv6 as its /64)
/// or an account (the normalized email, or "admin:"), of the guesses of
/// `kind`. As the operator gives it, `key` is the bare address or email;
/// the admin actor spells it as the guard keeps it (prefix and all) before
/// asking the guard, which reads only `account` and `key`.
struct throttle_target {
  bool account = false;
  std::string key;
  guess_kind kind = guess_kind::password;
};

/// What the throttle remembers of a key. `penalty_ms`: how long its next
/// verification would still wait.
struct throttle_status {
  std::string key;
  int64_t failures = 0;
  int64_t penalty_ms = 0;
  int64_t held = 0;
  int64_t verifying = 0;
};

/// A finished backup: where it is, its size, and how long it took.
struct backup_result {
  std::string path;
  int64_t bytes = 0;
  int64_t pages = 0;
  int64_t duration_ms = 0;
};

/// An admin request without the right key: who sent it and a short hash of
/// the key it presented (0: none), so the guard can count it.
struct admin_denial {
  std::string source;
  uint64_t fingerprint = 0;
  std::string reason;
};

struct new_user {
  std::string email;
  std::string name;
  std::string password_hash;
  int64_t created_at = 0;
};

/// A row of user_import that was not imported: its position in `users`,
/// why (import_code, core/error_code) and a message for people (never the
/// hash). CAF 0.17 serializes an enum as its underlying type by itself (an
/// inspect() of ours for it would be ambiguous with that), so `code` crosses
/// nodes as the uint8_t it was before it was typed.
struct import_rejection {
  int64_t index = 0;
  import_code code = import_code::bad_email;
  std::string message;
};

/// One user of a user_import batch as the operator sent it, its fields of
/// the right types but not yet checked. `created_at` 0: not given (now).
struct import_row {
  int64_t index = 0;
  std::string email;
  std::string name;
  std::string hash;
  int64_t created_at = 0;
};

/// user_import as decoded: the rows to check, and the rows whose fields had
/// the wrong types (rejected already). `update`: replace existing users'
/// names and hashes instead of skipping them.
struct import_request {
  bool update = false;
  std::vector<import_row> rows;
  std::vector<import_rejection> rejected;
};

/// What became of a user_import batch's rows that passed the checks.
struct import_counts {
  int64_t imported = 0;
  int64_t updated = 0;
  int64_t skipped = 0;
};

/// user_import's answer; `rejected` in the order of `index`.
struct import_report {
  import_counts counts;
  std::vector<import_rejection> rejected;
};

/// The checked rows of a user_import batch, stored in one transaction.
struct import_batch {
  bool update = false;
  std::vector<new_user> users;
};

/// What the database did with an import_batch. `replaced`: the users whose
/// hash it replaced, whose sessions it revoked in the same transaction.
struct import_outcome {
  import_counts counts;
  std::vector<user_view> replaced;
};

/// Users whose cached sessions auth must drop.
struct user_ids {
  std::vector<int64_t> ids;
};

/// A fresh hash for a password that logged in against an outdated one:
/// stored only if the user's hash is still `old_hash`, so that a password
/// set meanwhile is never overwritten.
struct password_rehash {
  int64_t user_id = 0;
  std::string old_hash;
  std::string new_hash;
};

/// `source` is the client's address as the connection saw it.
struct register_request {
  std::string email;
  secret password;
  std::string name;
  std::string source;
  /// The end user's address, sent by a trusted application server on its
  /// users' behalf; empty when absent. Only used if `source` is trusted.
  std::string client_addr;
};

struct login_request {
  std::string email;
  secret password;
  std::string source;
  std::string client_addr;
  /// From an earlier successful login on this device; may be empty.
  secret device_token;
};

/// whoami and logout.
struct token_request {
  secret token;
  std::string source;
};

struct password_change_request {
  secret token;
  secret old_password;
  secret new_password;
  std::string source;
  std::string client_addr;
};

/// recovery_start: mail a recovery code to this address, if it has an
/// account.
struct recovery_start_request {
  std::string email;
  std::string source;
  std::string client_addr;
};

/// recovery_finish: the code from the mail and the new password.
struct recovery_finish_request {
  std::string email;
  secret code;
  secret new_password;
  std::string source;
  std::string client_addr;
};

/// verify_email_finish and change_email_finish: a code for the token's
/// user.
struct token_code_request {
  secret token;
  secret code;
  std::string source;
  /// The end user's address, from a trusted app server (else empty).
  std::string client_addr;
};

/// change_email_start: the password again, and the address to move to.
struct email_change_request {
  secret token;
  secret password;
  std::string new_email;
  std::string source;
  std::string client_addr;
};

/// What a successful login hands out.
struct session_grant {
  user_view user;
  secret token;
  int64_t expires_at = 0;
  /// A new device token, or empty when the login presented a valid one.
  secret device_token;
  /// The password of this login is in the breached-password index: the
  /// application should ask for a new one.
  bool password_breached = false;
};

/// A stored device token: whose it is and how many wrong passwords came
/// with it.
struct device_record {
  int64_t user_id = 0;
  int64_t failures = 0;
};

/// The `stats` reply: every row of core/counter_table.hpp, in its order.
struct stats_snapshot {
#define AUTHNODE_STATS_FIELD(name, ...) int64_t name = 0;
  AUTHNODE_STATS(AUTHNODE_STATS_FIELD)
#undef AUTHNODE_STATS_FIELD
  /// --breached-passwords (stats only; its state and entries are rows).
  std::string breached_path;
};

/// argon2id cost, sent with every request so hasher nodes need no config.
struct hash_params {
  uint64_t ops = 0;
  uint64_t mem = 0;
};

struct verify_outcome {
  bool match = false;
  /// The stored hash was made with other parameters than the current ones.
  bool needs_rehash = false;
  /// A match whose password the breached-password index has (at
  /// --breached-min-count): the login succeeds and says so.
  bool breached = false;
};

/// Whether a hasher checks new passwords against a breached-password
/// index: off (no --breached-passwords), on, or missing (the file could not
/// be mapped and --breached-passwords-optional let the node start).
enum class breached_state : uint8_t { off = 0, on = 1, missing = 2 };

/// "off", "on" or "missing", as stats says it. Inline: the wire encodes it
/// (net/wire.cpp), and the decoder fuzzer links the wire without this
/// header's .cpp (fuzz/CMakeLists.txt).
inline std::string to_string(breached_state x) {
  switch (x) {
    case breached_state::off:
      return "off";
    case breached_state::on:
      return "on";
    case breached_state::missing:
      return "missing";
  }
  return "breached_state(" + std::to_string(static_cast<int>(x)) + ")";
}

/// A hasher's index after a (re)load: its state, the file, its entries,
/// and why the last load failed (empty when it did not).
struct breached_status {
  breached_state state = breached_state::off;
  std::string path;
  uint64_t entries = 0;
  std::string problem;
};

/// A session as stored: only the digest of its token.
struct session_row {
  std::string token_digest;
  int64_t user_id = 0;
  int64_t created_at = 0;
  int64_t expires_at = 0;
  std::string source;
};

/// Everything a successful login writes, in one transaction. (An outdated
/// hash is upgraded after the login, with password_rehash.)
struct login_commit {
  int64_t user_id = 0;
  int64_t at = 0;
  session_row session;
  /// Digest of a device token to store with the login; empty: none.
  std::string device_digest;
};

/// What a connection's session cache keeps of a live session.
struct session_view {
  user_view user;
  int64_t expires_at = 0;
};

/// The live session behind a token and the user who owns it.
struct session_owner {
  int64_t session_id = 0;
  user_record owner;
  int64_t expires_at = 0;
};

/// A new password for a user; every other session of the user is revoked.
struct password_change {
  int64_t user_id = 0;
  std::string password_hash;
  std::string keep_token_digest;
};

/// The two throttling keys of a login: the client's address (IPv6: its /64)
/// and the normalized email, whether or not such an account exists.
struct throttle_keys {
  std::string source;
  std::string account;
};

/// How a verification admitted by the guard ended: the password matched, it
/// did not, or there was no verdict (e.g. the database failed). CAF 0.17
/// serializes an enum as its underlying type, so on the wire this is the
/// one byte it always was (0, 1, 2); to_string is for CAF's printing.
enum class attempt_result : uint8_t { success = 0, failure = 1, aborted = 2 };

std::string to_string(attempt_result x);

/// Throttle keys as a shared database keeps them (throttle_key_digest),
/// empty for a key not asked about, and the wall clock and window they are
/// counted by (Unix milliseconds).
struct throttle_lookup {
  std::string source;
  std::string account;
  int64_t now_ms = 0;
  int64_t window_ms = 0;
};

/// The failures of a lookup's keys in the window, and when the last one of
/// each was (0: none).
struct shared_failures {
  int64_t source = 0;
  int64_t source_last_ms = 0;
  int64_t account = 0;
  int64_t account_last_ms = 0;
};

/// `fingerprint`: a keyed hash of the password tried, never the password.
struct attempt_report {
  throttle_keys keys;
  attempt_result result = attempt_result::aborted;
  uint64_t fingerprint = 0;
};

/// One login outcome for the audit log. `outcome`: ok,
/// invalid_credentials, rate_limited or busy; `reason` says why, for people
/// (e.g. "unknown account", "wrong password", "penalty"). Never a secret.
struct audit_event {
  int64_t time = 0;
  std::string op;
  std::string outcome;
  std::string source;
  std::string account;
  std::string reason;
};

/// One mail of the outbox, decrypted for the mailer (only the mailer and
/// the database, on the storage node, ever see it in clear). Times are Unix
/// milliseconds.
struct outgoing_mail {
  int64_t id = 0;
  std::string to;
  std::string subject;
  std::string body;
  int64_t created_at_ms = 0;
  /// Deliveries tried so far (0 for a new mail).
  int64_t attempts = 0;
};

/// The mails due now, oldest first; how many wait in all (due or not); when
/// the earliest of those not handed out falls due (0: none).
struct outbox_batch {
  std::vector<outgoing_mail> mails;
  int64_t pending = 0;
  int64_t next_due_ms = 0;
};

/// The outbox as operators see it: never an address, a body or a code.
struct outbox_status {
  int64_t pending = 0;
  int64_t oldest_created_ms = 0;
  int64_t most_attempts = 0;
  std::string last_error;
};

/// Asks the storage node to mail the user with `email` a code for
/// `purpose` (for email_change: to `new_email`, with a notice to `email`).
struct code_request {
  std::string email;
  code_purpose purpose = code_purpose::recovery;
  std::string new_email;
};

/// Whether a mail was queued, and why not (for the audit log: "unknown
/// account", "disabled", "already verified", "mail budget spent"). The
/// client never learns the reason of a recovery_start.
struct code_issued {
  /// The reason when the account's hourly mail budget is spent.
  static constexpr const char* budget_spent = "mail budget spent";
  bool sent = false;
  std::string reason;
};

/// A code typed by the user with `email`. A wrong one counts against the
/// code, and kills it at the fifth; every failure is ec::invalid_code.
struct code_attempt {
  std::string email;
  code_purpose purpose = code_purpose::recovery;
  secret code;
};

/// Everything a recovery writes, in one transaction: the code used up, the
/// new hash, every old session revoked, the address marked proven, the new
/// session (and device token) of `login`.
struct account_recovery {
  code_attempt attempt;
  std::string password_hash;
  login_commit login;
};

// -- second factors -------------------------------------------------------------

/// A code typed for the user's second factor: a TOTP code or a recovery
/// code, told apart by their form.
struct factor_attempt {
  int64_t user_id = 0;
  secret code;
};

/// Recovery codes in clear: made by the storage node, which keeps only
/// their keyed digests, and shown to the user this once.
struct recovery_code_list {
  std::vector<secret> codes;
};

/// totp_setup's answer: the seed in base32 and the otpauth:// URI that
/// carries it (for a QR code).
struct totp_setup_reply {
  secret seed;
  secret uri;
};

/// totp_disable: the password and a code, both.
struct totp_disable_request {
  secret token;
  secret password;
  secret code;
  std::string source;
  std::string client_addr;
};

/// login_second_factor: the challenge of second_factor_required, a code.
struct second_factor_login {
  secret challenge;
  secret code;
  std::string source;
  std::string client_addr;
};

/// Opens a challenge for a login of `user_id` from `source`.
struct challenge_request {
  int64_t user_id = 0;
  std::string source;
  /// Digest of the device token the login presented, if it was honoured
  /// (empty: none): the challenge's codes are then throttled on the
  /// device's keys, so that its owner gets in while the account is under
  /// attack.
  std::string device_digest;
  /// The login's password is in the breached-password index: the grant of
  /// the second step says so (password_breached).
  bool password_breached = false;
};

/// Whose a live challenge is, and the device its login presented.
struct challenge_info {
  user_view user;
  std::string device_digest;
};

/// A login waiting for its second factor, as the client learns of it.
struct second_factor_challenge {
  secret challenge;
  int64_t expires_at = 0;
  std::vector<std::string> methods;
};

struct challenge_attempt {
  secret challenge;
  secret code;
};

/// A challenge answered: the user, and the method used ("totp",
/// "recovery_code").
struct factor_used {
  user_view user;
  std::string method;
  /// As the challenge's login found it (challenge_request).
  bool password_breached = false;
};

// -- passkeys ------------------------------------------------------------------

struct passkey_list {
  std::vector<passkey_info> passkeys;
};

/// What a WebAuthn challenge was issued for.
enum class webauthn_purpose : uint8_t { registration = 0, login = 1 };

/// An issued challenge, as the database keeps it (by a keyed digest of
/// `challenge`): for a registration, whose and the passkey's name; for a
/// login, the email it was restricted to (empty: discoverable).
struct webauthn_challenge {
  std::string challenge;
  webauthn_purpose purpose = webauthn_purpose::login;
  int64_t user_id = 0;
  std::string email;
  std::string name;
  int64_t expires_at = 0;
};

/// The options handed to navigator.credentials: creation options for a
/// registration (rp, user, exclude list), request options for a login
/// (allow list). Binary fields raw; the codec writes them in base64url.
struct webauthn_options {
  webauthn_purpose purpose = webauthn_purpose::login;
  std::string challenge;
  std::string rp_id;
  std::string rp_name;
  std::string user_handle;
  std::string user_name;
  std::string display_name;
  /// excludeCredentials (registration) or allowCredentials (login).
  std::vector<std::string> credential_ids;
  webauthn_uv user_verification = webauthn_uv::preferred;
  int64_t timeout_ms = 0;
};

/// A user's WebAuthn handle (user.id: random, never the email or the id)
/// and their credentials' ids.
struct passkey_owner {
  std::string user_handle;
  std::vector<std::string> credential_ids;
};

/// passkey_register_begin: the token's user adds a passkey named `name`.
struct passkey_begin_request {
  secret token;
  std::string name;
  std::string source;
};

/// passkey_register_finish: the RegistrationResponseJSON, decoded.
struct passkey_register_request {
  secret token;
  webauthn_registration credential;
  std::string source;
};

/// passkey_login_begin: an email (allowCredentials) or none (discoverable).
struct passkey_login_begin_request {
  std::string email;
  std::string source;
  std::string client_addr;
};

/// passkey_login_begin's answer: the options and the challenge's id.
struct passkey_login_options {
  std::string challenge_id;
  webauthn_options options;
};

/// passkey_login_finish: the AuthenticationResponseJSON, decoded;
/// `challenge_id` raw (the challenge itself, base64url on the wire).
struct passkey_login_request {
  std::string challenge_id;
  webauthn_assertion credential;
  std::string source;
  std::string client_addr;
  /// As login's: from an earlier sign-in on this device; may be empty.
  secret device_token;
};

/// passkey_delete: `passkey_id` raw (base64url on the wire).
struct passkey_delete_request {
  secret token;
  std::string passkey_id;
  std::string source;
};

/// A verified registration to store for `user_id`, under the challenge's
/// name.
struct passkey_new {
  int64_t user_id = 0;
  std::string name;
  webauthn_credential credential;
  int64_t at = 0;
};

/// What an assertion is checked against: the challenge it names (used up
/// by the asking; `live` false: no such challenge, or expired), and the
/// credential it names with its owner and the owner's handle (`known`
/// false: no such credential).
struct passkey_claim {
  bool live = false;
  webauthn_challenge challenge;
  bool known = false;
  user_record owner;
  std::string user_handle;
  webauthn_credential credential;
};

/// Asks the database for a passkey_claim.
struct passkey_lookup {
  std::string challenge;
  std::string credential_id;
  int64_t now = 0;
};

/// An assertion verified: its counter is stored if it still moves on.
struct passkey_use {
  std::string credential_id;
  uint32_t sign_count = 0;
  int64_t at = 0;
};

/// A hasher's verdicts (core/webauthn.hpp).
struct registration_verdict {
  webauthn_refusal refusal = webauthn_refusal::malformed;
  webauthn_credential credential;
};

struct assertion_verdict {
  webauthn_refusal refusal = webauthn_refusal::malformed;
  webauthn_proof proof;
};

// -- inspectors ---------------------------------------------------------------

#define AUTHNODE_INSPECT(type, ...)                                            \
  template <class Inspector>                                                   \
  typename Inspector::result_type inspect(Inspector& f, type& x) {             \
    return f(caf::meta::type_name(#type), __VA_ARGS__);                        \
  }

AUTHNODE_INSPECT(user_view, x.id, x.email, x.name, x.created_at,
                 x.last_login_at, x.email_verified, x.totp)
AUTHNODE_INSPECT(user_record, x.user, x.password_hash, x.disabled)
AUTHNODE_INSPECT(passkey_info, x.id, x.name, x.created_at, x.last_used_at)
AUTHNODE_INSPECT(user_detail, x.user, x.disabled, x.sessions, x.devices,
                 x.hash_scheme, x.recovery_codes, x.passkeys)
AUTHNODE_INSPECT(user_query, x.after, x.prefix, x.limit, x.now)
AUTHNODE_INSPECT(user_page, x.users)
AUTHNODE_INSPECT(admin_new_user, x.email, x.name, x.password)
AUTHNODE_INSPECT(admin_denial, x.source, x.fingerprint, x.reason)
AUTHNODE_INSPECT(session_info, x.id, x.created_at, x.expires_at, x.source)
AUTHNODE_INSPECT(session_list, x.sessions)
AUTHNODE_INSPECT(revoke_result, x.user_id, x.revoked)
AUTHNODE_INSPECT(throttle_target, x.account, x.key, x.kind)
AUTHNODE_INSPECT(throttle_status, x.key, x.failures, x.penalty_ms, x.held,
                 x.verifying)
AUTHNODE_INSPECT(backup_result, x.path, x.bytes, x.pages, x.duration_ms)
AUTHNODE_INSPECT(new_user, x.email, x.name, x.password_hash, x.created_at)
AUTHNODE_INSPECT(import_rejection, x.index, x.code, x.message)
AUTHNODE_INSPECT(import_row, x.index, x.email, x.name, x.hash, x.created_at)
AUTHNODE_INSPECT(import_request, x.update, x.rows, x.rejected)
AUTHNODE_INSPECT(import_counts, x.imported, x.updated, x.skipped)
AUTHNODE_INSPECT(import_report, x.counts, x.rejected)
AUTHNODE_INSPECT(import_batch, x.update, x.users)
AUTHNODE_INSPECT(import_outcome, x.counts, x.replaced)
AUTHNODE_INSPECT(user_ids, x.ids)
AUTHNODE_INSPECT(password_rehash, x.user_id, x.old_hash, x.new_hash)
AUTHNODE_INSPECT(register_request, x.email, x.password, x.name, x.source,
                 x.client_addr)
AUTHNODE_INSPECT(login_request, x.email, x.password, x.source, x.client_addr,
                 x.device_token)
AUTHNODE_INSPECT(token_request, x.token, x.source)
AUTHNODE_INSPECT(password_change_request, x.token, x.old_password,
                 x.new_password, x.source, x.client_addr)
AUTHNODE_INSPECT(recovery_start_request, x.email, x.source, x.client_addr)
AUTHNODE_INSPECT(recovery_finish_request, x.email, x.code, x.new_password,
                 x.source, x.client_addr)
AUTHNODE_INSPECT(token_code_request, x.token, x.code, x.source,
                 x.client_addr)
AUTHNODE_INSPECT(email_change_request, x.token, x.password, x.new_email,
                 x.source, x.client_addr)
AUTHNODE_INSPECT(session_grant, x.user, x.token, x.expires_at, x.device_token,
                 x.password_breached)
AUTHNODE_INSPECT(device_record, x.user_id, x.failures)

/// The fields are the rows of core/counter_table.hpp, in order: each row
/// writes `, x.name`.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stats_snapshot& x) {
#define AUTHNODE_STATS_REF(name, ...) , x.name
  return f(caf::meta::type_name("stats_snapshot")
             AUTHNODE_STATS(AUTHNODE_STATS_REF),
           x.breached_path);
#undef AUTHNODE_STATS_REF
}

AUTHNODE_INSPECT(hash_params, x.ops, x.mem)
AUTHNODE_INSPECT(verify_outcome, x.match, x.needs_rehash, x.breached)
AUTHNODE_INSPECT(breached_status, x.state, x.path, x.entries, x.problem)
AUTHNODE_INSPECT(session_row, x.token_digest, x.user_id, x.created_at,
                 x.expires_at, x.source)
AUTHNODE_INSPECT(login_commit, x.user_id, x.at, x.session, x.device_digest)
AUTHNODE_INSPECT(session_owner, x.session_id, x.owner, x.expires_at)
AUTHNODE_INSPECT(session_view, x.user, x.expires_at)
AUTHNODE_INSPECT(throttle_keys, x.source, x.account)
AUTHNODE_INSPECT(audit_event, x.time, x.op, x.outcome, x.source, x.account,
                 x.reason)
AUTHNODE_INSPECT(attempt_report, x.keys, x.result, x.fingerprint)
AUTHNODE_INSPECT(throttle_lookup, x.source, x.account, x.now_ms, x.window_ms)
AUTHNODE_INSPECT(shared_failures, x.source, x.source_last_ms, x.account,
                 x.account_last_ms)
AUTHNODE_INSPECT(password_change, x.user_id, x.password_hash,
                 x.keep_token_digest)

AUTHNODE_INSPECT(code_request, x.email, x.purpose, x.new_email)
AUTHNODE_INSPECT(code_issued, x.sent, x.reason)
AUTHNODE_INSPECT(code_attempt, x.email, x.purpose, x.code)
AUTHNODE_INSPECT(account_recovery, x.attempt, x.password_hash, x.login)

AUTHNODE_INSPECT(outgoing_mail, x.id, x.to, x.subject, x.body, x.created_at_ms,
                 x.attempts)
AUTHNODE_INSPECT(outbox_batch, x.mails, x.pending, x.next_due_ms)
AUTHNODE_INSPECT(outbox_status, x.pending, x.oldest_created_ms, x.most_attempts,
                 x.last_error)

AUTHNODE_INSPECT(factor_attempt, x.user_id, x.code)
AUTHNODE_INSPECT(recovery_code_list, x.codes)
AUTHNODE_INSPECT(totp_setup_reply, x.seed, x.uri)
AUTHNODE_INSPECT(totp_disable_request, x.token, x.password, x.code, x.source,
                 x.client_addr)
AUTHNODE_INSPECT(second_factor_login, x.challenge, x.code, x.source,
                 x.client_addr)
AUTHNODE_INSPECT(challenge_request, x.user_id, x.source, x.device_digest,
                 x.password_breached)
AUTHNODE_INSPECT(challenge_info, x.user, x.device_digest)
AUTHNODE_INSPECT(second_factor_challenge, x.challenge, x.expires_at,
                 x.methods)
AUTHNODE_INSPECT(challenge_attempt, x.challenge, x.code)
AUTHNODE_INSPECT(factor_used, x.user, x.method, x.password_breached)

AUTHNODE_INSPECT(passkey_list, x.passkeys)
AUTHNODE_INSPECT(webauthn_challenge, x.challenge, x.purpose, x.user_id,
                 x.email, x.name, x.expires_at)
AUTHNODE_INSPECT(webauthn_options, x.purpose, x.challenge, x.rp_id, x.rp_name,
                 x.user_handle, x.user_name, x.display_name,
                 x.credential_ids, x.user_verification, x.timeout_ms)
AUTHNODE_INSPECT(passkey_owner, x.user_handle, x.credential_ids)
AUTHNODE_INSPECT(passkey_begin_request, x.token, x.name, x.source)
AUTHNODE_INSPECT(passkey_register_request, x.token, x.credential, x.source)
AUTHNODE_INSPECT(passkey_login_begin_request, x.email, x.source,
                 x.client_addr)
AUTHNODE_INSPECT(passkey_login_options, x.challenge_id, x.options)
AUTHNODE_INSPECT(passkey_login_request, x.challenge_id, x.credential,
                 x.source, x.client_addr, x.device_token)
AUTHNODE_INSPECT(passkey_delete_request, x.token, x.passkey_id, x.source)
AUTHNODE_INSPECT(passkey_new, x.user_id, x.name, x.credential, x.at)
AUTHNODE_INSPECT(passkey_claim, x.live, x.challenge, x.known, x.owner, x.user_handle,
                 x.credential)
AUTHNODE_INSPECT(passkey_lookup, x.challenge, x.credential_id, x.now)
AUTHNODE_INSPECT(passkey_use, x.credential_id, x.sign_count, x.at)
AUTHNODE_INSPECT(registration_verdict, x.refusal, x.credential)
AUTHNODE_INSPECT(assertion_verdict, x.refusal, x.proof)
// The core's WebAuthn types (core/webauthn.hpp knows no CAF).
AUTHNODE_INSPECT(webauthn_policy, x.rp_id, x.origins, x.user_verification)
AUTHNODE_INSPECT(webauthn_registration, x.credential_id, x.client_data_json,
                 x.attestation_object)
AUTHNODE_INSPECT(webauthn_credential, x.credential_id, x.cose_key, x.alg,
                 x.sign_count, x.user_verified)
AUTHNODE_INSPECT(webauthn_assertion, x.credential_id, x.client_data_json,
                 x.authenticator_data, x.signature, x.user_handle)
AUTHNODE_INSPECT(webauthn_proof, x.sign_count, x.user_verified)

#undef AUTHNODE_INSPECT

// -- typed interfaces ---------------------------------------------------------

/// What a connection asks of the auth actor. Failures are caf::errors; a
/// failure that must be answered late carries its hold (to_wire()).
using auth_actor = caf::typed_actor<
  caf::replies_to<register_atom, register_request>::with<user_view>,
  caf::replies_to<login_atom, login_request>::with<session_grant>,
  caf::replies_to<whoami_atom, token_request>::with<user_view>,
  caf::replies_to<whoami_io_atom, token_request>::with<session_view>,
  caf::replies_to<logout_atom, token_request>::with<caf::ok_atom>,
  caf::replies_to<chpass_atom, password_change_request>::with<caf::ok_atom>,
  caf::replies_to<stats_atom>::with<stats_snapshot>,
  caf::replies_to<recovery_start_atom,
                  recovery_start_request>::with<caf::ok_atom>,
  caf::replies_to<recovery_finish_atom,
                  recovery_finish_request>::with<session_grant>,
  /// Replies whether a code was sent (false: the address is proven).
  caf::replies_to<verify_start_atom, token_request>::with<bool>,
  caf::replies_to<verify_finish_atom, token_code_request>::with<user_view>,
  caf::replies_to<email_start_atom, email_change_request>::with<caf::ok_atom>,
  caf::replies_to<email_finish_atom, token_code_request>::with<user_view>,
  caf::replies_to<totp_setup_atom, token_request>::with<totp_setup_reply>,
  caf::replies_to<totp_enable_atom,
                  token_code_request>::with<recovery_code_list>,
  caf::replies_to<totp_disable_atom, totp_disable_request>::with<caf::ok_atom>,
  caf::replies_to<codes_renew_atom,
                  token_code_request>::with<recovery_code_list>,
  caf::replies_to<login_factor_atom, second_factor_login>::with<session_grant>,
  caf::replies_to<pk_reg_begin_atom,
                  passkey_begin_request>::with<webauthn_options>,
  caf::replies_to<pk_reg_finish_atom,
                  passkey_register_request>::with<passkey_info>,
  caf::replies_to<pk_login_begin_atom,
                  passkey_login_begin_request>::with<passkey_login_options>,
  caf::replies_to<pk_login_finish_atom,
                  passkey_login_request>::with<session_grant>,
  caf::replies_to<pk_list_atom, token_request>::with<passkey_list>,
  caf::replies_to<pk_delete_atom, passkey_delete_request>::with<caf::ok_atom>,
  caf::replies_to<forget_atom, int64_t>::with<caf::ok_atom>,
  caf::replies_to<forget_atom, user_ids>::with<caf::ok_atom>,
  caf::reacts_to<tick_atom>, caf::reacts_to<storage_lost_atom>>;

/// A single hasher and the pool in front of several share this interface.
using hasher_actor = caf::typed_actor<
  caf::replies_to<hash_atom, secret, hash_params>::with<std::string>,
  caf::replies_to<hash_new_atom, secret, hash_params>::with<std::string>,
  caf::replies_to<breached_reload_atom, bool>::with<breached_status>,
  caf::replies_to<verify_atom, std::string, secret,
                  hash_params>::with<verify_outcome>,
  caf::replies_to<urgent_atom, verify_atom, std::string, secret,
                  hash_params>::with<verify_outcome>,
  /// Passkeys: `challenge` raw (core/webauthn.hpp). Cheap next to argon2,
  /// so the pool runs them ahead of the queue.
  caf::replies_to<wa_register_atom, webauthn_registration, std::string,
                  webauthn_policy>::with<registration_verdict>,
  caf::replies_to<wa_assert_atom, webauthn_assertion, std::string,
                  webauthn_credential,
                  webauthn_policy>::with<assertion_verdict>>;

/// The mailer (actors/mailer.hpp): wakes up when the database queued mail
/// and on its own retry timer.
using mailer_actor = caf::typed_actor<caf::reacts_to<mail_ready_atom>,
                                      caf::reacts_to<tick_atom>>;

/// The part of the database the mailer uses: the outbox. Taken mails stay
/// in the outbox until reported sent (deleted), to retry (at `next_at_ms`,
/// with the error) or dropped (given up, deleted).
using outbox_actor = caf::typed_actor<
  caf::replies_to<outbox_take_atom, int64_t /* now_ms */,
                  int64_t /* limit */>::with<outbox_batch>,
  caf::replies_to<outbox_sent_atom, int64_t /* id */>::with<caf::ok_atom>,
  caf::replies_to<outbox_retry_atom, int64_t /* id */, int64_t /* next_at_ms */,
                  std::string /* error */>::with<caf::ok_atom>,
  caf::replies_to<outbox_drop_atom, int64_t /* id */,
                  std::string /* error */>::with<caf::ok_atom>>;

/// The database actor. Lookups that find nothing fail with ec::not_found.
/// The code and outbox requests fail with ec::unavailable on a node started
/// without mail.
using database_actor = outbox_actor::extend<
  caf::replies_to<user_add_atom, new_user>::with<user_view>,
  caf::replies_to<user_get_atom, std::string>::with<user_record>,
  caf::replies_to<login_commit_atom, login_commit>::with<caf::ok_atom>,
  caf::replies_to<session_get_atom, std::string, int64_t>::with<session_owner>,
  caf::replies_to<session_del_atom, std::string, int64_t>::with<caf::ok_atom>,
  caf::replies_to<password_set_atom, password_change>::with<caf::ok_atom>,
  caf::replies_to<device_get_atom, std::string>::with<device_record>,
  caf::replies_to<device_fail_atom, std::string>::with<caf::ok_atom>,
  caf::replies_to<user_show_atom, std::string, int64_t>::with<user_detail>,
  caf::replies_to<user_list_atom, user_query>::with<user_page>,
  caf::replies_to<user_disable_atom, std::string, bool>::with<int64_t>,
  caf::replies_to<user_delete_atom, std::string>::with<int64_t>,
  caf::replies_to<sessions_list_atom, std::string, int64_t>::with<session_list>,
  /// Session id 0: every session of the user.
  caf::replies_to<sessions_revoke_atom, std::string,
                  int64_t>::with<revoke_result>,
  /// The whole batch in one transaction.
  caf::replies_to<user_import_atom, import_batch>::with<import_outcome>,
  /// Replies whether the hash was replaced (false: it had changed).
  caf::replies_to<rehash_atom, password_rehash>::with<bool>,
  caf::reacts_to<purge_atom>,
  /// Copies the live database into a new file at the (absolute) path, a
  /// few pages per message; busy while another backup runs.
  caf::replies_to<backup_atom, std::string>::with<backup_result>,
  caf::reacts_to<backup_step_atom, uint64_t>, caf::reacts_to<backup_abort_atom>,
  caf::replies_to<outbox_status_atom>::with<outbox_status>,
  /// The mailer to wake when mail is queued.
  caf::reacts_to<mailer_atom, mailer_actor>,
  caf::replies_to<code_issue_atom, code_request>::with<code_issued>,
  caf::replies_to<code_check_atom, code_attempt>::with<user_view>,
  caf::replies_to<code_use_atom, code_attempt>::with<user_view>,
  caf::replies_to<recover_atom, account_recovery>::with<user_view>,
  caf::replies_to<user_verify_atom, std::string, bool>::with<int64_t>,
  /// Second factors (storage/second_factor_store.hpp). A wrong code is
  /// ec::invalid_code; a request that needs TOTP on (or off) ec::conflict.
  caf::replies_to<totp_setup_atom, int64_t /* user */>::with<secret>,
  caf::replies_to<totp_enable_atom, factor_attempt>::with<recovery_code_list>,
  caf::replies_to<totp_disable_atom, factor_attempt>::with<caf::ok_atom>,
  caf::replies_to<codes_renew_atom, factor_attempt>::with<recovery_code_list>,
  caf::replies_to<challenge_new_atom,
                  challenge_request>::with<second_factor_challenge>,
  caf::replies_to<challenge_owner_atom, secret>::with<challenge_info>,
  caf::replies_to<challenge_use_atom, challenge_attempt>::with<factor_used>,
  /// Replies the user's id; ec::not_found if there is no such user.
  caf::replies_to<mfa_reset_atom, std::string>::with<int64_t>,
  /// Passkeys (storage/passkey_store.hpp). Registration: the challenge is
  /// stored, the user's handle made if it has none.
  caf::replies_to<pk_reg_begin_atom, webauthn_challenge>::with<passkey_owner>,
  /// Uses up the registration challenge (the user's, live): its name.
  caf::replies_to<pk_reg_finish_atom, std::string /* challenge */,
                  int64_t /* user */, int64_t /* now */>::with<webauthn_challenge>,
  /// ec::conflict if the credential is registered already.
  caf::replies_to<pk_add_atom, passkey_new>::with<passkey_info>,
  /// Stores the login challenge; the allow list for its email (decoys for
  /// an email without passkeys, the same each time).
  caf::replies_to<pk_login_begin_atom,
                  webauthn_challenge>::with<passkey_owner>,
  caf::replies_to<pk_find_atom, passkey_lookup>::with<passkey_claim>,
  /// ec::conflict if the stored counter is not below the new one (a clone
  /// raced ahead).
  caf::replies_to<pk_use_atom, passkey_use>::with<caf::ok_atom>,
  caf::replies_to<pk_list_atom, int64_t /* user */>::with<passkey_list>,
  /// ec::not_found if the user has no such passkey.
  caf::replies_to<pk_delete_atom, int64_t /* user */,
                  std::string /* id */>::with<caf::ok_atom>,
  /// Admin: by email; the user's id.
  caf::replies_to<pk_delete_atom, std::string /* email */,
                  std::string /* id */>::with<int64_t>,
  /// The guard's shared failures; add: one more on each key given.
  caf::replies_to<throttle_load_atom, throttle_lookup>::with<shared_failures>,
  caf::replies_to<throttle_fail_atom, throttle_lookup>::with<shared_failures>,
  /// Whether the key (a digest) had failures.
  caf::replies_to<throttle_forget_atom, std::string>::with<bool>>;

/// The guard: may a password verification start? Answers ok_atom at once,
/// later (a held attempt), or fails with rate_limited (retry_after_ms in the
/// error's context). Every admitted attempt must be reported when it ends;
/// the report is answered once the failure it holds is recorded (on a
/// shared database: written), so a failure's reply can wait for it.
using guard_actor = caf::typed_actor<
  caf::replies_to<guard_admit_atom, throttle_keys>::with<caf::ok_atom>,
  caf::replies_to<guard_spend_atom, std::string>::with<caf::ok_atom>,
  caf::replies_to<guard_done_atom, attempt_report>::with<caf::ok_atom>,
  caf::reacts_to<tick_atom>, caf::reacts_to<purge_atom>,
  caf::replies_to<throttle_show_atom, throttle_target>::with<throttle_status>,
  /// Forgets the key's failures and releases its held attempts; replies
  /// whether there were any failures to forget.
  caf::replies_to<throttle_reset_atom, throttle_target>::with<bool>,
  /// The node is stopping: held attempts are answered at once (rate_limited
  /// until their penalty ends) rather than when it ends, as is any attempt
  /// that would be held from now on.
  caf::reacts_to<drain_atom>>;

/// The audit sink: writes one JSON line per event (detached: it does I/O).
using audit_actor = caf::typed_actor<caf::reacts_to<audit_atom, audit_event>>;

/// The admin channel's actor: operator commands, each answered with a typed
/// result. The key was checked by the admin connection; requests without
/// the right key arrive as a denial, which always fails (forbidden, held, or
/// rate_limited) and is counted by the guard like a failed login.
/// user_disable_atom carries true to disable, false to enable;
/// user_verify_atom true to mark the address proven, false to unmark it.
using admin_actor = caf::typed_actor<
  caf::replies_to<deny_atom, admin_denial>::with<caf::ok_atom>,
  caf::replies_to<stats_atom>::with<stats_snapshot>,
  caf::replies_to<user_show_atom, std::string>::with<user_detail>,
  caf::replies_to<user_list_atom, user_query>::with<user_page>,
  caf::replies_to<user_add_atom, admin_new_user>::with<user_view>,
  caf::replies_to<user_passwd_atom, std::string, secret>::with<caf::ok_atom>,
  caf::replies_to<user_disable_atom, std::string, bool>::with<caf::ok_atom>,
  caf::replies_to<user_delete_atom, std::string>::with<caf::ok_atom>,
  /// Removes one passkey of the user with that email (the raw id).
  caf::replies_to<pk_delete_atom, std::string, std::string>::with<caf::ok_atom>,
  caf::replies_to<sessions_list_atom, std::string>::with<session_list>,
  caf::replies_to<sessions_revoke_atom, std::string,
                  int64_t>::with<revoke_result>,
  caf::replies_to<throttle_show_atom, throttle_target>::with<throttle_status>,
  caf::replies_to<throttle_reset_atom, throttle_target>::with<bool>,
  caf::replies_to<user_import_atom, import_request>::with<import_report>,
  caf::replies_to<backup_atom, std::string>::with<backup_result>,
  /// Fails with ec::unavailable on a node started without mail.
  caf::replies_to<outbox_status_atom>::with<outbox_status>,
  caf::replies_to<user_verify_atom, std::string, bool>::with<caf::ok_atom>,
  caf::replies_to<mfa_reset_atom, std::string>::with<caf::ok_atom>,
  /// This node's hashers map the breached-password index again.
  caf::replies_to<breached_reload_atom>::with<breached_status>>;

/// What a storage or hasher node publishes on its node port. The reply to a
/// hello of the same protocol version: (protocol, role, first, second,
/// hashers) with, for role "storage", the database and guard actors, for
/// role "hasher", its hash pool (and an invalid handle) and how many hashes
/// it runs at once. Built from CAF's own types only, so that nodes of any
/// two versions understand it; a hello of another version gets an error
/// that says both versions.
/// A storage node's front also names its session hub (an invalid handle on
/// a hasher node), asked after the hello.
using node_front_actor
  = caf::typed_actor<caf::replies_to<hello_atom, uint32_t>::with<
                       uint32_t, std::string, caf::actor, caf::actor, uint32_t>,
                     caf::replies_to<session_hub_atom>::with<caf::actor>>;

/// The storage node's session hub (cluster/session_hub): a gateway's
/// session cache joins and renews its lease with session_lease_atom, and
/// gets (lease in ms, whether it joined just now: then it must drop what it
/// holds). A gateway's auth actor sends it the drops of io_forget_atom,
/// answered once every joined cache has answered or lost its lease.
using session_hub_actor = caf::typed_actor<
  caf::replies_to<session_lease_atom, caf::actor>::with<int64_t, bool>,
  caf::replies_to<io_forget_atom, std::string>::with<caf::ok_atom>,
  caf::replies_to<io_forget_atom, int64_t, std::string>::with<caf::ok_atom>>;

/// The hash pool: a hasher to its users, and the place where hasher nodes
/// join (a gateway's pool sends them work and, when one is lost, sends its
/// verifications to the others).
using hash_pool_actor = hasher_actor::extend<
  caf::reacts_to<hasher_join_atom, hasher_actor, uint32_t>>;

/// "authnode.v<cluster_protocol>::<name>": the name a message type is
/// announced under.
std::string versioned_type_name(const std::string& name);

/// Announces every message type above; call on every node's config.
void register_message_types(caf::actor_system_config& cfg);

} // namespace authnode
