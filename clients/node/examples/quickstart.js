// Register, log in, check a token, log out.

import { Client, EmailTaken, InvalidCredentials } from 'authnode';

const HOST = process.env.AUTHNODE_HOST ?? '127.0.0.1';
const PORT = Number(process.env.AUTHNODE_PORT ?? 7411);

const node = await Client.connect(HOST, PORT);
try {
  try {
    await node.register('ann@example.org', 'correct horse', 'Ann');
  } catch (e) {
    if (!(e instanceof EmailTaken)) throw e; // registered by an earlier run
  }

  const session = await node.login('ann@example.org', 'correct horse');
  console.log('logged in:', session.user.name, 'until', session.expiresAt.toISOString());
  console.log('token of:', (await node.whoami(session.token)).email);

  try {
    await node.login('ann@example.org', 'not my password');
  } catch (e) {
    if (!(e instanceof InvalidCredentials)) throw e;
    console.log('refused:', e.code); // answered after the node's --failure-delay
  }

  await node.logout(session.token);
} finally {
  await node.close();
}
