"""The web app over real HTTP (httpx) against a real node (ctest webapp_http).

Each browser is an HTTP client bound to its own loopback address, which
the app passes to the node as client_addr.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from webapp_support import (
    FAILURE_DELAY,
    Authenticator,
    NEW_EMAIL_MAIL,
    NOTICE_MAIL,
    PASSWORD,
    RECOVERY_MAIL,
    VERIFY_MAIL,
    Node,
    WebApp,
    WebAppTestCase,
    csrf_of,
    guesses_of,
    mails_to,
    node_support,
    recovery_codes_of,
    secret_of,
    session_sources,
    unique_email,
    wait_until,
)

import authnode


class RegisterTest(WebAppTestCase):
    def test_register_logs_in_and_shows_the_account(self) -> None:
        browser, email = self.new_user("127.0.0.1", name="Ann Example")
        self.assertTrue(browser.cookies.get("session"))
        r = browser.get("/account")
        self.assertEqual(r.status_code, 200)
        self.assertIn("Ann Example", r.text)
        self.assertIn(email, r.text)

    def test_register_refusals_show_the_form_again(self) -> None:
        browser, email = self.new_user()
        other = self.browser("127.0.0.2")
        cases = [
            (dict(email=email, password=PASSWORD, name="Ann"), 409, "exists already"),
            (dict(email="not-an-email", password=PASSWORD, name="Ann"), 400, "The email address is not valid."),
            (dict(email=unique_email(), password="short", name="Ann"), 400, "at least 8 bytes"),
            (dict(email=unique_email(), password=PASSWORD, name="   "), 400, "Name must have 1 to 200 bytes."),
            (dict(email=unique_email()), 400, "at least 8 bytes"),  # fields missing: the node's rules
        ]
        for data, status, text in cases:
            with self.subTest(data=data):
                r = other.post("/account/register", data=data)
                self.assertEqual(r.status_code, status, r.text)
                self.assertIn(text, r.text)
                self.assertIn('action="/account/register"', r.text)
                self.assertNotIn("session", other.cookies)
        # The form keeps what was typed, except the password.
        r = other.post("/account/register", data=dict(email="x@y", password="secret pw 1", name="Al <b>"))
        self.assertIn('value="x@y"', r.text)
        self.assertIn('value="Al &lt;b&gt;"', r.text)
        self.assertNotIn("secret pw 1", r.text)


class LoginTest(WebAppTestCase):
    def test_login_account_logout(self) -> None:
        _, email = self.new_user(name="Bea")
        browser = self.browser("127.0.0.2")
        r = browser.get("/account")
        self.assertEqual((r.status_code, r.headers["location"]), (303, "/account/login"))
        r = browser.get("/account/login")
        self.assertEqual(r.status_code, 200)
        self.assertIn('action="/account/login"', r.text)

        r = self.login(browser, email.upper())  # the node normalizes the email
        self.assertEqual((r.status_code, r.headers["location"]), (303, "/account"))
        token = browser.cookies["session"]
        r = browser.get("/account")
        self.assertEqual(r.status_code, 200)
        self.assertIn("Bea", r.text)

        r = browser.get("/account/logout")  # a page with the button
        self.assertEqual(r.status_code, 200)
        r = browser.post("/account/logout", data={"csrf": csrf_of(r.text)})
        self.assertEqual((r.status_code, r.headers["location"]), (303, "/account/login?note=bye"))
        self.assertNotIn("session", browser.cookies)
        self.assertIn("You are logged out.", browser.get("/account/login?note=bye").text)
        r = browser.get("/account")
        self.assertEqual((r.status_code, r.headers["location"]), (303, "/account/login"))
        # Logged out on the node, not only in the browser.
        with self.assertRaises(authnode.InvalidToken):
            self.node_client().whoami(token)

    def test_wrong_password_is_401_with_the_form_after_the_failure_delay(self) -> None:
        _, email = self.new_user()
        browser = self.browser("127.0.0.3")
        start = time.monotonic()
        r = self.login(browser, email, "not the password")
        elapsed = time.monotonic() - start
        self.assertEqual(r.status_code, 401)
        self.assertIn("Wrong email or password.", r.text)
        self.assertIn(f'value="{email}"', r.text)
        self.assertNotIn("not the password", r.text)
        self.assertGreaterEqual(elapsed, FAILURE_DELAY)
        self.assertNotIn("session", browser.cookies)

    def test_an_unknown_or_ended_session_goes_to_login(self) -> None:
        browser = self.browser("127.0.0.4")
        browser.cookies.set("session", "not-a-token")
        r = browser.get("/account")
        self.assertEqual((r.status_code, r.headers["location"]), (303, "/account/login?note=expired"))
        self.assertRegex(r.headers["set-cookie"], r'^session=""; .*Max-Age=0')
        self.assertIn("Please log in again.", browser.get(r.headers["location"]).text)

    def test_session_cookie_flags(self) -> None:
        _, email = self.new_user()
        r = self.login(self.browser("127.0.0.5"), email)
        cookies = r.headers.get_list("set-cookie")
        session = next(c for c in cookies if c.startswith("session="))
        attrs = [a.strip().lower() for a in session.split(";")[1:]]
        self.assertIn("httponly", attrs)
        self.assertIn("samesite=lax", attrs)
        self.assertIn("path=/", attrs)
        self.assertNotIn("secure", attrs)  # plain http
        max_age = int(next(a for a in attrs if a.startswith("max-age="))[8:])
        self.assertTrue(86400 - 60 <= max_age <= 86400, max_age)  # the node's session-ttl
        device = next(c for c in cookies if c.startswith("device="))
        self.assertIn("HttpOnly", device)

        # Behind a TLS proxy uvicorn trusts (127.0.0.1 here): Secure.
        proxy = self.browser("127.0.0.1")
        r = proxy.post("/account/login", data={"email": email, "password": PASSWORD},
                       headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.9"})
        self.assertEqual(r.status_code, 303)
        for cookie in r.headers.get_list("set-cookie"):
            self.assertIn("; secure", cookie.lower())

    def test_the_node_sees_the_browser_address(self) -> None:
        _, email = self.new_user()
        self.assertEqual(self.login(self.browser("127.0.0.6"), email).status_code, 303)
        # A proxy uvicorn trusts forwards the browser's address...
        r = self.browser("127.0.0.1").post(
            "/account/login", data={"email": email, "password": PASSWORD},
            headers={"X-Forwarded-For": "203.0.113.7"})
        self.assertEqual(r.status_code, 303)
        # ...anyone else's header is ignored.
        r = self.browser("127.0.0.7").post(
            "/account/login", data={"email": email, "password": PASSWORD},
            headers={"X-Forwarded-For": "203.0.113.8"})
        self.assertEqual(r.status_code, 303)
        sources = session_sources(self.node, email)
        for address in ["127.0.0.6", "203.0.113.7", "127.0.0.7"]:
            self.assertIn(address, sources)
        self.assertNotIn("203.0.113.8", sources)

    def test_no_password_or_token_in_the_app_log(self) -> None:
        browser = self.browser("127.0.0.8")
        email = unique_email()
        secret = "a very secret password"
        self.register(browser, email, secret)
        self.login(browser, email, secret + "!")
        token = browser.cookies["session"]
        log = self.app.log()
        self.assertNotIn(secret, log)
        self.assertNotIn(token, log)


class ChangePasswordTest(WebAppTestCase):
    def test_change_password_ends_the_other_sessions(self) -> None:
        first, email = self.new_user("127.0.0.2")
        second = self.browser("127.0.0.3")
        self.assertEqual(self.login(second, email).status_code, 303)
        csrf = csrf_of(first.get("/account").text)

        r = first.post("/account/password", data={
            "csrf": csrf, "old_password": PASSWORD, "new_password": "a new secret"})
        self.assertEqual((r.status_code, r.headers["location"]), (303, "/account?note=changed"))
        r = first.get(r.headers["location"])
        self.assertEqual(r.status_code, 200)
        self.assertIn("Your password is changed.", r.text)
        r = second.get("/account")  # revoked by the change
        self.assertEqual((r.status_code, r.headers["location"]), (303, "/account/login?note=expired"))

        third = self.browser("127.0.0.4")
        self.assertEqual(self.login(third, email, PASSWORD).status_code, 401)
        self.assertEqual(self.login(third, email, "a new secret").status_code, 303)

    def test_wrong_old_password_and_weak_new_one(self) -> None:
        browser, email = self.new_user("127.0.0.5")
        csrf = csrf_of(browser.get("/account").text)
        start = time.monotonic()
        r = browser.post("/account/password", data={
            "csrf": csrf, "old_password": "a guess", "new_password": "a new secret"})
        self.assertEqual(r.status_code, 401)
        self.assertGreaterEqual(time.monotonic() - start, FAILURE_DELAY)
        self.assertIn("Your current password is not right.", r.text)
        r = browser.post("/account/password", data={
            "csrf": csrf, "old_password": PASSWORD, "new_password": "short"})
        self.assertEqual(r.status_code, 400)
        self.assertIn("at least 8 bytes", r.text)
        self.assertEqual(self.login(self.browser("127.0.0.6"), email).status_code, 303)

    def test_forms_without_the_right_csrf_token_are_refused(self) -> None:
        browser, email = self.new_user("127.0.0.7")
        other, _ = self.new_user("127.0.0.8")
        others_csrf = csrf_of(other.get("/account").text)
        for data in [{}, {"csrf": "x"}, {"csrf": others_csrf}]:
            with self.subTest(data=data):
                r = browser.post("/account/logout", data=data)
                self.assertEqual(r.status_code, 403)
                r = browser.post("/account/password", data={
                    **data, "old_password": PASSWORD, "new_password": "a new secret"})
                self.assertEqual(r.status_code, 403)
        # Nothing happened: still logged in, with the old password.
        self.assertEqual(browser.get("/account").status_code, 200)
        self.assertEqual(self.login(self.browser("127.0.0.9"), email).status_code, 303)


class ConcurrencyTest(WebAppTestCase):
    # A longer failure delay than the other classes: what must happen
    # meanwhile has time to, even with a sanitized node.
    EXTRA_NODE_OPTIONS = ["--failure-delay=1500ms"]
    DELAY = 1.5

    def test_a_wrong_password_does_not_hold_up_anyone_else(self) -> None:
        _, email = self.new_user("127.0.0.2")
        reader, _ = self.new_user("127.0.0.3")
        token = reader.cookies["session"]

        async def run() -> tuple[float, int, list[float]]:
            guesser = self.async_browser("127.0.0.4")
            other = self.async_browser("127.0.0.5")
            other.cookies.set("session", token)
            start = time.monotonic()
            try:
                guess = asyncio.create_task(guesser.post(
                    "/account/login", data={"email": email, "password": "a guess"}))
                served: list[float] = []
                while not guess.done() and len(served) < 10:
                    r = await other.get("/account")
                    self.assertEqual(r.status_code, 200)
                    served.append(time.monotonic() - start)
                r = await guess
                return time.monotonic() - start, r.status_code, served
            finally:
                await guesser.aclose()
                await other.aclose()

        guess_took, status, served = asyncio.run(run())
        self.assertEqual(status, 401)
        self.assertGreaterEqual(guess_took, self.DELAY)
        self.assertEqual(len(served), 10)
        self.assertLess(max(served), guess_took)

    def test_twenty_guesses_in_flight_while_another_user_logs_in(self) -> None:
        _, target = self.new_user("127.0.0.6", name="Target")
        _, email = self.new_user("127.0.0.7", name="Other")

        async def run() -> tuple[list[tuple[httpx.Response, float]], httpx.Response, float, float]:
            guesser = self.async_browser("127.0.0.8")  # one browser address
            user = self.async_browser("127.0.0.9")
            start = time.monotonic()
            first_answer = asyncio.Event()

            async def guess(i: int) -> tuple[httpx.Response, float]:
                r = await guesser.post("/account/login", data={"email": target, "password": f"guess {i}"})
                first_answer.set()
                return r, time.monotonic() - start

            try:
                guesses = [asyncio.create_task(guess(i)) for i in range(20)]
                # The first answers (rate_limited) come at once: the guesses
                # have reached the node, the rest are held there.
                await asyncio.wait_for(first_answer.wait(), 20)
                in_flight = sum(1 for g in guesses if not g.done())
                login_start = time.monotonic()
                r = await user.post("/account/login", data={"email": email, "password": PASSWORD})
                login_done = time.monotonic()
                self.assertGreater(in_flight, 0)
                results = await asyncio.gather(*guesses)
                return results, r, login_done - login_start, login_done - start
            finally:
                await guesser.aclose()
                await user.aclose()

        results, login, login_took, login_done = asyncio.run(run())
        # The other user is in, at once: not after the guesses' failures.
        self.assertEqual(login.status_code, 303, login.text)
        self.assertEqual(login.headers["location"], "/account")
        self.assertLess(login_took, self.DELAY)
        self.assertLess(login_done, max(t for _, t in results))

        statuses = [r.status_code for r, _ in results]
        self.assertEqual(set(statuses) - {401, 429}, set(), statuses)
        self.assertIn(401, statuses)
        self.assertIn(429, statuses)
        for r, took in results:
            if r.status_code == 401:
                self.assertGreaterEqual(took, self.DELAY)
            else:
                retry_after = int(r.headers["retry-after"])
                self.assertGreaterEqual(retry_after, 1)
                self.assertIn(f"wait {retry_after} seconds", r.text)
                self.assertIn('action="/account/login"', r.text)

    def test_the_owner_gets_in_while_the_account_is_guessed(self) -> None:
        # The owner's browser keeps the node's device token in a cookie.
        owner, email = self.new_user("127.0.0.10", name="Owner")
        self.assertTrue(owner.cookies.get("device"))
        r = owner.post("/account/logout", data={"csrf": csrf_of(owner.get("/account").text)})
        self.assertEqual(r.status_code, 303)

        async def run() -> tuple[int, float, list[int]]:
            guesser = self.async_browser("127.0.0.11")
            try:
                guesses = [asyncio.create_task(guesser.post(
                    "/account/login", data={"email": email, "password": f"guess {i}"}))
                    for i in range(20)]
                done, _ = await asyncio.wait(guesses, return_when=asyncio.FIRST_COMPLETED, timeout=20)
                self.assertTrue(done)
                start = time.monotonic()
                r = await asyncio.to_thread(self.login, owner, email)
                took = time.monotonic() - start
                statuses = [(await g).status_code for g in guesses]
                return r.status_code, took, statuses
            finally:
                await guesser.aclose()

        status, took, statuses = asyncio.run(run())
        self.assertEqual(status, 303)
        self.assertLess(took, self.DELAY)
        self.assertIn(429, statuses)


NEW_PASSWORD = "a new secret"
WRONG_CODE = "That code is not right, or no longer valid."
SENT = "If the address has an account, we sent it a code."
UNVERIFIED = "Your address is not verified."


def wrong(code: str) -> str:
    """A well-formed code that is not ``code``."""
    return "0000-0000" if code.upper() != "0000-0000" else "1111-1111"


class RecoveryTest(WebAppTestCase):
    """"Forgot password?" against a node that mails through the sink."""

    MAIL = True

    def forgot(self, browser, email: str) -> httpx.Response:
        return browser.post("/account/recover", data={"email": email})

    def finish(self, browser, email: str, code: str, password: str = NEW_PASSWORD) -> httpx.Response:
        return browser.post("/account/recover/code",
                            data={"email": email, "code": code, "new_password": password})

    def test_forgot_password_end_to_end(self) -> None:
        old_session, email = self.new_user("127.0.0.2", name="Fay")
        browser = self.browser("127.0.0.3")
        r = browser.get("/account/login")
        self.assertIn('href="/account/recover"', r.text)
        self.assertIn("Forgot password?", r.text)
        r = browser.get("/account/recover")
        self.assertEqual(r.status_code, 200)
        self.assertIn('action="/account/recover"', r.text)

        seen = len(mails_to(self.sink, email, RECOVERY_MAIL))
        r = self.forgot(browser, email)
        self.assertEqual(r.status_code, 200, r.text)
        self.assertIn(SENT, r.text)
        self.assertIn('action="/account/recover/code"', r.text)
        self.assertIn(f'value="{email}"', r.text)  # the code form has the address
        code = self.new_code(email, RECOVERY_MAIL, seen)
        mail = mails_to(self.sink, email, RECOVERY_MAIL)[-1]
        self.assertIn(self.app.url, mail)  # the node's --app-url: this app

        # Typed as a user might: lower case, no dash.
        r = self.finish(browser, email, code.lower().replace("-", ""))
        self.assertEqual((r.status_code, r.headers["location"]), (303, "/account?note=recovered"), r.text)
        self.assertTrue(browser.cookies.get("session"))
        self.assertTrue(browser.cookies.get("device"))
        r = browser.get(r.headers["location"])
        self.assertEqual(r.status_code, 200)
        self.assertIn("Your new password is set and you are logged in.", r.text)
        self.assertIn("Fay", r.text)
        self.assertNotIn(UNVERIFIED, r.text)  # the mail reached its owner

        # Every other session ended; the new password is the password.
        r = old_session.get("/account")
        self.assertEqual((r.status_code, r.headers["location"]), (303, "/account/login?note=expired"))
        other = self.browser("127.0.0.4")
        self.assertEqual(self.login(other, email, PASSWORD).status_code, 401)
        self.assertEqual(self.login(other, email, NEW_PASSWORD).status_code, 303)
        # The code is used up.
        r = self.finish(self.browser("127.0.0.5"), email, code, "yet another secret")
        self.assertEqual(r.status_code, 401)

    def test_an_unknown_email_gets_the_same_page_and_no_mail(self) -> None:
        _, known = self.new_user("127.0.0.6")
        unknown = unique_email("nobody")
        browser = self.browser("127.0.0.7")
        seen = len(mails_to(self.sink, known, RECOVERY_MAIL))
        r_unknown = self.forgot(browser, unknown)
        r_known = self.forgot(browser, known)
        self.assertEqual((r_unknown.status_code, r_known.status_code), (200, 200))
        self.assertEqual(r_unknown.text.replace(unknown, "EMAIL"), r_known.text.replace(known, "EMAIL"))
        self.assertIn(SENT, r_unknown.text)
        # The known address's mail came (asked for after the unknown one's
        # request was answered); none to the unknown address.
        self.new_code(known, RECOVERY_MAIL, seen)
        self.assertEqual(mails_to(self.sink, unknown), [])
        # Nor does the unknown address open with any code.
        r = self.finish(browser, unknown, "K7QM-2XPA")
        self.assertEqual(r.status_code, 401)
        self.assertIn(WRONG_CODE, r.text)

    def test_wrong_code_weak_password_and_bad_address(self) -> None:
        _, email = self.new_user("127.0.0.8")
        browser = self.browser("127.0.0.9")
        seen = len(mails_to(self.sink, email, RECOVERY_MAIL))
        self.assertEqual(self.forgot(browser, email).status_code, 200)
        code = self.new_code(email, RECOVERY_MAIL, seen)

        start = time.monotonic()
        r = self.finish(browser, email, wrong(code))
        self.assertEqual(r.status_code, 401)
        self.assertGreaterEqual(time.monotonic() - start, FAILURE_DELAY)  # held by the node
        self.assertIn(WRONG_CODE, r.text)
        self.assertIn(f'value="{email}"', r.text)
        self.assertNotIn("session", browser.cookies)

        r = self.finish(browser, email, code, "short")
        self.assertEqual(r.status_code, 400)
        self.assertIn("at least 8 bytes", r.text)
        self.assertNotIn("short", r.text.split("<form")[1].split("</form>")[0])
        self.assertNotIn("session", browser.cookies)

        r = self.forgot(browser, "not-an-email")
        self.assertEqual(r.status_code, 400)
        self.assertIn("The email address is not valid.", r.text)
        self.assertIn('action="/account/recover"', r.text)

        # The old password still works: nothing was reset.
        self.assertEqual(self.login(self.browser("127.0.0.10"), email).status_code, 303)

    def test_no_code_password_or_token_in_the_app_log(self) -> None:
        _, email = self.new_user("127.0.0.11")
        browser = self.browser("127.0.0.12")
        seen = len(mails_to(self.sink, email, RECOVERY_MAIL))
        self.forgot(browser, email)
        code = self.new_code(email, RECOVERY_MAIL, seen)
        secret = "a secret never logged"
        self.assertEqual(self.finish(browser, email, code, secret).status_code, 303)
        log = self.app.log()
        for text in [code, code.lower().replace("-", ""), secret, browser.cookies["session"], email]:
            self.assertNotIn(text, log)


class VerifyEmailTest(WebAppTestCase):
    """The account page's banner while the address is not verified."""

    MAIL = True

    def test_send_a_code_and_verify(self) -> None:
        browser, email = self.new_user("127.0.0.41")
        r = browser.get("/account")
        self.assertIn(UNVERIFIED, r.text)
        self.assertIn('action="/account/verify/send"', r.text)
        self.assertIn('action="/account/verify"', r.text)
        csrf = csrf_of(r.text)
        # register mailed a code by itself; "Send a code" replaces it.
        first = self.new_code(email, VERIFY_MAIL)
        r = browser.post("/account/verify/send", data={"csrf": csrf})
        self.assertEqual((r.status_code, r.headers["location"]), (303, "/account?note=code-sent"))
        self.assertIn("We sent a code to your address.", browser.get(r.headers["location"]).text)
        code = self.new_code(email, VERIFY_MAIL, seen=1)

        r = browser.post("/account/verify", data={"csrf": csrf, "code": first})  # replaced
        self.assertEqual(r.status_code, 401)
        self.assertIn(WRONG_CODE, r.text)
        self.assertIn(UNVERIFIED, r.text)
        self.assertEqual(guesses_of(self.node, "127.0.0.41", "code"), 1)  # not this server's

        r = browser.post("/account/verify", data={"csrf": csrf, "code": code})
        self.assertEqual((r.status_code, r.headers["location"]), (303, "/account?note=verified"))
        r = browser.get(r.headers["location"])
        self.assertIn("Your address is verified.", r.text)
        self.assertNotIn(UNVERIFIED, r.text)
        self.assertNotIn('action="/account/verify"', r.text)
        self.assertIn('id="email-verified"', r.text)
        self.assertIs(self.node_client().whoami(browser.cookies["session"]).email_verified, True)

        # Asked again: nothing to send, and the page says so.
        r = browser.post("/account/verify/send", data={"csrf": csrf})
        self.assertEqual(r.headers["location"], "/account?note=verified")

    def test_the_code_from_registration_verifies(self) -> None:
        browser, email = self.new_user("127.0.0.3")
        r = browser.post("/account/verify", data={
            "csrf": csrf_of(browser.get("/account").text), "code": self.new_code(email, VERIFY_MAIL)})
        self.assertEqual(r.headers["location"], "/account?note=verified")
        self.assertNotIn(UNVERIFIED, browser.get("/account").text)

    def test_forms_without_the_right_csrf_token_are_refused(self) -> None:
        browser, email = self.new_user("127.0.0.4")
        code = self.new_code(email, VERIFY_MAIL)
        for path, data in [
            ("/account/verify/send", {}),
            ("/account/verify", {"code": code}),
            ("/account/email", {"password": PASSWORD, "new_email": unique_email()}),
            ("/account/email/code", {"code": code}),
        ]:
            with self.subTest(path=path):
                r = browser.post(path, data={**data, "csrf": "x"})
                self.assertEqual(r.status_code, 403)
        self.assertIn(UNVERIFIED, browser.get("/account").text)  # nothing happened
        # Without a session: to the login page.
        r = self.browser("127.0.0.5").post("/account/verify", data={"code": code, "csrf": "x"})
        self.assertEqual((r.status_code, r.headers["location"]), (303, "/account/login"))


class ChangeEmailTest(WebAppTestCase):
    MAIL = True

    def test_change_email_end_to_end(self) -> None:
        browser, email = self.new_user("127.0.0.2", name="Gus")
        _, taken = self.new_user("127.0.0.3")
        r = browser.get("/account")
        self.assertIn('href="/account/email"', r.text)
        r = browser.get("/account/email")
        self.assertEqual(r.status_code, 200)
        csrf = csrf_of(r.text)
        new_email = unique_email("moved")

        def start(password: str, to: str) -> httpx.Response:
            return browser.post("/account/email", data={"csrf": csrf, "password": password, "new_email": to})

        began = time.monotonic()
        r = start("a guess", new_email)
        self.assertEqual(r.status_code, 401)
        self.assertGreaterEqual(time.monotonic() - began, FAILURE_DELAY)
        self.assertIn("Your current password is not right.", r.text)
        self.assertIn(f'value="{new_email}"', r.text)
        r = start(PASSWORD, taken)
        self.assertEqual(r.status_code, 409)
        self.assertIn("Another account has that address.", r.text)
        r = start(PASSWORD, "not-an-email")
        self.assertEqual(r.status_code, 400)
        r = start(PASSWORD, email)  # the current address
        self.assertEqual(r.status_code, 400)

        r = start(PASSWORD, new_email)
        self.assertEqual((r.status_code, r.headers["location"]), (303, "/account/email/code?note=email-sent"))
        r = browser.get(r.headers["location"])
        self.assertEqual(r.status_code, 200)
        self.assertIn("We sent a code to the new address.", r.text)
        code = self.new_code(new_email, NEW_EMAIL_MAIL)
        # The current address is told, without a code.
        wait_for = lambda: mails_to(self.sink, email, NOTICE_MAIL)  # noqa: E731
        node_support.wait_until(lambda: bool(wait_for()), timeout=10, step=0.02)
        self.assertNotIn(code, wait_for()[-1])

        csrf = csrf_of(r.text)
        r = browser.post("/account/email/code", data={"csrf": csrf, "code": wrong(code)})
        self.assertEqual(r.status_code, 401)
        self.assertIn(WRONG_CODE, r.text)
        r = browser.post("/account/email/code", data={"csrf": csrf, "code": code})
        self.assertEqual((r.status_code, r.headers["location"]), (303, "/account?note=email-changed"))
        r = browser.get(r.headers["location"])
        self.assertIn("Your email address is changed.", r.text)
        self.assertIn(f'<span id="user-email">{new_email}</span>', r.text)
        self.assertNotIn(UNVERIFIED, r.text)  # the code proved the new address

        other = self.browser("127.0.0.4")
        self.assertEqual(self.login(other, email).status_code, 401)
        self.assertEqual(self.login(other, new_email).status_code, 303)

    def test_pages_need_a_session(self) -> None:
        browser = self.browser("127.0.0.5")
        for path in ["/account/email", "/account/email/code"]:
            r = browser.get(path)
            self.assertEqual((r.status_code, r.headers["location"]), (303, "/account/login"))


class RequireVerifiedEmailTest(WebAppTestCase):
    """--require-verified-email: a login of an unverified account says so,
    and points to "Forgot password?", whose code proves the address."""

    MAIL = True
    EXTRA_NODE_OPTIONS = ["--require-verified-email"]

    def test_unverified_login_then_recovery(self) -> None:
        browser = self.browser("127.0.0.2")
        email = unique_email("strict")
        r = self.register(browser, email)
        self.assertEqual(r.headers["location"], "/account/login?note=registered")
        r = self.login(browser, email)
        self.assertEqual(r.status_code, 403)
        self.assertIn("Your email address is not verified yet.", r.text)
        self.assertIn('href="/account/recover"', r.text)
        self.assertNotIn("session", browser.cookies)
        r = self.login(browser, email, "a guess")  # the password first
        self.assertEqual(r.status_code, 401)

        browser.post("/account/recover", data={"email": email})
        code = self.new_code(email, RECOVERY_MAIL)
        r = browser.post("/account/recover/code",
                         data={"email": email, "code": code, "new_password": NEW_PASSWORD})
        self.assertEqual(r.headers["location"], "/account?note=recovered")
        self.assertEqual(self.login(self.browser("127.0.0.3"), email, NEW_PASSWORD).status_code, 303)


class WithoutMailTest(WebAppTestCase):
    """A node without --smtp-url answers the account codes' ops
    unavailable: each page says the feature is not available here (503),
    and nothing else breaks."""

    def test_every_code_page_says_it_is_not_available(self) -> None:
        browser, email = self.new_user("127.0.0.2")
        r = browser.get("/account")
        self.assertEqual(r.status_code, 200)
        self.assertIn(UNVERIFIED, r.text)
        csrf = csrf_of(r.text)
        anonymous = self.browser("127.0.0.3")
        cases = [
            (anonymous, "/account/recover", {"email": email},
             "Password recovery is not available on this site right now."),
            (anonymous, "/account/recover/code", {"email": email, "code": "K7QM-2XPA", "new_password": NEW_PASSWORD},
             "Password recovery is not available on this site right now."),
            (browser, "/account/verify/send", {"csrf": csrf},
             "Email verification is not available on this site right now."),
            (browser, "/account/verify", {"csrf": csrf, "code": "K7QM-2XPA"},
             "Email verification is not available on this site right now."),
            (browser, "/account/email", {"csrf": csrf, "password": PASSWORD, "new_email": unique_email()},
             "Changing the email address is not available on this site right now."),
            (browser, "/account/email/code", {"csrf": csrf, "code": "K7QM-2XPA"},
             "Changing the email address is not available on this site right now."),
        ]
        for client, path, data, text in cases:
            with self.subTest(path=path):
                r = client.post(path, data=data)
                self.assertEqual(r.status_code, 503, r.text)
                self.assertIn(text, r.text)
                self.assertIn(f'action="{path}"', r.text)  # the form again
        self.assertIn("--smtp-url", self.app.log())
        # Nothing changed: the password is the old one, still logged in.
        self.assertEqual(browser.get("/account").status_code, 200)
        self.assertEqual(self.login(anonymous, email).status_code, 303)


WRONG_SECOND_FACTOR = "That code is not right, or was used already."


def typed(code: str) -> str:
    """A recovery code as a user might type it: lower case, no dash."""
    return code.lower().replace("-", "")


class TwoFactorTest(WebAppTestCase):
    """The security page (TOTP on and off, recovery codes) and the login's
    second step, with codes from pyotp as an authenticator app makes them.
    The node counts a TOTP step once (totp_enable's too), so a test logs
    in with at most one TOTP code and otherwise with recovery codes."""

    def second_step(self, browser: httpx.Client, csrf: str, code: str) -> httpx.Response:
        return browser.post("/account/login/code", data={"csrf": csrf, "code": code})

    def logged_in_with(self, browser: httpx.Client, csrf: str, code: str) -> None:
        r = self.second_step(browser, csrf, code)
        self.assertEqual((r.status_code, r.headers.get("location")), (303, "/account"), r.text)
        self.assertTrue(browser.cookies.get("session"))
        self.assertIsNone(browser.cookies.get("challenge"))
        self.assertEqual(browser.get("/account").status_code, 200)

    def test_set_up_totp_then_log_in_with_a_code(self) -> None:
        browser, email = self.new_user("127.0.0.42", name="Ida")
        r = browser.get("/account")
        self.assertIn('href="/account/security"', r.text)
        self.assertIn('<span id="totp-state">off</span>', r.text)
        r = browser.get("/account/security")
        self.assertEqual(r.status_code, 200)
        self.assertIn("Set up two-factor authentication", r.text)
        self.assertNotIn('action="/account/security/totp/disable"', r.text)

        r = browser.post("/account/security/totp/setup", data={"csrf": csrf_of(r.text)})
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.headers["cache-control"], "no-store")
        qr = r.text.partition('<div class="qr" id="totp-qr">')[2]
        self.assertTrue(qr.startswith("<svg"), qr[:200])  # inline: no file, no other host
        self.assertIn("<path", qr.partition("</svg>")[0])
        self.assertNotIn("<img", r.text)
        app = Authenticator(secret_of(r.text))
        self.assertIn('action="/account/security/totp/enable"', r.text)
        csrf = csrf_of(r.text)

        (wrong,) = app.wrong_codes()
        r = browser.post("/account/security/totp/enable", data={"csrf": csrf, "code": wrong})
        self.assertEqual(r.status_code, 401)
        self.assertIn("That code is not right.", r.text)
        self.assertIn('action="/account/security/totp/enable"', r.text)  # try again
        self.assertNotIn("<svg", r.text)  # the seed is shown once
        self.assertEqual(guesses_of(self.node, "127.0.0.42", "totp"), 1)  # not this server's

        r = browser.post("/account/security/totp/enable", data={"csrf": csrf, "code": app.code()})
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.headers["cache-control"], "no-store")
        self.assertIn("Save your recovery codes", r.text)
        self.assertIn("Two-factor authentication is on.", r.text)
        codes = recovery_codes_of(r.text)
        self.assertEqual(len(set(codes)), 10)
        self.assertEqual(self.node_client().whoami(browser.cookies["session"]).second_factors,
                         ["totp", "recovery_code"])
        r = browser.get("/account/security")
        self.assertIn('action="/account/security/codes"', r.text)
        self.assertIn('action="/account/security/totp/disable"', r.text)
        for code in codes:
            self.assertNotIn(code, r.text)  # never shown again
        self.assertIn('<span id="totp-state">on</span>', browser.get("/account").text)

        # Log out, log in: the password first, then the code page.
        r = browser.post("/account/logout", data={"csrf": csrf_of(browser.get("/account").text)})
        self.assertEqual(r.status_code, 303)
        r = self.login(browser, email)
        self.assertEqual((r.status_code, r.headers["location"]), (303, "/account/login/code"))
        cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("challenge="))
        attrs = [a.strip().lower() for a in cookie.split(";")[1:]]
        for attr in ("httponly", "samesite=lax", "path=/account/login"):
            self.assertIn(attr, attrs)
        max_age = int(next(a for a in attrs if a.startswith("max-age="))[8:])
        self.assertTrue(240 <= max_age <= 300, max_age)  # the challenge's 5 minutes
        self.assertNotIn("session", browser.cookies)
        self.assertEqual(browser.get("/account").headers["location"], "/account/login")  # not in yet
        r = browser.get("/account/login/code")
        self.assertEqual(r.status_code, 200)
        self.assertIn('action="/account/login/code"', r.text)
        csrf = csrf_of(r.text)

        start = time.monotonic()
        r = self.second_step(browser, csrf, wrong)
        self.assertEqual(r.status_code, 401)
        self.assertGreaterEqual(time.monotonic() - start, FAILURE_DELAY)  # held by the node
        self.assertIn(WRONG_SECOND_FACTOR, r.text)
        self.assertIn('action="/account/login/code"', r.text)
        self.assertNotIn("session", browser.cookies)

        self.logged_in_with(browser, csrf, app.code())
        self.assertIn("Ida", browser.get("/account").text)

    def test_a_recovery_code_logs_in_once(self) -> None:
        browser, email = self.new_user("127.0.0.3")
        _, codes = self.enable_totp(browser)
        other = self.browser("127.0.0.4")
        self.logged_in_with(other, self.first_step(other, email), typed(codes[0]))
        third = self.browser("127.0.0.5")
        csrf = self.first_step(third, email)
        r = self.second_step(third, csrf, codes[0])  # used up
        self.assertEqual(r.status_code, 401)
        self.assertIn(WRONG_SECOND_FACTOR, r.text)
        self.logged_in_with(third, csrf, codes[1])  # the same challenge, another code

    def test_five_wrong_codes_end_the_login(self) -> None:
        browser, email = self.new_user("127.0.0.6")
        app, codes = self.enable_totp(browser)
        other = self.browser("127.0.0.7")
        csrf = self.first_step(other, email)
        wrong = app.wrong_codes(5)
        for code in wrong[:4]:
            r = self.second_step(other, csrf, code)
            self.assertEqual(r.status_code, 401)
            self.assertIn('action="/account/login/code"', r.text)
        r = self.second_step(other, csrf, wrong[4])
        self.assertEqual((r.status_code, r.headers["location"]), (303, "/account/login?note=code-tries"))
        self.assertIsNone(other.cookies.get("challenge"))
        self.assertIn("too many wrong codes", self.browser("127.0.0.8").get(r.headers["location"]).text)
        r = other.get("/account/login/code")
        self.assertEqual((r.status_code, r.headers["location"]), (303, "/account/login"))
        # A new login gets a new challenge; the recovery code still works.
        self.logged_in_with(other, self.first_step(other, email), codes[0])

    def test_a_challenge_cookie_not_made_by_the_app_is_refused(self) -> None:
        browser = self.browser("127.0.0.9")
        browser.cookies.set("challenge", "x" * 43 + ".abc", path="/account/login")
        r = browser.get("/account/login/code")
        self.assertEqual((r.status_code, r.headers["location"]), (303, "/account/login?note=code-expired"))
        self.assertIn("The time to enter the code has run out.",
                      self.browser("127.0.0.9").get(r.headers["location"]).text)
        r = self.browser("127.0.0.9").get("/account/login/code")  # no cookie at all
        self.assertEqual((r.status_code, r.headers["location"]), (303, "/account/login"))

    def test_renew_the_recovery_codes_then_turn_totp_off(self) -> None:
        browser, email = self.new_user("127.0.0.10")
        app, old = self.enable_totp(browser)
        csrf = csrf_of(browser.get("/account/security").text)

        r = browser.post("/account/security/codes", data={"csrf": csrf, "code": app.wrong_codes()[0]})
        self.assertEqual(r.status_code, 401)
        self.assertIn(WRONG_SECOND_FACTOR, r.text)
        r = browser.post("/account/security/codes", data={"csrf": csrf, "code": old[0]})
        self.assertEqual(r.status_code, 200, r.text)
        self.assertIn("The recovery codes you had before no longer work.", r.text)
        new = recovery_codes_of(r.text)
        self.assertEqual(len(new), 10)
        other = self.browser("127.0.0.11")
        csrf_other = self.first_step(other, email)
        self.assertEqual(self.second_step(other, csrf_other, old[1]).status_code, 401)
        self.logged_in_with(other, csrf_other, new[0])

        r = browser.post("/account/security/totp/disable",
                         data={"csrf": csrf, "password": "a guess", "code": new[1]})
        self.assertEqual(r.status_code, 401)
        self.assertIn("Your current password is not right.", r.text)
        r = browser.post("/account/security/totp/disable",
                         data={"csrf": csrf, "password": PASSWORD, "code": app.code()})
        self.assertEqual((r.status_code, r.headers["location"]), (303, "/account/security?note=totp-off"))
        r = browser.get(r.headers["location"])
        self.assertIn("Two-factor authentication is off.", r.text)
        self.assertIn("Set up two-factor authentication", r.text)
        # The password alone logs in again.
        r = self.login(self.browser("127.0.0.12"), email)
        self.assertEqual((r.status_code, r.headers["location"]), (303, "/account"))
        # A form of the old state: 409, nothing happens.
        r = browser.post("/account/security/codes", data={"csrf": csrf, "code": new[2]})
        self.assertEqual(r.status_code, 409)
        self.assertIn("Two-factor authentication is off.", r.text)

    def test_a_second_enable_is_a_conflict(self) -> None:
        browser, _ = self.new_user("127.0.0.13")
        app, _ = self.enable_totp(browser)
        csrf = csrf_of(browser.get("/account/security").text)
        for path, data in [("/account/security/totp/enable", {"code": app.code()}),
                           ("/account/security/totp/setup", {})]:
            with self.subTest(path=path):
                r = browser.post(path, data={"csrf": csrf, **data})
                self.assertEqual(r.status_code, 409)
                self.assertIn("Two-factor authentication is on already.", r.text)

    def test_forms_without_the_right_csrf_token_are_refused(self) -> None:
        browser, email = self.new_user("127.0.0.14")
        _, codes = self.enable_totp(browser)
        for path, data in [
            ("/account/security/totp/setup", {}),
            ("/account/security/totp/enable", {"code": "123456"}),
            ("/account/security/codes", {"code": codes[0]}),
            ("/account/security/totp/disable", {"password": PASSWORD, "code": codes[0]}),
        ]:
            for csrf in ("", "x"):
                with self.subTest(path=path, csrf=csrf):
                    r = browser.post(path, data={**data, "csrf": csrf})
                    self.assertEqual(r.status_code, 403)
        other = self.browser("127.0.0.15")
        real = self.first_step(other, email)
        for csrf in ("", "x", csrf_of(browser.get("/account/security").text)):
            with self.subTest(path="/account/login/code", csrf=csrf):
                r = self.second_step(other, csrf, codes[0])
                self.assertEqual(r.status_code, 403)
        # Nothing happened: TOTP on, the code unused, the challenge alive.
        self.logged_in_with(other, real, codes[0])
        # Without a session: to the login page.
        r = self.browser("127.0.0.16").post("/account/security/totp/setup", data={"csrf": "x"})
        self.assertEqual((r.status_code, r.headers["location"]), (303, "/account/login"))
        r = self.browser("127.0.0.16").get("/account/security")
        self.assertEqual((r.status_code, r.headers["location"]), (303, "/account/login"))

    def test_no_secret_code_or_challenge_in_an_url_or_the_app_log(self) -> None:
        browser, email = self.new_user("127.0.0.17")
        r = browser.post("/account/security/totp/setup",
                         data={"csrf": csrf_of(browser.get("/account/security").text)})
        secret = secret_of(r.text)
        app = Authenticator(secret)
        enable = app.code()
        r = browser.post("/account/security/totp/enable", data={"csrf": csrf_of(r.text), "code": enable})
        codes = recovery_codes_of(r.text)
        other = self.browser("127.0.0.18")
        r = self.login(other, email)
        challenge = other.cookies["challenge"]
        self.assertNotIn(challenge.partition(".")[0], r.headers["location"])
        login_code = app.code()
        self.logged_in_with(other, csrf_of(other.get("/account/login/code").text), login_code)
        log = self.app.log()
        for text in [secret, enable, login_code, *codes, challenge, challenge.partition(".")[0]]:
            self.assertNotIn(text, log)


class TwoFactorRecoveryTest(WebAppTestCase):
    """"Forgot password?" of an account with TOTP on: the new password is
    set, then the code page, as after a login."""

    MAIL = True

    def test_recovery_then_the_second_step(self) -> None:
        old_session, email = self.new_user("127.0.0.2", name="Jan")
        _, codes = self.enable_totp(old_session)
        browser = self.browser("127.0.0.3")
        seen = len(mails_to(self.sink, email, RECOVERY_MAIL))
        browser.post("/account/recover", data={"email": email})
        code = self.new_code(email, RECOVERY_MAIL, seen)
        r = browser.post("/account/recover/code",
                         data={"email": email, "code": code, "new_password": NEW_PASSWORD})
        self.assertEqual((r.status_code, r.headers["location"]),
                         (303, "/account/login/code?note=recovered-code"), r.text)
        self.assertNotIn("session", browser.cookies)
        r = browser.get(r.headers["location"])
        self.assertIn("Your new password is set", r.text)
        self.assertIn('action="/account/login/code"', r.text)
        # The password is set and every session ended, before the code.
        r = old_session.get("/account")
        self.assertEqual(r.headers["location"], "/account/login?note=expired")

        r = browser.post("/account/login/code", data={"csrf": csrf_of(browser.get("/account/login/code").text),
                                                      "code": codes[0]})
        self.assertEqual((r.status_code, r.headers["location"]), (303, "/account?note=recovered"))
        self.assertIn("Your new password is set and you are logged in.", browser.get(r.headers["location"]).text)
        # The new password is the password: its login asks for a code.
        self.first_step(self.browser("127.0.0.4"), email, NEW_PASSWORD)


class NodeDownTest(WebAppTestCase):
    def test_503_while_the_node_is_down_and_recovery(self) -> None:
        browser, email = self.new_user("127.0.0.2")
        self.node.stop()
        try:
            r = browser.get("/account")
            self.assertEqual(r.status_code, 503)
            self.assertIn("not available right now", r.text)
            r = self.login(self.browser("127.0.0.3"), email)
            self.assertEqual(r.status_code, 503)
            r = self.register(self.browser("127.0.0.3"), unique_email())
            self.assertEqual(r.status_code, 503)
            # Pages that need no node are served.
            self.assertEqual(browser.get("/account/login").status_code, 200)
        finally:
            self.node.start()
        # The session is in the node's database; the app reconnects.
        r = browser.get("/account")
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(self.login(self.browser("127.0.0.3"), email).status_code, 303)


class UntrustedAppTest(WebAppTestCase):
    """A node that does not list the app in --trusted-sources refuses its
    client_addr; the app answers 500 and says why in its log."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.node = Node(["--trusted-sources=10.9.9.9/32"])
        cls.addClassCleanup(cls.node.close)
        cls.app = WebApp(cls.node)
        cls.addClassCleanup(cls.app.close)

    def test_misconfiguration_is_a_500_and_logged(self) -> None:
        r = self.register(self.browser("127.0.0.2"), unique_email())
        self.assertEqual(r.status_code, 500)
        r = self.login(self.browser("127.0.0.2"), unique_email())
        self.assertEqual(r.status_code, 500)
        self.assertIn("--trusted-sources", self.app.log())


def scripted_answers(conn: socket.socket, index: int) -> None:
    """A fake node's connection: each request gets the answer its email
    (or op) asks for, for answers a real node gives only under load."""
    conn.settimeout(60)
    buf = b""
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            return
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            request = json.loads(line)
            key = request.get("email", request["op"]).split("@")[0]
            error = {
                "busy": {"code": "busy", "message": "too busy"},
                "unavailable": {"code": "unavailable", "message": "the database is unavailable"},
                "limited": {"code": "rate_limited", "message": "too many attempts", "retry_after_ms": 2001},
                "whoami": {"code": "unavailable", "message": "the database is unavailable"},
            }.get(key, {"code": "internal", "message": "not scripted"})
            node_support.write_json(conn, {"id": request["id"], "ok": False, "error": error})


class NodeUnderLoadTest(WebAppTestCase):
    """Against a fake node: busy and unavailable become 503, rate_limited
    429 with Retry-After rounded up."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.fake = node_support.FakeNode(scripted_answers)
        cls.fake.host = "127.0.0.1"
        cls.addClassCleanup(cls.fake.close)
        cls.app = WebApp(cls.fake)
        cls.addClassCleanup(cls.app.close)

    def test_busy_and_unavailable_are_503(self) -> None:
        browser = self.browser("127.0.0.2")
        for email in ["busy@example.org", "unavailable@example.org"]:
            with self.subTest(email=email):
                r = self.login(browser, email)
                self.assertEqual(r.status_code, 503)
                self.assertIn("not available right now", r.text)
                r = self.register(browser, email)
                self.assertEqual(r.status_code, 503)
                # A database that did not answer is no missing mail.
                r = browser.post("/account/recover", data={"email": email})
                self.assertEqual(r.status_code, 503)
                self.assertIn("not available right now", r.text)
                self.assertNotIn("Password recovery", r.text)
        browser.cookies.set("session", "t" * 43)
        self.assertEqual(browser.get("/account").status_code, 503)

    def test_rate_limited_is_429_with_retry_after_rounded_up(self) -> None:
        browser = self.browser("127.0.0.3")
        recover_finish = {"email": "limited@example.org", "code": "K7QM-2XPA", "new_password": PASSWORD}
        for r in [self.login(browser, "limited@example.org"), self.register(browser, "limited@example.org"),
                  browser.post("/account/recover", data={"email": "limited@example.org"}),
                  browser.post("/account/recover/code", data=recover_finish)]:
            self.assertEqual(r.status_code, 429)
            self.assertEqual(r.headers["retry-after"], "3")
            self.assertIn("Please wait 3 seconds", r.text)


class BreachedPasswordTest(WebAppTestCase):
    """A node with a breached-password index (built by the real authctl from
    a corpus made here): the forms show the refusal, the account page the
    advisory after a login whose password is breached."""

    MAIL = True
    BREACHED = [f"leaked-password-{i}" for i in range(50)]
    REFUSAL = "This password is in a list of breached passwords; choose another."
    ADVISORY = "Your password appears in a list of breached passwords; change it."

    @classmethod
    def build_index(cls, words: list[str], name: str) -> Path:
        lines = sorted(f"{hashlib.sha1(w.encode()).hexdigest().upper()}:1" for w in words)
        corpus = cls.dir / f"{name}.txt"
        corpus.write_text("\n".join(lines) + "\n")
        index = cls.dir / name
        authctl = node_support.BINARY.parent / "authctl"
        subprocess.run([str(authctl), "breached", "build", str(corpus), str(index), "--no-progress"],
                       check=True, capture_output=True)
        return index

    @classmethod
    def setUpClass(cls) -> None:
        tmp = tempfile.TemporaryDirectory(prefix="webapp-breached-")
        cls.addClassCleanup(tmp.cleanup)
        cls.dir = Path(tmp.name)
        # The node starts with the first half; the whole list comes by reload.
        cls.live = cls.build_index(cls.BREACHED[:25], "live.idx")
        cls.EXTRA_NODE_OPTIONS = [f"--breached-passwords={cls.live}"]
        super().setUpClass()
        # Accounts whose passwords the node learns are breached only later:
        # registered now, then the whole list is mapped (SIGHUP).
        cls.later = {name: (unique_email(name), cls.BREACHED[40 + i])
                     for i, name in enumerate(("plain", "totp"))}
        with authnode.Client(cls.node.host, cls.node.port) as c:
            for email, password in cls.later.values():
                c.register(email, password, "Ann")
        whole = cls.build_index(cls.BREACHED, "whole.idx")
        os.replace(whole, cls.live)
        os.kill(cls.node.proc.pid, signal.SIGHUP)
        wait_until(lambda: "50 entries" in cls.node.log(), timeout=10)

    def test_register_refuses_a_breached_password_with_a_sentence(self) -> None:
        browser = self.browser("127.0.0.2")
        r = self.register(browser, unique_email(), password=self.BREACHED[1])
        self.assertEqual(r.status_code, 400, r.text)
        self.assertIn(self.REFUSAL, r.text)
        self.assertNotIn(self.BREACHED[1], r.text)
        self.assertNotIn("session", browser.cookies)

    def test_password_change_refuses_a_breached_password(self) -> None:
        browser, _ = self.new_user("127.0.0.3")
        csrf = csrf_of(browser.get("/account").text)
        r = browser.post("/account/password", data={
            "csrf": csrf, "old_password": PASSWORD, "new_password": self.BREACHED[2]})
        self.assertEqual(r.status_code, 400, r.text)
        self.assertIn(self.REFUSAL, r.text)

    def test_recovery_refuses_a_breached_password(self) -> None:
        _, email = self.new_user("127.0.0.4")
        browser = self.browser("127.0.0.5")
        seen = len(mails_to(self.sink, email, RECOVERY_MAIL))
        self.assertEqual(browser.post("/account/recover", data={"email": email}).status_code, 200)
        code = self.new_code(email, RECOVERY_MAIL, seen)
        r = browser.post("/account/recover/code",
                         data={"email": email, "code": code, "new_password": self.BREACHED[3]})
        self.assertEqual(r.status_code, 400, r.text)
        self.assertIn(self.REFUSAL, r.text)

    def test_the_account_page_advises_a_change_after_a_breached_login(self) -> None:
        fresh, _ = self.new_user("127.0.0.6")
        self.assertNotIn(self.ADVISORY, fresh.get("/account").text)
        email, password = self.later["plain"]
        later = self.browser("127.0.0.7")
        self.assertEqual(self.login(later, email, password).status_code, 303)
        self.assertIn(self.ADVISORY, later.get("/account").text)
        csrf = csrf_of(later.get("/account").text)
        r = later.post("/account/password", data={
            "csrf": csrf, "old_password": password, "new_password": "a fresh new secret"})
        self.assertEqual(r.status_code, 303, r.text)
        self.assertNotIn(self.ADVISORY, later.get("/account").text)

    def test_the_advisory_survives_the_second_factor(self) -> None:
        email, password = self.later["totp"]
        browser = self.browser("127.0.0.8")
        self.assertEqual(self.login(browser, email, password).status_code, 303)
        _, codes = self.enable_totp(browser)
        second = self.browser("127.0.0.9")
        csrf = self.first_step(second, email, password)
        r = second.post("/account/login/code", data={"csrf": csrf, "code": codes[0]})
        self.assertEqual((r.status_code, r.headers.get("location")), (303, "/account"), r.text)
        self.assertIn(self.ADVISORY, second.get("/account").text)
