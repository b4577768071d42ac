"""Many requests on one connection at once, answered out of order, against
a real node: a failed login held back for ``--failure-delay`` must not hold
up anything sent after it.

The failure delay is 800 ms here (longer than elsewhere) so that "answered
before the held failure" leaves a wide margin on a busy machine.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import authnode
from tests.support import NodeTestCase, unique_email, wait_until

PASSWORD = "correct horse"
DELAY = 0.8


class _Base(NodeTestCase):
    NODE_OPTIONS = ["--throttle=off", f"--failure-delay={int(DELAY * 1000)}ms"]

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        with authnode.Client(cls.node.host, cls.node.port) as c:
            cls.email = unique_email("pipe")
            c.register(cls.email, PASSWORD, "Pip")


class SyncPipeliningTest(_Base):
    def setUp(self) -> None:
        self.c = authnode.Client(self.node.host, self.node.port)
        self.addCleanup(self.c.close)

    def start_failed_login(self, results: dict[str, Any], key: str) -> threading.Thread:
        def run() -> None:
            try:
                self.c.login(self.email, "wrong password")
            except authnode.Error as e:
                results[key] = (e, time.monotonic())

        t = threading.Thread(target=run)
        t.start()
        return t

    def test_a_ping_sent_after_a_failed_login_is_answered_first(self) -> None:
        results: dict[str, Any] = {}
        start = time.monotonic()
        t = self.start_failed_login(results, "login")
        wait_until(lambda: self.c.in_flight == 1)
        self.c.ping()
        pinged = time.monotonic()
        self.assertEqual(self.c.in_flight, 1)  # the login is still out
        self.assertNotIn("login", results)
        t.join(10)
        error, answered = results["login"]
        self.assertIsInstance(error, authnode.InvalidCredentials)
        self.assertLess(pinged, answered)
        self.assertGreaterEqual(answered - start, DELAY - 0.02)

    def test_held_failures_do_not_hold_up_other_requests(self) -> None:
        results: dict[str, Any] = {}
        threads = [self.start_failed_login(results, f"fail{i}") for i in range(3)]
        wait_until(lambda: self.c.in_flight == 3)
        sent = time.monotonic()
        # A whole session's worth of requests while three failures are held.
        email = unique_email()
        self.c.register(email, PASSWORD, "Q")
        session = self.c.login(email, PASSWORD)
        for _ in range(5):
            self.assertEqual(self.c.whoami(session.token).email, email)
            self.c.ping()
        self.c.stats()
        self.c.logout(session.token)
        done = time.monotonic()
        self.assertEqual(results, {}, "a held failure came back before the quick requests")
        self.assertLess(done - sent, DELAY)
        for t in threads:
            t.join(10)
        self.assertEqual(len(results), 3)
        for error, answered in results.values():
            self.assertIsInstance(error, authnode.InvalidCredentials)
            self.assertGreater(answered, done)

    def test_many_threads_share_one_connection(self) -> None:
        accounts = []
        for i in range(4):
            email = unique_email(f"thread{i}")
            self.c.register(email, PASSWORD, f"T{i}")
            accounts.append((email, self.c.login(email, PASSWORD).token))
        errors: list[BaseException] = []

        def worker(email: str, token: str) -> None:
            try:
                for _ in range(15):
                    user = self.c.whoami(token)
                    if user.email != email:
                        raise AssertionError(f"{email} got {user.email}'s reply")
                    self.c.ping()
            except BaseException as e:  # noqa: BLE001 - reported below
                errors.append(e)

        threads = [threading.Thread(target=worker, args=a) for a in accounts]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
        self.assertEqual(errors, [])


class AsyncPipeliningTest(_Base):
    def test_replies_come_back_in_another_order_than_sent(self) -> None:
        async def run() -> list[str]:
            order: list[str] = []
            async with authnode.AsyncClient.connect(self.node.host, self.node.port, pool_size=1) as c:
                session = await c.login(self.email, PASSWORD)

                async def tagged(name: str, coro: Any) -> Any:
                    try:
                        return await coro
                    finally:
                        order.append(name)

                results = await asyncio.gather(
                    tagged("login", c.login(self.email, "wrong password")),
                    tagged("ping", c.ping()),
                    tagged("stats", c.stats()),
                    tagged("whoami", c.whoami(session.token)),
                    return_exceptions=True,
                )
                self.assertIsInstance(results[0], authnode.InvalidCredentials)
                self.assertIsNone(results[1])
                self.assertIsInstance(results[2], authnode.Stats)
                self.assertEqual(results[3].email, self.email)
            return order

        order = asyncio.run(run())
        self.assertEqual(order[-1], "login")
        self.assertEqual(sorted(order[:-1]), ["ping", "stats", "whoami"])

    def test_held_failures_do_not_hold_up_other_requests(self) -> None:
        async def run() -> None:
            async with authnode.AsyncClient.connect(self.node.host, self.node.port, pool_size=1) as c:
                failures = [asyncio.create_task(c.login(self.email, f"wrong {i}")) for i in range(3)]
                while c.in_flight < 3:
                    await asyncio.sleep(0.005)
                sent = time.monotonic()
                email = unique_email()
                await c.register(email, PASSWORD, "R")
                session = await c.login(email, PASSWORD)
                quick = await asyncio.gather(
                    *(c.whoami(session.token) for _ in range(10)), *(c.ping() for _ in range(10)), c.stats()
                )
                self.assertTrue(all(u.email == email for u in quick[:10]))
                self.assertLess(time.monotonic() - sent, DELAY)
                self.assertFalse(any(f.done() for f in failures))
                for f in failures:
                    with self.assertRaises(authnode.InvalidCredentials):
                        await f

        asyncio.run(run())
