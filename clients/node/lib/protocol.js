// What the client knows about the wire: the operations, which may be
// resent, how a request line is built and a reply line read. The
// connection and the pool only move these lines.

import { LineTooLong, ProtocolError, errorFromReply } from './errors.js';

/** Replies longer than this are not authnode replies (real ones are a few hundred bytes). */
export const MAX_REPLY_BYTES = 1 << 20;

/** The node's default `max-line`. */
export const DEFAULT_MAX_LINE = 65536;

/** Default timeout (ms) of the operations the node answers at once. */
export const DEFAULT_TIMEOUT = 10_000;

/**
 * Default timeout (ms) of register, login and changePassword. A failed login
 * is answered no sooner than `--failure-delay` (2 s), and a penalized one is
 * held up to `--max-penalty` (60 s) before its password is even checked; the
 * timeout must outlast both, or a legitimate answer becomes a Timeout of
 * unknown outcome.
 */
export const DEFAULT_AUTH_TIMEOUT = 90_000;

/** Default timeout (ms) of each connection attempt. */
export const DEFAULT_CONNECT_TIMEOUT = 5_000;

/**
 * Open a new connection rather than send on one idle this long (ms): the
 * node closes connections idle for `--idle-timeout` (60 s) without a word,
 * and a request sent at that moment would be lost to the race.
 */
export const DEFAULT_MAX_IDLE = 50_000;

/** Default number of connections of a client. */
export const DEFAULT_POOL_SIZE = 2;

// retrySafe: sending it twice has the effect of sending it once (it changes
// nothing), so it may be resent after a lost connection. slow: it hashes or
// checks a password, may be answered late on purpose, and gets the longer
// default timeout.
const OPS = new Map([
  ['ping', { retrySafe: true, slow: false }],
  ['register', { retrySafe: false, slow: true }],
  ['login', { retrySafe: false, slow: true }],
  ['whoami', { retrySafe: true, slow: false }],
  ['logout', { retrySafe: false, slow: false }],
  ['change_password', { retrySafe: false, slow: true }],
  ['stats', { retrySafe: true, slow: false }],
  // The account codes. None is resent: each start mails a code (spending the
  // account's hourly budget and replacing the code before), each finish uses
  // one up. A wrong code or password is answered late and throttled like a
  // login, so those ops get the long timeout; the starts of recovery and
  // verification are answered within recovery-reply-time.
  ['recovery_start', { retrySafe: false, slow: false }],
  ['recovery_finish', { retrySafe: false, slow: true }],
  ['verify_email_start', { retrySafe: false, slow: false }],
  ['verify_email_finish', { retrySafe: false, slow: true }],
  ['change_email_start', { retrySafe: false, slow: true }],
  ['change_email_finish', { retrySafe: false, slow: true }],
  // The second factor. None is resent: each changes the account or uses a
  // code up (a resent totp_setup would make another seed, a resent
  // totp_enable answer conflict). A wrong code (or, totp_disable, password)
  // is held and throttled like a wrong password, so all but totp_setup get
  // the long timeout.
  ['totp_setup', { retrySafe: false, slow: false }],
  ['totp_enable', { retrySafe: false, slow: true }],
  ['totp_disable', { retrySafe: false, slow: true }],
  ['recovery_codes_renew', { retrySafe: false, slow: true }],
  ['login_second_factor', { retrySafe: false, slow: true }],
  // Passkeys (WebAuthn). None is resent: each begin stores a challenge
  // (harmless, but a change), a finish uses its challenge up (and registers
  // a credential or starts a session), a delete answers no_such_passkey the
  // second time. passkeys_list changes nothing but stays out of the resent
  // ops with the rest (docs/clients.md names those). Only a failed sign-in
  // is answered late on purpose (held for failure-delay and throttled like
  // a wrong password), so only passkey_login_finish gets the long timeout;
  // the signature check of a registration is short and not held.
  ['passkey_register_begin', { retrySafe: false, slow: false }],
  ['passkey_register_finish', { retrySafe: false, slow: false }],
  ['passkey_login_begin', { retrySafe: false, slow: false }],
  ['passkey_login_finish', { retrySafe: false, slow: true }],
  ['passkeys_list', { retrySafe: false, slow: false }],
  ['passkey_delete', { retrySafe: false, slow: false }],
]);

/**
 * The operations resent once, on a new connection, when the connection broke
 * before their reply came. Every other operation changes state (or, like
 * logout, answers differently the second time) and is never resent.
 */
export const RETRY_SAFE_OPS = Object.freeze(
  new Set([...OPS].filter(([, spec]) => spec.retrySafe).map(([op]) => op)),
);

/** How `op` is treated; an op this client does not know is unsafe to retry and slow. */
export function specOf(op) {
  return OPS.get(op) ?? { retrySafe: false, slow: true };
}

/** `fields` plus the optional members whose value is not undefined or null. */
export function withOptional(fields, optional) {
  for (const [name, value] of Object.entries(optional)) {
    if (value !== undefined && value !== null) fields[name] = value;
  }
  return fields;
}

/**
 * The request line (a Buffer ending in "\n") for `op` with `fields`. Throws
 * LineTooLong, sending nothing, if it is longer than `maxLine` bytes: the node
 * would answer line_too_long and close the connection, losing the replies of
 * every other request on it.
 */
export function encodeRequest(id, op, fields, maxLine) {
  if (fields !== null && typeof fields === 'object' && (Object.hasOwn(fields, 'id') || Object.hasOwn(fields, 'op'))) {
    throw new TypeError("fields must not contain 'id' or 'op'");
  }
  const line = Buffer.from(JSON.stringify({ id, op, ...fields }), 'utf8');
  if (line.length > maxLine) {
    throw new LineTooLong(
      'line_too_long',
      `the request is ${line.length} bytes, longer than maxLine=${maxLine}; not sent`,
      { op },
    );
  }
  return Buffer.concat([line, Buffer.from('\n')]);
}

/** Parse one reply line; ProtocolError unless it is a JSON object with a boolean `ok`. */
export function decodeReply(line) {
  let obj;
  try {
    obj = JSON.parse(line.toString('utf8'));
  } catch (e) {
    throw new ProtocolError(`the node sent a line that is not JSON: ${e.message}`);
  }
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj) || typeof obj.ok !== 'boolean') {
    throw new ProtocolError('the node sent a line that is not a reply object');
  }
  return obj;
}

/**
 * The `sent` member of a verify_email_start reply: whether a code was mailed
 * (false: the address is verified already).
 */
export function sentOf(reply) {
  if (typeof reply.sent !== 'boolean') throw new ProtocolError('verify_email_start: member sent is missing or not a boolean');
  return reply.sent;
}

/** `reply` if it is a success, else throw its AuthnodeError. */
export function checkReply(reply, op) {
  if (reply.ok === true) return reply;
  throw errorFromReply(reply, op);
}
