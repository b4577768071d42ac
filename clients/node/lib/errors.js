// Errors thrown by the authnode client.
//
// Two families, both under AuthnodeClientError:
//
// * AuthnodeError and its subclasses: the node answered "ok": false. There
//   is one class per error code of the protocol (docs/protocol.md, "Error
//   codes"); each carries `code`, `message` and, for RateLimited,
//   `retryAfterMs`; SecondFactorRequired also the `challenge` to answer. Apart from Unavailable (and Internal), such an answer
//   means the request did NOT take effect. A code this version does not
//   know is thrown as the base AuthnodeError with that `code`.
// * TransportError and its subclasses: no answer came. ConnectFailed means
//   the request was never sent (safe to retry any operation); ConnectionLost
//   and Timeout mean it may or may not have taken effect.
//
// Why errors rather than result values: catching one class
// (`e instanceof InvalidCredentials`) is the normal flow of an application,
// and the two base classes keep "the node said no" apart from "no answer",
// the one distinction a caller must make before it retries.
// second_factor_required is an error too, though the password was right: no
// session was started, and code that handles login's refusals in one place
// must not take it for a success.

import { inspect } from 'node:util';
import { parseStrings, parseTimestamp } from './values.js';

/** Root of every error this package throws on purpose. */
export class AuthnodeClientError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * The node answered a request with `"ok": false`.
 *
 * `code` is the stable error code (decide on it, or on the class);
 * `message` is the node's text for people and may change between versions;
 * `retryAfterMs` is set with `rate_limited` (else null); `op` is the
 * operation refused; `reply` is the whole reply object as received.
 */
export class AuthnodeError extends AuthnodeClientError {
  /** The wire code a subclass stands for; null on the base class. */
  static CODE = null;

  /**
   * @param {string} code
   * @param {string} message
   * @param {{retryAfterMs?: number|null, op?: string|null, reply?: object}} [details]
   */
  constructor(code, message, { retryAfterMs = null, op = null, reply = {} } = {}) {
    super(message);
    this.code = code;
    this.retryAfterMs = retryAfterMs;
    this.op = op;
    this.reply = reply;
  }
}

/** `bad_json`: the line was not one JSON object (never sent by this client). */
export class BadJson extends AuthnodeError {
  static CODE = 'bad_json';
}

/**
 * `bad_request`: a field is missing or of the wrong type, the `register`
 * name is empty or too long, or `clientAddr` came from a peer that is not
 * in `--trusted-sources` or is not an IP address.
 */
export class BadRequest extends AuthnodeError {
  static CODE = 'bad_request';
}

/** `unknown_op`: the node has no such operation (on this port). */
export class UnknownOp extends AuthnodeError {
  static CODE = 'unknown_op';
}

/**
 * `line_too_long`: the request line was longer than the node's `max-line`;
 * the node closes the connection after it. The client also throws it itself,
 * without sending, for a request longer than its `maxLine` option.
 */
export class LineTooLong extends AuthnodeError {
  static CODE = 'line_too_long';
}

/**
 * `busy`: the node refused the connection (`max-connections`, or shutting
 * down), or `max-hash-queue` password jobs were waiting, or (admin channel)
 * a backup is running. The request did not take effect; try again later.
 */
export class Busy extends AuthnodeError {
  static CODE = 'busy';
}

/**
 * `unavailable`: the node's database did not answer in time. The request
 * MAY OR MAY NOT have taken effect; retry later, knowing that. Also the
 * answer to the account codes' methods from a node started without
 * `--smtp-url`, and to the passkey methods from one started without
 * `--webauthn-rp-id` (the message names the option); there they never take
 * effect.
 */
export class Unavailable extends AuthnodeError {
  static CODE = 'unavailable';
}

/** `internal`: an unexpected failure in the node. */
export class Internal extends AuthnodeError {
  static CODE = 'internal';
}

/** `invalid_email`: `register` got an address it does not accept. */
export class InvalidEmail extends AuthnodeError {
  static CODE = 'invalid_email';
}

/** `weak_password`: the (new) password breaks a rule; `message` says which. */
export class WeakPassword extends AuthnodeError {
  static CODE = 'weak_password';
}

/** `email_taken`: `register` for an email that has an account. */
export class EmailTaken extends AuthnodeError {
  static CODE = 'email_taken';
}

/**
 * `invalid_credentials`: `login` with an unknown email or wrong password,
 * `changePassword` with a wrong old password, or `passkeyLoginFinish` with
 * an assertion that failed (a stale or used challenge, an unknown credential
 * or another account's, a bad signature, a counter that went back, a
 * disabled account: one answer). Answered late on purpose (the node's
 * `--failure-delay`, more under throttle penalties).
 */
export class InvalidCredentials extends AuthnodeError {
  static CODE = 'invalid_credentials';
}

/** `invalid_token`: the token is unknown, expired, logged out or revoked. */
export class InvalidToken extends AuthnodeError {
  static CODE = 'invalid_token';
}

/** `forbidden`: admin channel only; the `admin_key` is missing or wrong. */
export class Forbidden extends AuthnodeError {
  static CODE = 'forbidden';
}

/** `no_such_user`: admin channel only; no account has that email. */
export class NoSuchUser extends AuthnodeError {
  static CODE = 'no_such_user';
}

/** `exists`: admin channel only, `backup`: something is at that path. */
export class Exists extends AuthnodeError {
  static CODE = 'exists';
}

/** `backup_failed`: admin channel only, `backup`: SQLite or the file system refused. */
export class BackupFailed extends AuthnodeError {
  static CODE = 'backup_failed';
}

/**
 * `invalid_code`: a `*Finish` method got a code that is wrong, expired, used,
 * replaced by a newer one or dead after 5 wrong tries, or (`recoveryFinish`)
 * the email has no account. Answered late on purpose, like
 * InvalidCredentials. Once a code is dead only a new one (a new `*Start`)
 * helps.
 */
export class InvalidCode extends AuthnodeError {
  static CODE = 'invalid_code';
}

/**
 * `email_not_verified`: `login` on a node with `--require-verified-email`:
 * the password matched, but the address is not verified yet. No session was
 * started.
 */
export class EmailNotVerified extends AuthnodeError {
  static CODE = 'email_not_verified';
}

/**
 * `conflict`: a second-factor method found the account in a state it does
 * not apply to: totpSetup or totpEnable with TOTP on already, totpEnable
 * with no totpSetup pending, totpDisable or recoveryCodesRenew with TOTP
 * off. Also passkeyRegisterFinish of a credential registered already.
 * Nothing changed.
 */
export class Conflict extends AuthnodeError {
  static CODE = 'conflict';
}

/**
 * `breached_password`: the new password (register, changePassword,
 * recoveryFinish, admin user_add and user_set_password) is in the node's
 * list of breached passwords, or is made of the account's email, name or
 * the site's words; the message says which. Ask for another password.
 * Nothing changed (a recovery code stays good).
 */
export class BreachedPassword extends AuthnodeError {
  static CODE = 'breached_password';
}

/**
 * `passkey_refused`: passkeyRegisterFinish got a credential that does not
 * verify (`message` names the check that failed, such as `wrong_origin`,
 * `wrong_rp`, `wrong_challenge` or `no_user_presence`), or whose challenge
 * is not a live one of this account (used, expired, another account's).
 * Nothing was registered; start again with passkeyRegisterBegin.
 */
export class PasskeyRefused extends AuthnodeError {
  static CODE = 'passkey_refused';
}

/**
 * `no_such_passkey`: passkeyDelete with an id the account has no passkey
 * with (deleted already, or never its own).
 */
export class NoSuchPasskey extends AuthnodeError {
  static CODE = 'no_such_passkey';
}

// The members beside `error` of a second_factor_required reply; without them
// the reply is no authnode reply and the error cannot be built.
function challengeOf(reply) {
  const challenge = reply?.challenge;
  if (typeof challenge !== 'string') throw new ProtocolError('second_factor_required: member challenge is missing or not a string');
  return challenge;
}

function methodsOf(reply) {
  const methods = parseStrings(reply?.methods);
  if (methods === null) throw new ProtocolError('second_factor_required: member methods is not a list of strings');
  return methods;
}

function expiresAtOf(reply) {
  const date = parseTimestamp(reply?.expires_at);
  if (date === null) throw new ProtocolError('second_factor_required: member expires_at is not a timestamp');
  return date;
}

/**
 * `second_factor_required`: `login` (with a password or a device token) or
 * `recoveryFinish`: the password (or the recovery mail's code) was right,
 * but the account has TOTP on; or `passkeyLoginFinish` of such an account
 * whose passkey did not verify the user (no PIN or fingerprint: one factor
 * only). No session was started (recoveryFinish did set the new password).
 * Ask the user for a code and pass `challenge` with it to loginSecondFactor
 * before `expiresAt`; `methods` says which codes it takes (`totp`,
 * `recovery_code`). A challenge dies after 5 wrong codes.
 *
 * `challenge` stands in for the password until it expires: util.inspect
 * (console.log) leaves it out. Built from the reply's members (as
 * errorFromReply does), or from `challenge`, `methods` and `expiresAt` given
 * in `details`; a reply without them is not an authnode reply and gives
 * ProtocolError.
 */
export class SecondFactorRequired extends AuthnodeError {
  static CODE = 'second_factor_required';

  /**
   * @param {string} code
   * @param {string} message
   * @param {{retryAfterMs?: number|null, op?: string|null, reply?: object, challenge?: string, methods?: string[], expiresAt?: Date}} [details]
   */
  constructor(code, message, details = {}) {
    super(code, message, details);
    const { reply = {}, challenge, methods, expiresAt } = details;
    /** The challenge for loginSecondFactor (43 base64url characters); opaque. */
    this.challenge = challenge ?? challengeOf(reply);
    /** The kinds of code the challenge takes: "totp", "recovery_code". */
    this.methods = methods ?? methodsOf(reply);
    /** When the challenge stops working (5 minutes after it was made). */
    this.expiresAt = expiresAt ?? expiresAtOf(reply);
    /**
     * The password that matched is in the node's breached-password index:
     * ask for a change once logged in (the second step's Session says so
     * too). False from an older node.
     */
    this.passwordBreached = reply.password_breached === true;
  }

  [inspect.custom](depth, options, inspectFn) {
    const shown = {
      code: this.code,
      op: this.op,
      challenge: '<hidden>',
      methods: this.methods,
      expiresAt: this.expiresAt,
    };
    const inner = inspectFn(shown, { ...options, depth: options.depth === null ? null : options.depth - 1 });
    return `${this.stack} ${inner}`;
  }
}

/**
 * `rate_limited`: too many registrations from this address, or logins
 * (passkey sign-ins too, on keys of their own) for this address or account
 * are penalized and one is held already.
 * `retryAfterMs` says when to try again; no password was checked. Wait that
 * long before sending again on the same connection: the node makes a
 * connection refused twice within that time wait, delaying every other
 * request on it.
 */
export class RateLimited extends AuthnodeError {
  static CODE = 'rate_limited';
}

/** Every error code of protocol version 1 and its class. */
export const ERROR_CLASSES = Object.freeze(
  Object.fromEntries(
    [
      BadJson, BadRequest, UnknownOp, LineTooLong, Busy, Unavailable, Internal,
      InvalidEmail, WeakPassword, EmailTaken, InvalidCredentials, InvalidToken,
      Forbidden, NoSuchUser, Exists, BackupFailed, InvalidCode, EmailNotVerified, RateLimited,
      SecondFactorRequired, Conflict, BreachedPassword, PasskeyRefused, NoSuchPasskey,
    ].map((cls) => [cls.CODE, cls]),
  ),
);

/**
 * The error for a failure reply (`"ok": false`). Tolerates a malformed
 * `error` object; a code it does not know gives the base AuthnodeError with
 * that code (the protocol says to treat it like `internal`). Throws
 * ProtocolError for a second_factor_required reply without its challenge,
 * methods and expires_at.
 *
 * @param {object} reply
 * @param {string|null} [op]
 * @returns {AuthnodeError}
 */
export function errorFromReply(reply, op = null) {
  const error = reply !== null && typeof reply.error === 'object' && reply.error !== null ? reply.error : {};
  const code = typeof error.code === 'string' ? error.code : 'internal';
  const message = typeof error.message === 'string' ? error.message : '';
  const retry = error.retry_after_ms;
  const retryAfterMs = typeof retry === 'number' && Number.isFinite(retry) ? Math.trunc(retry) : null;
  const Cls = Object.hasOwn(ERROR_CLASSES, code) ? ERROR_CLASSES[code] : AuthnodeError;
  return new Cls(code, message, { retryAfterMs, op, reply });
}

/** The same refusal (a reply without `id`) for the request of `op`. */
export function refusalFor(error, op) {
  return new error.constructor(error.code, error.message, {
    retryAfterMs: error.retryAfterMs,
    op,
    reply: error.reply,
  });
}

/** No reply came: the connection could not be made, broke, or timed out. */
export class TransportError extends AuthnodeClientError {}

/** The client could not connect. Nothing was sent: any call may be retried. */
export class ConnectFailed extends TransportError {
  constructor(message, { cause } = {}) {
    super(message, cause === undefined ? undefined : { cause });
  }
}

/**
 * The connection ended before the reply arrived. If `sent` is true the
 * request MAY HAVE TAKEN EFFECT (a register may have made the account, a
 * login a session, a logout ended one); the client never resends such a
 * request by itself (only ping, whoami and stats, once). `sent` is false
 * only when the connection was known to be gone before sending.
 */
export class ConnectionLost extends TransportError {
  constructor(message, { op = null, sent = true, cause } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.op = op;
    this.sent = sent;
  }
}

/**
 * The peer sent something that is not an authnode reply; the client hung
 * up. A ConnectionLost: requests in flight may have taken effect.
 */
export class ProtocolError extends ConnectionLost {}

/**
 * No reply within the call's timeout. The request may still take effect
 * (the late reply is dropped); the connection stays open. `timeout` is the
 * time that ran out, in milliseconds.
 */
export class Timeout extends TransportError {
  constructor(message, { op = null, timeout = null } = {}) {
    super(message);
    this.op = op;
    this.timeout = timeout;
  }
}
