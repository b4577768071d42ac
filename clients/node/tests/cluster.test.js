// The client against the gateways of a cluster (issue 7): a storage node, a
// hasher node and two gateways on this machine (support.js Cluster).
//
// A gateway speaks the same protocol as a whole node, so the client needs
// nothing new: a session made through one gateway is known to the other, a
// wrong password is still answered late, and losing the storage node is the
// `unavailable` answer at once, not a lost connection, while the gateways
// themselves keep answering ping. When the storage node is back (same port,
// same database) the gateways link to it again on their own.

import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, it } from 'node:test';
import * as authnode from '../index.js';
import { Cluster, FAILURE_DELAY, uniqueEmail } from './support.js';

const PASSWORD = 'correct horse';

describe('the client against two gateways of a cluster', () => {
  let cluster;
  let g1;
  let g2;
  beforeEach(async () => {
    cluster = await Cluster.start({ gateways: 2 });
    [g1, g2] = await Promise.all(cluster.gateways.map((g) => authnode.Client.connect(g.host, g.port)));
  });
  afterEach(async () => {
    await g1?.close();
    await g2?.close();
    await cluster?.close();
  });

  /** Log in, again every 100 ms while the answer is Unavailable, for at most `limit` ms. */
  async function loginWithin(client, email, limit) {
    const deadline = Date.now() + limit;
    for (;;) {
      try {
        return await client.login(email, PASSWORD);
      } catch (e) {
        if (!(e instanceof authnode.Unavailable)) throw e;
        if (Date.now() >= deadline) throw new Error(`still unavailable after ${limit} ms; logs:\n${cluster.logs()}`);
        await sleep(100);
      }
    }
  }

  it('knows a session made on one gateway on the other', async () => {
    const email = uniqueEmail('cluster');
    const user = await g1.register(email, PASSWORD, 'Cluster');
    assert.equal(user.email, email);
    const session = await g2.login(email, PASSWORD);
    assert.equal(session.user.id, user.id);
    assert.equal((await g1.whoami(session.token)).email, email);
    await g2.logout(session.token);
    await assert.rejects(g1.whoami(session.token), authnode.InvalidToken);
  });

  it('refuses a wrong password late through a gateway', async () => {
    const email = uniqueEmail('cluster');
    await g1.register(email, PASSWORD, 'Cluster');
    const start = performance.now();
    await assert.rejects(g2.login(email, 'not my password'), authnode.InvalidCredentials);
    assert.ok(performance.now() - start >= FAILURE_DELAY - 20);
  });

  it('answers Unavailable at once without the storage node and recovers after its restart', async () => {
    const email = uniqueEmail('cluster');
    await g1.register(email, PASSWORD, 'Cluster');
    const { token } = await g2.login(email, PASSWORD);

    await cluster.storage.kill();
    const start = performance.now();
    await assert.rejects(g1.login(email, PASSWORD), authnode.Unavailable);
    const took = performance.now() - start;
    assert.ok(took < 2000, `took ${took} ms`);
    // The gateways themselves still answer; the connections stay open.
    await g1.ping();
    await g2.ping();
    assert.equal(g1.openConnections, 2);

    await cluster.storage.start(); // the same port and database
    await loginWithin(g1, email, 5000);
    await loginWithin(g2, email, 5000);
    // The session made before the crash is in the database.
    assert.equal((await g1.whoami(token)).email, email);
  });
});
