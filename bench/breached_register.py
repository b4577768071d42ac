"""Registrations per second with the breached-password check on and off
(issue 16), in one run: two nodes started by bench/run.sh with the same
options but for --breached-passwords, measured in turns (off, on, off, on,
...) so that the machine's other load falls on both alike, and the ratio
printed. Each turn keeps CONNECTIONS registrations in flight (one per
connection) for SECONDS, with fresh passwords, so every one is looked up
and then hashed at the node's cost.

    breached_register.py --off=PORT --on=PORT [--seconds=8] [--rounds=3]
                         [--connections=8]
"""
import argparse
import threading
import time

from line_conn import call, connect


def turn(port, seconds, connections, tag):
    done = [0] * connections
    refused = [0] * connections
    stop = time.monotonic() + seconds

    def worker(k):
        conn = connect(port, 120)
        i = 0
        while time.monotonic() < stop:
            i += 1
            reply = call(conn, {"op": "register", "email": f"{tag}-{k}-{i}@bench.example.org",
                                "password": f"fresh bench horse {tag} {k} {i}", "name": "Bench"})
            if reply.get("ok"):
                done[k] += 1
            else:
                refused[k] += 1
        conn[0].close()

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    if sum(refused):
        raise SystemExit(f"{sum(refused)} registrations refused on port {port}")
    return sum(done) / elapsed


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--off", type=int, required=True)
    p.add_argument("--on", type=int, required=True)
    p.add_argument("--seconds", type=float, default=8)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--connections", type=int, default=8)
    a = p.parse_args()
    rates = {"off": [], "on": []}
    for r in range(a.rounds):
        for name, port in (("off", a.off), ("on", a.on)):
            rate = turn(port, a.seconds, a.connections, f"{name}{r}")
            rates[name].append(rate)
            print(f"round {r + 1} check {name}: {rate:.1f} registrations/s")
    off = sum(rates["off"]) / a.rounds
    on = sum(rates["on"]) / a.rounds
    print(f"mean: off {off:.1f}/s, on {on:.1f}/s; on / off = {on / off:.3f}")


if __name__ == "__main__":
    main()
