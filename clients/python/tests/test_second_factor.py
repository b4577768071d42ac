"""The second factor (docs/protocol.md, "Second factor: TOTP and recovery
codes") through both clients, against real nodes: setting TOTP up, the
login's second step with a TOTP code and with a recovery code, replay,
renewing the recovery codes, turning TOTP off, and ``conflict``.

The codes come from :class:`tests.support.Authenticator` (pyotp, not the
node's TOTP). A step the node accepted once is never accepted again, the
step of ``totp_enable``'s code included, so a test gets at most two TOTP
codes without waiting (now and the next step) and logs in further times
with recovery codes.

The nodes run with ``--throttle=off`` (the tests of a class share the node
and all come from 127.0.0.1) and a short ``--failure-delay``, which holds
every ``invalid_code``; :class:`DeviceTokenTest` has the throttle on.
"""

from __future__ import annotations

import asyncio
import re
import time
from datetime import datetime, timedelta, timezone

import authnode
from tests.support import Authenticator, MailNodeTestCase, NodeTestCase, unique_email

PASSWORD = "correct horse"
FAILURE_DELAY = 0.1
OPTIONS = ["--throttle=off", f"--failure-delay={int(FAILURE_DELAY * 1000)}ms"]
METHODS = ["totp", "recovery_code"]
RECOVERY_CODE = re.compile(r"^[0-9A-Z]{4}-[0-9A-Z]{4}$")


def typed(code: str) -> str:
    """A recovery code as a user might type it: lower case, no dash."""
    return code.lower().replace("-", "")


class SecondFactorTest(NodeTestCase):
    NODE_OPTIONS = OPTIONS

    def setUp(self) -> None:
        self.c = authnode.Client(self.node.host, self.node.port)
        self.addCleanup(self.c.close)

    def account(self) -> tuple[str, str]:
        """A new account and a session token of it."""
        email = unique_email("tf")
        self.c.register(email, PASSWORD, "Tia")
        return email, self.c.login(email, PASSWORD).token

    def with_totp(self) -> tuple[str, str, Authenticator, list[str]]:
        """A new account with TOTP on: its email, a token, the app, the
        recovery codes."""
        email, token = self.account()
        app = Authenticator(self.c.totp_setup(token).secret)
        return email, token, app, self.c.totp_enable(token, app.code())

    def challenge(self, email: str) -> authnode.SecondFactorRequired:
        with self.assertRaises(authnode.SecondFactorRequired) as cm:
            self.c.login(email, PASSWORD)
        return cm.exception

    def test_setup_enable_then_login_needs_a_code(self) -> None:
        email, token = self.account()
        self.assertEqual(self.c.whoami(token).second_factors, [])

        setup = self.c.totp_setup(token)
        self.assertIsInstance(setup, authnode.TotpSetup)
        self.assertRegex(setup.secret, r"^[A-Z2-7]{16,}$")
        self.assertTrue(setup.uri.startswith("otpauth://totp/"), setup.uri)
        self.assertIn(f"secret={setup.secret}", setup.uri)
        for part in ("algorithm=SHA1", "digits=6", "period=30"):
            self.assertIn(part, setup.uri)
        self.assertNotIn(setup.secret, repr(setup))  # the URI carries it too
        self.assertEqual(self.c.whoami(token).second_factors, [])  # pending only

        app = Authenticator(setup.secret)
        (wrong,) = app.wrong_codes()
        start = time.monotonic()
        with self.assertRaises(authnode.InvalidCode) as cm:
            self.c.totp_enable(token, wrong)
        self.assertGreaterEqual(time.monotonic() - start, FAILURE_DELAY * 0.9)  # held
        self.assertEqual(cm.exception.op, "totp_enable")

        codes = self.c.totp_enable(token, app.code())
        self.assertEqual(len(codes), 10)
        self.assertEqual(len(set(codes)), 10)
        for code in codes:
            self.assertRegex(code, RECOVERY_CODE)
        self.assertEqual(self.c.whoami(token).second_factors, METHODS)

        before = datetime.now(timezone.utc).replace(microsecond=0)
        required = self.challenge(email)
        self.assertIsInstance(required, authnode.AuthnodeError)
        self.assertEqual((required.code, required.op), ("second_factor_required", "login"))
        self.assertIsInstance(required.challenge, str)
        self.assertGreaterEqual(len(required.challenge), 32)
        self.assertEqual(required.methods, METHODS)
        self.assertEqual(required.expires_at.tzinfo, timezone.utc)
        # "A challenge dies after 5 minutes."
        self.assertLessEqual(abs(required.expires_at - (before + timedelta(minutes=5))), timedelta(seconds=5))
        for text in (str(required), repr(required)):
            self.assertNotIn(required.challenge, text)

        with self.assertRaises(authnode.InvalidCode) as cm:
            self.c.login_second_factor(required.challenge, wrong)
        self.assertEqual(cm.exception.op, "login_second_factor")

        # The same challenge still works after one wrong code.
        session = self.c.login_second_factor(required.challenge, app.code())
        self.assertIsInstance(session, authnode.Session)
        self.assertEqual(len(session.token), 43)
        self.assertEqual(session.user.email, email)
        self.assertEqual(session.user.second_factors, METHODS)
        self.assertEqual(self.c.whoami(session.token), session.user)
        self.assertEqual(self.c.whoami(token).email, email)  # other sessions stay
        # The challenge is used up.
        with self.assertRaises(authnode.InvalidCode):
            self.c.login_second_factor(required.challenge, codes[0])

    def test_a_totp_code_works_once(self) -> None:
        email, _, app, _ = self.with_totp()
        enabled_with = app.last_step
        # The step of the code totp_enable took is used: a login with it
        # (the very code, replayed) is refused.
        with self.assertRaises(authnode.InvalidCode):
            self.c.login_second_factor(self.challenge(email).challenge, app.code_of(enabled_with))
        code = app.code()  # the next step
        self.c.login_second_factor(self.challenge(email).challenge, code)
        with self.assertRaises(authnode.InvalidCode):
            self.c.login_second_factor(self.challenge(email).challenge, code)

    def test_a_recovery_code_works_once_in_any_case(self) -> None:
        email, _, _, codes = self.with_totp()
        session = self.c.login_second_factor(self.challenge(email).challenge, typed(codes[0]))
        self.assertEqual(session.user.second_factors, METHODS)
        with self.assertRaises(authnode.InvalidCode):
            self.c.login_second_factor(self.challenge(email).challenge, codes[0])
        self.c.login_second_factor(self.challenge(email).challenge, codes[1])

    def test_a_challenge_dies_after_five_wrong_codes(self) -> None:
        email, _, app, codes = self.with_totp()
        required = self.challenge(email)
        for wrong in app.wrong_codes(5):
            with self.assertRaises(authnode.InvalidCode):
                self.c.login_second_factor(required.challenge, wrong)
        with self.assertRaises(authnode.InvalidCode):
            self.c.login_second_factor(required.challenge, codes[0])
        # A new login's challenge takes that (unused) code.
        self.c.login_second_factor(self.challenge(email).challenge, codes[0])

    def test_a_wrong_password_says_nothing_of_the_second_factor(self) -> None:
        email, _, _, _ = self.with_totp()
        with self.assertRaises(authnode.InvalidCredentials):
            self.c.login(email, "not the password")
        with self.assertRaises(authnode.InvalidCode):
            self.c.login_second_factor("not a challenge", "123456")

    def test_renewing_the_recovery_codes_ends_the_old_ones(self) -> None:
        email, token, app, old = self.with_totp()
        with self.assertRaises(authnode.InvalidCode):
            self.c.recovery_codes_renew(token, app.wrong_codes()[0])
        new = self.c.recovery_codes_renew(token, app.code())
        self.assertEqual(len(new), 10)
        self.assertEqual(set(new) & set(old), set())
        with self.assertRaises(authnode.InvalidCode):
            self.c.login_second_factor(self.challenge(email).challenge, old[1])
        self.c.login_second_factor(self.challenge(email).challenge, new[0])
        # A recovery code renews too, and is used up by it.
        newer = self.c.recovery_codes_renew(token, new[1])
        with self.assertRaises(authnode.InvalidCode):
            self.c.login_second_factor(self.challenge(email).challenge, new[2])
        self.c.login_second_factor(self.challenge(email).challenge, newer[0])

    def test_disable_needs_the_password_and_a_code(self) -> None:
        email, token, app, codes = self.with_totp()
        with self.assertRaises(authnode.InvalidCredentials) as cm:
            self.c.totp_disable(token, "not the password", codes[0])
        self.assertEqual(cm.exception.op, "totp_disable")
        with self.assertRaises(authnode.InvalidCode):
            self.c.totp_disable(token, PASSWORD, app.wrong_codes()[0])
        self.assertEqual(self.c.whoami(token).second_factors, METHODS)  # still on

        self.assertIsNone(self.c.totp_disable(token, PASSWORD, app.code()))
        self.assertEqual(self.c.whoami(token).second_factors, [])
        session = self.c.login(email, PASSWORD)  # a session at once
        self.assertEqual(session.user.second_factors, [])
        with self.assertRaises(authnode.Conflict):
            self.c.totp_disable(token, PASSWORD, codes[1])  # off already
        # It can be set up again, with a new seed.
        self.assertNotEqual(self.c.totp_setup(token).secret, app.secret)

    def test_conflict_when_the_state_is_not_the_ops(self) -> None:
        _, token = self.account()
        with self.assertRaises(authnode.Conflict) as cm:
            self.c.totp_enable(token, "123456")  # nothing set up
        self.assertEqual((cm.exception.code, cm.exception.op), ("conflict", "totp_enable"))
        with self.assertRaises(authnode.Conflict):
            self.c.recovery_codes_renew(token, "123456")  # TOTP is off
        app = Authenticator(self.c.totp_setup(token).secret)
        codes = self.c.totp_enable(token, app.code())
        with self.assertRaises(authnode.Conflict):
            self.c.totp_enable(token, app.code())  # on already
        with self.assertRaises(authnode.Conflict):
            self.c.totp_setup(token)
        # Nothing changed: the recovery codes still work.
        self.c.recovery_codes_renew(token, codes[0])

    def test_a_new_setup_replaces_the_pending_one(self) -> None:
        _, token = self.account()
        first = Authenticator(self.c.totp_setup(token).secret)
        second = Authenticator(self.c.totp_setup(token).secret)
        self.assertNotEqual(first.secret, second.secret)
        with self.assertRaises(authnode.InvalidCode):
            self.c.totp_enable(token, first.code())
        self.assertEqual(len(self.c.totp_enable(token, second.code())), 10)

    def test_the_ops_need_a_live_token(self) -> None:
        calls = {
            "totp_setup": lambda: self.c.totp_setup("nope"),
            "totp_enable": lambda: self.c.totp_enable("nope", "123456"),
            "totp_disable": lambda: self.c.totp_disable("nope", PASSWORD, "123456"),
            "recovery_codes_renew": lambda: self.c.recovery_codes_renew("nope", "123456"),
        }
        for op, call in calls.items():
            with self.subTest(op=op):
                with self.assertRaises(authnode.InvalidToken) as cm:
                    call()
                self.assertEqual(cm.exception.op, op)

    def test_stats_counts_challenges_and_codes(self) -> None:
        email, _, app, codes = self.with_totp()
        before = self.c.stats()
        required = self.challenge(email)
        with self.assertRaises(authnode.InvalidCode):
            self.c.login_second_factor(required.challenge, app.wrong_codes()[0])
        self.c.login_second_factor(required.challenge, codes[0])
        after = self.c.stats()
        self.assertEqual(after.second_factor_challenges_total, before.second_factor_challenges_total + 1)
        self.assertEqual(after.second_factor_ok_total, before.second_factor_ok_total + 1)
        self.assertEqual(after.second_factor_failed_total, before.second_factor_failed_total + 1)
        self.assertEqual(after.extra, {})  # every member the node sends is known


class AsyncSecondFactorTest(NodeTestCase):
    NODE_OPTIONS = OPTIONS

    def test_the_whole_flow(self) -> None:
        async def run() -> None:
            async with authnode.AsyncClient.connect(self.node.host, self.node.port, pool_size=1) as c:
                email = unique_email("atf")
                await c.register(email, PASSWORD, "Uma")
                token = (await c.login(email, PASSWORD)).token
                setup = await c.totp_setup(token)
                app = Authenticator(setup.secret)
                with self.assertRaises(authnode.Conflict):
                    await c.recovery_codes_renew(token, app.wrong_codes()[0])
                codes = await c.totp_enable(token, app.code())
                self.assertEqual(len(codes), 10)
                with self.assertRaises(authnode.Conflict):
                    await c.totp_setup(token)

                with self.assertRaises(authnode.SecondFactorRequired) as cm:
                    await c.login(email, PASSWORD)
                self.assertEqual(cm.exception.methods, METHODS)
                with self.assertRaises(authnode.InvalidCode):
                    await c.login_second_factor(cm.exception.challenge, app.wrong_codes()[0])
                session = await c.login_second_factor(cm.exception.challenge, app.code())
                self.assertEqual(session.user.second_factors, METHODS)

                new = await c.recovery_codes_renew(token, codes[0])
                with self.assertRaises(authnode.SecondFactorRequired) as cm:
                    await c.login(email, PASSWORD)
                with self.assertRaises(authnode.InvalidCode):
                    await c.login_second_factor(cm.exception.challenge, codes[1])  # renewed away
                await c.login_second_factor(cm.exception.challenge, typed(new[0]))

                await c.totp_disable(token, PASSWORD, new[1])
                self.assertEqual((await c.whoami(token)).second_factors, [])
                self.assertEqual((await c.login(email, PASSWORD)).user.second_factors, [])

        asyncio.run(run())


class RecoveryWithTotpTest(MailNodeTestCase):
    """``recovery_finish`` of an account with TOTP on sets the password
    and revokes the sessions, then asks for the second factor."""

    NODE_OPTIONS = OPTIONS

    def test_recovery_finish_asks_for_the_second_factor(self) -> None:
        new_password = "a new secret"
        with authnode.Client(self.node.host, self.node.port) as c:
            email = unique_email("rtf")
            c.register(email, PASSWORD, "Vic")
            token = c.login(email, PASSWORD).token
            codes = c.totp_enable(token, Authenticator(c.totp_setup(token).secret).code())
            c.recovery_start(email)
            with self.assertRaises(authnode.SecondFactorRequired) as cm:
                c.recovery_finish(email, self.sink.code(email, "recovery"), new_password)
            self.assertEqual((cm.exception.op, cm.exception.methods), ("recovery_finish", METHODS))
            with self.assertRaises(authnode.InvalidToken):
                c.whoami(token)  # every session revoked
            with self.assertRaises(authnode.InvalidCredentials):
                c.login(email, PASSWORD)  # the password is the new one
            session = c.login_second_factor(cm.exception.challenge, codes[0])
            self.assertEqual(session.user.second_factors, METHODS)  # recovery keeps TOTP
            with self.assertRaises(authnode.SecondFactorRequired):
                c.login(email, new_password)


class DeviceTokenTest(NodeTestCase):
    """With the throttle on (the default) a device token does not skip the
    second factor."""

    def test_a_device_token_does_not_skip_the_code(self) -> None:
        with authnode.Client(self.node.host, self.node.port) as c:
            email = unique_email("dtf")
            c.register(email, PASSWORD, "Wes")
            first = c.login(email, PASSWORD)
            self.assertIsNotNone(first.device_token)
            codes = c.totp_enable(first.token, Authenticator(c.totp_setup(first.token).secret).code())
            with self.assertRaises(authnode.SecondFactorRequired) as cm:
                c.login(email, PASSWORD, device_token=first.device_token)
            session = c.login_second_factor(cm.exception.challenge, codes[0])
            self.assertEqual(session.user.email, email)
            # The device keeps its token, as after a login without a second
            # factor; a login that presented none gets one.
            self.assertIsNone(session.device_token)
            with self.assertRaises(authnode.SecondFactorRequired) as cm:
                c.login(email, PASSWORD)
            self.assertIsNotNone(c.login_second_factor(cm.exception.challenge, codes[1]).device_token)
