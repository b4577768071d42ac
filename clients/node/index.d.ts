// Type declarations of the authnode Node.js client, written by hand to match
// index.js; types-check/usage.ts is compiled against them by the
// node_client_types test.

/** Options of a Client. Times are in milliseconds. */
export interface ClientOptions {
  /** Connections in the pool (default 2). */
  poolSize?: number;
  /**
   * Default timeout of ping, whoami, logout, stats, recoveryStart,
   * verifyEmailStart, totpSetup and the passkey methods but
   * passkeyLoginFinish (default 10000).
   */
  timeout?: number;
  /**
   * Default timeout of register, login, changePassword, recoveryFinish,
   * verifyEmailFinish, changeEmailStart, changeEmailFinish, totpEnable,
   * totpDisable, recoveryCodesRenew, loginSecondFactor and
   * passkeyLoginFinish (default 90000): longer than the node's
   * --failure-delay plus --max-penalty.
   */
  authTimeout?: number;
  /** Timeout of each connection attempt (default 5000). */
  connectTimeout?: number;
  /** Resend ping, whoami and stats once after a lost connection (default true). */
  retryIdempotent?: boolean;
  /**
   * Open a new connection rather than send on one idle this long (default
   * 50000); keep it below the node's --idle-timeout. null: never.
   */
  maxIdle?: number | null;
  /** Refuse, unsent, a request line longer than this many bytes (default 65536). */
  maxLine?: number;
  /** The local address to connect from. */
  localAddress?: string;
}

/** Options every call takes. */
export interface CallOptions {
  /** Milliseconds to wait for the reply, reconnecting and a retry included. */
  timeout?: number;
}

/**
 * Options of register, changePassword, recoveryStart, recoveryFinish,
 * verifyEmailFinish, changeEmailStart, changeEmailFinish, totpEnable,
 * totpDisable, recoveryCodesRenew, loginSecondFactor and
 * passkeyLoginFinish.
 */
export interface ClientAddrOptions extends CallOptions {
  /** The end user's IP address; only from a peer in the node's --trusted-sources. */
  clientAddr?: string;
}

/** Options of login. */
export interface LoginOptions extends ClientAddrOptions {
  /** The device token an earlier login on this device returned. */
  deviceToken?: string;
}

/** Options of passkeyRegisterBegin. */
export interface PasskeyRegisterOptions extends CallOptions {
  /** What to call the passkey (at most 64 bytes); the node's default ("Passkey") if absent. */
  name?: string;
}

/** Options of passkeyLoginBegin. */
export interface PasskeyLoginBeginOptions extends ClientAddrOptions {
  /** The address the user typed: the options then list that account's passkeys. */
  email?: string;
}

/** A credential descriptor of allowCredentials and excludeCredentials. */
export interface PasskeyDescriptor {
  type: 'public-key';
  /** The credential id, base64url. */
  id: string;
  transports?: string[];
  [member: string]: unknown;
}

/**
 * PublicKeyCredentialCreationOptionsJSON as passkeyRegisterBegin resolves to
 * it: binary members base64url. Hand it to the browser unchanged
 * (PublicKeyCredential.parseCreationOptionsFromJSON).
 */
export interface PasskeyCreationOptions {
  rp: { id: string; name: string };
  /** `id`: a random handle of the account (not its email or number); `name`: the email. */
  user: { id: string; name: string; displayName: string };
  challenge: string;
  pubKeyCredParams: { type: 'public-key'; alg: number }[];
  timeout?: number;
  excludeCredentials?: PasskeyDescriptor[];
  authenticatorSelection?: {
    residentKey?: string; requireResidentKey?: boolean; userVerification?: string; authenticatorAttachment?: string;
  };
  attestation?: string;
  [member: string]: unknown;
}

/**
 * PublicKeyCredentialRequestOptionsJSON, the `options` of passkeyLoginBegin:
 * hand it to the browser unchanged (PublicKeyCredential.parseRequestOptionsFromJSON).
 */
export interface PasskeyRequestOptions {
  challenge: string;
  timeout?: number;
  rpId?: string;
  /** Empty without an email: the browser offers the passkeys it holds for the site. */
  allowCredentials?: PasskeyDescriptor[];
  userVerification?: string;
  [member: string]: unknown;
}

/** RegistrationResponseJSON: what the browser's `credential.toJSON()` gives after navigator.credentials.create. */
export interface RegistrationResponseJSON {
  id: string;
  rawId: string;
  type: 'public-key';
  response: { clientDataJSON: string; attestationObject: string; transports?: string[]; [member: string]: unknown };
  clientExtensionResults?: Record<string, unknown>;
  authenticatorAttachment?: string | null;
  [member: string]: unknown;
}

/** AuthenticationResponseJSON: what the browser's `credential.toJSON()` gives after navigator.credentials.get. */
export interface AuthenticationResponseJSON {
  id: string;
  rawId: string;
  type: 'public-key';
  response: {
    clientDataJSON: string; authenticatorData: string; signature: string; userHandle?: string | null;
    [member: string]: unknown;
  };
  clientExtensionResults?: Record<string, unknown>;
  authenticatorAttachment?: string | null;
  [member: string]: unknown;
}

/** Options of call. */
export interface RawCallOptions extends CallOptions {
  /** Resend once after a lost connection (default: only for ping, whoami and stats). */
  retry?: boolean;
}

/** A raw reply of the node. */
export interface Reply {
  id?: number | string;
  ok: boolean;
  [member: string]: unknown;
}

/** An account, as register, login, whoami and the account codes' methods return it. */
export class User {
  constructor(fields: {
    id: number; email: string; name: string; createdAt: Date; lastLoginAt: Date | null;
    emailVerified?: boolean; secondFactors?: string[]; extra?: Record<string, unknown>;
  });
  readonly id: number;
  readonly email: string;
  readonly name: string;
  readonly createdAt: Date;
  readonly lastLoginAt: Date | null;
  /** Whether the owner proved the address with a mailed code (false from a node without account codes). */
  readonly emailVerified: boolean;
  /** What a login needs besides the password: [] or ["totp", "recovery_code"] ([] from an older node). */
  readonly secondFactors: string[];
  readonly extra: Record<string, unknown>;
  static fromJSON(obj: unknown): User;
}

/** The result of a successful login, loginSecondFactor or recoveryFinish. */
export class Session {
  constructor(fields: {
    token: string; expiresAt: Date; user: User; deviceToken?: string | null;
    passwordBreached?: boolean; extra?: Record<string, unknown>;
  });
  readonly token: string;
  readonly expiresAt: Date;
  readonly user: User;
  readonly deviceToken: string | null;
  /** The login's password is in the node's breached-password index: ask for a change. */
  readonly passwordBreached: boolean;
  readonly extra: Record<string, unknown>;
  static fromReply(reply: unknown): Session;
}

/** The result of totpSetup: a TOTP seed pending until totpEnable; inspect hides both members. */
export class TotpSetup {
  constructor(fields: { secret: string; uri: string; extra?: Record<string, unknown> });
  /** The seed, base32, to type into an authenticator app. */
  readonly secret: string;
  /** The otpauth:// URI of the seed, for a QR code. */
  readonly uri: string;
  readonly extra: Record<string, unknown>;
  static fromReply(reply: unknown): TotpSetup;
}

/** A passkey of an account, as passkeyRegisterFinish and passkeysList give it. */
export class Passkey {
  constructor(fields: {
    id: string; name: string; createdAt: Date; lastUsedAt: Date | null; extra?: Record<string, unknown>;
  });
  /** The credential id, base64url; what passkeyDelete takes. */
  readonly id: string;
  /** The name it was registered with ("Passkey" if none was given). */
  readonly name: string;
  readonly createdAt: Date;
  /** Its latest sign-in, or null. */
  readonly lastUsedAt: Date | null;
  readonly extra: Record<string, unknown>;
  static fromJSON(obj: unknown): Passkey;
}

/** The result of passkeyLoginBegin. */
export class PasskeyLoginOptions {
  constructor(fields: { challengeId: string; options: PasskeyRequestOptions; extra?: Record<string, unknown> });
  /** For passkeyLoginFinish: once, within 5 minutes. */
  readonly challengeId: string;
  /** For navigator.credentials.get, unchanged. */
  readonly options: PasskeyRequestOptions;
  readonly extra: Record<string, unknown>;
  static fromReply(reply: unknown): PasskeyLoginOptions;
}

/** The node's counters (docs/protocol.md, "stats"). */
export class Stats {
  constructor(values?: Partial<Omit<Stats, 'extra'>>, extra?: Record<string, unknown>);
  readonly connections: number;
  readonly requestsTotal: number;
  readonly registrationsTotal: number;
  readonly loginsOk: number;
  readonly loginsFailed: number;
  readonly pendingDelayed: number;
  readonly hashVerificationsTotal: number;
  readonly rateLimitedTotal: number;
  readonly penalizedSources: number;
  readonly penalizedAccounts: number;
  readonly throttleHeld: number;
  readonly hashQueueDepth: number;
  readonly tarpittedTotal: number;
  readonly idleClosedTotal: number;
  readonly mailsSentTotal: number;
  readonly mailsFailedTotal: number;
  readonly mailsDroppedTotal: number;
  readonly outboxDepth: number;
  readonly secondFactorChallengesTotal: number;
  readonly secondFactorOkTotal: number;
  readonly secondFactorFailedTotal: number;
  readonly breachedPasswordRefusedTotal: number;
  readonly breachedLoginTotal: number;
  readonly breachedIndexState: number;
  readonly breachedIndexEntries: number;
  readonly uptimeSeconds: number;
  /** The breached-password index: off, on or missing. */
  readonly breachedPasswords: 'off' | 'on' | 'missing';
  /** The index's path on the node, '' when off. */
  readonly breachedPath: string;
  /** Counters this version does not know, under their wire names. */
  readonly extra: Record<string, unknown>;
  static fromJSON(obj: unknown): Stats;
}

/** A client for one node: a small pool of pipelined connections. */
export class Client {
  /** Make a client that connects on its first call. */
  constructor(host: string, port: number, options?: ClientOptions);
  /** Open the pool; rejects with ConnectFailed if the node cannot be reached. */
  static connect(host: string, port: number, options?: ClientOptions): Promise<Client>;
  readonly host: string;
  readonly port: number;
  readonly poolSize: number;
  readonly timeout: number;
  readonly authTimeout: number;
  readonly connectTimeout: number;
  readonly retryIdempotent: boolean;
  readonly maxIdle: number | null;
  readonly maxLine: number;
  readonly localAddress: string | undefined;
  /** Requests sent and not answered yet, over all connections. */
  readonly inFlight: number;
  /** Connections of the pool that are open now. */
  readonly openConnections: number;
  /** Close every connection; requests in flight and later calls reject with ConnectionLost. */
  close(): Promise<void>;
  ping(options?: CallOptions): Promise<void>;
  register(email: string, password: string, name: string, options?: ClientAddrOptions): Promise<User>;
  login(email: string, password: string, options?: LoginOptions): Promise<Session>;
  whoami(token: string, options?: CallOptions): Promise<User>;
  logout(token: string, options?: CallOptions): Promise<void>;
  changePassword(token: string, oldPassword: string, newPassword: string, options?: ClientAddrOptions): Promise<void>;
  stats(options?: CallOptions): Promise<Stats>;
  /** Mail a recovery code to `email` if an account has it; the same answer either way. */
  recoveryStart(email: string, options?: ClientAddrOptions): Promise<void>;
  /** Set a new password with a recovery code and log in; rejects with InvalidCode (late) for a wrong one. */
  recoveryFinish(email: string, code: string, newPassword: string, options?: ClientAddrOptions): Promise<Session>;
  /** Mail a verification code; whether one was sent (false: verified already). */
  verifyEmailStart(token: string, options?: CallOptions): Promise<boolean>;
  /** Prove the address with a verification code. */
  verifyEmailFinish(token: string, code: string, options?: ClientAddrOptions): Promise<User>;
  /** Ask to move the account to `newEmail` (the password asked again). */
  changeEmailStart(token: string, password: string, newEmail: string, options?: ClientAddrOptions): Promise<void>;
  /** Move the account to the new address with the code mailed there. */
  changeEmailFinish(token: string, code: string, options?: ClientAddrOptions): Promise<User>;
  /** Make a TOTP seed, pending until totpEnable; rejects with Conflict if TOTP is on. */
  totpSetup(token: string, options?: CallOptions): Promise<TotpSetup>;
  /** Turn TOTP on with a code of the pending seed; resolves with ten recovery codes. */
  totpEnable(token: string, code: string, options?: ClientAddrOptions): Promise<string[]>;
  /** Turn TOTP off with the password and a TOTP or recovery code. */
  totpDisable(token: string, password: string, code: string, options?: ClientAddrOptions): Promise<void>;
  /** Replace the recovery codes (a TOTP or recovery code asked); resolves with the ten new ones. */
  recoveryCodesRenew(token: string, code: string, options?: ClientAddrOptions): Promise<string[]>;
  /** Finish a login that rejected with SecondFactorRequired, with its challenge and a code. */
  loginSecondFactor(challenge: string, code: string, options?: ClientAddrOptions): Promise<Session>;
  /** Start registering a passkey: the creation options, for the browser unchanged. */
  passkeyRegisterBegin(token: string, options?: PasskeyRegisterOptions): Promise<PasskeyCreationOptions>;
  /** Register the browser's new credential; rejects with PasskeyRefused if it does not verify. */
  passkeyRegisterFinish(
    token: string, credential: RegistrationResponseJSON | Record<string, unknown>, options?: CallOptions,
  ): Promise<Passkey>;
  /** Start a passkey sign-in (of `email`'s passkeys, or of any the browser holds). */
  passkeyLoginBegin(options?: PasskeyLoginBeginOptions): Promise<PasskeyLoginOptions>;
  /** Finish a passkey sign-in: the session of a login; InvalidCredentials (late) if it failed. */
  passkeyLoginFinish(
    challengeId: string, credential: AuthenticationResponseJSON | Record<string, unknown>, options?: LoginOptions,
  ): Promise<Session>;
  /** The account's passkeys, oldest first. */
  passkeysList(token: string, options?: CallOptions): Promise<Passkey[]>;
  /** Delete one of the account's passkeys; rejects with NoSuchPasskey for an id it has none with. */
  passkeyDelete(token: string, passkeyId: string, options?: CallOptions): Promise<void>;
  /** Send any operation (fields by wire name) and resolve with its raw successful reply. */
  call(op: string, fields?: Record<string, unknown>, options?: RawCallOptions): Promise<Reply>;
}

/** The operations resent once after a lost connection: ping, whoami, stats. */
export const RETRY_SAFE_OPS: ReadonlySet<string>;
export const DEFAULT_TIMEOUT: number;
export const DEFAULT_AUTH_TIMEOUT: number;
export const DEFAULT_CONNECT_TIMEOUT: number;
export const DEFAULT_MAX_IDLE: number;
export const DEFAULT_MAX_LINE: number;
export const DEFAULT_POOL_SIZE: number;

/** Root of every error this package throws on purpose. */
export class AuthnodeClientError extends Error {}

/** The node answered "ok": false. */
export class AuthnodeError extends AuthnodeClientError {
  constructor(code: string, message: string, details?: {
    retryAfterMs?: number | null; op?: string | null; reply?: object;
  });
  /** The wire code a subclass stands for; null on the base class. */
  static readonly CODE: string | null;
  /** The stable error code of the reply. */
  readonly code: string;
  /** Set with rate_limited: milliseconds after which trying again makes sense. */
  readonly retryAfterMs: number | null;
  /** The operation refused, when known. */
  readonly op: string | null;
  /** The whole reply as received. */
  readonly reply: object;
}

export class BadJson extends AuthnodeError {}
export class BadRequest extends AuthnodeError {}
export class UnknownOp extends AuthnodeError {}
export class LineTooLong extends AuthnodeError {}
export class Busy extends AuthnodeError {}
export class Unavailable extends AuthnodeError {}
export class Internal extends AuthnodeError {}
export class InvalidEmail extends AuthnodeError {}
export class WeakPassword extends AuthnodeError {}
export class EmailTaken extends AuthnodeError {}
export class InvalidCredentials extends AuthnodeError {}
export class InvalidToken extends AuthnodeError {}
export class Forbidden extends AuthnodeError {}
export class NoSuchUser extends AuthnodeError {}
export class Exists extends AuthnodeError {}
export class BackupFailed extends AuthnodeError {}
export class InvalidCode extends AuthnodeError {}
export class EmailNotVerified extends AuthnodeError {}
export class RateLimited extends AuthnodeError {}
/** The account is not in the state a second-factor method needs (TOTP on already, off, nothing pending). */
export class Conflict extends AuthnodeError {}
/** The new password is breached, or made of the account's email, name or the site's words. */
export class BreachedPassword extends AuthnodeError {}
/** passkeyRegisterFinish: the credential does not verify (`message` names the check), or its challenge is not live. */
export class PasskeyRefused extends AuthnodeError {}
/** passkeyDelete: the account has no passkey with that id. */
export class NoSuchPasskey extends AuthnodeError {}

/**
 * login or recoveryFinish: the password (or code) was right but the account
 * has TOTP on (passkeyLoginFinish: and the passkey did not verify the
 * user); no session yet. Pass `challenge` and a code to
 * loginSecondFactor before `expiresAt`.
 */
export class SecondFactorRequired extends AuthnodeError {
  constructor(code: string, message: string, details?: {
    retryAfterMs?: number | null; op?: string | null; reply?: object;
    challenge?: string; methods?: string[]; expiresAt?: Date;
  });
  /** The challenge for loginSecondFactor; opaque, and hidden from inspect. */
  readonly challenge: string;
  /** The kinds of code it takes: "totp", "recovery_code". */
  readonly methods: string[];
  /** When the challenge stops working. */
  readonly expiresAt: Date;
  /** The password that matched is breached: ask for a change once logged in. */
  readonly passwordBreached: boolean;
}

/** Every error code of protocol version 1 and its class. */
export const ERROR_CLASSES: Readonly<Record<string, typeof AuthnodeError>>;

/** The error for a failure reply; an unknown code gives the base AuthnodeError. */
export function errorFromReply(reply: object, op?: string | null): AuthnodeError;

/** No reply came. */
export class TransportError extends AuthnodeClientError {}

/** The node could not be reached; nothing was sent. */
export class ConnectFailed extends TransportError {
  constructor(message: string, options?: { cause?: unknown });
}

/** The connection ended before the reply; if `sent`, the request may have taken effect. */
export class ConnectionLost extends TransportError {
  constructor(message: string, options?: { op?: string | null; sent?: boolean; cause?: unknown });
  readonly op: string | null;
  readonly sent: boolean;
}

/** The peer sent something that is not an authnode reply. */
export class ProtocolError extends ConnectionLost {}

/** No reply within the timeout; the request may still take effect. */
export class Timeout extends TransportError {
  constructor(message: string, options?: { op?: string | null; timeout?: number | null });
  readonly op: string | null;
  /** The timeout that ran out, in milliseconds. */
  readonly timeout: number | null;
}
