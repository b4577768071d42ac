// A node restarted under a client in use: requests in flight that the node
// never answers fail with ConnectionLost and are not resent (a whoami is, and
// finds the node down); later calls reconnect to the same port and database
// and succeed.
//
// With SIGTERM the node answers every request it has already read and drops
// what arrives after. To have requests in flight that are certainly not read
// before the signal, the node runs with --max-in-flight=1 and the test keeps
// the one request it works on busy by holding SQLite's write lock from
// outside: later requests wait in the socket, unread, until the node drains
// and drops them. No timing is involved. With SIGKILL every request in
// flight is lost at once.

import assert from 'node:assert/strict';
import net from 'node:net';
import { afterEach, beforeEach, describe, it } from 'node:test';
import * as authnode from '../index.js';
import { Node, holdWriteLock, uniqueEmail, waitUntil } from './support.js';

const PASSWORD = 'correct horse';

function portClosed(port) {
  return new Promise((done) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => { socket.destroy(); done(false); });
    socket.once('error', () => done(true));
  });
}

/**
 * Counts the request lines the node reads from its making on (through
 * requests_total, leaving out its own stats requests).
 */
async function lineCounter(node) {
  const c = await authnode.Client.connect(node.host, node.port, { poolSize: 1 });
  const base = (await c.stats()).requestsTotal;
  let polls = 0;
  return {
    async waitFor(lines) {
      try {
        await waitUntil(async () => {
          polls += 1;
          return (await c.stats()).requestsTotal - base - polls >= lines;
        });
      } finally {
        await c.close();
      }
    },
  };
}

const settle = (promise) => promise.then((value) => ({ value }), (error) => ({ error }));

describe('a node restart mid-use', () => {
  let node;
  beforeEach(async () => {
    node = await Node.start(['--throttle=off', '--max-in-flight=1']);
  });
  afterEach(async () => {
    await node?.close();
  });

  async function sigtermAndWaitForDrain() {
    node.proc.kill('SIGTERM');
    await node.waitLog('finishing requests in flight');
    await waitUntil(() => portClosed(node.port), 5000, 10);
  }

  it('answers what the node read and loses the rest without resending it', async (t) => {
    const c = await authnode.Client.connect(node.host, node.port, { poolSize: 1 });
    t.after(() => c.close());
    const email = uniqueEmail('kept');
    await c.register(email, PASSWORD, 'Kept');
    const { token } = await c.login(email, PASSWORD);

    const readEmail = uniqueEmail('read');
    const unreadEmail = uniqueEmail('unread');
    const counter = await lineCounter(node);
    const lock = await holdWriteLock(node.db);
    let read;
    let unread;
    let who;
    try {
      read = settle(c.register(readEmail, PASSWORD, 'R'));
      await waitUntil(() => c.inFlight === 1);
      await counter.waitFor(1); // the node works on it: stuck on the lock
      unread = settle(c.register(unreadEmail, PASSWORD, 'U'));
      who = settle(c.whoami(token));
      await waitUntil(() => c.inFlight === 3);
      await sigtermAndWaitForDrain();
    } finally {
      await lock.release();
    }
    // The request the node had read is answered before it stops...
    assert.ok((await read).value instanceof authnode.User, String((await read).error));
    // ...the one it had not read is lost, reported, and not resent...
    const lost = (await unread).error;
    assert.ok(lost instanceof authnode.ConnectionLost, String(lost));
    assert.equal(lost.sent, true);
    assert.match(lost.message, /may have taken effect/);
    // ...while the whoami was resent, to a node that is down by now.
    assert.ok((await who).error instanceof authnode.ConnectFailed, String((await who).error));
    assert.equal(await node.stop(), 0);

    // The node is down: calls fail without sending anything.
    await assert.rejects(c.ping(), authnode.ConnectFailed);

    await node.start();
    // The next calls reconnect. Sessions survive restarts.
    assert.equal((await c.whoami(token)).email, email);
    // The lost register had no effect, so it can be made now.
    assert.equal((await c.register(unreadEmail, PASSWORD, 'U')).email, unreadEmail);
    await assert.rejects(c.register(readEmail, PASSWORD, 'R'), authnode.EmailTaken);
  });

  it('loses every request in flight at once on SIGKILL', async (t) => {
    const c = await authnode.Client.connect(node.host, node.port, { poolSize: 3 });
    t.after(() => c.close());
    const email = uniqueEmail();
    await c.register(email, PASSWORD, 'K');
    const { token } = await c.login(email, PASSWORD);
    const held = [0, 1, 2].map((i) => settle(c.login(email, `wrong ${i}`)));
    await waitUntil(() => c.inFlight === 3);
    const start = performance.now();
    await node.kill();
    for (const { error } of await Promise.all(held)) {
      assert.ok(error instanceof authnode.ConnectionLost, String(error));
    }
    // Lost at once, long before the failure delay would have ended.
    assert.ok(performance.now() - start < 5000);
    await node.start();
    assert.equal((await c.whoami(token)).email, email);
    await waitUntil(() => c.openConnections === 3); // the pool refills
    await c.ping();
  });
});
