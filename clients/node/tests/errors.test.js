// Every error code of the protocol, produced by a real node, and the error
// class each becomes.
//
// Through the public port and the client: bad_request, unknown_op,
// line_too_long, busy (both kinds), unavailable, internal, invalid_email,
// weak_password, email_taken, invalid_credentials, invalid_token,
// rate_limited. Only with raw lines (the client never sends them): bad_json,
// and bad_request without id. Only on the admin channel, through `call`:
// forbidden, no_such_user, exists and backup_failed.
//
// unavailable and internal need a database in trouble: the test holds
// SQLite's write lock from outside (unavailable: the node gives up after
// --backend-timeout), or adds a trigger that fails an insert (internal).

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import * as authnode from '../index.js';
import { FAILURE_DELAY, Node, execSql, holdWriteLock, uniqueEmail } from './support.js';

const PASSWORD = 'correct horse';

/** A node for the tests of one describe block, stopped after them. */
function sharedNode(options) {
  const box = {};
  before(async () => {
    box.node = await Node.start(options);
  });
  after(async () => {
    await box.node?.close();
  });
  return box;
}

/** A client closed after the test. */
async function using(t, host, port, options = {}) {
  const c = await authnode.Client.connect(host, port, { poolSize: 1, ...options });
  t.after(() => c.close());
  return c;
}

describe('errors of the public port', () => {
  const box = sharedNode(['--throttle=off', '--max-line=2048']);

  it('answers bad_json only to raw lines', async () => {
    const raw = await box.node.raw();
    try {
      for (const line of ['this is not json\n', '\n', '[1,2]\n', '{"id":20,"op":"ping"} trailing\n']) {
        raw.send(line);
        const reply = await raw.read();
        assert.equal(reply.error.code, 'bad_json', line);
        assert.ok(!('id' in reply));
        assert.ok(authnode.errorFromReply(reply) instanceof authnode.BadJson);
      }
    } finally {
      raw.close();
    }
  });

  it('answers bad_request to a missing or mistyped field', async (t) => {
    const c = await using(t, box.node.host, box.node.port);
    const missing = await c.call('login', { email: 'a@example.org' }).catch((e) => e);
    assert.ok(missing instanceof authnode.BadRequest);
    assert.match(missing.message, /password/);
    await assert.rejects(c.call('login', { email: 'a@example.org', password: 12345678 }), authnode.BadRequest);
    await assert.rejects(c.register(uniqueEmail(), PASSWORD, '   '), authnode.BadRequest);
    // clientAddr from a peer that is not in --trusted-sources.
    await assert.rejects(c.login(uniqueEmail(), PASSWORD, { clientAddr: '203.0.113.7' }), authnode.BadRequest);
    // An id of a wrong type: the reply has no id (raw only).
    const raw = await box.node.raw();
    try {
      raw.sendJson({ id: true, op: 'ping' });
      const reply = await raw.read();
      assert.equal(reply.error.code, 'bad_request');
      assert.ok(!('id' in reply));
    } finally {
      raw.close();
    }
  });

  it('answers unknown_op to an op it does not have', async (t) => {
    const c = await using(t, box.node.host, box.node.port);
    const err = await c.call('fly').catch((e) => e);
    assert.ok(err instanceof authnode.UnknownOp);
    assert.equal(err.message, 'unknown op: fly');
    // Admin operations do not exist on the public port.
    await assert.rejects(c.call('user_show', { email: 'a@example.org', admin_key: 'x' }), authnode.UnknownOp);
  });

  it('answers line_too_long to a line past max-line and the client reconnects', async (t) => {
    // The client allows 64 KiB lines, this node 2048 bytes. The node answers
    // without id and closes: the one request in flight gets it.
    const c = await using(t, box.node.host, box.node.port);
    const err = await c.register(uniqueEmail(), PASSWORD, 'n'.repeat(2100)).catch((e) => e);
    assert.ok(err instanceof authnode.LineTooLong, String(err));
    assert.match(err.message, /2048/);
    await c.ping(); // a new connection
  });

  it('does not send a line past its own maxLine', async (t) => {
    const c = await using(t, box.node.host, box.node.port, { maxLine: 2048 });
    const err = await c.register(uniqueEmail(), PASSWORD, 'n'.repeat(2100)).catch((e) => e);
    assert.ok(err instanceof authnode.LineTooLong);
    assert.match(err.message, /not sent/);
  });

  it('answers invalid_email to an address it does not accept', async (t) => {
    const c = await using(t, box.node.host, box.node.port);
    await assert.rejects(c.register('not-an-email', PASSWORD, 'X'), authnode.InvalidEmail);
  });

  it('answers weak_password to each broken password rule', async (t) => {
    const c = await using(t, box.node.host, box.node.port);
    const email = uniqueEmail();
    const short = await c.register(email, 'short', 'X').catch((e) => e);
    assert.ok(short instanceof authnode.WeakPassword);
    assert.match(short.message, /at least 8 bytes/);
    await assert.rejects(c.register(email, email.toUpperCase(), 'X'), authnode.WeakPassword);
    await assert.rejects(c.register(email, 'x'.repeat(1025), 'X'), authnode.WeakPassword);
  });

  it('answers email_taken to a second account for an address', async (t) => {
    const c = await using(t, box.node.host, box.node.port);
    const email = uniqueEmail();
    await c.register(email, PASSWORD, 'X');
    await assert.rejects(c.register(` ${email.toUpperCase()} `, PASSWORD, 'Y'), authnode.EmailTaken);
  });

  it('answers invalid_credentials late', async (t) => {
    const c = await using(t, box.node.host, box.node.port);
    const start = performance.now();
    const err = await c.login(uniqueEmail(), PASSWORD).catch((e) => e);
    assert.ok(performance.now() - start >= FAILURE_DELAY - 20);
    assert.ok(err instanceof authnode.InvalidCredentials);
    assert.equal(err.code, 'invalid_credentials');
  });

  it('answers invalid_token to each op that takes a token', async (t) => {
    const c = await using(t, box.node.host, box.node.port);
    await assert.rejects(c.whoami('nope'), authnode.InvalidToken);
    await assert.rejects(c.logout('nope'), authnode.InvalidToken);
    await assert.rejects(c.changePassword('nope', PASSWORD, 'a new secret'), authnode.InvalidToken);
  });
});

describe('rate_limited', () => {
  // The throttle on, a register budget of one a minute and short penalties.
  // Each test connects from an address of its own.
  const box = sharedNode(['--register-rate=1', '--max-penalty=600ms']);

  it('comes with retryAfterMs past the register rate', async (t) => {
    const c = await using(t, box.node.host, box.node.port, { localAddress: '127.0.0.2' });
    await c.register(uniqueEmail(), PASSWORD, 'X');
    const err = await c.register(uniqueEmail(), PASSWORD, 'X').catch((e) => e);
    assert.ok(err instanceof authnode.RateLimited, String(err));
    assert.ok(Number.isInteger(err.retryAfterMs));
    assert.ok(err.retryAfterMs > 0 && err.retryAfterMs <= 60_000);
  });

  it('answers part of a burst of guesses', async (t) => {
    const c = await using(t, box.node.host, box.node.port, { localAddress: '127.0.0.3' });
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => c.login('victim@example.org', `guess ${i}`)),
    );
    assert.ok(results.every((r) => r.status === 'rejected'));
    const errors = results.map((r) => r.reason);
    assert.ok(errors.every((e) => e instanceof authnode.InvalidCredentials || e instanceof authnode.RateLimited), String(errors));
    const limited = errors.filter((e) => e instanceof authnode.RateLimited);
    assert.ok(limited.length >= 1);
    for (const e of limited) assert.ok(e.retryAfterMs > 0);
  });
});

describe('busy', () => {
  describe('past max-connections', () => {
    const box = sharedNode(['--max-connections=1']);

    it('refuses the requests of a connection past the limit', async (t) => {
      // The previous test's connection may not be seen closed yet: a first
      // try may still be refused.
      let first;
      const deadline = Date.now() + 5000;
      for (;;) {
        first = new authnode.Client(box.node.host, box.node.port, { poolSize: 1 });
        try {
          await first.ping();
          break;
        } catch (e) {
          await first.close();
          if (!(e instanceof authnode.Busy) || Date.now() > deadline) throw e;
        }
        await sleep(10);
      }
      t.after(() => first.close());
      const second = new authnode.Client(box.node.host, box.node.port, { poolSize: 1 });
      t.after(() => second.close());
      const err = await second.login(uniqueEmail(), PASSWORD).catch((e) => e);
      assert.ok(err instanceof authnode.Busy, String(err));
      assert.match(err.message, /connections/);
      assert.equal(err.op, 'login');
      await first.ping();
    });
  });

  describe('past max-hash-queue', () => {
    // One hasher, a queue of one, and a hash that takes tens of milliseconds
    // (a higher cost than elsewhere, on purpose).
    const box = sharedNode(['--hashers=1', '--max-hash-queue=1', '--hash-ops=2', '--hash-mem=16777216', '--throttle=off']);

    it('refuses password jobs past the queue and they do not take effect', async (t) => {
      const c = await using(t, box.node.host, box.node.port);
      const emails = Array.from({ length: 8 }, () => uniqueEmail('queue'));
      const results = await Promise.allSettled(emails.map((e) => c.register(e, PASSWORD, 'Q')));
      const busy = emails.filter((_, i) => results[i].reason instanceof authnode.Busy);
      const made = emails.filter((_, i) => results[i].value instanceof authnode.User);
      assert.equal(busy.length + made.length, emails.length, String(results.map((r) => r.reason)));
      assert.ok(busy.length >= 1);
      assert.ok(made.length >= 1);
      // busy means "not done": those accounts do not exist.
      for (const email of busy) await c.register(email, PASSWORD, 'Q');
    });
  });
});

describe('database failures', () => {
  const box = sharedNode(['--throttle=off', '--backend-timeout=1s']);

  it('answers unavailable when the database does not answer in time', async (t) => {
    const c = await using(t, box.node.host, box.node.port);
    const email = uniqueEmail();
    await c.register(email, PASSWORD, 'U');
    const { token } = await c.login(email, PASSWORD);
    const lock = await holdWriteLock(box.node.db);
    try {
      await assert.rejects(c.register(uniqueEmail('locked'), PASSWORD, 'U'), authnode.Unavailable);
      await c.whoami(token); // reads still work meanwhile
    } finally {
      await lock.release();
    }
    await c.register(uniqueEmail(), PASSWORD, 'U');
  });

  it('answers internal when the database fails', async (t) => {
    execSql(box.node.db, "CREATE TRIGGER test_fail BEFORE INSERT ON users WHEN NEW.email LIKE 'internal-%' "
      + "BEGIN SELECT RAISE(ABORT, 'injected by the test'); END;");
    t.after(() => execSql(box.node.db, 'DROP TRIGGER test_fail;'));
    const c = await using(t, box.node.host, box.node.port);
    const err = await c.register(uniqueEmail('internal'), PASSWORD, 'I').catch((e) => e);
    assert.ok(err instanceof authnode.Internal, String(err));
    assert.equal(err.code, 'internal');
  });
});

describe('errors of the admin channel', () => {
  // forbidden, no_such_user, exists and backup_failed exist on the admin
  // channel only; the client's generic call reaches them there.
  const box = sharedNode([]);

  it('answers forbidden and no_such_user', async (t) => {
    const admin = await using(t, box.node.host, box.node.adminPort);
    const forbidden = await admin.call('user_show', { email: 'a@example.org', admin_key: 'wrong' }).catch((e) => e);
    assert.ok(forbidden instanceof authnode.Forbidden, String(forbidden));
    const key = box.node.adminKey;
    await assert.rejects(admin.call('user_show', { email: 'nobody@example.org', admin_key: key }), authnode.NoSuchUser);
  });

  it('answers exists and backup_failed to backups it cannot make', async (t) => {
    const admin = await using(t, box.node.host, box.node.adminPort);
    const key = box.node.adminKey;
    const taken = join(box.node.dir, 'taken.db');
    writeFileSync(taken, 'not a backup');
    await assert.rejects(admin.call('backup', { path: taken, admin_key: key }), authnode.Exists);
    const nowhere = join(box.node.dir, 'no', 'such', 'dir', 'backup.db');
    const failed = await admin.call('backup', { path: nowhere, admin_key: key }).catch((e) => e);
    assert.ok(failed instanceof authnode.BackupFailed, String(failed));
    const made = await admin.call('backup', { path: join(box.node.dir, 'backup.db'), admin_key: key });
    assert.ok(made.backup.bytes > 0);
  });
});
