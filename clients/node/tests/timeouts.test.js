// Timeouts against a real node: a failed login outlasts a short timeout; the
// connection stays usable and the late reply is dropped. And connections the
// node closes when idle are replaced without losing a request.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import * as authnode from '../index.js';
import { FAILURE_DELAY, Node, uniqueEmail, waitUntil } from './support.js';

const PASSWORD = 'correct horse';

describe('timeouts', () => {
  let node;
  before(async () => {
    node = await Node.start(['--throttle=off']);
  });
  after(async () => {
    await node?.close();
  });

  it('have defaults that outlast a held failure', async () => {
    const c = new authnode.Client(node.host, node.port);
    assert.ok(c.authTimeout > 60_000 + 2_000); // max-penalty + failure-delay
    assert.ok(c.timeout > 2_000);
    assert.equal(authnode.DEFAULT_AUTH_TIMEOUT, 90_000);
    await c.close();
  });

  it('let a failed login outlast a short timeout and keep the connection', async (t) => {
    const c = await authnode.Client.connect(node.host, node.port, { poolSize: 1 });
    t.after(() => c.close());
    const start = performance.now();
    const err = await c.login(uniqueEmail(), PASSWORD, { timeout: 100 }).catch((e) => e);
    const waited = performance.now() - start;
    assert.ok(err instanceof authnode.Timeout, String(err));
    assert.ok(err instanceof authnode.TransportError);
    assert.ok(waited >= 95, `waited ${waited} ms`);
    assert.ok(waited < FAILURE_DELAY, `waited ${waited} ms`);
    assert.equal(err.op, 'login');
    assert.equal(err.timeout, 100);
    await c.ping(); // the same connection, at once
    assert.equal(c.inFlight, 0); // the timed-out request is forgotten
    // The late reply arrives and is dropped; the connection goes on.
    await waitUntil(async () => (await c.stats()).pendingDelayed === 0);
    await c.ping();
    assert.equal(c.openConnections, 1);
  });

  it('apply a client default to every call unless the call sets one', async (t) => {
    const c = await authnode.Client.connect(node.host, node.port, { poolSize: 1, authTimeout: 100 });
    t.after(() => c.close());
    await assert.rejects(c.login(uniqueEmail(), PASSWORD), authnode.Timeout);
    await assert.rejects(c.login(uniqueEmail(), PASSWORD, { timeout: 5000 }), authnode.InvalidCredentials);
  });
});

describe('idle connections', () => {
  let node;
  before(async () => {
    node = await Node.start(['--throttle=off', '--idle-timeout=200ms']);
  });
  after(async () => {
    await node?.close();
  });

  it('are replaced after the node closed them without losing a register', async (t) => {
    const c = await authnode.Client.connect(node.host, node.port, { poolSize: 1, maxIdle: null });
    t.after(() => c.close());
    await c.ping();
    await waitUntil(() => c.openConnections === 0);
    // Not a ConnectionLost: the client knew the connection was gone before
    // sending, so even a register goes out on a new one.
    await c.register(uniqueEmail(), PASSWORD, 'Idle');
    assert.ok((await c.stats()).idleClosedTotal >= 1);
  });

  it('are left for a new one after maxIdle before the node closes them', async (t) => {
    const c = await authnode.Client.connect(node.host, node.port, { poolSize: 1, maxIdle: 50 });
    t.after(() => c.close());
    await c.ping();
    const [first] = c._slots;
    await sleep(100);
    await c.ping();
    assert.notEqual(c._slots[0], first);
    assert.ok(first.closed);
  });

  it('are refilled in the pool', async (t) => {
    const c = await authnode.Client.connect(node.host, node.port, { poolSize: 2, maxIdle: null });
    t.after(() => c.close());
    await waitUntil(() => c.openConnections === 0);
    await c.register(uniqueEmail(), PASSWORD, 'Idle');
    await waitUntil(() => c.openConnections === 2); // the other slot refills
  });
});
