// Many calls at once: they share the client's connections, and a slow
// answer holds up none of the others.

import { Client, EmailTaken } from 'authnode';

const HOST = process.env.AUTHNODE_HOST ?? '127.0.0.1';
const PORT = Number(process.env.AUTHNODE_PORT ?? 7411);

const node = await Client.connect(HOST, PORT, { poolSize: 2 });
try {
  await node.register('bob@example.org', 'correct horse', 'Bob').catch((e) => {
    if (!(e instanceof EmailTaken)) throw e;
  });
  const session = await node.login('bob@example.org', 'correct horse');

  // A wrong password is answered late; the other calls do not wait for it.
  const [guess, user, stats] = await Promise.allSettled([
    node.login('bob@example.org', 'a guess'),
    node.whoami(session.token),
    node.stats(),
  ]);
  console.log('guess:', guess.reason.name);
  console.log('token of:', user.value.email);
  console.log('logins so far:', stats.value.loginsOk);
  await node.logout(session.token);
} finally {
  await node.close();
}
