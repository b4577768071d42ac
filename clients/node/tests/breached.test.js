// The breached-password check through the client against a real node with
// a small index, built by the real `authctl breached build` from a corpus
// made here (the SHA-1 of a few words, with counts, in HIBP's format).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as authnode from '../index.js';
import { BINARY, Node, uniqueEmail } from './support.js';

const AUTHCTL = process.env.AUTHCTL_BINARY || join(dirname(BINARY), 'authctl');
const BREACHED = Array.from({ length: 50 }, (_, i) => `leaked-password-${i}`);
const FRESH = 'a fresh horse staple';

function buildIndex(dir) {
  const lines = BREACHED.map((w, i) => `${createHash('sha1').update(w).digest('hex').toUpperCase()}:${i + 1}`).sort();
  const corpus = join(dir, 'corpus.txt');
  writeFileSync(corpus, `${lines.join('\n')}\n`);
  const index = join(dir, 'breached.idx');
  execFileSync(AUTHCTL, ['breached', 'build', corpus, index, '--no-progress'], { stdio: 'ignore' });
  return index;
}

describe('a node with a breached-password index', () => {
  let dir;
  let index;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'authnode-js-breached-'));
    index = buildIndex(dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a breached password, accepts a fresh one, and flags a breached login', async () => {
    const node = new Node(['--throttle=off']);
    await node.start();
    const email = uniqueEmail('breached');
    let c = await authnode.Client.connect(node.host, node.port);
    await c.register(email, BREACHED[7], 'Ann'); // before the check was on
    await c.close();
    await node.stop();
    node.options = [...node.options, `--breached-passwords=${index}`];
    await node.start();
    try {
      c = await authnode.Client.connect(node.host, node.port);
      const err = await c.register(uniqueEmail('breached'), BREACHED[3], 'Bob').catch((e) => e);
      assert.ok(err instanceof authnode.BreachedPassword, String(err));
      assert.ok(err.message.includes('breached'));
      const other = uniqueEmail('fresh');
      await c.register(other, FRESH, 'Bob');
      assert.equal((await c.login(other, FRESH)).passwordBreached, false);
      assert.equal((await c.login(email, BREACHED[7])).passwordBreached, true);
      assert.equal((await c.stats()).breachedPasswords, 'on');
      await c.close();
    } finally {
      await node.close();
    }
  });
});
