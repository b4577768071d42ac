// One TCP connection to the node: writes request lines, reads reply lines
// and settles the promise registered under each reply's `id`. Any number of
// requests may be in flight at once; replies come back in any order (a ping
// overtakes a failed login the node holds back on purpose).
//
// When the connection ends, every request in flight is rejected with
// ConnectionLost (sent: true: it may have taken effect). Deciding whether to
// send anything again is the pool's business (client.js), not this file's.

import { performance } from 'node:perf_hooks';
import {
  ConnectionLost, LineTooLong, ProtocolError, Timeout, errorFromReply, refusalFor,
} from './errors.js';
import { MAX_REPLY_BYTES, decodeReply } from './protocol.js';

/** A connection-wide reason as the error of one request of `op`. */
function forOp(reason, op) {
  const text = `${op}: ${reason.message}; it may have taken effect`;
  if (reason instanceof ProtocolError) return new ProtocolError(text, { op, sent: true });
  if (reason instanceof ConnectionLost) return new ConnectionLost(text, { op, sent: true });
  return reason;
}

export class Connection {
  #socket;
  #peer;
  #pending = new Map(); // id -> { op, resolve, reject, timer }
  #buffer = Buffer.alloc(0);
  #closed = false;
  #refusal = null; // a `busy` line that refused the whole connection
  #lastError = null;
  #gone;

  /**
   * @param {import('node:net').Socket} socket a connected socket
   * @param {string} peer "host:port", for messages
   */
  constructor(socket, peer) {
    this.#socket = socket;
    this.#peer = peer;
    this.lastActivity = performance.now();
    this.#gone = new Promise((resolve) => socket.once('close', resolve));
    socket.on('data', (chunk) => this.#onData(chunk));
    socket.on('error', (err) => {
      this.#lastError = err;
    });
    // The node never half-closes: its end of the stream is the end of the
    // connection. Marking it closed at once, not at 'close', keeps requests
    // from being written into a connection that is going away (they would be
    // reported as maybe sent instead of sent again on a new one).
    socket.on('end', () => {
      this.#shut(new ConnectionLost(`connection to ${this.#peer} closed by the node`));
    });
    socket.on('close', () => {
      const why = this.#lastError ? `lost: ${this.#lastError.message}` : 'closed by the node';
      this.#shut(new ConnectionLost(`connection to ${this.#peer} ${why}`));
    });
  }

  /** The socket, for tests that break it on purpose. */
  get _socket() {
    return this.#socket;
  }

  get closed() {
    return this.#closed;
  }

  /** Requests sent and not answered (nor timed out) yet. */
  get inFlight() {
    return this.#pending.size;
  }

  idleFor() {
    return performance.now() - this.lastActivity;
  }

  /**
   * Send `line` and resolve with the reply carrying `id`.
   *
   * @param {number} id
   * @param {string} op
   * @param {Buffer} line
   * @param {number} deadline performance.now() time after which to give up
   * @param {number} timeout the call's timeout in ms, for the message
   */
  request(id, op, line, deadline, timeout) {
    if (this.#closed || !this.#socket.writable) return Promise.reject(this.#goneError(op));
    return new Promise((resolve, reject) => {
      const entry = { op, resolve, reject, timer: null };
      entry.timer = setTimeout(() => {
        if (this.#pending.get(id) !== entry) return;
        this.#pending.delete(id);
        reject(new Timeout(`${op}: no reply within ${timeout} ms`, { op, timeout }));
      }, Math.max(0, deadline - performance.now()));
      this.#pending.set(id, entry);
      // The socket queues the whole line: it goes out whole or the
      // connection breaks; it is never left half written.
      this.#socket.write(line);
      this.lastActivity = performance.now();
    });
  }

  /** Close the connection; requests in flight fail with `reason`. Resolves once the socket is closed. */
  async close(reason = new ConnectionLost('the client was closed')) {
    this.#shut(reason);
    let timer;
    await Promise.race([this.#gone, new Promise((resolve) => { timer = setTimeout(resolve, 5000); })]);
    clearTimeout(timer);
  }

  #goneError(op) {
    if (this.#refusal !== null) return refusalFor(this.#refusal, op);
    return new ConnectionLost(`${op}: connection to ${this.#peer} is closed; not sent`, { op, sent: false });
  }

  #take(id) {
    const entry = this.#pending.get(id);
    if (entry === undefined) return undefined;
    this.#pending.delete(id);
    clearTimeout(entry.timer);
    return entry;
  }

  #takeAll() {
    return [...this.#pending.keys()].map((id) => this.#take(id));
  }

  #onData(chunk) {
    if (this.#closed) return;
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    try {
      let start = 0;
      let end;
      while (!this.#closed && (end = this.#buffer.indexOf(0x0a, start)) >= 0) {
        this.#dispatch(this.#buffer.subarray(start, end));
        start = end + 1;
      }
      this.#buffer = this.#buffer.subarray(start);
      if (this.#buffer.length > MAX_REPLY_BYTES) {
        throw new ProtocolError('the node sent a line longer than any reply');
      }
    } catch (e) {
      this.#shut(e instanceof ProtocolError ? e : new ConnectionLost(`reader of ${this.#peer} failed: ${e}`));
    }
  }

  #dispatch(line) {
    this.lastActivity = performance.now();
    const reply = decodeReply(line);
    if (typeof reply.id === 'number') {
      this.#take(reply.id)?.resolve(reply); // else: a reply to a request that timed out
      return;
    }
    if (reply.id === undefined || reply.id === null) this.#connectionWide(reply);
  }

  // A reply without `id`. From this client that is `busy` (the connection
  // was refused: the node read nothing on it) or `line_too_long` (the node
  // closes the connection); anything else can only answer the one request in
  // flight, if there is exactly one.
  #connectionWide(reply) {
    const error = errorFromReply(reply);
    if (error.code === 'busy') {
      this.#refusal = error;
      this.#closed = true;
      for (const entry of this.#takeAll()) entry.reject(refusalFor(error, entry.op));
      this.#socket.destroy();
      return;
    }
    if (this.#pending.size === 1) {
      const [id] = this.#pending.keys();
      const entry = this.#take(id);
      entry.reject(refusalFor(error, entry.op));
      return;
    }
    if (error instanceof LineTooLong) {
      this.#shut(new ConnectionLost(
        `the node refused a line as too long and closed the connection: ${error.message}`,
      ));
    }
  }

  #shut(reason) {
    this.#closed = true;
    for (const entry of this.#takeAll()) entry.reject(forOp(reason, entry.op));
    this.#socket.destroy();
  }
}
