"""The asyncio client: a small pool of pipelined connections.

Each connection has one reader task that reads reply lines and resolves
the future registered under the reply's ``id``; any number of coroutines
send on it at once. A call picks the open connection with the fewest
requests in flight.

Why a pool when one connection already pipelines: the node works on at
most ``--max-in-flight`` (8) requests of one connection at a time and
stops reading that connection meanwhile, so one busy application would
queue its quick requests behind its slow ones. A few connections spread
that; more than a handful buy nothing.

Lost connections follow the same policy as the sync client (one copy of
it, in ``_protocol.py``): requests in flight fail with
:class:`~authnode.ConnectionLost`, only ``ping``, ``whoami`` and ``stats``
are resent (once), and broken connections of the pool are replaced by the
next calls.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any, Generator, Mapping, Optional

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

__all__ = ["AsyncClient"]


class _AsyncConnection:
    """One TCP connection with its reader task."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: str) -> None:
        self._reader = reader
        self._writer = writer
        self._peer = peer
        self._pending: dict[int, tuple[str, asyncio.Future[dict[str, Any]]]] = {}
        self._closed = False
        self._refusal: Optional[AuthnodeError] = None
        self.last_activity = time.monotonic()
        self._task = asyncio.get_running_loop().create_task(self._read_loop())

    @property
    def closed(self) -> bool:
        return self._closed or self._writer.transport.is_closing()

    @property
    def in_flight(self) -> int:
        return len(self._pending)

    def idle_for(self) -> float:
        return time.monotonic() - self.last_activity

    async def request(self, req_id: int, op: str, line: bytes, deadline: float, timeout: float) -> dict[str, Any]:
        """Send ``line`` and wait for the reply with ``req_id``."""
        if self.closed:
            raise self._gone_error(op)
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[req_id] = (op, fut)
        # The transport takes the whole line at once: it is either sent
        # whole or the connection breaks, never left half written.
        self._writer.write(line)
        self.last_activity = time.monotonic()
        try:
            async with asyncio.timeout_at(_loop_time(deadline)):
                await self._writer.drain()
                return await fut
        except Error:
            raise  # the reader failed this request (lost, refused, Timeout never)
        except TimeoutError:
            self._pending.pop(req_id, None)
            if fut.done() and not fut.cancelled():
                return fut.result()
            raise Timeout(f"{op}: no reply within {timeout:g} s", op=op, timeout=timeout) from None
        except ConnectionError as e:
            # drain() found the connection gone; the reader task fails the
            # rest. Our line may have left before that.
            self._pending.pop(req_id, None)
            self._shut(ConnectionLost(f"connection to {self._peer} lost: {e}"))
            raise ConnectionLost(f"{op}: connection to {self._peer} lost: {e}", op=op, sent=True) from e
        finally:
            # Cancelled by the caller, or done: forget it either way.
            self._pending.pop(req_id, None)

    def _gone_error(self, op: str) -> Error:
        return proto.not_sent(self._refusal, self._peer, op)

    async def _read_loop(self) -> None:
        reason: Error = ConnectionLost(f"connection to {self._peer} closed by the node")
        try:
            while True:
                try:
                    line = await self._reader.readuntil(b"\n")
                except asyncio.IncompleteReadError:
                    break  # EOF, maybe after an unfinished line
                except asyncio.LimitOverrunError:
                    raise ProtocolError("the node sent a line longer than any reply") from None
                self._dispatch(line[:-1])
        except ProtocolError as e:
            reason = e
        except OSError as e:
            reason = ConnectionLost(f"connection to {self._peer} lost: {e}")
        except asyncio.CancelledError:
            reason = ConnectionLost("the client was closed")
        except Exception as e:  # noqa: BLE001 - a bug here must not hang callers
            reason = ConnectionLost(f"reader of {self._peer} failed: {e!r}")
        self._shut(reason)

    def _dispatch(self, line: bytes) -> None:
        self.last_activity = time.monotonic()
        reply = proto.decode_reply(line)
        rid = proto.reply_id(reply)
        if rid is not None:
            entry = self._pending.pop(rid, None)
            if entry is not None and not entry[1].done():
                entry[1].set_result(reply)
            return
        self._connection_wide(reply)

    def _connection_wide(self, reply: dict[str, Any]) -> None:
        """A reply without ``id``: see the sync client's namesake."""
        error = error_from_reply(reply)
        if error.code == "busy":
            self._refusal = error
            self._closed = True
            pending, self._pending = self._pending, {}
            for op, fut in pending.values():
                if not fut.done():
                    fut.set_exception(proto.refusal_for(error, op))
            return
        if len(self._pending) == 1:
            rid, (op, fut) = next(iter(self._pending.items()))
            del self._pending[rid]
            if not fut.done():
                fut.set_exception(proto.refusal_for(error, op))
            return
        if isinstance(error, LineTooLong):
            self._shut(ConnectionLost(
                f"the node refused a line as too long and closed the connection: {error.message}"
            ))

    def _shut(self, reason: Error) -> None:
        self._closed = True
        pending, self._pending = self._pending, {}
        for op, fut in pending.values():
            if not fut.done():
                fut.set_exception(proto.lost_for(reason, op))
        self._writer.close()

    async def close(self) -> None:
        self._shut(ConnectionLost("the client was closed"))
        self._task.cancel()
        try:
            await asyncio.wait_for(self._writer.wait_closed(), 5.0)
        except (OSError, TimeoutError):
            pass
        try:
            await self._task
        except asyncio.CancelledError:
            pass


def _loop_time(deadline: float) -> float:
    """A ``time.monotonic()`` deadline on the event loop's clock."""
    loop = asyncio.get_running_loop()
    return loop.time() + (deadline - time.monotonic())


class _Connecting:
    """What :meth:`AsyncClient.connect` returns: await it for a client, or
    use it in ``async with`` to have the client closed at the end."""

    def __init__(self, client: "AsyncClient") -> None:
        self._client = client

    def __await__(self) -> Generator[Any, None, "AsyncClient"]:
        return self._open().__await__()

    async def _open(self) -> "AsyncClient":
        await self._client._fill()
        return self._client

    async def __aenter__(self) -> "AsyncClient":
        return await self._open()

    async def __aexit__(self, *exc: object) -> None:
        await self._client.close()


class AsyncClient:
    """An asyncio client for one authnode node, with a small connection pool.

    Example::

        async with authnode.AsyncClient.connect("127.0.0.1", 7411) as c:
            session = await c.login("ann@example.org", "correct horse")
            user = await c.whoami(session.token)

    or ``c = await AsyncClient.connect(...)`` and later ``await c.close()``.

    **Two ways to make one.** :meth:`connect` opens the pool at once and
    raises :class:`~authnode.ConnectFailed` if the node cannot be reached.
    The constructor, ``AsyncClient(host, port, ...)``, opens nothing and
    needs no running event loop: the first call connects (and raises
    :class:`~authnode.ConnectFailed` while the node is down, nothing sent),
    the pool fills behind it, and later calls reconnect as needed. That is
    the sync ``Client(..., connect=False)``; use it where the application
    must start before the node does (a web app's startup hook). Either way,
    ``await c.close()`` at the end.

    Any number of coroutines may call at once; requests are pipelined over
    ``pool_size`` connections (the least busy open one is used) and replies
    matched by ``id``, so a login the node holds back does not delay
    anything else.

    Timeouts, retries and reconnects are as in :class:`authnode.Client`:
    ``timeout`` (10 s) for quick operations, ``auth_timeout`` (90 s) for
    ``register``, ``login`` and ``change_password`` (a failed login is
    answered after the node's ``--failure-delay``, a penalized one up to
    ``--max-penalty`` later); after a lost connection only ``ping``,
    ``whoami`` and ``stats`` are resent, once; broken connections of the
    pool are replaced on the next calls. Cancelling a call stops the wait,
    not the request: the node still carries it out.

    The arguments are those of :class:`authnode.Client` (but ``connect``),
    plus ``pool_size`` (default 2).
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        pool_size: int = 2,
        timeout: float = proto.DEFAULT_TIMEOUT,
        auth_timeout: float = proto.DEFAULT_AUTH_TIMEOUT,
        connect_timeout: float = proto.DEFAULT_CONNECT_TIMEOUT,
        retry_idempotent: bool = True,
        max_idle: Optional[float] = proto.DEFAULT_MAX_IDLE,
        max_line: int = proto.DEFAULT_MAX_LINE,
        source_address: Optional[tuple[str, int]] = None,
    ) -> None:
        if pool_size < 1:
            raise ValueError("pool_size must be at least 1")
        self.host = host
        self.port = port
        self.pool_size = pool_size
        self.timeout = timeout
        self.auth_timeout = auth_timeout
        self.connect_timeout = connect_timeout
        self.retry_idempotent = retry_idempotent
        self.max_idle = max_idle
        self.max_line = max_line
        self.source_address = source_address
        self._ids = itertools.count(1)
        self._slots: list[Optional[_AsyncConnection]] = [None] * pool_size
        self._connect_lock: Optional[asyncio.Lock] = None
        self._refill_task: Optional[asyncio.Task[None]] = None
        self._closed = False

    @classmethod
    def connect(
        cls,
        host: str,
        port: int,
        *,
        pool_size: int = 2,
        timeout: float = proto.DEFAULT_TIMEOUT,
        auth_timeout: float = proto.DEFAULT_AUTH_TIMEOUT,
        connect_timeout: float = proto.DEFAULT_CONNECT_TIMEOUT,
        retry_idempotent: bool = True,
        max_idle: Optional[float] = proto.DEFAULT_MAX_IDLE,
        max_line: int = proto.DEFAULT_MAX_LINE,
        source_address: Optional[tuple[str, int]] = None,
    ) -> _Connecting:
        """Open ``pool_size`` connections to the node.

        ``await AsyncClient.connect(host, port)`` returns the client;
        ``async with AsyncClient.connect(host, port) as c:`` also closes it
        at the end. The other arguments are those of
        :class:`authnode.Client`, plus ``pool_size`` (default 2).

        Raises:
            ConnectFailed: A connection could not be opened.
        """
        return _Connecting(
            cls(
                host,
                port,
                pool_size=pool_size,
                timeout=timeout,
                auth_timeout=auth_timeout,
                connect_timeout=connect_timeout,
                retry_idempotent=retry_idempotent,
                max_idle=max_idle,
                max_line=max_line,
                source_address=source_address,
            )
        )

    # -- lifecycle -------------------------------------------------------

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close every connection. Requests in flight fail with
        :class:`~authnode.ConnectionLost`; later calls raise it too."""
        self._closed = True
        if self._refill_task is not None:
            self._refill_task.cancel()
        slots, self._slots = self._slots, [None] * self.pool_size
        await asyncio.gather(*(c.close() for c in slots if c is not None))

    @property
    def in_flight(self) -> int:
        """Requests sent and not answered yet, over all connections."""
        return sum(c.in_flight for c in self._slots if c is not None)

    @property
    def open_connections(self) -> int:
        """Connections of the pool that are open now."""
        return sum(1 for c in self._slots if c is not None and not c.closed)

    # -- operations ------------------------------------------------------

    async def ping(self, *, timeout: Optional[float] = None) -> None:
        """Check that the node answers. Retried once after a lost
        connection."""
        await self.call("ping", timeout=timeout)

    async def register(
        self,
        email: str,
        password: str,
        name: str,
        *,
        client_addr: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> User:
        """Create an account and return it; see :meth:`authnode.Client.register`."""
        fields = proto.with_optional(
            {"email": email, "password": password, "name": name}, client_addr=client_addr
        )
        return User.from_json((await self.call("register", fields, timeout=timeout))["user"])

    async def login(
        self,
        email: str,
        password: str,
        *,
        device_token: Optional[str] = None,
        client_addr: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> Session:
        """Check an email and password and start a session; see
        :meth:`authnode.Client.login`. A wrong password raises
        :class:`~authnode.InvalidCredentials` after the node's
        ``--failure-delay``; the right one of an account with TOTP on,
        :class:`~authnode.SecondFactorRequired` (then
        :meth:`login_second_factor`)."""
        fields = proto.with_optional(
            {"email": email, "password": password},
            device_token=device_token,
            client_addr=client_addr,
        )
        return Session.from_reply(await self.call("login", fields, timeout=timeout))

    async def whoami(self, token: str, *, timeout: Optional[float] = None) -> User:
        """Return the account of a session token (:class:`~authnode.InvalidToken`
        if it is not live). Retried once after a lost connection."""
        return User.from_json((await self.call("whoami", {"token": token}, timeout=timeout))["user"])

    async def logout(self, token: str, *, timeout: Optional[float] = None) -> None:
        """End the session of ``token``; never resent after a lost
        connection."""
        await self.call("logout", {"token": token}, timeout=timeout)

    async def change_password(
        self,
        token: str,
        old_password: str,
        new_password: str,
        *,
        client_addr: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> None:
        """Set a new password and revoke the account's other sessions; see
        :meth:`authnode.Client.change_password`."""
        fields = proto.with_optional(
            {"token": token, "old_password": old_password, "new_password": new_password},
            client_addr=client_addr,
        )
        await self.call("change_password", fields, timeout=timeout)

    async def stats(self, *, timeout: Optional[float] = None) -> Stats:
        """Return the node's counters. Retried once after a lost
        connection."""
        return Stats.from_json((await self.call("stats", timeout=timeout))["stats"])

    # -- account codes: see authnode.Client --------------------------------

    async def recovery_start(
        self,
        email: str,
        *,
        client_addr: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> None:
        """Mail a recovery code to ``email`` if an account has it; see
        :meth:`authnode.Client.recovery_start`."""
        fields = proto.with_optional({"email": email}, client_addr=client_addr)
        await self.call("recovery_start", fields, timeout=timeout)

    async def recovery_finish(
        self,
        email: str,
        code: str,
        new_password: str,
        *,
        client_addr: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> Session:
        """Set a new password with a recovery code and log in; see
        :meth:`authnode.Client.recovery_finish`. A wrong code raises
        :class:`~authnode.InvalidCode` after the node's
        ``--failure-delay``; an account with TOTP on,
        :class:`~authnode.SecondFactorRequired` (the password is set all the
        same)."""
        fields = proto.with_optional(
            {"email": email, "code": code, "new_password": new_password}, client_addr=client_addr
        )
        return Session.from_reply(await self.call("recovery_finish", fields, timeout=timeout))

    async def verify_email_start(self, token: str, *, timeout: Optional[float] = None) -> bool:
        """Mail a verification code; whether one was sent (``False``: the
        address is verified already). See
        :meth:`authnode.Client.verify_email_start`."""
        return proto.sent_of(await self.call("verify_email_start", {"token": token}, timeout=timeout))

    async def verify_email_finish(
        self,
        token: str,
        code: str,
        *,
        client_addr: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> User:
        """Prove the address with a verification code; the account, now
        verified. See :meth:`authnode.Client.verify_email_finish`."""
        fields = proto.with_optional({"token": token, "code": code}, client_addr=client_addr)
        reply = await self.call("verify_email_finish", fields, timeout=timeout)
        return User.from_json(reply["user"])

    async def change_email_start(
        self,
        token: str,
        password: str,
        new_email: str,
        *,
        client_addr: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> None:
        """Ask to move the account to ``new_email`` (the password asked
        again); see :meth:`authnode.Client.change_email_start`."""
        fields = proto.with_optional(
            {"token": token, "password": password, "new_email": new_email}, client_addr=client_addr
        )
        await self.call("change_email_start", fields, timeout=timeout)

    async def change_email_finish(
        self,
        token: str,
        code: str,
        *,
        client_addr: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> User:
        """Move the account to the new address with the code mailed there;
        see :meth:`authnode.Client.change_email_finish`."""
        fields = proto.with_optional({"token": token, "code": code}, client_addr=client_addr)
        reply = await self.call("change_email_finish", fields, timeout=timeout)
        return User.from_json(reply["user"])

    # -- the second factor: see authnode.Client ----------------------------

    async def totp_setup(self, token: str, *, timeout: Optional[float] = None) -> TotpSetup:
        """A new TOTP seed, pending until :meth:`totp_enable`; see
        :meth:`authnode.Client.totp_setup`."""
        return TotpSetup.from_reply(await self.call("totp_setup", {"token": token}, timeout=timeout))

    async def totp_enable(
        self,
        token: str,
        code: str,
        *,
        client_addr: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> list[str]:
        """Turn TOTP on with a code of the pending seed; the ten recovery
        codes, shown this once. See :meth:`authnode.Client.totp_enable`."""
        fields = proto.with_optional({"token": token, "code": code}, client_addr=client_addr)
        reply = await self.call("totp_enable", fields, timeout=timeout)
        return proto.recovery_codes_of(reply, "totp_enable")

    async def totp_disable(
        self,
        token: str,
        password: str,
        code: str,
        *,
        client_addr: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> None:
        """Turn TOTP off (the password and a code asked again); see
        :meth:`authnode.Client.totp_disable`."""
        fields = proto.with_optional(
            {"token": token, "password": password, "code": code}, client_addr=client_addr
        )
        await self.call("totp_disable", fields, timeout=timeout)

    async def recovery_codes_renew(
        self,
        token: str,
        code: str,
        *,
        client_addr: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> list[str]:
        """Ten new recovery codes for a TOTP or recovery code; the old ones
        stop working. See :meth:`authnode.Client.recovery_codes_renew`."""
        fields = proto.with_optional({"token": token, "code": code}, client_addr=client_addr)
        reply = await self.call("recovery_codes_renew", fields, timeout=timeout)
        return proto.recovery_codes_of(reply, "recovery_codes_renew")

    async def login_second_factor(
        self,
        challenge: str,
        code: str,
        *,
        client_addr: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> Session:
        """The second step of a login that raised
        :class:`~authnode.SecondFactorRequired`; see
        :meth:`authnode.Client.login_second_factor`. A wrong code raises
        :class:`~authnode.InvalidCode` after the node's
        ``--failure-delay``."""
        fields = proto.with_optional({"challenge": challenge, "code": code}, client_addr=client_addr)
        return Session.from_reply(await self.call("login_second_factor", fields, timeout=timeout))

    # -- passkeys: see authnode.Client -------------------------------------

    async def passkey_register_begin(
        self,
        token: str,
        name: Optional[str] = None,
        *,
        timeout: Optional[float] = None,
    ) -> dict[str, Any]:
        """The creation options (a plain ``dict``, for the browser
        unchanged) of a new passkey named ``name``; see
        :meth:`authnode.Client.passkey_register_begin`."""
        fields = proto.with_optional({"token": token}, name=name)
        reply = await self.call("passkey_register_begin", fields, timeout=timeout)
        return proto.options_of(reply, "passkey_register_begin")

    async def passkey_register_finish(
        self,
        token: str,
        credential: Mapping[str, Any],
        *,
        timeout: Optional[float] = None,
    ) -> Passkey:
        """Register the browser's ``RegistrationResponseJSON``; the new
        :class:`~authnode.Passkey`, or :class:`~authnode.PasskeyRefused`.
        See :meth:`authnode.Client.passkey_register_finish`."""
        fields = {"token": token, "credential": dict(credential)}
        reply = await self.call("passkey_register_finish", fields, timeout=timeout)
        return Passkey.from_json(reply.get("passkey"))

    async def passkey_login_begin(
        self,
        email: Optional[str] = None,
        *,
        client_addr: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> PasskeyLoginOptions:
        """The ``challenge_id`` and request options of a passkey sign-in
        (of ``email``'s passkeys, or of any the browser holds); see
        :meth:`authnode.Client.passkey_login_begin`."""
        fields = proto.with_optional({}, email=email, client_addr=client_addr)
        return PasskeyLoginOptions.from_reply(await self.call("passkey_login_begin", fields, timeout=timeout))

    async def passkey_login_finish(
        self,
        challenge_id: str,
        credential: Mapping[str, Any],
        *,
        client_addr: Optional[str] = None,
        device_token: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> Session:
        """The session of a passkey sign-in, from the browser's
        ``AuthenticationResponseJSON``; a failed one raises
        :class:`~authnode.InvalidCredentials` after the node's
        ``--failure-delay``. See :meth:`authnode.Client.passkey_login_finish`."""
        fields = proto.with_optional(
            {"challenge_id": challenge_id, "credential": dict(credential)},
            client_addr=client_addr,
            device_token=device_token,
        )
        return Session.from_reply(await self.call("passkey_login_finish", fields, timeout=timeout))

    async def passkeys_list(self, token: str, *, timeout: Optional[float] = None) -> list[Passkey]:
        """The account's passkeys, oldest first; see
        :meth:`authnode.Client.passkeys_list`."""
        reply = await self.call("passkeys_list", {"token": token}, timeout=timeout)
        return Passkey.list_from_json(reply.get("passkeys"))

    async def passkey_delete(self, token: str, passkey_id: str, *, timeout: Optional[float] = None) -> None:
        """Delete one of the account's passkeys
        (:class:`~authnode.NoSuchPasskey` if it has none with that id); see
        :meth:`authnode.Client.passkey_delete`."""
        await self.call("passkey_delete", {"token": token, "passkey_id": passkey_id}, timeout=timeout)

    async def call(
        self,
        op: str,
        fields: Optional[Mapping[str, Any]] = None,
        *,
        timeout: Optional[float] = None,
        retry: Optional[bool] = None,
    ) -> Mapping[str, Any]:
        """Send any operation and return its raw successful reply; see
        :meth:`authnode.Client.call`."""
        call = proto.Call(op, fields, self, timeout=timeout, retry=retry)
        while True:
            req_id = next(self._ids)
            line = call.line(req_id)
            conn = await self._connection(call.deadline)
            try:
                reply = await conn.request(req_id, op, line, call.deadline, call.timeout)
            except ConnectionLost as e:
                if call.resend_after(e):
                    continue
                raise
            return proto.check_reply(reply, op)

    # -- the pool --------------------------------------------------------

    def _usable(self, conn: Optional[_AsyncConnection]) -> bool:
        if conn is None or conn.closed:
            return False
        return not proto.too_idle(self.max_idle, conn.in_flight, conn.idle_for())

    def _live(self) -> list[_AsyncConnection]:
        return [c for c in self._slots if c is not None and self._usable(c)]

    async def _connection(self, deadline: float) -> _AsyncConnection:
        """The least busy usable connection. With none, open one now; broken
        slots beyond that are refilled in the background."""
        if self._closed:
            raise ConnectionLost("the client is closed", sent=False)
        live = self._live()
        if not live:
            async with self._lock():
                live = self._live()
                if not live:
                    live = [await self._replace(self._first_unusable(), deadline)]
        if len(live) < self.pool_size:
            self._start_refill()
        return min(live, key=lambda c: c.in_flight)

    def _lock(self) -> asyncio.Lock:
        if self._connect_lock is None:
            self._connect_lock = asyncio.Lock()
        return self._connect_lock

    def _first_unusable(self) -> int:
        for i, c in enumerate(self._slots):
            if not self._usable(c):
                return i
        raise AssertionError("no unusable slot")

    async def _replace(self, slot: int, deadline: float) -> _AsyncConnection:
        old = self._slots[slot]
        self._slots[slot] = None
        if old is not None:
            await old.close()
        conn = await self._open(deadline)
        if self._closed:
            await conn.close()
            raise ConnectionLost("the client is closed", sent=False)
        self._slots[slot] = conn
        return conn

    def _start_refill(self) -> None:
        if self._refill_task is None or self._refill_task.done():
            self._refill_task = asyncio.get_running_loop().create_task(self._refill())

    async def _refill(self) -> None:
        """Reopen broken slots while others serve; failures are left for a
        later call to find."""
        async with self._lock():
            for i in range(self.pool_size):
                if self._closed:
                    return
                if not self._usable(self._slots[i]):
                    try:
                        await self._replace(i, time.monotonic() + self.connect_timeout)
                    except (ConnectFailed, Timeout, ConnectionLost):
                        return

    async def _fill(self) -> None:
        """Open every slot (used by :meth:`connect`)."""
        try:
            async with self._lock():
                for i in range(self.pool_size):
                    await self._replace(i, time.monotonic() + self.connect_timeout)
        except BaseException:
            await self.close()
            raise

    async def _open(self, deadline: float) -> _AsyncConnection:
        limit = min(self.connect_timeout, deadline - time.monotonic())
        if limit <= 0:
            raise Timeout("no time left to connect", timeout=self.connect_timeout)
        try:
            async with asyncio.timeout(limit):
                reader, writer = await asyncio.open_connection(
                    self.host,
                    self.port,
                    limit=proto.MAX_REPLY_BYTES,
                    local_addr=self.source_address,
                )
        except TimeoutError:
            raise ConnectFailed(f"cannot connect to {self.host}:{self.port}: timed out") from None
        except OSError as e:
            raise ConnectFailed(f"cannot connect to {self.host}:{self.port}: {e}") from e
        return _AsyncConnection(reader, writer, f"{self.host}:{self.port}")
