"""Test support: a real node started by the test, a fake node, raw lines.

Every node runs on an ephemeral port (``--port=0``, the port read from its
``listening on HOST:PORT`` log line) with the lowest hash cost, a database
in a temporary directory and no audit log. The binary is
``$AUTHNODE_BINARY``, by default ``build/authnode`` of this repository.

A node may also play one role of a cluster (``Node(role=...)``, see
docs/deployment.md): a storage or hasher node listens only for other nodes
(``--node-port=0``, read from its ``node port on HOST:PORT`` line); a
gateway serves clients like a whole node and is ready once it has logged
its links to the storage node and the hasher nodes it was given.
:class:`Cluster` starts a storage node, a hasher node and gateways.

:class:`SmtpSink` is an SMTP server on loopback for nodes that mail
(the account codes). :class:`Authenticator` is an authenticator app for
the second-factor tests; :class:`PasskeyAuthenticator` a passkey
authenticator and browser for the passkey tests.

Every wait here is bounded in time; nothing polls without a deadline.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
from pathlib import Path
from typing import Any, Callable, Optional

REPO = Path(__file__).resolve().parents[3]
BINARY = Path(os.environ.get("AUTHNODE_BINARY", REPO / "build" / "authnode"))

#: The options every test node gets (docs/configuration.md).
BASE_OPTIONS = [
    "--hash-ops=1",
    "--hash-mem=8192",
    "--failure-delay=300ms",
    "--audit=off",
]

FAILURE_DELAY = 0.3

_LISTEN = re.compile(r"listening on (\S+):(\d+) ")
_ADMIN = re.compile(r"admin channel on (\S+):(\d+) ")
_NODE_PORT = re.compile(r"node port on (\S+):(\d+) ")

#: The values of ``--role``; "all" is one process doing everything.
ROLES = ("all", "storage", "hasher", "gateway")

_emails = itertools.count(1)


def unique_email(prefix: str = "user") -> str:
    """An address no other test of this run uses."""
    return f"{prefix}-{os.getpid()}-{next(_emails)}@example.org"


class Node:
    """A real authnode process.

    ``Node(["--throttle=off"])`` starts one; :meth:`stop` sends SIGTERM and
    waits; :meth:`start` again reuses the same port and database.

    ``role`` is the node's ``--role``. A storage or hasher node has no
    client port: its ``node_port`` is what gateways are given
    (:attr:`node_address`). A gateway needs ``--storage=`` (and maybe
    ``--hasher-nodes=``) in ``options``; :meth:`start` returns once it is
    linked to them.
    """

    def __init__(
        self, options: Optional[list[str]] = None, *, start: bool = True, role: str = "all"
    ) -> None:
        if not BINARY.exists():
            raise RuntimeError(f"no node binary at {BINARY}: build it, or set AUTHNODE_BINARY")
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}")
        self.role = role
        self.options = list(options or [])
        self._tmp = tempfile.TemporaryDirectory(prefix="authnode-py-")
        self.dir = Path(self._tmp.name)
        self.db = self.dir / "auth.db"
        self.host = "127.0.0.1"
        self.port = 0
        self.admin_port = 0
        self.node_port = 0
        self.proc: Optional[subprocess.Popen[bytes]] = None
        self._log: list[str] = []
        self._log_cond = threading.Condition()
        if start:
            self.start()

    # -- process ---------------------------------------------------------

    def start(self, timeout: float = 10.0) -> None:
        """Start the node (on the ports it had before, if any) and wait until
        it listens (a gateway: until it is linked to its peers too)."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        args = [str(BINARY), *self._role_options(), *BASE_OPTIONS, *self.options]
        with self._log_cond:
            self._log = []
        self.proc = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        threading.Thread(target=self._drain, args=(self.proc,), daemon=True).start()
        if self.role in ("storage", "hasher"):
            found = _NODE_PORT.search(self.wait_log("node port on", timeout))
            assert found, self.log()
            self.node_port = int(found.group(2))
            return
        line = self.wait_log("admin channel on", timeout)
        admin = _ADMIN.search(line)
        listen = _LISTEN.search(self.wait_log("listening on", 0.1))
        assert listen and admin, self.log()
        self.port = int(listen.group(2))
        self.admin_port = int(admin.group(2))
        for text in self._links():
            self.wait_log(text, timeout)

    def _role_options(self) -> list[str]:
        """The role and the ports and files it takes."""
        role = [] if self.role == "all" else [f"--role={self.role}"]
        if self.role == "storage":
            return [*role, f"--node-port={self.node_port}", f"--db={self.db}"]
        if self.role == "hasher":
            return [*role, f"--node-port={self.node_port}"]
        # A gateway keeps no data; its --db only names its admin key file.
        return [*role, f"--port={self.port}", f"--admin-port={self.admin_port}", f"--db={self.db}"]

    def _links(self) -> list[str]:
        """The log lines that say a gateway is ready for requests."""
        if self.role != "gateway":
            return []
        links = ["linked to storage node"]
        if any(o.startswith("--hasher-nodes=") for o in self.options):
            links.append("linked to hasher node")
        return links

    @property
    def node_address(self) -> str:
        """``HOST:PORT`` of a storage or hasher node, for gateways."""
        assert self.node_port, "not a started storage or hasher node"
        return f"{self.host}:{self.node_port}"

    def _drain(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stderr is not None
        with proc.stderr:
            for raw in proc.stderr:
                with self._log_cond:
                    self._log.append(raw.decode("utf-8", "replace"))
                    self._log_cond.notify_all()
        with self._log_cond:
            self._log_cond.notify_all()

    def wait_log(self, text: str, timeout: float = 10.0) -> str:
        """The first log line (since the last start) containing ``text``;
        fails the test after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._log_cond:
            while True:
                for line in self._log:
                    if text in line:
                        return line
                remaining = deadline - time.monotonic()
                exited = self.proc is not None and self.proc.poll() is not None
                if remaining <= 0 or exited:
                    raise AssertionError(f"node never logged {text!r}; log:\n{''.join(self._log)}")
                self._log_cond.wait(min(remaining, 0.1))

    def log(self) -> str:
        with self._log_cond:
            return "".join(self._log)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        """Signal the node and wait for it to exit; its exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            raise AssertionError(f"node did not stop within {timeout} s; log:\n{self.log()}")

    def kill(self) -> None:
        """SIGKILL: a crash."""
        self.stop(signal.SIGKILL)

    def close(self) -> None:
        try:
            self.stop()
        finally:
            self._tmp.cleanup()

    @property
    def admin_key(self) -> str:
        return (self.dir / "auth.db.admin-key").read_text().strip()

    # -- clients ---------------------------------------------------------

    def raw(self, source: Optional[str] = None) -> "RawConnection":
        return RawConnection(self.host, self.port, source)


class RawConnection:
    """A plain socket speaking lines, for what the client never sends."""

    def __init__(self, host: str, port: int, source: Optional[str] = None) -> None:
        self.sock = socket.create_connection(
            (host, port), timeout=10, source_address=(source, 0) if source else None
        )
        self._buf = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send_json(self, obj: Any) -> None:
        self.send(json.dumps(obj).encode() + b"\n")

    def read(self, timeout: float = 5.0) -> Optional[dict[str, Any]]:
        """The next reply, or ``None`` if the node closed the connection."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buf:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError("no reply in time")
            self.sock.settimeout(remaining)
            chunk = self.sock.recv(65536)
            if not chunk:
                return None
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return json.loads(line)

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> "RawConnection":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class FakeNode:
    """A TCP server on an ephemeral port that runs ``handler(conn, index)``
    for each accepted connection (index counts from 0), for transport cases a
    real node does not produce on demand."""

    def __init__(self, handler: Callable[[socket.socket, int], None]) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.2)
        self.port = self._server.getsockname()[1]
        self._handler = handler
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.lines: list[dict[str, Any]] = []  # every request line received
        self._acceptor = threading.Thread(target=self._accept, daemon=True)
        self._acceptor.start()

    def _accept(self) -> None:
        index = 0
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            t = threading.Thread(target=self._run, args=(conn, index), daemon=True)
            index += 1
            self._threads.append(t)
            t.start()

    def _run(self, conn: socket.socket, index: int) -> None:
        with conn:
            try:
                self._handler(conn, index)
            except OSError:
                pass

    def close(self) -> None:
        self._stop.set()
        try:
            self._server.shutdown(socket.SHUT_RDWR)  # wakes accept() on Linux
        except OSError:
            pass
        self._server.close()
        self._acceptor.join(5)
        for t in self._threads:
            t.join(5)


def read_lines(conn: socket.socket, count: int, fake: Optional[FakeNode] = None, timeout: float = 5.0) -> list[dict[str, Any]]:
    """Read ``count`` request lines from ``conn`` (for fake node handlers)."""
    buf = b""
    out: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(out) < count:
        while b"\n" in buf and len(out) < count:
            line, buf = buf.split(b"\n", 1)
            obj = json.loads(line)
            out.append(obj)
            if fake is not None:
                fake.lines.append(obj)
        if len(out) >= count:
            break
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError("fake node: requests did not come")
        conn.settimeout(remaining)
        chunk = conn.recv(65536)
        if not chunk:
            raise OSError("client closed")
        buf += chunk
    return out


def write_json(conn: socket.socket, obj: Any) -> None:
    conn.sendall(json.dumps(obj).encode() + b"\n")


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0, step: float = 0.005) -> None:
    """Poll ``predicate`` until true; fails after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            raise AssertionError("condition not met in time")
        time.sleep(step)


class Cluster:
    """A storage node, a hasher node and ``gateways`` gateways, all on this
    machine. The gateways hash on the hasher node only (``--hashers=0``),
    so that every part of the cluster takes part in a login.

    ``cluster.gateways[i]`` are :class:`Node` objects with the client port;
    :meth:`close` stops everything and removes the files.
    """

    def __init__(self, gateways: int = 2, options: Optional[list[str]] = None) -> None:
        self.storage = Node(role="storage")
        self.hasher: Optional[Node] = None
        self.gateways: list[Node] = []
        try:
            self.hasher = Node(role="hasher")
            peers = [
                f"--storage={self.storage.node_address}",
                f"--hasher-nodes={self.hasher.node_address}",
                "--hashers=0",
            ]
            for _ in range(gateways):
                self.gateways.append(Node([*peers, *(options or [])], role="gateway"))
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Stop the gateways, the hasher and the storage node, in that order
        (SIGTERM; each must stop in time)."""
        errors: list[BaseException] = []
        for node in [*self.gateways, self.hasher, self.storage]:
            if node is None:
                continue
            try:
                node.close()
            except BaseException as e:  # noqa: BLE001 - close the others first
                errors.append(e)
        if errors:
            raise errors[0]


#: The Python with Debian's python3-aiosmtpd that runs the SMTP sink.
SINK_PYTHON = os.environ.get("AUTHNODE_PYTHON", "/usr/bin/python3")
SINK_SCRIPT = REPO / "tests" / "support" / "smtp_sink.py"

#: A code as the node mails it (docs/protocol.md, "Account codes").
CODE = re.compile(r"[0-9A-Z]{4}-[0-9A-Z]{4}")


class SmtpSink:
    """An SMTP server on loopback keeping each mail it accepts as
    ``DIR/NNNN.eml`` (tests/support/smtp_sink.py, the sink the node's own
    tests use). :meth:`node_options` are the options that make a node mail
    through it; :meth:`code` reads the code a user would type from the
    newest matching mail."""

    def __init__(self, timeout: float = 10.0) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="authnode-py-smtp-")
        self.dir = Path(self._tmp.name)
        self.proc = subprocess.Popen(
            [SINK_PYTHON, str(SINK_SCRIPT), "--dir", str(self.dir), "--port", "0"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        )
        self.port = 0
        port: list[int] = []
        reader = threading.Thread(target=self._read_port, args=(port,), daemon=True)
        reader.start()
        reader.join(timeout)
        if not port:
            self.close()
            raise AssertionError(f"the SMTP sink did not listen within {timeout} s")
        self.port = port[0]

    def _read_port(self, out: list[int]) -> None:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().decode()
        if line.startswith("port "):
            out.append(int(line.split()[1]))

    def node_options(self) -> list[str]:
        return [
            f"--smtp-url=smtp://127.0.0.1:{self.port}",
            "--mail-from=noreply@example.org",
            "--app-url=https://app.example.org",
        ]

    def mails(self) -> list[str]:
        """Every mail received so far, oldest first, raw."""
        return [p.read_text("utf-8", "replace") for p in sorted(self.dir.glob("*.eml"))]

    def code(self, to: str, subject: str, timeout: float = 10.0) -> str:
        """The code in the newest mail to ``to`` whose Subject contains
        ``subject``, waiting for one at most ``timeout`` seconds (the node
        mails from its outbox, shortly after the request)."""
        deadline = time.monotonic() + timeout
        while True:
            for raw in reversed(self.mails()):
                head, _, body = raw.replace("\r\n", "\n").partition("\n\n")
                headers = head.lower().splitlines()
                if f"x-sink-to: {to.lower()}" in headers and any(
                    h.startswith("subject:") and subject.lower() in h for h in headers
                ):
                    found = CODE.search(body)
                    assert found, f"no code in the mail:\n{raw}"
                    return found.group(0)
            if time.monotonic() >= deadline:
                raise AssertionError(f"no mail to {to} about {subject!r} within {timeout} s")
            time.sleep(0.02)

    def close(self) -> None:
        try:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(5)
            if self.proc.stdout is not None:
                self.proc.stdout.close()
        finally:
            self._tmp.cleanup()


#: The node's TOTP step, seconds (docs/protocol.md, "Second factor").
TOTP_STEP = 30


class Authenticator:
    """An authenticator app for one TOTP seed, computing codes with pyotp
    (Debian's python3-pyotp: an implementation of RFC 6238 that is not the
    node's).

    The node accepts the code of the step of now and of one step either
    side, but never one of a step at or before a step it accepted for the
    account (replay protection; ``totp_enable`` counts). So :meth:`code`
    hands out the code of the step after the last one it handed out, or of
    now if that is later: two codes in a row need no wait (now, then the
    next step, which the node already accepts); a third within the same
    step waits for the step to turn, at most :data:`TOTP_STEP` seconds.
    Tests that log in more often use recovery codes.
    """

    def __init__(self, secret: str) -> None:
        import pyotp  # only the second-factor tests need it

        self.secret = secret
        self._totp = pyotp.TOTP(secret)
        self.last_step: Optional[int] = None

    @staticmethod
    def step_now() -> int:
        return int(time.time()) // TOTP_STEP

    def code(self) -> str:
        """The code of a step the node has not seen accepted yet."""
        step = self.step_now()
        if self.last_step is not None:
            step = max(step, self.last_step + 1)
        wait = (step - 1) * TOTP_STEP - time.time()
        if wait > 0:  # both now and the next step are used: wait for one
            time.sleep(wait + 0.05)
        self.last_step = step
        return self._totp.at(step * TOTP_STEP)

    def code_of(self, step: int) -> str:
        """The code of ``step``, for replaying one."""
        return self._totp.at(step * TOTP_STEP)

    def wrong_codes(self, count: int = 1) -> list[str]:
        """``count`` different well-formed codes the node accepts at no step
        of now or one either side."""
        now = self.step_now()
        valid = {self.code_of(s) for s in range(now - 2, now + 3)}
        return [c for c in (f"{i:06d}" for i in range(count + len(valid))) if c not in valid][:count]


def b64url(data: bytes) -> str:
    """base64url without padding, WebAuthn's JSON form of binary."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def cbor(value: Any) -> bytes:
    """CBOR (RFC 8949) of ints, bytes, text, lists and dicts (in the order
    given), what an authenticator writes: its own encoder, not the node's
    libcbor."""

    def head(major: int, n: int) -> bytes:
        if n < 24:
            return bytes([major << 5 | n])
        for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
            if n < 1 << (8 * size):
                return bytes([major << 5 | info]) + n.to_bytes(size, "big")
        raise ValueError("integer too large for CBOR")

    if isinstance(value, bool):
        raise TypeError("no booleans here")
    if isinstance(value, int):
        return head(0, value) if value >= 0 else head(1, -1 - value)
    if isinstance(value, bytes):
        return head(2, len(value)) + value
    if isinstance(value, str):
        text = value.encode("utf-8")
        return head(3, len(text)) + text
    if isinstance(value, list):
        return head(4, len(value)) + b"".join(cbor(v) for v in value)
    if isinstance(value, dict):
        return head(5, len(value)) + b"".join(cbor(k) + cbor(v) for k, v in value.items())
    raise TypeError(f"no CBOR for {type(value).__name__}")


#: The origin of the pages the passkey tests' "browser" runs on: the
#: default ``--webauthn-origins`` of ``--webauthn-rp-id=example.com``.
PASSKEY_ORIGIN = "https://example.com"

_UP, _UV, _AT = 0x01, 0x04, 0x40


class PasskeyAuthenticator:
    """A passkey authenticator and the browser around it, in software: it
    takes the options the node sends and answers with what
    ``navigator.credentials.create(...)`` / ``.get(...)`` and ``toJSON()``
    would hand the page (RegistrationResponseJSON with attestation format
    ``none``, AuthenticationResponseJSON), binary members base64url.

    ES256 keys and signatures (DER, as WebAuthn has them) come from Debian's
    python3-cryptography; the CBOR (attestation object, COSE key) is
    :func:`cbor`. One signature counter for all its credentials, one up per
    signature. ``origin`` goes into clientDataJSON; with ``user_verified``
    false the authenticator data says the user was present but not verified
    (no PIN, no fingerprint).
    """

    def __init__(self, origin: str = PASSKEY_ORIGIN, user_verified: bool = True) -> None:
        from cryptography.hazmat.primitives.asymmetric import ec  # only the passkey tests need it

        self._ec = ec
        self.origin = origin
        self.user_verified = user_verified
        self.counter = 0
        #: (credential id, private key, rp id, user handle), oldest first.
        self.credentials: list[tuple[bytes, Any, str, str]] = []

    def _client_data(self, kind: str, challenge: str) -> bytes:
        return json.dumps(
            {"type": kind, "challenge": challenge, "origin": self.origin, "crossOrigin": False},
            separators=(",", ":"),
        ).encode()

    def _flags(self, extra: int = 0) -> bytes:
        return bytes([_UP | (_UV if self.user_verified else 0) | extra])

    def create(self, options: dict[str, Any], *, again: bool = False) -> dict[str, Any]:
        """A new credential for the creation options' rp and user (with
        ``again``: this authenticator's newest credential once more, as one
        that ignores ``excludeCredentials`` would)."""
        rp_id, handle = options["rp"]["id"], options["user"]["id"]
        if again:
            cred_id, key, _, _ = self.credentials[-1]
        else:
            cred_id, key = os.urandom(32), self._ec.generate_private_key(self._ec.SECP256R1())
            self.credentials.append((cred_id, key, rp_id, handle))
        public = key.public_key().public_numbers()
        cose_key = {1: 2, 3: -7, -1: 1, -2: public.x.to_bytes(32, "big"), -3: public.y.to_bytes(32, "big")}
        auth_data = (
            hashlib.sha256(rp_id.encode()).digest()
            + self._flags(_AT)
            + self.counter.to_bytes(4, "big")
            + bytes(16)  # aaguid
            + len(cred_id).to_bytes(2, "big")
            + cred_id
            + cbor(cose_key)
        )
        attestation = cbor({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {
            "id": b64url(cred_id),
            "rawId": b64url(cred_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(self._client_data("webauthn.create", options["challenge"])),
                "attestationObject": b64url(attestation),
                "transports": ["internal"],
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }

    def get(self, options: dict[str, Any]) -> Optional[dict[str, Any]]:
        """An assertion for the request options: signed with the first of
        ``allowCredentials`` that is this authenticator's or, when the list
        is empty, with its newest credential for the ``rpId``; ``None`` when
        it has none of those."""
        from cryptography.hazmat.primitives import hashes

        rp_id = options["rpId"]
        allowed = [c["id"] for c in options.get("allowCredentials", [])]
        mine = [c for c in self.credentials if c[2] == rp_id]
        if allowed:
            mine = [c for c in mine if b64url(c[0]) in allowed][:1]
        if not mine:
            return None
        cred_id, key, _, handle = mine[-1]
        self.counter += 1
        auth_data = hashlib.sha256(rp_id.encode()).digest() + self._flags() + self.counter.to_bytes(4, "big")
        client_data = self._client_data("webauthn.get", options["challenge"])
        signature = key.sign(auth_data + hashlib.sha256(client_data).digest(), self._ec.ECDSA(hashes.SHA256()))
        return {
            "id": b64url(cred_id),
            "rawId": b64url(cred_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": handle,
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }


class NodeTestCase(unittest.TestCase):
    """A test class sharing one node (``NODE_OPTIONS``) between its tests."""

    NODE_OPTIONS: list[str] = []
    node: Node

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.node = Node(cls.node_options())
        cls.addClassCleanup(cls.node.close)

    @classmethod
    def node_options(cls) -> list[str]:
        return cls.NODE_OPTIONS


class MailNodeTestCase(NodeTestCase):
    """A test class sharing one node (``NODE_OPTIONS``) that mails through
    an :class:`SmtpSink` of its own, ``sink``."""

    sink: SmtpSink

    @classmethod
    def setUpClass(cls) -> None:
        cls.sink = SmtpSink()
        cls.addClassCleanup(cls.sink.close)
        super().setUpClass()

    @classmethod
    def node_options(cls) -> list[str]:
        return [*cls.NODE_OPTIONS, *cls.sink.node_options()]
