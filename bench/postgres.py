#!/usr/bin/env python3
"""PostgreSQL against SQLite (issue 17), in one run, on loopback.

1. Registrations/s: 8 connections registering new users one after another
   for --seconds, at the cheapest hash cost (so that the database's commit
   is what is measured), against a node on SQLite, one on PostgreSQL, and
   one on PostgreSQL with a synchronous standby.
2. Logins/s at the default cost, against the raw verify rate of this
   machine measured in the same run (bench_login_rate), on SQLite and on
   PostgreSQL.
3. whoami/s (bench_throughput, 50 connections, 10 in flight): SQLite (the
   session cache answers) and PostgreSQL (no cache: a database round trip).
4. Two nodes on one PostgreSQL database against one: logins/s at the
   default cost (8 connections, split over the nodes) and whoami/s (one
   bench_throughput per node, at once, summed).
5. Failover: a node on a primary with a synchronous standby, its --db
   naming both with target_session_attrs=read-write, registering without
   pause; the primary is killed with SIGKILL and the standby promoted at
   once. Prints the time from the kill to the promotion's end and to the
   first registration acknowledged after it.

The PostgreSQL servers run with fsync on, as in production; SQLite syncs
every commit too (synchronous=FULL).

    bench/postgres.py BIN_DIR --redis-port=N [--seconds=5]
"""
import argparse
import asyncio
import os
import pwd
import signal
import subprocess
import sys
import tempfile
import time

from line_conn import AsyncLine, start_node

CHEAP = ["--hash-ops=1", "--hash-mem=8192"]


def pg_bin(program):
    for version in ("15", "16", "17"):
        path = f"/usr/lib/postgresql/{version}/bin/{program}"
        if os.access(path, os.X_OK):
            return path
    sys.exit("no PostgreSQL under /usr/lib/postgresql (scripts/setup.sh "
             "postgresql)")


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Postgres:
    """A server of our own in WORK/NAME; as the postgres user when root."""

    def __init__(self, work, name, synchronous=False, standby_of=None):
        self.dir = os.path.join(work, name)
        os.mkdir(self.dir)
        if os.geteuid() == 0:
            pg = pwd.getpwnam("postgres")
            os.chown(self.dir, pg.pw_uid, pg.pw_gid)
        self.data = os.path.join(self.dir, "data")
        if standby_of is None:
            self.run("initdb", "-D", self.data, "-U", "authnode",
                     "--auth=trust", "--encoding=UTF8", "--no-sync")
        else:
            self.run("pg_basebackup", "-h", "127.0.0.1", "-p",
                     str(standby_of.port), "-U", "authnode", "-D", self.data,
                     "-R", "--checkpoint=fast")
        self.port = free_port()
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1"
                   f" -c unix_socket_directories={self.dir}")
        if synchronous:
            options += " -c synchronous_standby_names='*'"
        self.run("pg_ctl", "-D", self.data, "-l",
                 os.path.join(self.dir, "log"), "-o", options, "-w", "start")
        self.running = True

    def run(self, program, *args):
        cmd = [pg_bin(program), *args]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--"] + cmd
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=60)

    def sql(self, statement):
        subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U",
                        "authnode", "-d", "postgres", "-qc", statement],
                       check=True, stdout=subprocess.DEVNULL, timeout=60)

    def database(self, name):
        self.sql(f"CREATE DATABASE {name}")
        return f"postgresql://authnode@127.0.0.1:{self.port}/{name}"

    def kill(self):
        with open(os.path.join(self.data, "postmaster.pid")) as f:
            pid = int(f.readline())
        os.killpg(pid, signal.SIGKILL)
        self.running = False

    def promote(self):
        self.run("pg_ctl", "-D", self.data, "-w", "promote")

    def stop(self):
        if self.running:
            self.run("pg_ctl", "-D", self.data, "-m", "immediate", "-w",
                     "stop")
            self.running = False


class Node:
    """An authnode on free ports, its log in WORK."""

    count = 0

    def __init__(self, binary, work, db, options):
        Node.count += 1
        key = os.path.join(work, "secret-key")
        self.proc, self.port = start_node(
            binary, work,
            [f"--secret-key-file={key}",
             f"--admin-key-file={work}/admin-key{Node.count}"] + options,
            db=db, log_name=f"node{Node.count}.log")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


async def rate_for(ports, seconds, request_of, connections=8, timeout=120):
    """Successful replies per second over CONNECTIONS spread on PORTS, each
    sending request_of(connection, n) one after another for SECONDS."""
    deadline = time.monotonic() + seconds
    done = [0]

    async def one(c):
        line = await AsyncLine.open(ports[c % len(ports)], timeout=timeout)
        n = 0
        while time.monotonic() < deadline:
            n += 1
            if (await line.call(request_of(c, n))).get("ok"):
                done[0] += 1
        line.close()

    start = time.monotonic()
    await asyncio.gather(*(one(c) for c in range(connections)))
    return done[0] / (time.monotonic() - start)


def registration(prefix):
    return lambda c, n: {"op": "register", "email": f"{prefix}{c}-{n}@example.org",
                         "password": "bench password 1", "name": "Bench"}


def login(email):
    return lambda c, n: {"op": "login", "email": email,
                         "password": "bench password 1"}


def whoami_rate(bindir, redis_port, ports, seconds):
    """bench_throughput's whoami at 10 in flight, one per port at once,
    summed."""
    procs = [subprocess.Popen(
        [os.path.join(bindir, "bench", "bench_throughput"),
         f"--node-port={p}", f"--redis-port={redis_port}", "--only=3",
         f"--seconds={seconds}", "--rounds=1"],
        stdout=subprocess.PIPE, text=True) for p in ports]
    total = 0.0
    for p in procs:
        out, _ = p.communicate(timeout=300)
        rows = [l.split() for l in out.splitlines()
                if l.startswith("authnode whoami")]
        total += float([r for r in rows if r[2] == "10"][0][3])
    return total


def login_rate(bindir, port, seconds):
    out = subprocess.run(
        [os.path.join(bindir, "bench", "bench_login_rate"), f"--port={port}",
         f"--seconds={seconds}"],
        stdout=subprocess.PIPE, text=True, check=True, timeout=300).stdout
    return out.strip()


def failover(binary, work, seconds):
    primary = Postgres(work, "fo-primary", synchronous=True)
    standby = Postgres(work, "fo-standby", standby_of=primary)
    primary.sql("CREATE DATABASE failover")
    uri = (f"postgresql://authnode@127.0.0.1:{primary.port},127.0.0.1:"
           f"{standby.port}/failover?target_session_attrs=read-write")
    node = Node(binary, work, uri, CHEAP + ["--backend-timeout=1s",
                                            "--register-rate=1000000"])
    marks = {}

    async def flood():
        line = await AsyncLine.open(node.port, timeout=30)
        await line.call({"op": "register", "email": "fo-login@example.org",
                         "password": "bench password 1", "name": "Bench"})
        prober = asyncio.create_task(probe_logins())
        i = 0
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            i += 1
            reply = await line.call({"op": "register",
                                     "email": f"fo{i}@example.org",
                                     "password": "bench password 1",
                                     "name": "Bench"})
            if reply.get("ok") and "promoted" in marks:
                marks["first"] = time.monotonic()
                break
            if i == 200:
                await asyncio.get_running_loop().run_in_executor(None, kill)
        line.close()
        await prober

    async def probe_logins():
        """Logs in the user registered first, one login after another, until
        one succeeds after the promotion."""
        line = await AsyncLine.open(node.port, timeout=30)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            reply = await line.call({"op": "login",
                                     "email": "fo-login@example.org",
                                     "password": "bench password 1"})
            if reply.get("ok") and "promoted" in marks:
                marks["login"] = time.monotonic()
                break
            await asyncio.sleep(0.002)
        line.close()

    def kill():
        marks["kill"] = time.monotonic()
        primary.kill()
        standby.promote()
        marks["promoted"] = time.monotonic()

    try:
        asyncio.run(flood())
    finally:
        node.stop()
        standby.stop()
        primary.stop()
    if "first" not in marks or "login" not in marks:
        return ("no registration or no login succeeded after the promotion "
                "within 60 s")
    ms = lambda a, b: (marks[b] - marks[a]) * 1000
    return (f"kill -> promotion done {ms('kill', 'promoted'):.0f} ms; "
            f"kill -> first registration acknowledged "
            f"{ms('kill', 'first'):.0f} ms; kill -> first login "
            f"{ms('kill', 'login'):.0f} ms")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bindir")
    ap.add_argument("--redis-port", type=int, required=True)
    ap.add_argument("--seconds", type=int, default=5)
    a = ap.parse_args()
    binary = os.path.join(a.bindir, "authnode")
    work = tempfile.mkdtemp(prefix="bench-pg-")
    os.chmod(work, 0o755)
    single = Postgres(work, "single")
    primary = Postgres(work, "primary", synchronous=True)
    standby = Postgres(work, "standby", standby_of=primary)
    try:
        print("== registrations/s, 8 connections, hash-ops=1 hash-mem=8192")
        for label, db in (
                ("sqlite", os.path.join(work, "reg.db")),
                ("postgresql", single.database("reg")),
                ("postgresql + sync standby", primary.database("reg"))):
            node = Node(binary, work, db, CHEAP + ["--register-rate=1000000"])
            rate = asyncio.run(rate_for([node.port], a.seconds, registration("r")))
            print(f"  {label:28s} {rate:8.1f} registrations/s")
            node.stop()

        print("== logins/s at the default cost (bench_login_rate)")
        for label, db in (("sqlite", os.path.join(work, "login.db")),
                          ("postgresql", single.database("login"))):
            node = Node(binary, work, db, ["--throttle=off"])
            print(f"  {label}:")
            for line in login_rate(a.bindir, node.port, 10).splitlines():
                print("    " + line)
            node.stop()

        print("== whoami/s, 50 connections x 10 in flight (bench_throughput)")
        for label, db in (("sqlite (session cache)",
                           os.path.join(work, "who.db")),
                          ("postgresql (no cache)", single.database("who"))):
            node = Node(binary, work, db, CHEAP)
            rate = whoami_rate(a.bindir, a.redis_port, [node.port], 3)
            print(f"  {label:28s} {rate:10.0f} whoami/s")
            node.stop()

        print("== one node vs two nodes on one PostgreSQL database")
        uri = single.database("pair")
        first = Node(binary, work, uri, ["--throttle=off"])
        asyncio.run(rate_for([first.port], 0.1, registration("pair"), 1))
        email = "pair0-1@example.org"
        one = asyncio.run(rate_for([first.port], 10, login(email)))
        second = Node(binary, work, uri, ["--throttle=off"])
        two = asyncio.run(rate_for([first.port, second.port], 10, login(email)))
        print(f"  logins/s at the default cost: one node {one:.2f}, "
              f"two nodes {two:.2f}, ratio {two / one:.2f}")
        w1 = whoami_rate(a.bindir, a.redis_port, [first.port], 3)
        w2 = whoami_rate(a.bindir, a.redis_port, [first.port, second.port], 3)
        print(f"  whoami/s: one node {w1:.0f}, two nodes {w2:.0f}, "
              f"ratio {w2 / w1:.2f}")
        first.stop()
        second.stop()
    finally:
        for pg in (standby, primary, single):
            pg.stop()

    print("== failover: SIGKILL the primary, promote the standby at once")
    print("  " + failover(binary, work, a.seconds))
    subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
