"""Python clients for authnode, the line-protocol authentication server.

* :class:`Client`: synchronous, thread-safe, one pipelined connection.
* :class:`AsyncClient`: asyncio, a small pool of pipelined connections
  (``await AsyncClient.connect(host, port)``).

Both have one method per operation of the public protocol (``ping``,
``register``, ``login``, ``whoami``, ``logout``, ``change_password``,
``stats``, and the account codes' ``recovery_start``, ``recovery_finish``,
``verify_email_start``, ``verify_email_finish``, ``change_email_start``,
``change_email_finish``, and the second factor's ``totp_setup``,
``totp_enable``, ``totp_disable``, ``recovery_codes_renew``,
``login_second_factor``, and the passkeys' ``passkey_register_begin``,
``passkey_register_finish``, ``passkey_login_begin``,
``passkey_login_finish``, ``passkeys_list``, ``passkey_delete``)
returning typed results (:class:`User`, :class:`Session`, :class:`Stats`,
:class:`TotpSetup`, :class:`Passkey`, :class:`PasskeyLoginOptions`; the
WebAuthn options for the browser as plain dicts), and raise one
exception class per error code (see :mod:`authnode.errors`).
docs/clients.md explains timeouts, the retry policy and the
trusted-caller setup; docs/protocol.md is the protocol.
"""

from ._protocol import RETRY_SAFE_OPS
from .aio import AsyncClient
from .client import Client
from .errors import (
    ERROR_CLASSES,
    AuthnodeError,
    BadJson,
    BadRequest,
    Busy,
    Conflict,
    BreachedPassword,
    ConnectFailed,
    ConnectionLost,
    EmailTaken,
    Error,
    EmailNotVerified,
    Forbidden,
    Internal,
    InvalidCode,
    InvalidCredentials,
    InvalidEmail,
    InvalidToken,
    LineTooLong,
    NoSuchPasskey,
    NoSuchUser,
    PasskeyRefused,
    ProtocolError,
    RateLimited,
    SecondFactorRequired,
    Timeout,
    TransportError,
    Unavailable,
    UnknownOp,
    WeakPassword,
)
from .types import Passkey, PasskeyLoginOptions, Session, Stats, TotpSetup, User

__version__ = "0.1.0"

__all__ = [
    "Client",
    "AsyncClient",
    "User",
    "Session",
    "Stats",
    "TotpSetup",
    "Passkey",
    "PasskeyLoginOptions",
    "RETRY_SAFE_OPS",
    "ERROR_CLASSES",
    "Error",
    "AuthnodeError",
    "BadJson",
    "BadRequest",
    "UnknownOp",
    "LineTooLong",
    "Busy",
    "Unavailable",
    "Internal",
    "InvalidEmail",
    "WeakPassword",
    "EmailTaken",
    "InvalidCredentials",
    "InvalidToken",
    "Forbidden",
    "NoSuchUser",
    "InvalidCode",
    "EmailNotVerified",
    "SecondFactorRequired",
    "Conflict",
    "BreachedPassword",
    "PasskeyRefused",
    "NoSuchPasskey",
    "RateLimited",
    "TransportError",
    "ConnectFailed",
    "ConnectionLost",
    "Timeout",
    "ProtocolError",
]
