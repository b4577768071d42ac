"""Test support: a real node and the web app under real uvicorn.

The node comes from the Python client's test support
(clients/python/tests/support.py: ``$AUTHNODE_BINARY``, by default
``build/authnode``, on an ephemeral port with the lowest hash cost, a
300 ms failure delay and a temporary database). The app runs as
``python3 -m uvicorn main:app`` in examples/webapp, as a user would run it,
with proxy headers trusted from 127.0.0.1 only. Its environment has no
PYTHONPATH, so main.py has to find clients/python by itself.

Browsers are told apart by their address: every 127.0.0.0/8 address is
loopback on Linux, so a test binds its HTTP client to 127.0.0.2, 127.0.0.3,
and so on, and the app passes that address to the node as ``client_addr``.

A test class with ``MAIL = True`` gets a node that mails through an SMTP
sink on loopback (the Python client's ``SmtpSink``: tests/support/
smtp_sink.py under Debian's python3-aiosmtpd), with ``--app-url`` naming
the app, and reads the codes from the mails as a user would.

Every wait here is bounded.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest
from pathlib import Path
from typing import Any, Optional

import httpx

APP_DIR = Path(__file__).resolve().parents[1]
REPO = APP_DIR.parents[1]
sys.path.insert(0, str(REPO / "clients" / "python"))

import authnode  # noqa: E402
from tests import support as node_support  # noqa: E402  clients/python/tests/support.py

Node = node_support.Node
Authenticator = node_support.Authenticator
unique_email = node_support.unique_email
wait_until = node_support.wait_until
FAILURE_DELAY = node_support.FAILURE_DELAY

#: What every test node gets besides the client tests' options: the app
#: (connecting from 127.0.0.1) may send client_addr, and registrations are
#: not budgeted down to 10 a minute per address.
NODE_OPTIONS = ["--trusted-sources=127.0.0.1/32", "--register-rate=10000"]

PASSWORD = "correct horse"

#: The Subject of each mail the node sends (config/mail/), as the sink
#: matches them: part of the line, either case.
RECOVERY_MAIL = "account recovery code"
VERIFY_MAIL = "email verification code"
NEW_EMAIL_MAIL = "confirm your new email address"
NOTICE_MAIL = "change of your account's email address"


def mail_options(sink: node_support.SmtpSink, app_port: int) -> list[str]:
    """The options that make a node mail through ``sink``, its mails
    pointing users to the app at ``app_port``."""
    return [o for o in sink.node_options() if not o.startswith("--app-url=")] + [
        f"--app-url=http://127.0.0.1:{app_port}"
    ]


def mails_to(sink: node_support.SmtpSink, to: str, subject: str = "") -> list[str]:
    """The mails the sink has for ``to`` (whose Subject has ``subject``),
    oldest first, with LF line ends."""
    found = []
    for raw in sink.mails():
        mail = raw.replace("\r\n", "\n")
        head = mail.partition("\n\n")[0].lower().splitlines()
        if f"x-sink-to: {to.lower()}" in head and any(
            h.startswith("subject:") and subject.lower() in h for h in head
        ):
            found.append(mail)
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WebApp:
    """``uvicorn main:app`` in examples/webapp, talking to ``node``."""

    def __init__(self, node: Node, env: Optional[dict[str, str]] = None, port: int = 0) -> None:
        self.node = node
        self.extra_env = dict(env or {})
        self.proc: Optional[subprocess.Popen[bytes]] = None
        self._log: list[str] = []
        self._cond = threading.Condition()
        self.port = port
        if port:  # named already (the node's --app-url): that one or none
            if self._start():
                return
            raise AssertionError(f"uvicorn did not start on port {port}; log:\n{self.log()}")
        # A port picked free may be taken before uvicorn binds it: try again.
        for _ in range(3):
            self.port = free_port()
            if self._start():
                return
        raise AssertionError(f"uvicorn did not start; log:\n{self.log()}")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _start(self, timeout: float = 20.0) -> bool:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        env.update(
            AUTHNODE_HOST=self.node.host,
            AUTHNODE_PORT=str(self.node.port),
            PYTHONDONTWRITEBYTECODE="1",
            **self.extra_env,
        )
        args = [
            sys.executable, "-m", "uvicorn", "main:app",
            "--host", "127.0.0.1", "--port", str(self.port),
            "--proxy-headers", "--forwarded-allow-ips", "127.0.0.1",
        ]
        with self._cond:
            self._log = []
        self.proc = subprocess.Popen(
            args, cwd=APP_DIR, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        threading.Thread(target=self._drain, args=(self.proc,), daemon=True).start()
        deadline = time.monotonic() + timeout
        with self._cond:
            while "Uvicorn running on" not in "".join(self._log):
                if self.proc.poll() is not None or time.monotonic() >= deadline:
                    break
                self._cond.wait(0.1)
        if self.proc.poll() is not None:
            return False
        # Up: it answers HTTP.
        wait_until(lambda: self._answers(), timeout=10, step=0.05)
        return True

    def _answers(self) -> bool:
        try:
            return httpx.get(self.url + "/account/login", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    def _drain(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        with proc.stdout:
            for raw in proc.stdout:
                with self._cond:
                    self._log.append(raw.decode("utf-8", "replace"))
                    self._cond.notify_all()

    def log(self) -> str:
        with self._cond:
            return "".join(self._log)

    def close(self, timeout: float = 10.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


def admin(node: Node, op: str, **fields: Any) -> dict[str, Any]:
    """One request on the node's admin channel."""
    with node_support.RawConnection(node.host, node.admin_port) as conn:
        conn.send_json({"id": 1, "op": op, "admin_key": node.admin_key, **fields})
        reply = conn.read()
    assert reply is not None and reply.get("ok"), reply
    return reply


def guesses_of(node: Node, address: str, kind: str) -> int:
    """The wrong codes of ``kind`` ("code", "totp") the node counts against
    a browser's address: this app passes it as client_addr, so the node
    throttles the guesser and not the app server."""
    return admin(node, "throttle_show", source=address, kind=kind)["throttle"]["failures"]


def session_sources(node: Node, email: str) -> list[str]:
    """The source addresses the node recorded for the account's sessions."""
    return [s["source"] for s in admin(node, "sessions_list", email=email)["sessions"]]


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def secret_of(html: str) -> str:
    """The TOTP seed the setup page shows for typing in by hand (in groups
    of four), as an authenticator app reads it: without the spaces."""
    match = re.search(r'<code id="totp-secret" class="secret">([A-Z2-7 ]+)</code>', html)
    assert match, "no TOTP secret in the page"
    return match.group(1).replace(" ", "")


def recovery_codes_of(html: str) -> list[str]:
    """The recovery codes the page lists."""
    listed = html.partition('id="recovery-codes"')[2].partition("</ol>")[0]
    return re.findall(r"<li><code>([0-9A-Z]{4}-[0-9A-Z]{4})</code></li>", listed)


class WebAppTestCase(unittest.TestCase):
    """Tests sharing one node (``NODE_OPTIONS`` + ``EXTRA_NODE_OPTIONS``)
    and one app."""

    EXTRA_NODE_OPTIONS: list[str] = []
    #: Whether the node mails, through :attr:`sink`.
    MAIL = False
    node: Node
    app: WebApp
    sink: node_support.SmtpSink

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        if not cls.MAIL:
            cls.node = Node(NODE_OPTIONS + cls.EXTRA_NODE_OPTIONS)
            cls.addClassCleanup(cls.node.close)
            cls.app = WebApp(cls.node)
            cls.addClassCleanup(cls.app.close)
            return
        cls.sink = node_support.SmtpSink()
        cls.addClassCleanup(cls.sink.close)
        port = free_port()
        cls.node = Node(NODE_OPTIONS + mail_options(cls.sink, port) + cls.EXTRA_NODE_OPTIONS)
        cls.addClassCleanup(cls.node.close)
        cls.app = WebApp(cls.node, port=port)
        cls.addClassCleanup(cls.app.close)

    def new_code(self, to: str, subject: str, seen: int = 0, timeout: float = 10.0) -> str:
        """The code of the mail to ``to`` about ``subject`` that came after
        the ``seen`` ones counted before the request that sent it (a newer
        code replaces an older one; register mails one by itself), waiting
        for it at most ``timeout`` seconds."""
        wait_until(lambda: len(mails_to(self.sink, to, subject)) > seen, timeout=timeout, step=0.02)
        return self.sink.code(to, subject, timeout=0)

    def browser(self, address: str = "127.0.0.1") -> httpx.Client:
        """A browser at ``address``: keeps cookies, follows no redirect."""
        client = httpx.Client(
            base_url=self.app.url,
            transport=httpx.HTTPTransport(local_address=address),
            follow_redirects=False,
            timeout=60,
        )
        self.addCleanup(client.close)
        return client

    def async_browser(self, address: str) -> httpx.AsyncClient:
        """As :meth:`browser`, for asyncio; close it with ``aclose``."""
        return httpx.AsyncClient(
            base_url=self.app.url,
            transport=httpx.AsyncHTTPTransport(local_address=address),
            follow_redirects=False,
            timeout=60,
        )

    def register(self, browser: httpx.Client, email: str, password: str = PASSWORD,
                 name: str = "Ann") -> httpx.Response:
        return browser.post("/account/register", data={"email": email, "password": password, "name": name})

    def login(self, browser: httpx.Client, email: str, password: str = PASSWORD) -> httpx.Response:
        return browser.post("/account/login", data={"email": email, "password": password})

    def new_user(self, address: str = "127.0.0.1", name: str = "Ann") -> tuple[httpx.Client, str]:
        """A browser at ``address`` logged in to a new account, and its email."""
        browser = self.browser(address)
        email = unique_email("web")
        r = self.register(browser, email, name=name)
        self.assertEqual(r.status_code, 303, r.text)
        self.assertEqual(r.headers["location"], "/account")
        return browser, email

    def enable_totp(self, browser: httpx.Client) -> tuple[Authenticator, list[str]]:
        """Turn TOTP on for the browser's account through the security
        pages, as a user would: the authenticator app (with the step of the
        confirming code used) and the ten recovery codes."""
        r = browser.get("/account/security")
        self.assertEqual(r.status_code, 200, r.text)
        r = browser.post("/account/security/totp/setup", data={"csrf": csrf_of(r.text)})
        self.assertEqual(r.status_code, 200, r.text)
        app = Authenticator(secret_of(r.text))
        r = browser.post("/account/security/totp/enable", data={"csrf": csrf_of(r.text), "code": app.code()})
        self.assertEqual(r.status_code, 200, r.text)
        codes = recovery_codes_of(r.text)
        self.assertEqual(len(codes), 10)
        return app, codes

    def first_step(self, browser: httpx.Client, email: str, password: str = PASSWORD) -> str:
        """A login of an account with TOTP on, up to the code page; the
        page's CSRF token."""
        r = self.login(browser, email, password)
        self.assertEqual((r.status_code, r.headers.get("location")), (303, "/account/login/code"), r.text)
        self.assertNotIn("session", browser.cookies)
        r = browser.get("/account/login/code")
        self.assertEqual(r.status_code, 200, r.text)
        return csrf_of(r.text)

    def node_client(self) -> authnode.Client:
        client = authnode.Client(self.node.host, self.node.port)
        self.addCleanup(client.close)
        return client
