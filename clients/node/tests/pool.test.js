// The pool: requests go to the least busy connection, and a broken
// connection is replaced while the others keep serving.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import * as authnode from '../index.js';
import { Node, uniqueEmail, waitUntil } from './support.js';

describe('the pool', () => {
  let node;
  before(async () => {
    node = await Node.start(['--throttle=off', '--failure-delay=500ms']);
  });
  after(async () => {
    await node?.close();
  });

  it('opens its connections', async (t) => {
    const c = await authnode.Client.connect(node.host, node.port, { poolSize: 3 });
    t.after(() => c.close());
    assert.equal(c.openConnections, 3);
    // The kernel completes a connect before the node has taken the
    // connection up (and counted it): on a busy machine the third may still
    // be on its way, so look again, a few times.
    let stats;
    for (let i = 0; i < 40; i++) {
      stats = await c.stats();
      if (stats.connections >= 3) break;
      await sleep(50);
    }
    assert.ok(stats.connections >= 3, `the node counts ${stats.connections}`);
  });

  it('sends each request to the least busy connection', async (t) => {
    const c = await authnode.Client.connect(node.host, node.port, { poolSize: 3 });
    t.after(() => c.close());
    const held = [0, 1, 2].map((i) => c.login(uniqueEmail(), `guess ${i}`).catch((e) => e));
    await waitUntil(() => c.inFlight === 3);
    assert.deepEqual(c._slots.map((conn) => conn.inFlight), [1, 1, 1]);
    for (const err of await Promise.all(held)) assert.ok(err instanceof authnode.InvalidCredentials);
  });

  it('replaces a broken connection while the others serve', async (t) => {
    const c = await authnode.Client.connect(node.host, node.port, { poolSize: 2 });
    t.after(() => c.close());
    const held = c.login(uniqueEmail(), 'guess').catch((e) => e);
    await waitUntil(() => c.inFlight === 1);
    const busy = c._slots.find((conn) => conn.inFlight > 0);
    busy._socket.destroy(); // as if the network broke
    assert.ok((await held) instanceof authnode.ConnectionLost);
    await c.ping(); // the other connection serves at once
    await waitUntil(() => c.openConnections === 2);
    assert.ok(!c._slots.includes(busy));
  });

  it('works with one connection', async (t) => {
    const c = await authnode.Client.connect(node.host, node.port, { poolSize: 1 });
    t.after(() => c.close());
    const results = await Promise.all(Array.from({ length: 20 }, () => c.ping()));
    assert.equal(results.length, 20);
    assert.equal(c.openConnections, 1);
  });
});
