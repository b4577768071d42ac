// The examples of docs/clients.md are real programs, and they work.
//
// docs/clients.md includes each file of clients/node/examples/ verbatim,
// after a marker line `<!-- example: PATH -->`; this test checks that the
// document's copy equals the file, then runs the file against a node (the
// quickstarts twice: they must survive being run again).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Node, REPO } from './support.js';

const DOC = join(REPO, 'docs', 'clients.md');
const EXAMPLES = join(REPO, 'clients', 'node', 'examples');
const BLOCK = /<!-- example: (\S+) -->\n```\w*\n([\s\S]*?)```/g;

function docExamples() {
  return Object.fromEntries([...readFileSync(DOC, 'utf8').matchAll(BLOCK)].map((m) => [m[1], m[2]]));
}

describe('the examples of docs/clients.md', () => {
  it('are the files of clients/node/examples verbatim', () => {
    const blocks = docExamples();
    const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.js')).sort();
    assert.ok(files.length >= 3);
    for (const file of files) {
      const name = `clients/node/examples/${file}`;
      assert.ok(name in blocks, `docs/clients.md does not include ${name}`);
      assert.equal(blocks[name], readFileSync(join(EXAMPLES, file), 'utf8'), name);
    }
  });

  describe('run against a node', () => {
    // The trusted-caller example needs this node to trust 127.0.0.1.
    let node;
    before(async () => {
      node = await Node.start(['--trusted-sources=127.0.0.1/32']);
    });
    after(async () => {
      await node?.close();
    });

    async function run(file) {
      const env = { ...process.env, AUTHNODE_HOST: node.host, AUTHNODE_PORT: String(node.port) };
      const { stdout } = await promisify(execFile)(process.execPath, [join(EXAMPLES, file)], { env, timeout: 30_000 });
      return stdout;
    }

    it('quickstart logs in and is refused a wrong password', async () => {
      for (let i = 0; i < 2; i++) {
        const out = await run('quickstart.js');
        assert.match(out, /token of: ann@example\.org/);
        assert.match(out, /refused: invalid_credentials/);
      }
    });

    it('concurrent answers the quick calls alongside a failed login', async () => {
      for (let i = 0; i < 2; i++) {
        const out = await run('concurrent.js');
        assert.match(out, /guess: InvalidCredentials/);
        assert.match(out, /token of: bob@example\.org/);
      }
    });

    it('trusted_app answers its login form', async () => {
      const out = await run('trusted_app.js');
      assert.deepEqual(out.trim().split('\n'), ['200 welcome Cy', '401 wrong email or password']);
    });
  });
});
