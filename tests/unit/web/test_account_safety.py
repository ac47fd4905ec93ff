"""Account safety (rooms/web/accounts.py): sign-in rate limiting per email and per client
address, counted in storage so it holds across processes, and sign-out after
inactivity."""
import re
import time

import pytest

from app import create_app
from tests.support import ROOT

PASSWORD = "correct horse battery"
TOO_MANY = "Too many sign-in attempts"


def text(resp):
    return resp.get_data(as_text=True)


@pytest.fixture
def login(post_form):
    def do(client, email, password=PASSWORD):
        return post_form(client, "/login", "/login", {"email": email, "password": password})
    return do


@pytest.fixture
def kim(make_therapist):
    """A registered therapist; sign-in attempts use fresh browsers."""
    return make_therapist("kim@example.org")


# ====================================================================== rate limiting

def test_five_failures_lock_the_email_with_429_even_for_the_right_password(app, kim, login, pr):
    browser = app.test_client()
    for _ in range(5):
        r = login(browser, "kim@example.org", "wrong password!")
        assert r.status_code == 400 and "Email or password is not right" in text(r)
    r = login(browser, "kim@example.org", PASSWORD)
    assert r.status_code == 429 and TOO_MANY in text(r) and "15 minutes" in text(r)
    assert browser.get("/dashboard").status_code == 302          # not signed in
    # Another browser (same address) is refused for this email too.
    assert login(app.test_client(), "Kim@Example.org", PASSWORD).status_code == 429


def test_the_lock_ends_after_the_window_and_success_clears_the_count(app, kim, login, pr):
    old = time.time() - 16 * 60
    for _ in range(5):
        pr.storage.add_login_failure("email:kim@example.org", at=old)
    r = login(app.test_client(), "kim@example.org", PASSWORD)
    assert r.status_code == 302 and r.location.endswith("/dashboard")
    for _ in range(4):
        login(app.test_client(), "kim@example.org", "wrong password!")
    assert login(app.test_client(), "kim@example.org", PASSWORD).status_code == 302
    assert pr.storage.count_login_failures("email:kim@example.org", 0) == 0
    assert login(app.test_client(), "kim@example.org", "wrong password!").status_code == 400


def test_unknown_emails_count_too(app, login, pr):
    browser = app.test_client()
    for _ in range(5):
        assert login(browser, "nobody@example.org", "whatever1234").status_code == 400
    assert login(browser, "nobody@example.org", "whatever1234").status_code == 429


@pytest.mark.parametrize("app_config", [{"LOGIN_MAX_FAILURES_PER_ADDRESS": 3}])
def test_failures_per_client_address_across_emails(app, kim, login, pr):
    for k in range(3):
        assert login(app.test_client(), f"guess{k}@example.org", "wrong password!").status_code == 400
    r = login(app.test_client(), "kim@example.org", PASSWORD)
    assert r.status_code == 429 and TOO_MANY in text(r)
    # Another address is not affected.
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.1.2.3"
    r = login(other, "kim@example.org", PASSWORD)
    assert r.status_code == 302


def test_the_count_holds_across_processes(app, kim, login, tmp_path):
    """A second app on the same database (as a second server process would be) sees
    the failures the first one counted."""
    for _ in range(5):
        login(app.test_client(), "kim@example.org", "wrong password!")
    second = create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "ASYNC_MODE": "threading",
                         "TESTING": True, "ASSETS_ROOT": ROOT})
    try:
        assert login(second.test_client(), "kim@example.org", PASSWORD).status_code == 429
    finally:
        second.extensions["playroom"].storage.close()


# ====================================================================== inactivity

def set_last_active(client, seconds_ago):
    with client.session_transaction() as s:
        s["last_active"] = int(time.time() - seconds_ago)


def test_inactive_for_longer_than_the_limit_signs_out_with_a_plain_message(kim):
    assert kim.get("/dashboard").status_code == 200
    set_last_active(kim, 31 * 60)
    r = kim.get("/dashboard")
    assert r.status_code == 302 and r.location.endswith("/login")
    page = text(kim.get("/login"))
    assert "signed out because nothing happened for 30 minutes" in page
    assert kim.get("/dashboard").status_code == 302          # really signed out
    with kim.session_transaction() as s:
        assert "_user_id" not in s and "last_active" not in s


def test_activity_keeps_the_sign_in_alive(kim):
    set_last_active(kim, 29 * 60)
    assert kim.get("/dashboard").status_code == 200
    with kim.session_transaction() as s:
        assert time.time() - s["last_active"] < 60            # the request counted
    set_last_active(kim, 29 * 60)
    assert kim.get("/account/alive").status_code == 204
    set_last_active(kim, 2 * 60)
    assert kim.get("/dashboard").status_code == 200


def test_alive_needs_a_sign_in(client):
    r = client.get("/account/alive")
    assert r.status_code == 302 and "/login" in r.location


def test_expired_post_changes_nothing(kim, pr):
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      text(kim.get("/account/settings"))).group(1)
    set_last_active(kim, 31 * 60)
    r = kim.post("/account/settings", data={"csrf_token": token, "days": "30"})
    assert r.status_code == 302 and r.location.endswith("/login")
    assert pr.storage.get_retention_days(kim.therapist_id) is None


@pytest.mark.parametrize("app_config", [{"INACTIVITY_MINUTES": 0}])
def test_zero_minutes_never_signs_out(kim):
    set_last_active(kim, 365 * 86400)
    assert kim.get("/dashboard").status_code == 200


@pytest.mark.parametrize("app_config", [{"INACTIVITY_MINUTES": 5}])
def test_the_limit_is_configurable(kim):
    set_last_active(kim, 6 * 60)
    r = kim.get("/dashboard")
    assert r.status_code == 302 and r.location.endswith("/login")
    assert "nothing happened for 5 minutes" in text(kim.get("/login"))
