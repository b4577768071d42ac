// Typed results. Parsing is lenient in one direction only: members a later
// node adds land in `extra` and never break parsing (the protocol asks
// clients to ignore what they do not know), while a member this version
// relies on that is missing or mistyped throws ProtocolError, because then
// the peer is not an authnode version 1 node.

import { inspect } from 'node:util';
import { ProtocolError } from './errors.js';
import { parseStrings, parseTimestamp } from './values.js';

function required(obj, name, type, what) {
  const value = obj[name];
  const ok = type === 'integer' ? Number.isSafeInteger(value) : typeof value === type;
  if (!ok) throw new ProtocolError(`${what}: member ${name} is missing or not a ${type}`);
  return value;
}

function timestamp(value, what) {
  const date = parseTimestamp(value);
  if (date === null) throw new ProtocolError(`${what}: ${JSON.stringify(value)} is not a timestamp`);
  return date;
}

function strings(value, what) {
  const list = parseStrings(value);
  if (list === null) throw new ProtocolError(`${what} is not a list of strings`);
  return list;
}

function extra(obj, known) {
  return Object.fromEntries(Object.entries(obj).filter(([k]) => !known.has(k)));
}

function isObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

const USER_KNOWN = new Set(['id', 'email', 'name', 'created_at', 'last_login_at', 'email_verified', 'second_factors']);

/** An account, as register, login, whoami and the account codes' methods return it. */
export class User {
  /**
   * @param {{id: number, email: string, name: string, createdAt: Date, lastLoginAt: Date|null, emailVerified?: boolean, secondFactors?: string[], extra?: object}} fields
   */
  constructor({
    id, email, name, createdAt, lastLoginAt, emailVerified = false, secondFactors = [], extra: more = {},
  }) {
    /** The account's number; never reused. */
    this.id = id;
    /** The normalized email (trimmed, ASCII letters lower-cased). */
    this.email = email;
    /** The display name, trimmed. */
    this.name = name;
    /** When the account was registered. */
    this.createdAt = createdAt;
    /** The latest successful login (in a login result: that login), or null. */
    this.lastLoginAt = lastLoginAt;
    /**
     * Whether the owner proved the address with a code mailed to it
     * (verifyEmailFinish, recoveryFinish, changeEmailFinish). false from a
     * node too old to send it: such a node verifies no address.
     */
    this.emailVerified = emailVerified;
    /**
     * The second factors a login of the account needs besides the password:
     * [] (none), or ["totp", "recovery_code"] once totpEnable turned TOTP
     * on. [] from a node too old to send it: such a node asks for none.
     */
    this.secondFactors = secondFactors;
    /** Members of the reply's `user` object this version does not know. */
    this.extra = more;
  }

  /** Parse the `user` object of a reply. */
  static fromJSON(obj) {
    if (!isObject(obj)) throw new ProtocolError('user is not an object');
    const last = obj.last_login_at;
    const verified = obj.email_verified ?? false;
    if (typeof verified !== 'boolean') throw new ProtocolError('user: member email_verified is not a boolean');
    return new User({
      id: required(obj, 'id', 'integer', 'user'),
      email: required(obj, 'email', 'string', 'user'),
      name: required(obj, 'name', 'string', 'user'),
      createdAt: timestamp(obj.created_at, 'user.created_at'),
      lastLoginAt: last === null || last === undefined ? null : timestamp(last, 'user.last_login_at'),
      emailVerified: verified,
      secondFactors: obj.second_factors === undefined ? [] : strings(obj.second_factors, 'user.second_factors'),
      extra: extra(obj, USER_KNOWN),
    });
  }
}

const SESSION_KNOWN = new Set(['id', 'ok', 'token', 'expires_at', 'user', 'device_token', 'password_breached']);

/**
 * The result of a successful login (and of loginSecondFactor, of
 * recoveryFinish, which logs in, and of passkeyLoginFinish). `token` and `deviceToken` are secrets:
 * util.inspect (console.log) leaves them out so that they do not land in
 * logs by accident.
 */
export class Session {
  /**
   * @param {{token: string, expiresAt: Date, user: User, deviceToken?: string|null, passwordBreached?: boolean, extra?: object}} fields
   */
  constructor({ token, expiresAt, user, deviceToken = null, passwordBreached = false, extra: more = {} }) {
    /** The session token (43 base64url characters); opaque. */
    this.token = token;
    /** When the token stops working. */
    this.expiresAt = expiresAt;
    /** The account, with lastLoginAt set to this login. */
    this.user = user;
    /**
     * A new device token when the login did not present a valid one, else
     * null. Keep it on the end user's device and pass it to later logins from
     * there: it exempts them from penalties someone else caused.
     */
    this.deviceToken = deviceToken;
    /**
     * The password of this login is in the node's breached-password index:
     * the login succeeded, but ask the user to change it. False from a node
     * without the index (or an older node, which does not send it), and
     * after a passkey sign-in.
     */
    this.passwordBreached = passwordBreached;
    /** Reply members this version does not know. */
    this.extra = more;
  }

  /** Parse a successful login (or login_second_factor, recovery_finish, passkey_login_finish) reply. */
  static fromReply(reply) {
    if (!isObject(reply)) throw new ProtocolError('login reply is not an object');
    const device = reply.device_token;
    if (device !== undefined && device !== null && typeof device !== 'string') {
      throw new ProtocolError('login: device_token is not a string');
    }
    const breached = reply.password_breached ?? false;
    if (typeof breached !== 'boolean') throw new ProtocolError('login: password_breached is not a boolean');
    return new Session({
      token: required(reply, 'token', 'string', 'login'),
      expiresAt: timestamp(reply.expires_at, 'login.expires_at'),
      user: User.fromJSON(reply.user),
      deviceToken: device ?? null,
      passwordBreached: breached,
      extra: extra(reply, SESSION_KNOWN),
    });
  }

  [inspect.custom](depth, options, inspectFn) {
    const shown = {
      token: '<hidden>',
      expiresAt: this.expiresAt,
      user: this.user,
      deviceToken: this.deviceToken === null ? null : '<hidden>',
      passwordBreached: this.passwordBreached,
    };
    return `Session ${inspectFn(shown, { ...options, depth: options.depth === null ? null : options.depth - 1 })}`;
  }
}

const TOTP_SETUP_KNOWN = new Set(['id', 'ok', 'secret', 'uri']);

/**
 * The result of totpSetup: a new TOTP seed, pending until totpEnable
 * confirms it with a code. `secret` (base32) is what a user types into an
 * authenticator app; `uri` (otpauth://…, the secret in it) is what a QR code
 * shows. Both are secrets: util.inspect (console.log) leaves them out.
 */
export class TotpSetup {
  /**
   * @param {{secret: string, uri: string, extra?: object}} fields
   */
  constructor({ secret, uri, extra: more = {} }) {
    /** The seed, base32 without padding. */
    this.secret = secret;
    /** `otpauth://totp/ISSUER:EMAIL?secret=…&issuer=…&algorithm=SHA1&digits=6&period=30`. */
    this.uri = uri;
    /** Reply members this version does not know. */
    this.extra = more;
  }

  /** Parse a successful totp_setup reply. */
  static fromReply(reply) {
    if (!isObject(reply)) throw new ProtocolError('totp_setup reply is not an object');
    return new TotpSetup({
      secret: required(reply, 'secret', 'string', 'totp_setup'),
      uri: required(reply, 'uri', 'string', 'totp_setup'),
      extra: extra(reply, TOTP_SETUP_KNOWN),
    });
  }

  [inspect.custom](depth, options, inspectFn) {
    const shown = { secret: '<hidden>', uri: '<hidden>' };
    return `TotpSetup ${inspectFn(shown, { ...options, depth: options.depth === null ? null : options.depth - 1 })}`;
  }
}

const PASSKEY_KNOWN = new Set(['id', 'name', 'created_at', 'last_used_at']);

/** A passkey (WebAuthn credential) of an account, as passkeyRegisterFinish and passkeysList give it. */
export class Passkey {
  /**
   * @param {{id: string, name: string, createdAt: Date, lastUsedAt: Date|null, extra?: object}} fields
   */
  constructor({ id, name, createdAt, lastUsedAt, extra: more = {} }) {
    /** The credential id, base64url without padding; what passkeyDelete takes. */
    this.id = id;
    /** The name it was registered with ("Passkey" if none was given). */
    this.name = name;
    /** When it was registered. */
    this.createdAt = createdAt;
    /** Its latest sign-in, or null if it has not signed in yet. */
    this.lastUsedAt = lastUsedAt;
    /** Members of the passkey object this version does not know. */
    this.extra = more;
  }

  /** Parse a passkey object of a reply. */
  static fromJSON(obj) {
    if (!isObject(obj)) throw new ProtocolError('passkey is not an object');
    const last = obj.last_used_at;
    return new Passkey({
      id: required(obj, 'id', 'string', 'passkey'),
      name: required(obj, 'name', 'string', 'passkey'),
      createdAt: timestamp(obj.created_at, 'passkey.created_at'),
      lastUsedAt: last === null || last === undefined ? null : timestamp(last, 'passkey.last_used_at'),
      extra: extra(obj, PASSKEY_KNOWN),
    });
  }
}

/** The `passkeys` of a passkeys_list reply, oldest first. */
export function passkeysOf(reply) {
  if (!Array.isArray(reply.passkeys)) throw new ProtocolError('passkeys_list: member passkeys is missing or not a list');
  return reply.passkeys.map((p) => Passkey.fromJSON(p));
}

/**
 * The `options` of a passkey_register_begin (or passkey_login_begin) reply:
 * the WebAuthn options as the node made them, a plain object for the
 * browser, unchanged.
 */
export function optionsOf(reply, op) {
  if (!isObject(reply.options)) throw new ProtocolError(`${op}: member options is missing or not an object`);
  return { ...reply.options };
}

const PASSKEY_LOGIN_KNOWN = new Set(['id', 'ok', 'challenge_id', 'options']);

/**
 * The result of passkeyLoginBegin: `challengeId` for passkeyLoginFinish
 * (once, within 5 minutes; not a secret, only the passkey's signature makes
 * a session of it) and `options`, the PublicKeyCredentialRequestOptionsJSON
 * for the browser, unchanged.
 */
export class PasskeyLoginOptions {
  /**
   * @param {{challengeId: string, options: object, extra?: object}} fields
   */
  constructor({ challengeId, options, extra: more = {} }) {
    /** Names the sign-in's challenge; pass it back to passkeyLoginFinish. */
    this.challengeId = challengeId;
    /** challenge, timeout, rpId, allowCredentials, userVerification (binary members base64url). */
    this.options = options;
    /** Reply members this version does not know. */
    this.extra = more;
  }

  /** Parse a successful passkey_login_begin reply. */
  static fromReply(reply) {
    if (!isObject(reply)) throw new ProtocolError('passkey_login_begin reply is not an object');
    return new PasskeyLoginOptions({
      challengeId: required(reply, 'challenge_id', 'string', 'passkey_login_begin'),
      options: optionsOf(reply, 'passkey_login_begin'),
      extra: extra(reply, PASSKEY_LOGIN_KNOWN),
    });
  }
}

/**
 * The `recovery_codes` of a totp_enable or recovery_codes_renew reply: ten
 * codes like `K7QM-2XPA`, shown this once (the node keeps only digests).
 */
export function recoveryCodesOf(reply, op) {
  return strings(reply.recovery_codes, `${op}: member recovery_codes`);
}

/** The members of the `stats` object this version knows, in protocol order. */
export const STATS_COUNTERS = Object.freeze([
  'connections', 'requests_total', 'registrations_total', 'logins_ok', 'logins_failed',
  'pending_delayed', 'hash_verifications_total', 'rate_limited_total', 'penalized_sources',
  'penalized_accounts', 'throttle_held', 'hash_queue_depth', 'tarpitted_total',
  'idle_closed_total', 'mails_sent_total', 'mails_failed_total', 'mails_dropped_total',
  'outbox_depth', 'second_factor_challenges_total', 'second_factor_ok_total',
  'second_factor_failed_total', 'breached_password_refused_total', 'breached_login_total',
  'breached_index_state', 'breached_index_entries', 'uptime_seconds',
]);

/** The text members of the `stats` object, and what an older node's stand for. */
export const STATS_TEXT = Object.freeze({ breached_passwords: 'off', breached_path: '' });

const camel = (name) => name.replace(/_([a-z])/g, (_, c) => c.toUpperCase());

/**
 * The node's counters, from the stats operation, in camelCase
 * (`requests_total` is `requestsTotal`). A counter an older node does not
 * send is 0; counters a newer node adds are in `extra`, under their wire
 * names. docs/protocol.md ("stats") says what each counts.
 */
export class Stats {
  constructor(values = {}, more = {}) {
    for (const name of STATS_COUNTERS) this[camel(name)] = values[camel(name)] ?? 0;
    for (const [name, fallback] of Object.entries(STATS_TEXT)) this[camel(name)] = values[camel(name)] ?? fallback;
    /** Counters this version does not know, under their wire names. */
    this.extra = more;
  }

  /** Parse the `stats` object of a reply. */
  static fromJSON(obj) {
    if (!isObject(obj)) throw new ProtocolError('stats is not an object');
    const values = {};
    for (const name of STATS_COUNTERS) {
      if (Object.hasOwn(obj, name)) values[camel(name)] = required(obj, name, 'integer', 'stats');
    }
    for (const name of Object.keys(STATS_TEXT)) {
      if (Object.hasOwn(obj, name)) values[camel(name)] = required(obj, name, 'string', 'stats');
    }
    return new Stats(values, extra(obj, new Set([...STATS_COUNTERS, ...Object.keys(STATS_TEXT)])));
  }
}
