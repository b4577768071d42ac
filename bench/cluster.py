#!/usr/bin/env python3
"""What a cluster costs and gains (docs/deployment.md), in one run.

1. The remote hop. whoami with a valid token goes to the database every
   time (session cache off on both): once against one node (--role=all,
   --session-cache=0), once against a gateway whose storage node is another
   process. One connection, one request at a time, --requests each,
   interleaved in rounds; prints the medians and the difference, which is
   what one hop to the storage node and back adds.
2. Hashing capacity. --logins logins at the default cost (argon2id,
   64 MiB, 2 passes; --throttle=off) over 8 connections through a gateway
   that hashes on hasher nodes only (--hashers=0), with one hasher node and
   with two (one hasher thread each); and, for scale, one node with one and
   with two hashers. Prints logins/s and the ratio 2 nodes : 1 node.

Every process runs on loopback in a temporary directory; every wait is
bounded.

    bench/cluster.py build/authnode [--requests=3000] [--logins=48]
                     [--rounds=3]
"""
import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from line_conn import call, connect

CHEAP = ["--hash-ops=1", "--hash-mem=8192"]


class Node:
    def __init__(self, binary, work, name, args, wait_for):
        self.log_path = os.path.join(work, name + ".log")
        log = open(self.log_path, "w")
        self.proc = subprocess.Popen([binary, "--audit=off"] + args,
                                     stderr=log, stdout=log)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            text = open(self.log_path).read()
            if all(re.search(w, text) for w in wait_for):
                self.port = int(re.search(wait_for[0], text).group(1))
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.proc.kill()
        sys.exit(name + " did not start:\n" + open(self.log_path).read())

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)


LISTEN = r"listening on [^ ]*:(\d+)"
NODE_PORT = r"node port on [^ ]*:(\d+)"



def storage(binary, work, name, extra=()):
    return Node(binary, work, name,
                ["--role=storage", "--node-port=0",
                 "--db=" + os.path.join(work, name + ".db")] + list(extra),
                [NODE_PORT])


def gateway(binary, work, name, storage_node, extra):
    return Node(binary, work, name,
                ["--role=gateway", "--port=0", "--admin-port=0",
                 "--db=" + os.path.join(work, name + ".db"),
                 "--storage=127.0.0.1:%d" % storage_node.port] + extra,
                [LISTEN, r"linked to storage node"])


def whoami_latencies(port, requests):
    conn = connect(port, 120)
    call(conn, {"op": "register", "email": "w@example.org",
                "password": "correct horse", "name": "W"})
    token = call(conn, {"op": "login", "email": "w@example.org",
                        "password": "correct horse"})["token"]
    out = []
    for _ in range(requests):
        t = time.perf_counter()
        reply = call(conn, {"op": "whoami", "token": token})
        out.append(time.perf_counter() - t)
        assert reply.get("ok"), reply
    return out


def hop(binary, work, requests, rounds):
    alone = Node(binary, work, "alone",
                 ["--port=0", "--admin-port=0", "--session-cache=0",
                  "--db=" + os.path.join(work, "alone.db")] + CHEAP,
                 [LISTEN])
    st = storage(binary, work, "hop-storage", CHEAP)
    # Gateways cache sessions too (issue 18): off here, as on the one node.
    gw = gateway(binary, work, "hop-gateway", st, CHEAP + ["--session-cache=0"])
    one, two = [], []
    for _ in range(rounds):
        one += whoami_latencies(alone.port, requests)
        two += whoami_latencies(gw.port, requests)
    for n in (gw, st, alone):
        n.stop()
    m1, m2 = statistics.median(one) * 1e6, statistics.median(two) * 1e6
    p1 = sorted(one)[int(0.99 * len(one))] * 1e6
    p2 = sorted(two)[int(0.99 * len(two))] * 1e6
    print("whoami, one node:          median %6.0f us, p99 %6.0f us (%d)"
          % (m1, p1, len(one)))
    print("whoami, gateway + storage: median %6.0f us, p99 %6.0f us (%d)"
          % (m2, p2, len(two)))
    print("the remote hop adds %.0f us at the median (%.2fx)"
          % (m2 - m1, m2 / m1))


def login_rate(port, logins):
    conn = connect(port, 120)
    call(conn, {"op": "register", "email": "l@example.org",
                "password": "correct horse", "name": "L"})
    per = logins // 8
    failures = []

    def worker():
        c = connect(port, 120)
        for _ in range(per):
            r = call(c, {"op": "login", "email": "l@example.org",
                         "password": "correct horse"})
            if not r.get("ok"):
                failures.append(r)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    elapsed = time.perf_counter() - t
    if failures:
        sys.exit("logins failed: %s" % failures[:3])
    return per * 8 / elapsed


def capacity(binary, work, logins, rounds):
    plain = ["--throttle=off"]
    rates = {"one node, 1 hasher": [], "one node, 2 hashers": [],
             "gateway, 1 hasher node": [], "gateway, 2 hasher nodes": []}
    for r in range(rounds):
        for hashers in (1, 2):
            n = Node(binary, work, "node%d%d" % (r, hashers),
                     ["--port=0", "--admin-port=0", "--hashers=%d" % hashers,
                      "--db=" + os.path.join(work, "n%d%d.db" % (r, hashers))]
                     + plain, [LISTEN])
            rates["one node, %d hasher%s" % (hashers, "s" * (hashers > 1))] \
                .append(login_rate(n.port, logins))
            n.stop()
        for count in (1, 2):
            st = storage(binary, work, "st%d%d" % (r, count), plain)
            hs = [Node(binary, work, "h%d%d%d" % (r, count, i),
                       ["--role=hasher", "--node-port=0", "--hashers=1"],
                       [NODE_PORT]) for i in range(count)]
            gw = gateway(binary, work, "gw%d%d" % (r, count), st,
                         ["--hashers=0", "--hasher-nodes="
                          + ",".join("127.0.0.1:%d" % h.port for h in hs)]
                         + plain)
            deadline = time.monotonic() + 10
            while (open(gw.log_path).read().count("linked to hasher node")
                   < count and time.monotonic() < deadline):
                time.sleep(0.05)
            rates["gateway, %d hasher node%s" % (count, "s" * (count > 1))] \
                .append(login_rate(gw.port, logins))
            for n in [gw, st] + hs:
                n.stop()
    for name, xs in rates.items():
        print("%-24s %6.1f logins/s (median of %s)"
              % (name, statistics.median(xs),
                 ", ".join("%.1f" % x for x in xs)))
    one = statistics.median(rates["gateway, 1 hasher node"])
    two = statistics.median(rates["gateway, 2 hasher nodes"])
    print("2 hasher nodes : 1 = %.2f" % (two / one))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--logins", type=int, default=48)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    print("cores: %d, load average: %.2f" % (os.cpu_count(),
                                             os.getloadavg()[0]))
    with tempfile.TemporaryDirectory() as work:
        hop(args.binary, work, args.requests, args.rounds)
        capacity(args.binary, work, args.logins, args.rounds)


if __name__ == "__main__":
    main()
