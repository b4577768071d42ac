#!/usr/bin/env python3
"""Passkey sign-ins next to password logins (issue 15), in one run.

Three measurements against one node at the default hash cost (argon2id,
64 MiB, 2 passes) with --throttle=off, so that nothing is held and every
request costs what its check costs:

  1  password logins: --clients connections, each logging in again the
     moment its answer comes, for --seconds;
  2  passkey sign-ins the same way: passkey_login_begin, the software
     authenticator signs (ES256, python3-cryptography), passkey_login_finish;
  3  password logins as in 1 while --flood connections send forged
     assertions (a bad signature each, on a challenge of its own) as fast
     as they are answered: what running signature checks ahead of argon2's
     queue costs the password logins behind them.

Failed assertions are answered after --failure-delay, which the node's
default (2 s) would make the flood slow; the node runs with 1 ms so that
the flood is as heavy as the hashers can take. Everything is on loopback
in a temporary directory; every wait is bounded.

    bench/passkey_login.py build/authnode [--seconds=10] [--clients=8]
        [--flood=8]

The authenticator is the Python client tests' (clients/python/tests), which
is independent of the node's code.
"""
import argparse
import asyncio
import os
import sys
import tempfile
import time

from line_conn import AsyncLine as Line, start_node

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "clients", "python"))
from tests.support import PasskeyAuthenticator  # noqa: E402

PASSWORD = "correct horse battery"
RP_ID = "example.com"


async def account(port, email, authenticator):
    c = await Line.open(port)
    assert (await c.call({"op": "register", "email": email,
                          "password": PASSWORD, "name": "B"}))["ok"]
    token = (await c.call({"op": "login", "email": email,
                           "password": PASSWORD}))["token"]
    begun = await c.call({"op": "passkey_register_begin", "token": token})
    made = authenticator.create(begun["options"])
    done = await c.call({"op": "passkey_register_finish", "token": token,
                         "credential": made})
    assert done["ok"], done
    c.close()


async def password_loop(port, email, deadline, out):
    c = await Line.open(port)
    while time.time() < deadline:
        started = time.perf_counter()
        r = await c.call({"op": "login", "email": email, "password": PASSWORD})
        assert r["ok"], r
        out.append(time.perf_counter() - started)
    c.close()


async def passkey_loop(port, email, authenticator, deadline, out, forged=False):
    c = await Line.open(port)
    while time.time() < deadline:
        started = time.perf_counter()
        begun = await c.call({"op": "passkey_login_begin", "email": email})
        assertion = authenticator.get(begun["options"])
        if forged:
            sig = bytearray(assertion["response"]["signature"].encode())
            sig[10] = ord("A") if sig[10] != ord("A") else ord("B")
            assertion["response"]["signature"] = sig.decode()
        r = await c.call({"op": "passkey_login_finish",
                          "challenge_id": begun["challenge_id"],
                          "credential": assertion})
        assert r.get("ok") != forged, r
        out.append(time.perf_counter() - started)
    c.close()


def figures(name, times, seconds):
    times = sorted(times)
    median = times[len(times) // 2] * 1000 if times else 0
    p99 = times[int(len(times) * 0.99)] * 1000 if times else 0
    print(f"{name:<38} {len(times) / seconds:8.1f}/s  median {median:7.1f} ms"
          f"  p99 {p99:7.1f} ms  ({len(times)})")
    return len(times) / seconds


async def main(args):
    with tempfile.TemporaryDirectory() as work:
        node, port = start_node(
            args.binary, work,
            ["--throttle=off", "--failure-delay=1ms", "--register-rate=1000000",
             f"--webauthn-rp-id={RP_ID}"])
        try:
            keys = [PasskeyAuthenticator() for _ in range(args.clients)]
            emails = [f"p{i}@example.org" for i in range(args.clients)]
            await asyncio.gather(*(account(port, e, k) for e, k in zip(emails, keys)))
            flood_keys = [PasskeyAuthenticator() for _ in range(args.flood)]
            flood_emails = [f"f{i}@example.org" for i in range(args.flood)]
            await asyncio.gather(*(account(port, e, k)
                                   for e, k in zip(flood_emails, flood_keys)))
            print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}")

            s = args.seconds
            logins = []
            await asyncio.gather(*(password_loop(port, e, time.time() + s, logins)
                                   for e in emails))
            alone = figures("password logins", logins, s)

            signins = []
            await asyncio.gather(*(passkey_loop(port, e, k, time.time() + s, signins)
                                   for e, k in zip(emails, keys)))
            figures("passkey sign-ins (begin + finish)", signins, s)

            logins, forged = [], []
            deadline = time.time() + s
            await asyncio.gather(
                *(password_loop(port, e, deadline, logins) for e in emails),
                *(passkey_loop(port, e, k, deadline, forged, forged=True)
                  for e, k in zip(flood_emails, flood_keys)))
            flooded = figures("password logins, under the flood", logins, s)
            figures("  forged assertions refused", forged, s)
            if alone:
                print(f"password logins under the flood : alone = {flooded / alone:.2f}")
        finally:
            node.terminate()
            node.wait(10)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("binary")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--flood", type=int, default=8)
    asyncio.run(main(parser.parse_args()))
