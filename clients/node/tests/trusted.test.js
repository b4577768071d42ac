// Trusted callers: an application server in --trusted-sources passes its end
// user's address as clientAddr; the node throttles and records that address
// instead of the server's. Anyone else sending clientAddr is refused.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as authnode from '../index.js';
import { Node, uniqueEmail } from './support.js';

const PASSWORD = 'correct horse';

describe('trusted callers', () => {
  // A register budget of one per address and minute makes "which address did
  // the node count" visible.
  let node;
  let app;
  before(async () => {
    node = await Node.start(['--trusted-sources=127.0.0.1/32', '--register-rate=1']);
    app = await authnode.Client.connect(node.host, node.port);
  });
  after(async () => {
    await app?.close();
    await node?.close();
  });

  async function sessionsOf(email) {
    const admin = await authnode.Client.connect(node.host, node.adminPort, { poolSize: 1 });
    try {
      return (await admin.call('sessions_list', { email, admin_key: node.adminKey })).sessions;
    } finally {
      await admin.close();
    }
  }

  it('have clientAddr throttled as the source', async () => {
    await app.register(uniqueEmail(), PASSWORD, 'A', { clientAddr: '203.0.113.7' });
    const err = await app.register(uniqueEmail(), PASSWORD, 'A', { clientAddr: '203.0.113.7' }).catch((e) => e);
    assert.ok(err instanceof authnode.RateLimited, String(err));
    assert.ok(err.retryAfterMs > 0);
    // Another end user of the same server has a budget of their own.
    await app.register(uniqueEmail(), PASSWORD, 'B', { clientAddr: '2001:db8::1' });
  });

  it('pass clientAddr with login and changePassword', async () => {
    const email = uniqueEmail();
    await app.register(email, PASSWORD, 'C', { clientAddr: '203.0.113.20' });
    const session = await app.login(email, PASSWORD, { clientAddr: '203.0.113.21' });
    assert.deepEqual((await sessionsOf(email)).map((s) => s.source), ['203.0.113.21']);
    await app.changePassword(session.token, PASSWORD, 'a new secret', { clientAddr: '203.0.113.21' });
    await app.login(email, 'a new secret', { clientAddr: '203.0.113.21' });
  });

  it('may not send a clientAddr that is not an address', async () => {
    await assert.rejects(app.login(uniqueEmail(), PASSWORD, { clientAddr: 'not-an-ip' }), authnode.BadRequest);
  });

  it('are the only peers that may send clientAddr', async (t) => {
    const other = await authnode.Client.connect(node.host, node.port, { poolSize: 1, localAddress: '127.0.0.2' });
    t.after(() => other.close());
    await assert.rejects(other.login(uniqueEmail(), PASSWORD, { clientAddr: '203.0.113.7' }), authnode.BadRequest);
    await assert.rejects(other.register(uniqueEmail(), PASSWORD, 'D', { clientAddr: '203.0.113.7' }), authnode.BadRequest);
  });
});
