#!/usr/bin/env python3
"""Memory per cached session (issue 18), in one run.

One node (cheap hash, --throttle=off). One account logs in --sessions
times over --connections connections (each login fills the auth actor's
session cache); then every token is checked once with whoami, which fills
the connections' session cache on the I/O thread; then once more, from
that cache. The node's RSS (VmRSS) is read after each step:

  - the whoami step's growth / sessions = bytes per session in the
    connections' cache;
  - the second whoami round must not grow it (nothing left to fill).

    bench/session_memory.py build/authnode [--sessions=50000]
        [--connections=8]

Everything is on loopback in a temporary directory; every wait is bounded.
"""
import argparse
import asyncio
import os
import re
import tempfile

from line_conn import AsyncLine, start_node

PASSWORD = "correct horse battery"


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


async def each(lines, requests):
    """Sends `requests` spread over `lines`, one at a time on each."""
    out = [None] * len(requests)

    async def worker(k, line):
        for i in range(k, len(requests), len(lines)):
            out[i] = await line.call(requests[i])
    await asyncio.gather(*(worker(k, c) for k, c in enumerate(lines)))
    return out


async def main(args):
    with tempfile.TemporaryDirectory() as work:
        node, port = start_node(
            args.binary, work,
            ["--throttle=off", "--hash-ops=1", "--hash-mem=8192",
             f"--session-cache={max(65536, args.sessions)}"])
        try:
            lines = [await AsyncLine.open(port, timeout=60) for _ in range(args.connections)]
            assert (await lines[0].call({"op": "register", "email": "m@example.org",
                                         "password": PASSWORD, "name": "M"}))["ok"]
            start = rss_kib(node.pid)
            logins = await each(lines, [{"op": "login", "email": "m@example.org",
                                         "password": PASSWORD}] * args.sessions)
            tokens = [r["token"] for r in logins]
            after_logins = rss_kib(node.pid)
            checks = [{"op": "whoami", "token": t} for t in tokens]
            first = await each(lines, checks)
            assert all(r["ok"] for r in first)
            after_first = rss_kib(node.pid)
            second = await each(lines, checks)
            assert all(r["ok"] for r in second)
            after_second = rss_kib(node.pid)
            n = args.sessions
            print(f"sessions: {n}, connections: {args.connections}")
            print(f"RSS: start {start} KiB, after the logins {after_logins} KiB, "
                  f"after one whoami each {after_first} KiB, after another "
                  f"{after_second} KiB")
            print(f"logins (sessions in SQLite and the auth actor's cache): "
                  f"{(after_logins - start) * 1024 / n:.0f} B per session")
            print(f"first whoami of each (the connections' cache): "
                  f"{(after_first - after_logins) * 1024 / n:.0f} B per session")
            print(f"second whoami of each (all hits): "
                  f"{(after_second - after_first) * 1024 / n:.0f} B per session")
        finally:
            node.terminate()
            node.wait(10)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("binary")
    parser.add_argument("--sessions", type=int, default=50000)
    parser.add_argument("--connections", type=int, default=8)
    asyncio.run(main(parser.parse_args()))
