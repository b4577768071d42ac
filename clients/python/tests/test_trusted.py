"""Trusted callers: an application server in ``--trusted-sources`` passes
its end user's address as ``client_addr``; the node throttles and records
that address instead of the server's. Anyone else sending ``client_addr``
is refused."""

from __future__ import annotations

import asyncio

import authnode
from tests.support import NodeTestCase, unique_email

PASSWORD = "correct horse"


class TrustedCallerTest(NodeTestCase):
    # A register budget of one per address and minute makes "which address
    # did the node count" visible.
    NODE_OPTIONS = ["--trusted-sources=127.0.0.1/32", "--register-rate=1"]

    def setUp(self) -> None:
        self.app = authnode.Client(self.node.host, self.node.port)
        self.addCleanup(self.app.close)

    def sessions_of(self, email: str) -> list[dict]:
        with authnode.Client(self.node.host, self.node.admin_port) as admin:
            reply = admin.call("sessions_list", {"email": email, "admin_key": self.node.admin_key})
        return reply["sessions"]

    def test_client_addr_is_the_throttled_source(self) -> None:
        self.app.register(unique_email(), PASSWORD, "A", client_addr="203.0.113.7")
        with self.assertRaises(authnode.RateLimited) as cm:
            self.app.register(unique_email(), PASSWORD, "A", client_addr="203.0.113.7")
        self.assertGreater(cm.exception.retry_after_ms, 0)
        # Another end user of the same server has a budget of their own.
        self.app.register(unique_email(), PASSWORD, "B", client_addr="2001:db8::1")

    def test_login_and_change_password_carry_client_addr(self) -> None:
        email = unique_email()
        self.app.register(email, PASSWORD, "C", client_addr="203.0.113.20")
        session = self.app.login(email, PASSWORD, client_addr="203.0.113.21")
        self.assertEqual([s["source"] for s in self.sessions_of(email)], ["203.0.113.21"])
        self.app.change_password(session.token, PASSWORD, "a new secret", client_addr="203.0.113.21")
        self.app.login(email, "a new secret", client_addr="203.0.113.21")

    def test_a_client_addr_that_is_not_an_address_is_refused(self) -> None:
        with self.assertRaises(authnode.BadRequest):
            self.app.login(unique_email(), PASSWORD, client_addr="not-an-ip")

    def test_an_untrusted_peer_may_not_send_client_addr(self) -> None:
        with authnode.Client(self.node.host, self.node.port, source_address=("127.0.0.2", 0)) as other:
            with self.assertRaises(authnode.BadRequest):
                other.login(unique_email(), PASSWORD, client_addr="203.0.113.7")
            with self.assertRaises(authnode.BadRequest):
                other.register(unique_email(), PASSWORD, "D", client_addr="203.0.113.7")

    def test_async_client_addr(self) -> None:
        async def run() -> None:
            async with authnode.AsyncClient.connect(self.node.host, self.node.port) as app:
                email = unique_email()
                await app.register(email, PASSWORD, "E", client_addr="198.51.100.1")
                session = await app.login(email, PASSWORD, client_addr="198.51.100.2")
                await app.change_password(session.token, PASSWORD, "a new secret", client_addr="198.51.100.2")
                with self.assertRaises(authnode.RateLimited):
                    await app.register(unique_email(), PASSWORD, "E", client_addr="198.51.100.1")
            self.assertEqual([s["source"] for s in self.sessions_of(email)], ["198.51.100.2"])

        asyncio.run(run())
