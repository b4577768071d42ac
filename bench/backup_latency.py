#!/usr/bin/env python3
"""Login latency while the node takes online backups (admin op `backup`).

Makes a database of --users accounts (one registered through the node for a
real argon2id hash, which the others share, inserted straight into SQLite),
starts a node on it at the cheapest hash cost (so that the database's share
of a login shows), keeps four connections logging in random accounts one
request at a time, and takes --rounds backups 1.5 s apart. Prints each
backup's reply and the login latency outside the backups (more than 0.5 s
from one) and during them. Everything runs on loopback in a temporary
directory, removed at the end; every wait is bounded.

    bench/backup_latency.py build/authnode [--users=100000] [--rounds=8]
                            [--step-pages=256]
"""
import argparse
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

from line_conn import call, connect


def start_node(binary, db, extra, log_path):
    log = open(log_path, "w")
    proc = subprocess.Popen(
        [binary, "--port=0", "--admin-port=0", "--db=" + db,
         "--hash-ops=1", "--hash-mem=8192", "--throttle=off", "--audit=off",
         "--hashers=2"] + extra,
        stderr=log, stdout=log)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        text = open(log_path).read()
        public = re.search(r"listening on [^:]+:(\d+)", text)
        admin = re.search(r"admin channel on [^:]+:(\d+)", text)
        if public and admin:
            return proc, int(public.group(1)), int(admin.group(1))
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    sys.exit("the node did not start:\n" + open(log_path).read())


def stop_node(proc):
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)



def make_database(binary, work, users):
    db = os.path.join(work, "auth.db")
    proc, port, _ = start_node(binary, db, [], os.path.join(work, "fill.log"))
    reply = call(connect(port, 60), {"op": "register", "email": "u0@example.org",
                                 "password": "correct horse", "name": "U"})
    stop_node(proc)
    if not reply.get("ok"):
        sys.exit("register failed: " + json.dumps(reply))
    con = sqlite3.connect(db)
    con.execute(
        "INSERT INTO users(email, name, password_hash, created_at)"
        " WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
        "  WHERE i + 1 < ?)"
        " SELECT 'u' || i || '@example.org', 'U', (SELECT password_hash FROM"
        "  users WHERE email = 'u0@example.org'), 1000 FROM n", (users,))
    con.commit()
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return db


def percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))] * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--users", type=int, default=100000)
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--step-pages", type=int, default=256)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as work:
        db = make_database(args.binary, work, args.users)
        proc, port, admin_port = start_node(
            args.binary, db, ["--backup-step-pages=%d" % args.step_pages],
            os.path.join(work, "node.log"))
        key = open(db + ".admin-key").read().strip()
        samples = []  # (sent, seconds, ok)
        stop = threading.Event()

        def login_loop(seed):
            rnd = random.Random(seed)
            conn = connect(port, 60)
            while not stop.is_set():
                email = "u%d@example.org" % rnd.randrange(args.users)
                sent = time.monotonic()
                reply = call(conn, {"op": "login", "email": email,
                                    "password": "correct horse"})
                samples.append((sent, time.monotonic() - sent,
                                reply.get("ok", False)))

        threads = [threading.Thread(target=login_loop, args=(k,))
                   for k in range(4)]
        for t in threads:
            t.start()
        time.sleep(2)
        admin = connect(admin_port, 60)
        windows = []
        for r in range(args.rounds):
            path = os.path.join(work, "backup-%d.db" % r)
            began = time.monotonic()
            reply = call(admin, {"id": r, "op": "backup", "path": path,
                                 "admin_key": key})
            windows.append((began, time.monotonic()))
            print(json.dumps(reply), flush=True)
            os.unlink(path)
            time.sleep(1.5)
        stop.set()
        for t in threads:
            t.join(timeout=30)
        stop_node(proc)

    def near(t, margin):
        return any(a - margin <= t <= b + margin for a, b in windows)

    groups = (("outside backups", [s for t, s, _ in samples
                                   if not near(t, 0.5)]),
              ("during backups", [s for t, s, _ in samples if near(t, 0)]))
    for name, xs in groups:
        print("%s: %d logins, median %.1f ms, p90 %.1f ms, p99 %.1f ms, "
              "max %.1f ms" % (name, len(xs), percentile(xs, 0.5),
                               percentile(xs, 0.9), percentile(xs, 0.99),
                               max(xs) * 1000))
    print("failed logins: %d of %d" % (sum(1 for *_, ok in samples if not ok),
                                       len(samples)))


if __name__ == "__main__":
    main()
