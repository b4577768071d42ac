// Compiled (never run) by the node_client_types test against index.d.ts:
// if the declarations drift from how the client is used, tsc fails.

import {
  AuthnodeClientError, AuthnodeError, Client, Conflict, ConnectionLost, ERROR_CLASSES, EmailNotVerified, InvalidCode,
  InvalidCredentials, NoSuchPasskey, Passkey, PasskeyLoginOptions, PasskeyRefused, RETRY_SAFE_OPS, RateLimited,
  SecondFactorRequired, Session, Stats, Timeout, TotpSetup, TransportError, User,
} from 'authnode';
import type {
  AuthenticationResponseJSON, PasskeyCreationOptions, PasskeyRequestOptions, RegistrationResponseJSON,
} from 'authnode';

/** Stands in for the browser: navigator.credentials.create / get, then toJSON(). */
declare function browserCreate(options: PasskeyCreationOptions): Promise<RegistrationResponseJSON>;
declare function browserGet(options: PasskeyRequestOptions): Promise<AuthenticationResponseJSON>;
/** A request body as a web framework hands it over. */
declare const body: Record<string, unknown>;

export async function usage(): Promise<void> {
  const node: Client = await Client.connect('127.0.0.1', 7411, { poolSize: 2, authTimeout: 90_000, maxIdle: null });
  const user: User = await node.register('ann@example.org', 'correct horse', 'Ann', { clientAddr: '203.0.113.9' });
  const created: Date = user.createdAt;
  const last: Date | null = user.lastLoginAt;
  const session: Session = await node.login('ann@example.org', 'correct horse', { deviceToken: 'x', timeout: 5000 });
  const device: string | null = session.deviceToken;
  const me: User = await node.whoami(session.token);
  await node.changePassword(session.token, 'correct horse', 'a new secret', { clientAddr: '203.0.113.9' });
  const stats: Stats = await node.stats();
  const counted: number = stats.requestsTotal + stats.loginsFailed + stats.idleClosedTotal
    + stats.mailsSentTotal + stats.mailsFailedTotal + stats.mailsDroppedTotal + stats.outboxDepth
    + stats.secondFactorChallengesTotal + stats.secondFactorOkTotal + stats.secondFactorFailedTotal;
  const verified: boolean = user.emailVerified;
  await node.recoveryStart('ann@example.org', { clientAddr: '203.0.113.9', timeout: 1000 });
  try {
    const recovered: Session = await node.recoveryFinish('ann@example.org', 'K7QM-2XPA', 'a new secret', { clientAddr: '203.0.113.9' });
    void recovered;
  } catch (e) {
    if (e instanceof InvalidCode) void e.code;
  }
  const sent: boolean = await node.verifyEmailStart(session.token);
  const proven: User = await node.verifyEmailFinish(session.token, 'K7QM-2XPA', { timeout: 5000 });
  await node.changeEmailStart(session.token, 'a new secret', 'ann@example.net', { clientAddr: '203.0.113.9' });
  const moved: User = await node.changeEmailFinish(session.token, 'K7QM-2XPA');
  void [verified, sent, proven, moved];
  try {
    const setup: TotpSetup = await node.totpSetup(session.token, { timeout: 1000 });
    const seed: string = setup.secret;
    const qr: string = setup.uri;
    const codes: string[] = await node.totpEnable(session.token, '492039', { clientAddr: '203.0.113.7' });
    const renewed: string[] = await node.recoveryCodesRenew(session.token, codes[0], { timeout: 5000 });
    void [seed, qr, renewed];
  } catch (e) {
    if (e instanceof Conflict) void e.code;
  }
  const factors: string[] = me.secondFactors;
  try {
    await node.login('ann@example.org', 'a new secret');
  } catch (e) {
    if (e instanceof SecondFactorRequired) {
      const challenge: string = e.challenge;
      const methods: string[] = e.methods;
      const until: Date = e.expiresAt;
      const second: Session = await node.loginSecondFactor(challenge, '492 039', { clientAddr: '203.0.113.9', timeout: 5000 });
      void [methods, until, second.user.secondFactors];
    }
  }
  await node.totpDisable(session.token, 'a new secret', 'K7QM-2XPA', { clientAddr: '203.0.113.9' });
  const made = new SecondFactorRequired('second_factor_required', 'm', {
    challenge: 'c', methods: ['totp'], expiresAt: new Date(),
  });
  void [factors, made];
  try {
    const creation: PasskeyCreationOptions = await node.passkeyRegisterBegin(session.token, { name: 'laptop', timeout: 1000 });
    const rpId: string = creation.rp.id;
    const handle: string = creation.user.id;
    const added: Passkey = await node.passkeyRegisterFinish(session.token, await browserCreate(creation));
    await node.passkeyRegisterFinish(session.token, body, { timeout: 1000 });
    const passkeys: Passkey[] = await node.passkeysList(session.token);
    const lastUsed: Date | null = passkeys[0].lastUsedAt;
    const begun: PasskeyLoginOptions = await node.passkeyLoginBegin({ email: 'ann@example.org', clientAddr: '203.0.113.9' });
    const anyPasskey: PasskeyLoginOptions = await node.passkeyLoginBegin();
    const challengeId: string = begun.challengeId;
    const allowed: string[] = (begun.options.allowCredentials ?? []).map((c) => c.id);
    const signedIn: Session = await node.passkeyLoginFinish(challengeId, await browserGet(begun.options), { clientAddr: '203.0.113.9', deviceToken: 'from-a-cookie' });
    await node.passkeyLoginFinish(anyPasskey.challengeId, body);
    await node.passkeyDelete(session.token, added.id, { timeout: 1000 });
    void [rpId, handle, lastUsed, allowed, signedIn.user.email, added.createdAt, added.name];
  } catch (e) {
    if (e instanceof PasskeyRefused || e instanceof NoSuchPasskey) void e.message;
  }
  const raw = await node.call('user_list', { limit: 1 }, { retry: true, timeout: 1000 });
  const ok: boolean = raw.ok;
  await node.ping({ timeout: 100 });
  await node.logout(session.token);
  const load: number = node.inFlight + node.openConnections;
  try {
    await node.login('ann@example.org', 'wrong');
  } catch (e) {
    if (e instanceof RateLimited) {
      const wait: number | null = e.retryAfterMs;
      void wait;
    } else if (e instanceof EmailNotVerified) {
      const why: string = e.message;
      void why;
    } else if (e instanceof InvalidCredentials) {
      const code: string = e.code;
      void code;
    } else if (e instanceof ConnectionLost) {
      const sent: boolean = e.sent;
      void sent;
    } else if (e instanceof Timeout) {
      const ms: number | null = e.timeout;
      void ms;
    }
    const family: boolean = e instanceof AuthnodeError || e instanceof TransportError || e instanceof AuthnodeClientError;
    void family;
  }
  const cls: typeof AuthnodeError | undefined = ERROR_CLASSES['busy'];
  const safe: boolean = RETRY_SAFE_OPS.has('ping');
  await node.close();
  void [created, last, device, me, counted, ok, load, cls, safe];
}
