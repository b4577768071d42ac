// The account codes (docs/protocol.md, "Account codes") against real nodes:
// one without mail, which answers all six operations unavailable, and one
// that mails through an SMTP sink on loopback, from which the tests read the
// codes as a user would.
//
// The nodes run with --throttle=off (the tests share a node and all come
// from 127.0.0.1) and a short --failure-delay, which holds every
// invalid_code.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import * as authnode from '../index.js';
import { Node, SmtpSink, uniqueEmail } from './support.js';

const PASSWORD = 'correct horse';
const NEW_PASSWORD = 'a new secret';
const FAILURE_DELAY = 100;
const OPTIONS = ['--throttle=off', `--failure-delay=${FAILURE_DELAY}ms`];

/** A well-formed code that is not `code`. */
const wrong = (code) => (code === '0000-0000' ? '1111-1111' : '0000-0000');

describe('account codes without mail', () => {
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

  it('answers every op unavailable, naming --smtp-url', async () => {
    const email = uniqueEmail('nomail');
    await c.register(email, PASSWORD, 'Nia');
    const { token } = await c.login(email, PASSWORD);
    const calls = {
      recovery_start: () => c.recoveryStart(email),
      recovery_finish: () => c.recoveryFinish(email, 'K7QM-2XPA', NEW_PASSWORD),
      verify_email_start: () => c.verifyEmailStart(token),
      verify_email_finish: () => c.verifyEmailFinish(token, 'K7QM-2XPA'),
      change_email_start: () => c.changeEmailStart(token, PASSWORD, uniqueEmail('new')),
      change_email_finish: () => c.changeEmailFinish(token, 'K7QM-2XPA'),
    };
    for (const [op, call] of Object.entries(calls)) {
      const err = await call().then(() => null, (e) => e);
      assert.ok(err instanceof authnode.Unavailable, `${op}: ${err}`);
      assert.equal(err.op, op);
      assert.match(err.message, /--smtp-url/, op);
    }
    assert.equal((await c.login(email, PASSWORD)).user.emailVerified, false); // nothing changed
  });

  it('has the mail counters at zero', async () => {
    const stats = await c.stats();
    assert.deepEqual([stats.mailsSentTotal, stats.mailsFailedTotal, stats.mailsDroppedTotal, stats.outboxDepth], [0, 0, 0, 0]);
    assert.deepEqual(stats.extra, {});
  });
});

describe('account codes with mail', () => {
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

  it('recovers an account: a new password, a session, the address verified', async () => {
    const email = uniqueEmail('rec');
    await c.register(email, PASSWORD, 'Dora');
    const earlier = await c.login(email, PASSWORD);
    assert.equal(earlier.user.emailVerified, false);
    assert.equal(await c.recoveryStart(email), undefined);
    const code = await sink.code(email, 'recovery');

    const start = performance.now();
    const err = await c.recoveryFinish(email, wrong(code), NEW_PASSWORD).then(() => null, (e) => e);
    assert.ok(err instanceof authnode.InvalidCode, String(err));
    assert.ok(performance.now() - start >= FAILURE_DELAY * 0.9, 'invalid_code is held');
    assert.equal(err.op, 'recovery_finish');
    assert.ok(!`${err.message} ${err.stack}`.includes(NEW_PASSWORD));

    // Typed back as a user might: lower case, without the dash.
    const session = await c.recoveryFinish(email, code.toLowerCase().replace('-', ''), NEW_PASSWORD);
    assert.ok(session instanceof authnode.Session);
    assert.equal(session.token.length, 43);
    assert.equal(session.user.email, email);
    assert.equal(session.user.emailVerified, true);
    assert.deepEqual(await c.whoami(session.token), session.user);
    await assert.rejects(c.whoami(earlier.token), authnode.InvalidToken); // every other session revoked
    await assert.rejects(c.login(email, PASSWORD), authnode.InvalidCredentials);
    assert.equal((await c.login(email, NEW_PASSWORD)).user.emailVerified, true);
    await assert.rejects(c.recoveryFinish(email, code, 'yet another secret'), authnode.InvalidCode); // used up
  });

  it('answers recovery for an unknown email alike', async () => {
    const nobody = uniqueEmail('nobody');
    assert.equal(await c.recoveryStart(nobody), undefined);
    await assert.rejects(c.recoveryFinish(nobody, 'K7QM-2XPA', NEW_PASSWORD), authnode.InvalidCode);
  });

  it('verifies the address with the code register mailed', async () => {
    const email = uniqueEmail('ver');
    await c.register(email, PASSWORD, 'Flo');
    const { token } = await c.login(email, PASSWORD);
    const code = await sink.code(email, 'verification');
    await assert.rejects(c.verifyEmailFinish(token, wrong(code)), authnode.InvalidCode);
    const user = await c.verifyEmailFinish(token, code);
    assert.ok(user instanceof authnode.User);
    assert.equal(user.emailVerified, true);
    assert.equal((await c.whoami(token)).emailVerified, true);
    assert.equal(await c.verifyEmailStart(token), false); // verified already
    await assert.rejects(c.verifyEmailStart('nope'), authnode.InvalidToken);
  });

  it('mails a new verification code on verifyEmailStart', async () => {
    const email = uniqueEmail('ver2');
    await c.register(email, PASSWORD, 'Gil');
    const { token } = await c.login(email, PASSWORD);
    const first = await sink.code(email, 'verification');
    assert.equal(await c.verifyEmailStart(token), true);
    const deadline = Date.now() + 10_000;
    let code;
    while ((code = await sink.code(email, 'verification')) === first) {
      assert.ok(Date.now() < deadline, 'no second verification mail');
      await sleep(20);
    }
    assert.equal((await c.verifyEmailFinish(token, code)).emailVerified, true);
  });

  it('moves the account to a new address', async () => {
    const email = uniqueEmail('chg');
    const newEmail = uniqueEmail('moved');
    await c.register(email, PASSWORD, 'Hal');
    const { token } = await c.login(email, PASSWORD);
    await assert.rejects(c.changeEmailStart(token, 'not the password', newEmail), authnode.InvalidCredentials);
    await assert.rejects(c.changeEmailStart(token, PASSWORD, email), authnode.BadRequest); // the current address
    assert.equal(await c.changeEmailStart(token, PASSWORD, newEmail), undefined);
    const code = await sink.code(newEmail, 'new email address');
    await assert.rejects(c.changeEmailFinish(token, wrong(code)), authnode.InvalidCode);
    const user = await c.changeEmailFinish(token, code);
    assert.deepEqual([user.email, user.emailVerified], [newEmail, true]);
    assert.equal((await c.whoami(token)).email, newEmail); // sessions stay
    await c.login(newEmail, PASSWORD);
  });

  it('counts the mails sent', async () => {
    const email = uniqueEmail('st');
    await c.register(email, PASSWORD, 'Ivy');
    await sink.code(email, 'verification');
    const deadline = Date.now() + 10_000;
    let stats;
    while ((stats = await c.stats()).mailsSentTotal < 1) {
      assert.ok(Date.now() < deadline, 'mailsSentTotal never counted');
      await sleep(20);
    }
    assert.deepEqual(stats.extra, {}); // every member the node sends is known
  });
});

describe('--require-verified-email', () => {
  let sink;
  let node;
  let c;
  before(async () => {
    sink = await SmtpSink.start();
    node = await Node.start([...OPTIONS, ...sink.nodeOptions(), '--require-verified-email']);
    c = await authnode.Client.connect(node.host, node.port);
  });
  after(async () => {
    await c?.close();
    await node?.close();
    await sink?.close();
  });

  it('refuses the login of an unverified account with EmailNotVerified', async () => {
    const email = uniqueEmail('unv');
    await c.register(email, PASSWORD, 'Jo');
    const err = await c.login(email, PASSWORD).then(() => null, (e) => e);
    assert.ok(err instanceof authnode.EmailNotVerified, String(err));
    assert.equal(err.op, 'login');
    await assert.rejects(c.login(email, 'not the password'), authnode.InvalidCredentials);
    // Recovery proves the address too.
    await c.recoveryStart(email);
    const session = await c.recoveryFinish(email, await sink.code(email, 'recovery'), NEW_PASSWORD);
    assert.equal(session.user.emailVerified, true);
    assert.equal((await c.login(email, NEW_PASSWORD)).user.emailVerified, true);
  });
});
