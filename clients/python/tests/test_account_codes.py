"""The account codes (docs/protocol.md, "Account codes") through both
clients, against real nodes: one without mail, which answers all six
operations ``unavailable``, and one that mails through an SMTP sink on
loopback, from which the tests read the codes as a user would.

The nodes run with ``--throttle=off`` (the tests of a class share the node
and all come from 127.0.0.1) and a short ``--failure-delay``, which holds
every ``invalid_code``.
"""

from __future__ import annotations

import asyncio
import time

import authnode
from tests.support import MailNodeTestCase, NodeTestCase, unique_email

PASSWORD = "correct horse"
NEW_PASSWORD = "a new secret"
FAILURE_DELAY = 0.1
OPTIONS = ["--throttle=off", f"--failure-delay={int(FAILURE_DELAY * 1000)}ms"]


def wrong(code: str) -> str:
    """A well-formed code that is not ``code``."""
    return "0000-0000" if code != "0000-0000" else "1111-1111"


class WithoutMailTest(NodeTestCase):
    """A node without ``--smtp-url``: each op is well formed (not
    ``bad_request``) and answered ``unavailable``, naming the option."""

    NODE_OPTIONS = OPTIONS

    def setUp(self) -> None:
        self.c = authnode.Client(self.node.host, self.node.port)
        self.addCleanup(self.c.close)
        self.email = unique_email("nomail")
        self.c.register(self.email, PASSWORD, "Nia")
        self.token = self.c.login(self.email, PASSWORD).token

    def calls(self, c, token: str) -> dict:
        email = self.email
        return {
            "recovery_start": lambda: c.recovery_start(email),
            "recovery_finish": lambda: c.recovery_finish(email, "K7QM-2XPA", NEW_PASSWORD),
            "verify_email_start": lambda: c.verify_email_start(token),
            "verify_email_finish": lambda: c.verify_email_finish(token, "K7QM-2XPA"),
            "change_email_start": lambda: c.change_email_start(token, PASSWORD, unique_email("new")),
            "change_email_finish": lambda: c.change_email_finish(token, "K7QM-2XPA"),
        }

    def test_every_op_is_unavailable_and_names_smtp_url(self) -> None:
        for op, call in self.calls(self.c, self.token).items():
            with self.subTest(op=op):
                with self.assertRaises(authnode.Unavailable) as cm:
                    call()
                self.assertEqual((cm.exception.code, cm.exception.op), ("unavailable", op))
                self.assertIn("--smtp-url", cm.exception.message)
        # Nothing changed: the old password still works, nothing verified.
        self.assertIs(self.c.login(self.email, PASSWORD).user.email_verified, False)

    def test_async_too(self) -> None:
        async def run() -> None:
            async with authnode.AsyncClient.connect(self.node.host, self.node.port, pool_size=1) as c:
                for op, call in self.calls(c, self.token).items():
                    with self.subTest(op=op):
                        with self.assertRaises(authnode.Unavailable) as cm:
                            await call()
                        self.assertIn("--smtp-url", cm.exception.message)

        asyncio.run(run())

    def test_stats_has_the_mail_counters_at_zero(self) -> None:
        stats = self.c.stats()
        self.assertEqual(
            (stats.mails_sent_total, stats.mails_failed_total, stats.mails_dropped_total, stats.outbox_depth),
            (0, 0, 0, 0),
        )
        self.assertEqual(stats.extra, {})


class WithMailTest(MailNodeTestCase):
    """A node that mails through :class:`SmtpSink`. ``--verify-email`` is on
    by itself with ``--smtp-url``: ``register`` mails a verification code."""

    NODE_OPTIONS = OPTIONS

    def setUp(self) -> None:
        self.c = authnode.Client(self.node.host, self.node.port)
        self.addCleanup(self.c.close)

    def test_recovery_sets_the_password_logs_in_and_verifies_the_address(self) -> None:
        email = unique_email("rec")
        self.c.register(email, PASSWORD, "Dora")
        before = self.c.login(email, PASSWORD)
        self.assertIs(before.user.email_verified, False)
        self.assertIsNone(self.c.recovery_start(email))
        code = self.sink.code(email, "recovery")

        start = time.monotonic()
        with self.assertRaises(authnode.InvalidCode) as cm:
            self.c.recovery_finish(email, wrong(code), NEW_PASSWORD)
        self.assertGreaterEqual(time.monotonic() - start, FAILURE_DELAY * 0.9)  # held
        self.assertEqual(cm.exception.op, "recovery_finish")
        self.assertNotIn(NEW_PASSWORD, str(cm.exception) + repr(cm.exception))

        # Typed back as a user might: lower case, without the dash.
        session = self.c.recovery_finish(email, code.lower().replace("-", ""), NEW_PASSWORD)
        self.assertIsInstance(session, authnode.Session)
        self.assertEqual(len(session.token), 43)
        self.assertEqual(session.user.email, email)
        self.assertIs(session.user.email_verified, True)
        self.assertEqual(self.c.whoami(session.token), session.user)
        with self.assertRaises(authnode.InvalidToken):
            self.c.whoami(before.token)  # every other session is revoked
        with self.assertRaises(authnode.InvalidCredentials):
            self.c.login(email, PASSWORD)
        self.assertIs(self.c.login(email, NEW_PASSWORD).user.email_verified, True)
        with self.assertRaises(authnode.InvalidCode):
            self.c.recovery_finish(email, code, "yet another secret")  # used up

    def test_recovery_for_an_unknown_email_is_answered_alike(self) -> None:
        nobody = unique_email("nobody")
        self.assertIsNone(self.c.recovery_start(nobody))
        with self.assertRaises(authnode.InvalidCode):
            self.c.recovery_finish(nobody, "K7QM-2XPA", NEW_PASSWORD)

    def test_recovery_async(self) -> None:
        async def run() -> None:
            async with authnode.AsyncClient.connect(self.node.host, self.node.port, pool_size=1) as c:
                email = unique_email("arec")
                await c.register(email, PASSWORD, "Eli")
                await c.recovery_start(email)
                code = await asyncio.to_thread(self.sink.code, email, "recovery")
                with self.assertRaises(authnode.InvalidCode):
                    await c.recovery_finish(email, wrong(code), NEW_PASSWORD)
                session = await c.recovery_finish(email, code, NEW_PASSWORD)
                self.assertIs(session.user.email_verified, True)
                with self.assertRaises(authnode.InvalidCredentials):
                    await c.login(email, PASSWORD)

        asyncio.run(run())

    def test_verify_email_with_the_code_register_mailed(self) -> None:
        email = unique_email("ver")
        self.c.register(email, PASSWORD, "Flo")
        token = self.c.login(email, PASSWORD).token
        code = self.sink.code(email, "verification")
        with self.assertRaises(authnode.InvalidCode):
            self.c.verify_email_finish(token, wrong(code))
        user = self.c.verify_email_finish(token, code)
        self.assertIsInstance(user, authnode.User)
        self.assertIs(user.email_verified, True)
        self.assertIs(self.c.whoami(token).email_verified, True)
        self.assertIs(self.c.verify_email_start(token), False)  # verified already
        with self.assertRaises(authnode.InvalidToken):
            self.c.verify_email_start("nope")

    def test_verify_email_start_mails_a_new_code(self) -> None:
        email = unique_email("ver2")
        self.c.register(email, PASSWORD, "Gil")
        token = self.c.login(email, PASSWORD).token
        first = self.sink.code(email, "verification")
        self.assertIs(self.c.verify_email_start(token), True)
        deadline = time.monotonic() + 10
        while (code := self.sink.code(email, "verification")) == first:
            self.assertLess(time.monotonic(), deadline, "no second verification mail")
            time.sleep(0.02)
        self.assertIs(self.c.verify_email_finish(token, code).email_verified, True)

    def test_change_email_moves_the_account(self) -> None:
        email, new_email = unique_email("chg"), unique_email("moved")
        self.c.register(email, PASSWORD, "Hal")
        token = self.c.login(email, PASSWORD).token
        with self.assertRaises(authnode.InvalidCredentials):
            self.c.change_email_start(token, "not the password", new_email)
        with self.assertRaises(authnode.BadRequest):
            self.c.change_email_start(token, PASSWORD, email)  # the current address
        self.assertIsNone(self.c.change_email_start(token, PASSWORD, new_email))
        code = self.sink.code(new_email, "new email address")
        with self.assertRaises(authnode.InvalidCode):
            self.c.change_email_finish(token, wrong(code))
        user = self.c.change_email_finish(token, code)
        self.assertEqual((user.email, user.email_verified), (new_email, True))
        self.assertEqual(self.c.whoami(token).email, new_email)  # sessions stay
        self.c.login(new_email, PASSWORD)

    def test_stats_counts_the_mails_sent(self) -> None:
        email = unique_email("st")
        self.c.register(email, PASSWORD, "Ivy")
        self.sink.code(email, "verification")
        deadline = time.monotonic() + 10
        while (stats := self.c.stats()).mails_sent_total < 1:
            self.assertLess(time.monotonic(), deadline, "mails_sent_total never counted")
            time.sleep(0.02)
        self.assertEqual(stats.extra, {})  # every member the node sends is known


class RequireVerifiedEmailTest(MailNodeTestCase):
    """``--require-verified-email``: a login with the right password of an
    unverified account is ``email_not_verified``."""

    NODE_OPTIONS = [*OPTIONS, "--require-verified-email"]

    def test_login_of_an_unverified_account(self) -> None:
        with authnode.Client(self.node.host, self.node.port) as c:
            email = unique_email("unv")
            c.register(email, PASSWORD, "Jo")
            with self.assertRaises(authnode.EmailNotVerified) as cm:
                c.login(email, PASSWORD)
            self.assertEqual(cm.exception.op, "login")
            with self.assertRaises(authnode.InvalidCredentials):
                c.login(email, "not the password")
            # Recovery proves the address too.
            c.recovery_start(email)
            session = c.recovery_finish(email, self.sink.code(email, "recovery"), NEW_PASSWORD)
            self.assertIs(session.user.email_verified, True)
            self.assertIs(c.login(email, NEW_PASSWORD).user.email_verified, True)
