"""What both clients share: the operations, request lines, reply lines,
and the policy of a call.

The sync and the async client differ only in how they wait; everything
about the wire (which ops exist, which may be retried, how a line is
built and a reply read) and the policy of a call (its default timeout,
when it is sent again after a lost connection, what a request in flight
on a dropped connection fails with) lives here, once. Nothing here does
I/O.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Protocol

from .errors import (
    AuthnodeError,
    ConnectionLost,
    Error,
    LineTooLong,
    ProtocolError,
    error_from_reply,
)

#: Replies longer than this are not authnode replies (the longest real one
#: is a few hundred bytes); the connection is dropped as a protocol error.
MAX_REPLY_BYTES = 1 << 20

#: The node's default ``max-line``.
DEFAULT_MAX_LINE = 65536

#: Default timeout for operations the node answers at once.
DEFAULT_TIMEOUT = 10.0

#: Default timeout for operations that hash or check a password. A failed
#: login is answered no sooner than ``--failure-delay`` (2 s), and under
#: throttle penalties a login is held up to ``--max-penalty`` (60 s) before
#: its password is even checked; the timeout must outlast both, or a
#: legitimate but penalized login turns into a Timeout of unknown outcome.
DEFAULT_AUTH_TIMEOUT = 90.0

#: Default connect timeout.
DEFAULT_CONNECT_TIMEOUT = 5.0

#: Reconnect before sending on a connection idle this long. The node closes
#: connections idle for ``--idle-timeout`` (60 s) without a word; sending on
#: one at that moment would lose the request to a race.
DEFAULT_MAX_IDLE = 50.0


@dataclass(frozen=True)
class OpSpec:
    """How the clients treat one operation.

    ``retry_safe``: sending it twice has the same effect as once (it changes
    nothing), so after a lost connection the client may send it again.
    ``slow``: it hashes or checks a password, may be answered late on
    purpose, and so gets the longer default timeout.
    """

    retry_safe: bool
    slow: bool


OPS: Mapping[str, OpSpec] = {
    "ping": OpSpec(retry_safe=True, slow=False),
    "register": OpSpec(retry_safe=False, slow=True),
    "login": OpSpec(retry_safe=False, slow=True),
    "whoami": OpSpec(retry_safe=True, slow=False),
    "logout": OpSpec(retry_safe=False, slow=False),
    "change_password": OpSpec(retry_safe=False, slow=True),
    "stats": OpSpec(retry_safe=True, slow=False),
    # The account codes. None is resent: each start mails a code (spending
    # the account's hourly budget and replacing the code before), each
    # finish uses one up. A wrong code or password is answered late and
    # throttled like a login, so those ops get the long timeout; the starts
    # of recovery and verification are answered within recovery-reply-time.
    "recovery_start": OpSpec(retry_safe=False, slow=False),
    "recovery_finish": OpSpec(retry_safe=False, slow=True),
    "verify_email_start": OpSpec(retry_safe=False, slow=False),
    "verify_email_finish": OpSpec(retry_safe=False, slow=True),
    "change_email_start": OpSpec(retry_safe=False, slow=True),
    "change_email_finish": OpSpec(retry_safe=False, slow=True),
    # The second factor. None is resent: a setup replaces the pending seed
    # (the user may have scanned the first), an enable or a renewal makes
    # recovery codes that are shown once, and every code they take is used
    # up. Those that check a code (or a password) are answered late when it
    # is wrong and throttled like a login; the setup checks nothing.
    "totp_setup": OpSpec(retry_safe=False, slow=False),
    "totp_enable": OpSpec(retry_safe=False, slow=True),
    "totp_disable": OpSpec(retry_safe=False, slow=True),
    "recovery_codes_renew": OpSpec(retry_safe=False, slow=True),
    "login_second_factor": OpSpec(retry_safe=False, slow=True),
    # Passkeys (WebAuthn). None is resent: each begin stores a challenge
    # (harmless, but a change), a finish uses its challenge up (and
    # registers a credential or starts a session), a delete answers
    # no_such_passkey the second time. passkeys_list changes nothing but
    # is kept out of the retried ops with the rest (docs/clients.md names
    # those). Only a failed sign-in is answered late on purpose (held for
    # failure-delay and throttled like a wrong password), so only
    # passkey_login_finish gets the long timeout; the signature check of a
    # registration is short and is not held.
    "passkey_register_begin": OpSpec(retry_safe=False, slow=False),
    "passkey_register_finish": OpSpec(retry_safe=False, slow=False),
    "passkey_login_begin": OpSpec(retry_safe=False, slow=False),
    "passkey_login_finish": OpSpec(retry_safe=False, slow=True),
    "passkeys_list": OpSpec(retry_safe=False, slow=False),
    "passkey_delete": OpSpec(retry_safe=False, slow=False),
}

#: Operations the clients resend once, on a new connection, when the
#: connection broke before their reply came. Every other operation changes
#: state (or, like ``logout``, answers differently the second time) and is
#: never resent.
RETRY_SAFE_OPS = frozenset(op for op, spec in OPS.items() if spec.retry_safe)


def spec_of(op: str) -> OpSpec:
    """The spec of ``op``; an op this client does not know is treated as
    unsafe to retry and slow (the conservative choice)."""
    return OPS.get(op, OpSpec(retry_safe=False, slow=True))


def with_optional(fields: dict[str, Any], **optional: Optional[str]) -> dict[str, Any]:
    """``fields`` plus the optional members that are not ``None``."""
    for name, value in optional.items():
        if value is not None:
            fields[name] = value
    return fields


def encode_request(req_id: int, op: str, fields: Mapping[str, Any], max_line: int) -> bytes:
    """The request line for ``op`` with ``fields``, ``\\n`` included.

    Raises :class:`LineTooLong` (without sending anything) if the line is
    longer than ``max_line`` bytes: the node would answer ``line_too_long``
    and close the connection, losing the replies of every other request on
    it.
    """
    if "id" in fields or "op" in fields:
        raise ValueError("fields must not contain 'id' or 'op'")
    body = {"id": req_id, "op": op}
    body.update(fields)
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    line = text.encode("utf-8")
    if len(line) > max_line:
        raise LineTooLong(
            "line_too_long",
            f"the request is {len(line)} bytes, longer than max_line={max_line}; not sent",
            op=op,
        )
    return line + b"\n"


def decode_reply(line: bytes) -> dict[str, Any]:
    """Parse one reply line into an object; :class:`ProtocolError` if it is
    not a JSON object with a boolean ``ok``."""
    try:
        obj = json.loads(line)
    except ValueError as e:
        raise ProtocolError(f"the node sent a line that is not JSON: {e}") from None
    if not isinstance(obj, dict) or not isinstance(obj.get("ok"), bool):
        raise ProtocolError("the node sent a line that is not a reply object")
    return obj


def check_reply(reply: Mapping[str, Any], op: str) -> Mapping[str, Any]:
    """``reply`` if it is a success; else raise its :class:`AuthnodeError`."""
    if reply.get("ok") is True:
        return reply
    raise error_from_reply(reply, op)


def sent_of(reply: Mapping[str, Any]) -> bool:
    """The ``sent`` member of a ``verify_email_start`` reply: whether a code
    was mailed (``False``: the address is verified already)."""
    sent = reply.get("sent")
    if not isinstance(sent, bool):
        raise ProtocolError("verify_email_start: member 'sent' is missing or not bool")
    return sent


def recovery_codes_of(reply: Mapping[str, Any], op: str) -> list[str]:
    """The ``recovery_codes`` member of a ``totp_enable`` or
    ``recovery_codes_renew`` reply: the codes (ten), which the node shows
    this once."""
    codes = reply.get("recovery_codes")
    if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
        raise ProtocolError(f"{op}: member 'recovery_codes' is missing or not a list of strings")
    return list(codes)


def options_of(reply: Mapping[str, Any], op: str) -> dict[str, Any]:
    """The ``options`` member of a ``passkey_register_begin`` (or
    ``passkey_login_begin``) reply: the WebAuthn options as the node made
    them, a plain ``dict`` to hand to the browser unchanged."""
    options = reply.get("options")
    if not isinstance(options, Mapping):
        raise ProtocolError(f"{op}: member 'options' is missing or not an object")
    return dict(options)


def reply_id(reply: Mapping[str, Any]) -> Any:
    """The reply's ``id``, or ``None``. The clients send integer ids; the
    node echoes integers exactly."""
    value = reply.get("id")
    if isinstance(value, bool):
        return None
    return value


def refusal_for(error: AuthnodeError, op: Optional[str]) -> AuthnodeError:
    """A copy of a connection-wide refusal (a reply without ``id``) for the
    request of ``op``."""
    return type(error)(error.code, error.message, error.retry_after_ms, op=op, reply=error.reply)


# -- the policy of a call ---------------------------------------------------

#: How often a request that provably was not sent (the connection was known
#: to be gone, or writing failed before the line's end) is sent on a new
#: connection, whatever the op: nothing reached the node, so nothing can
#: happen twice. Bounded so that a node that keeps dropping connections at
#: once ends in an error, not a loop.
MAX_UNSENT_RESENDS = 2


class CallSettings(Protocol):
    """The client settings a call's policy reads (both clients have them as
    attributes, read at each call)."""

    timeout: float
    auth_timeout: float
    retry_idempotent: bool
    max_line: int


def call_timeout(op: str, timeout: Optional[float], settings: CallSettings) -> float:
    """The timeout of one call: ``timeout`` if given, else ``auth_timeout``
    for the slow ops (they check a password and may be answered late on
    purpose) and ``timeout`` for the others."""
    if timeout is not None:
        return timeout
    return settings.auth_timeout if spec_of(op).slow else settings.timeout


def call_retries(op: str, retry: Optional[bool], settings: CallSettings) -> bool:
    """Whether one call is resent once after a lost connection: ``retry`` if
    given, else only for the retry-safe ops and only if
    ``retry_idempotent``."""
    if retry is not None:
        return retry
    return spec_of(op).retry_safe and settings.retry_idempotent


class Call:
    """One call of an operation, across the attempts to send it.

    It fixes the call's timeout and deadline (the timeout bounds the whole
    call, reconnecting and a retry included), builds each attempt's line,
    and after a lost connection says whether to send it again: a request
    that provably was not sent, up to :data:`MAX_UNSENT_RESENDS` times; one
    that may have reached the node, once, and only if it retries (see
    :func:`call_retries`). The client does the sending and the waiting.
    """

    def __init__(
        self,
        op: str,
        fields: Optional[Mapping[str, Any]],
        settings: CallSettings,
        *,
        timeout: Optional[float] = None,
        retry: Optional[bool] = None,
    ) -> None:
        self.op = op
        self.timeout = call_timeout(op, timeout, settings)
        self.retry = call_retries(op, retry, settings)
        self.deadline = time.monotonic() + self.timeout
        self._fields = dict(fields or {})
        self._max_line = settings.max_line
        self._unsent_resends = 0
        self._retried = False

    def line(self, req_id: int) -> bytes:
        """The request line of an attempt with ``req_id``; see
        :func:`encode_request`."""
        return encode_request(req_id, self.op, self._fields, self._max_line)

    def resend_after(self, lost: ConnectionLost) -> bool:
        """Whether to send the request again (with a new ``id``, on a new
        connection) after it failed with ``lost``; if not, the caller
        raises ``lost``."""
        if not lost.sent and self._unsent_resends < MAX_UNSENT_RESENDS:
            self._unsent_resends += 1
            return True
        if self.retry and not self._retried:
            self._retried = True
            return True
        return False


def lost_for(reason: Error, op: str) -> Error:
    """What a request of ``op`` in flight on a connection that ended with
    ``reason`` fails with: a fresh exception naming its op, marked as
    possibly sent (a lost request may have taken effect)."""
    if isinstance(reason, ProtocolError):
        return ProtocolError(str(reason), op=op, sent=True)
    if isinstance(reason, ConnectionLost):
        return ConnectionLost(f"{op}: {reason}", op=op, sent=True)
    return reason


def not_sent(refusal: Optional[AuthnodeError], peer: str, op: str) -> Error:
    """What a request of ``op`` fails with when its connection is already
    gone before it is sent: the refusal the connection got (``busy``), if
    any, else a :class:`ConnectionLost` that says it was not sent (so that
    :meth:`Call.resend_after` sends it on a new connection)."""
    if refusal is not None:
        return refusal_for(refusal, op)
    return ConnectionLost(f"{op}: connection to {peer} is closed; not sent", op=op, sent=False)


def too_idle(max_idle: Optional[float], waiting: int, idle_for: float) -> bool:
    """Whether to open a new connection instead of sending on one with
    ``waiting`` requests that has been idle for ``idle_for`` seconds: the
    node closes idle connections without a word (``--idle-timeout``), and a
    request sent just then would be lost. ``max_idle`` ``None`` never
    does."""
    return max_idle is not None and waiting == 0 and idle_for >= max_idle
