"""Exceptions raised by the authnode clients.

Two families, both under :class:`Error`:

* :class:`AuthnodeError` and its subclasses: the node answered
  ``"ok": false``. There is one class per error code of the protocol
  (docs/protocol.md, "Error codes"); each carries ``code``, ``message`` and,
  for :class:`RateLimited`, ``retry_after_ms``. Apart from
  :class:`Unavailable` (and :class:`Internal`, which the node also uses for
  failures it cannot classify), such an answer means the request did **not**
  take effect.
* :class:`TransportError` and its subclasses: no answer came.
  :class:`ConnectFailed` means the request was never sent (safe to retry
  any operation); :class:`ConnectionLost` and :class:`Timeout` mean the
  request may or may not have taken effect.

Why exceptions rather than result values: a failed login is the normal
flow of an application, but so is catching one specific class
(``except authnode.InvalidCredentials``); a base class per family keeps
"any node answer" and "no answer" apart, which is the one distinction a
caller must make before it retries.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping, Optional

__all__ = [
    "Error",
    "AuthnodeError",
    "BadJson",
    "BadRequest",
    "UnknownOp",
    "LineTooLong",
    "Busy",
    "Unavailable",
    "Internal",
    "InvalidEmail",
    "WeakPassword",
    "EmailTaken",
    "InvalidCredentials",
    "InvalidToken",
    "Forbidden",
    "NoSuchUser",
    "InvalidCode",
    "EmailNotVerified",
    "SecondFactorRequired",
    "Conflict",
    "BreachedPassword",
    "PasskeyRefused",
    "NoSuchPasskey",
    "RateLimited",
    "TransportError",
    "ConnectFailed",
    "ConnectionLost",
    "Timeout",
    "ProtocolError",
    "ERROR_CLASSES",
    "error_from_reply",
]


class Error(Exception):
    """Root of every exception this package raises on purpose."""


class AuthnodeError(Error):
    """The node answered a request with ``"ok": false``.

    Attributes:
        code: The stable error code from the reply (``error.code``), such as
            ``"invalid_credentials"``. Decide on this (or on the class), never
            on ``message``.
        message: The node's text for people (``error.message``). It may
            change between versions of the node.
        retry_after_ms: Milliseconds after which trying again makes sense, if
            the reply had ``error.retry_after_ms`` (sent with
            ``rate_limited``); otherwise ``None``.
        op: The operation of the request that was refused, when known.
        reply: The whole reply object as received, members unknown to this
            version of the client included.
    """

    #: The wire code a subclass stands for; ``None`` on the base class.
    CODE: Optional[str] = None

    def __init__(
        self,
        code: str,
        message: str,
        retry_after_ms: Optional[int] = None,
        *,
        op: Optional[str] = None,
        reply: Optional[Mapping[str, Any]] = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retry_after_ms = retry_after_ms
        self.op = op
        self.reply: Mapping[str, Any] = reply if reply is not None else {}

    def __repr__(self) -> str:
        extra = (
            f", retry_after_ms={self.retry_after_ms}"
            if self.retry_after_ms is not None
            else ""
        )
        return f"{type(self).__name__}({self.code!r}, {self.message!r}{extra})"


class BadJson(AuthnodeError):
    """``bad_json``: the line was not one JSON object (never sent by this
    client; seen only through raw lines)."""

    CODE = "bad_json"


class BadRequest(AuthnodeError):
    """``bad_request``: a field is missing or has the wrong type, the
    ``register`` name is empty or longer than 200 bytes, or ``client_addr``
    was sent by a peer that is not in ``--trusted-sources`` or is not an IP
    address."""

    CODE = "bad_request"


class UnknownOp(AuthnodeError):
    """``unknown_op``: the node has no such operation (for example an
    admin operation sent to the public port, or a newer operation sent to
    an older node)."""

    CODE = "unknown_op"


class LineTooLong(AuthnodeError):
    """``line_too_long``: the request line was longer than the node's
    ``max-line``. The node closes the connection after this reply. The client
    also raises it itself, without sending, for a request longer than its
    ``max_line`` setting."""

    CODE = "line_too_long"


class Busy(AuthnodeError):
    """``busy``: the node had ``max-connections`` clients (or was shutting
    down) and refused the connection, or ``max-hash-queue`` password jobs were
    already waiting. The request did not take effect; try again later."""

    CODE = "busy"


class Unavailable(AuthnodeError):
    """``unavailable``: the node's database did not answer in time. The
    request **may or may not** have taken effect; retry later, knowing
    that. Also the answer to the account codes' operations of a node
    started without ``--smtp-url``, and to the passkey operations of one
    started without ``--webauthn-rp-id`` (the message names the option):
    those never take effect there."""

    CODE = "unavailable"


class Internal(AuthnodeError):
    """``internal``: an unexpected failure in the node. Also raised for an
    error code this version of the client does not know (the protocol says to
    treat those like ``internal``); ``code`` then holds the code received."""

    CODE = "internal"


class InvalidEmail(AuthnodeError):
    """``invalid_email``: ``register`` got an email address it does not
    accept."""

    CODE = "invalid_email"


class WeakPassword(AuthnodeError):
    """``weak_password``: the (new) password breaks a password rule; the
    message says which."""

    CODE = "weak_password"


class EmailTaken(AuthnodeError):
    """``email_taken``: ``register`` for an email that has an account."""

    CODE = "email_taken"


class InvalidCredentials(AuthnodeError):
    """``invalid_credentials``: ``login`` with an unknown email or a wrong
    password, ``change_password`` with a wrong old password, or
    ``passkey_login_finish`` with an assertion that failed (a stale or used
    challenge, an unknown credential or another account's, a bad signature,
    a counter that went back, a disabled account: one answer). The node
    answers this late on purpose (``--failure-delay``, 2 s by default, more
    under throttle penalties)."""

    CODE = "invalid_credentials"


class InvalidToken(AuthnodeError):
    """``invalid_token``: the token is unknown, expired, logged out or
    revoked."""

    CODE = "invalid_token"


class Forbidden(AuthnodeError):
    """``forbidden``: admin channel only; the ``admin_key`` is missing or
    wrong."""

    CODE = "forbidden"


class NoSuchUser(AuthnodeError):
    """``no_such_user``: admin channel only; no account has that email."""

    CODE = "no_such_user"


class InvalidCode(AuthnodeError):
    """``invalid_code``: a ``*_finish`` operation got a code that is wrong,
    expired, used, replaced by a newer one or dead after 5 wrong tries, or
    (``recovery_finish``) the email has no account. Answered late on purpose,
    like :class:`InvalidCredentials`. Only a new code (a new ``*_start``)
    helps once it is dead."""

    CODE = "invalid_code"


class EmailNotVerified(AuthnodeError):
    """``email_not_verified``: ``login`` on a node with
    ``--require-verified-email``: the password matched, but the account's
    address is not verified yet (see ``verify_email_start``). No session was
    started."""

    CODE = "email_not_verified"


class SecondFactorRequired(AuthnodeError):
    """``second_factor_required``: ``login`` (or ``recovery_finish``) with
    the right password (or code) of an account that has TOTP on, or
    ``passkey_login_finish`` of such an account whose passkey did not verify
    the user (no PIN or fingerprint: one factor only). No session was
    started; the user's TOTP code or one of their recovery codes, given to
    ``login_second_factor`` with :attr:`challenge`, starts it.
    ``recovery_finish`` has set the new password (and revoked every
    session) all the same.

    Attributes:
        challenge: The challenge to pass to ``login_second_factor``. Keep it
            on the server side (or in an HttpOnly cookie), like a token: with
            a code it starts a session. It is left out of ``repr()`` and of
            the message. It dies after 5 wrong codes or at
            :attr:`expires_at`.
        methods: What the user may answer with, ``["totp",
            "recovery_code"]``.
        expires_at: When the challenge stops working (UTC, aware): 5
            minutes after the password matched.
        password_breached: The password that matched is in the node's
            breached-password index: ask for a change once logged in (the
            second step's :class:`Session` says so too). ``False`` from an
            older node.

    A reply with this code but without a string ``challenge``, a list of
    strings ``methods`` and a timestamp ``expires_at`` (beside ``error``)
    does not come from an authnode version 1 node:
    :func:`error_from_reply` raises :class:`ProtocolError` for it.
    """

    CODE = "second_factor_required"

    def __init__(
        self,
        code: str,
        message: str,
        retry_after_ms: Optional[int] = None,
        *,
        op: Optional[str] = None,
        reply: Optional[Mapping[str, Any]] = None,
    ) -> None:
        super().__init__(code, message, retry_after_ms, op=op, reply=reply)
        challenge = self.reply.get("challenge")
        methods = self.reply.get("methods")
        if not isinstance(challenge, str):
            raise ProtocolError("second_factor_required: member 'challenge' is missing or not str", op=op)
        if not isinstance(methods, list) or not all(isinstance(m, str) for m in methods):
            raise ProtocolError("second_factor_required: member 'methods' is not a list of strings", op=op)
        self.challenge: str = challenge
        self.methods: list[str] = list(methods)
        self.password_breached: bool = self.reply.get("password_breached") is True
        self.expires_at: datetime = parse_timestamp(
            self.reply.get("expires_at"), "second_factor_required.expires_at"
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.code!r}, {self.message!r}, "
            f"methods={self.methods!r}, expires_at={self.expires_at.isoformat()!r})"
        )


class Conflict(AuthnodeError):
    """``conflict``: a second-factor operation found the account in another
    state than it needs: ``totp_setup`` or ``totp_enable`` while TOTP is on
    already, ``totp_enable`` with nothing set up to confirm (call
    ``totp_setup`` first), or ``totp_disable`` and
    ``recovery_codes_renew`` while TOTP is off. Also
    ``passkey_register_finish`` of a credential that is registered already.
    Nothing changed."""

    CODE = "conflict"


class BreachedPassword(AuthnodeError):
    """``breached_password``: the new password (``register``,
    ``change_password``, ``recovery_finish``, admin ``user_add`` and
    ``user_set_password``) is in the node's list of breached passwords, or
    is made of the account's email, name or the site's words. The message
    says which; ask the user for another password. Nothing changed (a
    recovery code stays good)."""

    CODE = "breached_password"


class PasskeyRefused(AuthnodeError):
    """``passkey_refused``: ``passkey_register_finish`` got a credential
    that does not verify (the message names the check that failed, such as
    ``wrong_origin``, ``wrong_rp``, ``wrong_challenge`` or
    ``no_user_presence``), or whose challenge is not a live one of this
    account (used, expired, or another account's). Nothing was registered;
    start again with ``passkey_register_begin``."""

    CODE = "passkey_refused"


class NoSuchPasskey(AuthnodeError):
    """``no_such_passkey``: ``passkey_delete`` with an id the account has no
    passkey with (deleted already, or never its own)."""

    CODE = "no_such_passkey"


class RateLimited(AuthnodeError):
    """``rate_limited``: too many registrations from this address, or
    logins (passkey sign-ins too, on keys of their own) for this address or
    account are penalized and one is held already. ``retry_after_ms`` says when to try again. No password was
    checked.

    Wait at least ``retry_after_ms`` before sending that login again *on the
    same connection*: the node makes a connection that is refused twice in a
    row within that time wait (it stops reading from it until then), which
    delays every other request sharing it.
    """

    CODE = "rate_limited"


#: Every error code of protocol version 1 and its exception class.
ERROR_CLASSES: Mapping[str, type[AuthnodeError]] = {
    cls.CODE: cls
    for cls in (
        BadJson,
        BadRequest,
        UnknownOp,
        LineTooLong,
        Busy,
        Unavailable,
        Internal,
        InvalidEmail,
        WeakPassword,
        EmailTaken,
        InvalidCredentials,
        InvalidToken,
        Forbidden,
        NoSuchUser,
        InvalidCode,
        EmailNotVerified,
        SecondFactorRequired,
        Conflict,
        BreachedPassword,
        PasskeyRefused,
        NoSuchPasskey,
        RateLimited,
    )
    if cls.CODE is not None
}


def error_from_reply(
    reply: Mapping[str, Any], op: Optional[str] = None
) -> AuthnodeError:
    """Build the exception for a failure reply (``"ok": false``).

    Tolerates members it does not know and malformed ``error`` objects: a
    code it does not know gives :class:`Internal` with that code. The one
    exception is :class:`SecondFactorRequired`, whose challenge the caller
    needs: without it (or with a malformed one) the reply is a
    :class:`ProtocolError`, raised here.
    """
    error = reply.get("error")
    if not isinstance(error, Mapping):
        error = {}
    code = error.get("code")
    if not isinstance(code, str):
        code = "internal"
    message = error.get("message")
    if not isinstance(message, str):
        message = ""
    retry = error.get("retry_after_ms")
    retry_after_ms = (
        int(retry)
        if isinstance(retry, (int, float)) and not isinstance(retry, bool)
        else None
    )
    cls = ERROR_CLASSES.get(code, Internal)
    return cls(code, message, retry_after_ms, op=op, reply=reply)


def parse_timestamp(value: Any, what: str) -> datetime:
    """An RFC 3339 UTC timestamp such as ``2026-11-25T14:58:01Z``, the
    protocol's one form of time, as an aware ``datetime``; a
    :class:`ProtocolError` naming ``what`` if it is not one.

    It lives here rather than in types.py (which uses it for every time of
    a result) because types.py imports this module, and
    :class:`SecondFactorRequired` has a time too.
    """
    if not isinstance(value, str):
        raise ProtocolError(f"{what}: timestamp is not a string")
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise ProtocolError(f"{what}: {value!r} is not a timestamp") from None


class TransportError(Error):
    """No reply came: the connection could not be made, broke, or the reply
    did not come in time."""


class ConnectFailed(TransportError, ConnectionError):
    """The client could not connect (or reconnect) to the node. The
    request was not sent, so any operation may be retried."""


class ConnectionLost(TransportError, ConnectionError):
    """The connection ended before the reply arrived.

    The request was sent (``sent`` is true) or may have been partly sent, so
    it **may have taken effect**: a ``register`` may have created the account,
    a ``login`` may have started a session, a ``logout`` may have ended one.
    The client never resends such a request by itself; only ``ping``,
    ``whoami`` and ``stats`` are retried once on a new connection (see the
    client's ``retry_idempotent`` setting). The next call reconnects.

    Attributes:
        op: The operation of the request.
        sent: Whether the request was handed to the connection. ``False``
            only when the connection was known to be gone before sending;
            then the request certainly did not take effect.
    """

    def __init__(self, message: str, *, op: Optional[str] = None, sent: bool = True) -> None:
        super().__init__(message)
        self.op = op
        self.sent = sent


class Timeout(TransportError, TimeoutError):
    """No reply came within the call's timeout.

    The request **may still take effect** (the node may answer after the
    client stopped waiting; such a late reply is dropped). The connection
    stays open for other requests.

    Attributes:
        op: The operation of the request.
        timeout: The timeout, in seconds, that ran out.
    """

    def __init__(self, message: str, *, op: Optional[str] = None, timeout: Optional[float] = None) -> None:
        super().__init__(message)
        self.op = op
        self.timeout = timeout


class ProtocolError(ConnectionLost):
    """The node sent something that is not a reply line (not JSON, not an
    object, or absurdly long). The client closes that connection; requests in
    flight on it fail with this error, which is a :class:`ConnectionLost`."""
