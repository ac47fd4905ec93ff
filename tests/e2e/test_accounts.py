"""Issue 15 in the browser: the first therapist, made by the CLI on an install with
sign-up closed, signs in, turns on two-step sign-in by scanning the QR code (the test
decodes a screenshot of it with zxing-cpp), signs in again with a code and with a
recovery code (a second use is refused); a password change ends the other device's
page and socket; a reset link from the SMTP sink works once."""
import io
import os
import re
import subprocess
import sys
import time
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
import zxingcpp
from PIL import Image

from tests.e2e.conftest import ARTIFACTS
from tests.e2e.people import Person
from tests.support import DEFAULT_MODE, ROOT, ServerProcess, wait_for
from tests.mailsink import smtp_sink  # noqa: F401 (a fixture)

pytestmark = pytest.mark.browser

EMAIL = "rivera@clinic.example"
PASSWORD = "a long enough password"
NEW_PASSWORD = "violet lantern orchard 42"
LAPTOP = {"viewport": {"width": 1366, "height": 768}}
TABLET = {"viewport": {"width": 1024, "height": 768}, "has_touch": True}
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True}


@pytest.fixture
def closed_server(tmp_path, smtp_sink):
    """A fresh install: sign-up closed, mail through the sink, the first therapist
    made with `flask --app app create-therapist` (non-interactively, as in CI)."""
    env = {"PLAYROOM_OPEN_SIGNUP": "0", "PLAYROOM_SMTP_HOST": "127.0.0.1",
           "PLAYROOM_SMTP_PORT": str(smtp_sink[1]), "PLAYROOM_SMTP_SECURITY": "none"}
    cli = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "create-therapist", "--email", EMAIL,
         "--name", "Dr. Rivera"], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**os.environ, "PLAYROOM_INSTANCE": str(tmp_path), "PLAYROOM_NEW_PASSWORD": PASSWORD})
    assert cli.returncode == 0 and "administrator" in cli.stdout, cli.stdout + cli.stderr
    srv = ServerProcess(tmp_path, mode=DEFAULT_MODE, env=env).start()
    yield srv
    srv.stop()


@pytest.fixture
def people(browser, closed_server):
    made = []

    def person(**ctx):
        made.append(Person(browser, closed_server.url, **ctx))
        return made[-1]
    yield person
    own = (closed_server.url, "data:", "blob:" + closed_server.url)
    for p in made:
        assert all(u.startswith(own) for u in p.requests), \
            [u for u in p.requests if not u.startswith(own)]          # no other host
        # (the refusals this test provokes, 403 and 400 pages, log "Failed to load")
        errors = [e for e in p.console_errors if not e.startswith("Failed to load resource")]
        assert not errors, errors
        p.close()


def shot(person, name):
    os.makedirs(ARTIFACTS, exist_ok=True)
    person.page.screenshot(path=os.path.join(ARTIFACTS, f"accounts-{name}.png"), full_page=True)


def press(person, selector):
    """A tap on a touch device, a click elsewhere."""
    if person.context_options_touch:
        person.page.tap(selector)
    else:
        person.page.click(selector)


def sign_in_password(p, password=PASSWORD):
    p.goto("/login")
    p.page.fill('input[name="email"]', EMAIL)
    p.page.fill('input[name="password"]', password)
    press(p, 'button[type="submit"]')


def second_step(p, code=None, recovery=None):
    p.page.wait_for_url("**/login/code")
    if code is not None:
        p.page.fill('input[name="code"]', code)
        press(p, '[data-action="send-code"]')
    else:
        p.page.fill('input[name="recovery"]', recovery)
        press(p, '[data-action="send-recovery"]')


def sign_out(p):
    press(p, 'form[action="/logout"] button')
    p.page.wait_for_url(p.base + "/")


def scan_qr(p):
    """Decode the QR code as the page shows it (a screenshot of the image)."""
    png = p.page.locator('img[data-qr="totp"]').screenshot()
    with Image.open(io.BytesIO(png)) as img:
        found = zxingcpp.read_barcodes(img.convert("RGB"))
    assert len(found) == 1, found
    return found[0].text


def later_code(secret, steps=1):
    return pyotp.TOTP(secret).at(time.time() + 30 * steps)


def test_first_therapist_two_step_sign_in_password_change_and_reset(people, smtp_sink):
    sink, _ = smtp_sink
    laptop = people(**LAPTOP)
    laptop.context_options_touch = False
    # Sign-up is closed on this install.
    laptop.goto("/register")
    assert "Sign-up is closed" in laptop.page.inner_text("main")

    # The first therapist signs in and turns on two-step sign-in by scanning the QR code.
    sign_in_password(laptop)
    laptop.page.wait_for_url("**/dashboard")
    laptop.page.click('[data-action="sign-ins"]')
    laptop.page.click('[data-action="two-step"]')
    uri = scan_qr(laptop)
    assert uri.startswith("otpauth://totp/")
    secret = parse_qs(urlparse(uri).query)["secret"][0]
    shown = laptop.page.inner_text("[data-secret]").replace(" ", "")
    assert shown == secret                                   # the same key, for typing in
    laptop.page.fill('input[name="code"]', pyotp.TOTP(secret).now())
    laptop.page.click('[data-action="turn-on-two-step"]')
    laptop.page.wait_for_selector('[data-state="recovery-codes"]')
    codes = laptop.page.locator("[data-recovery-code]").all_inner_texts()
    assert len(codes) == 10
    shot(laptop, "recovery-codes")
    sign_out(laptop)

    # Signing in now asks for a code after the password; pasted with a space, it works.
    sign_in_password(laptop)
    code = later_code(secret)
    second_step(laptop, code=f"{code[:3]} {code[3:]}")
    laptop.page.wait_for_url("**/dashboard")
    sign_out(laptop)

    # A recovery code works once.
    sign_in_password(laptop)
    second_step(laptop, recovery=codes[0])
    laptop.page.wait_for_url("**/dashboard")
    sign_out(laptop)
    sign_in_password(laptop)
    second_step(laptop, recovery=codes[0])
    assert "used already" in laptop.page.inner_text("main")
    assert laptop.page.url.endswith("/login/code")
    second_step(laptop, recovery=codes[1])
    laptop.page.wait_for_url("**/dashboard")

    # A room, open on the therapist's tablet too.
    laptop.page.fill('input[name="name"]', "Sam, 7")
    laptop.page.click('[data-action="create-room"]')
    tablet = people(**TABLET)
    tablet.context_options_touch = True
    sign_in_password(tablet)
    second_step(tablet, recovery=codes[2])
    tablet.page.wait_for_url("**/dashboard")
    press(tablet, '[data-action="open-room"]')
    tablet.wait_connected()

    # A new password on the laptop ends the tablet's page and socket at once.
    laptop.goto("/account/password")
    laptop.page.fill('input[name="current"]', PASSWORD)
    laptop.page.fill('input[name="password"]', NEW_PASSWORD)
    laptop.page.fill('input[name="confirm"]', NEW_PASSWORD)
    laptop.page.click('[data-action="change-password"]')
    laptop.page.wait_for_url("**/account/sign-ins")
    tablet.page.wait_for_selector('body[data-fatal="not_authenticated"]', timeout=15000)
    assert "You were signed out." in tablet.page.inner_text(".fatal")
    shot(tablet, "signed-out-tablet")
    tablet.goto("/dashboard")
    assert "/login" in tablet.page.url
    laptop.goto("/dashboard")
    assert laptop.page.url.endswith("/dashboard")                # this device stays

    # A reset link from the mail works once (on a phone).
    phone = people(**PHONE)
    phone.context_options_touch = True
    phone.goto("/forgot")
    phone.page.fill('input[name="email"]', EMAIL)
    press(phone, 'button[type="submit"]')
    phone.page.wait_for_selector('[data-state="sent"]')
    wait_for(lambda: sink.messages, what="the reset mail")
    body = sink.messages[-1].get_body(("plain",)).get_content()
    link = re.search(r"http://\S+/reset/\S+", body).group(0)
    phone.goto(link)
    phone.page.fill('input[name="password"]', "quiet meadow bicycle 1987")
    phone.page.fill('input[name="confirm"]', "quiet meadow bicycle 1987")
    shot(phone, "reset-phone")
    press(phone, '[data-action="reset-password"]')
    phone.page.wait_for_url("**/login")
    sign_in_password(phone, "quiet meadow bicycle 1987")
    second_step(phone, recovery=codes[3])
    phone.page.wait_for_url("**/dashboard")
    phone.goto(link)
    assert "does not work any more" in phone.page.inner_text("main")
    laptop.goto("/dashboard")
    assert "/login" in laptop.page.url                           # a reset ends every sign-in
    phone.goto("/account/sign-ins")
    assert phone.page.locator("tr[data-sign-in]").count() == 1
    assert phone.page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone, "sign-ins-phone")


def test_two_step_enrolment_fits_a_phone_and_its_qr_scans_there(browser, server):
    phone = Person(browser, server.url, **PHONE)
    try:
        phone.goto("/register")
        phone.page.fill('input[name="name"]', "Dr. Rivera")
        phone.page.fill('input[name="email"]', EMAIL)
        phone.page.fill('input[name="password"]', PASSWORD)
        phone.page.fill('input[name="confirm"]', PASSWORD)
        phone.page.tap('button[type="submit"]')
        phone.page.wait_for_url("**/dashboard")
        phone.goto("/account/two-step")
        assert scan_qr(phone).startswith("otpauth://totp/Playroom:")
        width = phone.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390                                      # no sideways scrolling
        field = phone.page.locator('input[name="code"]')
        assert field.get_attribute("autocomplete") == "one-time-code"
        assert field.bounding_box()["height"] >= 44
        shot(phone, "two-step-phone")
    finally:
        phone.close()
