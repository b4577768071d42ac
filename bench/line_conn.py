"""One connection to a node's line protocol, for the Python benchmarks:
open it, and send a request and read its reply (one at a time); blocking
or with asyncio. And a node started on free ports."""
import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import time


def connect(port, timeout):
    """A connection to 127.0.0.1:PORT with Nagle off, each read and write
    bounded by TIMEOUT seconds: (socket, reader)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s, s.makefile("rb")


def call(conn, request):
    """Sends one request line and returns the next reply line, decoded."""
    s, f = conn
    s.sendall((json.dumps(request) + "\n").encode())
    return json.loads(f.readline())


class AsyncLine:
    """The same for asyncio: one connection, one request at a time, each
    reply awaited for at most TIMEOUT seconds."""

    @classmethod
    async def open(cls, port, timeout=120):
        self = cls()
        self.reader, self.writer = await asyncio.open_connection(
            "127.0.0.1", port, limit=1 << 20)
        self.next_id = 0
        self.timeout = timeout
        return self

    async def call(self, request):
        self.next_id += 1
        self.writer.write((json.dumps(dict(request, id=self.next_id)) + "\n").encode())
        await self.writer.drain()
        return json.loads(await asyncio.wait_for(self.reader.readline(), self.timeout))

    def close(self):
        self.writer.close()


def start_node(binary, work, options, db=None, log_name="node.log"):
    """Starts BINARY on free ports (--port=0 --admin-port=0) with OPTIONS and
    the database DB (default: WORK/auth.db), its log in WORK/LOG_NAME:
    (process, client port) once it listens, within 30 s; else exits, naming
    the log."""
    log = open(os.path.join(work, log_name), "w")
    db = db or f"{work}/auth.db"
    node = subprocess.Popen(
        [binary, "--port=0", "--admin-port=0", f"--db={db}"] + options,
        stderr=log)
    deadline = time.time() + 30
    while time.time() < deadline:
        with open(log.name) as f:
            found = re.search(r"listening on [^ ]*:(\d+)", f.read())
        if found:
            return node, int(found.group(1))
        time.sleep(0.05)
    node.kill()
    sys.exit("the node did not start: see " + log.name)
