"""The web app authnode was made for: the seed app's login flow on authnode.

Run it beside a node with ``uvicorn main:app`` in this folder (or
``run.sh``); the node's address comes from ``AUTHNODE_HOST`` and
``AUTHNODE_PORT``. The routes are the seed app's:

    GET/POST /account/register   register, then logged in
    GET/POST /account/login      log in by email and password
    GET/POST /account/logout     log out (POST, with a CSRF token)
    GET      /account            the account page (authnode ``whoami``)
    POST     /account/password   change the password (with a CSRF token)
    GET/POST /account/recover    "Forgot password?": mail a recovery code
    GET/POST /account/recover/code   the code and a new password, then logged in
    POST     /account/verify/send    mail a verification code (CSRF)
    POST     /account/verify     prove the address with that code (CSRF)
    GET/POST /account/email      change the email address: a code to the new one
    GET/POST /account/email/code     that code, then the account has moved
    GET/POST /account/login/code     a login's second step: a TOTP or recovery code
    GET      /account/security   two-factor authentication: on or off
    POST     /account/security/totp/setup    a new seed: QR code, secret, code form (CSRF)
    POST     /account/security/totp/enable   its code: TOTP on, the recovery codes once (CSRF)
    POST     /account/security/codes         new recovery codes for a code (CSRF)
    POST     /account/security/totp/disable  TOTP off, with the password and a code (CSRF)
    POST     /account/security/passkeys/begin   creation options for a new passkey (JSON, CSRF)
    POST     /account/security/passkeys/finish  the browser's new credential, stored (JSON, CSRF)
    POST     /account/security/passkeys/delete  remove a passkey (CSRF)
    POST     /account/login/passkey/begin    request options for a passkey sign-in (JSON)
    POST     /account/login/passkey/finish   the browser's assertion, then logged in (JSON)

Decisions a newcomer would question:

* **The session cookie is the authnode token.** authnode already stores the
  sessions (as digests), expires them and revokes them on logout and on a
  password change, so the app keeps no session store of its own. The cookie
  is HttpOnly, SameSite=Lax, Path=/, ``Secure`` when the request came over
  https (as uvicorn saw it: behind a TLS proxy with ``--proxy-headers`` and
  ``--forwarded-allow-ips``), and lives until the token's ``expires_at``.
  Every account page asks the node (``whoami``), so a logout or password
  change elsewhere ends the session here at once.
* **client_addr is the browser's address** (``request.client.host``: the
  forwarded one when uvicorn trusts the proxy). This app's host must be in
  the node's ``--trusted-sources``; then the node throttles the guesser, not
  the web server. A second cookie keeps the node's device token on the
  browser, so its owner gets in while someone else's guesses have the
  account penalized.
* **One asyncio client per process, a pool of connections.** A wrong
  password is answered by the node after ``--failure-delay``, a penalized
  login later still; the request waiting for it holds no thread and no
  connection of its own, so everyone else is served meanwhile.
* **CSRF.** Forms that change state while logged in (logout, change
  password, verify and change the email, the second factor's) carry
  HMAC(secret, session token), and the login's second step HMAC(secret,
  challenge); SameSite=Lax alone would leave older browsers and same-site
  attackers. The secret is ``WEBAPP_SECRET`` or, if unset, random per
  process (then forms rendered before a restart are refused once, and a
  login waiting for its code starts again).
* **Account codes never say who has an account.** "Forgot password?"
  answers every well-formed address with the same page ("If the address
  has an account, we sent it a code"), rendered at once rather than
  redirected, so the address is in no URL (nor the access log); the code
  page asks for the address again with the code. A node without mail
  answers those ops ``unavailable`` naming ``--smtp-url``: the page then
  says the feature is not available on this site, not that the service is
  down.
* **A login's second step keeps its challenge in a cookie.** When the
  node answers a right password with ``second_factor_required``, the
  challenge (with a code it is a session) goes into a ``challenge`` cookie,
  HttpOnly, SameSite=Lax, on ``/account/login`` only, signed with the CSRF
  secret (it also counts the wrong codes and holds the challenge's expiry,
  so the app sees when the node has killed it: after 5 wrong codes or 5
  minutes, back to the login page with a note). It is never in a URL. The
  code form's CSRF token is made from the challenge as the other forms'
  from the session token.
* **The TOTP seed is shown once and kept nowhere.** The setup page has the
  QR code as inline SVG (python3-qrcode; no file, no other host, nothing
  the CSP would have to allow) and the seed as text; the app does not
  keep it: a wrong confirmation code shows the form again, and "Start
  over" makes a new seed. The recovery codes are the answer to the POST
  that made them (``Cache-Control: no-store`` like every page), never
  shown again.
* **Status codes.** A wrong password is 401 with the form again;
  ``rate_limited`` is 429 with ``Retry-After`` (seconds, rounded up);
  ``busy``, ``unavailable``, an unreachable node or a lost reply are 503;
  bad input 400, a taken email 409, a bad CSRF token 403. A wrong code
  (``invalid_code``, held by the node like a wrong password) is 401 as
  well; a feature the node has no mail for is 503; a second-factor form
  that does not fit the account's state (``conflict``) is 409.
* **Passkeys: a static script, JSON in and out.** The options the node
  makes go to ``navigator.credentials`` unchanged and the credential the
  browser makes goes back unchanged (static/passkeys.js, a file of the
  app's own: the CSP allows ``script-src 'self'`` and ``connect-src
  'self'``, nothing inline, no other host). Its four endpoints take and
  answer JSON; they accept only ``Content-Type: application/json``, which
  a page of another site cannot send without a CORS preflight that this
  app never answers, and the logged-in two carry the CSRF token in an
  ``X-CSRF-Token`` header. A passkey sign-in sets the same cookies as a
  password login, or, for an account with TOTP whose passkey did not
  verify the user, goes on to the code page like a password does. Whether
  the node offers passkeys at all (``--webauthn-rp-id``) is asked once
  and remembered: without them, no passkey button is shown.

Nothing here logs a password or a token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import logging
import math
import os
import secrets
import sys
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

import qrcode
import qrcode.image.svg
from fastapi import FastAPI, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

HERE = Path(__file__).resolve().parent

try:
    import authnode
except ImportError:  # not installed: the package of this repository
    sys.path.insert(0, str(HERE.parents[1] / "clients" / "python"))
    import authnode

log = logging.getLogger("webapp")

AUTHNODE_HOST = os.environ.get("AUTHNODE_HOST", "127.0.0.1")
AUTHNODE_PORT = int(os.environ.get("AUTHNODE_PORT", "7411"))
AUTHNODE_POOL = int(os.environ.get("AUTHNODE_POOL", "4"))
SECRET = os.environ.get("WEBAPP_SECRET", "").encode() or secrets.token_bytes(32)

SESSION_COOKIE = "session"
DEVICE_COOKIE = "device"
#: Set for the session's lifetime when its login's grant said
#: ``password_breached``: the account page asks for a new password. A cookie
#: rather than asking the node again, because only a login knows (the node
#: keeps no such flag); cleared when the password is changed.
BREACHED_COOKIE = "breached"
DEVICE_MAX_AGE = 400 * 24 * 3600  # the longest browsers keep a cookie
#: A login waiting for its second factor (see :class:`PendingLogin`); sent
#: to the login pages only.
CHALLENGE_COOKIE = "challenge"
CHALLENGE_PATH = "/account/login"
#: The node kills a challenge after this many wrong codes
#: (docs/protocol.md, "Second factor").
MAX_WRONG_CODES = 5

#: Notes a redirect may ask a page to show (by key, so no text is reflected).
NOTES = {
    "bye": "You are logged out.",
    "changed": "Your password is changed. Your other sessions are logged out.",
    "expired": "Your session has ended. Please log in again.",
    "registered": "Your account is created. Please log in.",
    "recovered": "Your new password is set and you are logged in. Your other sessions are logged out.",
    "code-sent": "We sent a code to your address. Enter it below.",
    "verified": "Your address is verified.",
    "email-sent": "We sent a code to the new address. Enter it here to move your account there.",
    "email-changed": "Your email address is changed.",
    "recovered-code": "Your new password is set and your other sessions are logged out. "
                      "To log in, enter a code from your authenticator app.",
    "code-expired": "The time to enter the code has run out. Please log in again.",
    "code-tries": "That was too many wrong codes. Please log in again.",
    "totp-off": "Two-factor authentication is off.",
    "passkey-added": "Your passkey is added. Next time, sign in with it.",
    "passkey-removed": "The passkey is removed.",
}

#: What the passkey pages say (as JSON ``error``, shown by static/passkeys.js).
PASSKEYS_OFF = "Passkeys are not available on this site right now."
PASSKEY_FAILED = "That passkey did not sign you in. Try again, or use your password."

#: What a page says when the node has no mail for the feature.
MAIL_OFF = {
    "recovery": "Password recovery is not available on this site right now.",
    "verify": "Email verification is not available on this site right now.",
    "email": "Changing the email address is not available on this site right now.",
}

#: What a page says to a code the node refused (``invalid_code``).
WRONG_CODE = "That code is not right, or no longer valid. Check the mail, or ask for a new code."

#: What a page says to a second-factor code the node refused: wrong, or a
#: TOTP code of a time step used already, or a recovery code used up.
WRONG_SECOND_FACTOR = ("That code is not right, or was used already. Enter the code your "
                       "authenticator app shows now, or one of your recovery codes.")
WRONG_SETUP_CODE = "That code is not right. Enter the 6-digit code your authenticator app shows now."


app = FastAPI(title="authnode web app", docs_url=None, redoc_url=None, openapi_url=None)
app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
templates = Jinja2Templates(directory=str(HERE / "templates"))


@app.on_event("startup")
async def open_node_client() -> None:
    # The constructor, not AsyncClient.connect(): connect() opens the pool
    # at once and fails while the node is down; the constructor opens
    # nothing, the first call connects (ConnectFailed, so 503, while the
    # node is down) and later calls reconnect as needed (the documented lazy
    # form, docs/clients.md "The asyncio client"). So the app starts before
    # the node does and recovers when it is up.
    app.state.node = authnode.AsyncClient(AUTHNODE_HOST, AUTHNODE_PORT, pool_size=AUTHNODE_POOL)


@app.on_event("shutdown")
async def close_node_client() -> None:
    await app.state.node.close()


def node() -> authnode.AsyncClient:
    return app.state.node


@app.middleware("http")
async def security_headers(request: Request, call_next: Any) -> Response:
    response: Response = await call_next(request)
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'none'; style-src 'self'; img-src 'self'; script-src 'self'; "
        "connect-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if not request.url.path.startswith("/static/"):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


# -- helpers -----------------------------------------------------------------


def page(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    note = NOTES.get(request.query_params.get("note", ""))
    return templates.TemplateResponse(
        template, {"request": request, "note": note, **context}, status_code=status
    )


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def browser_address(request: Request) -> Optional[str]:
    """The browser's IP address as uvicorn sees it, or ``None``."""
    if request.client is None:
        return None
    try:
        return str(ipaddress.ip_address(request.client.host))
    except ValueError:
        return None


def csrf_token(session_token: str) -> str:
    """The CSRF token of the forms of a session (or of a pending login's
    second step: then of its challenge)."""
    mac = hmac.new(SECRET, b"csrf:" + session_token.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def csrf_ok(session_token: str, sent: str) -> bool:
    return hmac.compare_digest(csrf_token(session_token), sent)


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def set_breached(response: Response, request: Request, breached: bool, seconds: float) -> None:
    """The ``breached`` cookie: set for ``seconds`` when ``breached``, else
    removed."""
    if breached:
        response.set_cookie(
            BREACHED_COOKIE, "1", max_age=max(0, int(seconds)), path="/",
            secure=is_https(request), httponly=True, samesite="lax",
        )
    else:
        response.delete_cookie(BREACHED_COOKIE, path="/", secure=is_https(request),
                               httponly=True, samesite="lax")


def set_session(response: Response, request: Request, session: authnode.Session,
                breached: bool = False) -> None:
    """The session's cookies. ``breached``: the first step of a login with a
    second factor said the password is breached (the second step's session
    says so too, from a node of this version; an older one said false)."""
    left = (session.expires_at - datetime.now(timezone.utc)).total_seconds()
    response.set_cookie(
        SESSION_COOKIE, session.token, max_age=max(0, int(left)), path="/",
        secure=is_https(request), httponly=True, samesite="lax",
    )
    set_breached(response, request, session.password_breached or breached, left)
    if session.device_token is not None:
        response.set_cookie(
            DEVICE_COOKIE, session.device_token, max_age=DEVICE_MAX_AGE, path="/",
            secure=is_https(request), httponly=True, samesite="lax",
        )


def clear_session(response: Response, request: Request) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", secure=is_https(request), httponly=True, samesite="lax"
    )


@dataclass
class PendingLogin:
    """A login whose password was right, waiting for its second factor:
    what the ``challenge`` cookie holds.

    ``challenge`` is the node's; ``expires_at`` (Unix seconds) its expiry as
    the node said; ``wrong`` the wrong codes sent so far, so that the app
    knows when the node has killed the challenge (it answers a dead
    challenge ``invalid_code``, like a wrong code); ``then`` the note the
    account page shows once logged in (a key of :data:`NOTES`, or "").
    The cookie is signed, so that none of it can be made up; a forged
    challenge would only be refused by the node, but a forged count or
    expiry would make the app say the wrong thing.
    """

    challenge: str
    expires_at: int
    wrong: int = 0
    then: str = ""

    def expired(self) -> bool:
        return time.time() >= self.expires_at

    def encode(self) -> str:
        body = base64.urlsafe_b64encode(json.dumps(asdict(self)).encode()).rstrip(b"=")
        return body.decode() + "." + _challenge_mac(body)

    @classmethod
    def decode(cls, value: str) -> Optional["PendingLogin"]:
        body, _, mac = value.encode().partition(b".")
        if not hmac.compare_digest(_challenge_mac(body).encode(), mac):
            return None
        try:
            fields = json.loads(base64.urlsafe_b64decode(body + b"=" * (-len(body) % 4)))
            return cls(**fields)
        except (ValueError, TypeError):
            return None


def _challenge_mac(body: bytes) -> str:
    mac = hmac.new(SECRET, b"challenge:" + body, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def pending_login(request: Request) -> Optional[PendingLogin]:
    """The browser's login waiting for a code, if its cookie is one of
    this app's (a restart with a random ``WEBAPP_SECRET`` forgets it)."""
    value = request.cookies.get(CHALLENGE_COOKIE)
    return PendingLogin.decode(value) if value else None


def set_pending_login(response: Response, request: Request, pending: PendingLogin) -> None:
    response.set_cookie(
        CHALLENGE_COOKIE, pending.encode(), max_age=max(0, int(pending.expires_at - time.time())),
        path=CHALLENGE_PATH, secure=is_https(request), httponly=True, samesite="lax",
    )


def clear_pending_login(response: Response, request: Request) -> None:
    response.delete_cookie(
        CHALLENGE_COOKIE, path=CHALLENGE_PATH, secure=is_https(request), httponly=True, samesite="lax"
    )


def second_step(request: Request, e: authnode.SecondFactorRequired, then: str = "",
                note: str = "") -> Response:
    """The answer to a right password of an account with TOTP on: the
    challenge into its cookie, and the browser to the code page."""
    response = redirect("/account/login/code" + (f"?note={note}" if note else ""))
    pending = PendingLogin(e.challenge, int(e.expires_at.timestamp()), then=then)
    set_pending_login(response, request, pending)
    # Kept for the second step, which makes it the session's (set_session).
    set_breached(response, request, e.password_breached, pending.expires_at - time.time())
    return response


def pending_ended(request: Request, note: str) -> Response:
    """Back to the login page with ``note``: the challenge is dead."""
    response = redirect(f"/account/login?note={note}")
    clear_pending_login(response, request)
    return response


def qr_svg(uri: str) -> str:
    """``uri`` as a QR code, an SVG element to put into the page as it is:
    no file and no other host, so the page's CSP needs to allow nothing."""
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage)
    return image.to_string(encoding="unicode")


def grouped(secret: str) -> str:
    """The base32 seed in groups of four, for typing into an app by hand
    (the apps ignore the spaces)."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def retry_after_seconds(e: authnode.RateLimited) -> int:
    return max(1, math.ceil((e.retry_after_ms or 1000) / 1000))


def no_address(request: Request, template: str, **context: Any) -> Response:
    log.error("no IP address for the browser (%r); refusing rather than "
              "having the node throttle this server", request.client)
    return page(request, template, 400, error="Your address could not be determined.", **context)


def trouble(request: Request, e: authnode.Error, template: str, **context: Any) -> Response:
    """The answer to what the node said that is no verdict on the form:
    429 (rate_limited), 503 (busy, unavailable, no reply) or 500."""
    if isinstance(e, authnode.RateLimited):
        wait = retry_after_seconds(e)
        response = page(
            request, template, 429,
            error=f"Too many attempts. Please wait {wait} seconds before you try again.",
            **context,
        )
        response.headers["Retry-After"] = str(wait)
        return response
    if isinstance(e, (authnode.Busy, authnode.Unavailable, authnode.TransportError)):
        log.warning("authnode: %s: %s", type(e).__name__, e)
        return page(
            request, "error.html", 503, title="Please try again in a moment",
            error="The sign-in service is not available right now.",
        )
    if isinstance(e, authnode.BadRequest) and "client_addr" in e.message:
        log.error("authnode refused client_addr (%s): is this server's address "
                  "in the node's --trusted-sources?", e.message)
    else:
        log.error("authnode: %s: %s", type(e).__name__, e)
    return page(request, "error.html", 500, title="Something went wrong",
                error="The sign-in service gave an unexpected answer.")


def mail_off(e: authnode.Error) -> bool:
    """Whether ``e`` is the account codes' answer of a node without mail:
    ``unavailable`` naming ``--smtp-url`` (docs/protocol.md, "Account
    codes"), as opposed to a database that did not answer in time."""
    return isinstance(e, authnode.Unavailable) and "--smtp-url" in e.message


def code_trouble(request: Request, e: authnode.Error, feature: str, template: str,
                 **context: Any) -> Response:
    """:func:`trouble` for the account codes' ops: a node without mail is
    503 with the form and :data:`MAIL_OFF`'s sentence."""
    if mail_off(e):
        log.warning("authnode has no mail (%s): %s", e.op, e.message)
        return page(request, template, 503, error=MAIL_OFF[feature], **context)
    return trouble(request, e, template, **context)


async def current_user(request: Request) -> tuple[Optional[str], Optional[authnode.User]]:
    """The session token and its account; ``(None, None)`` when the browser
    has no live session. Raises what the node raises besides InvalidToken."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None, None
    try:
        return token, await node().whoami(token)
    except authnode.InvalidToken:
        return None, None


def back_to_login(request: Request, note: Optional[str] = None) -> Response:
    response = redirect("/account/login" + (f"?note={note}" if note else ""))
    if request.cookies.get(SESSION_COOKIE):
        clear_session(response, request)
    return response


# -- routes ------------------------------------------------------------------


@app.get("/")
async def home() -> Response:
    return redirect("/account")


@app.get("/favicon.ico")
async def favicon() -> Response:
    return Response(status_code=204)  # none; and no 404 in the browser's console


@app.get("/account/register")
async def register_form(request: Request) -> Response:
    return page(request, "register.html", form={})


@app.post("/account/register")
async def register(
    request: Request, email: str = Form(""), password: str = Form(""), name: str = Form("")
) -> Response:
    form = {"email": email, "name": name}
    addr = browser_address(request)
    if addr is None:
        return no_address(request, "register.html", form=form)
    try:
        await node().register(email, password, name, client_addr=addr)
    except authnode.EmailTaken:
        return page(request, "register.html", 409, form=form,
                    error="An account with that email exists already. Log in instead?")
    except (authnode.InvalidEmail, authnode.WeakPassword, authnode.BreachedPassword) as e:
        return page(request, "register.html", 400, form=form, error=_sentence(e.message))
    except authnode.BadRequest as e:
        if "client_addr" in e.message:
            return trouble(request, e, "register.html", form=form)
        return page(request, "register.html", 400, form=form, error=_sentence(e.message))
    except authnode.Error as e:
        return trouble(request, e, "register.html", form=form)
    # Registered: log in at once, as the seed app did.
    try:
        session = await node().login(email, password, client_addr=addr)
    except authnode.Error:
        return redirect("/account/login?note=registered")
    response = redirect("/account")
    set_session(response, request, session)
    return response


@app.get("/account/login")
async def login_form(request: Request) -> Response:
    return page(request, "login.html", form={}, passkeys=await passkeys_offered())


@app.post("/account/login")
async def login(request: Request, email: str = Form(""), password: str = Form("")) -> Response:
    form = {"email": email}
    addr = browser_address(request)
    if addr is None:
        return no_address(request, "login.html", form=form)
    try:
        session = await node().login(
            email, password, client_addr=addr, device_token=request.cookies.get(DEVICE_COOKIE)
        )
    except authnode.InvalidCredentials:
        # Answered by the node after its --failure-delay, on purpose.
        return page(request, "login.html", 401, form=form, error="Wrong email or password.")
    except authnode.EmailNotVerified:
        # A node with --require-verified-email; the password matched. A
        # recovery code proves the address as well, without a session.
        return page(request, "login.html", 403, form=form, unverified=True,
                    error="Your email address is not verified yet.")
    except authnode.SecondFactorRequired as e:
        return second_step(request, e)
    except authnode.Error as e:
        return trouble(request, e, "login.html", form=form)
    response = redirect("/account")
    set_session(response, request, session)
    return response


@app.get("/account/login/code")
async def login_code_form(request: Request) -> Response:
    pending = pending_login(request)
    if pending is None:
        if request.cookies.get(CHALLENGE_COOKIE):
            return pending_ended(request, "code-expired")
        return redirect("/account/login")
    if pending.expired():
        return pending_ended(request, "code-expired")
    return page(request, "login_code.html", csrf=csrf_token(pending.challenge))


@app.post("/account/login/code")
async def login_code(request: Request, code: str = Form(""), csrf: str = Form("")) -> Response:
    """``login_second_factor``: a TOTP or recovery code, then logged in as
    after a login."""
    pending = pending_login(request)
    if pending is None:
        if request.cookies.get(CHALLENGE_COOKIE):
            return pending_ended(request, "code-expired")
        return redirect("/account/login")
    if not csrf_ok(pending.challenge, csrf):
        return forbidden(request)
    if pending.expired():
        return pending_ended(request, "code-expired")
    addr = browser_address(request)
    if addr is None:
        return no_address(request, "login_code.html", csrf=csrf)
    try:
        session = await node().login_second_factor(pending.challenge, code, client_addr=addr)
    except authnode.InvalidCode:
        # Held by the node like a wrong password. The node kills the
        # challenge at the fifth wrong code (or when it expires) and then
        # says invalid_code to every code: count them, to know.
        pending.wrong += 1
        if pending.wrong >= MAX_WRONG_CODES:
            return pending_ended(request, "code-tries")
        if pending.expired():
            return pending_ended(request, "code-expired")
        response = page(request, "login_code.html", 401, csrf=csrf, error=WRONG_SECOND_FACTOR)
        set_pending_login(response, request, pending)
        return response
    except authnode.Error as e:
        return trouble(request, e, "login_code.html", csrf=csrf)
    response = redirect("/account" + (f"?note={pending.then}" if pending.then else ""))
    clear_pending_login(response, request)
    set_session(response, request, session, breached=request.cookies.get(BREACHED_COOKIE) == "1")
    return response


@app.get("/account")
async def account(request: Request) -> Response:
    try:
        token, user = await current_user(request)
    except authnode.Error as e:
        return trouble(request, e, "error.html")
    if user is None:
        return back_to_login(request, "expired" if request.cookies.get(SESSION_COOKIE) else None)
    return page(request, "account.html", user=user, csrf=csrf_token(token),
                breached=request.cookies.get(BREACHED_COOKIE) == "1")


@app.post("/account/password")
async def change_password(
    request: Request,
    old_password: str = Form(""),
    new_password: str = Form(""),
    csrf: str = Form(""),
) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return back_to_login(request)
    if not csrf_ok(token, csrf):
        return forbidden(request)
    addr = browser_address(request)
    user: Optional[authnode.User] = None
    try:
        _, user = await current_user(request)
        if user is None:
            return back_to_login(request, "expired")
        if addr is None:
            return no_address(request, "account.html", user=user, csrf=csrf)
        await node().change_password(token, old_password, new_password, client_addr=addr)
    except authnode.InvalidToken:
        return back_to_login(request, "expired")
    except authnode.InvalidCredentials:
        return page(request, "account.html", 401, user=user, csrf=csrf,
                    error="Your current password is not right.")
    except (authnode.WeakPassword, authnode.BreachedPassword) as e:
        return page(request, "account.html", 400, user=user, csrf=csrf,
                    error=_sentence(e.message))
    except authnode.Error as e:
        if user is None:
            return trouble(request, e, "error.html")
        return trouble(request, e, "account.html", user=user, csrf=csrf)
    response = redirect("/account?note=changed")
    set_breached(response, request, False, 0)
    return response


@app.get("/account/logout")
async def logout_form(request: Request) -> Response:
    try:
        token, user = await current_user(request)
    except authnode.Error as e:
        return trouble(request, e, "error.html")
    if user is None:
        return back_to_login(request)
    return page(request, "logout.html", user=user, csrf=csrf_token(token))


@app.post("/account/logout")
async def logout(request: Request, csrf: str = Form("")) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return back_to_login(request)
    if not csrf_ok(token, csrf):
        return forbidden(request)
    try:
        await node().logout(token)
    except authnode.InvalidToken:
        pass  # ended already (expired, revoked): logged out all the same
    except authnode.Error as e:
        # The session may still be live on the node: keep the cookie, so
        # that the user can log out again, rather than pretend it ended.
        return trouble(request, e, "error.html")
    return back_to_login(request, "bye")


# -- account codes: recovery ---------------------------------------------------


@app.get("/account/recover")
async def recover_form(request: Request) -> Response:
    return page(request, "recover.html", form={})


@app.post("/account/recover")
async def recover(request: Request, email: str = Form("")) -> Response:
    """``recovery_start``. The node answers alike whether the address has
    an account, and so does this page."""
    form = {"email": email}
    addr = browser_address(request)
    if addr is None:
        return no_address(request, "recover.html", form=form)
    try:
        await node().recovery_start(email, client_addr=addr)
    except authnode.InvalidEmail as e:
        return page(request, "recover.html", 400, form=form, error=_sentence(e.message))
    except authnode.Error as e:
        return code_trouble(request, e, "recovery", "recover.html", form=form)
    return page(request, "recover_code.html", form=form,
                note="If the address has an account, we sent it a code.")


@app.get("/account/recover/code")
async def recover_code_form(request: Request) -> Response:
    return page(request, "recover_code.html", form={})


@app.post("/account/recover/code")
async def recover_finish(
    request: Request, email: str = Form(""), code: str = Form(""), new_password: str = Form("")
) -> Response:
    """``recovery_finish``: the new password, and a session as after a login."""
    form = {"email": email}
    addr = browser_address(request)
    if addr is None:
        return no_address(request, "recover_code.html", form=form)
    try:
        session = await node().recovery_finish(email, code, new_password, client_addr=addr)
    except authnode.InvalidCode:
        # Held by the node like a wrong password; says nothing about the email.
        return page(request, "recover_code.html", 401, form=form, error=WRONG_CODE)
    except authnode.SecondFactorRequired as e:
        # The password is set and the other sessions revoked; recovery by
        # mail does not skip the second factor.
        return second_step(request, e, then="recovered", note="recovered-code")
    except (authnode.WeakPassword, authnode.BreachedPassword) as e:
        return page(request, "recover_code.html", 400, form=form, error=_sentence(e.message))
    except authnode.BadRequest as e:
        if "client_addr" in e.message:
            return trouble(request, e, "recover_code.html", form=form)
        return page(request, "recover_code.html", 400, form=form, error=_sentence(e.message))
    except authnode.Error as e:
        return code_trouble(request, e, "recovery", "recover_code.html", form=form)
    response = redirect("/account?note=recovered")
    set_session(response, request, session)
    return response


# -- account codes: verification and a new address ---------------------------


async def logged_in_post(request: Request, csrf: str) -> tuple[Optional[Response], str, Optional[authnode.User]]:
    """The start of every POST of a logged-in form: ``(response, token,
    user)`` where ``response`` is set when the request ends here (no
    session: to the login page; a wrong CSRF token: 403; the node's
    trouble)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return back_to_login(request), "", None
    if not csrf_ok(token, csrf):
        return forbidden(request), token, None
    try:
        _, user = await current_user(request)
    except authnode.Error as e:
        return trouble(request, e, "error.html"), token, None
    if user is None:
        return back_to_login(request, "expired"), token, None
    return None, token, user


@app.post("/account/verify/send")
async def verify_send(request: Request, csrf: str = Form("")) -> Response:
    """``verify_email_start``: a code to the account's address."""
    done, token, user = await logged_in_post(request, csrf)
    if done is not None:
        return done
    try:
        sent = await node().verify_email_start(token)
    except authnode.InvalidToken:
        return back_to_login(request, "expired")
    except authnode.Error as e:
        return code_trouble(request, e, "verify", "account.html", user=user, csrf=csrf)
    return redirect("/account?note=" + ("code-sent" if sent else "verified"))


@app.post("/account/verify")
async def verify(request: Request, code: str = Form(""), csrf: str = Form("")) -> Response:
    """``verify_email_finish``: the banner goes once the code is right."""
    done, token, user = await logged_in_post(request, csrf)
    if done is not None:
        return done
    addr = browser_address(request)
    if addr is None:
        return no_address(request, "account.html", user=user, csrf=csrf)
    try:
        await node().verify_email_finish(token, code, client_addr=addr)
    except authnode.InvalidToken:
        return back_to_login(request, "expired")
    except authnode.InvalidCode:
        return page(request, "account.html", 401, user=user, csrf=csrf, error=WRONG_CODE)
    except authnode.Error as e:
        return code_trouble(request, e, "verify", "account.html", user=user, csrf=csrf)
    return redirect("/account?note=verified")


@app.get("/account/email")
async def email_form(request: Request) -> Response:
    try:
        token, user = await current_user(request)
    except authnode.Error as e:
        return trouble(request, e, "error.html")
    if user is None:
        return back_to_login(request, "expired" if request.cookies.get(SESSION_COOKIE) else None)
    return page(request, "email.html", user=user, csrf=csrf_token(token), form={})


@app.post("/account/email")
async def change_email(
    request: Request, password: str = Form(""), new_email: str = Form(""), csrf: str = Form("")
) -> Response:
    """``change_email_start``: the password again, then a code to the new
    address (and a notice to the current one)."""
    done, token, user = await logged_in_post(request, csrf)
    if done is not None:
        return done
    context = {"user": user, "csrf": csrf, "form": {"new_email": new_email}}
    addr = browser_address(request)
    if addr is None:
        return no_address(request, "email.html", **context)
    try:
        await node().change_email_start(token, password, new_email, client_addr=addr)
    except authnode.InvalidToken:
        return back_to_login(request, "expired")
    except authnode.InvalidCredentials:
        return page(request, "email.html", 401, error="Your current password is not right.", **context)
    except authnode.EmailTaken:
        return page(request, "email.html", 409, error="Another account has that address.", **context)
    except authnode.InvalidEmail as e:
        return page(request, "email.html", 400, error=_sentence(e.message), **context)
    except authnode.BadRequest as e:
        if "client_addr" in e.message:
            return trouble(request, e, "email.html", **context)
        return page(request, "email.html", 400, error=_sentence(e.message), **context)
    except authnode.Error as e:
        return code_trouble(request, e, "email", "email.html", **context)
    return redirect("/account/email/code?note=email-sent")


@app.get("/account/email/code")
async def email_code_form(request: Request) -> Response:
    try:
        token, user = await current_user(request)
    except authnode.Error as e:
        return trouble(request, e, "error.html")
    if user is None:
        return back_to_login(request, "expired" if request.cookies.get(SESSION_COOKIE) else None)
    return page(request, "email_code.html", user=user, csrf=csrf_token(token))


@app.post("/account/email/code")
async def change_email_finish(request: Request, code: str = Form(""), csrf: str = Form("")) -> Response:
    """``change_email_finish``: the account moves to the new, verified address."""
    done, token, user = await logged_in_post(request, csrf)
    if done is not None:
        return done
    addr = browser_address(request)
    if addr is None:
        return no_address(request, "email_code.html", user=user, csrf=csrf)
    try:
        await node().change_email_finish(token, code, client_addr=addr)
    except authnode.InvalidToken:
        return back_to_login(request, "expired")
    except authnode.InvalidCode:
        return page(request, "email_code.html", 401, user=user, csrf=csrf, error=WRONG_CODE)
    except authnode.EmailTaken:
        return page(request, "email_code.html", 409, user=user, csrf=csrf,
                    error="Another account has that address now.")
    except authnode.Error as e:
        return code_trouble(request, e, "email", "email_code.html", user=user, csrf=csrf)
    return redirect("/account?note=email-changed")


# -- the second factor ---------------------------------------------------------


@app.get("/account/security")
async def security(request: Request) -> Response:
    try:
        token, user = await current_user(request)
    except authnode.Error as e:
        return trouble(request, e, "error.html")
    if user is None:
        return back_to_login(request, "expired" if request.cookies.get(SESSION_COOKIE) else None)
    return page(request, "security.html", user=user, csrf=csrf_token(token),
                passkeys=await passkeys_of(token))


def totp_on(user: Optional[authnode.User]) -> bool:
    return user is not None and "totp" in user.second_factors


def conflict(request: Request, user: Optional[authnode.User], csrf: str) -> Response:
    """The answer to ``conflict``: the account's TOTP is not in the state
    the form was made for (another tab changed it, say)."""
    error = ("Two-factor authentication is on already." if totp_on(user)
             else "Two-factor authentication is off. Set it up first.")
    return page(request, "security.html", 409, user=user, csrf=csrf, error=error)


@app.post("/account/security/totp/setup")
async def totp_setup(request: Request, csrf: str = Form("")) -> Response:
    """``totp_setup``: the QR code and the seed, once, with the form for
    the code that confirms them."""
    done, token, user = await logged_in_post(request, csrf)
    if done is not None:
        return done
    try:
        setup = await node().totp_setup(token)
    except authnode.InvalidToken:
        return back_to_login(request, "expired")
    except authnode.Conflict:
        return conflict(request, user, csrf)
    except authnode.Error as e:
        return trouble(request, e, "security.html", user=user, csrf=csrf)
    return page(request, "totp_setup.html", user=user, csrf=csrf,
                qr=qr_svg(setup.uri), secret=grouped(setup.secret))


@app.post("/account/security/totp/enable")
async def totp_enable(request: Request, code: str = Form(""), csrf: str = Form("")) -> Response:
    """``totp_enable``: TOTP on, and the recovery codes, shown this once."""
    done, token, user = await logged_in_post(request, csrf)
    if done is not None:
        return done
    addr = browser_address(request)
    if addr is None:
        return no_address(request, "totp_setup.html", user=user, csrf=csrf)
    try:
        codes = await node().totp_enable(token, code, client_addr=addr)
    except authnode.InvalidToken:
        return back_to_login(request, "expired")
    except authnode.InvalidCode:
        return page(request, "totp_setup.html", 401, user=user, csrf=csrf, error=WRONG_SETUP_CODE)
    except authnode.Conflict:
        return conflict(request, user, csrf)
    except authnode.Error as e:
        return trouble(request, e, "totp_setup.html", user=user, csrf=csrf)
    return page(request, "recovery_codes.html", user=user, csrf=csrf, codes=codes, enabled=True,
                note="Two-factor authentication is on.")


@app.post("/account/security/codes")
async def recovery_codes_renew(request: Request, code: str = Form(""), csrf: str = Form("")) -> Response:
    """``recovery_codes_renew``: ten new recovery codes, shown this once;
    the old ones stop working."""
    done, token, user = await logged_in_post(request, csrf)
    if done is not None:
        return done
    addr = browser_address(request)
    if addr is None:
        return no_address(request, "security.html", user=user, csrf=csrf)
    try:
        codes = await node().recovery_codes_renew(token, code, client_addr=addr)
    except authnode.InvalidToken:
        return back_to_login(request, "expired")
    except authnode.InvalidCode:
        return page(request, "security.html", 401, user=user, csrf=csrf, error=WRONG_SECOND_FACTOR)
    except authnode.Conflict:
        return conflict(request, user, csrf)
    except authnode.Error as e:
        return trouble(request, e, "security.html", user=user, csrf=csrf)
    return page(request, "recovery_codes.html", user=user, csrf=csrf, codes=codes, enabled=False)


@app.post("/account/security/totp/disable")
async def totp_disable(
    request: Request, password: str = Form(""), code: str = Form(""), csrf: str = Form("")
) -> Response:
    """``totp_disable``: the password and a code again, then logins need
    the password only."""
    done, token, user = await logged_in_post(request, csrf)
    if done is not None:
        return done
    addr = browser_address(request)
    if addr is None:
        return no_address(request, "security.html", user=user, csrf=csrf)
    try:
        await node().totp_disable(token, password, code, client_addr=addr)
    except authnode.InvalidToken:
        return back_to_login(request, "expired")
    except authnode.InvalidCredentials:
        return page(request, "security.html", 401, user=user, csrf=csrf,
                    error="Your current password is not right.")
    except authnode.InvalidCode:
        return page(request, "security.html", 401, user=user, csrf=csrf, error=WRONG_SECOND_FACTOR)
    except authnode.Conflict:
        return conflict(request, user, csrf)
    except authnode.Error as e:
        return trouble(request, e, "security.html", user=user, csrf=csrf)
    return redirect("/account/security?note=totp-off")


# -- passkeys ------------------------------------------------------------------


def passkeys_off(e: authnode.Error) -> bool:
    """Whether ``e`` is the answer of a node without passkeys: ``unavailable``
    naming ``--webauthn-rp-id`` (docs/protocol.md, "Passkeys")."""
    return isinstance(e, authnode.Unavailable) and "--webauthn-rp-id" in e.message


async def passkeys_offered() -> bool:
    """Whether the node offers passkeys: asked once (a sign-in's begin, whose
    challenge simply expires), then remembered; ``False`` while the node
    cannot be asked."""
    known = getattr(app.state, "passkeys", None)
    if known is not None:
        return known
    try:
        await node().passkey_login_begin()
        app.state.passkeys = True
    except authnode.Error as e:
        if not passkeys_off(e):
            return False
        app.state.passkeys = False
    return app.state.passkeys


async def passkeys_of(token: str) -> Optional[list[authnode.Passkey]]:
    """The account's passkeys for the security page; ``None`` when the node
    offers none (the page then has no passkey section)."""
    if not await passkeys_offered():
        return None
    try:
        return await node().passkeys_list(token)
    except authnode.Error as e:
        log.warning("authnode: passkeys_list: %s: %s", type(e).__name__, e)
        return None


def json_answer(status: int, **members: Any) -> JSONResponse:
    return JSONResponse(members, status_code=status)


def json_trouble(e: authnode.Error) -> JSONResponse:
    """:func:`trouble` for the passkey endpoints, as JSON."""
    if passkeys_off(e):
        return json_answer(503, error=PASSKEYS_OFF)
    if isinstance(e, authnode.RateLimited):
        wait = retry_after_seconds(e)
        response = json_answer(
            429, error=f"Too many attempts. Please wait {wait} seconds before you try again.")
        response.headers["Retry-After"] = str(wait)
        return response
    log.warning("authnode: %s: %s", type(e).__name__, e)
    return json_answer(503, error="The sign-in service is not available right now.")


async def json_body(request: Request) -> Optional[dict[str, Any]]:
    """The request's JSON object, or ``None`` if it is not one sent as
    ``application/json`` (see "Passkeys" in this module's docstring)."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        return None
    try:
        body = await request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


async def passkey_session(request: Request) -> tuple[Optional[JSONResponse], str, dict[str, Any]]:
    """The start of the logged-in passkey endpoints: ``(response, token,
    body)``, ``response`` set when the request ends here."""
    body = await json_body(request)
    if body is None:
        return json_answer(415, error="Send JSON."), "", {}
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return json_answer(401, error="Your session has ended. Please log in again."), "", body
    if not csrf_ok(token, request.headers.get("x-csrf-token", "")):
        return json_answer(403, error="This page has expired. Please reload it."), token, body
    return None, token, body


@app.post("/account/security/passkeys/begin")
async def passkey_add_begin(request: Request) -> Response:
    """``passkey_register_begin``: the creation options, as the node made them."""
    done, token, body = await passkey_session(request)
    if done is not None:
        return done
    name = body.get("name")
    name = name.strip() if isinstance(name, str) and name.strip() else None
    try:
        options = await node().passkey_register_begin(token, name=name)
    except authnode.InvalidToken:
        return json_answer(401, error="Your session has ended. Please log in again.")
    except authnode.BadRequest:
        return json_answer(400, error="The name is too long: at most 64 characters.")
    except authnode.Error as e:
        return json_trouble(e)
    return json_answer(200, options=options)


@app.post("/account/security/passkeys/finish")
async def passkey_add_finish(request: Request) -> Response:
    """``passkey_register_finish``: the browser's credential, stored."""
    done, token, body = await passkey_session(request)
    if done is not None:
        return done
    credential = body.get("credential")
    if not isinstance(credential, dict):
        return json_answer(400, error="The browser sent no passkey.")
    try:
        await node().passkey_register_finish(token, credential)
    except authnode.InvalidToken:
        return json_answer(401, error="Your session has ended. Please log in again.")
    except (authnode.PasskeyRefused, authnode.BadRequest) as e:
        log.info("passkey refused: %s", e.message)
        return json_answer(400, error="This passkey could not be added. Please try again.")
    except authnode.Conflict:
        return json_answer(409, error="This passkey is added already.")
    except authnode.Error as e:
        return json_trouble(e)
    return json_answer(200, redirect="/account/security?note=passkey-added")


@app.post("/account/security/passkeys/delete")
async def passkey_delete(request: Request, passkey_id: str = Form(""),
                         csrf: str = Form("")) -> Response:
    """``passkey_delete``; one already gone is gone, so that is no error."""
    done, token, user = await logged_in_post(request, csrf)
    if done is not None:
        return done
    try:
        await node().passkey_delete(token, passkey_id)
    except authnode.InvalidToken:
        return back_to_login(request, "expired")
    except (authnode.NoSuchPasskey, authnode.BadRequest):
        pass
    except authnode.Error as e:
        return trouble(request, e, "security.html", user=user, csrf=csrf)
    return redirect("/account/security?note=passkey-removed")


@app.post("/account/login/passkey/begin")
async def passkey_login_begin(request: Request) -> Response:
    """``passkey_login_begin``: with the email typed, that account's passkeys;
    without, whichever the browser holds for this site."""
    body = await json_body(request)
    if body is None:
        return json_answer(415, error="Send JSON.")
    addr = browser_address(request)
    if addr is None:
        return json_answer(400, error="Your address could not be determined.")
    email = body.get("email")
    email = email.strip() if isinstance(email, str) and email.strip() else None
    try:
        begun = await node().passkey_login_begin(email, client_addr=addr)
    except authnode.Error as e:
        return json_trouble(e)
    return json_answer(200, challenge_id=begun.challenge_id, options=begun.options)


@app.post("/account/login/passkey/finish")
async def passkey_login_finish(request: Request) -> Response:
    """``passkey_login_finish``: the same cookies as a password login, or
    the code page for an account with TOTP."""
    body = await json_body(request)
    if body is None:
        return json_answer(415, error="Send JSON.")
    challenge_id, credential = body.get("challenge_id"), body.get("credential")
    if not isinstance(challenge_id, str) or not isinstance(credential, dict):
        return json_answer(400, error="The browser sent no passkey.")
    addr = browser_address(request)
    if addr is None:
        return json_answer(400, error="Your address could not be determined.")
    try:
        session = await node().passkey_login_finish(
            challenge_id, credential, client_addr=addr, device_token=request.cookies.get(DEVICE_COOKIE)
        )
    except (authnode.InvalidCredentials, authnode.BadRequest):
        # Held by the node like a wrong password.
        return json_answer(401, error=PASSKEY_FAILED)
    except authnode.EmailNotVerified:
        return json_answer(403, error="Your email address is not verified yet.")
    except authnode.SecondFactorRequired as e:
        step = second_step(request, e)
        response = json_answer(200, redirect=step.headers["location"])
        for value in step.headers.getlist("set-cookie"):
            response.headers.append("set-cookie", value)
        return response
    except authnode.Error as e:
        return json_trouble(e)
    response = json_answer(200, redirect="/account")
    set_session(response, request, session)
    return response


def forbidden(request: Request) -> Response:
    return page(request, "error.html", 403, title="This form has expired",
                error="Please go back, reload the page and try again.")


def _sentence(message: str) -> str:
    """The node's message for people, as a sentence."""
    message = message.strip()
    if not message:
        return "Please check your input."
    return message[0].upper() + message[1:] + ("" if message.endswith(".") else ".")
