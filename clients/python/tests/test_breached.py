"""The breached-password check through the client against a real node with
a small index, built by the real ``authctl breached build`` from a corpus
made here (the SHA-1 of a few words, with counts, in HIBP's format)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
import unittest
from pathlib import Path

import authnode
from tests.support import BINARY, Node, unique_email

AUTHCTL = Path(os.environ.get("AUTHCTL_BINARY", BINARY.parent / "authctl"))
BREACHED = [f"leaked-password-{i}" for i in range(50)]
FRESH = "a fresh horse staple"


def build_index(directory: Path) -> Path:
    lines = sorted(f"{hashlib.sha1(w.encode()).hexdigest().upper()}:{i + 1}" for i, w in enumerate(BREACHED))
    corpus = directory / "corpus.txt"
    corpus.write_text("\n".join(lines) + "\n")
    index = directory / "breached.idx"
    subprocess.run([str(AUTHCTL), "breached", "build", str(corpus), str(index), "--no-progress"], check=True, capture_output=True)
    return index


class BreachedTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls._tmp = tempfile.TemporaryDirectory(prefix="authnode-py-breached-")
        cls.addClassCleanup(cls._tmp.cleanup)
        index = build_index(Path(cls._tmp.name))
        cls.node = Node(["--throttle=off", f"--breached-passwords={index}"])
        cls.addClassCleanup(cls.node.close)

    def setUp(self) -> None:
        self.c = authnode.Client(self.node.host, self.node.port)
        self.addCleanup(self.c.close)

    def test_a_breached_password_is_refused_and_a_fresh_one_logs_in_unflagged(self) -> None:
        email = unique_email("breached")
        with self.assertRaises(authnode.BreachedPassword) as caught:
            self.c.register(email, BREACHED[3], "Ann")
        self.assertIn("breached", str(caught.exception))
        self.c.register(email, FRESH, "Ann")
        session = self.c.login(email, FRESH)
        self.assertIs(session.password_breached, False)
        self.assertEqual(self.c.stats().breached_passwords, "on")


class BreachedLoginTest(unittest.TestCase):
    def test_a_login_with_a_breached_password_succeeds_and_says_so(self) -> None:
        tmp = tempfile.TemporaryDirectory(prefix="authnode-py-breached-")
        self.addCleanup(tmp.cleanup)
        index = build_index(Path(tmp.name))
        node = Node(["--throttle=off"])
        self.addCleanup(node.close)
        email = unique_email("breachedlogin")
        with authnode.Client(node.host, node.port) as c:
            c.register(email, BREACHED[7], "Ann")  # before the check was on
        node.stop()
        node.options.append(f"--breached-passwords={index}")
        node.start()
        with authnode.Client(node.host, node.port) as c:
            self.assertIs(c.login(email, BREACHED[7]).password_breached, True)


if __name__ == "__main__":
    unittest.main()
