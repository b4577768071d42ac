#!/usr/bin/env python3
"""Second-factor guessing against one account (issue 14), in one run.

An attacker who knows the victim's password keeps --in-flight code guesses
(login_second_factor with random codes) in flight against the victim's
challenges, resending the moment a reply comes, for --seconds:

  1  from one address: --in-flight / 8 connections, 8 guesses each (the
     node's max-in-flight per connection);
  2  from 200 addresses, one connection each.

Each scenario has a victim of its own (the node remembers failures for
failure-window, 15 min). When the victim's challenge has had 5 wrong codes
the attacker logs in with the password again for a new one. Meanwhile the
victim's owner logs in every --owner-every seconds from an address of their
own, with the device token of an earlier login: password, then the code of
a fresh time step (or, while the step is used up, a recovery code); three
such logins before the attack give the unloaded figure.

What is counted:
- guesses the guard let through to the database: the audit lines of
  login_second_factor with outcome invalid_code and reason "wrong, replayed
  or used code" (a guess at a challenge already dead is refused before the
  guard and costs nothing); set against the schedule the guard's rule gives
  for one key under continuous pressure, computed here, not taken from the
  node: 2 at once, then a round of 1 or 2 each time the penalty has passed
  (failure-delay doubled per failure so far, up to max-penalty), as the
  fewest and the most that any mix of rounds gives;
- the attacker's replies by outcome;
- the owner's logins: how many got in, and how long the code step took.

The node runs with the default failure-delay (2 s), max-penalty (60 s),
hash cost and throttle; only --register-rate is raised. Everything is on
loopback in a temporary directory; every wait is bounded.

    bench/second_factor_attack.py build/authnode [--seconds=120]
        [--in-flight=1000] [--owner-every=15]

TOTP codes come from pyotp (Debian python3-pyotp), an implementation
independent of the node's.
"""
import argparse
import asyncio
import calendar
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import pyotp

PASSWORD = "correct horse battery"
FAILURE_DELAY = 2.0
MAX_PENALTY = 60.0
SLOTS = 2  # max_verifying_per_key


def penalty(failures):
    if failures == 0:
        return 0.0
    return min(FAILURE_DELAY * 2 ** min(failures - 1, 30), MAX_PENALTY)


def schedule_range(window):
    """The fewest and the most guesses one key lets through in WINDOW
    seconds under continuous pressure: SLOTS at once before any failure is
    known, then a round each time the penalty after the failures so far has
    passed. A code check takes a millisecond, unlike a hash: when a penalty
    ends, the one attempt the guard held goes, and a second only if another
    arrives in that millisecond; so a round is 1 or SLOTS guesses, and
    every mix of the two is possible (a round of 1 raises the penalty less,
    so the next round comes sooner)."""
    def rounds(t, failures):
        t += penalty(failures)
        if t >= window:
            return 0, 0
        outcomes = []
        for size in (1, SLOTS):
            lo, hi = rounds(t, failures + size)
            outcomes.append((size + lo, size + hi))
        return min(o[0] for o in outcomes), max(o[1] for o in outcomes)
    lo, hi = rounds(0.0, SLOTS)
    return SLOTS + lo, SLOTS + hi


class Line:
    """One connection from a local address, replies matched by id."""

    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer
        self.next_id = 0
        self.waiting = {}
        self.task = asyncio.ensure_future(self._read())

    @classmethod
    async def open(cls, port, source):
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, local_addr=(source, 0), limit=1 << 20)
        return cls(reader, writer)

    async def _read(self):
        try:
            while True:
                line = await self.reader.readline()
                if not line:
                    break
                reply = json.loads(line)
                fut = self.waiting.pop(reply.get("id"), None)
                if fut and not fut.done():
                    fut.set_result(reply)
        finally:
            for fut in self.waiting.values():
                if not fut.done():
                    fut.set_result({"ok": False, "error": {"code": "closed"}})

    async def call(self, request):
        self.next_id += 1
        request = dict(request, id=self.next_id)
        fut = asyncio.get_running_loop().create_future()
        self.waiting[self.next_id] = fut
        self.writer.write((json.dumps(request) + "\n").encode())
        await self.writer.drain()
        return await asyncio.wait_for(fut, 300)

    def close(self):
        self.task.cancel()
        self.writer.close()


def code_of(reply):
    return "ok" if reply.get("ok") else reply.get("error", {}).get("code", "?")


class Victim:
    """An account with TOTP on, and its owner's device token."""

    async def set_up(self, port, email):
        self.email = email
        c = await Line.open(port, "127.0.0.1")
        r = await c.call({"op": "register", "email": email,
                          "password": PASSWORD, "name": "V"})
        assert r.get("ok"), r
        token = (await c.call({"op": "login", "email": email,
                               "password": PASSWORD}))["token"]
        setup = await c.call({"op": "totp_setup", "token": token})
        self.totp = pyotp.TOTP(setup["secret"])
        self.last_step = self.step()
        on = await c.call({"op": "totp_enable", "token": token,
                           "code": self.totp.at(self.last_step * 30)})
        assert on.get("ok"), on
        self.recovery_codes = list(on["recovery_codes"])
        first = await c.call({"op": "login", "email": email,
                              "password": PASSWORD})
        assert code_of(first) == "second_factor_required", first
        granted = await c.call({"op": "login_second_factor",
                                "challenge": first["challenge"],
                                "code": self.next_code()})
        assert granted.get("ok"), granted
        self.device_token = granted["device_token"]
        c.close()
        return self

    @staticmethod
    def step():
        return int(time.time()) // 30

    def next_code(self):
        """A TOTP code of a step not used yet (the node accepts one step
        either side of now), else a recovery code."""
        candidate = self.last_step + 1
        if candidate <= self.step() + 1:
            self.last_step = candidate
            return self.totp.at(candidate * 30)
        return self.recovery_codes.pop()


class Attacker:
    def __init__(self, port, victim, sources, depth, deadline):
        self.port, self.victim = port, victim
        self.sources, self.depth, self.deadline = sources, depth, deadline
        self.challenge, self.failures = None, 0
        self.renewing = None
        self.outcomes = {}

    async def new_challenge(self):
        c = await Line.open(self.port, self.sources[0])
        try:
            for _ in range(100):
                r = await c.call({"op": "login", "email": self.victim.email,
                                  "password": PASSWORD})
                if code_of(r) == "second_factor_required":
                    self.challenge, self.failures = r["challenge"], 0
                    return
                await asyncio.sleep(r.get("retry_after_ms", 100) / 1000)
        finally:
            c.close()

    def note(self, challenge, reply):
        outcome = code_of(reply)
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        if outcome == "invalid_code" and challenge == self.challenge:
            self.failures += 1
            if self.failures >= 5 and self.renewing is None:
                self.renewing = asyncio.ensure_future(self._renew())

    async def _renew(self):
        try:
            await self.new_challenge()
        finally:
            self.renewing = None

    async def guesser(self, line):
        while time.monotonic() < self.deadline:
            challenge = self.challenge
            reply = await line.call({
                "op": "login_second_factor", "challenge": challenge,
                "code": "%06d" % random.randrange(1000000)})
            self.note(challenge, reply)

    async def run(self):
        """Guesses until the deadline; then hangs up on the replies still
        held (the node answers them into closed connections)."""
        await self.new_challenge()
        lines = [await Line.open(self.port, s) for s in self.sources]
        tasks = [asyncio.ensure_future(self.guesser(line)) for line in lines
                 for _ in range(self.depth)]
        await asyncio.sleep(max(0.0, self.deadline - time.monotonic()))
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for line in lines:
            line.close()


async def owner_logins(port, victim, source, every, deadline, count=None):
    """The owner's logins with the device token until DEADLINE (or COUNT of
    them): (got in, code step s, outcome) each."""
    results = []
    c = await Line.open(port, source)
    while time.monotonic() < deadline and (count is None
                                           or len(results) < count):
        started = time.monotonic()
        first = await c.call({"op": "login", "email": victim.email,
                              "password": PASSWORD,
                              "device_token": victim.device_token})
        if code_of(first) != "second_factor_required":
            results.append((False, None, code_of(first)))
        else:
            t = time.monotonic()
            r = await c.call({"op": "login_second_factor",
                              "challenge": first["challenge"],
                              "code": victim.next_code()})
            results.append((bool(r.get("ok")), time.monotonic() - t,
                            code_of(r)))
        await asyncio.sleep(max(0.0, every - (time.monotonic() - started)))
    c.close()
    return results


def admitted_guesses(audit_path, start, end, t0, email):
    """The times (s after the wall-clock time T0, to the second) of the
    code guesses the guard let through, from the audit lines between the
    offsets START and END: at EMAIL's account, and at any other (a guess
    of an earlier scenario that the guard still held when it ended)."""
    times, others = [], []
    with open(audit_path) as f:
        f.seek(start)
        for line in f.read(end - start).splitlines():
            if ('"op":"login_second_factor","outcome":"invalid_code"' in line
                    and "wrong, replayed or used code" in line):
                event = json.loads(line)
                at = calendar.timegm(time.strptime(
                    event["time"], "%Y-%m-%dT%H:%M:%SZ"))
                mine = event.get("account") == email
                (times if mine else others).append(at - int(t0))
    return times, others


async def scenario(port, audit, number, title, sources, depth, args):
    victim = await Victim().set_up(port, "victim%d@bench.example" % number)
    unloaded = await owner_logins(port, victim, "127.0.%d.250" % number, 0,
                                  time.monotonic() + 30, count=3)
    base = statistics.median(r[1] * 1000 for r in unloaded if r[0])
    start = os.path.getsize(audit)
    deadline = time.monotonic() + args.seconds
    attacker = Attacker(port, victim, sources, depth, deadline)
    owner = asyncio.ensure_future(owner_logins(
        port, victim, "127.0.%d.250" % number, args.owner_every, deadline))
    t0, wall0 = time.monotonic(), time.time()
    await attacker.run()
    end = os.path.getsize(audit)
    elapsed = time.monotonic() - t0
    owned = await owner
    times, others = admitted_guesses(audit, start, end, wall0, victim.email)
    checked = len(times)
    fewest, most = schedule_range(args.seconds)
    ok = [r for r in owned if r[0]]
    lat = sorted(r[1] * 1000 for r in ok)
    print("== %d. %s: %d guesses in flight, %.0f s" %
          (number, title, len(sources) * depth, elapsed))
    print("  guesses checked against the account: %d in %d s "
          "(%.1f per minute); the schedule allows %d to %d"
          % (checked, args.seconds, checked * 60 / args.seconds, fewest,
             most))
    print("  at (s, to the second): %s" % " ".join(str(t) for t in times))
    if others:
        print("  and at other accounts (held from an earlier scenario): %s"
              % " ".join(str(t) for t in others))
    print("  attacker's replies: %s" % ", ".join(
        "%s %d" % kv for kv in sorted(attacker.outcomes.items())))
    print("  owner with a device token: %d of %d logins got in%s"
          % (len(ok), len(owned),
             "; code step p50 %.1f ms (%.2fx unloaded, %.1f ms), max %.1f ms"
             % (statistics.median(lat), statistics.median(lat) / base, base,
                lat[-1]) if lat else ""))
    for r in owned:
        if not r[0]:
            print("    failed: %s" % r[2])


async def main_async(args, port, audit):
    per = 8
    one = ["127.0.1.2"] * max(1, args.in_flight // per)
    await scenario(port, audit, 1, "one address", one, per, args)
    many = ["127.0.2.%d" % (2 + i) for i in range(200)]
    await scenario(port, audit, 2, "200 addresses", many,
                   max(1, args.in_flight // 200), args)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("binary")
    p.add_argument("--seconds", type=int, default=120)
    p.add_argument("--in-flight", type=int, default=1000)
    p.add_argument("--owner-every", type=float, default=15)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as work:
        log_path = os.path.join(work, "node.log")
        audit = os.path.join(work, "audit.log")
        log = open(log_path, "w")
        node = subprocess.Popen(
            [args.binary, "--port=0", "--admin-port=0",
             "--db=" + os.path.join(work, "auth.db"), "--audit=" + audit,
             "--register-rate=1000000"], stderr=log, stdout=log)
        try:
            port = None
            for _ in range(200):
                m = re.search(r"listening on [^ ]*:(\d+)", open(log_path).read())
                if m:
                    port = int(m.group(1))
                    break
                time.sleep(0.05)
            if port is None:
                sys.exit("node did not start:\n" + open(log_path).read())
            asyncio.run(main_async(args, port, audit))
        finally:
            node.send_signal(signal.SIGTERM)
            node.wait(timeout=60)


if __name__ == "__main__":
    main()
