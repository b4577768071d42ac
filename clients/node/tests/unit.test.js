// Without a node: reply parsing, the error table, and transport cases a
// real node cannot be made to show on demand (replies in reverse order, a
// connection dropped right after a request, garbage, silence), played by a
// fake node on a local port.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { describe, it, after } from 'node:test';
import { inspect } from 'node:util';
import * as authnode from '../index.js';
import { decodeReply, encodeRequest, sentOf } from '../lib/protocol.js';
import { FakeNode } from './support.js';

const USER = {
  id: 7, email: 'ann@example.org', name: 'Ann', created_at: '2026-11-25T14:58:01Z', last_login_at: null,
  email_verified: false, second_factors: [],
};
const TOKEN = 'T'.repeat(43);
const CODE = 'K7QM-2XPA';

/** Every code of docs/protocol.md's error table and its class. */
const EXPECTED_CLASSES = {
  bad_json: authnode.BadJson,
  bad_request: authnode.BadRequest,
  unknown_op: authnode.UnknownOp,
  line_too_long: authnode.LineTooLong,
  busy: authnode.Busy,
  unavailable: authnode.Unavailable,
  internal: authnode.Internal,
  invalid_email: authnode.InvalidEmail,
  weak_password: authnode.WeakPassword,
  email_taken: authnode.EmailTaken,
  invalid_credentials: authnode.InvalidCredentials,
  invalid_token: authnode.InvalidToken,
  forbidden: authnode.Forbidden,
  no_such_user: authnode.NoSuchUser,
  exists: authnode.Exists,
  backup_failed: authnode.BackupFailed,
  invalid_code: authnode.InvalidCode,
  email_not_verified: authnode.EmailNotVerified,
  rate_limited: authnode.RateLimited,
  second_factor_required: authnode.SecondFactorRequired,
  conflict: authnode.Conflict,
  breached_password: authnode.BreachedPassword,
  passkey_refused: authnode.PasskeyRefused,
  no_such_passkey: authnode.NoSuchPasskey,
};

const CHALLENGE = 'C'.repeat(43);
const SECRET = 'P5WGMYANR6HNLROKGR7SNIO4N23XVPA5';
const RECOVERY_CODES = Array.from({ length: 10 }, (_, i) => `K7QM-2XP${i}`);

/** A second_factor_required reply as the node sends it (docs/protocol.md). */
const SECOND_FACTOR_REQUIRED = {
  id: 1,
  ok: false,
  error: { code: 'second_factor_required', message: 'the password is right; a second factor is needed to log in' },
  challenge: CHALLENGE,
  methods: ['totp', 'recovery_code'],
  expires_at: '2026-12-03T13:05:00Z',
};

/** The requests the second factor's methods of these tests send (less `id`). */
const SECOND_FACTOR_OPS_ON_THE_WIRE = [
  { op: 'totp_setup', token: TOKEN },
  { op: 'totp_enable', token: TOKEN, code: '492039', client_addr: '203.0.113.9' },
  { op: 'recovery_codes_renew', token: TOKEN, code: CODE, client_addr: '203.0.113.9' },
  { op: 'totp_disable', token: TOKEN, password: 'correct horse', code: '492039', client_addr: '203.0.113.9' },
  { op: 'login_second_factor', challenge: CHALLENGE, code: '492 039' },
];

/** A passkey object as the node sends it, and options and credentials the client passes through. */
const PASSKEY = { id: 'Y3JlZC0x', name: 'laptop', created_at: '2026-11-25T14:58:01Z', last_used_at: null };
const CREATION_OPTIONS = {
  rp: { id: 'example.com', name: 'Example' },
  user: { id: 'aGFuZGxl', name: 'ann@example.org', displayName: 'Ann' },
  challenge: 'Y2hhbGxlbmdl',
  pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
  timeout: 300000,
  excludeCredentials: [],
  authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
  attestation: 'none',
};
const REQUEST_OPTIONS = {
  challenge: 'Y2hhbGxlbmdl',
  timeout: 300000,
  rpId: 'example.com',
  allowCredentials: [{ type: 'public-key', id: 'Y3JlZC0x' }],
  userVerification: 'preferred',
};
const REGISTRATION = {
  id: 'Y3JlZC0x', rawId: 'Y3JlZC0x', type: 'public-key',
  response: { clientDataJSON: 'e30', attestationObject: 'oA', transports: ['internal'] },
  clientExtensionResults: {},
};
const ASSERTION = {
  id: 'Y3JlZC0x', rawId: 'Y3JlZC0x', type: 'public-key',
  response: { clientDataJSON: 'e30', authenticatorData: 'AA', signature: 'AA', userHandle: 'aGFuZGxl' },
  clientExtensionResults: {},
};

/** The requests the passkey methods of these tests send (less `id`). */
const PASSKEY_OPS_ON_THE_WIRE = [
  { op: 'passkey_register_begin', token: TOKEN, name: 'laptop' },
  { op: 'passkey_register_begin', token: TOKEN },
  { op: 'passkey_register_finish', token: TOKEN, credential: REGISTRATION },
  { op: 'passkeys_list', token: TOKEN },
  { op: 'passkey_login_begin', email: 'ann@example.org', client_addr: '203.0.113.9' },
  { op: 'passkey_login_begin' },
  {
    op: 'passkey_login_finish', challenge_id: CHALLENGE, credential: ASSERTION, client_addr: '203.0.113.9', device_token: 'device-1',
  },
  { op: 'passkey_delete', token: TOKEN, passkey_id: 'Y3JlZC0x' },
];

/** The requests the account codes' methods of these tests send (less `id`). */
const CODE_OPS_ON_THE_WIRE = [
  { op: 'recovery_start', email: 'a@example.org', client_addr: '203.0.113.9' },
  { op: 'recovery_finish', email: 'a@example.org', code: CODE, new_password: 'a new secret' },
  { op: 'verify_email_start', token: TOKEN },
  { op: 'verify_email_finish', token: TOKEN, code: CODE, client_addr: '203.0.113.9' },
  { op: 'change_email_start', token: TOKEN, password: 'correct horse', new_email: 'b@example.org' },
  { op: 'change_email_finish', token: TOKEN, code: CODE, client_addr: '203.0.113.9' },
];

/** What the fake node answers to a request. */
function answer(req) {
  const reply = { id: req.id, ok: true };
  if (['whoami', 'register', 'verify_email_finish', 'change_email_finish'].includes(req.op)) reply.user = { ...USER };
  if (req.op === 'verify_email_start') reply.sent = true;
  if (['login', 'recovery_finish', 'login_second_factor', 'passkey_login_finish'].includes(req.op)) Object.assign(reply, { token: TOKEN, expires_at: '2026-11-26T14:58:01Z', user: { ...USER } });
  if (req.op === 'totp_setup') Object.assign(reply, { secret: SECRET, uri: `otpauth://totp/authnode:ann%40example.org?secret=${SECRET}&issuer=authnode` });
  if (req.op === 'totp_enable' || req.op === 'recovery_codes_renew') reply.recovery_codes = [...RECOVERY_CODES];
  if (req.op === 'stats') reply.stats = { connections: 1, uptime_seconds: 3 };
  if (req.op === 'passkey_register_begin') reply.options = { ...CREATION_OPTIONS };
  if (req.op === 'passkey_register_finish') reply.passkey = { ...PASSKEY };
  if (req.op === 'passkey_login_begin') Object.assign(reply, { challenge_id: CHALLENGE, options: { ...REQUEST_OPTIONS } });
  if (req.op === 'passkeys_list') reply.passkeys = [{ ...PASSKEY }, { ...PASSKEY, id: 'Y3JlZC0y', last_used_at: '2026-11-26T09:00:00Z' }];
  return reply;
}

async function serveForever(peer) {
  for (;;) {
    const [req] = await peer.readLines(1, 30_000);
    peer.write(answer(req));
  }
}

const cleanups = [];
after(async () => {
  for (const done of cleanups.reverse()) await done();
});

async function fake(handler) {
  const f = await FakeNode.start(handler);
  cleanups.push(() => f.close());
  return f;
}

async function client(port, options) {
  const c = await authnode.Client.connect('127.0.0.1', port, { poolSize: 1, ...options });
  cleanups.push(() => c.close());
  return c;
}

const ops = (f) => f.lines.map((r) => r.op);

describe('the error table', () => {
  it('has a class for every code of the protocol', () => {
    assert.deepEqual({ ...authnode.ERROR_CLASSES }, EXPECTED_CLASSES);
    for (const [code, Cls] of Object.entries(EXPECTED_CLASSES)) {
      const more = code === 'second_factor_required' ? SECOND_FACTOR_REQUIRED : {};
      const err = authnode.errorFromReply({ ...more, id: 1, ok: false, error: { code, message: 'm' } }, 'login');
      assert.equal(err.constructor, Cls);
      assert.ok(err instanceof authnode.AuthnodeError);
      assert.ok(err instanceof authnode.AuthnodeClientError);
      assert.ok(err instanceof Error);
      assert.equal(err.name, Cls.name);
      assert.deepEqual([err.code, err.message, err.retryAfterMs, err.op], [code, 'm', null, 'login']);
    }
  });

  it('carries retryAfterMs', () => {
    const err = authnode.errorFromReply({ ok: false, error: { code: 'rate_limited', message: 'm', retry_after_ms: 1650 } });
    assert.ok(err instanceof authnode.RateLimited);
    assert.equal(err.retryAfterMs, 1650);
  });

  it('carries the challenge of second_factor_required', () => {
    const err = authnode.errorFromReply(SECOND_FACTOR_REQUIRED, 'login');
    assert.ok(err instanceof authnode.SecondFactorRequired);
    assert.equal(err.challenge, CHALLENGE);
    assert.deepEqual(err.methods, ['totp', 'recovery_code']);
    assert.ok(err.expiresAt instanceof Date);
    assert.equal(err.expiresAt.toISOString(), '2026-12-03T13:05:00.000Z');
    assert.equal(err.retryAfterMs, null);
    const made = new authnode.SecondFactorRequired('second_factor_required', 'm', {
      challenge: 'c', methods: ['totp'], expiresAt: new Date(0),
    });
    assert.deepEqual([made.challenge, made.methods, made.expiresAt.getTime()], ['c', ['totp'], 0]);
  });

  it('throws ProtocolError for a second_factor_required without its members', () => {
    for (const member of ['challenge', 'methods', 'expires_at']) {
      const { [member]: _, ...reply } = SECOND_FACTOR_REQUIRED;
      assert.throws(() => authnode.errorFromReply(reply, 'login'), authnode.ProtocolError, member);
    }
    for (const bad of [{ challenge: 7 }, { methods: 'totp' }, { methods: ['totp', 1] }, { expires_at: 'in 5 minutes' }]) {
      assert.throws(() => authnode.errorFromReply({ ...SECOND_FACTOR_REQUIRED, ...bad }), authnode.ProtocolError);
    }
  });

  it('keeps the challenge out of inspect output', () => {
    const err = authnode.errorFromReply(SECOND_FACTOR_REQUIRED, 'login');
    const text = `${err.message} ${inspect(err, { depth: 5 })}`;
    assert.ok(!text.includes(CHALLENGE), text);
    assert.match(text, /SecondFactorRequired/);
    assert.match(text, /recovery_code/);
  });

  it('gives the base class for a code it does not know and keeps the code', () => {
    const err = authnode.errorFromReply({ ok: false, error: { code: 'quota_exceeded', message: 'm', hint: 1 } });
    assert.equal(err.constructor, authnode.AuthnodeError);
    assert.equal(err.code, 'quota_exceeded');
    assert.equal(err.reply.error.hint, 1);
  });

  it('keeps transport errors apart from node answers', () => {
    for (const Cls of [authnode.ConnectionLost, authnode.Timeout, authnode.ConnectFailed, authnode.ProtocolError]) {
      assert.ok(Cls.prototype instanceof authnode.TransportError);
      assert.ok(!(Cls.prototype instanceof authnode.AuthnodeError));
    }
    assert.ok(authnode.ProtocolError.prototype instanceof authnode.ConnectionLost);
  });

  it('resends only the read-only ops', () => {
    assert.deepEqual([...authnode.RETRY_SAFE_OPS].sort(), ['ping', 'stats', 'whoami']);
  });
});

describe('the type declarations', () => {
  it('declare every export of the package and nothing else', () => {
    const dts = readFileSync(new URL('../index.d.ts', import.meta.url), 'utf8');
    const declared = [...dts.matchAll(/^export (?:class|const|function) (\w+)/gm)].map((m) => m[1]).sort();
    assert.deepEqual(declared, Object.keys(authnode).sort());
  });
});

describe('parsing', () => {
  it('puts unknown members in extra', () => {
    const s = authnode.Session.fromReply({
      id: 1,
      ok: true,
      token: TOKEN,
      expires_at: '2026-11-26T14:58:01Z',
      user: { ...USER, avatar: 'a.png', last_login_at: '2026-11-25T15:00:00Z' },
      mfa: { required: false },
    });
    assert.deepEqual(s.user.extra, { avatar: 'a.png' });
    assert.deepEqual(s.extra, { mfa: { required: false } });
    assert.equal(s.deviceToken, null);
    assert.equal(s.user.lastLoginAt.toISOString(), '2026-11-25T15:00:00.000Z');
    assert.ok(s.user instanceof authnode.User);
    const stats = authnode.Stats.fromJSON({ connections: 2, requests_total: 9, sessions_live: 5 });
    assert.deepEqual([stats.connections, stats.requestsTotal, stats.loginsOk], [2, 9, 0]);
    assert.deepEqual(stats.extra, { sessions_live: 5 });
  });

  it('knows email_verified of the user', () => {
    const user = authnode.User.fromJSON({ ...USER, email_verified: true });
    assert.equal(user.emailVerified, true);
    assert.deepEqual(user.extra, {});
    assert.equal(authnode.User.fromJSON(USER).emailVerified, false);
    // A node older than account codes sends none: it verifies nothing.
    const { email_verified: _, ...older } = USER;
    assert.equal(authnode.User.fromJSON(older).emailVerified, false);
    assert.throws(() => authnode.User.fromJSON({ ...USER, email_verified: 'yes' }), authnode.ProtocolError);
  });

  it('knows the mail counters of stats', () => {
    const stats = authnode.Stats.fromJSON({
      connections: 1, mails_sent_total: 4, mails_failed_total: 2, mails_dropped_total: 1, outbox_depth: 3,
    });
    assert.deepEqual(
      [stats.mailsSentTotal, stats.mailsFailedTotal, stats.mailsDroppedTotal, stats.outboxDepth], [4, 2, 1, 3],
    );
    assert.deepEqual(stats.extra, {});
    assert.equal(authnode.Stats.fromJSON({}).outboxDepth, 0);
    assert.throws(() => authnode.Stats.fromJSON({ outbox_depth: '3' }), authnode.ProtocolError);
  });

  it('knows second_factors of the user', () => {
    assert.deepEqual(authnode.User.fromJSON(USER).secondFactors, []);
    const on = authnode.User.fromJSON({ ...USER, second_factors: ['totp', 'recovery_code'] });
    assert.deepEqual(on.secondFactors, ['totp', 'recovery_code']);
    assert.deepEqual(on.extra, {});
    // A node older than the second factor sends none: it asks for none.
    const { second_factors: _, ...older } = USER;
    assert.deepEqual(authnode.User.fromJSON(older).secondFactors, []);
    assert.throws(() => authnode.User.fromJSON({ ...USER, second_factors: 'totp' }), authnode.ProtocolError);
    assert.throws(() => authnode.User.fromJSON({ ...USER, second_factors: [1] }), authnode.ProtocolError);
  });

  it('knows the second-factor counters of stats', () => {
    const stats = authnode.Stats.fromJSON({
      second_factor_challenges_total: 3, second_factor_ok_total: 2, second_factor_failed_total: 1,
    });
    assert.deepEqual(
      [stats.secondFactorChallengesTotal, stats.secondFactorOkTotal, stats.secondFactorFailedTotal], [3, 2, 1],
    );
    assert.deepEqual(stats.extra, {});
  });

  it('reads password_breached of a grant and the breached members of stats', () => {
    const grant = { ok: true, token: TOKEN, expires_at: '2026-11-26T14:58:01Z', user: USER };
    assert.equal(authnode.Session.fromReply(grant).passwordBreached, false);
    const breached = authnode.Session.fromReply({ ...grant, password_breached: true });
    assert.equal(breached.passwordBreached, true);
    assert.deepEqual(breached.extra, {});
    assert.throws(() => authnode.Session.fromReply({ ...grant, password_breached: 'yes' }), authnode.ProtocolError);
    const firstStep = authnode.errorFromReply({ ...SECOND_FACTOR_REQUIRED, password_breached: true }, 'login');
    assert.equal(firstStep.passwordBreached, true);
    assert.equal(authnode.errorFromReply(SECOND_FACTOR_REQUIRED, 'login').passwordBreached, false);
    const stats = authnode.Stats.fromJSON({ breached_passwords: 'on', breached_index_entries: 7 });
    assert.deepEqual([stats.breachedPasswords, stats.breachedIndexEntries], ['on', 7]);
    assert.deepEqual(stats.extra, {});
  });

  it('parses a totp_setup reply and keeps the seed out of inspect output', () => {
    const setup = authnode.TotpSetup.fromReply({ id: 1, ok: true, secret: SECRET, uri: `otpauth://totp/x?secret=${SECRET}`, qr: 1 });
    assert.equal(setup.secret, SECRET);
    assert.deepEqual(setup.extra, { qr: 1 });
    const text = inspect(setup, { depth: 5 });
    assert.ok(!text.includes(SECRET), text);
    assert.throws(() => authnode.TotpSetup.fromReply({ ok: true, secret: SECRET }), authnode.ProtocolError);
  });

  it('parses passkeys and the passkey options', () => {
    const passkey = authnode.Passkey.fromJSON({ ...PASSKEY, backed_up: true });
    assert.ok(passkey instanceof authnode.Passkey);
    assert.deepEqual([passkey.id, passkey.name, passkey.lastUsedAt], ['Y3JlZC0x', 'laptop', null]);
    assert.equal(passkey.createdAt.toISOString(), '2026-11-25T14:58:01.000Z');
    assert.deepEqual(passkey.extra, { backed_up: true });
    const used = authnode.Passkey.fromJSON({ ...PASSKEY, last_used_at: '2026-11-26T09:00:00Z' });
    assert.equal(used.lastUsedAt.toISOString(), '2026-11-26T09:00:00.000Z');
    const { name: _, ...nameless } = PASSKEY;
    for (const bad of [{ ...PASSKEY, id: 1 }, { ...PASSKEY, created_at: 'yesterday' }, { ...PASSKEY, last_used_at: 5 }, nameless, 'x']) {
      assert.throws(() => authnode.Passkey.fromJSON(bad), authnode.ProtocolError, JSON.stringify(bad));
    }
    const begun = authnode.PasskeyLoginOptions.fromReply({ id: 1, ok: true, challenge_id: CHALLENGE, options: REQUEST_OPTIONS, hint: 1 });
    assert.ok(begun instanceof authnode.PasskeyLoginOptions);
    assert.deepEqual([begun.challengeId, begun.options, begun.extra], [CHALLENGE, REQUEST_OPTIONS, { hint: 1 }]);
    for (const bad of [{ ok: true, options: REQUEST_OPTIONS }, { ok: true, challenge_id: CHALLENGE }, { ok: true, challenge_id: CHALLENGE, options: [] }]) {
      assert.throws(() => authnode.PasskeyLoginOptions.fromReply(bad), authnode.ProtocolError, JSON.stringify(bad));
    }
  });

  it('needs the sent member of a verify_email_start reply', () => {
    assert.equal(sentOf({ ok: true, sent: false }), false);
    assert.throws(() => sentOf({ ok: true }), authnode.ProtocolError);
  });

  it('keeps codes and passwords out of error messages', () => {
    const err = authnode.errorFromReply(
      { id: 1, ok: false, error: { code: 'invalid_code', message: 'wrong or expired code' } }, 'recovery_finish',
    );
    assert.equal(err.message, 'wrong or expired code');
    const long = (() => {
      try {
        encodeRequest(1, 'recovery_finish', { code: CODE, new_password: 's3cret'.repeat(20) }, 64);
      } catch (e) {
        return e;
      }
      return null;
    })();
    assert.ok(long instanceof authnode.LineTooLong);
    const text = `${long.message} ${inspect(long)}`;
    assert.ok(!text.includes(CODE) && !text.includes('s3cret'), text);
  });

  it('keeps the tokens out of inspect output', () => {
    const s = authnode.Session.fromReply({
      ok: true, token: TOKEN, expires_at: '2026-11-26T14:58:01Z', user: USER, device_token: 'D'.repeat(43),
    });
    const text = inspect(s, { depth: 5 });
    assert.ok(!text.includes(TOKEN), text);
    assert.ok(!text.includes('D'.repeat(43)), text);
    assert.ok(text.includes('ann@example.org'), text);
  });

  it('throws ProtocolError for a reply missing what the client relies on', () => {
    assert.throws(() => authnode.User.fromJSON({ ...USER, id: 'seven' }), authnode.ProtocolError);
    assert.throws(() => authnode.User.fromJSON({ ...USER, created_at: 'yesterday' }), authnode.ProtocolError);
    assert.throws(() => decodeReply(Buffer.from('[1,2]')), authnode.ProtocolError);
    assert.throws(() => decodeReply(Buffer.from('not json')), authnode.ProtocolError);
  });

  it('writes each request as one line with id and op first', () => {
    const line = encodeRequest(5, 'login', { email: 'a\nb', password: 'p\u00e9' }, 1000);
    assert.equal(line.toString('utf8'), '{"id":5,"op":"login","email":"a\\nb","password":"p\u00e9"}\n');
    assert.equal(line.toString('utf8').split('\n').length, 2);
    assert.throws(() => encodeRequest(5, 'login', { password: 'x'.repeat(100) }, 64), authnode.LineTooLong);
    assert.throws(() => encodeRequest(5, 'ping', { id: 3 }, 1000), TypeError);
  });

  it('checks the options', () => {
    assert.throws(() => new authnode.Client('127.0.0.1', 1, { poolSize: 0 }), RangeError);
    assert.throws(() => new authnode.Client('127.0.0.1', 1, { timeout: -1 }), RangeError);
  });
});

describe('a fake node', () => {
  it('answers in reverse order and every reply reaches its caller', async () => {
    const f = await fake(async (peer) => {
      const reqs = await peer.readLines(3);
      for (const req of reqs.reverse()) peer.write(answer(req));
      await serveForever(peer);
    });
    const c = await client(f.port);
    const order = [];
    const tagged = (name, promise) => promise.finally(() => order.push(name));
    const [session, stats, pong] = await Promise.all([
      tagged('login', c.login('ann@example.org', 'pw')),
      tagged('stats', c.stats()),
      tagged('ping', c.ping()),
    ]);
    assert.deepEqual(order, ['ping', 'stats', 'login']);
    assert.equal(session.token, TOKEN);
    assert.equal(stats.uptimeSeconds, 3);
    assert.equal(pong, undefined);
  });

  it('resends a read-only request once only', async () => {
    // The first two connections are dropped right after their first request
    // arrives; later ones are served.
    const f = await fake(async (peer, index) => {
      if (index < 2) {
        await peer.readLines(1);
        return;
      }
      await serveForever(peer);
    });
    const c = await client(f.port);
    await assert.rejects(c.ping(), authnode.ConnectionLost); // dropped on 0, resent on 1, dropped again
    assert.deepEqual(ops(f), ['ping', 'ping']);
    await c.ping(); // connection 2
    assert.equal(f.lines.length, 3);
  });

  it('does not resend a register after a lost connection', async () => {
    const f = await fake(async (peer, index) => {
      if (index === 0) {
        await peer.readLines(1);
        return;
      }
      await serveForever(peer);
    });
    const c = await client(f.port);
    const err = await c.register('ann@example.org', 'correct horse', 'Ann').catch((e) => e);
    assert.ok(err instanceof authnode.ConnectionLost, String(err));
    assert.equal(err.sent, true);
    assert.equal(err.op, 'register');
    assert.match(err.message, /may have taken effect/);
    assert.deepEqual(ops(f), ['register']);
    assert.equal((await c.whoami(TOKEN)).id, 7); // the next call reconnects
    assert.deepEqual(ops(f), ['register', 'whoami']);
  });

  it('sends the fields of the account codes and parses their replies', async () => {
    const f = await fake(serveForever);
    const c = await client(f.port);
    assert.equal(await c.recoveryStart('a@example.org', { clientAddr: '203.0.113.9' }), undefined);
    const session = await c.recoveryFinish('a@example.org', CODE, 'a new secret');
    assert.ok(session instanceof authnode.Session);
    assert.equal(session.token, TOKEN);
    assert.equal(await c.verifyEmailStart(TOKEN), true);
    assert.ok((await c.verifyEmailFinish(TOKEN, CODE, { clientAddr: '203.0.113.9' })) instanceof authnode.User);
    assert.equal(await c.changeEmailStart(TOKEN, 'correct horse', 'b@example.org'), undefined);
    assert.equal((await c.changeEmailFinish(TOKEN, CODE, { clientAddr: '203.0.113.9' })).id, 7);
    assert.deepEqual(f.lines.map(({ id, ...rest }) => rest), CODE_OPS_ON_THE_WIRE);
  });

  it('sends the fields of the second factor and parses their replies', async () => {
    const f = await fake(serveForever);
    const c = await client(f.port);
    const setup = await c.totpSetup(TOKEN);
    assert.ok(setup instanceof authnode.TotpSetup);
    assert.equal(setup.secret, SECRET);
    assert.deepEqual(await c.totpEnable(TOKEN, '492039', { clientAddr: '203.0.113.9' }), RECOVERY_CODES);
    assert.deepEqual(await c.recoveryCodesRenew(TOKEN, CODE, { clientAddr: '203.0.113.9' }), RECOVERY_CODES);
    assert.equal(await c.totpDisable(TOKEN, 'correct horse', '492039', { clientAddr: '203.0.113.9' }), undefined);
    const session = await c.loginSecondFactor(CHALLENGE, '492 039');
    assert.ok(session instanceof authnode.Session);
    assert.equal(session.token, TOKEN);
    assert.deepEqual(f.lines.map(({ id, ...rest }) => rest), SECOND_FACTOR_OPS_ON_THE_WIRE);
  });

  it('sends the fields of the passkey methods and parses their replies', async () => {
    const f = await fake(serveForever);
    const c = await client(f.port);
    assert.deepEqual(await c.passkeyRegisterBegin(TOKEN, { name: 'laptop' }), CREATION_OPTIONS);
    assert.equal((await c.passkeyRegisterBegin(TOKEN)).rp.id, 'example.com');
    const passkey = await c.passkeyRegisterFinish(TOKEN, REGISTRATION);
    assert.ok(passkey instanceof authnode.Passkey);
    assert.deepEqual([passkey.id, passkey.name], ['Y3JlZC0x', 'laptop']);
    const listed = await c.passkeysList(TOKEN);
    assert.deepEqual(listed.map((p) => p.id), ['Y3JlZC0x', 'Y3JlZC0y']);
    assert.deepEqual(listed[0], passkey);
    assert.ok(listed[1].lastUsedAt instanceof Date);
    const begun = await c.passkeyLoginBegin({ email: 'ann@example.org', clientAddr: '203.0.113.9' });
    assert.ok(begun instanceof authnode.PasskeyLoginOptions);
    assert.deepEqual([begun.challengeId, begun.options], [CHALLENGE, REQUEST_OPTIONS]);
    assert.equal((await c.passkeyLoginBegin()).challengeId, CHALLENGE);
    const session = await c.passkeyLoginFinish(CHALLENGE, ASSERTION, { clientAddr: '203.0.113.9', deviceToken: 'device-1' });
    assert.ok(session instanceof authnode.Session);
    assert.equal(session.token, TOKEN);
    assert.equal(await c.passkeyDelete(TOKEN, 'Y3JlZC0x'), undefined);
    assert.deepEqual(f.lines.map(({ id, ...rest }) => rest), PASSKEY_OPS_ON_THE_WIRE);
    // An email where the options belong is a mistake, not a sign-in of any passkey.
    await assert.rejects(c.passkeyLoginBegin('ann@example.org'), TypeError);
    assert.equal(f.lines.length, PASSKEY_OPS_ON_THE_WIRE.length);
  });

  it('rejects the passkey refusals with their classes', async () => {
    const refusals = {
      passkey_register_finish: ['passkey_refused', 'wrong_origin'],
      passkey_delete: ['no_such_passkey', 'no such passkey'],
      passkey_login_finish: ['second_factor_required', 'a second factor is needed'],
    };
    const f = await fake(async (peer) => {
      for (;;) {
        const [req] = await peer.readLines(1, 30_000);
        const [code, message] = refusals[req.op];
        peer.write({ ...SECOND_FACTOR_REQUIRED, id: req.id, error: { code, message } });
      }
    });
    const c = await client(f.port);
    const refused = await c.passkeyRegisterFinish(TOKEN, REGISTRATION).catch((e) => e);
    assert.ok(refused instanceof authnode.PasskeyRefused, String(refused));
    assert.deepEqual([refused.op, refused.message], ['passkey_register_finish', 'wrong_origin']);
    await assert.rejects(c.passkeyDelete(TOKEN, 'Y3JlZC0x'), authnode.NoSuchPasskey);
    const second = await c.passkeyLoginFinish(CHALLENGE, ASSERTION).catch((e) => e);
    assert.ok(second instanceof authnode.SecondFactorRequired, String(second));
    assert.deepEqual([second.op, second.challenge], ['passkey_login_finish', CHALLENGE]);
  });

  it('rejects passkey replies without what the client relies on', async () => {
    const f = await fake(async (peer) => {
      for (;;) {
        const [req] = await peer.readLines(1, 30_000);
        peer.write({ id: req.id, ok: true, options: 'x', passkeys: {}, passkey: null });
      }
    });
    const c = await client(f.port);
    await assert.rejects(c.passkeyRegisterBegin(TOKEN), authnode.ProtocolError);
    await assert.rejects(c.passkeyRegisterFinish(TOKEN, REGISTRATION), authnode.ProtocolError);
    await assert.rejects(c.passkeyLoginBegin(), authnode.ProtocolError);
    await assert.rejects(c.passkeysList(TOKEN), authnode.ProtocolError);
  });

  it('throws SecondFactorRequired from login and ProtocolError for a malformed one', async () => {
    const f = await fake(async (peer) => {
      const [first] = await peer.readLines(1);
      peer.write({ ...SECOND_FACTOR_REQUIRED, id: first.id });
      const [second] = await peer.readLines(1);
      const { challenge: _, ...malformed } = SECOND_FACTOR_REQUIRED;
      peer.write({ ...malformed, id: second.id });
      await serveForever(peer);
    });
    const c = await client(f.port);
    const err = await c.login('ann@example.org', 'correct horse').catch((e) => e);
    assert.ok(err instanceof authnode.SecondFactorRequired, String(err));
    assert.deepEqual([err.op, err.challenge], ['login', CHALLENGE]);
    await assert.rejects(c.login('ann@example.org', 'correct horse'), authnode.ProtocolError);
    await c.ping(); // the connection stays
    assert.deepEqual(ops(f), ['login', 'login', 'ping']);
  });

  it('rejects a breached password with BreachedPassword and the node\'s sentence', async () => {
    const message = 'this password is in a list of breached passwords; choose another';
    const f = await fake(async (peer) => {
      const [req] = await peer.readLines(1);
      peer.write({ id: req.id, ok: false, error: { code: 'breached_password', message } });
      await serveForever(peer);
    });
    const c = await client(f.port);
    const err = await c.register('ann@example.org', 'password1', 'Ann').catch((e) => e);
    assert.ok(err instanceof authnode.BreachedPassword, String(err));
    assert.ok(err.message.includes('breached'));
    assert.ok(!err.message.includes('password1'));
  });

  it('rejects a recovery_codes member that is not a list of strings', async () => {
    const f = await fake(async (peer) => {
      for (;;) {
        const [req] = await peer.readLines(1, 30_000);
        peer.write({ id: req.id, ok: true, recovery_codes: 'K7QM-2XPA' });
      }
    });
    const c = await client(f.port);
    await assert.rejects(c.totpEnable(TOKEN, '492039'), authnode.ProtocolError);
    await assert.rejects(c.recoveryCodesRenew(TOKEN, '492039'), authnode.ProtocolError);
  });

  it('fails each unsafe op and retries each safe op', async () => {
    // The first request of each op kills its connection; later ones are answered.
    const seen = new Set();
    const f = await fake(async (peer) => {
      for (;;) {
        const [req] = await peer.readLines(1, 30_000);
        if (!seen.has(req.op)) {
          seen.add(req.op);
          return;
        }
        peer.write(answer(req));
      }
    });
    const c = await client(f.port);
    const calls = {
      ping: () => c.ping(),
      whoami: () => c.whoami(TOKEN),
      stats: () => c.stats(),
      register: () => c.register('a@example.org', 'p'.repeat(8), 'A'),
      login: () => c.login('a@example.org', 'p'.repeat(8)),
      logout: () => c.logout(TOKEN),
      change_password: () => c.changePassword(TOKEN, 'p'.repeat(8), 'q'.repeat(8)),
      recovery_start: () => c.recoveryStart('a@example.org'),
      recovery_finish: () => c.recoveryFinish('a@example.org', CODE, 'q'.repeat(8)),
      verify_email_start: () => c.verifyEmailStart(TOKEN),
      verify_email_finish: () => c.verifyEmailFinish(TOKEN, CODE),
      change_email_start: () => c.changeEmailStart(TOKEN, 'p'.repeat(8), 'b@example.org'),
      change_email_finish: () => c.changeEmailFinish(TOKEN, CODE),
      totp_setup: () => c.totpSetup(TOKEN),
      totp_enable: () => c.totpEnable(TOKEN, '492039'),
      totp_disable: () => c.totpDisable(TOKEN, 'p'.repeat(8), '492039'),
      recovery_codes_renew: () => c.recoveryCodesRenew(TOKEN, CODE),
      login_second_factor: () => c.loginSecondFactor(CHALLENGE, '492039'),
      passkey_register_begin: () => c.passkeyRegisterBegin(TOKEN),
      passkey_register_finish: () => c.passkeyRegisterFinish(TOKEN, REGISTRATION),
      passkey_login_begin: () => c.passkeyLoginBegin(),
      passkey_login_finish: () => c.passkeyLoginFinish(CHALLENGE, ASSERTION),
      passkeys_list: () => c.passkeysList(TOKEN),
      passkey_delete: () => c.passkeyDelete(TOKEN, 'Y3JlZC0x'),
    };
    for (const [op, call] of Object.entries(calls)) {
      const before = f.lines.length;
      if (authnode.RETRY_SAFE_OPS.has(op)) {
        await call(); // dropped once, answered on a new connection
        assert.equal(f.lines.length - before, 2, op);
      } else {
        await assert.rejects(call(), authnode.ConnectionLost, op);
        assert.equal(f.lines.length - before, 1, op);
        await call(); // the caller may decide to try again: reconnects
        assert.equal(f.lines.length - before, 2, op);
      }
    }
  });

  it('does not resend anything when retries are turned off', async () => {
    const f = await fake(async (peer) => {
      await peer.readLines(1);
    });
    const c = await client(f.port, { retryIdempotent: false });
    await assert.rejects(c.ping(), authnode.ConnectionLost);
    assert.equal(f.lines.length, 1);
  });

  it('lets call opt a read-only op into the retry', async () => {
    const f = await fake(async (peer, index) => {
      if (index === 0) {
        await peer.readLines(1);
        return;
      }
      await serveForever(peer);
    });
    const c = await client(f.port);
    const reply = await c.call('user_list', { limit: 1 }, { retry: true });
    assert.equal(reply.ok, true);
    assert.deepEqual(ops(f), ['user_list', 'user_list']);
  });

  it('refuses every request of a connection that got a busy line without id', async () => {
    const f = await fake(async (peer) => {
      peer.write({ ok: false, error: { code: 'busy', message: 'too many connections, try again later' } });
    });
    const c = new authnode.Client('127.0.0.1', f.port, { poolSize: 1 });
    cleanups.push(() => c.close());
    const err = await c.register('a@example.org', 'p'.repeat(8), 'A').catch((e) => e);
    assert.ok(err instanceof authnode.Busy, String(err));
    assert.equal(err.op, 'register');
  });

  it('turns garbage from the peer into a ProtocolError', async () => {
    const f = await fake(async (peer) => {
      await peer.readLines(1);
      peer.writeRaw('HTTP/1.1 400 Bad Request\r\n');
      await new Promise((done) => { setTimeout(done, 200); });
    });
    const c = await client(f.port);
    await assert.rejects(c.logout(TOKEN), authnode.ProtocolError);
  });

  it('times out on a silent node and the connection stays usable', async () => {
    let release;
    const released = new Promise((done) => { release = done; });
    const f = await fake(async (peer) => {
      const [slow] = await peer.readLines(1);
      const [fast] = await peer.readLines(1);
      peer.write(answer(fast));
      await released;
      peer.write(answer(slow)); // late: nobody waits for it
      await serveForever(peer);
    });
    const c = await client(f.port);
    const start = performance.now();
    const err = await c.logout(TOKEN, { timeout: 200 }).catch((e) => e);
    assert.ok(err instanceof authnode.Timeout, String(err));
    assert.ok(performance.now() - start >= 190);
    assert.equal(err.timeout, 200);
    assert.equal(err.op, 'logout');
    await c.ping();
    release();
    assert.equal((await c.whoami(TOKEN)).email, 'ann@example.org');
    assert.deepEqual(ops(f), ['logout', 'ping', 'whoami']);
    assert.equal(c.openConnections, 1);
  });

  it('does not send a line longer than maxLine', async () => {
    const f = await fake(serveForever);
    const c = await client(f.port, { maxLine: 200 });
    const err = await c.register('a@example.org', 'p'.repeat(300), 'A').catch((e) => e);
    assert.ok(err instanceof authnode.LineTooLong, String(err));
    assert.match(err.message, /not sent/);
    await c.ping();
    assert.deepEqual(ops(f), ['ping']);
  });

  it('fails the one request in flight when the node refuses a line as too long', async () => {
    const f = await fake(async (peer) => {
      await peer.readLines(1);
      peer.write({ ok: false, error: { code: 'line_too_long', message: 'the line is longer than 64 bytes; closing' } });
    });
    const c = await client(f.port);
    const err = await c.register('a@example.org', 'p'.repeat(8), 'A').catch((e) => e);
    assert.ok(err instanceof authnode.LineTooLong, String(err));
    assert.equal(err.op, 'register');
  });

  it('rejects with ConnectFailed when no node listens', async () => {
    const server = net.createServer();
    await new Promise((done) => server.listen(0, '127.0.0.1', done));
    const { port } = server.address();
    await new Promise((done) => server.close(done)); // nobody listens there now
    await assert.rejects(authnode.Client.connect('127.0.0.1', port), authnode.ConnectFailed);
    const lazy = new authnode.Client('127.0.0.1', port);
    await assert.rejects(lazy.register('a@example.org', 'p'.repeat(8), 'A'), authnode.ConnectFailed);
    await lazy.close();
  });

  it('refuses calls on a closed client', async () => {
    const f = await fake(serveForever);
    const c = await client(f.port);
    await c.close();
    const err = await c.ping().catch((e) => e);
    assert.ok(err instanceof authnode.ConnectionLost, String(err));
    assert.equal(err.sent, false);
  });
});
