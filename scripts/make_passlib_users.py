#!/usr/bin/python3
"""Writes N users with password hashes made by passlib, for user_import.

    /usr/bin/python3 scripts/make_passlib_users.py N OUT [--format csv|jsonl]

Run it with Debian's /usr/bin/python3 (python3-passlib, python3-bcrypt,
python3-argon2), not another python3 that may come first on PATH. OUT "-"
is standard output. CSV has the header email,name,hash,created_at; JSON
Lines has one object with those members per line.

User i (from 0) is:
  email       user{i}@example.org
  name        User {i}
  format      FORMATS[i % 4]: argon2, bcrypt, sha512_crypt, sha256_crypt
  password    pw-{k}-{format} with k = (i // 4) % 8, e.g. user5 has
              "pw-1-bcrypt", user10 "pw-2-sha512_crypt"
  created_at  1700000000 + i

Hashing at passlib's default costs takes up to a second a hash
(sha512_crypt: 656,000 rounds), so the script makes 8 hashes per format,
one for each k, at low but real costs, and cycles them over the users:
argon2 is passlib's default type argon2id with m=1024 KiB, t=1, p=2;
bcrypt has cost 4; sha512_crypt and sha256_crypt have 1,000 rounds for even
k (written rounds=1000$) and the default 5,000 for odd k (written without
rounds=). 100,000 users take about a second.
"""

import argparse
import csv
import json
import sys

from passlib.hash import argon2, bcrypt, sha256_crypt, sha512_crypt

FORMATS = ["argon2", "bcrypt", "sha512_crypt", "sha256_crypt"]
HASHES_PER_FORMAT = 8
CREATED_AT = 1700000000


def password(fmt, k):
    return f"pw-{k}-{fmt}"


def hasher(fmt, k):
    sha_rounds = 1000 if k % 2 == 0 else 5000
    return {
        "argon2": argon2.using(memory_cost=1024, time_cost=1, parallelism=2),
        "bcrypt": bcrypt.using(rounds=4),
        "sha512_crypt": sha512_crypt.using(rounds=sha_rounds),
        "sha256_crypt": sha256_crypt.using(rounds=sha_rounds),
    }[fmt]


def make_hashes():
    """hashes[fmt][k] is a hash of password(fmt, k)."""
    return {
        fmt: [hasher(fmt, k).hash(password(fmt, k))
              for k in range(HASHES_PER_FORMAT)]
        for fmt in FORMATS
    }


def users(n, hashes):
    for i in range(n):
        fmt = FORMATS[i % len(FORMATS)]
        k = (i // len(FORMATS)) % HASHES_PER_FORMAT
        yield {
            "email": f"user{i}@example.org",
            "name": f"User {i}",
            "hash": hashes[fmt][k],
            "created_at": CREATED_AT + i,
        }


def main():
    parser = argparse.ArgumentParser(
        description="Write N users with passlib hashes for user_import.")
    parser.add_argument("n", type=int, help="how many users")
    parser.add_argument("out", help="output file, or - for standard output")
    parser.add_argument("--format", choices=["csv", "jsonl"], default="csv")
    args = parser.parse_args()
    if args.n < 0:
        parser.error("N must not be negative")
    hashes = make_hashes()
    out = (sys.stdout if args.out == "-"
           else open(args.out, "w", newline="", encoding="utf-8"))
    try:
        if args.format == "csv":
            writer = csv.DictWriter(
                out, fieldnames=["email", "name", "hash", "created_at"],
                lineterminator="\n")
            writer.writeheader()
            writer.writerows(users(args.n, hashes))
        else:
            for user in users(args.n, hashes):
                out.write(json.dumps(user, separators=(",", ":")) + "\n")
    finally:
        if out is not sys.stdout:
            out.close()


if __name__ == "__main__":
    main()
