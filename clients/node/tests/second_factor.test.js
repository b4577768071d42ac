// The second factor (docs/protocol.md, "Second factor: TOTP and recovery
// codes") against real nodes: turning TOTP on, logins that need a code,
// recovery codes, renewing them, turning TOTP off, and the refusals of each.
//
// The TOTP codes come from an implementation independent of the node's:
// Debian's python3-pyotp, run through $AUTHNODE_PYTHON. A time step once
// accepted is used up for the account (totpEnable's included), so each test
// has an account of its own and takes the codes of the step its totpEnable
// used and of the step after it (inside the node's window of one step either
// side of now), and recovery codes beyond those.
//
// The nodes run with --throttle=off (the tests share a node and all come
// from 127.0.0.1) and a short --failure-delay, which holds every
// invalid_code; device tokens need the throttle and have a node of their own.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import * as authnode from '../index.js';
import { CODE, Node, PYTHON, SmtpSink, uniqueEmail } from './support.js';

const PASSWORD = 'correct horse';
const NEW_PASSWORD = 'a new secret';
const FAILURE_DELAY = 100;
const OPTIONS = ['--throttle=off', `--failure-delay=${FAILURE_DELAY}ms`];
const STEP_MS = 30_000;
const CHALLENGE_LIFE_MS = 5 * 60_000;

/** The TOTP code of `secret` for time step `step` (30 s steps since the epoch), by pyotp. */
function totp(secret, step) {
  const script = 'import pyotp, sys; print(pyotp.TOTP(sys.argv[1]).at(int(sys.argv[2])))';
  const code = execFileSync(PYTHON, ['-c', script, secret, String(step * 30)], { encoding: 'utf8', timeout: 10_000 }).trim();
  assert.match(code, /^\d{6}$/);
  return code;
}

const stepNow = () => Math.floor(Date.now() / STEP_MS);

/** A well-formed TOTP code that is none of `codes`. */
function wrongTotp(...codes) {
  for (const candidate of ['000000', '111111', '222222']) if (!codes.includes(candidate)) return candidate;
  throw new Error('unreachable');
}

/** The rejection of `promise` (fails the test if it resolves). */
async function refusal(promise) {
  const outcome = await promise.then((value) => ({ value }), (error) => ({ error }));
  assert.ok('error' in outcome, `expected a refusal, got ${JSON.stringify(outcome.value)}`);
  return outcome.error;
}

/** The SecondFactorRequired of a login that needs a code. */
async function challengeOf(promise, op = 'login') {
  const err = await refusal(promise);
  assert.ok(err instanceof authnode.SecondFactorRequired, String(err));
  assert.equal(err.op, op);
  assert.equal(err.code, 'second_factor_required');
  assert.equal(typeof err.challenge, 'string');
  assert.ok(err.challenge.length >= 32, err.challenge);
  assert.deepEqual(err.methods, ['totp', 'recovery_code']);
  assert.ok(err.expiresAt instanceof Date);
  const left = err.expiresAt.getTime() - Date.now();
  assert.ok(left > CHALLENGE_LIFE_MS - 60_000 && left <= CHALLENGE_LIFE_MS + 5_000, `expires in ${left} ms`);
  return err;
}

/** A new account with TOTP on: its session token, seed, recovery codes and the step totpEnable used. */
async function enrolled(c, name = 'Tia') {
  const email = uniqueEmail('totp');
  await c.register(email, PASSWORD, name);
  const { token } = await c.login(email, PASSWORD);
  const setup = await c.totpSetup(token);
  const step = stepNow();
  const codes = await c.totpEnable(token, totp(setup.secret, step));
  return { email, token, secret: setup.secret, codes, step };
}

describe('the second factor', () => {
  let node;
  let c;
  before(async () => {
    node = await Node.start(OPTIONS);
    c = await authnode.Client.connect(node.host, node.port);
  });
  after(async () => {
    await c?.close();
    await node?.close();
  });

  it('turns TOTP on with a code of the new seed and gives ten recovery codes', async () => {
    const email = uniqueEmail('on');
    const user = await c.register(email, PASSWORD, 'Una');
    assert.deepEqual(user.secondFactors, []);
    const { token } = await c.login(email, PASSWORD);

    const setup = await c.totpSetup(token);
    assert.ok(setup instanceof authnode.TotpSetup);
    assert.match(setup.secret, /^[A-Z2-7]{16,}$/);
    const uri = new URL(setup.uri);
    assert.equal(uri.protocol, 'otpauth:');
    assert.equal(`${uri.host}${decodeURIComponent(uri.pathname)}`, `totp/authnode:${email}`);
    assert.deepEqual(
      ['secret', 'issuer', 'algorithm', 'digits', 'period'].map((k) => uri.searchParams.get(k)),
      [setup.secret, 'authnode', 'SHA1', '6', '30'],
    );
    assert.deepEqual((await c.whoami(token)).secondFactors, []); // pending until confirmed

    const step = stepNow();
    const start = performance.now();
    const err = await refusal(c.totpEnable(token, wrongTotp(totp(setup.secret, step - 1), totp(setup.secret, step), totp(setup.secret, step + 1))));
    assert.ok(err instanceof authnode.InvalidCode, String(err));
    assert.equal(err.op, 'totp_enable');
    assert.ok(performance.now() - start >= FAILURE_DELAY * 0.9, 'invalid_code is held');

    const codes = await c.totpEnable(token, totp(setup.secret, step));
    assert.equal(codes.length, 10);
    for (const code of codes) assert.match(code, new RegExp(`^${CODE.source}$`));
    assert.equal(new Set(codes).size, 10);
    assert.deepEqual((await c.whoami(token)).secondFactors, ['totp', 'recovery_code']);
    await c.whoami(token); // the session that turned it on goes on
  });

  it('refuses a login without a code and finishes it with loginSecondFactor', async () => {
    const { email, secret, step } = await enrolled(c);
    await assert.rejects(c.login(email, 'not the password'), authnode.InvalidCredentials);
    const { challenge } = await challengeOf(c.login(email, PASSWORD));

    const start = performance.now();
    const wrong = await refusal(c.loginSecondFactor(challenge, wrongTotp(totp(secret, step + 1))));
    assert.ok(wrong instanceof authnode.InvalidCode, String(wrong));
    assert.equal(wrong.op, 'login_second_factor');
    assert.ok(performance.now() - start >= FAILURE_DELAY * 0.9, 'invalid_code is held');
    // The code of the step totpEnable used is used up, though right and in the window.
    await assert.rejects(c.loginSecondFactor(challenge, totp(secret, step)), authnode.InvalidCode);

    const next = totp(secret, step + 1);
    const session = await c.loginSecondFactor(challenge, `${next.slice(0, 3)} ${next.slice(3)}`); // as apps show it
    assert.ok(session instanceof authnode.Session);
    assert.equal(session.token.length, 43);
    assert.equal(session.user.email, email);
    assert.deepEqual(session.user.secondFactors, ['totp', 'recovery_code']);
    assert.ok(session.user.lastLoginAt instanceof Date);
    assert.deepEqual(await c.whoami(session.token), session.user);

    // Neither the challenge nor the code works twice.
    await assert.rejects(c.loginSecondFactor(challenge, next), authnode.InvalidCode);
    const again = await challengeOf(c.login(email, PASSWORD));
    assert.notEqual(again.challenge, challenge);
    await assert.rejects(c.loginSecondFactor(again.challenge, next), authnode.InvalidCode);
  });

  it('takes each recovery code once, in either case and without the dash', async () => {
    const { email, codes } = await enrolled(c);
    const first = await challengeOf(c.login(email, PASSWORD));
    const session = await c.loginSecondFactor(first.challenge, codes[0].toLowerCase().replace('-', ''));
    assert.deepEqual(session.user.secondFactors, ['totp', 'recovery_code']);
    const second = await challengeOf(c.login(email, PASSWORD));
    await assert.rejects(c.loginSecondFactor(second.challenge, codes[0]), authnode.InvalidCode);
    await c.loginSecondFactor(second.challenge, codes[1]); // the challenge outlives a wrong code
  });

  it('renews the recovery codes and the old ones stop working', async () => {
    const { email, token, secret, codes, step } = await enrolled(c);
    await assert.rejects(c.recoveryCodesRenew(token, wrongTotp(totp(secret, step + 1))), authnode.InvalidCode);
    const renewed = await c.recoveryCodesRenew(token, codes[0]);
    assert.equal(renewed.length, 10);
    assert.equal(new Set([...renewed, ...codes]).size, 20);
    const { challenge } = await challengeOf(c.login(email, PASSWORD));
    for (const old of codes.slice(1, 3)) {
      await assert.rejects(c.loginSecondFactor(challenge, old), authnode.InvalidCode);
    }
    await c.loginSecondFactor(challenge, renewed[0]);
    // A TOTP code renews them too.
    const again = await c.recoveryCodesRenew(token, totp(secret, step + 1));
    assert.equal(new Set([...again, ...renewed]).size, 20);
  });

  it('turns TOTP off with the password and a code, and a login then needs the password only', async () => {
    const { email, token, secret, codes, step } = await enrolled(c);
    const badPassword = await refusal(c.totpDisable(token, 'not the password', codes[0]));
    assert.ok(badPassword instanceof authnode.InvalidCredentials, String(badPassword));
    assert.equal(badPassword.op, 'totp_disable');
    await assert.rejects(c.totpDisable(token, PASSWORD, wrongTotp(totp(secret, step + 1))), authnode.InvalidCode);
    assert.deepEqual((await c.whoami(token)).secondFactors, ['totp', 'recovery_code']); // still on

    assert.equal(await c.totpDisable(token, PASSWORD, totp(secret, step + 1)), undefined);
    assert.deepEqual((await c.whoami(token)).secondFactors, []);
    const session = await c.login(email, PASSWORD);
    assert.ok(session instanceof authnode.Session);
    assert.deepEqual(session.user.secondFactors, []);

    // Nothing of it is left to use; a new setup makes a new seed.
    await assert.rejects(c.recoveryCodesRenew(token, codes[1]), authnode.Conflict);
    await assert.rejects(c.totpDisable(token, PASSWORD, codes[1]), authnode.Conflict);
    assert.notEqual((await c.totpSetup(token)).secret, secret);
  });

  it('turns TOTP off with a recovery code', async () => {
    const { email, token, codes } = await enrolled(c);
    await c.totpDisable(token, PASSWORD, codes[9]);
    assert.deepEqual((await c.login(email, PASSWORD)).user.secondFactors, []);
  });

  it('answers Conflict to a setup or enable out of turn', async () => {
    const email = uniqueEmail('conflict');
    await c.register(email, PASSWORD, 'Cy');
    const { token } = await c.login(email, PASSWORD);
    const nothingPending = await refusal(c.totpEnable(token, '123456'));
    assert.ok(nothingPending instanceof authnode.Conflict, String(nothingPending));
    assert.equal(nothingPending.op, 'totp_enable');
    assert.ok(nothingPending instanceof authnode.AuthnodeError);

    // A new setup replaces the pending one: only the newer seed's code enables.
    const older = await c.totpSetup(token);
    const newer = await c.totpSetup(token);
    assert.notEqual(newer.secret, older.secret);
    const step = stepNow();
    const olderCode = totp(older.secret, step);
    if (olderCode !== totp(newer.secret, step)) {
      await assert.rejects(c.totpEnable(token, olderCode), authnode.InvalidCode);
    }
    await c.totpEnable(token, totp(newer.secret, step));

    const again = await refusal(c.totpEnable(token, totp(newer.secret, step + 1)));
    assert.ok(again instanceof authnode.Conflict, String(again));
    const setup = await refusal(c.totpSetup(token));
    assert.ok(setup instanceof authnode.Conflict, String(setup));
    assert.equal(setup.op, 'totp_setup');
    // The refused enable did not use its code's step up.
    const { challenge } = await challengeOf(c.login(email, PASSWORD));
    await c.loginSecondFactor(challenge, totp(newer.secret, step + 1));
  });

  it('lets a challenge die after 5 wrong codes', async () => {
    const { email, secret, step } = await enrolled(c);
    const next = totp(secret, step + 1);
    const { challenge } = await challengeOf(c.login(email, PASSWORD));
    for (let i = 0; i < 5; i += 1) {
      await assert.rejects(c.loginSecondFactor(challenge, wrongTotp(next)), authnode.InvalidCode);
    }
    await assert.rejects(c.loginSecondFactor(challenge, next), authnode.InvalidCode); // dead
    const fresh = await challengeOf(c.login(email, PASSWORD));
    await c.loginSecondFactor(fresh.challenge, next); // the dead challenge used no step up
  });

  it('refuses an unknown challenge and the ops of an unknown token', async () => {
    await assert.rejects(c.loginSecondFactor('A'.repeat(43), '123456'), authnode.InvalidCode);
    await assert.rejects(c.totpSetup('nope'), authnode.InvalidToken);
    await assert.rejects(c.totpEnable('nope', '123456'), authnode.InvalidToken);
    await assert.rejects(c.totpDisable('nope', PASSWORD, '123456'), authnode.InvalidToken);
    await assert.rejects(c.recoveryCodesRenew('nope', '123456'), authnode.InvalidToken);
  });

  it('refuses clientAddr from a peer that is not trusted', async () => {
    const { email, codes } = await enrolled(c);
    const { challenge } = await challengeOf(c.login(email, PASSWORD));
    await assert.rejects(c.loginSecondFactor(challenge, codes[0], { clientAddr: '203.0.113.9' }), authnode.BadRequest);
  });

  it('counts challenges, successes and failures in stats', async () => {
    const { email, secret, codes, step } = await enrolled(c);
    const before = await c.stats();
    const { challenge } = await challengeOf(c.login(email, PASSWORD));
    await assert.rejects(c.loginSecondFactor(challenge, wrongTotp(totp(secret, step + 1))), authnode.InvalidCode);
    await c.loginSecondFactor(challenge, codes[0]);
    const after = await c.stats();
    assert.deepEqual(
      [
        after.secondFactorChallengesTotal - before.secondFactorChallengesTotal,
        after.secondFactorOkTotal - before.secondFactorOkTotal,
        after.secondFactorFailedTotal - before.secondFactorFailedTotal,
      ],
      [1, 1, 1],
    );
    assert.deepEqual(after.extra, {}); // every member the node sends is known
  });
});

describe('the second factor and device tokens', () => {
  let node;
  let c;
  before(async () => {
    node = await Node.start([`--failure-delay=${FAILURE_DELAY}ms`]);
    c = await authnode.Client.connect(node.host, node.port);
  });
  after(async () => {
    await c?.close();
    await node?.close();
  });

  /** An account with TOTP on and the device token of its first login. */
  async function enrolledDevice() {
    const email = uniqueEmail('dev');
    await c.register(email, PASSWORD, 'Dev');
    const { token, deviceToken } = await c.login(email, PASSWORD);
    assert.equal(typeof deviceToken, 'string');
    const setup = await c.totpSetup(token);
    const codes = await c.totpEnable(token, totp(setup.secret, stepNow()));
    return { email, deviceToken, codes };
  }

  it('asks for a code of a login with a valid device token too', async () => {
    const { email, deviceToken, codes } = await enrolledDevice();
    const withDevice = await challengeOf(c.login(email, PASSWORD, { deviceToken }));
    const session = await c.loginSecondFactor(withDevice.challenge, codes[0]);
    assert.deepEqual(session.user.secondFactors, ['totp', 'recovery_code']);
    const without = await challengeOf(c.login(email, PASSWORD));
    const other = await c.loginSecondFactor(without.challenge, codes[1]);
    assert.equal(typeof other.deviceToken, 'string'); // a new device gets one
    assert.notEqual(other.deviceToken, deviceToken);
  });

  // docs/protocol.md (login's reply): device_token comes "only when the login
  // did not present a valid one", after a second factor too.
  it('gives no new device token when the login presented a valid one', async () => {
    const { email, deviceToken, codes } = await enrolledDevice();
    const withDevice = await challengeOf(c.login(email, PASSWORD, { deviceToken }));
    const session = await c.loginSecondFactor(withDevice.challenge, codes[0]);
    assert.equal(session.deviceToken, null);
  });
});

describe('the second factor and recovery by mail', () => {
  let sink;
  let node;
  let c;
  before(async () => {
    sink = await SmtpSink.start();
    node = await Node.start([...OPTIONS, ...sink.nodeOptions()]);
    c = await authnode.Client.connect(node.host, node.port);
  });
  after(async () => {
    await c?.close();
    await node?.close();
    await sink?.close();
  });

  it('sets the new password but asks for a code before the session', async () => {
    const { email, token, codes } = await enrolled(c, 'Rex');
    await c.recoveryStart(email);
    const mailed = await sink.code(email, 'recovery');
    const err = await challengeOf(c.recoveryFinish(email, mailed, NEW_PASSWORD), 'recovery_finish');
    await assert.rejects(c.whoami(token), authnode.InvalidToken); // every session revoked
    await assert.rejects(c.login(email, PASSWORD), authnode.InvalidCredentials); // the new password is set
    const session = await c.loginSecondFactor(err.challenge, codes[0]);
    assert.deepEqual(session.user.secondFactors, ['totp', 'recovery_code']); // recovery keeps the second factor
    assert.equal(session.user.emailVerified, true);
    await challengeOf(c.login(email, NEW_PASSWORD));
  });
});
