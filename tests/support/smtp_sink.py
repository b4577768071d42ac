#!/usr/bin/python3
"""An SMTP server on loopback that keeps what it receives, for the tests.

    smtp_sink.py --dir DIR [--host 127.0.0.1] [--port 0] [--reject-while FILE]

Prints "port N" (flushed) once it listens. Each mail it accepts becomes
DIR/NNNN.eml, numbered from 0001: an "X-Sink-To: a, b" line with the
envelope recipients, then the message as received (CRLF line ends, the
SMTP dot-stuffing undone). A mail is written under a temporary name and
renamed, so a reader never sees half of one. While FILE exists every RCPT
is answered 451 (a relay that is down for a while). Exits cleanly on
SIGTERM or SIGINT.

Debian's python3-aiosmtpd; the SMTP protocol is aiosmtpd's, the sink only
decides what to keep and when to refuse.
"""

import argparse
import asyncio
import os
import signal
import sys

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, directory, reject_file):
        self.directory = directory
        self.reject_file = reject_file
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, options):
        if self.reject_file and os.path.exists(self.reject_file):
            return "451 4.3.0 Relay unavailable, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        name = "%04d.eml" % self.count
        tmp = os.path.join(self.directory, "." + name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(b"X-Sink-To: " + ", ".join(envelope.rcpt_tos).encode()
                    + b"\r\n")
            f.write(envelope.original_content)
        os.rename(tmp, os.path.join(self.directory, name))
        return "250 OK: queued as " + name


async def serve(args):
    loop = asyncio.get_running_loop()
    os.makedirs(args.dir, exist_ok=True)
    sink = Sink(args.dir, args.reject_while)
    server = await loop.create_server(
        lambda: SMTP(sink, hostname="smtp-sink.test", loop=loop),
        host=args.host, port=args.port)
    port = server.sockets[0].getsockname()[1]
    sys.stdout.write("port %d\n" % port)
    sys.stdout.flush()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()
    await server.wait_closed()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dir", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--reject-while", default="")
    args = p.parse_args()
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
