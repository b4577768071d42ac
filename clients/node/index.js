// authnode: the Node.js client of authnode, the line-protocol authentication
// server. `await Client.connect(host, port)` gives a client with one method
// per operation of the public protocol (ping, register, login, whoami,
// logout, changePassword, stats, the account codes' recoveryStart,
// recoveryFinish, verifyEmailStart, verifyEmailFinish, changeEmailStart,
// changeEmailFinish, and the second factor's totpSetup, totpEnable,
// totpDisable, recoveryCodesRenew, loginSecondFactor, and the passkeys'
// passkeyRegisterBegin, passkeyRegisterFinish, passkeyLoginBegin,
// passkeyLoginFinish, passkeysList, passkeyDelete) returning typed results
// (User, Session, Stats, TotpSetup, Passkey, PasskeyLoginOptions; the
// WebAuthn options for the browser as plain objects), and one error class
// per error code. docs/clients.md explains
// timeouts, the retry policy and trusted callers; docs/protocol.md is the
// protocol.

export { Client } from './lib/client.js';
export { User, Session, Stats, TotpSetup, Passkey, PasskeyLoginOptions } from './lib/types.js';
export {
  RETRY_SAFE_OPS, DEFAULT_TIMEOUT, DEFAULT_AUTH_TIMEOUT, DEFAULT_CONNECT_TIMEOUT,
  DEFAULT_MAX_IDLE, DEFAULT_MAX_LINE, DEFAULT_POOL_SIZE,
} from './lib/protocol.js';
export {
  AuthnodeClientError, AuthnodeError, BadJson, BadRequest, UnknownOp, LineTooLong, Busy,
  Unavailable, Internal, InvalidEmail, WeakPassword, EmailTaken, InvalidCredentials,
  InvalidToken, Forbidden, NoSuchUser, Exists, BackupFailed, InvalidCode, EmailNotVerified,
  RateLimited, SecondFactorRequired, Conflict, BreachedPassword, PasskeyRefused, NoSuchPasskey, ERROR_CLASSES,
  errorFromReply, TransportError, ConnectFailed, ConnectionLost, ProtocolError, Timeout,
} from './lib/errors.js';
