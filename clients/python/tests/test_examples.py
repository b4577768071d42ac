"""The examples of docs/clients.md are real programs, and they work.

docs/clients.md includes each file of clients/python/examples/ verbatim,
after a marker line ``<!-- example: PATH -->``; this test checks that the
document's copy equals the file, then runs the file against a node (twice:
the examples must survive being run again). The scripted ``nc`` example
(marked ``<!-- example: nc -->``) is run too, with the test node's port.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import unittest
from pathlib import Path

from tests.support import REPO, NodeTestCase

DOC = REPO / "docs" / "clients.md"
EXAMPLES = REPO / "clients" / "python" / "examples"
_BLOCK = re.compile(r"<!-- example: (\S+) -->\n```\w*\n(.*?)```", re.S)


def doc_examples() -> dict[str, str]:
    return {name: body for name, body in _BLOCK.findall(DOC.read_text())}


class DocMatchesFilesTest(unittest.TestCase):
    def test_every_example_file_is_in_the_doc_verbatim(self) -> None:
        blocks = doc_examples()
        files = sorted(EXAMPLES.glob("*.py"))
        self.assertTrue(files)
        for path in files:
            name = str(path.relative_to(REPO))
            with self.subTest(example=name):
                self.assertIn(name, blocks, f"{DOC.name} does not include {name}")
                self.assertEqual(blocks[name], path.read_text())


class RunExamplesTest(NodeTestCase):
    # The trusted-caller example needs this node to trust 127.0.0.1.
    NODE_OPTIONS = ["--trusted-sources=127.0.0.1/32"]

    def run_example(self, path: Path) -> str:
        env = dict(os.environ)
        env.update(
            AUTHNODE_HOST=self.node.host,
            AUTHNODE_PORT=str(self.node.port),
            PYTHONPATH=str(REPO / "clients" / "python"),
        )
        done = subprocess.run(
            [sys.executable, str(path)], env=env, capture_output=True, text=True, timeout=30
        )
        self.assertEqual(done.returncode, 0, done.stderr)
        return done.stdout

    def test_quickstart(self) -> None:
        for _ in range(2):
            out = self.run_example(EXAMPLES / "quickstart.py")
            self.assertIn("token of: ann@example.org", out)
            self.assertIn("refused: invalid_credentials", out)

    def test_quickstart_async(self) -> None:
        for _ in range(2):
            out = self.run_example(EXAMPLES / "quickstart_async.py")
            self.assertIn("guess: InvalidCredentials", out)
            self.assertIn("token of: bob@example.org", out)

    def test_trusted_app(self) -> None:
        out = self.run_example(EXAMPLES / "trusted_app.py")
        self.assertEqual(out.splitlines(), ["(200, 'welcome Cy')", "(401, 'wrong email or password')"])

    @unittest.skipUnless(shutil.which("nc") and shutil.which("timeout"), "needs nc and timeout")
    def test_nc(self) -> None:
        # The doc waits out the default 2 s failure delay; this node's is
        # 300 ms.
        script = doc_examples()["nc"].replace("7411", str(self.node.port)).replace("timeout 3", "timeout 1")
        self.assertNotIn("timeout 3", script)
        done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30)
        replies = [json.loads(line) for line in done.stdout.splitlines()]
        self.assertEqual([r.get("id") for r in replies], [1, 3, 2], done.stdout)
        self.assertEqual(replies[2]["error"]["code"], "invalid_credentials")
