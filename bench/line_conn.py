"""One connection to a node's line protocol, for the Python benchmarks:
open it, and send a request and read its reply (one at a time)."""
import json
import socket


def connect(port, timeout):
    """A connection to 127.0.0.1:PORT with Nagle off, each read and write
    bounded by TIMEOUT seconds: (socket, reader)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s, s.makefile("rb")


def call(conn, request):
    """Sends one request line and returns the next reply line, decoded."""
    s, f = conn
    s.sendall((json.dumps(request) + "\n").encode())
    return json.loads(f.readline())
