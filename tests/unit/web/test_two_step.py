"""Two-step sign-in (AUTH11): TOTP enrolment by QR or key, sign-in with a code that
works once, single-use recovery codes, and REQUIRE_2FA."""
import re
import time

import pyotp
import pytest
from tests.unit.web.accounts_helpers import PASSWORD, login, text  # noqa: F401 (login: a fixture)



def enrol(browser, post_form):
    """Turn two-step sign-in on; returns (secret, recovery codes)."""
    page = text(browser.get("/account/two-step"))
    secret = re.search(r"data-secret>([A-Z2-7 ]+)<", page).group(1).replace(" ", "")
    code = pyotp.TOTP(secret).now()
    r = post_form(browser, "/account/two-step", "/account/two-step", {"code": code})
    codes = re.findall(r"<code data-recovery-code>([0-9a-f-]+)</code>", text(r))
    assert r.status_code == 200 and len(codes) == 10, text(r)
    return secret, codes


def later_code(secret, steps=1):
    """A code of a later time step (the current one was used to enrol, AUTH11)."""
    return pyotp.TOTP(secret).at(time.time() + 30 * steps)


def send_code(browser, post_form, code, field="code"):
    return post_form(browser, "/login/code", "/login/code", {field: code})


def test_AUTH11_enrolment_needs_a_code_made_from_the_secret(therapist, post_form, pr):
    page = text(therapist.get("/account/two-step"))
    assert 'src="data:image/svg+xml' in page and 'autocomplete="one-time-code"' in page
    assert 'inputmode="numeric"' in page
    r = post_form(therapist, "/account/two-step", "/account/two-step", {"code": "000000"})
    assert r.status_code == 400 and "not right" in text(r)
    assert pr.storage.get_totp(therapist.therapist_id) is None


def test_AUTH11_signing_in_asks_for_a_code_after_the_password(app, therapist, post_form, login):
    secret, _ = enrol(therapist, post_form)
    browser = app.test_client()
    r = login(browser, therapist.email)
    assert r.status_code == 302 and r.location.endswith("/login/code")
    assert browser.get("/dashboard").status_code == 302           # not signed in yet
    assert send_code(browser, post_form, "123 456").status_code == 400
    code = later_code(secret)
    r = send_code(browser, post_form, f" {code[:3]} {code[3:]} ")     # pasted with spaces
    assert r.status_code == 302 and r.location.endswith("/dashboard")
    assert browser.get("/dashboard").status_code == 200
    again = app.test_client()                                     # the same code, replayed
    login(again, therapist.email)
    assert send_code(again, post_form, code).status_code == 400


def test_AUTH11_a_recovery_code_works_once(app, therapist, post_form, login):
    _, codes = enrol(therapist, post_form)
    browser = app.test_client()
    login(browser, therapist.email)
    r = send_code(browser, post_form, codes[3].upper(), field="recovery")
    assert r.status_code == 302
    page = browser.get("/dashboard")
    assert page.status_code == 200 and "9 left" in text(page)
    other = app.test_client()
    login(other, therapist.email)
    r = send_code(other, post_form, codes[3], field="recovery")
    assert r.status_code == 400 and "used already" in text(r)
    assert other.get("/dashboard").status_code == 302


def test_AUTH11_the_code_page_needs_the_password_first(client, post_form):
    r = client.get("/login/code")
    assert r.status_code == 302 and "/login" in r.location
    r = post_form(client, "/login", "/login/code", {"code": "123456"})
    assert r.status_code == 302 and "/login" in r.location


def test_AUTH11_wrong_codes_meet_the_sign_in_back_off(app, therapist, post_form, login):
    secret, _ = enrol(therapist, post_form)
    browser = app.test_client()
    login(browser, therapist.email)
    for _ in range(5):
        assert send_code(browser, post_form, "000000").status_code == 400
    r = send_code(browser, post_form, later_code(secret))
    assert r.status_code == 429 and "Retry-After" in r.headers


def test_AUTH11_recovery_codes_are_stored_hashed(therapist, post_form, pr):
    from rooms.web.two_step import code_hash
    _, codes = enrol(therapist, post_form)
    assert pr.storage.use_recovery_code(therapist.therapist_id, codes[0]) is False   # not as-is
    assert pr.storage.use_recovery_code(therapist.therapist_id, code_hash(codes[0])) is True


def test_AUTH11_turning_it_off_needs_the_password(therapist, post_form, pr):
    enrol(therapist, post_form)
    r = post_form(therapist, "/account/two-step", "/account/two-step/off", {"password": "nope"})
    assert pr.storage.get_totp(therapist.therapist_id) is not None
    r = post_form(therapist, "/account/two-step", "/account/two-step/off", {"password": PASSWORD})
    assert r.status_code == 302 and pr.storage.get_totp(therapist.therapist_id) is None
    assert pr.storage.count_recovery_codes(therapist.therapist_id) == 0


@pytest.mark.parametrize("app_config", [{"REQUIRE_2FA": True}])
def test_AUTH11_require_2fa_sends_a_therapist_without_it_to_enrolment(therapist, post_form):
    r = therapist.get("/dashboard")
    assert r.status_code == 302 and r.location.endswith("/account/two-step")
    enrol(therapist, post_form)
    assert therapist.get("/dashboard").status_code == 200
    r = post_form(therapist, "/account/two-step", "/account/two-step/off", {"password": PASSWORD})
    assert r.status_code == 403


@pytest.mark.parametrize("method,path", [
    ("get", "/account/two-step"), ("post", "/account/two-step"),
    ("post", "/account/two-step/recovery-codes"), ("post", "/account/two-step/off"),
])
def test_two_step_settings_need_a_sign_in(make_guest, room, client, post_form, method, path):
    for browser in (make_guest(room.links["child"]), client):
        if method == "get":
            r = browser.get(path)
        else:                       # with a valid CSRF token: refused for want of a sign-in
            r = post_form(browser, "/login", path, {"code": "123456", "password": PASSWORD})
        assert r.status_code == 302 and "/login" in r.location


def test_AUTH11_new_recovery_codes_need_the_password_and_replace_the_old(therapist, post_form,
                                                                        pr):
    from rooms.web.two_step import code_hash
    _, old = enrol(therapist, post_form)
    r = post_form(therapist, "/account/two-step", "/account/two-step/recovery-codes",
                  {"password": "nope"})
    assert r.status_code == 302 and pr.storage.count_recovery_codes(therapist.therapist_id) == 10
    r = post_form(therapist, "/account/two-step", "/account/two-step/recovery-codes",
                  {"password": PASSWORD})
    new = re.findall(r"<code data-recovery-code>([0-9a-f-]+)</code>", text(r))
    assert len(new) == 10 and not set(new) & set(old)
    assert pr.storage.use_recovery_code(therapist.therapist_id, code_hash(old[0])) is False
    assert pr.storage.use_recovery_code(therapist.therapist_id, code_hash(new[0])) is True


@pytest.mark.parametrize("path", ["/login/code", "/account/two-step"])
def test_two_step_pages_carry_a_self_only_csp(therapist, path):
    from tests.unit.web.test_web import assert_csp_self_only
    assert_csp_self_only(therapist.get(path, follow_redirects=True))
