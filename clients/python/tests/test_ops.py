"""Every operation of the public protocol, through both clients, against a
real node: the typed results and the operation's own refusals.

The node runs with ``--throttle=off``: the tests of a class share it and
all connect from 127.0.0.1, so with penalties on, one test's wrong
passwords would slow the next test's logins. Throttling has tests of its
own (test_errors, test_trusted).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import authnode
from tests.support import NodeTestCase, unique_email

PASSWORD = "correct horse"


class SyncOpsTest(NodeTestCase):
    NODE_OPTIONS = ["--throttle=off"]

    def setUp(self) -> None:
        self.c = authnode.Client(self.node.host, self.node.port)
        self.addCleanup(self.c.close)

    def test_ping(self) -> None:
        self.assertIsNone(self.c.ping())

    def test_register_returns_the_normalized_account(self) -> None:
        email = unique_email("Reg")
        user = self.c.register(f"  {email.upper()} ", PASSWORD, "  Ann Example\t")
        self.assertIsInstance(user, authnode.User)
        self.assertEqual(user.email, email.lower())
        self.assertEqual(user.name, "Ann Example")
        self.assertIsInstance(user.id, int)
        self.assertIsNone(user.last_login_at)
        self.assertEqual(user.created_at.tzinfo, timezone.utc)
        self.assertLess(abs(datetime.now(timezone.utc) - user.created_at), timedelta(minutes=5))

    def test_login_returns_a_session(self) -> None:
        email = unique_email()
        user = self.c.register(email, PASSWORD, "Bo")
        session = self.c.login(email, PASSWORD)
        self.assertIsInstance(session, authnode.Session)
        self.assertEqual(len(session.token), 43)
        self.assertEqual(session.user.id, user.id)
        self.assertIsNotNone(session.user.last_login_at)
        self.assertGreater(session.expires_at, session.user.last_login_at)
        # Device tokens serve the throttle: with --throttle=off there is none
        # (DeviceTokenTest has them).
        self.assertIsNone(session.device_token)
        again = self.c.login(email, PASSWORD)
        self.assertNotEqual(again.token, session.token)

    def test_login_refuses_a_wrong_password_and_an_unknown_email_alike(self) -> None:
        email = unique_email()
        self.c.register(email, PASSWORD, "Cy")
        with self.assertRaises(authnode.InvalidCredentials) as wrong:
            self.c.login(email, "not the password")
        with self.assertRaises(authnode.InvalidCredentials) as unknown:
            self.c.login(unique_email("nobody"), PASSWORD)
        self.assertEqual(wrong.exception.message, unknown.exception.message)
        self.assertEqual(wrong.exception.op, "login")

    def test_whoami_returns_the_account_of_a_token(self) -> None:
        email = unique_email()
        self.c.register(email, PASSWORD, "Di")
        session = self.c.login(email, PASSWORD)
        self.assertEqual(self.c.whoami(session.token), session.user)
        with self.assertRaises(authnode.InvalidToken):
            self.c.whoami("nope")

    def test_logout_ends_the_session(self) -> None:
        email = unique_email()
        self.c.register(email, PASSWORD, "Ed")
        session = self.c.login(email, PASSWORD)
        self.assertIsNone(self.c.logout(session.token))
        with self.assertRaises(authnode.InvalidToken):
            self.c.whoami(session.token)
        with self.assertRaises(authnode.InvalidToken):
            self.c.logout(session.token)

    def test_change_password_keeps_this_session_and_revokes_the_others(self) -> None:
        email = unique_email()
        self.c.register(email, PASSWORD, "Flo")
        a = self.c.login(email, PASSWORD)
        b = self.c.login(email, PASSWORD)
        with self.assertRaises(authnode.WeakPassword):
            self.c.change_password(a.token, PASSWORD, "short")
        with self.assertRaises(authnode.InvalidCredentials):
            self.c.change_password(a.token, "not it", "a new secret")
        with self.assertRaises(authnode.InvalidToken):
            self.c.change_password("nope", PASSWORD, "a new secret")
        self.assertIsNone(self.c.change_password(a.token, PASSWORD, "a new secret"))
        self.assertEqual(self.c.whoami(a.token).email, email)
        with self.assertRaises(authnode.InvalidToken):
            self.c.whoami(b.token)
        self.c.login(email, "a new secret")
        with self.assertRaises(authnode.InvalidCredentials):
            self.c.login(email, PASSWORD)

    def test_stats_counts(self) -> None:
        before = self.c.stats()
        self.assertIsInstance(before, authnode.Stats)
        self.assertGreaterEqual(before.connections, 1)
        self.c.register(unique_email(), PASSWORD, "Gus")
        after = self.c.stats()
        self.assertEqual(after.registrations_total, before.registrations_total + 1)
        self.assertGreater(after.requests_total, before.requests_total)
        self.assertEqual(after.extra, {})  # every member the node sends is known

    def test_call_sends_any_op_and_returns_the_raw_reply(self) -> None:
        reply = self.c.call("stats")
        self.assertIs(reply["ok"], True)
        self.assertIn("uptime_seconds", reply["stats"])
        with self.assertRaises(ValueError):
            self.c.call("ping", {"id": 5})


class AsyncOpsTest(NodeTestCase):
    NODE_OPTIONS = ["--throttle=off"]

    def test_every_op(self) -> None:
        asyncio.run(self._every_op())

    async def _every_op(self) -> None:
        async with authnode.AsyncClient.connect(self.node.host, self.node.port) as c:
            self.assertEqual(c.open_connections, 2)
            await c.ping()
            email = unique_email("Async")
            user = await c.register(email, PASSWORD, "Hal")
            self.assertEqual(user.email, email.lower())
            with self.assertRaises(authnode.EmailTaken):
                await c.register(email, PASSWORD, "Hal")
            a = await c.login(email, PASSWORD)
            self.assertEqual(len(a.token), 43)
            self.assertIsNone(a.device_token)  # --throttle=off
            b = await c.login(email, PASSWORD)
            self.assertEqual(await c.whoami(a.token), a.user)
            with self.assertRaises(authnode.InvalidCredentials):
                await c.login(email, "wrong password")
            await c.change_password(a.token, PASSWORD, "another secret")
            with self.assertRaises(authnode.InvalidToken):
                await c.whoami(b.token)
            await c.logout(a.token)
            with self.assertRaises(authnode.InvalidToken):
                await c.logout(a.token)
            stats = await c.stats()
            self.assertGreaterEqual(stats.registrations_total, 1)
            self.assertGreaterEqual(stats.logins_failed, 1)
            self.assertEqual((await c.call("ping"))["ok"], True)

    def test_await_connect_then_close(self) -> None:
        async def run() -> None:
            c = await authnode.AsyncClient.connect(self.node.host, self.node.port, pool_size=1)
            await c.ping()
            await c.close()
            with self.assertRaises(authnode.ConnectionLost):
                await c.ping()

        asyncio.run(run())


class DeviceTokenTest(NodeTestCase):
    """Device tokens exist only with throttling on (the default): with
    ``--throttle=off`` a login gets none."""

    def test_a_login_with_a_valid_device_token_gets_no_new_one(self) -> None:
        with authnode.Client(self.node.host, self.node.port) as c:
            email = unique_email()
            c.register(email, PASSWORD, "Ida")
            first = c.login(email, PASSWORD)
            self.assertIsNotNone(first.device_token)
            self.assertEqual(len(first.device_token), 43)
            again = c.login(email, PASSWORD, device_token=first.device_token)
            self.assertIsNone(again.device_token)

    def test_async_too(self) -> None:
        async def run() -> None:
            async with authnode.AsyncClient.connect(self.node.host, self.node.port, pool_size=1) as c:
                email = unique_email()
                await c.register(email, PASSWORD, "Jo")
                first = await c.login(email, PASSWORD)
                again = await c.login(email, PASSWORD, device_token=first.device_token)
                self.assertIsNone(again.device_token)

        asyncio.run(run())
