"""An application server logging its users in through authnode.

The node must list this server in --trusted-sources, so that it throttles
the end user's address (client_addr), not the server's.
"""

import os

import authnode

HOST = os.environ.get("AUTHNODE_HOST", "127.0.0.1")
PORT = int(os.environ.get("AUTHNODE_PORT", "7411"))

node = authnode.Client(HOST, PORT)  # one per process, shared by all threads


def handle_login(email: str, password: str, remote_addr: str, device_cookie: str | None) -> tuple[int, str]:
    """Answer a web login form: an HTTP status and a body."""
    try:
        session = node.login(email, password, client_addr=remote_addr, device_token=device_cookie)
    except authnode.InvalidCredentials:
        return 401, "wrong email or password"
    except authnode.RateLimited as e:
        return 429, f"too many attempts, wait {e.retry_after_ms // 1000 + 1} s"
    except (authnode.Busy, authnode.Unavailable, authnode.TransportError):
        # No session for sure (Busy) or maybe one (the others); either way
        # the user just tries again. Never resend a login yourself.
        return 503, "try again in a moment"
    # Keep session.device_token (if set) in a long-lived cookie on that
    # browser: it exempts this user's logins from penalties others earn.
    return 200, f"welcome {session.user.name}"


try:
    node.register("cy@example.org", "correct horse", "Cy", client_addr="203.0.113.9")
except authnode.EmailTaken:
    pass
print(handle_login("cy@example.org", "correct horse", "203.0.113.9", None))
print(handle_login("cy@example.org", "wrong", "198.51.100.4", None))
node.close()
