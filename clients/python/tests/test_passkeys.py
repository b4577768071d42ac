"""Passkeys (docs/protocol.md, "Passkeys (WebAuthn)") through both clients,
against real nodes: registering one, listing it, signing in with it with and
without the email, a replayed assertion, deleting it, the refusals of each
op, the second factor of an account with TOTP, and a node without
``--webauthn-rp-id``.

The credentials come from :class:`tests.support.PasskeyAuthenticator`, a
software authenticator and browser (ES256 by python3-cryptography, CBOR of
its own) on the origin ``https://example.com``, the default
``--webauthn-origins`` of ``--webauthn-rp-id=example.com``.

The nodes run with ``--throttle=off`` (the tests of a class share the node
and all come from 127.0.0.1) and a short ``--failure-delay``, which holds
every failed sign-in.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone

import authnode
from tests.support import Authenticator, NodeTestCase, PasskeyAuthenticator, unb64url, unique_email

PASSWORD = "correct horse"
RP_ID = "example.com"
FAILURE_DELAY = 0.1
OPTIONS = ["--throttle=off", f"--failure-delay={int(FAILURE_DELAY * 1000)}ms", f"--webauthn-rp-id={RP_ID}"]
METHODS = ["totp", "recovery_code"]


def ids(descriptors: list[dict]) -> list[str]:
    """The ``id`` members of ``allowCredentials`` or ``excludeCredentials``."""
    return [d["id"] for d in descriptors]


def stranger() -> tuple[PasskeyAuthenticator, dict, dict]:
    """An authenticator with a passkey no node ever saw, its well-formed
    registration and an assertion of it (for challenges no node made)."""
    app = PasskeyAuthenticator()
    registration = app.create({"rp": {"id": RP_ID}, "user": {"id": "AAAA"}, "challenge": "AAAA"})
    return app, registration, app.get({"rpId": RP_ID, "challenge": "AAAA"})


class PasskeyTest(NodeTestCase):
    NODE_OPTIONS = OPTIONS

    def setUp(self) -> None:
        self.c = authnode.Client(self.node.host, self.node.port)
        self.addCleanup(self.c.close)

    def account(self, name: str = "Pia") -> tuple[str, str]:
        """A new account and a session token of it."""
        email = unique_email("pk")
        self.c.register(email, PASSWORD, name)
        return email, self.c.login(email, PASSWORD).token

    def with_passkey(self, name: str = "laptop") -> tuple[str, str, PasskeyAuthenticator, authnode.Passkey]:
        """A new account with a passkey: its email, a token, the
        authenticator holding the passkey, the passkey."""
        email, token = self.account()
        app = PasskeyAuthenticator()
        passkey = self.c.passkey_register_finish(token, app.create(self.c.passkey_register_begin(token, name)))
        return email, token, app, passkey

    def sign_in(self, app: PasskeyAuthenticator, email: str | None = None) -> authnode.Session:
        begun = self.c.passkey_login_begin(email)
        return self.c.passkey_login_finish(begun.challenge_id, app.get(begun.options))

    def test_register_list_and_sign_in_with_and_without_the_email(self) -> None:
        email, token = self.account("Pia")
        self.assertEqual(self.c.passkeys_list(token), [])

        options = self.c.passkey_register_begin(token, name="laptop")
        self.assertIsInstance(options, dict)  # for the browser, unchanged
        self.assertEqual(options["rp"]["id"], RP_ID)
        self.assertEqual((options["user"]["name"], options["user"]["displayName"]), (email, "Pia"))
        self.assertEqual(len(unb64url(options["user"]["id"])), 32)  # a handle, not the email
        self.assertGreaterEqual(len(unb64url(options["challenge"])), 16)
        self.assertIn(-7, [p["alg"] for p in options["pubKeyCredParams"]])
        self.assertEqual(options["excludeCredentials"], [])
        self.assertEqual(options["attestation"], "none")
        self.assertEqual(options["timeout"], 300000)

        app = PasskeyAuthenticator()
        credential = app.create(options)
        before = datetime.now(timezone.utc).replace(microsecond=0)
        passkey = self.c.passkey_register_finish(token, credential)
        self.assertIsInstance(passkey, authnode.Passkey)
        self.assertEqual((passkey.id, passkey.name, passkey.last_used_at), (credential["id"], "laptop", None))
        self.assertEqual(passkey.created_at.tzinfo, timezone.utc)
        self.assertLessEqual(abs(passkey.created_at - before), timedelta(seconds=5))
        self.assertEqual(passkey.extra, {})
        self.assertEqual(self.c.passkeys_list(token), [passkey])
        # The next registration's options exclude it.
        self.assertEqual(ids(self.c.passkey_register_begin(token)["excludeCredentials"]), [passkey.id])

        # With the email, the options list the account's passkeys.
        begun = self.c.passkey_login_begin(email)
        self.assertIsInstance(begun, authnode.PasskeyLoginOptions)
        self.assertIsInstance(begun.challenge_id, str)
        self.assertEqual(begun.options["rpId"], RP_ID)
        self.assertEqual(ids(begun.options["allowCredentials"]), [passkey.id])
        session = self.c.passkey_login_finish(begun.challenge_id, app.get(begun.options))
        self.assertIsInstance(session, authnode.Session)
        self.assertEqual(len(session.token), 43)
        self.assertEqual(session.user.email, email)
        self.assertIs(session.password_breached, False)
        self.assertEqual(self.c.whoami(session.token).email, email)
        (used,) = self.c.passkeys_list(token)
        self.assertIsNotNone(used.last_used_at)
        self.assertEqual((used.id, used.created_at), (passkey.id, passkey.created_at))

        # Without it the browser offers what it holds (discoverable).
        begun = self.c.passkey_login_begin()
        self.assertEqual(begun.options["allowCredentials"], [])
        session = self.c.passkey_login_finish(begun.challenge_id, app.get(begun.options))
        self.assertEqual(self.c.whoami(session.token).email, email)

    def test_the_default_name(self) -> None:
        _, token = self.account()
        options = self.c.passkey_register_begin(token)
        self.assertEqual(self.c.passkey_register_finish(token, PasskeyAuthenticator().create(options)).name, "Passkey")

    def test_a_replayed_assertion_is_invalid_credentials(self) -> None:
        email, _, app, _ = self.with_passkey()
        begun = self.c.passkey_login_begin(email)
        assertion = app.get(begun.options)
        self.c.passkey_login_finish(begun.challenge_id, assertion)
        start = time.monotonic()
        with self.assertRaises(authnode.InvalidCredentials) as cm:
            self.c.passkey_login_finish(begun.challenge_id, assertion)
        self.assertGreaterEqual(time.monotonic() - start, FAILURE_DELAY * 0.9)  # held
        self.assertEqual(cm.exception.op, "passkey_login_finish")
        # Nor does it work with a new challenge: it signed the old one.
        fresh = self.c.passkey_login_begin(email)
        with self.assertRaises(authnode.InvalidCredentials):
            self.c.passkey_login_finish(fresh.challenge_id, assertion)
        self.assertEqual(self.sign_in(app, email).user.email, email)

    def test_an_unknown_challenge_or_a_stranger_is_invalid_credentials(self) -> None:
        email, _, app, _ = self.with_passkey()
        begun = self.c.passkey_login_begin(email)
        with self.assertRaises(authnode.InvalidCredentials):
            self.c.passkey_login_finish("A" * 43, app.get(begun.options))
        unknown, _, _ = stranger()
        begun = self.c.passkey_login_begin()
        with self.assertRaises(authnode.InvalidCredentials):
            self.c.passkey_login_finish(begun.challenge_id, unknown.get(begun.options))

    def test_delete_then_delete_again_is_no_such_passkey(self) -> None:
        _, token, app, passkey = self.with_passkey()
        second = self.c.passkey_register_finish(token, app.create(self.c.passkey_register_begin(token, "phone")))
        self.assertEqual([p.name for p in self.c.passkeys_list(token)], ["laptop", "phone"])  # oldest first
        self.assertIsNone(self.c.passkey_delete(token, passkey.id))
        self.assertEqual(self.c.passkeys_list(token), [second])
        with self.assertRaises(authnode.NoSuchPasskey) as cm:
            self.c.passkey_delete(token, passkey.id)
        self.assertEqual((cm.exception.code, cm.exception.op), ("no_such_passkey", "passkey_delete"))
        # The deleted one signs in no more (the browser still offers it).
        begun = self.c.passkey_login_begin()
        offered = {**begun.options, "allowCredentials": [{"type": "public-key", "id": passkey.id}]}
        with self.assertRaises(authnode.InvalidCredentials):
            self.c.passkey_login_finish(begun.challenge_id, app.get(offered))

    def test_another_accounts_passkey_is_no_such_passkey(self) -> None:
        _, owner, _, passkey = self.with_passkey()
        _, other = self.account()
        with self.assertRaises(authnode.NoSuchPasskey):
            self.c.passkey_delete(other, passkey.id)
        self.assertEqual(self.c.passkeys_list(owner), [passkey])

    def test_an_email_without_passkeys_gets_the_same_made_up_id(self) -> None:
        email, _ = self.account()
        for who in (email, unique_email("nobody")):
            with self.subTest(email=who):
                first = self.c.passkey_login_begin(who).options["allowCredentials"]
                self.assertEqual(len(first), 1)
                self.assertEqual(self.c.passkey_login_begin(who).options["allowCredentials"], first)

    def test_a_credential_that_does_not_verify_is_passkey_refused(self) -> None:
        _, token = self.account()
        elsewhere = PasskeyAuthenticator(origin="https://phish.example.net")
        with self.assertRaises(authnode.PasskeyRefused) as cm:
            self.c.passkey_register_finish(token, elsewhere.create(self.c.passkey_register_begin(token)))
        self.assertEqual((cm.exception.code, cm.exception.op), ("passkey_refused", "passkey_register_finish"))
        self.assertIn("wrong_origin", cm.exception.message)
        # Another account's challenge is not a live one of this account.
        _, other = self.account()
        with self.assertRaises(authnode.PasskeyRefused):
            self.c.passkey_register_finish(token, PasskeyAuthenticator().create(self.c.passkey_register_begin(other)))
        self.assertEqual(self.c.passkeys_list(token), [])
        with self.assertRaises(authnode.BadRequest):
            self.c.passkey_register_finish(token, {"id": "AAAA", "type": "public-key"})

    def test_a_credential_registered_already_is_conflict(self) -> None:
        _, token, app, passkey = self.with_passkey()
        with self.assertRaises(authnode.Conflict):
            self.c.passkey_register_finish(token, app.create(self.c.passkey_register_begin(token), again=True))
        self.assertEqual(self.c.passkeys_list(token), [passkey])

    def test_the_ops_need_a_live_token(self) -> None:
        _, credential, _ = stranger()
        calls = {
            "passkey_register_begin": lambda: self.c.passkey_register_begin("nope"),
            "passkey_register_finish": lambda: self.c.passkey_register_finish("nope", credential),
            "passkeys_list": lambda: self.c.passkeys_list("nope"),
            "passkey_delete": lambda: self.c.passkey_delete("nope", credential["id"]),
        }
        for op, call in calls.items():
            with self.subTest(op=op):
                with self.assertRaises(authnode.InvalidToken) as cm:
                    call()
                self.assertEqual(cm.exception.op, op)

    def test_with_totp_a_passkey_without_user_verification_needs_a_code(self) -> None:
        email, token, app, _ = self.with_passkey()
        codes = self.c.totp_enable(token, Authenticator(self.c.totp_setup(token).secret).code())
        # Verified (a PIN, a fingerprint): two factors already.
        self.assertEqual(self.sign_in(app, email).user.second_factors, METHODS)
        app.user_verified = False
        begun = self.c.passkey_login_begin(email)
        with self.assertRaises(authnode.SecondFactorRequired) as cm:
            self.c.passkey_login_finish(begun.challenge_id, app.get(begun.options))
        self.assertEqual((cm.exception.op, cm.exception.methods), ("passkey_login_finish", METHODS))
        self.assertIs(cm.exception.password_breached, False)
        session = self.c.login_second_factor(cm.exception.challenge, codes[0])
        self.assertEqual(session.user.email, email)


class AsyncPasskeyTest(NodeTestCase):
    NODE_OPTIONS = OPTIONS

    def test_the_whole_flow(self) -> None:
        async def run() -> None:
            async with authnode.AsyncClient.connect(self.node.host, self.node.port, pool_size=1) as c:
                email = unique_email("apk")
                await c.register(email, PASSWORD, "Ada")
                token = (await c.login(email, PASSWORD)).token
                app = PasskeyAuthenticator()
                options = await c.passkey_register_begin(token, "phone")
                self.assertEqual(options["rp"]["id"], RP_ID)
                passkey = await c.passkey_register_finish(token, app.create(options))
                self.assertEqual((passkey.name, passkey.last_used_at), ("phone", None))
                self.assertEqual(await c.passkeys_list(token), [passkey])

                begun = await c.passkey_login_begin(email)
                self.assertEqual(ids(begun.options["allowCredentials"]), [passkey.id])
                assertion = app.get(begun.options)
                session = await c.passkey_login_finish(begun.challenge_id, assertion)
                self.assertEqual((await c.whoami(session.token)).email, email)
                with self.assertRaises(authnode.InvalidCredentials):
                    await c.passkey_login_finish(begun.challenge_id, assertion)  # replayed

                begun = await c.passkey_login_begin()
                self.assertEqual(begun.options["allowCredentials"], [])
                session = await c.passkey_login_finish(begun.challenge_id, app.get(begun.options))
                self.assertEqual(session.user.email, email)
                self.assertIsNotNone((await c.passkeys_list(token))[0].last_used_at)

                with self.assertRaises(authnode.PasskeyRefused):
                    await c.passkey_register_finish(
                        token, PasskeyAuthenticator(origin="https://phish.example.net").create(
                            await c.passkey_register_begin(token)))
                await c.passkey_delete(token, passkey.id)
                self.assertEqual(await c.passkeys_list(token), [])
                with self.assertRaises(authnode.NoSuchPasskey):
                    await c.passkey_delete(token, passkey.id)

        asyncio.run(run())


class PasskeysOffTest(NodeTestCase):
    """Without ``--webauthn-rp-id`` every passkey op answers
    ``unavailable``, naming the option."""

    NODE_OPTIONS = ["--throttle=off"]

    def test_every_op_is_unavailable(self) -> None:
        _, credential, assertion = stranger()
        with authnode.Client(self.node.host, self.node.port) as c:
            email = unique_email("off")
            c.register(email, PASSWORD, "Oli")
            token = c.login(email, PASSWORD).token
            calls = {
                "passkey_register_begin": lambda: c.passkey_register_begin(token, "laptop"),
                "passkey_register_finish": lambda: c.passkey_register_finish(token, credential),
                "passkey_login_begin": lambda: c.passkey_login_begin(email),
                "passkey_login_finish": lambda: c.passkey_login_finish("A" * 43, assertion),
                "passkeys_list": lambda: c.passkeys_list(token),
                "passkey_delete": lambda: c.passkey_delete(token, credential["id"]),
            }
            for op, call in calls.items():
                with self.subTest(op=op):
                    with self.assertRaises(authnode.Unavailable) as cm:
                        call()
                    self.assertEqual(cm.exception.op, op)
                    self.assertIn("--webauthn-rp-id", cm.exception.message)
            self.assertEqual(c.whoami(token).email, email)  # nothing else is off

    def test_the_async_client_too(self) -> None:
        async def run() -> None:
            async with authnode.AsyncClient.connect(self.node.host, self.node.port, pool_size=1) as c:
                with self.assertRaises(authnode.Unavailable):
                    await c.passkey_login_begin()

        asyncio.run(run())
