// The client: a small pool of pipelined connections to one node.
//
// Every request gets a fresh integer `id`; each connection (connection.js)
// matches replies to requests by it, so any number of calls may be in
// flight at once and a failed login the node holds back for seconds delays
// nothing else. A call goes to the open connection with the fewest requests
// in flight.
//
// Why a pool when one connection already pipelines: the node works on at
// most `--max-in-flight` (8) requests of one connection at a time and stops
// reading it meanwhile, so one busy application would queue its quick
// requests behind its slow ones. A few connections spread that; more than a
// handful buy nothing.
//
// Lost connections follow the policy of docs/clients.md, the same as the
// Python client's: requests in flight fail with ConnectionLost and are never
// resent, except ping, whoami and stats (once); a request provably not sent
// goes out on a new connection; broken connections are replaced by the next
// calls (and in the background while the others serve).

import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { ConnectFailed, ConnectionLost, Timeout } from './errors.js';
import { Connection } from './connection.js';
import {
  DEFAULT_AUTH_TIMEOUT, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_IDLE, DEFAULT_MAX_LINE,
  DEFAULT_POOL_SIZE, DEFAULT_TIMEOUT, checkReply, encodeRequest, sentOf, specOf, withOptional,
} from './protocol.js';
import {
  Passkey, PasskeyLoginOptions, Session, Stats, TotpSetup, User, optionsOf, passkeysOf, recoveryCodesOf,
} from './types.js';

function positive(name, value, { allowNull = false } = {}) {
  if (allowNull && value === null) return value;
  if (typeof value !== 'number' || !(value > 0)) throw new RangeError(`${name} must be a positive number`);
  return value;
}

/**
 * A client for one authnode node.
 *
 * ```js
 * const node = await Client.connect('127.0.0.1', 7411);
 * const session = await node.login('ann@example.org', 'correct horse');
 * const user = await node.whoami(session.token);
 * await node.close();
 * ```
 *
 * Calls may be made concurrently; they are pipelined over `poolSize`
 * connections and replies are matched by `id`. Timeouts are in
 * milliseconds: `timeout` (10 s) for ping, whoami, logout, stats,
 * recoveryStart, verifyEmailStart, totpSetup and the passkey methods but
 * passkeyLoginFinish, `authTimeout` (90 s) for register, login,
 * changePassword, passkeyLoginFinish and the account codes' and second
 * factor's methods that check a password or a code, which may be answered
 * late on purpose. After a lost connection only ping, whoami and stats are
 * resent (once); the next calls reconnect.
 */
export class Client {
  #ids = 1;
  #lock = Promise.resolve();
  #refilling = null;
  #closed = false;

  /**
   * Make a client without connecting; the first call connects. Most code
   * wants `await Client.connect(host, port, options)`, which connects at once
   * and so fails early if the node cannot be reached.
   *
   * @param {string} host
   * @param {number} port
   * @param {import('../index.js').ClientOptions} [options]
   */
  constructor(host, port, options = {}) {
    const {
      poolSize = DEFAULT_POOL_SIZE,
      timeout = DEFAULT_TIMEOUT,
      authTimeout = DEFAULT_AUTH_TIMEOUT,
      connectTimeout = DEFAULT_CONNECT_TIMEOUT,
      retryIdempotent = true,
      maxIdle = DEFAULT_MAX_IDLE,
      maxLine = DEFAULT_MAX_LINE,
      localAddress = undefined,
    } = options;
    if (!Number.isInteger(poolSize) || poolSize < 1) throw new RangeError('poolSize must be an integer of at least 1');
    /** The node's address. */
    this.host = host;
    /** The node's port. */
    this.port = port;
    this.poolSize = poolSize;
    this.timeout = positive('timeout', timeout);
    this.authTimeout = positive('authTimeout', authTimeout);
    this.connectTimeout = positive('connectTimeout', connectTimeout);
    this.retryIdempotent = Boolean(retryIdempotent);
    this.maxIdle = positive('maxIdle', maxIdle, { allowNull: true });
    this.maxLine = positive('maxLine', maxLine);
    this.localAddress = localAddress;
    /** The pool's slots (null: not open); internal, for tests. */
    this._slots = new Array(poolSize).fill(null);
  }

  /**
   * Connect to a node: open `poolSize` connections and return the client.
   *
   * @param {string} host
   * @param {number} port
   * @param {import('../index.js').ClientOptions} [options]
   * @returns {Promise<Client>}
   * @throws {ConnectFailed} a connection could not be opened
   */
  static async connect(host, port, options = {}) {
    const client = new Client(host, port, options);
    try {
      await client.#locked(async () => {
        for (let i = 0; i < client.poolSize; i++) {
          await client.#replace(i, performance.now() + client.connectTimeout);
        }
      });
    } catch (e) {
      await client.close();
      throw e;
    }
    return client;
  }

  /**
   * Close every connection. Requests in flight fail with ConnectionLost, and
   * so do later calls.
   */
  async close() {
    this.#closed = true;
    const slots = this._slots;
    this._slots = new Array(this.poolSize).fill(null);
    await Promise.all(slots.filter((c) => c !== null).map((c) => c.close()));
  }

  /** Requests sent and not answered yet, over all connections. */
  get inFlight() {
    return this._slots.reduce((n, c) => n + (c === null ? 0 : c.inFlight), 0);
  }

  /** Connections of the pool that are open now. */
  get openConnections() {
    return this._slots.filter((c) => c !== null && !c.closed).length;
  }

  // -- operations -------------------------------------------------------

  /**
   * Check that the node answers. Resent once after a lost connection.
   * @param {{timeout?: number}} [options]
   * @returns {Promise<void>}
   */
  async ping({ timeout } = {}) {
    await this.call('ping', {}, { timeout });
  }

  /**
   * Create an account and return it.
   *
   * @param {string} email trimmed and lower-cased (ASCII) by the node
   * @param {string} password at least `--min-password` bytes (8), at most 1024, not the email
   * @param {string} name 1 to 200 bytes after trimming
   * @param {{clientAddr?: string, timeout?: number}} [options] `clientAddr`: the
   *   end user's IP address, for a trusted application server (see login)
   * @returns {Promise<User>}
   * @throws {InvalidEmail|WeakPassword|EmailTaken|BadRequest|RateLimited|Busy|Unavailable|Internal}
   *   as the node answers; ConnectionLost or Timeout: no answer, the account may exist
   */
  async register(email, password, name, { clientAddr, timeout } = {}) {
    const fields = withOptional({ email, password, name }, { client_addr: clientAddr });
    return User.fromJSON((await this.call('register', fields, { timeout })).user);
  }

  /**
   * Check an email and password and start a session. A wrong password or
   * unknown email rejects with InvalidCredentials, late on purpose (the
   * node's `--failure-delay`, more while penalized); other calls go on
   * meanwhile.
   *
   * @param {string} email
   * @param {string} password
   * @param {{deviceToken?: string, clientAddr?: string, timeout?: number}} [options]
   *   `deviceToken`: the one an earlier login on this device returned; it
   *   exempts this login from penalties others earned. `clientAddr`: the end
   *   user's IP address, only for application servers in the node's
   *   `--trusted-sources` (from any other peer the node answers BadRequest).
   * @returns {Promise<Session>} `deviceToken` is set when the login did not present a valid one
   * @throws {SecondFactorRequired} the password was right but the account has
   *   TOTP on: no session yet; finish with loginSecondFactor(e.challenge, code)
   * @throws {InvalidCredentials|EmailNotVerified|RateLimited|Busy|BadRequest|Unavailable|Internal}
   *   as the node answers; ConnectionLost or Timeout: no answer, a session may have started
   */
  async login(email, password, { deviceToken, clientAddr, timeout } = {}) {
    const fields = withOptional({ email, password }, { device_token: deviceToken, client_addr: clientAddr });
    return Session.fromReply(await this.call('login', fields, { timeout }));
  }

  /**
   * The account of a session token. Resent once after a lost connection.
   * @param {string} token
   * @param {{timeout?: number}} [options]
   * @returns {Promise<User>}
   * @throws {InvalidToken} the token is unknown, expired, logged out or revoked
   */
  async whoami(token, { timeout } = {}) {
    return User.fromJSON((await this.call('whoami', { token }, { timeout })).user);
  }

  /**
   * End the session of `token`. Never resent: a second logout would answer
   * invalid_token.
   * @param {string} token
   * @param {{timeout?: number}} [options]
   * @returns {Promise<void>}
   * @throws {InvalidToken} the token has no live session
   */
  async logout(token, { timeout } = {}) {
    await this.call('logout', { token }, { timeout });
  }

  /**
   * Set a new password for the account of `token`; every other session of
   * the account is revoked, `token` stays valid.
   *
   * @param {string} token a live session token of the account
   * @param {string} oldPassword
   * @param {string} newPassword the rules of register apply
   * @param {{clientAddr?: string, timeout?: number}} [options]
   * @returns {Promise<void>}
   * @throws {InvalidToken|WeakPassword|InvalidCredentials|RateLimited|Busy|BadRequest|Unavailable|Internal}
   */
  async changePassword(token, oldPassword, newPassword, { clientAddr, timeout } = {}) {
    const fields = withOptional(
      { token, old_password: oldPassword, new_password: newPassword },
      { client_addr: clientAddr },
    );
    await this.call('change_password', fields, { timeout });
  }

  /**
   * The node's counters. Resent once after a lost connection.
   * @param {{timeout?: number}} [options]
   * @returns {Promise<Stats>}
   */
  async stats({ timeout } = {}) {
    return Stats.fromJSON((await this.call('stats', {}, { timeout })).stats);
  }

  // -- account codes (docs/protocol.md, "Account codes") -----------------
  //
  // A node without --smtp-url answers all six with Unavailable. A wrong code
  // is InvalidCode, late on purpose like a wrong password. None of them is
  // resent after a lost connection.

  /**
   * Mail a recovery code to `email`, if an enabled account has it and its
   * hourly budget (`--recovery-mails`) is not spent. The answer is the same
   * whether or not the account exists, and comes no sooner than the node's
   * `--recovery-reply-time` (250 ms).
   *
   * @param {string} email the address the user typed
   * @param {{clientAddr?: string, timeout?: number}} [options] `clientAddr`: the
   *   end user's address, for trusted callers (see login); its budget pays
   * @returns {Promise<void>}
   * @throws {InvalidEmail|RateLimited|Unavailable|Internal} Unavailable also
   *   from a node without `--smtp-url`
   */
  async recoveryStart(email, { clientAddr, timeout } = {}) {
    await this.call('recovery_start', withOptional({ email }, { client_addr: clientAddr }), { timeout });
  }

  /**
   * Set `newPassword` with the code from the recovery mail, and log in.
   * Every other session of the account is revoked; its address counts as
   * verified from now on.
   *
   * @param {string} email the account's address
   * @param {string} code as the user typed it (either case, with or without the `-`)
   * @param {string} newPassword the rules of register apply
   * @param {{clientAddr?: string, timeout?: number}} [options]
   * @returns {Promise<Session>} the new session, as login resolves to
   * @throws {SecondFactorRequired} the account has TOTP on: the password is
   *   set and the sessions revoked, but logging in takes loginSecondFactor
   * @throws {InvalidCode|WeakPassword|RateLimited|Busy|Unavailable|Internal}
   *   InvalidCode late, and also for an email without an account
   */
  async recoveryFinish(email, code, newPassword, { clientAddr, timeout } = {}) {
    const fields = withOptional({ email, code, new_password: newPassword }, { client_addr: clientAddr });
    return Session.fromReply(await this.call('recovery_finish', fields, { timeout }));
  }

  /**
   * Mail a verification code to the address of `token`'s account.
   *
   * @param {string} token
   * @param {{timeout?: number}} [options]
   * @returns {Promise<boolean>} whether a code was sent (false: verified already)
   * @throws {InvalidToken|RateLimited|Unavailable|Internal}
   */
  async verifyEmailStart(token, { timeout } = {}) {
    return sentOf(await this.call('verify_email_start', { token }, { timeout }));
  }

  /**
   * Prove the address with the code from the verification mail.
   *
   * @param {string} token
   * @param {string} code
   * @param {{clientAddr?: string, timeout?: number}} [options] `clientAddr` as for login: wrong codes are throttled on it
   * @returns {Promise<User>} the account, `emailVerified` now true
   * @throws {InvalidToken|InvalidCode|RateLimited|Unavailable|Internal} InvalidCode late
   */
  async verifyEmailFinish(token, code, { clientAddr, timeout } = {}) {
    const fields = withOptional({ token, code }, { client_addr: clientAddr });
    return User.fromJSON((await this.call('verify_email_finish', fields, { timeout })).user);
  }

  /**
   * Ask to move the account of `token` to `newEmail`: a code goes to
   * `newEmail`, a notice to the current address.
   *
   * @param {string} token a live session token of the account
   * @param {string} password the account's password, asked again
   * @param {string} newEmail
   * @param {{clientAddr?: string, timeout?: number}} [options]
   * @returns {Promise<void>}
   * @throws {InvalidToken|InvalidEmail|BadRequest|InvalidCredentials|EmailTaken|RateLimited|Unavailable|Internal}
   *   BadRequest: `newEmail` is the current address; InvalidCredentials late
   */
  async changeEmailStart(token, password, newEmail, { clientAddr, timeout } = {}) {
    const fields = withOptional({ token, password, new_email: newEmail }, { client_addr: clientAddr });
    await this.call('change_email_start', fields, { timeout });
  }

  /**
   * Move the account to the new address with the code mailed there;
   * sessions stay.
   *
   * @param {string} token
   * @param {string} code
   * @param {{clientAddr?: string, timeout?: number}} [options] `clientAddr` as for login: wrong codes are throttled on it
   * @returns {Promise<User>} the account at its new address, `emailVerified` true
   * @throws {InvalidToken|InvalidCode|EmailTaken|RateLimited|Unavailable|Internal} InvalidCode late
   */
  async changeEmailFinish(token, code, { clientAddr, timeout } = {}) {
    const fields = withOptional({ token, code }, { client_addr: clientAddr });
    return User.fromJSON((await this.call('change_email_finish', fields, { timeout })).user);
  }

  // -- the second factor (docs/protocol.md, "Second factor: TOTP and
  //    recovery codes") -------------------------------------------------
  //
  // With TOTP on, login and recoveryFinish reject with SecondFactorRequired
  // and loginSecondFactor finishes the login. A code is a TOTP code (6
  // digits, spaces ignored) or, where the node takes one, a recovery code;
  // a wrong, used or replayed one is InvalidCode, late on purpose. A TOTP
  // code is accepted once: its time step is used up for the account, also
  // by totpEnable. None of these methods is resent after a lost connection.

  /**
   * Make a new TOTP seed for the account of `token`, pending until
   * totpEnable confirms it (a new setup replaces a pending one).
   *
   * @param {string} token a live session token of the account
   * @param {{timeout?: number}} [options]
   * @returns {Promise<TotpSetup>} the seed as `secret` (base32) and `uri` (otpauth://, for a QR code)
   * @throws {InvalidToken|Conflict|Unavailable|Internal} Conflict: TOTP is on already
   */
  async totpSetup(token, { timeout } = {}) {
    return TotpSetup.fromReply(await this.call('totp_setup', { token }, { timeout }));
  }

  /**
   * Turn TOTP on with a code of the pending seed; from now on a login needs
   * a code too.
   *
   * @param {string} token
   * @param {string} code the 6 digits the authenticator app shows for the seed of totpSetup
   * @param {{clientAddr?: string, timeout?: number}} [options] `clientAddr` as for login: wrong codes are throttled on it
   * @returns {Promise<string[]>} ten recovery codes (`K7QM-2XPA`), shown this once
   * @throws {InvalidToken|InvalidCode|Conflict|RateLimited|Unavailable|Internal}
   *   Conflict: nothing is pending, or TOTP is on already; InvalidCode late
   */
  async totpEnable(token, code, { clientAddr, timeout } = {}) {
    const fields = withOptional({ token, code }, { client_addr: clientAddr });
    return recoveryCodesOf(await this.call('totp_enable', fields, { timeout }), 'totp_enable');
  }

  /**
   * Turn TOTP off: its seed and the recovery codes are gone, and logins need
   * the password only.
   *
   * @param {string} token
   * @param {string} password the account's password, asked again
   * @param {string} code a TOTP code or a recovery code
   * @param {{clientAddr?: string, timeout?: number}} [options]
   * @returns {Promise<void>}
   * @throws {InvalidToken|InvalidCredentials|InvalidCode|Conflict|RateLimited|Unavailable|Internal}
   *   InvalidCredentials (late, throttled like a login): a wrong password;
   *   Conflict: TOTP is not on
   */
  async totpDisable(token, password, code, { clientAddr, timeout } = {}) {
    const fields = withOptional({ token, password, code }, { client_addr: clientAddr });
    await this.call('totp_disable', fields, { timeout });
  }

  /**
   * Replace the account's recovery codes with ten new ones; the old ones
   * stop working.
   *
   * @param {string} token
   * @param {string} code a TOTP code or a recovery code
   * @param {{clientAddr?: string, timeout?: number}} [options] `clientAddr` as for login: wrong codes are throttled on it
   * @returns {Promise<string[]>} the ten new recovery codes, shown this once
   * @throws {InvalidToken|InvalidCode|Conflict|RateLimited|Unavailable|Internal} Conflict: TOTP is not on
   */
  async recoveryCodesRenew(token, code, { clientAddr, timeout } = {}) {
    const fields = withOptional({ token, code }, { client_addr: clientAddr });
    const reply = await this.call('recovery_codes_renew', fields, { timeout });
    return recoveryCodesOf(reply, 'recovery_codes_renew');
  }

  /**
   * Finish a login that rejected with SecondFactorRequired: its challenge
   * and a TOTP or recovery code start the session. A wrong code leaves the
   * challenge usable until its 5th wrong code or `expiresAt`.
   *
   * @param {string} challenge `challenge` of the SecondFactorRequired error
   * @param {string} code a TOTP code or a recovery code (either case, with or without the `-`)
   * @param {{clientAddr?: string, timeout?: number}} [options] `clientAddr` as for login
   * @returns {Promise<Session>} the session, as login resolves to
   * @throws {InvalidCode|RateLimited|Busy|BadRequest|Unavailable|Internal}
   *   InvalidCode (late): a wrong, used or replayed code, or a challenge
   *   unknown, expired or dead; log in again for a new one
   */
  async loginSecondFactor(challenge, code, { clientAddr, timeout } = {}) {
    const fields = withOptional({ challenge, code }, { client_addr: clientAddr });
    return Session.fromReply(await this.call('login_second_factor', fields, { timeout }));
  }

  // -- passkeys (docs/protocol.md, "Passkeys (WebAuthn)") ----------------
  //
  // The options go to the browser and the credential comes back from it as
  // the WebAuthn JSON forms, unchanged: plain objects, binary members
  // base64url without padding. A node without --webauthn-rp-id answers all
  // six with Unavailable (the message names the option). A failed sign-in is
  // InvalidCredentials, late on purpose like a wrong password. None of these
  // methods is resent after a lost connection.

  /**
   * Start registering a new passkey for the account of `token`.
   *
   * @param {string} token a live session token of the account
   * @param {{name?: string, timeout?: number}} [options] `name`: what to call
   *   the passkey (at most 64 bytes), for its owner to tell them apart; the
   *   node's default ("Passkey") if absent
   * @returns {Promise<object>} the PublicKeyCredentialCreationOptionsJSON (rp,
   *   user, challenge, pubKeyCredParams, timeout, excludeCredentials,
   *   authenticatorSelection, attestation): hand it to the browser unchanged
   *   (PublicKeyCredential.parseCreationOptionsFromJSON), and what
   *   navigator.credentials.create makes of it to passkeyRegisterFinish
   * @throws {InvalidToken|BadRequest|Unavailable|Internal} BadRequest: the
   *   name is too long; Unavailable also from a node without --webauthn-rp-id
   */
  async passkeyRegisterBegin(token, { name, timeout } = {}) {
    const reply = await this.call('passkey_register_begin', withOptional({ token }, { name }), { timeout });
    return optionsOf(reply, 'passkey_register_begin');
  }

  /**
   * Register the passkey the browser made from the options of
   * passkeyRegisterBegin.
   *
   * @param {string} token a live session token of the same account
   * @param {object} credential the browser's RegistrationResponseJSON
   *   (`credential.toJSON()`: id, rawId, type, response with clientDataJSON
   *   and attestationObject), as received
   * @param {{timeout?: number}} [options]
   * @returns {Promise<Passkey>} the new passkey
   * @throws {PasskeyRefused} the credential does not verify (`message` names
   *   the check, e.g. wrong_origin), or its challenge is not a live one of
   *   this account
   * @throws {Conflict|InvalidToken|BadRequest|Unavailable|Internal} Conflict:
   *   the credential is registered already; ConnectionLost or Timeout: no
   *   answer, the passkey may be registered (see passkeysList)
   */
  async passkeyRegisterFinish(token, credential, { timeout } = {}) {
    const reply = await this.call('passkey_register_finish', { token, credential }, { timeout });
    return Passkey.fromJSON(reply.passkey);
  }

  /**
   * Start a passkey sign-in.
   *
   * @param {{email?: string, clientAddr?: string, timeout?: number}} [options]
   *   `email`: the address the user typed, if any: the options then list
   *   that account's passkeys (an email without an account or without
   *   passkeys gets a made-up id, the same every time, so the answer tells
   *   nothing); without it the browser offers whichever passkeys it holds
   *   for the site. `clientAddr` as for login.
   * @returns {Promise<PasskeyLoginOptions>} `challengeId` for
   *   passkeyLoginFinish and `options` (PublicKeyCredentialRequestOptionsJSON)
   *   for navigator.credentials.get
   * @throws {BadRequest|Unavailable|Internal} Unavailable also from a node
   *   without --webauthn-rp-id
   */
  async passkeyLoginBegin(options = {}) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError('passkeyLoginBegin takes an options object: passkeyLoginBegin({ email })');
    }
    const { email, clientAddr, timeout } = options;
    const fields = withOptional({}, { email, client_addr: clientAddr });
    return PasskeyLoginOptions.fromReply(await this.call('passkey_login_begin', fields, { timeout }));
  }

  /**
   * Finish a passkey sign-in with the browser's answer to the options of
   * passkeyLoginBegin, and start a session.
   *
   * @param {string} challengeId `challengeId` of passkeyLoginBegin
   * @param {object} credential the browser's AuthenticationResponseJSON
   *   (`credential.toJSON()`: id, rawId, type, response with clientDataJSON,
   *   authenticatorData, signature and userHandle), as received
   * @param {{clientAddr?: string, deviceToken?: string, timeout?: number}} [options]
   *   `clientAddr` as for login: failed sign-ins are throttled on it;
   *   `deviceToken` as for login: from an earlier sign-in on this device, it
   *   exempts this one from the penalties others' forged assertions earn
   *   the account
   * @returns {Promise<Session>} the session, as login resolves to
   *   (`passwordBreached` false: no password was used; `deviceToken` set
   *   when no valid one was presented)
   * @throws {InvalidCredentials} (late) the assertion failed: an unknown,
   *   expired or used challenge, an unknown credential or another
   *   account's, a bad signature, a counter gone back, a disabled account
   * @throws {SecondFactorRequired} the account has TOTP on and the passkey
   *   did not verify the user: finish with loginSecondFactor, as after a
   *   password
   * @throws {EmailNotVerified|RateLimited|BadRequest|Busy|Unavailable|Internal}
   *   ConnectionLost or Timeout: no answer, a session may have started
   */
  async passkeyLoginFinish(challengeId, credential, { clientAddr, deviceToken, timeout } = {}) {
    const fields = withOptional(
      { challenge_id: challengeId, credential },
      { client_addr: clientAddr, device_token: deviceToken },
    );
    return Session.fromReply(await this.call('passkey_login_finish', fields, { timeout }));
  }

  /**
   * The passkeys of the account of `token`, oldest first.
   *
   * @param {string} token
   * @param {{timeout?: number}} [options]
   * @returns {Promise<Passkey[]>}
   * @throws {InvalidToken|Unavailable|Internal}
   */
  async passkeysList(token, { timeout } = {}) {
    return passkeysOf(await this.call('passkeys_list', { token }, { timeout }));
  }

  /**
   * Delete a passkey of the account of `token`; it signs in no more.
   *
   * @param {string} token
   * @param {string} passkeyId the passkey's `id`
   * @param {{timeout?: number}} [options]
   * @returns {Promise<void>}
   * @throws {NoSuchPasskey} the account has no passkey with that id
   * @throws {InvalidToken|BadRequest|Unavailable|Internal}
   */
  async passkeyDelete(token, passkeyId, { timeout } = {}) {
    await this.call('passkey_delete', { token, passkey_id: passkeyId }, { timeout });
  }

  /**
   * Send any operation and return its raw successful reply (`id` and `ok`
   * included), for operations this version has no method for.
   *
   * @param {string} op the wire name
   * @param {object} [fields] its fields, by wire name (not `id` or `op`)
   * @param {{timeout?: number, retry?: boolean}} [options] `retry`: resend once
   *   after a lost connection; by default only ping, whoami and stats are.
   *   Pass true only for operations that change nothing.
   * @returns {Promise<object>}
   * @throws {AuthnodeError} the node answered "ok": false (a subclass per code)
   * @throws {TransportError} no answer: ConnectFailed, ConnectionLost, Timeout
   */
  async call(op, fields = {}, { timeout, retry } = {}) {
    const spec = specOf(op);
    const limit = timeout ?? (spec.slow ? this.authTimeout : this.timeout);
    const resend = retry ?? (spec.retrySafe && this.retryIdempotent);
    const deadline = performance.now() + limit;
    let retried = false;
    let unsentTries = 0;
    for (;;) {
      const id = this.#ids++;
      const line = encodeRequest(id, op, fields ?? {}, this.maxLine);
      const conn = this.#pick() ?? (await this.#connection(deadline, limit));
      let reply;
      try {
        reply = await conn.request(id, op, line, deadline, limit);
      } catch (e) {
        if (!(e instanceof ConnectionLost)) throw e;
        if (!e.sent && unsentTries < 2) {
          unsentTries += 1; // provably not sent: safe for any op
        } else if (resend && !retried) {
          retried = true;
        } else {
          throw e;
        }
        continue;
      }
      // Outside the try: a reply came, so nothing of checking it (not even
      // the ProtocolError of a malformed refusal) is a lost connection.
      return checkReply(reply, op);
    }
  }

  // -- the pool ---------------------------------------------------------

  #usable(conn) {
    if (conn === null || conn.closed) return false;
    return !(this.maxIdle !== null && conn.inFlight === 0 && conn.idleFor() >= this.maxIdle);
  }

  #live() {
    return this._slots.filter((c) => this.#usable(c));
  }

  // Run `fn` after every earlier locked task: one connect at a time.
  #locked(fn) {
    const run = this.#lock.then(fn);
    this.#lock = run.catch(() => {});
    return run;
  }

  // The least busy usable connection, or null if none is open. Synchronous
  // on purpose: the caller registers its request on the connection before
  // anything else runs, so that concurrent calls see each other's load.
  #pick() {
    if (this.#closed) throw new ConnectionLost('the client is closed; not sent', { sent: false });
    const live = this.#live();
    if (live.length < this.poolSize) this.#startRefill();
    if (live.length === 0) return null;
    return live.reduce((best, c) => (c.inFlight < best.inFlight ? c : best));
  }

  // A connection for a call that found none open: open one now (broken slots
  // beyond that are refilled in the background).
  async #connection(deadline, limit) {
    for (;;) {
      const conn = this.#pick();
      if (conn !== null) return conn;
      const opened = await this.#locked(async () => {
        if (this.#live().length > 0) return null; // another call opened one
        const slot = this._slots.findIndex((c) => !this.#usable(c));
        return this.#replace(slot, deadline, limit);
      });
      if (opened !== null && !opened.closed) return opened;
    }
  }

  async #replace(slot, deadline, limit = this.connectTimeout) {
    const old = this._slots[slot];
    this._slots[slot] = null;
    if (old !== null) await old.close();
    const conn = await this.#open(deadline, limit);
    if (this.#closed) {
      await conn.close();
      throw new ConnectionLost('the client is closed; not sent', { sent: false });
    }
    this._slots[slot] = conn;
    return conn;
  }

  #startRefill() {
    if (this.#refilling !== null) return;
    this.#refilling = this.#locked(async () => {
      for (let i = 0; i < this.poolSize && !this.#closed; i++) {
        if (!this.#usable(this._slots[i])) await this.#replace(i, performance.now() + this.connectTimeout);
      }
    })
      .catch(() => {}) // left for a later call to find
      .finally(() => {
        this.#refilling = null;
      });
  }

  #open(deadline, limit) {
    const wait = Math.min(this.connectTimeout, deadline - performance.now());
    if (wait <= 0) {
      return Promise.reject(new Timeout(`no time left to connect to ${this.host}:${this.port}`, { timeout: limit }));
    }
    const peer = `${this.host}:${this.port}`;
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: this.host, port: this.port, localAddress: this.localAddress });
      const fail = (why, cause) => {
        clearTimeout(timer);
        socket.destroy();
        reject(new ConnectFailed(`cannot connect to ${peer}: ${why}`, { cause }));
      };
      const timer = setTimeout(() => fail(`no connection within ${Math.round(wait)} ms`), wait);
      socket.once('error', (err) => fail(err.message, err));
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        socket.setNoDelay(true);
        resolve(new Connection(socket, peer));
      });
    });
  }
}
