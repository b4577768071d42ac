// Many requests on one connection at once, answered out of order, against a
// real node: a failed login held back for --failure-delay must not hold up
// anything sent after it.
//
// The failure delay is 800 ms here (longer than elsewhere) so that "answered
// before the held failure" leaves a wide margin on a busy machine.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as authnode from '../index.js';
import { Node, uniqueEmail, waitUntil } from './support.js';

const PASSWORD = 'correct horse';
const DELAY = 800;

describe('pipelining on one connection', () => {
  let node;
  let email;
  let c;
  before(async () => {
    node = await Node.start(['--throttle=off', `--failure-delay=${DELAY}ms`]);
    c = await authnode.Client.connect(node.host, node.port, { poolSize: 1 });
    email = uniqueEmail('pipe');
    await c.register(email, PASSWORD, 'Pip');
  });
  after(async () => {
    await c?.close();
    await node?.close();
  });

  it('answers a ping sent after a failed login first', async () => {
    const start = performance.now();
    let answered = null;
    const login = c.login(email, 'wrong password').catch((e) => {
      answered = performance.now();
      return e;
    });
    await waitUntil(() => c.inFlight === 1);
    await c.ping();
    const pinged = performance.now();
    assert.equal(answered, null);
    assert.equal(c.inFlight, 1); // the login is still out
    const err = await login;
    assert.ok(err instanceof authnode.InvalidCredentials, String(err));
    assert.ok(pinged < answered);
    assert.ok(answered - start >= DELAY - 20);
  });

  it('returns replies in another order than the requests were sent', async () => {
    const session = await c.login(email, PASSWORD);
    const order = [];
    const tagged = (name, promise) => promise.finally(() => order.push(name));
    const results = await Promise.allSettled([
      tagged('login', c.login(email, 'wrong password')),
      tagged('ping', c.ping()),
      tagged('stats', c.stats()),
      tagged('whoami', c.whoami(session.token)),
    ]);
    assert.ok(results[0].reason instanceof authnode.InvalidCredentials);
    assert.equal(results[1].value, undefined);
    assert.ok(results[2].value instanceof authnode.Stats);
    assert.equal(results[3].value.email, email);
    assert.equal(order.at(-1), 'login');
    assert.deepEqual(order.slice(0, -1).sort(), ['ping', 'stats', 'whoami']);
  });

  it('does not let held failures hold up other requests', async () => {
    let settled = 0;
    const failures = [0, 1, 2].map((i) => c.login(email, `wrong ${i}`).catch((e) => {
      settled += 1;
      return e;
    }));
    await waitUntil(() => c.inFlight === 3);
    const sent = performance.now();
    // A whole session's worth of requests while three failures are held.
    const other = uniqueEmail();
    await c.register(other, PASSWORD, 'R');
    const session = await c.login(other, PASSWORD);
    const quick = await Promise.all([
      ...Array.from({ length: 10 }, () => c.whoami(session.token)),
      ...Array.from({ length: 10 }, () => c.ping()),
      c.stats(),
    ]);
    assert.ok(quick.slice(0, 10).every((u) => u.email === other));
    await c.logout(session.token);
    const done = performance.now();
    assert.equal(settled, 0, 'a held failure came back before the quick requests');
    assert.ok(done - sent < DELAY, `the quick requests took ${done - sent} ms`);
    for (const err of await Promise.all(failures)) assert.ok(err instanceof authnode.InvalidCredentials, String(err));
  });

  it('matches many concurrent callers to their own replies', async () => {
    const accounts = [];
    for (let i = 0; i < 4; i++) {
      const address = uniqueEmail(`caller${i}`);
      await c.register(address, PASSWORD, `T${i}`);
      accounts.push([address, (await c.login(address, PASSWORD)).token]);
    }
    await Promise.all(accounts.map(async ([address, token]) => {
      for (let i = 0; i < 15; i++) {
        const [user] = await Promise.all([c.whoami(token), c.ping()]);
        assert.equal(user.email, address);
      }
    }));
  });
});
