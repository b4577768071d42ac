"""The async client's pool: requests go to the least busy connection, and
a broken connection is replaced while the others keep serving."""

from __future__ import annotations

import asyncio

import authnode
from tests.support import NodeTestCase, unique_email

PASSWORD = "correct horse"


class PoolTest(NodeTestCase):
    NODE_OPTIONS = ["--throttle=off", "--failure-delay=500ms"]

    def test_the_pool_opens_its_connections(self) -> None:
        async def run() -> None:
            async with authnode.AsyncClient.connect(self.node.host, self.node.port, pool_size=3) as c:
                self.assertEqual(c.open_connections, 3)
                # The kernel completes a connect before the node has taken
                # the connection up (and counted it): on a busy machine the
                # third may still be on its way, so look again, a few times.
                for _ in range(40):
                    stats = await c.stats()
                    if stats.connections >= 3:
                        break
                    await asyncio.sleep(0.05)
                self.assertGreaterEqual(stats.connections, 3)

        asyncio.run(run())

    def test_requests_go_to_the_least_busy_connection(self) -> None:
        async def run() -> None:
            async with authnode.AsyncClient.connect(self.node.host, self.node.port, pool_size=3) as c:
                held = [asyncio.create_task(c.login(unique_email(), f"guess {i}")) for i in range(3)]
                while c.in_flight < 3:
                    await asyncio.sleep(0.005)
                self.assertEqual(sorted(conn.in_flight for conn in c._slots), [1, 1, 1])
                for task in held:
                    with self.assertRaises(authnode.InvalidCredentials):
                        await task

        asyncio.run(asyncio.wait_for(run(), 10))

    def test_a_broken_connection_is_replaced(self) -> None:
        async def run() -> None:
            async with authnode.AsyncClient.connect(self.node.host, self.node.port, pool_size=2) as c:
                held = asyncio.create_task(c.login(unique_email(), "guess"))
                while c.in_flight < 1:
                    await asyncio.sleep(0.005)
                busy = next(conn for conn in c._slots if conn.in_flight)
                busy._writer.transport.abort()  # as if the network broke
                with self.assertRaises(authnode.ConnectionLost):
                    await held
                await c.ping()  # the other connection serves at once
                while c.open_connections < 2:
                    await asyncio.sleep(0.01)
                self.assertNotIn(busy, c._slots)

        asyncio.run(asyncio.wait_for(run(), 10))

    def test_pool_size_must_be_positive(self) -> None:
        with self.assertRaises(ValueError):
            authnode.AsyncClient(self.node.host, self.node.port, pool_size=0)
