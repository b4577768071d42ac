"""Without a node: reply parsing, the error table, and transport cases a
real node cannot be made to show on demand (reordered replies, a dropped
connection right after a request, garbage, silence), played by a fake
node on a local port."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import unittest
from typing import Any

import authnode
from authnode import _protocol as proto
from tests.support import FakeNode, read_lines, write_json

USER = {
    "id": 7,
    "email": "ann@example.org",
    "name": "Ann",
    "created_at": "2026-11-25T14:58:01Z",
    "last_login_at": None,
    "email_verified": False,
}
TOKEN = "T" * 43
CODE = "K7QM-2XPA"

#: Every code of docs/protocol.md's error table and its class.
EXPECTED_CLASSES = {
    "bad_json": authnode.BadJson,
    "bad_request": authnode.BadRequest,
    "unknown_op": authnode.UnknownOp,
    "line_too_long": authnode.LineTooLong,
    "busy": authnode.Busy,
    "unavailable": authnode.Unavailable,
    "internal": authnode.Internal,
    "invalid_email": authnode.InvalidEmail,
    "weak_password": authnode.WeakPassword,
    "email_taken": authnode.EmailTaken,
    "invalid_credentials": authnode.InvalidCredentials,
    "invalid_token": authnode.InvalidToken,
    "forbidden": authnode.Forbidden,
    "no_such_user": authnode.NoSuchUser,
    "invalid_code": authnode.InvalidCode,
    "email_not_verified": authnode.EmailNotVerified,
    "second_factor_required": authnode.SecondFactorRequired,
    "conflict": authnode.Conflict,
    "breached_password": authnode.BreachedPassword,
    "passkey_refused": authnode.PasskeyRefused,
    "no_such_passkey": authnode.NoSuchPasskey,
    "rate_limited": authnode.RateLimited,
}

#: What a ``second_factor_required`` reply carries beside ``error``.
CHALLENGE = "C" * 43
SECOND_FACTOR = {
    "challenge": CHALLENGE,
    "methods": ["totp", "recovery_code"],
    "expires_at": "2026-12-03T13:05:00Z",
}
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
URI = f"otpauth://totp/authnode:ann%40example.org?secret={SECRET}&issuer=authnode&algorithm=SHA1&digits=6&period=30"
RECOVERY_CODES = [f"K7QM-2XP{i}" for i in range(10)]


#: The account codes' operations (docs/protocol.md, "Account codes").
CODE_OPS = (
    "recovery_start",
    "recovery_finish",
    "verify_email_start",
    "verify_email_finish",
    "change_email_start",
    "change_email_finish",
)

#: The second factor's operations (docs/protocol.md, "Second factor").
SECOND_FACTOR_OPS = (
    "totp_setup",
    "totp_enable",
    "totp_disable",
    "recovery_codes_renew",
    "login_second_factor",
)

#: The passkeys' operations (docs/protocol.md, "Passkeys (WebAuthn)").
PASSKEY_OPS = (
    "passkey_register_begin",
    "passkey_register_finish",
    "passkey_login_begin",
    "passkey_login_finish",
    "passkeys_list",
    "passkey_delete",
)

#: A passkey object as the node sends it, and the options and credentials
#: the passkey methods of the unit tests pass through (opaque to the client).
PASSKEY = {"id": "Y3JlZC0x", "name": "laptop", "created_at": "2026-11-25T14:58:01Z", "last_used_at": None}
CREATION_OPTIONS = {
    "rp": {"id": "example.com", "name": "Example"},
    "user": {"id": "aGFuZGxl", "name": "ann@example.org", "displayName": "Ann"},
    "challenge": "Y2hhbGxlbmdl",
    "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
    "timeout": 300000,
    "excludeCredentials": [],
    "authenticatorSelection": {"residentKey": "preferred", "userVerification": "preferred"},
    "attestation": "none",
}
REQUEST_OPTIONS = {
    "challenge": "Y2hhbGxlbmdl",
    "timeout": 300000,
    "rpId": "example.com",
    "allowCredentials": [{"type": "public-key", "id": "Y3JlZC0x"}],
    "userVerification": "preferred",
}
REGISTRATION = {
    "id": "Y3JlZC0x", "rawId": "Y3JlZC0x", "type": "public-key",
    "response": {"clientDataJSON": "e30", "attestationObject": "oA", "transports": ["internal"]},
    "clientExtensionResults": {},
}
ASSERTION = {
    "id": "Y3JlZC0x", "rawId": "Y3JlZC0x", "type": "public-key",
    "response": {"clientDataJSON": "e30", "authenticatorData": "AA", "signature": "AA", "userHandle": "aGFuZGxl"},
    "clientExtensionResults": {},
}

#: The requests the passkey methods of the unit tests send.
PASSKEY_OPS_ON_THE_WIRE = [
    {"op": "passkey_register_begin", "token": TOKEN, "name": "laptop"},
    {"op": "passkey_register_begin", "token": TOKEN},
    {"op": "passkey_register_finish", "token": TOKEN, "credential": REGISTRATION},
    {"op": "passkeys_list", "token": TOKEN},
    {"op": "passkey_login_begin", "email": "ann@example.org", "client_addr": "203.0.113.9"},
    {"op": "passkey_login_begin"},
    {
        "op": "passkey_login_finish",
        "challenge_id": CHALLENGE,
        "credential": ASSERTION,
        "client_addr": "203.0.113.9",
        "device_token": "device-1",
    },
    {"op": "passkey_delete", "token": TOKEN, "passkey_id": "Y3JlZC0x"},
]

#: The requests the second-factor methods of the unit tests send.
SECOND_FACTOR_OPS_ON_THE_WIRE = [
    {"op": "totp_setup", "token": TOKEN},
    {"op": "totp_enable", "token": TOKEN, "code": "492039", "client_addr": "203.0.113.9"},
    {"op": "recovery_codes_renew", "token": TOKEN, "code": CODE, "client_addr": "203.0.113.9"},
    {"op": "totp_disable", "token": TOKEN, "password": "correct horse", "code": "492 039", "client_addr": "203.0.113.9"},
    {"op": "login_second_factor", "challenge": CHALLENGE, "code": "492039"},
    {"op": "login_second_factor", "challenge": CHALLENGE, "code": CODE, "client_addr": "203.0.113.9"},
]


#: The requests the account code methods of the unit tests send.
CODE_OPS_ON_THE_WIRE = [
    {"op": "recovery_start", "email": "a@example.org", "client_addr": "203.0.113.9"},
    {"op": "recovery_finish", "email": "a@example.org", "code": CODE, "new_password": "a new secret"},
    {"op": "verify_email_start", "token": TOKEN},
    {"op": "verify_email_finish", "token": TOKEN, "code": CODE, "client_addr": "203.0.113.9"},
    {"op": "change_email_start", "token": TOKEN, "password": "correct horse", "new_email": "b@example.org"},
    {"op": "change_email_finish", "token": TOKEN, "code": CODE, "client_addr": "203.0.113.9"},
]


def answer(req: dict[str, Any]) -> dict[str, Any]:
    """What the fake node answers to a request."""
    op = req["op"]
    reply: dict[str, Any] = {"id": req["id"], "ok": True}
    if op in ("whoami", "register", "verify_email_finish", "change_email_finish"):
        reply["user"] = dict(USER)
    elif op == "verify_email_start":
        reply["sent"] = True
    elif op in ("login", "recovery_finish", "login_second_factor", "passkey_login_finish"):
        reply.update(token=TOKEN, expires_at="2026-11-26T14:58:01Z", user=dict(USER))
    elif op == "totp_setup":
        reply.update(secret=SECRET, uri=URI)
    elif op in ("totp_enable", "recovery_codes_renew"):
        reply["recovery_codes"] = list(RECOVERY_CODES)
    elif op == "stats":
        reply["stats"] = {"connections": 1, "uptime_seconds": 3}
    elif op == "passkey_register_begin":
        reply["options"] = dict(CREATION_OPTIONS)
    elif op == "passkey_register_finish":
        reply["passkey"] = dict(PASSKEY)
    elif op == "passkey_login_begin":
        reply.update(challenge_id=CHALLENGE, options=dict(REQUEST_OPTIONS))
    elif op == "passkeys_list":
        reply["passkeys"] = [dict(PASSKEY), {**PASSKEY, "id": "Y3JlZC0y", "last_used_at": "2026-11-26T09:00:00Z"}]
    return reply


def serve_forever(fake: FakeNode):
    def handler(conn: socket.socket, index: int) -> None:
        while True:
            (req,) = read_lines(conn, 1, fake, timeout=30)
            write_json(conn, answer(req))

    return handler


class ErrorTableTest(unittest.TestCase):
    def test_every_code_of_the_protocol_has_its_class(self) -> None:
        self.assertEqual(dict(authnode.ERROR_CLASSES), EXPECTED_CLASSES)
        for code, cls in EXPECTED_CLASSES.items():
            err = authnode.errors.error_from_reply(
                {"id": 1, "ok": False, "error": {"code": code, "message": "m"}, **SECOND_FACTOR}, "login"
            )
            self.assertIs(type(err), cls)
            self.assertIsInstance(err, authnode.AuthnodeError)
            self.assertEqual((err.code, err.message, err.retry_after_ms, err.op), (code, "m", None, "login"))

    def test_second_factor_required_carries_the_challenge(self) -> None:
        reply = {"id": 1, "ok": False, "error": {"code": "second_factor_required", "message": "m"}, **SECOND_FACTOR}
        err = authnode.errors.error_from_reply(reply, "login")
        self.assertIsInstance(err, authnode.SecondFactorRequired)
        self.assertEqual((err.challenge, err.methods, err.op), (CHALLENGE, ["totp", "recovery_code"], "login"))
        self.assertEqual(err.expires_at.isoformat(), "2026-12-03T13:05:00+00:00")
        for text in (str(err), repr(err)):
            self.assertNotIn(CHALLENGE, text)
        # A copy for another request (a refusal without id) keeps it all.
        copy = proto.refusal_for(err, "recovery_finish")
        self.assertEqual((copy.challenge, copy.op), (CHALLENGE, "recovery_finish"))
        # Without what the caller needs for the second step, the reply is
        # no authnode v1 reply.
        for member in SECOND_FACTOR:
            broken = {k: v for k, v in reply.items() if k != member}
            with self.subTest(missing=member), self.assertRaises(authnode.ProtocolError):
                authnode.errors.error_from_reply(broken, "login")
        with self.assertRaises(authnode.ProtocolError):
            authnode.errors.error_from_reply({**reply, "methods": "totp"}, "login")
        with self.assertRaises(authnode.ProtocolError):
            authnode.errors.error_from_reply({**reply, "expires_at": "in 5 minutes"}, "login")

    def test_retry_after_ms_is_carried(self) -> None:
        err = authnode.errors.error_from_reply(
            {"ok": False, "error": {"code": "rate_limited", "message": "m", "retry_after_ms": 1650}}
        )
        self.assertIsInstance(err, authnode.RateLimited)
        self.assertEqual(err.retry_after_ms, 1650)

    def test_an_unknown_code_is_treated_like_internal(self) -> None:
        err = authnode.errors.error_from_reply(
            {"ok": False, "error": {"code": "quota_exceeded", "message": "m", "hint": 1}}
        )
        self.assertIsInstance(err, authnode.Internal)
        self.assertEqual(err.code, "quota_exceeded")

    def test_transport_errors_are_not_node_answers(self) -> None:
        for cls in (authnode.ConnectionLost, authnode.Timeout, authnode.ConnectFailed, authnode.ProtocolError):
            self.assertTrue(issubclass(cls, authnode.TransportError))
            self.assertFalse(issubclass(cls, authnode.AuthnodeError))
        self.assertTrue(issubclass(authnode.Timeout, TimeoutError))
        self.assertTrue(issubclass(authnode.ConnectionLost, ConnectionError))

    def test_the_retry_safe_ops_are_the_read_only_ones(self) -> None:
        self.assertEqual(authnode.RETRY_SAFE_OPS, {"ping", "whoami", "stats"})


class Settings:
    """A client's settings as the call policy reads them."""

    timeout = 10.0
    auth_timeout = 90.0
    retry_idempotent = True
    max_line = 65536


def lost(sent: bool) -> authnode.ConnectionLost:
    return authnode.ConnectionLost("lost", op="x", sent=sent)


class CallPolicyTest(unittest.TestCase):
    """The policy both clients share (authnode/_protocol.py), without any
    connection: default timeouts per op, which calls are sent again after a
    lost connection, and how often."""

    def test_password_ops_get_the_auth_timeout_and_the_others_the_short_one(self) -> None:
        slow = (
            "register",
            "login",
            "change_password",
            "recovery_finish",
            "verify_email_finish",
            "change_email_start",
            "change_email_finish",
            "totp_enable",
            "totp_disable",
            "recovery_codes_renew",
            "login_second_factor",
            "passkey_login_finish",
            "some_future_op",
        )
        for op in slow:
            self.assertEqual(proto.call_timeout(op, None, Settings()), 90.0, op)
        quick = ("ping", "whoami", "logout", "stats", "recovery_start", "verify_email_start", "totp_setup",
                 *(op for op in PASSKEY_OPS if op != "passkey_login_finish"))
        for op in quick:
            self.assertEqual(proto.call_timeout(op, None, Settings()), 10.0, op)
        self.assertEqual(proto.call_timeout("login", 3.0, Settings()), 3.0)

    def test_only_read_only_ops_retry_by_default(self) -> None:
        for op in ("ping", "whoami", "stats"):
            self.assertTrue(proto.call_retries(op, None, Settings()), op)
        for op in ("register", "login", "logout", "change_password", "some_future_op", *CODE_OPS, *SECOND_FACTOR_OPS,
                   *PASSKEY_OPS):
            self.assertFalse(proto.call_retries(op, None, Settings()), op)
        no_retries = Settings()
        no_retries.retry_idempotent = False
        self.assertFalse(proto.call_retries("ping", None, no_retries))
        self.assertTrue(proto.call_retries("some_future_op", True, Settings()))
        self.assertFalse(proto.call_retries("whoami", False, Settings()))

    def test_a_request_that_may_have_been_sent_is_resent_once_if_it_retries(self) -> None:
        call = proto.Call("whoami", {"token": TOKEN}, Settings())
        self.assertTrue(call.resend_after(lost(sent=True)))
        self.assertFalse(call.resend_after(lost(sent=True)))
        call = proto.Call("login", {"email": "a", "password": "b"}, Settings())
        self.assertFalse(call.resend_after(lost(sent=True)))

    def test_a_request_provably_not_sent_is_resent_whatever_the_op(self) -> None:
        call = proto.Call("register", {}, Settings())
        for _ in range(proto.MAX_UNSENT_RESENDS):
            self.assertTrue(call.resend_after(lost(sent=False)))
        self.assertFalse(call.resend_after(lost(sent=False)))

    def test_the_timeout_bounds_the_whole_call(self) -> None:
        before = time.monotonic()
        call = proto.Call("login", {}, Settings(), timeout=5.0)
        self.assertEqual(call.timeout, 5.0)
        self.assertGreaterEqual(call.deadline, before + 5.0)
        self.assertLessEqual(call.deadline, time.monotonic() + 5.0)
        self.assertEqual(call.line(3), b'{"id":3,"op":"login"}\n')

    def test_requests_on_a_dropped_connection_may_have_taken_effect(self) -> None:
        error = proto.lost_for(authnode.ConnectionLost("connection to x lost"), "login")
        self.assertIsInstance(error, authnode.ConnectionLost)
        self.assertEqual((error.op, error.sent), ("login", True))
        error = proto.lost_for(authnode.ProtocolError("garbage"), "ping")
        self.assertIsInstance(error, authnode.ProtocolError)
        self.assertTrue(error.sent)
        error = proto.not_sent(None, "x:1", "register")
        self.assertEqual((type(error), error.sent), (authnode.ConnectionLost, False))

    def test_a_connection_idle_too_long_is_not_used(self) -> None:
        self.assertTrue(proto.too_idle(50.0, 0, 50.0))
        self.assertFalse(proto.too_idle(50.0, 1, 60.0))  # a reply is due on it
        self.assertFalse(proto.too_idle(50.0, 0, 10.0))
        self.assertFalse(proto.too_idle(None, 0, 1e9))


class ParsingTest(unittest.TestCase):
    def test_unknown_members_land_in_extra(self) -> None:
        reply = {
            "id": 1,
            "ok": True,
            "token": TOKEN,
            "expires_at": "2026-11-26T14:58:01Z",
            "user": {**USER, "avatar": "a.png", "last_login_at": "2026-11-25T15:00:00Z"},
            "mfa": {"required": False},
        }
        s = authnode.Session.from_reply(reply)
        self.assertEqual(s.user.extra, {"avatar": "a.png"})
        self.assertEqual(s.extra, {"mfa": {"required": False}})
        self.assertIsNone(s.device_token)
        self.assertEqual(s.user.last_login_at.isoformat(), "2026-11-25T15:00:00+00:00")
        stats = authnode.Stats.from_json({"connections": 2, "sessions_live": 5})
        self.assertEqual((stats.connections, stats.logins_ok), (2, 0))
        self.assertEqual(stats.extra, {"sessions_live": 5})

    def test_a_grant_says_whether_its_password_is_breached(self) -> None:
        grant = {"ok": True, "token": TOKEN, "expires_at": "2026-11-26T14:58:01Z", "user": USER}
        self.assertIs(authnode.Session.from_reply(grant).password_breached, False)
        breached = authnode.Session.from_reply({**grant, "password_breached": True})
        self.assertIs(breached.password_breached, True)
        self.assertEqual(breached.extra, {})
        with self.assertRaises(authnode.ProtocolError):
            authnode.Session.from_reply({**grant, "password_breached": "yes"})
        first_step = {"ok": False, "error": {"code": "second_factor_required", "message": "m"}, **SECOND_FACTOR}
        err = authnode.errors.error_from_reply({**first_step, "password_breached": True}, "login")
        self.assertIs(err.password_breached, True)
        self.assertIs(authnode.errors.error_from_reply(first_step, "login").password_breached, False)
        stats = authnode.Stats.from_json({"breached_passwords": "on", "breached_index_entries": 7})
        self.assertEqual((stats.breached_passwords, stats.breached_index_entries), ("on", 7))
        self.assertEqual(stats.extra, {})

    def test_email_verified_is_a_known_member_of_the_user(self) -> None:
        user = authnode.User.from_json({**USER, "email_verified": True})
        self.assertIs(user.email_verified, True)
        self.assertEqual(user.extra, {})
        self.assertIs(authnode.User.from_json(USER).email_verified, False)
        # A node older than account codes sends none: it verifies nothing.
        older = {k: v for k, v in USER.items() if k != "email_verified"}
        self.assertIs(authnode.User.from_json(older).email_verified, False)
        with self.assertRaises(authnode.ProtocolError):
            authnode.User.from_json({**USER, "email_verified": "yes"})

    def test_the_mail_counters_are_known_members_of_stats(self) -> None:
        mail = {"mails_sent_total": 4, "mails_failed_total": 2, "mails_dropped_total": 1, "outbox_depth": 3}
        stats = authnode.Stats.from_json({"connections": 1, **mail})
        self.assertEqual(
            (stats.mails_sent_total, stats.mails_failed_total, stats.mails_dropped_total, stats.outbox_depth),
            (4, 2, 1, 3),
        )
        self.assertEqual(stats.extra, {})
        self.assertEqual(authnode.Stats.from_json({}).outbox_depth, 0)
        with self.assertRaises(authnode.ProtocolError):
            authnode.Stats.from_json({"outbox_depth": "3"})

    def test_second_factors_is_a_known_member_of_the_user(self) -> None:
        user = authnode.User.from_json({**USER, "second_factors": ["totp", "recovery_code"]})
        self.assertEqual(user.second_factors, ["totp", "recovery_code"])
        self.assertEqual(user.extra, {})
        # A node older than second factors sends none: it has none.
        self.assertEqual(authnode.User.from_json(USER).second_factors, [])
        self.assertEqual(hash(user), hash(authnode.User.from_json(USER)))  # still hashable
        self.assertNotEqual(user, authnode.User.from_json(USER))
        for bad in ("totp", [1], None):
            with self.subTest(second_factors=bad), self.assertRaises(authnode.ProtocolError):
                authnode.User.from_json({**USER, "second_factors": bad})

    def test_the_second_factor_counters_are_known_members_of_stats(self) -> None:
        counters = {"second_factor_challenges_total": 3, "second_factor_ok_total": 2, "second_factor_failed_total": 1}
        stats = authnode.Stats.from_json(counters)
        self.assertEqual(
            (stats.second_factor_challenges_total, stats.second_factor_ok_total, stats.second_factor_failed_total),
            (3, 2, 1),
        )
        self.assertEqual(stats.extra, {})

    def test_totp_setup_and_recovery_codes_replies(self) -> None:
        setup = authnode.TotpSetup.from_reply({"id": 1, "ok": True, "secret": SECRET, "uri": URI, "qr": "x"})
        self.assertEqual((setup.secret, setup.uri, setup.extra), (SECRET, URI, {"qr": "x"}))
        self.assertNotIn(SECRET, repr(setup))
        with self.assertRaises(authnode.ProtocolError):
            authnode.TotpSetup.from_reply({"ok": True, "secret": SECRET})
        self.assertEqual(proto.recovery_codes_of({"ok": True, "recovery_codes": RECOVERY_CODES}, "totp_enable"),
                         RECOVERY_CODES)
        for bad in (None, "K7QM-2XPA", [1]):
            with self.subTest(recovery_codes=bad), self.assertRaises(authnode.ProtocolError):
                proto.recovery_codes_of({"ok": True, "recovery_codes": bad}, "totp_enable")

    def test_passkey_replies(self) -> None:
        passkey = authnode.Passkey.from_json({**PASSKEY, "backed_up": True})
        self.assertEqual((passkey.id, passkey.name, passkey.last_used_at), ("Y3JlZC0x", "laptop", None))
        self.assertEqual(passkey.created_at.isoformat(), "2026-11-25T14:58:01+00:00")
        self.assertEqual(passkey.extra, {"backed_up": True})
        used = authnode.Passkey.from_json({**PASSKEY, "last_used_at": "2026-11-26T09:00:00Z"})
        self.assertEqual(used.last_used_at.isoformat(), "2026-11-26T09:00:00+00:00")
        self.assertEqual(hash(passkey), hash(authnode.Passkey.from_json(PASSKEY)))
        self.assertEqual(authnode.Passkey.list_from_json([PASSKEY, PASSKEY]), [passkey, passkey])
        for bad in ({**PASSKEY, "id": 1}, {**PASSKEY, "created_at": "yesterday"},
                    {**PASSKEY, "last_used_at": 5}, {k: v for k, v in PASSKEY.items() if k != "name"}, "x"):
            with self.subTest(passkey=bad), self.assertRaises(authnode.ProtocolError):
                authnode.Passkey.from_json(bad)
        for bad in (None, PASSKEY, [1]):
            with self.subTest(passkeys=bad), self.assertRaises(authnode.ProtocolError):
                authnode.Passkey.list_from_json(bad)

        begun = authnode.PasskeyLoginOptions.from_reply(
            {"id": 1, "ok": True, "challenge_id": CHALLENGE, "options": REQUEST_OPTIONS, "hint": 1}
        )
        self.assertEqual((begun.challenge_id, begun.options, begun.extra), (CHALLENGE, REQUEST_OPTIONS, {"hint": 1}))
        self.assertIs(type(begun.options), dict)
        for bad in ({"ok": True, "options": REQUEST_OPTIONS}, {"ok": True, "challenge_id": CHALLENGE},
                    {"ok": True, "challenge_id": CHALLENGE, "options": []}):
            with self.subTest(reply=bad), self.assertRaises(authnode.ProtocolError):
                authnode.PasskeyLoginOptions.from_reply(bad)

        options = proto.options_of({"ok": True, "options": CREATION_OPTIONS}, "passkey_register_begin")
        self.assertEqual(options, CREATION_OPTIONS)
        self.assertIs(type(options), dict)
        for bad in (None, "x", [1]):
            with self.subTest(options=bad), self.assertRaises(authnode.ProtocolError):
                proto.options_of({"ok": True, "options": bad}, "passkey_register_begin")

    def test_verify_email_start_needs_its_sent_member(self) -> None:
        self.assertIs(proto.sent_of({"ok": True, "sent": False}), False)
        with self.assertRaises(authnode.ProtocolError):
            proto.sent_of({"ok": True})

    def test_secrets_stay_out_of_repr(self) -> None:
        s = authnode.Session.from_reply(
            {"ok": True, "token": TOKEN, "expires_at": "2026-11-26T14:58:01Z", "user": USER, "device_token": "D" * 43}
        )
        self.assertNotIn(TOKEN, repr(s))
        self.assertNotIn("D" * 43, repr(s))

    def test_codes_and_passwords_stay_out_of_error_messages(self) -> None:
        # What a failed call raises says the op and the node's message, never
        # the request's fields.
        err = authnode.errors.error_from_reply(
            {"id": 1, "ok": False, "error": {"code": "invalid_code", "message": "wrong or expired code"}},
            "recovery_finish",
        )
        self.assertEqual(str(err), "invalid_code: wrong or expired code")
        with self.assertRaises(authnode.LineTooLong) as cm:
            proto.encode_request(1, "recovery_finish", {"code": CODE, "new_password": "s3cret" * 20}, 64)
        for text in (str(cm.exception), repr(cm.exception)):
            self.assertNotIn(CODE, text)
            self.assertNotIn("s3cret", text)

    def test_a_reply_missing_what_the_client_relies_on_is_a_protocol_error(self) -> None:
        with self.assertRaises(authnode.ProtocolError):
            authnode.User.from_json({**USER, "id": "seven"})
        with self.assertRaises(authnode.ProtocolError):
            proto.decode_reply(b"[1,2]")
        with self.assertRaises(authnode.ProtocolError):
            proto.decode_reply(b"not json")

    def test_requests_are_one_line_with_id_and_op(self) -> None:
        line = proto.encode_request(5, "login", {"email": "a\nb", "password": "p\u00e9"}, 1000)
        self.assertTrue(line.endswith(b"\n"))
        self.assertEqual(line.count(b"\n"), 1)
        self.assertEqual(line, '{"id":5,"op":"login","email":"a\\nb","password":"p\u00e9"}\n'.encode())
        with self.assertRaises(authnode.LineTooLong):
            proto.encode_request(5, "login", {"password": "x" * 100}, 64)


class FakeNodeSyncTest(unittest.TestCase):
    def fake(self, handler) -> FakeNode:
        fake = FakeNode(handler)
        self.addCleanup(fake.close)
        return fake

    def client(self, fake: FakeNode, **kw: Any) -> authnode.Client:
        c = authnode.Client("127.0.0.1", fake.port, **kw)
        self.addCleanup(c.close)
        return c

    def test_replies_in_reverse_order_reach_their_callers(self) -> None:
        def handler(conn: socket.socket, index: int) -> None:
            reqs = read_lines(conn, 3)
            for req in reversed(reqs):
                write_json(conn, answer(req))
            serve_forever(fake)(conn, index)

        fake = self.fake(handler)
        c = self.client(fake)
        results: dict[str, Any] = {}

        def run(name: str, fn) -> None:
            results[name] = fn()

        threads = [
            threading.Thread(target=run, args=("login", lambda: c.login("ann@example.org", "pw"))),
            threading.Thread(target=run, args=("stats", c.stats)),
            threading.Thread(target=run, args=("ping", c.ping)),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        self.assertIsInstance(results["login"], authnode.Session)
        self.assertEqual(results["login"].token, TOKEN)
        self.assertEqual(results["stats"].uptime_seconds, 3)
        self.assertIsNone(results["ping"])

    def test_a_breached_password_refusal_raises_breached_password(self) -> None:
        def handler(conn: socket.socket, index: int) -> None:
            (req,) = read_lines(conn, 1, fake, timeout=30)
            message = "this password is in a list of breached passwords; choose another"
            write_json(conn, {"id": req["id"], "ok": False, "error": {"code": "breached_password", "message": message}})
            serve_forever(fake)(conn, index)

        fake = self.fake(handler)
        c = self.client(fake)
        with self.assertRaises(authnode.BreachedPassword) as caught:
            c.register("ann@example.org", "password1", "Ann")
        self.assertIn("breached", str(caught.exception))
        self.assertNotIn("password1", str(caught.exception))

    def test_a_read_only_request_is_resent_once_only(self) -> None:
        # The first two connections are dropped right after their first
        # request arrives; later ones are served.
        def handler(conn: socket.socket, index: int) -> None:
            if index < 2:
                read_lines(conn, 1, fake)
                return
            serve_forever(fake)(conn, index)

        fake = self.fake(handler)
        c = self.client(fake)
        with self.assertRaises(authnode.ConnectionLost):
            c.ping()  # dropped on connection 0, resent on 1, dropped again
        self.assertEqual([r["op"] for r in fake.lines], ["ping", "ping"])
        c.ping()  # connection 2
        self.assertEqual(len(fake.lines), 3)

    def test_register_is_not_resent_after_a_lost_connection(self) -> None:
        def handler(conn: socket.socket, index: int) -> None:
            if index == 0:
                read_lines(conn, 1, fake)
                return
            serve_forever(fake)(conn, index)

        fake = self.fake(handler)
        c = self.client(fake)
        with self.assertRaises(authnode.ConnectionLost) as cm:
            c.register("ann@example.org", "correct horse", "Ann")
        self.assertTrue(cm.exception.sent)
        self.assertEqual(cm.exception.op, "register")
        self.assertEqual([r["op"] for r in fake.lines], ["register"])
        # The next call reconnects.
        self.assertEqual(c.whoami(TOKEN).id, 7)
        self.assertEqual([r["op"] for r in fake.lines], ["register", "whoami"])

    def test_each_unsafe_op_fails_and_each_safe_op_is_retried(self) -> None:
        # The first request of each op kills its connection; later ones are
        # answered.
        seen: set[str] = set()

        def handler(conn: socket.socket, index: int) -> None:
            while True:
                (req,) = read_lines(conn, 1, fake, timeout=30)
                if req["op"] not in seen:
                    seen.add(req["op"])
                    return
                write_json(conn, answer(req))

        fake = self.fake(handler)
        c = self.client(fake)
        calls = {
            "ping": c.ping,
            "whoami": lambda: c.whoami(TOKEN),
            "stats": c.stats,
            "register": lambda: c.register("a@example.org", "p" * 8, "A"),
            "login": lambda: c.login("a@example.org", "p" * 8),
            "logout": lambda: c.logout(TOKEN),
            "change_password": lambda: c.change_password(TOKEN, "p" * 8, "q" * 8),
            "recovery_start": lambda: c.recovery_start("a@example.org"),
            "recovery_finish": lambda: c.recovery_finish("a@example.org", CODE, "q" * 8),
            "verify_email_start": lambda: c.verify_email_start(TOKEN),
            "verify_email_finish": lambda: c.verify_email_finish(TOKEN, CODE),
            "change_email_start": lambda: c.change_email_start(TOKEN, "p" * 8, "b@example.org"),
            "change_email_finish": lambda: c.change_email_finish(TOKEN, CODE),
            "totp_setup": lambda: c.totp_setup(TOKEN),
            "totp_enable": lambda: c.totp_enable(TOKEN, "492039"),
            "totp_disable": lambda: c.totp_disable(TOKEN, "p" * 8, "492039"),
            "recovery_codes_renew": lambda: c.recovery_codes_renew(TOKEN, CODE),
            "login_second_factor": lambda: c.login_second_factor(CHALLENGE, "492039"),
            "passkey_register_begin": lambda: c.passkey_register_begin(TOKEN),
            "passkey_register_finish": lambda: c.passkey_register_finish(TOKEN, REGISTRATION),
            "passkey_login_begin": lambda: c.passkey_login_begin(),
            "passkey_login_finish": lambda: c.passkey_login_finish(CHALLENGE, ASSERTION),
            "passkeys_list": lambda: c.passkeys_list(TOKEN),
            "passkey_delete": lambda: c.passkey_delete(TOKEN, "Y3JlZC0x"),
        }
        for op, call in calls.items():
            with self.subTest(op=op):
                before = len(fake.lines)
                if op in authnode.RETRY_SAFE_OPS:
                    call()  # dropped once, answered on a new connection
                    self.assertEqual(len(fake.lines) - before, 2)
                else:
                    with self.assertRaises(authnode.ConnectionLost):
                        call()
                    self.assertEqual(len(fake.lines) - before, 1)
                    call()  # the caller may decide to retry: reconnects
                    self.assertEqual(len(fake.lines) - before, 2)

    def test_the_account_code_methods_send_their_fields_and_parse_their_replies(self) -> None:
        fake = self.fake(lambda conn, i: serve_forever(fake)(conn, i))
        c = self.client(fake)
        self.assertIsNone(c.recovery_start("a@example.org", client_addr="203.0.113.9"))
        session = c.recovery_finish("a@example.org", CODE, "a new secret")
        self.assertIsInstance(session, authnode.Session)
        self.assertEqual(session.token, TOKEN)
        self.assertIs(c.verify_email_start(TOKEN), True)
        self.assertIsInstance(c.verify_email_finish(TOKEN, CODE, client_addr="203.0.113.9"), authnode.User)
        self.assertIsNone(c.change_email_start(TOKEN, "correct horse", "b@example.org"))
        self.assertEqual(c.change_email_finish(TOKEN, CODE, client_addr="203.0.113.9").id, 7)
        sent = [{k: v for k, v in r.items() if k != "id"} for r in fake.lines]
        self.assertEqual(sent, CODE_OPS_ON_THE_WIRE)

    def test_the_second_factor_methods_send_their_fields_and_parse_their_replies(self) -> None:
        fake = self.fake(lambda conn, i: serve_forever(fake)(conn, i))
        c = self.client(fake)
        setup = c.totp_setup(TOKEN)
        self.assertEqual((setup.secret, setup.uri), (SECRET, URI))
        self.assertEqual(c.totp_enable(TOKEN, "492039", client_addr="203.0.113.9"), RECOVERY_CODES)
        self.assertEqual(c.recovery_codes_renew(TOKEN, CODE, client_addr="203.0.113.9"), RECOVERY_CODES)
        self.assertIsNone(c.totp_disable(TOKEN, "correct horse", "492 039", client_addr="203.0.113.9"))
        self.assertEqual(c.login_second_factor(CHALLENGE, "492039").token, TOKEN)
        session = c.login_second_factor(CHALLENGE, CODE, client_addr="203.0.113.9")
        self.assertIsInstance(session, authnode.Session)
        sent = [{k: v for k, v in r.items() if k != "id"} for r in fake.lines]
        self.assertEqual(sent, SECOND_FACTOR_OPS_ON_THE_WIRE)

    def test_the_passkey_methods_send_their_fields_and_parse_their_replies(self) -> None:
        fake = self.fake(lambda conn, i: serve_forever(fake)(conn, i))
        c = self.client(fake)
        self.assertEqual(c.passkey_register_begin(TOKEN, "laptop"), CREATION_OPTIONS)
        self.assertEqual(c.passkey_register_begin(TOKEN)["rp"]["id"], "example.com")
        passkey = c.passkey_register_finish(TOKEN, REGISTRATION)
        self.assertIsInstance(passkey, authnode.Passkey)
        self.assertEqual((passkey.id, passkey.name), ("Y3JlZC0x", "laptop"))
        listed = c.passkeys_list(TOKEN)
        self.assertEqual([p.id for p in listed], ["Y3JlZC0x", "Y3JlZC0y"])
        self.assertEqual(listed[0], passkey)
        self.assertIsNotNone(listed[1].last_used_at)
        begun = c.passkey_login_begin("ann@example.org", client_addr="203.0.113.9")
        self.assertIsInstance(begun, authnode.PasskeyLoginOptions)
        self.assertEqual((begun.challenge_id, begun.options), (CHALLENGE, REQUEST_OPTIONS))
        self.assertEqual(c.passkey_login_begin().challenge_id, CHALLENGE)
        session = c.passkey_login_finish(CHALLENGE, ASSERTION, client_addr="203.0.113.9", device_token="device-1")
        self.assertIsInstance(session, authnode.Session)
        self.assertEqual(session.token, TOKEN)
        self.assertIsNone(c.passkey_delete(TOKEN, "Y3JlZC0x"))
        sent = [{k: v for k, v in r.items() if k != "id"} for r in fake.lines]
        self.assertEqual(sent, PASSKEY_OPS_ON_THE_WIRE)

    def test_the_passkey_refusals_raise_their_classes(self) -> None:
        refusals = {
            "passkey_register_finish": ("passkey_refused", "wrong_origin"),
            "passkey_delete": ("no_such_passkey", "no such passkey"),
            "passkey_login_finish": ("second_factor_required", "a second factor is needed"),
        }

        def handler(conn: socket.socket, index: int) -> None:
            while True:
                (req,) = read_lines(conn, 1, fake, timeout=30)
                code, message = refusals[req["op"]]
                write_json(conn, {"id": req["id"], "ok": False, "error": {"code": code, "message": message},
                                  **SECOND_FACTOR})

        fake = self.fake(handler)
        c = self.client(fake)
        with self.assertRaises(authnode.PasskeyRefused) as cm:
            c.passkey_register_finish(TOKEN, REGISTRATION)
        self.assertEqual((cm.exception.op, cm.exception.message), ("passkey_register_finish", "wrong_origin"))
        with self.assertRaises(authnode.NoSuchPasskey):
            c.passkey_delete(TOKEN, "Y3JlZC0x")
        with self.assertRaises(authnode.SecondFactorRequired) as cm:
            c.passkey_login_finish(CHALLENGE, ASSERTION)
        self.assertEqual((cm.exception.op, cm.exception.challenge), ("passkey_login_finish", CHALLENGE))

    def test_a_login_answered_second_factor_required_raises_it(self) -> None:
        def handler(conn: socket.socket, index: int) -> None:
            while True:
                (req,) = read_lines(conn, 1, fake, timeout=30)
                write_json(conn, {
                    "id": req["id"], "ok": False,
                    "error": {"code": "second_factor_required", "message": "a second factor is needed"},
                    **SECOND_FACTOR,
                })

        fake = self.fake(handler)
        c = self.client(fake)
        for op, call in [("login", lambda: c.login("a@example.org", "p" * 8)),
                         ("recovery_finish", lambda: c.recovery_finish("a@example.org", CODE, "q" * 8))]:
            with self.subTest(op=op):
                with self.assertRaises(authnode.SecondFactorRequired) as cm:
                    call()
                self.assertEqual((cm.exception.op, cm.exception.challenge), (op, CHALLENGE))

    def test_retries_can_be_turned_off(self) -> None:
        def handler(conn: socket.socket, index: int) -> None:
            read_lines(conn, 1, fake)

        fake = self.fake(handler)
        c = self.client(fake, retry_idempotent=False)
        with self.assertRaises(authnode.ConnectionLost):
            c.ping()
        self.assertEqual(len(fake.lines), 1)

    def test_a_busy_line_without_id_refuses_every_request_on_it(self) -> None:
        def handler(conn: socket.socket, index: int) -> None:
            write_json(conn, {"ok": False, "error": {"code": "busy", "message": "too many connections, try again later"}})

        fake = self.fake(handler)
        c = self.client(fake)
        with self.assertRaises(authnode.Busy) as cm:
            c.register("a@example.org", "p" * 8, "A")
        self.assertEqual(cm.exception.op, "register")

    def test_garbage_from_the_peer_is_a_protocol_error(self) -> None:
        def handler(conn: socket.socket, index: int) -> None:
            read_lines(conn, 1, fake)
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\n")
            time.sleep(0.2)

        fake = self.fake(handler)
        c = self.client(fake)
        with self.assertRaises(authnode.ProtocolError):
            c.logout(TOKEN)

    def test_a_silent_node_times_out_and_the_connection_stays_usable(self) -> None:
        release = threading.Event()

        def handler(conn: socket.socket, index: int) -> None:
            (slow,) = read_lines(conn, 1, fake)
            (fast,) = read_lines(conn, 1, fake)
            write_json(conn, answer(fast))
            release.wait(5)
            write_json(conn, answer(slow))  # late: nobody waits for it
            serve_forever(fake)(conn, index)

        fake = self.fake(handler)
        c = self.client(fake)
        start = time.monotonic()
        with self.assertRaises(authnode.Timeout) as cm:
            c.logout(TOKEN, timeout=0.2)
        self.assertGreaterEqual(time.monotonic() - start, 0.19)
        self.assertEqual(cm.exception.timeout, 0.2)
        c.ping()
        release.set()
        self.assertEqual(c.whoami(TOKEN).email, "ann@example.org")
        self.assertEqual([r["op"] for r in fake.lines], ["logout", "ping", "whoami"])

    def test_a_line_longer_than_max_line_is_not_sent(self) -> None:
        fake = self.fake(lambda conn, i: serve_forever(fake)(conn, i))
        c = self.client(fake, max_line=200)
        with self.assertRaises(authnode.LineTooLong):
            c.register("a@example.org", "p" * 300, "A")
        c.ping()
        self.assertEqual([r["op"] for r in fake.lines], ["ping"])

    def test_no_node_is_connect_failed(self) -> None:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sock.close()  # nobody listens there now
        with self.assertRaises(authnode.ConnectFailed):
            authnode.Client("127.0.0.1", port)

    def test_a_closed_client_refuses_calls(self) -> None:
        fake = self.fake(lambda conn, i: serve_forever(fake)(conn, i))
        c = self.client(fake)
        c.close()
        with self.assertRaises(authnode.ConnectionLost):
            c.ping()


class FakeNodeAsyncTest(unittest.IsolatedAsyncioTestCase):
    def fake(self, handler) -> FakeNode:
        fake = FakeNode(handler)
        self.addCleanup(fake.close)
        return fake

    async def test_replies_in_reverse_order_reach_their_callers(self) -> None:
        def handler(conn: socket.socket, index: int) -> None:
            reqs = read_lines(conn, 3)
            for req in reversed(reqs):
                write_json(conn, answer(req))
            serve_forever(fake)(conn, index)

        fake = self.fake(handler)
        async with authnode.AsyncClient.connect("127.0.0.1", fake.port, pool_size=1) as c:
            session, stats, pong = await asyncio.gather(c.login("ann@example.org", "pw"), c.stats(), c.ping())
        self.assertEqual(session.user.email, "ann@example.org")
        self.assertEqual(stats.connections, 1)
        self.assertIsNone(pong)

    async def test_a_lost_connection_resends_only_read_only_requests(self) -> None:
        def handler(conn: socket.socket, index: int) -> None:
            while True:
                (req,) = read_lines(conn, 1, fake, timeout=30)
                if req["op"] == "register" or (req["op"] == "ping" and index == 0):
                    return  # drop the connection
                write_json(conn, answer(req))

        fake = self.fake(handler)
        c = await authnode.AsyncClient.connect("127.0.0.1", fake.port, pool_size=1)
        try:
            await c.ping()
            self.assertEqual([r["op"] for r in fake.lines], ["ping", "ping"])
            with self.assertRaises(authnode.ConnectionLost):
                await c.register("a@example.org", "p" * 8, "A")
            self.assertEqual([r["op"] for r in fake.lines], ["ping", "ping", "register"])
            self.assertEqual((await c.whoami(TOKEN)).id, 7)
        finally:
            await c.close()

    async def test_the_account_code_methods_send_their_fields_and_parse_their_replies(self) -> None:
        fake = self.fake(lambda conn, i: serve_forever(fake)(conn, i))
        async with authnode.AsyncClient.connect("127.0.0.1", fake.port, pool_size=1) as c:
            self.assertIsNone(await c.recovery_start("a@example.org", client_addr="203.0.113.9"))
            session = await c.recovery_finish("a@example.org", CODE, "a new secret")
            self.assertEqual(session.token, TOKEN)
            self.assertIs(await c.verify_email_start(TOKEN), True)
            self.assertEqual((await c.verify_email_finish(TOKEN, CODE, client_addr="203.0.113.9")).id, 7)
            self.assertIsNone(await c.change_email_start(TOKEN, "correct horse", "b@example.org"))
            self.assertEqual((await c.change_email_finish(TOKEN, CODE, client_addr="203.0.113.9")).id, 7)
        sent = [{k: v for k, v in r.items() if k != "id"} for r in fake.lines]
        self.assertEqual(sent, CODE_OPS_ON_THE_WIRE)

    async def test_the_second_factor_methods_send_their_fields_and_parse_their_replies(self) -> None:
        fake = self.fake(lambda conn, i: serve_forever(fake)(conn, i))
        async with authnode.AsyncClient.connect("127.0.0.1", fake.port, pool_size=1) as c:
            self.assertEqual((await c.totp_setup(TOKEN)).secret, SECRET)
            self.assertEqual(await c.totp_enable(TOKEN, "492039", client_addr="203.0.113.9"), RECOVERY_CODES)
            self.assertEqual(await c.recovery_codes_renew(TOKEN, CODE, client_addr="203.0.113.9"), RECOVERY_CODES)
            self.assertIsNone(await c.totp_disable(TOKEN, "correct horse", "492 039", client_addr="203.0.113.9"))
            self.assertEqual((await c.login_second_factor(CHALLENGE, "492039")).token, TOKEN)
            session = await c.login_second_factor(CHALLENGE, CODE, client_addr="203.0.113.9")
            self.assertEqual(session.user.id, 7)
        sent = [{k: v for k, v in r.items() if k != "id"} for r in fake.lines]
        self.assertEqual(sent, SECOND_FACTOR_OPS_ON_THE_WIRE)

    async def test_the_passkey_methods_send_their_fields_and_parse_their_replies(self) -> None:
        fake = self.fake(lambda conn, i: serve_forever(fake)(conn, i))
        async with authnode.AsyncClient.connect("127.0.0.1", fake.port, pool_size=1) as c:
            self.assertEqual(await c.passkey_register_begin(TOKEN, "laptop"), CREATION_OPTIONS)
            self.assertEqual((await c.passkey_register_begin(TOKEN))["attestation"], "none")
            self.assertEqual((await c.passkey_register_finish(TOKEN, REGISTRATION)).name, "laptop")
            self.assertEqual(len(await c.passkeys_list(TOKEN)), 2)
            begun = await c.passkey_login_begin("ann@example.org", client_addr="203.0.113.9")
            self.assertEqual(begun.options, REQUEST_OPTIONS)
            self.assertEqual((await c.passkey_login_begin()).challenge_id, CHALLENGE)
            session = await c.passkey_login_finish(
                CHALLENGE, ASSERTION, client_addr="203.0.113.9", device_token="device-1"
            )
            self.assertEqual(session.user.id, 7)
            self.assertIsNone(await c.passkey_delete(TOKEN, "Y3JlZC0x"))
        sent = [{k: v for k, v in r.items() if k != "id"} for r in fake.lines]
        self.assertEqual(sent, PASSKEY_OPS_ON_THE_WIRE)

    async def test_a_busy_line_without_id_refuses_every_request_on_it(self) -> None:
        def handler(conn: socket.socket, index: int) -> None:
            write_json(conn, {"ok": False, "error": {"code": "busy", "message": "too many connections"}})

        fake = self.fake(handler)
        c = await authnode.AsyncClient.connect("127.0.0.1", fake.port, pool_size=1)
        try:
            with self.assertRaises(authnode.Busy):
                await c.login("a@example.org", "p" * 8)
        finally:
            await c.close()

    async def test_a_silent_node_times_out_and_the_connection_stays_usable(self) -> None:
        def handler(conn: socket.socket, index: int) -> None:
            (slow,) = read_lines(conn, 1, fake)
            (fast,) = read_lines(conn, 1, fake)
            write_json(conn, answer(fast))
            write_json(conn, answer(slow))
            serve_forever(fake)(conn, index)

        fake = self.fake(handler)
        async with authnode.AsyncClient.connect("127.0.0.1", fake.port, pool_size=1) as c:
            with self.assertRaises(authnode.Timeout):
                await c.logout(TOKEN, timeout=0.1)
            await c.ping()
            self.assertEqual((await c.whoami(TOKEN)).name, "Ann")

    async def test_cancelling_a_call_leaves_the_client_usable(self) -> None:
        def handler(conn: socket.socket, index: int) -> None:
            read_lines(conn, 1, fake)  # never answered
            serve_forever(fake)(conn, index)

        fake = self.fake(handler)
        async with authnode.AsyncClient.connect("127.0.0.1", fake.port, pool_size=1) as c:
            task = asyncio.create_task(c.logout(TOKEN))
            while c.in_flight == 0:
                await asyncio.sleep(0.005)
            task.cancel()
            with self.assertRaises(asyncio.CancelledError):
                await task
            self.assertEqual(c.in_flight, 0)
            await c.ping()

    async def test_no_node_is_connect_failed(self) -> None:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sock.close()
        with self.assertRaises(authnode.ConnectFailed):
            await authnode.AsyncClient.connect("127.0.0.1", port)


if __name__ == "__main__":
    unittest.main()
