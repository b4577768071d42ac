// Every operation of the public protocol against a real node: the typed
// results and the operation's own refusals.
//
// The node runs with --throttle=off: the tests share it and all connect from
// 127.0.0.1, so with penalties on, one test's wrong passwords would slow the
// next test's logins. Device tokens exist only with the throttle on; they
// have a node of their own below.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as authnode from '../index.js';
import { Node, uniqueEmail } from './support.js';

const PASSWORD = 'correct horse';

describe('every operation', () => {
  let node;
  let c;
  before(async () => {
    node = await Node.start(['--throttle=off']);
    c = await authnode.Client.connect(node.host, node.port);
  });
  after(async () => {
    await c?.close();
    await node?.close();
  });

  it('opens the pool it was asked for', () => {
    assert.equal(c.openConnections, 2);
    assert.equal(c.poolSize, 2);
  });

  it('pings', async () => {
    assert.equal(await c.ping(), undefined);
  });

  it('registers and returns the normalized account', async () => {
    const email = uniqueEmail('Reg');
    const user = await c.register(`  ${email.toUpperCase()} `, PASSWORD, '  Ann Example\t');
    assert.ok(user instanceof authnode.User);
    assert.equal(user.email, email.toLowerCase());
    assert.equal(user.name, 'Ann Example');
    assert.ok(Number.isInteger(user.id));
    assert.equal(user.lastLoginAt, null);
    assert.ok(user.createdAt instanceof Date);
    assert.ok(Math.abs(Date.now() - user.createdAt.getTime()) < 5 * 60_000);
  });

  it('logs in and returns a session', async () => {
    const email = uniqueEmail();
    const user = await c.register(email, PASSWORD, 'Bo');
    const session = await c.login(email, PASSWORD);
    assert.ok(session instanceof authnode.Session);
    assert.equal(session.token.length, 43);
    assert.equal(session.user.id, user.id);
    assert.ok(session.user.lastLoginAt instanceof Date);
    assert.ok(session.expiresAt > session.user.lastLoginAt);
    assert.equal(session.deviceToken, null); // --throttle=off
    const again = await c.login(email, PASSWORD);
    assert.notEqual(again.token, session.token);
  });

  it('refuses a wrong password and an unknown email alike', async () => {
    const email = uniqueEmail();
    await c.register(email, PASSWORD, 'Cy');
    const wrong = await c.login(email, 'not the password').catch((e) => e);
    const unknown = await c.login(uniqueEmail('nobody'), PASSWORD).catch((e) => e);
    assert.ok(wrong instanceof authnode.InvalidCredentials);
    assert.ok(unknown instanceof authnode.InvalidCredentials);
    assert.equal(wrong.message, unknown.message);
    assert.equal(wrong.op, 'login');
  });

  it('tells whose a token is', async () => {
    const email = uniqueEmail();
    await c.register(email, PASSWORD, 'Di');
    const session = await c.login(email, PASSWORD);
    assert.deepEqual(await c.whoami(session.token), session.user);
    await assert.rejects(c.whoami('nope'), authnode.InvalidToken);
  });

  it('logs out and the token stops working', async () => {
    const email = uniqueEmail();
    await c.register(email, PASSWORD, 'Ed');
    const session = await c.login(email, PASSWORD);
    assert.equal(await c.logout(session.token), undefined);
    await assert.rejects(c.whoami(session.token), authnode.InvalidToken);
    await assert.rejects(c.logout(session.token), authnode.InvalidToken);
  });

  it('changes the password and keeps this session but revokes the others', async () => {
    const email = uniqueEmail();
    await c.register(email, PASSWORD, 'Flo');
    const a = await c.login(email, PASSWORD);
    const b = await c.login(email, PASSWORD);
    await assert.rejects(c.changePassword(a.token, PASSWORD, 'short'), authnode.WeakPassword);
    await assert.rejects(c.changePassword(a.token, 'not it', 'a new secret'), authnode.InvalidCredentials);
    await assert.rejects(c.changePassword('nope', PASSWORD, 'a new secret'), authnode.InvalidToken);
    assert.equal(await c.changePassword(a.token, PASSWORD, 'a new secret'), undefined);
    assert.equal((await c.whoami(a.token)).email, email);
    await assert.rejects(c.whoami(b.token), authnode.InvalidToken);
    await c.login(email, 'a new secret');
    await assert.rejects(c.login(email, PASSWORD), authnode.InvalidCredentials);
  });

  it('returns the counters as stats', async () => {
    const before = await c.stats();
    assert.ok(before instanceof authnode.Stats);
    assert.ok(before.connections >= 1);
    await c.register(uniqueEmail(), PASSWORD, 'Gus');
    const after = await c.stats();
    assert.equal(after.registrationsTotal, before.registrationsTotal + 1);
    assert.ok(after.requestsTotal > before.requestsTotal);
    assert.deepEqual(after.extra, {}); // every member the node sends is known
  });

  it('sends any op with call and returns the raw reply', async () => {
    const reply = await c.call('stats');
    assert.equal(reply.ok, true);
    assert.ok('uptime_seconds' in reply.stats);
    await assert.rejects(c.call('ping', { id: 5 }), TypeError);
  });

  it('refuses calls after close', async () => {
    const other = await authnode.Client.connect(node.host, node.port, { poolSize: 1 });
    await other.ping();
    await other.close();
    await assert.rejects(other.ping(), authnode.ConnectionLost);
  });

  it('connects on the first call when made with the constructor', async () => {
    const lazy = new authnode.Client(node.host, node.port);
    assert.equal(lazy.openConnections, 0);
    await lazy.ping();
    assert.ok(lazy.openConnections >= 1);
    await lazy.close();
  });
});

describe('device tokens', () => {
  let node;
  before(async () => {
    node = await Node.start(); // the throttle on, as by default
  });
  after(async () => {
    await node?.close();
  });

  it('are given to a login without a valid one and only to it', async () => {
    const c = await authnode.Client.connect(node.host, node.port, { poolSize: 1 });
    try {
      const email = uniqueEmail();
      await c.register(email, PASSWORD, 'Ida');
      const first = await c.login(email, PASSWORD);
      assert.equal(typeof first.deviceToken, 'string');
      assert.equal(first.deviceToken.length, 43);
      const again = await c.login(email, PASSWORD, { deviceToken: first.deviceToken });
      assert.equal(again.deviceToken, null);
    } finally {
      await c.close();
    }
  });
});
