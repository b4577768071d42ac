"""The clients against the gateways of a cluster (issue 7): a storage node,
a hasher node and two gateways on this machine (support.Cluster).

A gateway speaks the same protocol as a whole node, so the client needs
nothing new: a session made through one gateway is known to the other, a
wrong password is still answered late, and losing the storage node is the
``unavailable`` answer at once, not a lost connection, while the gateways
themselves keep answering ``ping``. When the storage node is back (same
port, same database) the gateways link to it again on their own.
"""

from __future__ import annotations

import asyncio
import time
import unittest

import authnode
from tests.support import FAILURE_DELAY, Cluster, Node, unique_email

PASSWORD = "correct horse"


class ClusterTestCase(unittest.TestCase):
    """A fresh cluster per test, with one sync client per gateway."""

    def setUp(self) -> None:
        self.cluster = Cluster(gateways=2)
        self.addCleanup(self.cluster.close)
        self.g1, self.g2 = (self.client(g) for g in self.cluster.gateways)

    def client(self, gateway: Node) -> authnode.Client:
        c = authnode.Client(gateway.host, gateway.port)
        self.addCleanup(c.close)
        return c

    def logs(self) -> str:
        """Every node's log, for a failure message."""
        c = self.cluster
        nodes = [("storage", c.storage), ("hasher", c.hasher), *(
            (f"gateway {i + 1}", g) for i, g in enumerate(c.gateways)
        )]
        return "".join(f"--- {name}:\n{node.log()}" for name, node in nodes if node is not None)


class SessionsAcrossGatewaysTest(ClusterTestCase):
    def test_a_session_made_on_one_gateway_is_known_on_the_other(self) -> None:
        email = unique_email("cluster")
        user = self.g1.register(email, PASSWORD, "Cluster")
        self.assertEqual(user.email, email)
        session = self.g2.login(email, PASSWORD)
        self.assertEqual(session.user.id, user.id)
        self.assertEqual(self.g1.whoami(session.token).email, email)
        self.g2.logout(session.token)
        with self.assertRaises(authnode.InvalidToken):
            self.g1.whoami(session.token)

    def test_a_wrong_password_is_refused_late_through_a_gateway(self) -> None:
        email = unique_email("cluster")
        self.g1.register(email, PASSWORD, "Cluster")
        start = time.monotonic()
        with self.assertRaises(authnode.InvalidCredentials):
            self.g2.login(email, "not my password")
        self.assertGreaterEqual(time.monotonic() - start, FAILURE_DELAY - 0.02)

    def test_the_asyncio_client_across_gateways(self) -> None:
        g1, g2 = self.cluster.gateways

        async def run() -> None:
            async with authnode.AsyncClient.connect(g1.host, g1.port) as a1, \
                    authnode.AsyncClient.connect(g2.host, g2.port) as a2:
                email = unique_email("cluster")
                await a1.register(email, PASSWORD, "Cluster")
                session, wrong = await asyncio.gather(
                    a2.login(email, PASSWORD),
                    a1.login(email, "not my password"),
                    return_exceptions=True,
                )
                self.assertIsInstance(wrong, authnode.InvalidCredentials)
                assert isinstance(session, authnode.Session), session
                self.assertEqual((await a1.whoami(session.token)).email, email)
                await a2.logout(session.token)
                with self.assertRaises(authnode.InvalidToken):
                    await a1.whoami(session.token)

        asyncio.run(asyncio.wait_for(run(), 30))


class StorageLossTest(ClusterTestCase):
    def login_within(self, client: authnode.Client, email: str, limit: float) -> authnode.Session:
        """Log in, trying again every 100 ms while the answer is
        ``unavailable``, for at most ``limit`` seconds."""
        deadline = time.monotonic() + limit
        while True:
            try:
                return client.login(email, PASSWORD)
            except authnode.Unavailable:
                if time.monotonic() >= deadline:
                    raise AssertionError(f"still unavailable after {limit} s; logs:\n{self.logs()}")
                time.sleep(0.1)

    def test_a_lost_storage_node_is_unavailable_at_once_and_its_return_heals(self) -> None:
        email = unique_email("cluster")
        self.g1.register(email, PASSWORD, "Cluster")
        token = self.g2.login(email, PASSWORD).token

        self.cluster.storage.kill()
        start = time.monotonic()
        with self.assertRaises(authnode.Unavailable):
            self.g1.login(email, PASSWORD)
        self.assertLess(time.monotonic() - start, 2.0)
        # The gateways themselves still answer; the connections stay open.
        self.g1.ping()
        self.g2.ping()
        self.assertTrue(self.g1.connected)

        self.cluster.storage.start()  # the same port and database
        self.login_within(self.g1, email, 5.0)
        self.login_within(self.g2, email, 5.0)
        # The session made before the crash is in the database.
        self.assertEqual(self.g1.whoami(token).email, email)


if __name__ == "__main__":
    unittest.main()
