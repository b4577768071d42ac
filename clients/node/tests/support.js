// Test support: a real node started by the test, a fake node, raw lines.
//
// Every node runs on an ephemeral port (--port=0, the port read from its
// "listening on HOST:PORT" log line) with the lowest hash cost, a database in
// a temporary directory and no audit log. The binary is $AUTHNODE_BINARY, by
// default build/authnode of this repository. Every wait here is bounded.
//
// A node may also play one role of a cluster (`new Node(options, { role })`,
// see docs/deployment.md): a storage or hasher node listens only for other
// nodes (--node-port=0, read from its "node port on HOST:PORT" line); a
// gateway serves clients like a whole node and is ready once it has logged
// its links to the storage node and the hasher nodes it was given. Cluster
// starts a storage node, a hasher node and gateways. SmtpSink is an SMTP
// server on loopback for nodes that mail (the account codes).
// PasskeyAuthenticator is a passkey authenticator and browser in software,
// for the passkey tests.

import { spawn, spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

if (Number(process.versions.node.split('.')[0]) < 20) {
  throw new Error(`the Node client needs Node.js 20 or later; this is ${process.version}`);
}

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const BINARY = process.env.AUTHNODE_BINARY || join(REPO, 'build', 'authnode');
/**
 * Python, only to hold or break the node's SQLite database from outside and
 * to run the SMTP sink (it needs Debian's python3-aiosmtpd).
 */
export const PYTHON = process.env.AUTHNODE_PYTHON || '/usr/bin/python3';

/** The options every test node gets (docs/configuration.md). */
export const BASE_OPTIONS = ['--hash-ops=1', '--hash-mem=8192', '--failure-delay=300ms', '--audit=off'];
export const FAILURE_DELAY = 300;

const LISTEN = /listening on (\S+):(\d+) /;
const ADMIN = /admin channel on (\S+):(\d+) /;
const NODE_PORT = /node port on (\S+):(\d+) /;

/** The values of --role; "all" is one process doing everything. */
export const ROLES = ['all', 'storage', 'hasher', 'gateway'];

let emails = 0;

/** An address no other test of this run uses. */
export function uniqueEmail(prefix = 'user') {
  emails += 1;
  return `${prefix}-${process.pid}-${emails}@example.org`;
}

/** Poll `predicate` (sync or async) until true; throws after `timeout` ms. */
export async function waitUntil(predicate, timeout = 5000, step = 5) {
  const deadline = Date.now() + timeout;
  while (!(await predicate())) {
    if (Date.now() >= deadline) throw new Error(`condition not met in time: ${predicate}`);
    await sleep(step);
  }
}

/**
 * A real authnode process; `start()` again reuses its ports and database.
 *
 * `role` is the node's --role. A storage or hasher node has no client port:
 * its `nodePort` is what gateways are given (`nodeAddress`). A gateway needs
 * --storage= (and maybe --hasher-nodes=) in `options`; `start()` resolves
 * once it is linked to them.
 */
export class Node {
  constructor(options = [], { role = 'all' } = {}) {
    if (!existsSync(BINARY)) throw new Error(`no node binary at ${BINARY}: build it, or set AUTHNODE_BINARY`);
    if (!ROLES.includes(role)) throw new Error(`role must be one of ${ROLES.join(', ')}`);
    this.role = role;
    this.options = options;
    this.dir = mkdtempSync(join(tmpdir(), 'authnode-js-'));
    this.db = join(this.dir, 'auth.db');
    this.host = '127.0.0.1';
    this.port = 0;
    this.adminPort = 0;
    this.nodePort = 0;
    this.proc = null;
    this.exited = null; // a promise of the exit code
    this.logText = '';
    this.logWaiters = new Set();
  }

  /** Start a node with `options` (and `{ role }`) and wait until it listens. */
  static async start(options = [], settings = {}) {
    const node = new Node(options, settings);
    await node.start();
    return node;
  }

  /**
   * Start the node (on the ports it had before, if any) and wait until it
   * listens (a gateway: until it is linked to its peers too).
   */
  async start(timeout = 10_000) {
    if (this.running) throw new Error('already running');
    const args = [...this.roleOptions(), ...BASE_OPTIONS, ...this.options];
    this.logText = '';
    const proc = spawn(BINARY, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc = proc;
    this.exited = new Promise((done) => proc.once('exit', (code, signal) => done(code ?? signal)));
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (text) => {
      this.logText += text;
      for (const wake of this.logWaiters) wake();
    });
    this.exited.then(() => { for (const wake of this.logWaiters) wake(); });
    if (this.role === 'storage' || this.role === 'hasher') {
      const found = NODE_PORT.exec(await this.waitLog('node port on', timeout));
      if (!found) throw new Error(`no node port in the log:\n${this.logText}`);
      this.nodePort = Number(found[2]);
      return;
    }
    const admin = ADMIN.exec(await this.waitLog('admin channel on', timeout));
    const listen = LISTEN.exec(await this.waitLog('listening on', 1000));
    if (!admin || !listen) throw new Error(`no ports in the log:\n${this.logText}`);
    this.port = Number(listen[2]);
    this.adminPort = Number(admin[2]);
    for (const text of this.links()) await this.waitLog(text, timeout);
  }

  /** The role and the ports and files it takes. */
  roleOptions() {
    const role = this.role === 'all' ? [] : [`--role=${this.role}`];
    if (this.role === 'storage') return [...role, `--node-port=${this.nodePort}`, `--db=${this.db}`];
    if (this.role === 'hasher') return [...role, `--node-port=${this.nodePort}`];
    // A gateway keeps no data; its --db only names its admin key file.
    return [...role, `--port=${this.port}`, `--admin-port=${this.adminPort}`, `--db=${this.db}`];
  }

  /** The log lines that say a gateway is ready for requests. */
  links() {
    if (this.role !== 'gateway') return [];
    const links = ['linked to storage node'];
    if (this.options.some((o) => o.startsWith('--hasher-nodes='))) links.push('linked to hasher node');
    return links;
  }

  /** HOST:PORT of a storage or hasher node, for gateways. */
  get nodeAddress() {
    if (!this.nodePort) throw new Error('not a started storage or hasher node');
    return `${this.host}:${this.nodePort}`;
  }

  get running() {
    return this.proc !== null && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** The first log line (since the last start) containing `text`; throws after `timeout` ms. */
  async waitLog(text, timeout = 10_000) {
    const deadline = Date.now() + timeout;
    for (;;) {
      const complete = this.logText.slice(0, this.logText.lastIndexOf('\n') + 1);
      const line = complete.split('\n').find((l) => l.includes(text));
      if (line !== undefined) return line;
      const left = deadline - Date.now();
      if (left <= 0 || !this.running) throw new Error(`node never logged ${JSON.stringify(text)}; log:\n${this.logText}`);
      await new Promise((wake) => {
        const done = () => { clearTimeout(timer); this.logWaiters.delete(done); wake(); };
        const timer = setTimeout(done, Math.min(left, 100));
        this.logWaiters.add(done);
      });
    }
  }

  /** Send `signal` and wait for the node to exit; its exit code (or signal name). */
  async stop(signal = 'SIGTERM', timeout = 15_000) {
    if (!this.running) return this.proc === null ? 0 : this.exited;
    this.proc.kill(signal);
    let timer;
    const outcome = await Promise.race([
      this.exited,
      new Promise((done) => { timer = setTimeout(() => done('timeout'), timeout); }),
    ]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      this.proc.kill('SIGKILL');
      await this.exited;
      throw new Error(`node did not stop within ${timeout} ms; log:\n${this.logText}`);
    }
    return outcome;
  }

  /** SIGKILL: a crash. */
  async kill() {
    await this.stop('SIGKILL');
  }

  /** Stop the node and remove its directory. */
  async close() {
    try {
      await this.stop();
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }

  get adminKey() {
    return readFileSync(`${this.db}.admin-key`, 'utf8').trim();
  }

  /** A raw line connection to the public port (or `port`). */
  raw(options = {}) {
    return RawConnection.open(this.host, options.port ?? this.port, options.localAddress);
  }
}

/**
 * A storage node, a hasher node and `gateways` gateways, all on this machine.
 * The gateways hash on the hasher node only (--hashers=0), so that every part
 * of the cluster takes part in a login. `cluster.gateways[i]` are Nodes with
 * the client port; `close()` stops everything and removes the files.
 */
export class Cluster {
  static async start({ gateways = 2, options = [] } = {}) {
    const cluster = new Cluster();
    try {
      cluster.storage = await Node.start([], { role: 'storage' });
      cluster.hasher = await Node.start([], { role: 'hasher' });
      const peers = [
        `--storage=${cluster.storage.nodeAddress}`,
        `--hasher-nodes=${cluster.hasher.nodeAddress}`,
        '--hashers=0',
      ];
      for (let i = 0; i < gateways; i += 1) {
        cluster.gateways.push(await Node.start([...peers, ...options], { role: 'gateway' }));
      }
    } catch (e) {
      await cluster.close();
      throw e;
    }
    return cluster;
  }

  constructor() {
    this.storage = null;
    this.hasher = null;
    this.gateways = [];
  }

  /** Every node's log, for a failure message. */
  logs() {
    const nodes = [['storage', this.storage], ['hasher', this.hasher],
      ...this.gateways.map((g, i) => [`gateway ${i + 1}`, g])];
    return nodes.filter(([, n]) => n).map(([name, n]) => `--- ${name}:\n${n.logText}`).join('');
  }

  /**
   * Stop the gateways, the hasher and the storage node, in that order
   * (SIGTERM; each must stop in time).
   */
  async close() {
    const errors = [];
    for (const node of [...this.gateways, this.hasher, this.storage]) {
      if (node) await node.close().catch((e) => errors.push(e));
    }
    if (errors.length > 0) throw errors[0];
  }
}

/** A plain socket speaking lines, for what the client never sends. */
export class RawConnection {
  constructor(socket) {
    this.socket = socket;
    this.buffer = '';
    this.ended = false;
    this.wake = () => {};
    socket.setEncoding('utf8');
    socket.on('data', (text) => { this.buffer += text; this.wake(); });
    socket.on('close', () => { this.ended = true; this.wake(); });
    socket.on('error', () => {});
  }

  static open(host, port, localAddress) {
    return new Promise((done, fail) => {
      const socket = net.connect({ host, port, localAddress });
      socket.once('error', fail);
      socket.once('connect', () => done(new RawConnection(socket)));
    });
  }

  send(text) {
    this.socket.write(text);
  }

  sendJson(obj) {
    this.send(`${JSON.stringify(obj)}\n`);
  }

  /** The next reply, or null if the node closed the connection. */
  async read(timeout = 5000) {
    const deadline = Date.now() + timeout;
    while (!this.buffer.includes('\n')) {
      if (this.ended) return null;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('no reply in time');
      await new Promise((wake) => {
        const timer = setTimeout(wake, left);
        this.wake = () => { clearTimeout(timer); wake(); };
      });
    }
    const at = this.buffer.indexOf('\n');
    const line = this.buffer.slice(0, at);
    this.buffer = this.buffer.slice(at + 1);
    return JSON.parse(line);
  }

  close() {
    this.socket.destroy();
  }
}

/**
 * A TCP server on an ephemeral port that runs `handler(peer, index)` for each
 * accepted connection (index counts from 0), for transport cases a real node
 * does not produce on demand. `peer` reads request lines and writes replies;
 * `lines` collects every request line received.
 */
export class FakeNode {
  constructor(handler) {
    this.handler = handler;
    this.lines = [];
    this.sockets = new Set();
    let index = 0;
    this.server = net.createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      const peer = new FakePeer(socket, this);
      Promise.resolve()
        .then(() => this.handler(peer, index++))
        .catch(() => {})
        .finally(() => socket.destroy());
    });
  }

  static async start(handler) {
    const fake = new FakeNode(handler);
    await new Promise((done) => fake.server.listen(0, '127.0.0.1', done));
    fake.port = fake.server.address().port;
    return fake;
  }

  async close() {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((done) => this.server.close(done));
  }
}

/** One connection of a FakeNode. */
class FakePeer {
  constructor(socket, fake) {
    this.socket = socket;
    this.fake = fake;
    this.raw = new RawConnection(socket);
  }

  /** Read `count` request lines (throws if they do not come within `timeout` ms). */
  async readLines(count, timeout = 5000) {
    const out = [];
    while (out.length < count) {
      const obj = await this.raw.read(timeout);
      if (obj === null) throw new Error('client closed');
      out.push(obj);
      this.fake.lines.push(obj);
    }
    return out;
  }

  write(obj) {
    this.socket.write(`${JSON.stringify(obj)}\n`);
  }

  writeRaw(text) {
    this.socket.write(text);
  }
}

/** A code as the node mails it (docs/protocol.md, "Account codes"). */
export const CODE = /[0-9A-Z]{4}-[0-9A-Z]{4}/;

/**
 * An SMTP server on loopback keeping each mail it accepts as DIR/NNNN.eml
 * (tests/support/smtp_sink.py, Debian's python3-aiosmtpd, the sink the
 * node's own tests use). `nodeOptions()` make a node mail through it;
 * `code(to, subject)` reads the code a user would type from the newest
 * matching mail.
 */
export class SmtpSink {
  static async start(timeout = 10_000) {
    const sink = new SmtpSink();
    sink.dir = mkdtempSync(join(tmpdir(), 'authnode-js-smtp-'));
    const script = join(REPO, 'tests', 'support', 'smtp_sink.py');
    const proc = spawn(PYTHON, [script, '--dir', sink.dir, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    sink.proc = proc;
    sink.exited = new Promise((done) => proc.once('exit', done));
    let out = '';
    proc.stdout.setEncoding('utf8');
    try {
      sink.port = await new Promise((done, fail) => {
        const timer = setTimeout(() => fail(new Error(`the SMTP sink did not listen within ${timeout} ms`)), timeout);
        proc.stdout.on('data', (text) => {
          out += text;
          const found = /^port (\d+)$/m.exec(out);
          if (found) { clearTimeout(timer); done(Number(found[1])); }
        });
        sink.exited.then(() => { clearTimeout(timer); fail(new Error('the SMTP sink exited')); });
      });
    } catch (e) {
      await sink.close();
      throw e;
    }
    return sink;
  }

  nodeOptions() {
    return [`--smtp-url=smtp://127.0.0.1:${this.port}`, '--mail-from=noreply@example.org', '--app-url=https://app.example.org'];
  }

  /** Every mail received so far, oldest first, raw. */
  mails() {
    return readdirSync(this.dir).filter((n) => n.endsWith('.eml')).sort()
      .map((n) => readFileSync(join(this.dir, n), 'utf8'));
  }

  /**
   * The code in the newest mail to `to` whose Subject contains `subject`,
   * waiting for one at most `timeout` ms (the node mails from its outbox,
   * shortly after the request).
   */
  async code(to, subject, timeout = 10_000) {
    const deadline = Date.now() + timeout;
    for (;;) {
      for (const raw of this.mails().reverse()) {
        const text = raw.replaceAll('\r\n', '\n');
        const at = text.indexOf('\n\n');
        const headers = text.slice(0, at).toLowerCase().split('\n');
        if (headers.includes(`x-sink-to: ${to.toLowerCase()}`)
            && headers.some((h) => h.startsWith('subject:') && h.includes(subject.toLowerCase()))) {
          const found = CODE.exec(text.slice(at));
          if (!found) throw new Error(`no code in the mail:\n${raw}`);
          return found[0];
        }
      }
      if (Date.now() >= deadline) throw new Error(`no mail to ${to} about ${JSON.stringify(subject)} within ${timeout} ms`);
      await sleep(20);
    }
  }

  /** Stop the sink (SIGTERM, bounded) and remove its directory. */
  async close() {
    try {
      if (this.proc.exitCode === null && this.proc.signalCode === null) {
        this.proc.kill('SIGTERM');
        let timer;
        const outcome = await Promise.race([
          this.exited,
          new Promise((done) => { timer = setTimeout(() => done('timeout'), 5000); }),
        ]);
        clearTimeout(timer);
        if (outcome === 'timeout') {
          this.proc.kill('SIGKILL');
          await this.exited;
        }
      }
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

function cborHead(major, n) {
  if (n < 24) return Buffer.from([(major << 5) | n]);
  const size = n < 0x100 ? 1 : n < 0x10000 ? 2 : n < 0x100000000 ? 4 : 8;
  const out = Buffer.alloc(1 + size);
  out[0] = (major << 5) | { 1: 24, 2: 25, 4: 26, 8: 27 }[size];
  if (size === 8) out.writeBigUInt64BE(BigInt(n), 1);
  else out.writeUIntBE(n, 1, size);
  return out;
}

/**
 * CBOR (RFC 8949) of integers, Buffers, strings, arrays and Maps (keys in
 * the order given; a plain object for text keys), what an authenticator
 * writes: an encoder of its own, not the node's libcbor.
 */
export function cbor(value) {
  if (Number.isSafeInteger(value)) return value >= 0 ? cborHead(0, value) : cborHead(1, -1 - value);
  if (Buffer.isBuffer(value)) return Buffer.concat([cborHead(2, value.length), value]);
  if (typeof value === 'string') {
    const text = Buffer.from(value, 'utf8');
    return Buffer.concat([cborHead(3, text.length), text]);
  }
  if (Array.isArray(value)) return Buffer.concat([cborHead(4, value.length), ...value.map(cbor)]);
  if (value === null || typeof value !== 'object') throw new TypeError(`no CBOR for ${value}`);
  const entries = value instanceof Map ? [...value] : Object.entries(value);
  return Buffer.concat([cborHead(5, entries.length), ...entries.flatMap(([k, v]) => [cbor(k), cbor(v)])]);
}

/**
 * The origin of the pages the passkey tests' "browser" runs on: the default
 * --webauthn-origins of --webauthn-rp-id=example.com.
 */
export const PASSKEY_ORIGIN = 'https://example.com';

const UP = 0x01;
const UV = 0x04;
const AT = 0x40;
const sha256 = (data) => createHash('sha256').update(data).digest();

/**
 * A passkey authenticator and the browser around it, in software: it takes
 * the options the node sends and answers with what
 * navigator.credentials.create() / get() and toJSON() would hand the page
 * (RegistrationResponseJSON with attestation format "none",
 * AuthenticationResponseJSON), binary members base64url without padding.
 *
 * ES256 keys and signatures (DER, as WebAuthn has them) come from node:crypto;
 * the CBOR (attestation object, COSE key) is cbor() above. One signature
 * counter for all its credentials, one up per signature. `origin` goes into
 * clientDataJSON; with `userVerified` false the authenticator data says the
 * user was present but not verified (no PIN, no fingerprint).
 */
export class PasskeyAuthenticator {
  constructor({ origin = PASSKEY_ORIGIN, userVerified = true } = {}) {
    this.origin = origin;
    this.userVerified = userVerified;
    this.counter = 0;
    /** { id (Buffer), privateKey, rpId, userHandle }, oldest first. */
    this.credentials = [];
  }

  clientData(type, challenge) {
    return Buffer.from(JSON.stringify({ type, challenge, origin: this.origin, crossOrigin: false }));
  }

  flags(extra = 0) {
    return Buffer.from([UP | (this.userVerified ? UV : 0) | extra]);
  }

  counterBytes() {
    const out = Buffer.alloc(4);
    out.writeUInt32BE(this.counter);
    return out;
  }

  /**
   * A new credential for the creation options' rp and user (with `again`:
   * this authenticator's newest credential once more, as one that ignores
   * excludeCredentials would).
   */
  create(options, { again = false } = {}) {
    let credential = this.credentials.at(-1);
    if (!again) {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      credential = { id: randomBytes(32), privateKey, rpId: options.rp.id, userHandle: options.user.id };
      this.credentials.push(credential);
    }
    const jwk = credential.privateKey.export({ format: 'jwk' });
    const coseKey = new Map([
      [1, 2], [3, -7], [-1, 1], [-2, Buffer.from(jwk.x, 'base64url')], [-3, Buffer.from(jwk.y, 'base64url')],
    ]);
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(credential.id.length);
    const authData = Buffer.concat([
      sha256(options.rp.id), this.flags(AT), this.counterBytes(), Buffer.alloc(16), // aaguid
      idLength, credential.id, cbor(coseKey),
    ]);
    const attestation = cbor({ fmt: 'none', attStmt: {}, authData });
    const id = credential.id.toString('base64url');
    return {
      id,
      rawId: id,
      type: 'public-key',
      response: {
        clientDataJSON: this.clientData('webauthn.create', options.challenge).toString('base64url'),
        attestationObject: attestation.toString('base64url'),
        transports: ['internal'],
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }

  /**
   * An assertion for the request options: signed with the first of
   * allowCredentials that is this authenticator's or, when the list is
   * empty, with its newest credential for the rpId; null when it has none of
   * those.
   */
  get(options) {
    const allowed = (options.allowCredentials ?? []).map((c) => c.id);
    const mine = this.credentials.filter((c) => c.rpId === options.rpId);
    const credential = allowed.length > 0
      ? mine.find((c) => allowed.includes(c.id.toString('base64url')))
      : mine.at(-1);
    if (credential === undefined) return null;
    this.counter += 1;
    const authData = Buffer.concat([sha256(options.rpId), this.flags(), this.counterBytes()]);
    const clientData = this.clientData('webauthn.get', options.challenge);
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientData)]), credential.privateKey);
    const id = credential.id.toString('base64url');
    return {
      id,
      rawId: id,
      type: 'public-key',
      response: {
        clientDataJSON: clientData.toString('base64url'),
        authenticatorData: authData.toString('base64url'),
        signature: signature.toString('base64url'),
        userHandle: credential.userHandle,
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }
}

/**
 * Run SQL on the node's database from outside, through Python's sqlite3 (Node
 * 20 has no SQLite of its own), as the Python client's tests do.
 */
export function execSql(db, sql) {
  const done = spawnSync(PYTHON, ['-c', 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1], isolation_level=None); c.executescript(sys.argv[2]); c.close()', db, sql], { encoding: 'utf8', timeout: 10_000 });
  if (done.status !== 0) throw new Error(`sqlite failed: ${done.stderr}`);
}

/**
 * Hold SQLite's write lock on `db` until `release()` is awaited: the node's
 * writes wait (and, past --backend-timeout, answer unavailable).
 */
export async function holdWriteLock(db) {
  const script = [
    'import sqlite3, sys',
    'c = sqlite3.connect(sys.argv[1], timeout=0, isolation_level=None)',
    'c.execute("BEGIN IMMEDIATE")',
    'print("locked", flush=True)',
    'sys.stdin.readline()',
    'c.execute("ROLLBACK")',
    'c.close()',
  ].join('\n');
  const proc = spawn(PYTHON, ['-c', script, db], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise((done) => proc.once('exit', done));
  let out = '';
  proc.stdout.setEncoding('utf8');
  await new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error('could not lock the database in time')), 10_000);
    proc.stdout.on('data', (text) => {
      out += text;
      if (out.includes('locked')) { clearTimeout(timer); done(); }
    });
    exited.then(() => { clearTimeout(timer); fail(new Error('the lock helper exited')); });
  });
  return {
    async release() {
      proc.stdin.end('\n');
      await exited;
    },
  };
}
