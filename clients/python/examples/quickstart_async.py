"""The asyncio client: many requests at once over a small pool."""

import asyncio
import os

import authnode

HOST = os.environ.get("AUTHNODE_HOST", "127.0.0.1")
PORT = int(os.environ.get("AUTHNODE_PORT", "7411"))


async def main() -> None:
    async with authnode.AsyncClient.connect(HOST, PORT, pool_size=2) as node:
        try:
            await node.register("bob@example.org", "correct horse", "Bob")
        except authnode.EmailTaken:
            pass
        session = await node.login("bob@example.org", "correct horse")

        # A wrong password is answered late; the other calls do not wait
        # for it.
        wrong, user, stats = await asyncio.gather(
            node.login("bob@example.org", "a guess"),
            node.whoami(session.token),
            node.stats(),
            return_exceptions=True,
        )
        print("guess:", type(wrong).__name__)
        print("token of:", user.email)
        print("logins so far:", stats.logins_ok)
        await node.logout(session.token)


asyncio.run(main())
