#!/usr/bin/python3
"""Imports a user file through the admin port and prints how long it took.

    bench/import_users.py --port PORT --key-file FILE [--batch 500]
                          [--window 4] [--update] USERS.csv|USERS.jsonl

A benchmark, not an operator's tool (authctl import is that): it reads the
CSV or JSON Lines of scripts/make_passlib_users.py (email, name, hash,
created_at), sends user_import requests of --batch users, keeping --window
of them unanswered so that the node always has the next batch at hand, and
prints users per second, with the counts of the replies. Standard library
only.
"""

import argparse
import csv
import json
import socket
import sys
import time


def read_users(path):
    with open(path, encoding="utf-8", newline="") as f:
        if path.endswith(".jsonl"):
            rows = [json.loads(line) for line in f if line.strip()]
        else:
            rows = list(csv.DictReader(f))
    for row in rows:
        if row.get("created_at") not in (None, ""):
            row["created_at"] = int(row["created_at"])
        else:
            row.pop("created_at", None)
    return rows


class admin_connection:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.buf = b""

    def send(self, request):
        self.sock.sendall(json.dumps(request, separators=(",", ":"))
                          .encode() + b"\n")

    def read(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RuntimeError("the node closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("users")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--key-file", required=True)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--window", type=int, default=4)
    parser.add_argument("--update", action="store_true")
    args = parser.parse_args()
    with open(args.key_file, encoding="utf-8") as f:
        key = f.read().strip()
    users = read_users(args.users)
    batches = [users[i:i + args.batch]
               for i in range(0, len(users), args.batch)]
    conn = admin_connection(args.port)
    totals = {"imported": 0, "updated": 0, "skipped": 0, "rejected": 0}
    start = time.monotonic()
    sent = answered = 0
    while answered < len(batches):
        while sent < len(batches) and sent - answered < args.window:
            conn.send({"id": sent, "op": "user_import", "admin_key": key,
                       "update": args.update, "users": batches[sent]})
            sent += 1
        reply = conn.read()
        answered += 1
        if not reply.get("ok"):
            sys.exit(f"batch {reply.get('id')} failed: {reply.get('error')}")
        for k in ("imported", "updated", "skipped"):
            totals[k] += reply[k]
        totals["rejected"] += len(reply["rejected"])
    took = time.monotonic() - start
    print(f"{len(users)} users in {len(batches)} batches of {args.batch} "
          f"({args.window} in flight): {took:.2f} s, "
          f"{len(users) / took:,.0f} users/s; " +
          ", ".join(f"{k} {v}" for k, v in totals.items()))


if __name__ == "__main__":
    main()
