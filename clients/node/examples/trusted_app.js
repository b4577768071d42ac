// An application server logging its users in through authnode.
//
// The node must list this server in --trusted-sources, so that it throttles
// the end user's address (clientAddr), not the server's.

import {
  Busy, Client, EmailTaken, InvalidCredentials, RateLimited, TransportError, Unavailable,
} from 'authnode';

const HOST = process.env.AUTHNODE_HOST ?? '127.0.0.1';
const PORT = Number(process.env.AUTHNODE_PORT ?? 7411);

const node = await Client.connect(HOST, PORT); // one per process, shared by all requests

/** Answer a web login form: an HTTP status and a body. */
async function handleLogin(email, password, remoteAddr, deviceCookie) {
  let session;
  try {
    session = await node.login(email, password, { clientAddr: remoteAddr, deviceToken: deviceCookie });
  } catch (e) {
    if (e instanceof InvalidCredentials) return [401, 'wrong email or password'];
    if (e instanceof RateLimited) return [429, `too many attempts, wait ${Math.floor(e.retryAfterMs / 1000) + 1} s`];
    if (e instanceof Busy || e instanceof Unavailable || e instanceof TransportError) {
      // No session for sure (Busy) or maybe one (the others); either way the
      // user just tries again. Never resend a login yourself.
      return [503, 'try again in a moment'];
    }
    throw e;
  }
  // Keep session.deviceToken (if set) in a long-lived cookie on that browser:
  // it exempts this user's logins from penalties others earn.
  return [200, `welcome ${session.user.name}`];
}

try {
  await node.register('cy@example.org', 'correct horse', 'Cy', { clientAddr: '203.0.113.9' });
} catch (e) {
  if (!(e instanceof EmailTaken)) throw e;
}
console.log(...await handleLogin('cy@example.org', 'correct horse', '203.0.113.9', undefined));
console.log(...await handleLogin('cy@example.org', 'wrong', '198.51.100.4', undefined));
await node.close();
