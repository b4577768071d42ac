"""A node restarted under a client in use: requests in flight that the
node never answers fail with ConnectionLost and are not resent; later
calls reconnect (to the same port and database) and succeed.

With SIGTERM the node answers every request it has already read, held
failures included, and drops what arrives after. To have a request in
flight that is certainly not read before the signal, the node runs with
``--max-in-flight=1`` and the test keeps the one request it works on busy
by holding SQLite's write lock from outside: the next request waits in the
socket, unread, until the node drains and drops it. No timing is involved.
With SIGKILL every request in flight is lost at once.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import sqlite3
import threading
import time
import unittest
from typing import Any

import authnode
from tests.support import Node, unique_email, wait_until

PASSWORD = "correct horse"


def port_closed(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return False
    except OSError:
        return True


class LineCounter:
    """Counts the request lines the node reads from now on (through
    ``requests_total``, leaving out its own stats requests)."""

    def __init__(self, node: Node) -> None:
        self.c = authnode.Client(node.host, node.port)
        self.base = self.c.stats().requests_total
        self.polls = 0

    def seen(self) -> int:
        self.polls += 1
        return self.c.stats().requests_total - self.base - self.polls

    def wait_for(self, lines: int) -> None:
        wait_until(lambda: self.seen() >= lines, timeout=5)
        self.c.close()


class RestartTest(unittest.TestCase):
    def setUp(self) -> None:
        self.node = Node(["--throttle=off", "--max-in-flight=1"])
        self.addCleanup(self.node.close)

    def write_lock(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.node.db, timeout=0, isolation_level=None)
        db.execute("BEGIN IMMEDIATE")
        return db

    def sigterm_and_wait_for_drain(self) -> None:
        self.node.proc.send_signal(signal.SIGTERM)
        self.node.wait_log("finishing requests in flight")
        wait_until(lambda: port_closed(self.node.port), timeout=5, step=0.01)

    def test_sigterm_mid_use(self) -> None:
        c = authnode.Client(self.node.host, self.node.port)
        self.addCleanup(c.close)
        email = unique_email("kept")
        c.register(email, PASSWORD, "Kept")
        token = c.login(email, PASSWORD).token

        results: dict[str, Any] = {}

        def call(key: str, fn: Any) -> threading.Thread:
            def run() -> None:
                try:
                    results[key] = fn()
                except authnode.Error as e:
                    results[key] = e

            t = threading.Thread(target=run)
            t.start()
            return t

        read_email, unread_email = unique_email("read"), unique_email("unread")
        counter = LineCounter(self.node)
        lock = self.write_lock()
        try:
            t1 = call("read", lambda: c.register(read_email, PASSWORD, "R"))
            wait_until(lambda: c.in_flight == 1)
            counter.wait_for(1)  # the node works on it: stuck on the lock
            t2 = call("unread", lambda: c.register(unread_email, PASSWORD, "U"))
            wait_until(lambda: c.in_flight == 2)
            self.sigterm_and_wait_for_drain()
        finally:
            lock.execute("ROLLBACK")
            lock.close()
        t1.join(10)
        t2.join(10)
        # The request the node had read is answered before it stops...
        self.assertIsInstance(results["read"], authnode.User)
        # ...the one it had not read is lost, reported, and not resent.
        self.assertIsInstance(results["unread"], authnode.ConnectionLost)
        self.assertTrue(results["unread"].sent)
        self.assertEqual(self.node.stop(), 0, self.node.log())

        # The node is down: calls fail without sending anything.
        with self.assertRaises(authnode.ConnectFailed):
            c.ping()

        self.node.start()
        # The next calls reconnect. Sessions survive restarts.
        self.assertEqual(c.whoami(token).email, email)
        # The lost register had no effect, so it can be made now.
        self.assertEqual(c.register(unread_email, PASSWORD, "U").email, unread_email)
        with self.assertRaises(authnode.EmailTaken):
            c.register(read_email, PASSWORD, "R")

    def test_sigterm_mid_use_async(self) -> None:
        async def run() -> None:
            async with authnode.AsyncClient.connect(self.node.host, self.node.port, pool_size=1) as c:
                email = unique_email("kept")
                await c.register(email, PASSWORD, "Kept")
                token = (await c.login(email, PASSWORD)).token
                unread_email = unique_email("unread")
                counter = await asyncio.to_thread(LineCounter, self.node)
                lock = self.write_lock()
                try:
                    read = asyncio.create_task(c.register(unique_email("read"), PASSWORD, "R"))
                    while c.in_flight < 1:
                        await asyncio.sleep(0.005)
                    await asyncio.to_thread(counter.wait_for, 1)
                    unread = asyncio.create_task(c.register(unread_email, PASSWORD, "U"))
                    while c.in_flight < 2:
                        await asyncio.sleep(0.005)
                    await asyncio.to_thread(self.sigterm_and_wait_for_drain)
                finally:
                    lock.execute("ROLLBACK")
                    lock.close()
                self.assertIsInstance(await read, authnode.User)
                with self.assertRaises(authnode.ConnectionLost):
                    await unread
                self.assertEqual(await asyncio.to_thread(self.node.stop), 0)
                with self.assertRaises(authnode.ConnectFailed):
                    await c.ping()
                await asyncio.to_thread(self.node.start)
                self.assertEqual((await c.whoami(token)).email, email)
                await c.register(unread_email, PASSWORD, "U")

        asyncio.run(asyncio.wait_for(run(), 30))

    def test_sigkill_mid_use(self) -> None:
        c = authnode.Client(self.node.host, self.node.port)
        self.addCleanup(c.close)
        email = unique_email()
        c.register(email, PASSWORD, "K")
        token = c.login(email, PASSWORD).token
        results: dict[str, Any] = {}

        def failed_login() -> None:
            try:
                c.login(email, "wrong password")
            except authnode.Error as e:
                results["login"] = e

        t = threading.Thread(target=failed_login)
        t.start()
        wait_until(lambda: c.in_flight == 1)
        self.node.kill()
        t.join(10)
        # Lost at once, long before the failure delay would have ended.
        self.assertIsInstance(results["login"], authnode.ConnectionLost)
        self.node.start()
        self.assertEqual(c.whoami(token).email, email)
        c.ping()

    def test_sigkill_mid_use_async_pool(self) -> None:
        async def run() -> None:
            async with authnode.AsyncClient.connect(self.node.host, self.node.port, pool_size=3) as c:
                email = unique_email()
                await c.register(email, PASSWORD, "K")
                token = (await c.login(email, PASSWORD)).token
                held = [asyncio.create_task(c.login(email, f"wrong {i}")) for i in range(3)]
                while c.in_flight < 3:
                    await asyncio.sleep(0.005)
                await asyncio.to_thread(self.node.kill)
                for task in held:
                    with self.assertRaises(authnode.ConnectionLost):
                        await task
                await asyncio.to_thread(self.node.start)
                self.assertEqual((await c.whoami(token)).email, email)
                while c.open_connections < 3:  # the pool refills
                    await asyncio.sleep(0.01)

        asyncio.run(asyncio.wait_for(run(), 30))


class MadeWhileTheNodeIsDownTest(unittest.TestCase):
    """An application that starts before its node: the client made without
    connecting (the sync ``connect=False``, the async constructor) raises
    ConnectFailed while the node is down and works once it is up, with no
    reconnect logic of the application's own."""

    def setUp(self) -> None:
        # Start once to learn a free port, then stop: the node is down.
        self.node = Node(["--throttle=off"])
        self.addCleanup(self.node.close)
        self.assertEqual(self.node.stop(), 0)

    def test_sync_client_with_connect_false(self) -> None:
        c = authnode.Client(self.node.host, self.node.port, connect=False)
        self.addCleanup(c.close)
        self.assertFalse(c.connected)
        with self.assertRaises(authnode.ConnectFailed):
            c.ping()
        self.node.start()
        c.ping()
        email = unique_email("late")
        c.register(email, PASSWORD, "Late")
        self.assertEqual(c.login(email, PASSWORD).user.email, email)

    def test_async_client_made_with_the_constructor(self) -> None:
        # Made outside any event loop, as an application may at import time.
        c = authnode.AsyncClient(self.node.host, self.node.port, pool_size=2)
        self.assertEqual(c.open_connections, 0)

        async def run() -> None:
            try:
                with self.assertRaises(authnode.ConnectFailed):
                    await c.ping()
                with self.assertRaises(authnode.ConnectFailed):
                    await c.login(unique_email(), PASSWORD)
                await asyncio.to_thread(self.node.start)
                await c.ping()
                email = unique_email("late")
                await c.register(email, PASSWORD, "Late")
                self.assertEqual((await c.login(email, PASSWORD)).user.email, email)
                while c.open_connections < 2:  # the pool fills behind the calls
                    await asyncio.sleep(0.01)
            finally:
                await c.close()

        asyncio.run(asyncio.wait_for(run(), 30))
