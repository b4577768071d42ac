"""Every error code of the protocol, produced by a real node, and the
exception each becomes.

Through the public port and the clients: bad_request, unknown_op,
line_too_long, busy (both kinds), unavailable, internal, invalid_email,
weak_password, email_taken, invalid_credentials, invalid_token,
rate_limited. Only with raw lines (a client never sends them): bad_json,
and bad_request without ``id``. Only on the admin channel: forbidden and
no_such_user; ``Client.call`` pointed at the admin port shows them too.

unavailable and internal need a database in trouble: the test holds
SQLite's write lock from outside (unavailable: the node gives up after
``--backend-timeout``), or adds a trigger that fails an insert (internal).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time

import authnode
from tests.support import FAILURE_DELAY, NodeTestCase, unique_email

PASSWORD = "correct horse"


class PublicErrorsTest(NodeTestCase):
    NODE_OPTIONS = ["--throttle=off", "--max-line=2048"]

    def setUp(self) -> None:
        self.c = authnode.Client(self.node.host, self.node.port)
        self.addCleanup(self.c.close)

    def test_bad_json_only_from_raw_lines(self) -> None:
        with self.node.raw() as raw:
            for line in (b"this is not json\n", b"\n", b"[1,2]\n", b'{"id":20,"op":"ping"} trailing\n'):
                raw.send(line)
                reply = raw.read()
                self.assertEqual(reply["error"]["code"], "bad_json", line)
                self.assertNotIn("id", reply)
                self.assertIsInstance(authnode.errors.error_from_reply(reply), authnode.BadJson)

    def test_bad_request(self) -> None:
        with self.assertRaises(authnode.BadRequest) as cm:
            self.c.call("login", {"email": "a@example.org"})
        self.assertIn("password", cm.exception.message)
        with self.assertRaises(authnode.BadRequest):
            self.c.call("login", {"email": "a@example.org", "password": 12345678})
        with self.assertRaises(authnode.BadRequest):
            self.c.register(unique_email(), PASSWORD, "   ")
        # client_addr from a peer that is not in --trusted-sources.
        with self.assertRaises(authnode.BadRequest):
            self.c.login(unique_email(), PASSWORD, client_addr="203.0.113.7")
        # An id of a wrong type: the reply has no id (raw only).
        with self.node.raw() as raw:
            raw.send_json({"id": True, "op": "ping"})
            reply = raw.read()
            self.assertEqual(reply["error"]["code"], "bad_request")
            self.assertNotIn("id", reply)

    def test_unknown_op(self) -> None:
        with self.assertRaises(authnode.UnknownOp) as cm:
            self.c.call("fly")
        self.assertEqual(cm.exception.message, "unknown op: fly")
        # Admin operations do not exist on the public port.
        with self.assertRaises(authnode.UnknownOp):
            self.c.call("user_show", {"email": "a@example.org", "admin_key": "x"})

    def test_line_too_long_from_the_node(self) -> None:
        # The client allows 64 KiB lines; this node only 512 bytes. The node
        # answers without id and closes: the one request in flight gets it.
        with self.assertRaises(authnode.LineTooLong) as cm:
            self.c.register(unique_email(), PASSWORD, "n" * 2100)
        self.assertIn("2048", cm.exception.message)
        self.c.ping()  # a new connection

    def test_line_too_long_raw(self) -> None:
        with self.node.raw() as raw:
            raw.send_json({"id": 1, "op": "ping"})
            raw.send_json({"id": 2, "op": "ping", "pad": "a" * 2100})
            self.assertEqual(raw.read(), {"id": 1, "ok": True})
            reply = raw.read()
            self.assertEqual(reply["error"]["code"], "line_too_long")
            self.assertNotIn("id", reply)
            self.assertIsNone(raw.read())  # closed

    def test_line_too_long_with_max_line_set_is_not_sent(self) -> None:
        with authnode.Client(self.node.host, self.node.port, max_line=2048) as c:
            with self.assertRaises(authnode.LineTooLong) as cm:
                c.register(unique_email(), PASSWORD, "n" * 2100)
            self.assertIn("not sent", cm.exception.message)

    def test_invalid_email(self) -> None:
        with self.assertRaises(authnode.InvalidEmail):
            self.c.register("not-an-email", PASSWORD, "X")

    def test_weak_password(self) -> None:
        email = unique_email()
        with self.assertRaises(authnode.WeakPassword) as short:
            self.c.register(email, "short", "X")
        self.assertIn("at least 8 bytes", short.exception.message)
        with self.assertRaises(authnode.WeakPassword):
            self.c.register(email, email.upper(), "X")
        with self.assertRaises(authnode.WeakPassword):
            self.c.register(email, "x" * 1025, "X")

    def test_email_taken(self) -> None:
        email = unique_email()
        self.c.register(email, PASSWORD, "X")
        with self.assertRaises(authnode.EmailTaken):
            self.c.register(f" {email.upper()} ", PASSWORD, "Y")

    def test_invalid_credentials_comes_late(self) -> None:
        start = time.monotonic()
        with self.assertRaises(authnode.InvalidCredentials) as cm:
            self.c.login(unique_email(), PASSWORD)
        self.assertGreaterEqual(time.monotonic() - start, FAILURE_DELAY - 0.02)
        self.assertEqual(cm.exception.code, "invalid_credentials")

    def test_invalid_token(self) -> None:
        for call in (
            lambda: self.c.whoami("nope"),
            lambda: self.c.logout("nope"),
            lambda: self.c.change_password("nope", PASSWORD, "a new secret"),
        ):
            with self.assertRaises(authnode.InvalidToken):
                call()


class RateLimitedTest(NodeTestCase):
    """Throttling on (the default), with a register budget of one a minute
    and short penalties. Each test connects from an address of its own."""

    NODE_OPTIONS = ["--register-rate=1", "--max-penalty=600ms"]

    def test_register_past_register_rate(self) -> None:
        with authnode.Client(self.node.host, self.node.port, source_address=("127.0.0.2", 0)) as c:
            c.register(unique_email(), PASSWORD, "X")
            with self.assertRaises(authnode.RateLimited) as cm:
                c.register(unique_email(), PASSWORD, "X")
            self.assertIsInstance(cm.exception.retry_after_ms, int)
            self.assertGreater(cm.exception.retry_after_ms, 0)
            self.assertLessEqual(cm.exception.retry_after_ms, 60_000)

    def test_a_burst_of_guesses_is_rate_limited(self) -> None:
        async def run() -> list[BaseException]:
            async with authnode.AsyncClient.connect(
                self.node.host, self.node.port, pool_size=1, source_address=("127.0.0.3", 0)
            ) as c:
                guesses = [c.login("victim@example.org", f"guess {i}") for i in range(10)]
                return await asyncio.gather(*guesses, return_exceptions=True)

        results = asyncio.run(run())
        kinds = {type(r) for r in results}
        self.assertLessEqual(kinds, {authnode.InvalidCredentials, authnode.RateLimited}, results)
        limited = [r for r in results if isinstance(r, authnode.RateLimited)]
        self.assertGreaterEqual(len(limited), 1)
        for r in limited:
            self.assertGreater(r.retry_after_ms, 0)


class BusyTest(NodeTestCase):
    """busy: a connection past --max-connections, and a password job past
    --max-hash-queue."""

    NODE_OPTIONS = ["--max-connections=1"]

    def first_client(self) -> authnode.Client:
        """A client the node serves. The previous test's connections may not
        be seen closed yet, so a first try may still be refused."""
        deadline = time.monotonic() + 5
        while True:
            c = authnode.Client(self.node.host, self.node.port)
            try:
                c.ping()
                return c
            except authnode.Busy:
                c.close()
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.01)

    def test_a_connection_past_max_connections(self) -> None:
        with self.first_client() as first:
            with authnode.Client(self.node.host, self.node.port) as second:
                with self.assertRaises(authnode.Busy) as cm:
                    second.login(unique_email(), PASSWORD)
                self.assertIn("connections", cm.exception.message)
            first.ping()

    def test_a_connection_past_max_connections_async(self) -> None:
        async def run() -> None:
            deadline = time.monotonic() + 5
            while True:
                first = await authnode.AsyncClient.connect(self.node.host, self.node.port, pool_size=1)
                try:
                    await first.ping()
                    break
                except authnode.Busy:
                    await first.close()
                    if time.monotonic() > deadline:
                        raise
                await asyncio.sleep(0.01)
            async with first:
                async with authnode.AsyncClient.connect(self.node.host, self.node.port, pool_size=1) as second:
                    with self.assertRaises(authnode.Busy):
                        await second.ping()

        asyncio.run(run())


class HashQueueBusyTest(NodeTestCase):
    # One hasher, a queue of one, and a hash that takes tens of
    # milliseconds (a higher cost than elsewhere, on purpose).
    NODE_OPTIONS = ["--hashers=1", "--max-hash-queue=1", "--hash-ops=2", "--hash-mem=16777216", "--throttle=off"]

    def test_a_password_job_past_max_hash_queue(self) -> None:
        emails = [unique_email("queue") for _ in range(8)]

        async def run() -> list[object]:
            async with authnode.AsyncClient.connect(self.node.host, self.node.port, pool_size=1) as c:
                return await asyncio.gather(
                    *(c.register(e, PASSWORD, "Q") for e in emails), return_exceptions=True
                )

        results = asyncio.run(run())
        busy = [e for e, r in zip(emails, results) if isinstance(r, authnode.Busy)]
        made = [e for e, r in zip(emails, results) if isinstance(r, authnode.User)]
        self.assertEqual(len(busy) + len(made), len(emails), results)
        self.assertGreaterEqual(len(busy), 1)
        self.assertGreaterEqual(len(made), 1)
        # busy means "not done": those accounts do not exist.
        with authnode.Client(self.node.host, self.node.port) as c:
            for email in busy:
                c.register(email, PASSWORD, "Q")


class DatabaseFailuresTest(NodeTestCase):
    NODE_OPTIONS = ["--throttle=off", "--backend-timeout=1s"]

    def test_unavailable_when_the_database_does_not_answer_in_time(self) -> None:
        db = sqlite3.connect(self.node.db, timeout=0, isolation_level=None)
        self.addCleanup(db.close)
        with authnode.Client(self.node.host, self.node.port) as c:
            token = self._session(c)
            db.execute("BEGIN IMMEDIATE")  # holds the write lock
            try:
                with self.assertRaises(authnode.Unavailable):
                    c.register(unique_email("locked"), PASSWORD, "U")
                c.whoami(token)  # reads still work meanwhile
            finally:
                db.execute("ROLLBACK")
            c.register(unique_email(), PASSWORD, "U")

    def test_internal_when_the_database_fails(self) -> None:
        db = sqlite3.connect(self.node.db, isolation_level=None)
        self.addCleanup(db.close)
        db.execute(
            "CREATE TRIGGER test_fail BEFORE INSERT ON users WHEN NEW.email LIKE 'internal-%' "
            "BEGIN SELECT RAISE(ABORT, 'injected by the test'); END"
        )
        self.addCleanup(db.execute, "DROP TRIGGER test_fail")
        with authnode.Client(self.node.host, self.node.port) as c:
            with self.assertRaises(authnode.Internal) as cm:
                c.register(unique_email("internal"), PASSWORD, "I")
            self.assertEqual(cm.exception.code, "internal")

    def _session(self, c: authnode.Client) -> str:
        email = unique_email()
        c.register(email, PASSWORD, "U")
        return c.login(email, PASSWORD).token


class AdminOnlyErrorsTest(NodeTestCase):
    """forbidden and no_such_user exist on the admin channel only; the
    client's generic call reaches them there."""

    def test_forbidden_and_no_such_user(self) -> None:
        with authnode.Client(self.node.host, self.node.admin_port) as admin:
            with self.assertRaises(authnode.Forbidden):
                admin.call("user_show", {"email": "a@example.org", "admin_key": "wrong"})
            with self.assertRaises(authnode.NoSuchUser):
                admin.call("user_show", {"email": "nobody@example.org", "admin_key": self.node.admin_key})
