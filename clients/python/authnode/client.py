"""The synchronous client: one TCP connection, shared by any number of threads.

Design: every request gets a fresh integer ``id`` and a waiter; a writer
lock keeps lines whole, and one reader thread per connection reads reply
lines and hands each to the waiter with its ``id``. So requests from many
threads are pipelined on one connection and replies may come back in any
order (a ping overtakes a failed login the node holds back on purpose).

Why one reader thread rather than "send, then read my reply": with
pipelining, the reply a thread reads may belong to another thread, and a
failed login is held for seconds; a dedicated reader makes every reply
reach its caller as soon as it arrives, whoever is waiting for what.

When the connection breaks, requests in flight fail with
:class:`~authnode.ConnectionLost` and are never resent, except the
read-only ``ping``, ``whoami`` and ``stats`` (once). The next call opens a
new connection. That policy (and the default timeouts) is shared with the
asyncio client and lives in ``_protocol.py``.
"""

from __future__ import annotations

import itertools
import socket
import threading
import time
from typing import Any, Mapping, Optional

from . import _protocol as proto
from .errors import (
    AuthnodeError,
    ConnectFailed,
    ConnectionLost,
    Error,
    LineTooLong,
    ProtocolError,
    Timeout,
    error_from_reply,
)
from .types import Passkey, PasskeyLoginOptions, Session, Stats, TotpSetup, User

__all__ = ["Client"]

_READER_POLL = 3600.0  # the reader's socket timeout; it only loops on it


class _Waiter:
    """One request awaiting its reply."""

    __slots__ = ("op", "sent", "event", "reply", "error")

    def __init__(self, op: str) -> None:
        self.op = op
        self.sent = False  # the whole line is written
        self.event = threading.Event()
        self.reply: Optional[dict[str, Any]] = None
        self.error: Optional[Error] = None

    def resolve(self, reply: dict[str, Any]) -> None:
        self.reply = reply
        self.event.set()

    def fail(self, error: Error) -> None:
        self.error = error
        self.event.set()


class _Connection:
    """One TCP connection to the node with its reader thread.

    The writer and the reader use two socket objects on one connection
    (``dup``), so that a send timeout never disturbs the blocked reader.
    """

    def __init__(self, sock: socket.socket, peer: str) -> None:
        self._wsock = sock
        self._rsock = sock.dup()
        self._rsock.settimeout(_READER_POLL)
        self._peer = peer
        self._lock = threading.Lock()  # guards _pending, _closed, _refusal
        self._send_lock = threading.Lock()
        self._pending: dict[int, _Waiter] = {}
        self._closed = False
        self._refusal: Optional[AuthnodeError] = None
        self.last_activity = time.monotonic()
        self._reader = threading.Thread(
            target=self._read_loop, name=f"authnode-reader {peer}", daemon=True
        )
        self._reader.start()

    # -- state -----------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def in_flight(self) -> int:
        with self._lock:
            return sum(1 for w in self._pending.values() if w.sent)

    @property
    def waiting(self) -> int:
        """Requests registered, sent or not yet."""
        return len(self._pending)

    def idle_for(self) -> float:
        return time.monotonic() - self.last_activity

    # -- requests --------------------------------------------------------

    def request(self, req_id: int, op: str, line: bytes, deadline: float, timeout: float) -> dict[str, Any]:
        """Send ``line`` and wait for the reply with ``req_id``."""
        waiter = _Waiter(op)
        with self._lock:
            if self._closed:
                raise self._gone_error(op)
            self._pending[req_id] = waiter
        self._send(req_id, op, line, deadline, timeout)
        waiter.sent = True
        if not waiter.event.wait(max(0.0, deadline - time.monotonic())):
            with self._lock:
                if self._pending.pop(req_id, None) is waiter:
                    raise Timeout(
                        f"{op}: no reply within {timeout:g} s", op=op, timeout=timeout
                    )
            waiter.event.wait()  # resolved while we took the lock
        if waiter.error is not None:
            raise waiter.error
        assert waiter.reply is not None
        return waiter.reply

    def _send(self, req_id: int, op: str, line: bytes, deadline: float, timeout: float) -> None:
        """Write the whole line or fail. A line not written completely never
        reaches the node as a request (it lacks its ``\\n``), so every failure
        here is "not sent"."""
        view = memoryview(line)
        sent = 0
        with self._send_lock:
            try:
                while sent < len(view):
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise socket.timeout()
                    self._wsock.settimeout(remaining)
                    sent += self._wsock.send(view[sent:])
            except socket.timeout:
                self._forget(req_id)
                if sent:
                    # A partial line would glue onto the next request.
                    self.close(ConnectionLost("a request could not be written in time", sent=True))
                raise Timeout(
                    f"{op}: could not send within {timeout:g} s", op=op, timeout=timeout
                ) from None
            except OSError as e:
                self._forget(req_id)
                self._shut(ConnectionLost(f"connection to {self._peer} lost: {e}"))
                raise self._gone_error(op) from e
        self.last_activity = time.monotonic()

    def _forget(self, req_id: int) -> None:
        with self._lock:
            self._pending.pop(req_id, None)

    def _gone_error(self, op: str) -> Error:
        return proto.not_sent(self._refusal, self._peer, op)

    # -- reading ---------------------------------------------------------

    def _read_loop(self) -> None:
        buf = bytearray()
        reason: Error = ConnectionLost(f"connection to {self._peer} closed by the node")
        try:
            while True:
                try:
                    chunk = self._rsock.recv(65536)
                except socket.timeout:
                    continue
                if not chunk:
                    break
                buf += chunk
                start = 0
                while (end := buf.find(b"\n", start)) >= 0:
                    self._dispatch(bytes(buf[start:end]))
                    start = end + 1
                del buf[:start]
                if len(buf) > proto.MAX_REPLY_BYTES:
                    raise ProtocolError("the node sent a line longer than any reply")
        except ProtocolError as e:
            reason = e
        except OSError as e:
            reason = ConnectionLost(f"connection to {self._peer} lost: {e}")
        except Exception as e:  # noqa: BLE001 - a bug here must not hang callers
            reason = ConnectionLost(f"reader of {self._peer} failed: {e!r}")
        self._shut(reason)

    def _dispatch(self, line: bytes) -> None:
        self.last_activity = time.monotonic()
        reply = proto.decode_reply(line)
        rid = proto.reply_id(reply)
        if rid is not None:
            with self._lock:
                waiter = self._pending.pop(rid, None)
            if waiter is not None:  # else: a reply to a request that timed out
                waiter.resolve(reply)
            return
        self._connection_wide(reply)

    def _connection_wide(self, reply: dict[str, Any]) -> None:
        """A reply without ``id``. From this client that is ``busy`` (the
        connection was refused: nothing on it was read) or ``line_too_long``
        (the node closes the connection); anything else can only answer the
        one request in flight, if there is exactly one."""
        error = error_from_reply(reply)
        with self._lock:
            if isinstance(error, AuthnodeError) and error.code == "busy":
                self._refusal = error
                self._closed = True
                waiters, self._pending = self._pending, {}
                for w in waiters.values():
                    w.fail(proto.refusal_for(error, w.op))
                return
            if len(self._pending) == 1:
                (rid, w), = self._pending.items()
                del self._pending[rid]
                w.fail(proto.refusal_for(error, w.op))
                return
        if isinstance(error, LineTooLong):
            self._shut(ConnectionLost(
                f"the node refused a line as too long and closed the connection: {error.message}"
            ))

    # -- closing ---------------------------------------------------------

    def _shut(self, reason: Error) -> None:
        """Mark closed and fail every request in flight with ``reason``."""
        with self._lock:
            self._closed = True
            waiters, self._pending = self._pending, {}
        for w in waiters.values():
            w.fail(proto.lost_for(reason, w.op))
        try:
            self._wsock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def close(self, reason: Optional[Error] = None) -> None:
        """Close the connection; requests in flight fail with ``reason``."""
        self._shut(reason or ConnectionLost("the client was closed"))
        if threading.current_thread() is not self._reader:
            self._reader.join(timeout=5.0)
        self._wsock.close()
        self._rsock.close()


class Client:
    """A thread-safe, pipelining client for one authnode node.

    Example::

        with authnode.Client("127.0.0.1", 7411) as c:
            c.register("ann@example.org", "correct horse", "Ann")
            session = c.login("ann@example.org", "correct horse")
            print(c.whoami(session.token).name)

    One connection carries the requests of every thread at once; each call
    blocks its own thread until its reply arrives, and replies are matched
    by ``id``, so a fast request is not held up by a slow one (such as a
    failed login, which the node answers late on purpose).

    **Timeouts.** Every call takes ``timeout`` (seconds). The default is
    ``timeout`` (10 s) for ``ping``, ``whoami``, ``logout``, ``stats``,
    ``recovery_start`` and ``verify_email_start``, and ``auth_timeout``
    (90 s) for ``register``, ``login``, ``change_password``,
    ``recovery_finish``, ``verify_email_finish`` and ``change_email_*``:
    those hash or check a password or a code, and a failed one is answered
    no sooner than the node's ``--failure-delay`` (2 s by default), a
    penalized one up to ``--max-penalty`` (60 s) later. The second
    factor's operations that check a code and ``passkey_login_finish`` get
    ``auth_timeout`` too, the other passkey operations ``timeout``. A
    shorter ``auth_timeout`` turns slow but legitimate answers into
    :class:`~authnode.Timeout`, whose outcome is unknown.

    **Lost connections and retries.** If the connection breaks, requests in
    flight fail with :class:`~authnode.ConnectionLost`: they may have taken
    effect, so ``register``, ``login``, ``logout`` and ``change_password``
    are never resent. ``ping``, ``whoami`` and ``stats`` change nothing and
    are resent once on a new connection (turn this off with
    ``retry_idempotent=False``). The next call after a break reconnects; if
    that fails it raises :class:`~authnode.ConnectFailed` (nothing sent).
    A request that provably was not sent (the connection was already gone)
    is always sent on a new connection instead.

    Args:
        host: The node's address.
        port: The node's public port.
        timeout: Default timeout of the quick operations, in seconds.
        auth_timeout: Default timeout of ``register``, ``login``,
            ``change_password`` and the account codes' operations that check
            a password or a code, in seconds.
        connect_timeout: Timeout of each connection attempt, in seconds.
        retry_idempotent: Resend ``ping``, ``whoami`` and ``stats`` once
            after a lost connection.
        max_idle: Open a new connection instead of sending on one idle for
            this many seconds; keep it below the node's ``--idle-timeout``
            (60 s). ``None`` never does.
        max_line: Refuse (with :class:`~authnode.LineTooLong`, unsent) a
            request line longer than this; set it to the node's
            ``--max-line``.
        source_address: ``(host, port)`` to bind the local end to, as for
            :func:`socket.create_connection`.
        connect: Connect now (the default), so that an unreachable node
            raises :class:`~authnode.ConnectFailed` here; with ``False`` the
            first call connects.

    Raises:
        ConnectFailed: The node cannot be reached (only with ``connect``).
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        timeout: float = proto.DEFAULT_TIMEOUT,
        auth_timeout: float = proto.DEFAULT_AUTH_TIMEOUT,
        connect_timeout: float = proto.DEFAULT_CONNECT_TIMEOUT,
        retry_idempotent: bool = True,
        max_idle: Optional[float] = proto.DEFAULT_MAX_IDLE,
        max_line: int = proto.DEFAULT_MAX_LINE,
        source_address: Optional[tuple[str, int]] = None,
        connect: bool = True,
    ) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self.auth_timeout = auth_timeout
        self.connect_timeout = connect_timeout
        self.retry_idempotent = retry_idempotent
        self.max_idle = max_idle
        self.max_line = max_line
        self.source_address = source_address
        self._ids = itertools.count(1)
        self._conn_lock = threading.Lock()
        self._conn: Optional[_Connection] = None
        self._closed = False
        if connect:
            with self._conn_lock:
                self._conn = self._open(time.monotonic() + connect_timeout)

    # -- lifecycle -------------------------------------------------------

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection. Requests still in flight fail with
        :class:`~authnode.ConnectionLost`; later calls raise it too."""
        with self._conn_lock:
            self._closed = True
            conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    @property
    def in_flight(self) -> int:
        """Requests written to the current connection and not answered
        yet."""
        conn = self._conn
        return conn.in_flight if conn is not None else 0

    @property
    def connected(self) -> bool:
        """Whether a connection is open now (the next call may still find it
        broken; it then reconnects)."""
        conn = self._conn
        return conn is not None and not conn.closed

    # -- operations ------------------------------------------------------

    def ping(self, *, timeout: Optional[float] = None) -> None:
        """Check that the node answers. Retried once after a lost
        connection."""
        self.call("ping", timeout=timeout)

    def register(
        self,
        email: str,
        password: str,
        name: str,
        *,
        client_addr: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> User:
        """Create an account and return it.

        Args:
            email: The address; the node trims it and lower-cases ASCII.
            password: At least the node's ``--min-password`` bytes (8), at
                most 1024, not the email.
            name: A display name of 1 to 200 bytes after trimming.
            client_addr: The end user's IP address, for a trusted
                application server (see :meth:`login`).
            timeout: Seconds to wait; default ``auth_timeout``.

        Raises:
            InvalidEmail, WeakPassword, EmailTaken, BadRequest, RateLimited,
            Busy, Unavailable, Internal: as the node answers.
            ConnectionLost, Timeout: no answer; the account may exist.
        """
        fields = proto.with_optional(
            {"email": email, "password": password, "name": name}, client_addr=client_addr
        )
        return User.from_json(self.call("register", fields, timeout=timeout)["user"])

    def login(
        self,
        email: str,
        password: str,
        *,
        device_token: Optional[str] = None,
        client_addr: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> Session:
        """Check an email and password and start a session.

        A wrong password or unknown email raises
        :class:`~authnode.InvalidCredentials`, late on purpose (the node's
        ``--failure-delay``, more while the account or address is
        penalized); other requests of this client go on meanwhile.

        Args:
            email: The account's email.
            password: Its password.
            device_token: The ``device_token`` an earlier successful login
                from this device returned; exempts this login from penalties
                earned by others guessing at the account.
            client_addr: The end user's IP address. Only for application
                servers whose address is in the node's
                ``--trusted-sources``; the node then throttles that address
                instead of the server's. From any other peer the node
                refuses the request with :class:`~authnode.BadRequest`.
            timeout: Seconds to wait; default ``auth_timeout``.

        Returns:
            The session; ``device_token`` is set when the login did not
            present a valid one.

        Raises:
            SecondFactorRequired: The password is right and the account has
                TOTP on: no session yet. Ask the user for a code and pass it
                with the exception's ``challenge`` to
                :meth:`login_second_factor`. (A device token does not skip
                this step.)
            InvalidCredentials, RateLimited (with ``retry_after_ms``), Busy,
            BadRequest, Unavailable, Internal: as the node answers.
            ConnectionLost, Timeout: no answer; a session may have started.
        """
        fields = proto.with_optional(
            {"email": email, "password": password},
            device_token=device_token,
            client_addr=client_addr,
        )
        return Session.from_reply(self.call("login", fields, timeout=timeout))

    def whoami(self, token: str, *, timeout: Optional[float] = None) -> User:
        """Return the account of a session token. Retried once after a lost
        connection.

        Raises:
            InvalidToken: The token is unknown, expired, logged out or
                revoked.
        """
        return User.from_json(self.call("whoami", {"token": token}, timeout=timeout)["user"])

    def logout(self, token: str, *, timeout: Optional[float] = None) -> None:
        """End the session of ``token``.

        Raises:
            InvalidToken: The token has no live session.
            ConnectionLost, Timeout: no answer; the session may be over. It
                is not resent: a second logout would say ``invalid_token``.
        """
        self.call("logout", {"token": token}, timeout=timeout)

    def change_password(
        self,
        token: str,
        old_password: str,
        new_password: str,
        *,
        client_addr: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> None:
        """Set a new password for the account of ``token``. Every other
        session of the account is revoked; ``token`` stays valid.

        Args:
            token: A live session token of the account.
            old_password: The current password.
            new_password: The new one; the rules of :meth:`register` apply.
            client_addr: The end user's address, for trusted callers (see
                :meth:`login`).
            timeout: Seconds to wait; default ``auth_timeout``.

        Raises:
            InvalidToken, WeakPassword, InvalidCredentials (late),
            RateLimited, Busy, BadRequest, Unavailable, Internal.
        """
        fields = proto.with_optional(
            {"token": token, "old_password": old_password, "new_password": new_password},
            client_addr=client_addr,
        )
        self.call("change_password", fields, timeout=timeout)

    def stats(self, *, timeout: Optional[float] = None) -> Stats:
        """Return the node's counters. Retried once after a lost
        connection."""
        return Stats.from_json(self.call("stats", timeout=timeout)["stats"])

    # -- account codes (docs/protocol.md, "Account codes") ----------------
    #
    # A node without --smtp-url answers all six with Unavailable. A wrong
    # code is InvalidCode, late on purpose like a wrong password. None of
    # them is resent after a lost connection.

    def recovery_start(
        self,
        email: str,
        *,
        client_addr: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> None:
        """Mail a recovery code to ``email``, if an enabled account has it
        and its hourly budget (``--recovery-mails``) is not spent.

        The answer is the same whether or not the account exists, and comes
        no sooner than the node's ``--recovery-reply-time`` (250 ms).

        Args:
            email: The address the user typed.
            client_addr: The end user's address, for trusted callers (see
                :meth:`login`); the address's budget pays for the request.
            timeout: Seconds to wait; default ``timeout``.

        Raises:
            InvalidEmail, RateLimited (with ``retry_after_ms``),
            Unavailable (also: no ``--smtp-url``), Internal.
        """
        fields = proto.with_optional({"email": email}, client_addr=client_addr)
        self.call("recovery_start", fields, timeout=timeout)

    def recovery_finish(
        self,
        email: str,
        code: str,
        new_password: str,
        *,
        client_addr: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> Session:
        """Set ``new_password`` with the code from the recovery mail, and log
        in. Every other session of the account is revoked; its address
        counts as verified from now on.

        Args:
            email: The account's address.
            code: The code as the user typed it (either case, with or
                without the ``-``).
            new_password: The rules of :meth:`register` apply.
            client_addr: The end user's address, for trusted callers.
            timeout: Seconds to wait; default ``auth_timeout``.

        Returns:
            The new session, as :meth:`login` returns it.

        Raises:
            SecondFactorRequired: The account has TOTP on. The new password
                is set and every session revoked, but no session started:
                the user's TOTP or recovery code goes to
                :meth:`login_second_factor` with the ``challenge``. Recovery
                by mail does not remove the second factor.
            InvalidCode (late; also for an email without an account),
            WeakPassword, RateLimited, Busy, Unavailable, Internal.
        """
        fields = proto.with_optional(
            {"email": email, "code": code, "new_password": new_password}, client_addr=client_addr
        )
        return Session.from_reply(self.call("recovery_finish", fields, timeout=timeout))

    def verify_email_start(self, token: str, *, timeout: Optional[float] = None) -> bool:
        """Mail a verification code to the address of ``token``'s account.

        Returns:
            Whether a code was sent: ``False`` when the address is verified
            already.

        Raises:
            InvalidToken, RateLimited, Unavailable, Internal.
        """
        return proto.sent_of(self.call("verify_email_start", {"token": token}, timeout=timeout))

    def verify_email_finish(
        self,
        token: str,
        code: str,
        *,
        client_addr: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> User:
        """Prove the address with the code from the verification mail.

        Args:
            token: A live session token of the account.
            code: The code from the mail.
            client_addr: The end user's address, for trusted callers (see
                :meth:`login`): wrong codes are throttled on it.
            timeout: Seconds to wait; default ``auth_timeout``.

        Returns:
            The account, ``email_verified`` now true.

        Raises:
            InvalidToken, InvalidCode (late), RateLimited, Unavailable,
            Internal.
        """
        fields = proto.with_optional({"token": token, "code": code}, client_addr=client_addr)
        reply = self.call("verify_email_finish", fields, timeout=timeout)
        return User.from_json(reply["user"])

    def change_email_start(
        self,
        token: str,
        password: str,
        new_email: str,
        *,
        client_addr: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> None:
        """Ask to move the account of ``token`` to ``new_email``: a code
        goes to ``new_email``, a notice to the current address.

        Args:
            token: A live session token of the account.
            password: The account's password, asked again.
            new_email: The address to move to.
            client_addr: The end user's address, for trusted callers.
            timeout: Seconds to wait; default ``auth_timeout``.

        Raises:
            InvalidToken, InvalidEmail, BadRequest (``new_email`` is the
            current address), InvalidCredentials (late), EmailTaken,
            RateLimited, Unavailable, Internal.
        """
        fields = proto.with_optional(
            {"token": token, "password": password, "new_email": new_email}, client_addr=client_addr
        )
        self.call("change_email_start", fields, timeout=timeout)

    def change_email_finish(
        self,
        token: str,
        code: str,
        *,
        client_addr: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> User:
        """Move the account to the new address with the code mailed there;
        sessions stay.

        Args:
            token: A live session token of the account.
            code: The code mailed to the new address.
            client_addr: The end user's address, for trusted callers (see
                :meth:`login`): wrong codes are throttled on it.
            timeout: Seconds to wait; default ``auth_timeout``.

        Returns:
            The account at its new address, ``email_verified`` true.

        Raises:
            InvalidToken, InvalidCode (late), EmailTaken, RateLimited,
            Unavailable, Internal.
        """
        fields = proto.with_optional({"token": token, "code": code}, client_addr=client_addr)
        reply = self.call("change_email_finish", fields, timeout=timeout)
        return User.from_json(reply["user"])

    # -- the second factor (docs/protocol.md, "Second factor") -----------
    #
    # A TOTP code is 6 digits (spaces ignored) of the step of now or one
    # step either side, and a step once accepted for the account never is
    # again; a recovery code (like K7QM-2XPA, either case, with or without
    # the dash) works once. A wrong code is InvalidCode, late on purpose
    # and throttled like a wrong password. None of these is resent after a
    # lost connection.

    def totp_setup(self, token: str, *, timeout: Optional[float] = None) -> TotpSetup:
        """Make a new TOTP seed for the account of ``token``, pending until
        :meth:`totp_enable` confirms it. A new setup replaces a pending one.

        Returns:
            The seed (``secret``, base32) and its ``otpauth://`` URI (for a
            QR code). Show them to the user once; ``repr()`` hides both.

        Raises:
            InvalidToken, Conflict (TOTP is on already), Unavailable,
            Internal.
        """
        return TotpSetup.from_reply(self.call("totp_setup", {"token": token}, timeout=timeout))

    def totp_enable(
        self,
        token: str,
        code: str,
        *,
        client_addr: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> list[str]:
        """Turn TOTP on with a code the pending seed makes (proof that the
        user's authenticator app has it). From now on a login with the right
        password raises :class:`~authnode.SecondFactorRequired`.

        Args:
            token: A live session token of the account.
            code: The 6-digit code the authenticator app shows.
            client_addr: The end user's address, for trusted callers (see
                :meth:`login`): wrong codes are throttled on it.
            timeout: Seconds to wait; default ``auth_timeout``.

        Returns:
            The ten recovery codes. The node keeps only digests: show them
            to the user this once.

        Raises:
            InvalidToken, InvalidCode (late), Conflict (nothing set up to
            confirm, or TOTP is on already), RateLimited, Unavailable,
            Internal.
        """
        fields = proto.with_optional({"token": token, "code": code}, client_addr=client_addr)
        reply = self.call("totp_enable", fields, timeout=timeout)
        return proto.recovery_codes_of(reply, "totp_enable")

    def totp_disable(
        self,
        token: str,
        password: str,
        code: str,
        *,
        client_addr: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> None:
        """Turn TOTP off: the seed and the recovery codes are gone, and
        logins need the password only again.

        Args:
            token: A live session token of the account.
            password: The account's password, asked again (a wrong one is
                throttled like a login).
            code: A TOTP code or a recovery code.
            client_addr: The end user's address, for trusted callers (see
                :meth:`login`).
            timeout: Seconds to wait; default ``auth_timeout``.

        Raises:
            InvalidToken, InvalidCredentials (late), InvalidCode (late),
            Conflict (TOTP is off), RateLimited, BadRequest, Unavailable,
            Internal.
        """
        fields = proto.with_optional(
            {"token": token, "password": password, "code": code}, client_addr=client_addr
        )
        self.call("totp_disable", fields, timeout=timeout)

    def recovery_codes_renew(
        self,
        token: str,
        code: str,
        *,
        client_addr: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> list[str]:
        """Replace the account's recovery codes with ten new ones; the old
        ones stop working.

        Args:
            token: A live session token of the account.
            code: A TOTP code or a recovery code.
            client_addr: The end user's address, for trusted callers (see
                :meth:`login`): wrong codes are throttled on it.
            timeout: Seconds to wait; default ``auth_timeout``.

        Returns:
            The ten new recovery codes, shown this once.

        Raises:
            InvalidToken, InvalidCode (late), Conflict (TOTP is off),
            RateLimited, Unavailable, Internal.
        """
        fields = proto.with_optional({"token": token, "code": code}, client_addr=client_addr)
        reply = self.call("recovery_codes_renew", fields, timeout=timeout)
        return proto.recovery_codes_of(reply, "recovery_codes_renew")

    def login_second_factor(
        self,
        challenge: str,
        code: str,
        *,
        client_addr: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> Session:
        """The second step of a login that raised
        :class:`~authnode.SecondFactorRequired`: the user's TOTP code or one
        of their recovery codes starts the session.

        Args:
            challenge: The exception's ``challenge``.
            code: A TOTP code or a recovery code, as the user typed it.
            client_addr: The end user's address, for trusted callers (see
                :meth:`login`).
            timeout: Seconds to wait; default ``auth_timeout``.

        Returns:
            The session, as :meth:`login` returns it (a ``device_token``
            when the login's first step presented no valid one).

        Raises:
            InvalidCode (late): the code is wrong, replayed or used, or the
                challenge is unknown, expired or dead after 5 wrong codes
                (then only a new :meth:`login` helps).
            RateLimited, BadRequest, Busy, Unavailable, Internal.
            ConnectionLost, Timeout: no answer; a session may have started
                and the code may be used up.
        """
        fields = proto.with_optional({"challenge": challenge, "code": code}, client_addr=client_addr)
        return Session.from_reply(self.call("login_second_factor", fields, timeout=timeout))

    # -- passkeys (docs/protocol.md, "Passkeys (WebAuthn)") ----------------
    #
    # The options go to the browser and the credential comes back from it
    # as the WebAuthn JSON forms, unchanged: plain dicts, binary members
    # base64url without padding. A node without --webauthn-rp-id answers
    # all six with Unavailable (the message names the option). A failed
    # sign-in is InvalidCredentials, late on purpose like a wrong
    # password. None of them is resent after a lost connection.

    def passkey_register_begin(
        self,
        token: str,
        name: Optional[str] = None,
        *,
        timeout: Optional[float] = None,
    ) -> dict[str, Any]:
        """Start registering a new passkey for the account of ``token``.

        Args:
            token: A live session token of the account.
            name: What to call the passkey (at most 64 bytes), for its
                owner to tell their passkeys apart; the node's default
                (``"Passkey"``) if ``None``.
            timeout: Seconds to wait; default ``timeout``.

        Returns:
            The ``PublicKeyCredentialCreationOptionsJSON`` (``rp``, ``user``,
            ``challenge``, ``pubKeyCredParams``, ``timeout``,
            ``excludeCredentials``, ``authenticatorSelection``,
            ``attestation``) as a plain ``dict``: hand it to the browser
            unchanged (``PublicKeyCredential.parseCreationOptionsFromJSON``
            and ``navigator.credentials.create``), and what the browser
            makes of it to :meth:`passkey_register_finish`. Its challenge
            lasts 5 minutes.

        Raises:
            InvalidToken, BadRequest (the name is too long), Unavailable
            (also: no ``--webauthn-rp-id``), Internal.
        """
        fields = proto.with_optional({"token": token}, name=name)
        reply = self.call("passkey_register_begin", fields, timeout=timeout)
        return proto.options_of(reply, "passkey_register_begin")

    def passkey_register_finish(
        self,
        token: str,
        credential: Mapping[str, Any],
        *,
        timeout: Optional[float] = None,
    ) -> Passkey:
        """Register the passkey the browser made from the options of
        :meth:`passkey_register_begin`.

        Args:
            token: A live session token of the same account.
            credential: The browser's ``RegistrationResponseJSON``
                (``navigator.credentials.create(...)`` then ``.toJSON()``:
                ``id``, ``rawId``, ``type``, ``response`` with
                ``clientDataJSON`` and ``attestationObject``), as received.
            timeout: Seconds to wait; default ``timeout``.

        Returns:
            The new passkey.

        Raises:
            PasskeyRefused: The credential does not verify (``message``
                names the check, e.g. ``wrong_origin``), or its challenge
                is not a live one of this account.
            Conflict: That credential is registered already.
            InvalidToken, BadRequest (``credential`` is not a
            RegistrationResponseJSON), Unavailable, Internal.
            ConnectionLost, Timeout: no answer; the passkey may be
                registered (see :meth:`passkeys_list`).
        """
        fields = {"token": token, "credential": dict(credential)}
        reply = self.call("passkey_register_finish", fields, timeout=timeout)
        return Passkey.from_json(reply.get("passkey"))

    def passkey_login_begin(
        self,
        email: Optional[str] = None,
        *,
        client_addr: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> PasskeyLoginOptions:
        """Start a passkey sign-in.

        Args:
            email: The address the user typed, if any: the options then
                list that account's passkeys. Without it the browser offers
                whichever passkeys it holds for the site (discoverable
                credentials). An email without an account or without
                passkeys gets a made-up id, the same each time, so the
                answer tells nothing about the account.
            client_addr: The end user's address, for trusted callers (see
                :meth:`login`).
            timeout: Seconds to wait; default ``timeout``.

        Returns:
            The ``challenge_id`` for :meth:`passkey_login_finish` and the
            ``options`` (``PublicKeyCredentialRequestOptionsJSON``, a plain
            ``dict``) for the browser's ``navigator.credentials.get``.

        Raises:
            BadRequest, Unavailable (also: no ``--webauthn-rp-id``),
            Internal.
        """
        fields = proto.with_optional({}, email=email, client_addr=client_addr)
        return PasskeyLoginOptions.from_reply(self.call("passkey_login_begin", fields, timeout=timeout))

    def passkey_login_finish(
        self,
        challenge_id: str,
        credential: Mapping[str, Any],
        *,
        client_addr: Optional[str] = None,
        device_token: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> Session:
        """Finish a passkey sign-in with the browser's answer to the options
        of :meth:`passkey_login_begin`, and start a session.

        Args:
            challenge_id: The ``challenge_id`` of the begin.
            credential: The browser's ``AuthenticationResponseJSON``
                (``navigator.credentials.get(...)`` then ``.toJSON()``:
                ``id``, ``rawId``, ``type``, ``response`` with
                ``clientDataJSON``, ``authenticatorData``, ``signature``
                and ``userHandle``), as received.
            client_addr: The end user's address, for trusted callers (see
                :meth:`login`): failed sign-ins are throttled on it.
            device_token: As for :meth:`login`: the ``device_token`` an
                earlier sign-in (with a password or a passkey) on this device
                returned. It exempts this sign-in from the penalties that
                others' forged assertions earn the account.
            timeout: Seconds to wait; default ``auth_timeout``.

        Returns:
            The session, as :meth:`login` returns it (``password_breached``
            false: no password was used; ``device_token`` set when no valid
            one was presented).

        Raises:
            InvalidCredentials (late): the assertion failed: the challenge
                is unknown, expired or used, the credential unknown or not
                the begin's account's, the signature bad, the counter gone
                back, or the account disabled. One answer for all.
            SecondFactorRequired: The account has TOTP on and the passkey
                did not verify the user (no PIN or fingerprint): finish
                with :meth:`login_second_factor`, as after a password.
            EmailNotVerified, RateLimited (with ``retry_after_ms``),
            BadRequest, Busy, Unavailable, Internal.
            ConnectionLost, Timeout: no answer; a session may have started
                and the challenge may be used up.
        """
        fields = proto.with_optional(
            {"challenge_id": challenge_id, "credential": dict(credential)},
            client_addr=client_addr,
            device_token=device_token,
        )
        return Session.from_reply(self.call("passkey_login_finish", fields, timeout=timeout))

    def passkeys_list(self, token: str, *, timeout: Optional[float] = None) -> list[Passkey]:
        """The passkeys of the account of ``token``, oldest first.

        Raises:
            InvalidToken, Unavailable (also: no ``--webauthn-rp-id``),
            Internal.
        """
        reply = self.call("passkeys_list", {"token": token}, timeout=timeout)
        return Passkey.list_from_json(reply.get("passkeys"))

    def passkey_delete(self, token: str, passkey_id: str, *, timeout: Optional[float] = None) -> None:
        """Delete a passkey of the account of ``token``; it signs in no
        more.

        Args:
            token: A live session token of the account.
            passkey_id: The passkey's :attr:`~authnode.Passkey.id`.
            timeout: Seconds to wait; default ``timeout``.

        Raises:
            NoSuchPasskey: The account has no passkey with that id.
            InvalidToken, BadRequest, Unavailable, Internal.
            ConnectionLost, Timeout: no answer; the passkey may be gone (a
                second delete then raises NoSuchPasskey).
        """
        self.call("passkey_delete", {"token": token, "passkey_id": passkey_id}, timeout=timeout)

    # -- the generic call ------------------------------------------------

    def call(
        self,
        op: str,
        fields: Optional[Mapping[str, Any]] = None,
        *,
        timeout: Optional[float] = None,
        retry: Optional[bool] = None,
    ) -> Mapping[str, Any]:
        """Send any operation and return its raw successful reply.

        For operations this version of the client has no method for. The
        reply object is returned as received (``id`` and ``ok`` included).

        Args:
            op: The operation name.
            fields: Its fields (must not contain ``id`` or ``op``).
            timeout: Seconds to wait; default per operation (see the class).
            retry: Resend once after a lost connection. Default: only for
                ``ping``, ``whoami`` and ``stats`` (and only if
                ``retry_idempotent``). Pass ``True`` only for operations that
                change nothing.

        Raises:
            AuthnodeError: The node answered ``"ok": false`` (a subclass per
                code).
            ConnectionLost, Timeout, ConnectFailed: no answer.
        """
        call = proto.Call(op, fields, self, timeout=timeout, retry=retry)
        while True:
            req_id = next(self._ids)
            line = call.line(req_id)
            conn = self._connection(call.deadline)
            try:
                reply = conn.request(req_id, op, line, call.deadline, call.timeout)
            except ConnectionLost as e:
                if call.resend_after(e):
                    continue
                raise
            return proto.check_reply(reply, op)

    # -- connections -----------------------------------------------------

    def _connection(self, deadline: float) -> _Connection:
        """The open connection, after (re)connecting if it is closed, broken,
        or idle long enough that the node may be closing it."""
        with self._conn_lock:
            if self._closed:
                raise ConnectionLost("the client is closed", sent=False)
            conn = self._conn
            if conn is not None and not conn.closed:
                if not proto.too_idle(self.max_idle, conn.waiting, conn.idle_for()):
                    return conn
            if conn is not None:
                conn.close()
                self._conn = None
            self._conn = self._open(deadline)
            return self._conn

    def _open(self, deadline: float) -> _Connection:
        limit = min(self.connect_timeout, deadline - time.monotonic())
        if limit <= 0:
            raise Timeout("no time left to connect", timeout=self.connect_timeout)
        try:
            sock = socket.create_connection(
                (self.host, self.port), timeout=limit, source_address=self.source_address
            )
        except OSError as e:
            raise ConnectFailed(f"cannot connect to {self.host}:{self.port}: {e}") from e
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return _Connection(sock, f"{self.host}:{self.port}")

