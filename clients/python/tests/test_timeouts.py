"""Timeouts against a real node: a failed login outlasts a short timeout;
the connection stays usable and the late reply is dropped. And the
connections the node closes when idle are replaced without losing a
request."""

from __future__ import annotations

import asyncio
import time

import authnode
from tests.support import FAILURE_DELAY, NodeTestCase, unique_email, wait_until

PASSWORD = "correct horse"


class TimeoutTest(NodeTestCase):
    NODE_OPTIONS = ["--throttle=off"]

    def test_the_default_timeouts_outlast_a_held_failure(self) -> None:
        with authnode.Client(self.node.host, self.node.port) as c:
            self.assertGreater(c.auth_timeout, 60 + 2)  # max-penalty + failure-delay
            self.assertGreater(c.timeout, 2)

    def test_a_failed_login_outlasts_a_short_timeout(self) -> None:
        with authnode.Client(self.node.host, self.node.port) as c:
            start = time.monotonic()
            with self.assertRaises(authnode.Timeout) as cm:
                c.login(unique_email(), PASSWORD, timeout=0.1)
            waited = time.monotonic() - start
            self.assertGreaterEqual(waited, 0.09)
            self.assertLess(waited, FAILURE_DELAY)
            self.assertEqual(cm.exception.op, "login")
            self.assertIsInstance(cm.exception, TimeoutError)
            c.ping()  # same connection, at once
            self.assertEqual(c.in_flight, 0)  # the timed-out request is forgotten
            # The late reply arrives and is dropped; the connection goes on.
            wait_until(lambda: c.stats().pending_delayed == 0, timeout=5)
            c.ping()
            self.assertTrue(c.connected)

    def test_async_a_failed_login_outlasts_a_short_timeout(self) -> None:
        async def run() -> None:
            async with authnode.AsyncClient.connect(self.node.host, self.node.port, pool_size=1) as c:
                with self.assertRaises(authnode.Timeout):
                    await c.login(unique_email(), PASSWORD, timeout=0.1)
                await c.ping()
                while (await c.stats()).pending_delayed:
                    await asyncio.sleep(0.02)
                await c.ping()
                self.assertEqual(c.open_connections, 1)

        asyncio.run(run())

    def test_a_client_default_applies_to_every_call(self) -> None:
        with authnode.Client(self.node.host, self.node.port, auth_timeout=0.1) as c:
            with self.assertRaises(authnode.Timeout):
                c.login(unique_email(), PASSWORD)
            with self.assertRaises(authnode.InvalidCredentials):
                c.login(unique_email(), PASSWORD, timeout=5)


class IdleTest(NodeTestCase):
    NODE_OPTIONS = ["--throttle=off", "--idle-timeout=200ms"]

    def test_a_connection_closed_for_idleness_is_replaced(self) -> None:
        with authnode.Client(self.node.host, self.node.port, max_idle=None) as c:
            c.ping()
            wait_until(lambda: not c.connected, timeout=5)
            # Not a ConnectionLost: the client knew the connection was gone
            # before sending, so even a register goes out on a new one.
            c.register(unique_email(), PASSWORD, "Idle")
            self.assertGreaterEqual(c.stats().idle_closed_total, 1)

    def test_max_idle_reconnects_before_the_node_closes(self) -> None:
        with authnode.Client(self.node.host, self.node.port, max_idle=0.05) as c:
            c.ping()
            first = c._conn
            time.sleep(0.1)
            c.ping()
            self.assertIsNot(c._conn, first)

    def test_async_pool_replaces_idle_closed_connections(self) -> None:
        async def run() -> None:
            async with authnode.AsyncClient.connect(self.node.host, self.node.port, pool_size=2, max_idle=None) as c:
                while c.open_connections:
                    await asyncio.sleep(0.02)
                await c.register(unique_email(), PASSWORD, "Idle")
                while c.open_connections < 2:  # the other slot refills
                    await asyncio.sleep(0.01)

        asyncio.run(asyncio.wait_for(run(), 10))
