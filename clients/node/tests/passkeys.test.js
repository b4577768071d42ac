// Passkeys (docs/protocol.md, "Passkeys (WebAuthn)") against real nodes:
// registering one, listing it, signing in with it with and without the
// email, a replayed assertion, deleting it, the refusals of each method, the
// second factor of an account with TOTP, and a node without
// --webauthn-rp-id.
//
// The credentials come from PasskeyAuthenticator (tests/support.js), a
// software authenticator and browser (ES256 by node:crypto, CBOR of its own)
// on the origin https://example.com, the default --webauthn-origins of
// --webauthn-rp-id=example.com.
//
// The nodes run with --throttle=off (the tests share a node and all come
// from 127.0.0.1) and a short --failure-delay, which holds every failed
// sign-in.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import * as authnode from '../index.js';
import { Node, PYTHON, PasskeyAuthenticator, uniqueEmail } from './support.js';

const PASSWORD = 'correct horse';
const RP_ID = 'example.com';
const FAILURE_DELAY = 100;
const OPTIONS = ['--throttle=off', `--failure-delay=${FAILURE_DELAY}ms`, `--webauthn-rp-id=${RP_ID}`];

/** The TOTP code of `secret` for time step `step`, by pyotp (as second_factor.test.js computes them). */
function totp(secret, step) {
  const script = 'import pyotp, sys; print(pyotp.TOTP(sys.argv[1]).at(int(sys.argv[2])))';
  return execFileSync(PYTHON, ['-c', script, secret, String(step * 30)], { encoding: 'utf8', timeout: 10_000 }).trim();
}

/** The ids of allowCredentials or excludeCredentials. */
const ids = (descriptors) => descriptors.map((d) => d.id);

/** The rejection of `promise` (fails the test if it resolves). */
async function refusal(promise) {
  const outcome = await promise.then((value) => ({ value }), (error) => ({ error }));
  assert.ok('error' in outcome, `expected a refusal, got ${JSON.stringify(outcome.value)}`);
  return outcome.error;
}

/**
 * An authenticator with a passkey no node ever saw, its well-formed
 * registration and an assertion of it (for challenges no node made).
 */
function stranger() {
  const app = new PasskeyAuthenticator();
  const registration = app.create({ rp: { id: RP_ID }, user: { id: 'AAAA' }, challenge: 'AAAA' });
  return { app, registration, assertion: app.get({ rpId: RP_ID, challenge: 'AAAA' }) };
}

describe('passkeys', () => {
  let node;
  let c;
  before(async () => {
    node = await Node.start(OPTIONS);
    c = await authnode.Client.connect(node.host, node.port);
  });
  after(async () => {
    await c?.close();
    await node?.close();
  });

  /** A new account and a session token of it. */
  async function account(name = 'Pia') {
    const email = uniqueEmail('pk');
    await c.register(email, PASSWORD, name);
    return { email, token: (await c.login(email, PASSWORD)).token };
  }

  /** A new account with a passkey, and the authenticator holding it. */
  async function withPasskey(name = 'laptop') {
    const { email, token } = await account();
    const app = new PasskeyAuthenticator();
    const passkey = await c.passkeyRegisterFinish(token, app.create(await c.passkeyRegisterBegin(token, { name })));
    return { email, token, app, passkey };
  }

  async function signIn(app, email) {
    const begun = await c.passkeyLoginBegin({ email });
    return c.passkeyLoginFinish(begun.challengeId, app.get(begun.options));
  }

  it('registers a passkey, lists it and signs in with it, with and without the email', async () => {
    const { email, token } = await account('Pia');
    assert.deepEqual(await c.passkeysList(token), []);

    const options = await c.passkeyRegisterBegin(token, { name: 'laptop' });
    assert.equal(options.rp.id, RP_ID);
    assert.deepEqual([options.user.name, options.user.displayName], [email, 'Pia']);
    assert.equal(Buffer.from(options.user.id, 'base64url').length, 32); // a handle, not the email
    assert.ok(Buffer.from(options.challenge, 'base64url').length >= 16);
    assert.ok(options.pubKeyCredParams.some((p) => p.alg === -7));
    assert.deepEqual(options.excludeCredentials, []);
    assert.equal(options.attestation, 'none');
    assert.equal(options.timeout, 300_000);

    const app = new PasskeyAuthenticator();
    const credential = app.create(options);
    const start = Date.now();
    const passkey = await c.passkeyRegisterFinish(token, credential);
    assert.ok(passkey instanceof authnode.Passkey);
    assert.deepEqual([passkey.id, passkey.name, passkey.lastUsedAt], [credential.id, 'laptop', null]);
    assert.ok(passkey.createdAt instanceof Date);
    assert.ok(Math.abs(passkey.createdAt.getTime() - start) < 5000, String(passkey.createdAt));
    assert.deepEqual(passkey.extra, {});
    assert.deepEqual(await c.passkeysList(token), [passkey]);
    // The next registration's options exclude it.
    assert.deepEqual(ids((await c.passkeyRegisterBegin(token)).excludeCredentials), [passkey.id]);

    // With the email, the options list the account's passkeys.
    const begun = await c.passkeyLoginBegin({ email });
    assert.ok(begun instanceof authnode.PasskeyLoginOptions);
    assert.equal(typeof begun.challengeId, 'string');
    assert.equal(begun.options.rpId, RP_ID);
    assert.deepEqual(ids(begun.options.allowCredentials), [passkey.id]);
    const session = await c.passkeyLoginFinish(begun.challengeId, app.get(begun.options));
    assert.ok(session instanceof authnode.Session);
    assert.equal(session.token.length, 43);
    assert.equal(session.user.email, email);
    assert.equal(session.passwordBreached, false);
    assert.equal((await c.whoami(session.token)).email, email);
    const [used] = await c.passkeysList(token);
    assert.ok(used.lastUsedAt instanceof Date);
    assert.deepEqual([used.id, used.createdAt], [passkey.id, passkey.createdAt]);

    // Without it the browser offers what it holds (discoverable).
    const any = await c.passkeyLoginBegin();
    assert.deepEqual(any.options.allowCredentials, []);
    const other = await c.passkeyLoginFinish(any.challengeId, app.get(any.options));
    assert.equal((await c.whoami(other.token)).email, email);
  });

  it('names a passkey "Passkey" by default', async () => {
    const { token } = await account();
    const passkey = await c.passkeyRegisterFinish(token, new PasskeyAuthenticator().create(await c.passkeyRegisterBegin(token)));
    assert.equal(passkey.name, 'Passkey');
  });

  it('refuses a replayed assertion with InvalidCredentials, late', async () => {
    const { email, app } = await withPasskey();
    const begun = await c.passkeyLoginBegin({ email });
    const assertion = app.get(begun.options);
    await c.passkeyLoginFinish(begun.challengeId, assertion);
    const start = performance.now();
    const err = await refusal(c.passkeyLoginFinish(begun.challengeId, assertion));
    assert.ok(err instanceof authnode.InvalidCredentials, String(err));
    assert.equal(err.op, 'passkey_login_finish');
    assert.ok(performance.now() - start >= FAILURE_DELAY * 0.9, 'invalid_credentials is held');
    // Nor does it work with a new challenge: it signed the old one.
    const fresh = await c.passkeyLoginBegin({ email });
    await assert.rejects(c.passkeyLoginFinish(fresh.challengeId, assertion), authnode.InvalidCredentials);
    assert.equal((await signIn(app, email)).user.email, email);
  });

  it('refuses an unknown challenge and an unknown credential with InvalidCredentials', async () => {
    const { email, app } = await withPasskey();
    const begun = await c.passkeyLoginBegin({ email });
    await assert.rejects(c.passkeyLoginFinish('A'.repeat(43), app.get(begun.options)), authnode.InvalidCredentials);
    const unknown = stranger().app;
    const any = await c.passkeyLoginBegin();
    await assert.rejects(c.passkeyLoginFinish(any.challengeId, unknown.get(any.options)), authnode.InvalidCredentials);
  });

  it('deletes a passkey, and a second delete rejects with NoSuchPasskey', async () => {
    const { token, app, passkey } = await withPasskey();
    const second = await c.passkeyRegisterFinish(token, app.create(await c.passkeyRegisterBegin(token, { name: 'phone' })));
    assert.deepEqual((await c.passkeysList(token)).map((p) => p.name), ['laptop', 'phone']); // oldest first
    assert.equal(await c.passkeyDelete(token, passkey.id), undefined);
    assert.deepEqual(await c.passkeysList(token), [second]);
    const err = await refusal(c.passkeyDelete(token, passkey.id));
    assert.ok(err instanceof authnode.NoSuchPasskey, String(err));
    assert.deepEqual([err.code, err.op], ['no_such_passkey', 'passkey_delete']);
    // The deleted one signs in no more (the browser still offers it).
    const begun = await c.passkeyLoginBegin();
    const offered = { ...begun.options, allowCredentials: [{ type: 'public-key', id: passkey.id }] };
    await assert.rejects(c.passkeyLoginFinish(begun.challengeId, app.get(offered)), authnode.InvalidCredentials);
  });

  it('does not delete another account\'s passkey', async () => {
    const { token: owner, passkey } = await withPasskey();
    const { token: other } = await account();
    await assert.rejects(c.passkeyDelete(other, passkey.id), authnode.NoSuchPasskey);
    assert.deepEqual(await c.passkeysList(owner), [passkey]);
  });

  it('gives an email without passkeys the same made-up id every time', async () => {
    const { email } = await account();
    for (const who of [email, uniqueEmail('nobody')]) {
      const first = (await c.passkeyLoginBegin({ email: who })).options.allowCredentials;
      assert.equal(first.length, 1, who);
      assert.deepEqual((await c.passkeyLoginBegin({ email: who })).options.allowCredentials, first, who);
    }
  });

  it('refuses a credential that does not verify with PasskeyRefused', async () => {
    const { token } = await account();
    const elsewhere = new PasskeyAuthenticator({ origin: 'https://phish.example.net' });
    const err = await refusal(c.passkeyRegisterFinish(token, elsewhere.create(await c.passkeyRegisterBegin(token))));
    assert.ok(err instanceof authnode.PasskeyRefused, String(err));
    assert.deepEqual([err.code, err.op], ['passkey_refused', 'passkey_register_finish']);
    assert.match(err.message, /wrong_origin/);
    // Another account's challenge is not a live one of this account.
    const { token: other } = await account();
    const foreign = new PasskeyAuthenticator().create(await c.passkeyRegisterBegin(other));
    await assert.rejects(c.passkeyRegisterFinish(token, foreign), authnode.PasskeyRefused);
    assert.deepEqual(await c.passkeysList(token), []);
    await assert.rejects(c.passkeyRegisterFinish(token, { id: 'AAAA', type: 'public-key' }), authnode.BadRequest);
  });

  it('rejects a credential registered already with Conflict', async () => {
    const { token, app, passkey } = await withPasskey();
    const again = app.create(await c.passkeyRegisterBegin(token), { again: true });
    await assert.rejects(c.passkeyRegisterFinish(token, again), authnode.Conflict);
    assert.deepEqual(await c.passkeysList(token), [passkey]);
  });

  it('needs a live token', async () => {
    const { registration } = stranger();
    const calls = {
      passkey_register_begin: () => c.passkeyRegisterBegin('nope'),
      passkey_register_finish: () => c.passkeyRegisterFinish('nope', registration),
      passkeys_list: () => c.passkeysList('nope'),
      passkey_delete: () => c.passkeyDelete('nope', registration.id),
    };
    for (const [op, call] of Object.entries(calls)) {
      const err = await refusal(call());
      assert.ok(err instanceof authnode.InvalidToken, `${op}: ${err}`);
      assert.equal(err.op, op);
    }
  });

  it('asks an account with TOTP for a code when the passkey did not verify the user', async () => {
    const { email, token, app } = await withPasskey();
    const setup = await c.totpSetup(token);
    const codes = await c.totpEnable(token, totp(setup.secret, Math.floor(Date.now() / 30_000)));
    // Verified (a PIN, a fingerprint): two factors already.
    assert.deepEqual((await signIn(app, email)).user.secondFactors, ['totp', 'recovery_code']);
    app.userVerified = false;
    const begun = await c.passkeyLoginBegin({ email });
    const err = await refusal(c.passkeyLoginFinish(begun.challengeId, app.get(begun.options)));
    assert.ok(err instanceof authnode.SecondFactorRequired, String(err));
    assert.deepEqual([err.op, err.methods], ['passkey_login_finish', ['totp', 'recovery_code']]);
    assert.equal(err.passwordBreached, false);
    const session = await c.loginSecondFactor(err.challenge, codes[0]);
    assert.equal(session.user.email, email);
  });
});

describe('passkeys of a node without --webauthn-rp-id', () => {
  let node;
  let c;
  before(async () => {
    node = await Node.start(['--throttle=off']);
    c = await authnode.Client.connect(node.host, node.port);
  });
  after(async () => {
    await c?.close();
    await node?.close();
  });

  it('answers every passkey method with Unavailable, naming the option', async () => {
    const email = uniqueEmail('off');
    await c.register(email, PASSWORD, 'Oli');
    const { token } = await c.login(email, PASSWORD);
    const { registration, assertion } = stranger();
    const calls = {
      passkey_register_begin: () => c.passkeyRegisterBegin(token, { name: 'laptop' }),
      passkey_register_finish: () => c.passkeyRegisterFinish(token, registration),
      passkey_login_begin: () => c.passkeyLoginBegin({ email }),
      passkey_login_finish: () => c.passkeyLoginFinish('A'.repeat(43), assertion),
      passkeys_list: () => c.passkeysList(token),
      passkey_delete: () => c.passkeyDelete(token, registration.id),
    };
    for (const [op, call] of Object.entries(calls)) {
      const err = await refusal(call());
      assert.ok(err instanceof authnode.Unavailable, `${op}: ${err}`);
      assert.equal(err.op, op);
      assert.match(err.message, /--webauthn-rp-id/, op);
    }
    assert.equal((await c.whoami(token)).email, email); // nothing else is off
  });
});
