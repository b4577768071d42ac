"""Typed results of the authnode operations.

Replies are JSON objects; these dataclasses are what the clients return
instead. Parsing is lenient in one direction only: members the node adds
in later versions land in ``extra`` and never break parsing (the protocol
asks clients to ignore members they do not know), while a member this
version relies on that is missing or of the wrong type raises
:class:`authnode.ProtocolError`, because then the peer is not an authnode
version 1 node.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, Mapping, Optional

from .errors import ProtocolError, parse_timestamp

__all__ = ["User", "Session", "Stats", "TotpSetup", "Passkey", "PasskeyLoginOptions"]


def _require(obj: Mapping[str, Any], name: str, kind: type, what: str) -> Any:
    value = obj.get(name)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ProtocolError(f"{what}: member {name!r} is missing or not {kind.__name__}")
    return value


def _timestamp(value: Any, what: str) -> datetime:
    """An RFC 3339 UTC timestamp such as ``2026-11-25T14:58:01Z``."""
    return parse_timestamp(value, what)


def _strings(obj: Mapping[str, Any], name: str, what: str, default: Optional[list[str]] = None) -> list[str]:
    """A member that is a list of strings; ``default`` if it is absent and
    a default is given."""
    if name not in obj and default is not None:
        return list(default)
    value = obj.get(name)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ProtocolError(f"{what}: member {name!r} is missing or not a list of strings")
    return list(value)


def _extra(obj: Mapping[str, Any], known: set[str]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in known}


@dataclass(frozen=True)
class User:
    """An account, as ``register``, ``login``, ``whoami`` and the account
    codes' operations return it.

    Attributes:
        id: The account's number; never reused.
        email: The normalized email (trimmed, ASCII letters lower-cased).
        name: The display name, trimmed.
        created_at: When the account was registered (UTC, aware).
        last_login_at: The latest successful login, or ``None``. In a
            ``login`` result, the time of that login.
        email_verified: Whether the owner proved the address with a code
            mailed to it (``verify_email_finish``, ``recovery_finish``,
            ``change_email_finish``). ``False`` from a node too old to send
            it: such a node verifies no address.
        second_factors: The second factors that are on: ``["totp",
            "recovery_code"]`` once TOTP is enabled (``totp_enable``), else
            ``[]``. ``[]`` from a node too old to send it: such a node has
            none. (Left out of ``hash()``, as a list; still compared.)
        extra: Members of the reply's ``user`` object this version of the
            client does not know.
    """

    id: int
    email: str
    name: str
    created_at: datetime
    last_login_at: Optional[datetime]
    email_verified: bool = False
    second_factors: list[str] = field(default_factory=list, hash=False)
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    _KNOWN = {"id", "email", "name", "created_at", "last_login_at", "email_verified", "second_factors"}

    @classmethod
    def from_json(cls, obj: Any) -> "User":
        """Parse a ``user`` object of a reply."""
        if not isinstance(obj, Mapping):
            raise ProtocolError("user is not an object")
        last = obj.get("last_login_at")
        verified = obj.get("email_verified", False)
        if not isinstance(verified, bool):
            raise ProtocolError("user: member 'email_verified' is not bool")
        return cls(
            id=_require(obj, "id", int, "user"),
            email=_require(obj, "email", str, "user"),
            name=_require(obj, "name", str, "user"),
            created_at=_timestamp(obj.get("created_at"), "user.created_at"),
            last_login_at=None if last is None else _timestamp(last, "user.last_login_at"),
            email_verified=verified,
            second_factors=_strings(obj, "second_factors", "user", default=[]),
            extra=_extra(obj, cls._KNOWN),
        )


@dataclass(frozen=True)
class Session:
    """The result of a successful ``login`` (and of ``recovery_finish``,
    which logs in, of ``login_second_factor``, the second step of a
    login of an account with TOTP on, and of ``passkey_login_finish``).

    ``token`` and ``device_token`` are secrets: they are left out of
    ``repr()`` so that they do not end up in logs by accident.

    Attributes:
        token: The session token (43 base64url characters); pass it to
            ``whoami``, ``logout`` and ``change_password``. Opaque.
        expires_at: When the token stops working (UTC, aware).
        user: The account, with ``last_login_at`` set to this login.
        device_token: A new device token when the login did not present a
            valid one, else ``None``. Keep it on the end user's device
            (a cookie, say) and pass it to later logins from there: it
            exempts them from throttle penalties caused by someone else.
        password_breached: The password of this login is in the node's
            breached-password index: the login succeeded, but ask the user
            to change it. ``False`` from a node without the index (or an
            older node, which does not send it), and after a passkey
            sign-in.
        extra: Reply members this version of the client does not know.
    """

    token: str = field(repr=False)
    expires_at: datetime
    user: User
    device_token: Optional[str] = field(default=None, repr=False)
    password_breached: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    _KNOWN = {"id", "ok", "token", "expires_at", "user", "device_token", "password_breached"}

    @classmethod
    def from_reply(cls, reply: Mapping[str, Any]) -> "Session":
        """Parse a successful ``login`` (or ``recovery_finish``,
        ``login_second_factor``, ``passkey_login_finish``) reply."""
        device = reply.get("device_token")
        if device is not None and not isinstance(device, str):
            raise ProtocolError("login: device_token is not a string")
        breached = reply.get("password_breached", False)
        if not isinstance(breached, bool):
            raise ProtocolError("login: password_breached is not a boolean")
        return cls(
            token=_require(reply, "token", str, "login"),
            expires_at=_timestamp(reply.get("expires_at"), "login.expires_at"),
            user=User.from_json(reply.get("user")),
            device_token=device,
            password_breached=breached,
            extra=_extra(reply, cls._KNOWN),
        )


@dataclass(frozen=True)
class TotpSetup:
    """The result of ``totp_setup``: a new TOTP seed, pending until
    ``totp_enable`` confirms it with a code it made.

    Both members are secrets (the URI carries the seed): they are left out
    of ``repr()`` so that they do not end up in logs by accident. Show them
    to the account's owner only, once.

    Attributes:
        secret: The seed in base32 (RFC 4648, no padding), for typing into
            an authenticator app by hand.
        uri: ``otpauth://totp/ISSUER:EMAIL?secret=...&issuer=...&algorithm=
            SHA1&digits=6&period=30``, what an authenticator app reads from
            a QR code.
        extra: Reply members this version of the client does not know.
    """

    secret: str = field(repr=False)
    uri: str = field(repr=False)
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    _KNOWN = {"id", "ok", "secret", "uri"}

    @classmethod
    def from_reply(cls, reply: Mapping[str, Any]) -> "TotpSetup":
        """Parse a successful ``totp_setup`` reply."""
        return cls(
            secret=_require(reply, "secret", str, "totp_setup"),
            uri=_require(reply, "uri", str, "totp_setup"),
            extra=_extra(reply, cls._KNOWN),
        )


@dataclass(frozen=True)
class Passkey:
    """A passkey (WebAuthn credential) of an account, as
    ``passkey_register_finish`` and ``passkeys_list`` return it.

    Attributes:
        id: The credential id, base64url without padding; what
            ``passkey_delete`` takes.
        name: The name it was registered with (``"Passkey"`` if none was
            given), for the account's owner to tell their passkeys apart.
        created_at: When it was registered (UTC, aware).
        last_used_at: Its latest sign-in, or ``None`` if it has not signed
            in yet.
        extra: Members of the passkey object this version of the client
            does not know.
    """

    id: str
    name: str
    created_at: datetime
    last_used_at: Optional[datetime]
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    _KNOWN = {"id", "name", "created_at", "last_used_at"}

    @classmethod
    def from_json(cls, obj: Any) -> "Passkey":
        """Parse a passkey object of a reply."""
        if not isinstance(obj, Mapping):
            raise ProtocolError("passkey is not an object")
        last = obj.get("last_used_at")
        return cls(
            id=_require(obj, "id", str, "passkey"),
            name=_require(obj, "name", str, "passkey"),
            created_at=_timestamp(obj.get("created_at"), "passkey.created_at"),
            last_used_at=None if last is None else _timestamp(last, "passkey.last_used_at"),
            extra=_extra(obj, cls._KNOWN),
        )

    @classmethod
    def list_from_json(cls, value: Any) -> list["Passkey"]:
        """Parse the ``passkeys`` member of a ``passkeys_list`` reply."""
        if not isinstance(value, list):
            raise ProtocolError("passkeys_list: member 'passkeys' is missing or not a list")
        return [cls.from_json(p) for p in value]


@dataclass(frozen=True)
class PasskeyLoginOptions:
    """The result of ``passkey_login_begin``: what a passkey sign-in needs.

    Attributes:
        challenge_id: Names the sign-in's challenge; pass it back with the
            browser's answer to ``passkey_login_finish``. It works once,
            for 5 minutes. Not a secret: only the passkey's signature
            turns it into a session.
        options: The ``PublicKeyCredentialRequestOptionsJSON`` (``challenge``,
            ``timeout``, ``rpId``, ``allowCredentials``, ``userVerification``;
            binary members base64url) as a plain ``dict``: hand it to the
            browser unchanged (``PublicKeyCredential.parseRequestOptionsFromJSON``).
        extra: Reply members this version of the client does not know.
    """

    challenge_id: str
    options: dict[str, Any] = field(hash=False)
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    _KNOWN = {"id", "ok", "challenge_id", "options"}

    @classmethod
    def from_reply(cls, reply: Mapping[str, Any]) -> "PasskeyLoginOptions":
        """Parse a successful ``passkey_login_begin`` reply."""
        options = reply.get("options")
        if not isinstance(options, Mapping):
            raise ProtocolError("passkey_login_begin: member 'options' is missing or not an object")
        return cls(
            challenge_id=_require(reply, "challenge_id", str, "passkey_login_begin"),
            options=dict(options),
            extra=_extra(reply, cls._KNOWN),
        )


@dataclass(frozen=True)
class Stats:
    """The node's counters, from the ``stats`` operation.

    All counters start at zero when the node starts. A counter an older node
    does not send stays 0; counters a newer node adds are in ``extra``. See
    docs/protocol.md ("stats") for what each one counts.
    """

    connections: int = 0
    requests_total: int = 0
    registrations_total: int = 0
    logins_ok: int = 0
    logins_failed: int = 0
    pending_delayed: int = 0
    hash_verifications_total: int = 0
    rate_limited_total: int = 0
    penalized_sources: int = 0
    penalized_accounts: int = 0
    throttle_held: int = 0
    hash_queue_depth: int = 0
    tarpitted_total: int = 0
    idle_closed_total: int = 0
    mails_sent_total: int = 0
    mails_failed_total: int = 0
    mails_dropped_total: int = 0
    outbox_depth: int = 0
    second_factor_challenges_total: int = 0
    second_factor_ok_total: int = 0
    second_factor_failed_total: int = 0
    breached_password_refused_total: int = 0
    breached_login_total: int = 0
    breached_index_state: int = 0
    breached_index_entries: int = 0
    uptime_seconds: int = 0
    #: ``"off"``, ``"on"`` or ``"missing"``: the breached-password index.
    breached_passwords: str = "off"
    #: The index's path on the node, ``""`` when off.
    breached_path: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, obj: Any) -> "Stats":
        """Parse the ``stats`` object of a reply."""
        if not isinstance(obj, Mapping):
            raise ProtocolError("stats is not an object")
        known = {f.name for f in fields(cls) if f.name != "extra"}
        values: dict[str, Any] = {}
        for name in known:
            if name in obj:
                kind = str if name in ("breached_passwords", "breached_path") else int
                values[name] = _require(obj, name, kind, "stats")
        return cls(**values, extra=_extra(obj, known))
