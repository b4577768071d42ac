"""Register, log in, check a token, log out: the synchronous client."""

import os

import authnode

HOST = os.environ.get("AUTHNODE_HOST", "127.0.0.1")
PORT = int(os.environ.get("AUTHNODE_PORT", "7411"))

with authnode.Client(HOST, PORT) as node:
    try:
        node.register("ann@example.org", "correct horse", "Ann")
    except authnode.EmailTaken:
        pass  # registered by an earlier run

    session = node.login("ann@example.org", "correct horse")
    print("logged in:", session.user.name, "until", session.expires_at)
    print("token of:", node.whoami(session.token).email)

    try:
        node.login("ann@example.org", "not my password")
    except authnode.InvalidCredentials as e:
        print("refused:", e.code)  # answered after the node's --failure-delay

    node.logout(session.token)
