"""The web app in a real headless browser (ctest webapp_browser).

Debian's chromium and chromedriver, driven by selenium, against the app
under uvicorn and a real node. The test saves a screenshot of each page it
sees in ``$WEBAPP_ARTIFACTS`` (ctest: test-artifacts/webapp in the build
tree; otherwise a new temporary directory, named on stderr).

The node mails through an SMTP sink on loopback; the forgot-password and
verification tests read the codes from the mails it keeps, as a user
would from their inbox. The two-factor test reads the TOTP seed from the
setup page and computes the codes with pyotp, as an authenticator app
would.

Chromium runs as root here, so without its sandbox, and with everything
that would call out to the internet turned off: all its traffic goes to
127.0.0.1. Waits are WebDriverWait with short timeouts, never sleeps.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import unittest
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait
from selenium.webdriver.common.virtual_authenticator import Credential, VirtualAuthenticatorOptions
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from webapp_support import (
    NODE_OPTIONS,
    PASSWORD,
    RECOVERY_MAIL,
    VERIFY_MAIL,
    Authenticator,
    Node,
    WebApp,
    WebAppTestCase,
    free_port,
    mails_to,
    unique_email,
)

CHROMIUM = os.environ.get("WEBAPP_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("WEBAPP_CHROMEDRIVER", "/usr/bin/chromedriver")
WAIT = 15  # seconds; a sanitized node answers slower


def artifacts_dir() -> Path:
    path = os.environ.get("WEBAPP_ARTIFACTS")
    if path:
        Path(path).mkdir(parents=True, exist_ok=True)
        return Path(path)
    path = tempfile.mkdtemp(prefix="webapp-artifacts-")
    print(f"screenshots in {path}", file=sys.stderr)
    return Path(path)


def start_chromium(profile: str) -> WebDriver:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-proxy-server",
        "--disable-dev-shm-usage", "--window-size=820,900",
        f"--user-data-dir={profile}",
    ]:
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)


@unittest.skipUnless(Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists(),
                     "needs Debian's chromium and chromium-driver")
class BrowserTest(WebAppTestCase):
    MAIL = True

    def setUp(self) -> None:
        profile = tempfile.mkdtemp(prefix="webapp-chromium-")
        self.addCleanup(shutil.rmtree, profile, ignore_errors=True)
        self.driver = start_chromium(profile)
        self.addCleanup(self.driver.quit)
        self.shots = artifacts_dir()

    def open(self, path: str) -> None:
        self.driver.get(self.app.url + path)

    def wait_for(self, css: str) -> None:
        WebDriverWait(self.driver, WAIT).until(EC.presence_of_element_located((By.CSS_SELECTOR, css)))

    def wait_for_path(self, path: str) -> None:
        WebDriverWait(self.driver, WAIT).until(EC.url_to_be(self.app.url + path))

    def fill(self, **fields: str) -> None:
        for name, value in fields.items():
            box = self.driver.find_element(By.NAME, name)
            box.clear()
            box.send_keys(value)

    def submit(self) -> None:
        self.driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()

    def text(self, css: str) -> str:
        return self.driver.find_element(By.CSS_SELECTOR, css).text

    def click(self, element_id: str) -> None:
        self.driver.find_element(By.ID, element_id).click()

    def register(self, name: str) -> str:
        """Register a new account in the browser; the app logs it in."""
        email = unique_email("browser")
        self.open("/account/register")
        self.fill(name=name, email=email, password=PASSWORD)
        self.submit()
        self.wait_for_path("/account")
        return email

    def shot(self, name: str) -> None:
        path = self.shots / f"{name}.png"
        self.assertTrue(self.driver.save_screenshot(str(path)), path)

    def test_register_log_out_log_in_log_out(self) -> None:
        email = unique_email("browser")

        # Register: the app logs the new user in.
        self.open("/account/register")
        self.fill(name="Ada Lovelace", email=email, password=PASSWORD)
        self.shot("01-register")
        self.submit()
        self.wait_for_path("/account")
        self.assertEqual(self.text("#user-name"), "Ada Lovelace")
        self.driver.find_element(By.ID, "logout").click()
        self.wait_for_path("/account/login?note=bye")

        # A wrong password: the login form again, after the failure delay.
        self.fill(email=email, password="not my password")
        self.shot("02-login")
        self.submit()
        self.wait_for(".error")
        self.assertEqual(self.text(".error"), "Wrong email or password.")
        self.assertEqual(self.driver.find_element(By.NAME, "email").get_attribute("value"), email)
        self.shot("03-wrong-password")

        # The right one: the account page, from whoami.
        self.fill(password=PASSWORD)
        self.submit()
        self.wait_for_path("/account")
        self.assertEqual(self.text("#user-name"), "Ada Lovelace")
        self.assertEqual(self.text("#user-email"), email)
        self.shot("04-account")

        # The session cookie is out of the page's reach.
        session = self.driver.get_cookie("session")
        self.assertIsNotNone(session)
        self.assertTrue(session["httpOnly"])
        self.assertEqual(session["sameSite"], "Lax")
        self.assertEqual(self.driver.execute_script("return document.cookie"), "")

        # Log out: back to the login page, and the account is closed to us.
        self.driver.find_element(By.ID, "logout").click()
        self.wait_for_path("/account/login?note=bye")
        self.assertEqual(self.text(".note"), "You are logged out.")
        self.assertIsNone(self.driver.get_cookie("session"))
        self.shot("05-logged-out")
        self.open("/account")
        self.wait_for_path("/account/login")

        # The stylesheet loaded, and nothing broke the page's policy.
        color = self.driver.find_element(By.TAG_NAME, "header").value_of_css_property("background-color")
        self.assertEqual(color, "rgba(31, 58, 95, 1)")
        messages = [e["message"] for e in self.driver.get_log("browser")]
        self.assertEqual([m for m in messages if "Content Security Policy" in m], [])

    def test_forgot_password_then_logged_in(self) -> None:
        email = self.register("Grace Hopper")
        self.click("logout")
        self.wait_for_path("/account/login?note=bye")

        # "Forgot password?" on the login page, then the address.
        self.click("forgot")
        self.wait_for_path("/account/recover")
        seen = len(mails_to(self.sink, email, RECOVERY_MAIL))
        self.fill(email=email)
        self.shot("10-forgot")
        self.submit()
        self.wait_for(".note")
        self.assertEqual(self.text(".note"), "If the address has an account, we sent it a code.")
        self.assertEqual(self.driver.find_element(By.NAME, "email").get_attribute("value"), email)
        self.shot("11-recovery-code")

        # A wrong code first: the form again, after the failure delay.
        code = self.new_code(email, RECOVERY_MAIL, seen)
        self.fill(code="0000-0000" if code != "0000-0000" else "1111-1111", new_password="a new secret")
        self.submit()
        self.wait_for(".error")
        self.assertIn("That code is not right", self.text(".error"))
        self.shot("12-wrong-code")

        # The code from the mail and a new password: logged in, verified.
        self.fill(code=code, new_password="a new secret")
        self.submit()
        self.wait_for_path("/account?note=recovered")
        self.assertIn("Your new password is set", self.text(".note"))
        self.assertEqual(self.text("#user-email"), email)
        self.assertEqual(self.driver.find_elements(By.ID, "unverified"), [])
        self.assertIsNotNone(self.driver.get_cookie("session"))
        self.shot("13-recovered")

        # The new password is the password.
        self.click("logout")
        self.wait_for_path("/account/login?note=bye")
        self.fill(email=email, password="a new secret")
        self.submit()
        self.wait_for_path("/account")

    def test_verify_the_address_from_the_banner(self) -> None:
        email = self.register("Katherine Johnson")
        self.wait_for("#unverified")
        self.assertIn("Your address is not verified.", self.text("#unverified"))
        self.shot("20-unverified")

        # register mailed one code; "Send a code" mails a new one.
        seen = len(mails_to(self.sink, email, VERIFY_MAIL))
        self.click("send-verify-code")
        self.wait_for_path("/account?note=code-sent")
        self.assertIn("We sent a code to your address.", self.text(".note"))
        code = self.new_code(email, VERIFY_MAIL, seen)

        self.fill(code=code.lower())
        self.shot("21-verify-code")
        self.click("verify")
        self.wait_for_path("/account?note=verified")
        self.assertEqual(self.text(".note"), "Your address is verified.")
        self.assertEqual(self.driver.find_elements(By.ID, "unverified"), [])
        self.assertEqual(self.text("#email-verified"), "verified")
        self.shot("22-verified")

    def test_two_factor_setup_then_log_in_with_a_code(self) -> None:
        email = self.register("Hedy Lamarr")
        self.assertEqual(self.text("#totp-state"), "off")
        self.click("security")
        self.wait_for_path("/account/security")
        self.assertIn("is off", self.text("#totp-status"))
        self.shot("30-security")

        # The QR code is in the page itself, as SVG; the key beside it.
        self.click("totp-setup")
        self.wait_for("#totp-qr svg")
        qr = self.driver.find_element(By.CSS_SELECTOR, "#totp-qr svg")
        self.assertGreater(qr.size["width"], 100)
        self.assertEqual(self.driver.find_elements(By.TAG_NAME, "img"), [])
        app = Authenticator(self.text("#totp-secret").replace(" ", ""))
        self.shot("31-totp-setup")
        self.fill(code=app.code())
        self.click("totp-enable")
        self.wait_for("#recovery-codes")
        codes = [li.text for li in self.driver.find_elements(By.CSS_SELECTOR, "#recovery-codes li")]
        self.assertEqual(len(codes), 10)
        self.assertIn("only time they are shown", self.driver.find_element(By.TAG_NAME, "main").text)
        self.shot("32-recovery-codes")
        self.click("codes-saved")
        self.wait_for_path("/account/security")
        self.assertIn("is on", self.text("#totp-status"))

        # Log out, log in: the password, then the code page.
        self.open("/account")
        self.click("logout")
        self.wait_for_path("/account/login?note=bye")
        self.fill(email=email, password=PASSWORD)
        self.submit()
        self.wait_for_path("/account/login/code")
        self.assertIsNone(self.driver.get_cookie("session"))
        challenge = self.driver.get_cookie("challenge")
        self.assertIsNotNone(challenge)
        self.assertTrue(challenge["httpOnly"])
        self.assertNotIn(challenge["value"].partition(".")[0], self.driver.current_url)
        self.shot("33-second-step")

        # A wrong code: the form again, after the failure delay.
        self.fill(code=app.wrong_codes()[0])
        self.submit()
        self.wait_for(".error")
        self.assertIn("That code is not right", self.text(".error"))
        self.shot("34-wrong-code")

        # The app's code: logged in.
        self.fill(code=app.code())
        self.submit()
        self.wait_for_path("/account")
        self.assertEqual(self.text("#user-email"), email)
        self.assertEqual(self.text("#totp-state"), "on")
        self.assertIsNone(self.driver.get_cookie("challenge"))
        self.shot("35-logged-in-with-a-code")

        # A recovery code, typed in lower case, logs in too.
        self.click("logout")
        self.wait_for_path("/account/login?note=bye")
        self.fill(email=email, password=PASSWORD)
        self.submit()
        self.wait_for_path("/account/login/code")
        self.fill(code=codes[0].lower())
        self.submit()
        self.wait_for_path("/account")
        self.assertEqual(self.text("#user-name"), "Hedy Lamarr")

        # The inline SVG and the pages broke nothing of the page's policy.
        messages = [e["message"] for e in self.driver.get_log("browser")]
        self.assertEqual([m for m in messages if "Content Security Policy" in m], [])


@unittest.skipUnless(Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists(),
                     "needs Debian's chromium and chromium-driver")
class PasskeyBrowserTest(WebAppTestCase):
    """Passkeys with Chromium's virtual authenticator (CTAP2, internal
    transport, resident keys, user verification), on ``localhost``: an IP
    address cannot be a WebAuthn rp id, and browsers treat localhost as a
    secure context over plain http."""

    @classmethod
    def setUpClass(cls) -> None:
        super(WebAppTestCase, cls).setUpClass()
        port = free_port()
        cls.origin = f"http://localhost:{port}"
        cls.node = Node(NODE_OPTIONS + ["--webauthn-rp-id=localhost",
                                        "--webauthn-rp-name=Seed app",
                                        f"--webauthn-origins={cls.origin}"])
        cls.addClassCleanup(cls.node.close)
        cls.app = WebApp(cls.node, port=port)
        cls.addClassCleanup(cls.app.close)

    setUp = BrowserTest.setUp
    wait_for = BrowserTest.wait_for
    fill = BrowserTest.fill
    submit = BrowserTest.submit
    text = BrowserTest.text
    click = BrowserTest.click
    shot = BrowserTest.shot

    def open(self, path: str) -> None:
        self.driver.get(self.origin + path)

    def wait_for_path(self, path: str) -> None:
        WebDriverWait(self.driver, WAIT).until(EC.url_to_be(self.origin + path))

    def authenticator(self) -> None:
        options = VirtualAuthenticatorOptions(
            protocol=VirtualAuthenticatorOptions.Protocol.CTAP2,
            transport=VirtualAuthenticatorOptions.Transport.INTERNAL,
            has_resident_key=True, has_user_verification=True, is_user_verified=True,
        )
        self.driver.add_virtual_authenticator(options)

    def test_add_a_passkey_log_out_sign_in_without_a_password(self) -> None:
        self.authenticator()
        email = unique_email("passkey")
        self.open("/account/register")
        self.fill(name="Radia Perlman", email=email, password=PASSWORD)
        self.submit()
        WebDriverWait(self.driver, WAIT).until(EC.url_to_be(self.origin + "/account"))

        # "Add a passkey" on the security page: the virtual authenticator
        # makes it (user verified), the app stores it through the node.
        self.open("/account/security")
        self.wait_for("#passkey-add")
        self.assertEqual(self.text("#passkeys-none"), "You have no passkey yet.")
        self.fill(passkey_name="Test laptop")
        self.shot("40-security-passkeys")
        self.click("passkey-add")
        self.wait_for_path("/account/security?note=passkey-added")
        self.assertEqual(self.text("#passkeys .passkey-name"), "Test laptop")
        self.assertEqual(len(self.driver.get_credentials()), 1)
        self.assertTrue(self.driver.get_credentials()[0].is_resident_credential)
        self.shot("41-passkey-added")

        # Log out, then "Sign in with a passkey" with no email typed: the
        # authenticator's resident credential names the account.
        self.open("/account")
        self.click("logout")
        self.wait_for_path("/account/login?note=bye")
        self.wait_for("#passkey-login")
        self.shot("42-login-with-passkey")
        self.click("passkey-login")
        self.wait_for_path("/account")
        self.assertEqual(self.text("#user-email"), email)
        self.assertEqual(self.text("#user-name"), "Radia Perlman")
        self.shot("43-signed-in-with-a-passkey")
        session = self.driver.get_cookie("session")
        self.assertIsNotNone(session)
        self.assertTrue(session["httpOnly"])

        # Another authenticator, never registered, holding a passkey for
        # this site that the node never saw: it signs nobody in, and the
        # node, not the browser, is who refuses it.
        self.click("logout")
        self.wait_for_path("/account/login?note=bye")
        self.driver.remove_virtual_authenticator()
        self.authenticator()
        key = ec.generate_private_key(ec.SECP256R1())
        self.driver.add_credential(Credential.create_resident_credential(
            os.urandom(16), "localhost", os.urandom(32),
            key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()), 0))
        self.click("passkey-login")
        self.wait_for("#passkey-status:not([hidden])")
        self.assertEqual(self.text("#passkey-status"),
                         "That passkey did not sign you in. Try again, or use your password.")
        self.assertIsNone(self.driver.get_cookie("session"))
        self.shot("44-unregistered-authenticator")

        # Nothing broke the page's policy: the script is the app's own file.
        messages = [e["message"] for e in self.driver.get_log("browser")]
        self.assertEqual([m for m in messages if "Content Security Policy" in m], [])
