"""Accounts ready for a clinic's review (issue 15): closed sign-up, invitations, the
first therapist from the CLI, password strength, change and reset, sign-ins that can
be listed and ended (AUTH6-AUTH10 in docs/PROTOCOL.md)."""
import re
import time

import pytest

from tests.mailsink import smtp_sink  # noqa: F401 (a fixture)
from tests.unit.web.accounts_helpers import PASSWORD, login, text  # noqa: F401 (login: a fixture)

NEW_PASSWORD = "violet lantern orchard 42"


def signed_in(client):
    return client.get("/dashboard").status_code == 200


# ====================================================================== AUTH10 sign-up

closed = pytest.mark.parametrize("app_config", [{"OPEN_SIGNUP": False}])


@closed
def test_AUTH10_sign_up_is_closed_by_default(client, pr, post_form):
    r = client.get("/register")
    assert r.status_code == 403 and "Sign-up is closed" in text(r)
    r = post_form(client, "/login", "/register", {"name": "Eve", "email": "eve@example.org",
                                                  "password": PASSWORD, "confirm": PASSWORD})
    assert r.status_code == 403 and "Sign-up is closed" in text(r)
    assert pr.storage.get_therapist_by_email("eve@example.org") is None
    for page in ("/", "/login"):
        assert "Create a" not in text(client.get(page))      # no link to a closed door


def test_AUTH10_open_sign_up_shows_the_way_in(client):
    assert client.get("/register").status_code == 200
    assert "/register" in text(client.get("/login"))


def cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


@closed
def test_AUTH10_the_first_therapist_comes_from_the_cli_and_is_an_administrator(app, pr, login):
    r = cli(app, "create-therapist", "--email", "Kim@Example.org", "--name", "Dr. Kim",
            "--password", PASSWORD)
    assert r.exit_code == 0, r.output
    assert "administrator" in r.output
    kim = pr.storage.get_therapist_by_email("kim@example.org")
    assert pr.storage.is_admin(kim["id"])
    # (PLAYROOM_NEW_PASSWORD instead of --password: tests/e2e/test_accounts.py, in a
    # subprocess, so this process's environment stays as it is)
    r = cli(app, "create-therapist", "--email", "lee@example.org", "--name", "Dr. Lee",
            "--password", PASSWORD)
    assert r.exit_code == 0, r.output
    assert not pr.storage.is_admin(pr.storage.get_therapist_by_email("lee@example.org")["id"])
    browser = app.test_client()
    assert login(browser, "kim@example.org").status_code == 302 and signed_in(browser)


@closed
def test_AUTH8_the_cli_refuses_a_weak_password_and_a_taken_email(app, pr):
    r = cli(app, "create-therapist", "--email", "kim@example.org", "--name", "Dr. Kim",
            "--password", "kim@example.org1")
    assert r.exit_code != 0 and "stronger password" in r.output
    assert pr.storage.list_therapists() == []
    assert cli(app, "create-therapist", "--email", "kim@example.org", "--name", "Dr. Kim",
               "--password", PASSWORD).exit_code == 0
    r = cli(app, "create-therapist", "--email", "kim@example.org", "--name", "K",
            "--password", PASSWORD)
    assert r.exit_code != 0 and "already" in r.output


def invitation(admin, post_form, email):
    r = post_form(admin, "/account/therapists", "/account/therapists", {"email": email})
    assert r.status_code == 200
    return re.search(r'value="(http[^"]+)" data-link="invitation"', text(r)).group(1)


@closed
def test_AUTH10_an_administrator_invites_one_email_once(app, pr, post_form, login):
    assert cli(app, "create-therapist", "--email", "kim@example.org", "--name", "Dr. Kim",
               "--password", PASSWORD).exit_code == 0
    admin = app.test_client()
    login(admin, "kim@example.org")
    link = invitation(admin, post_form, "lee@example.org").replace("&amp;", "&")
    path = link.split("127.0.0.1", 1)[-1].split("localhost", 1)[-1]
    new = app.test_client()
    page = new.get(path)
    assert page.status_code == 200 and 'value="lee@example.org"' in text(page)
    data = {"name": "Dr. Lee", "email": "mallory@example.org", "password": PASSWORD,
            "confirm": PASSWORD}
    r = post_form(new, path, path, data)
    assert r.status_code == 302 and signed_in(new)
    assert pr.storage.get_therapist_by_email("lee@example.org") is not None
    assert pr.storage.get_therapist_by_email("mallory@example.org") is None    # its email only
    again = post_form(app.test_client(), path, path, data)
    assert again.status_code == 400                          # used: the email is taken
    forged = app.test_client().get(path[:-3] + "abc")
    assert forged.status_code == 403


def test_AUTH10_only_an_administrator_may_invite(therapist, make_guest, room, client):
    assert therapist.get("/account/therapists").status_code == 403
    guest = make_guest(room.links["child"])
    for browser in (guest, client):
        r = browser.get("/account/therapists")
        assert r.status_code == 302 and "/login" in r.location


# ====================================================================== AUTH8 strength

@pytest.mark.parametrize("password", ["password1234", "kim@example.org", "qwertyuiop123"])
def test_AUTH8_a_weak_password_is_refused_with_a_reason(client, register, pr, password):
    r = register(client, "kim@example.org", password=password)
    assert r.status_code == 400 and "Please choose a stronger password." in text(r)
    assert pr.storage.get_therapist_by_email("kim@example.org") is None


# ====================================================================== change password

def change(browser, post_form, current, new, confirm=None):
    return post_form(browser, "/account/password", "/account/password",
                     {"current": current, "password": new,
                      "confirm": new if confirm is None else confirm})


def test_AUTH7_changing_the_password_asks_the_current_one_and_ends_the_other_sign_ins(
        app, therapist, post_form, login):
    laptop = app.test_client()
    assert login(laptop, therapist.email).status_code == 302 and signed_in(laptop)
    r = change(therapist, post_form, "not my password", NEW_PASSWORD)
    assert r.status_code == 400 and "not your current password" in text(r)
    assert signed_in(laptop)
    r = change(therapist, post_form, PASSWORD, "password1234")
    assert r.status_code == 400 and "stronger password" in text(r)
    r = change(therapist, post_form, PASSWORD, NEW_PASSWORD)
    assert r.status_code == 302
    assert signed_in(therapist)                       # this browser stays
    assert not signed_in(laptop)                      # the other one is ended
    assert login(app.test_client(), therapist.email).status_code == 400
    assert login(app.test_client(), therapist.email, NEW_PASSWORD).status_code == 302


# ====================================================================== sign-ins

def sign_in_rows(browser):
    return re.findall(r'data-sign-in="([^"]+)"( data-here="1")?', text(browser.get("/account/sign-ins")))


def test_AUTH7_sign_ins_are_listed_and_end_one_by_one(app, therapist, post_form, login,
                                                      make_therapist):
    phone = app.test_client()
    phone.environ_base["HTTP_USER_AGENT"] = "Mozilla/5.0 (iPhone) Safari"
    login(phone, therapist.email)
    page = text(therapist.get("/account/sign-ins"))
    assert "iPhone" in page and "This browser" in page
    rows = sign_in_rows(therapist)
    assert len(rows) == 2
    phone_id = next(sid for sid, here in rows if not here)
    here_id = next(sid for sid, here in rows if here)
    other = make_therapist()                                 # not theirs to end
    r = post_form(other, "/account/sign-ins", f"/account/sign-ins/{phone_id}/end", {})
    assert r.status_code == 404 and signed_in(phone)
    r = post_form(therapist, "/account/sign-ins", f"/account/sign-ins/{here_id}/end", {})
    assert r.status_code == 400 and signed_in(therapist)
    r = post_form(therapist, "/account/sign-ins", f"/account/sign-ins/{phone_id}/end", {})
    assert r.status_code == 302 and not signed_in(phone) and signed_in(therapist)
    assert [sid for sid, _ in sign_in_rows(therapist)] == [here_id]


def test_AUTH7_sign_out_everywhere_else_keeps_this_browser(app, therapist, post_form, login):
    others = [app.test_client() for _ in range(2)]
    copy = app.test_client()
    for b in others:
        login(b, therapist.email)
    copy.set_cookie("session", therapist.get_cookie("session").value)   # a stolen copy
    r = post_form(therapist, "/account/sign-ins", "/account/sign-ins/end-others", {})
    assert r.status_code == 302 and signed_in(therapist)
    assert not any(signed_in(b) for b in others)
    assert not signed_in(copy)  # a copy of this browser's cookie, taken before, ends too
    assert len(sign_in_rows(therapist)) == 1


def test_AUTH7_signing_out_ends_the_sign_in_for_copies_of_the_cookie(therapist, post_form, app):
    copy = app.test_client()
    copy.set_cookie("session", therapist.get_cookie("session").value)
    post_form(therapist, "/dashboard", "/logout", {})
    assert not signed_in(copy)


@pytest.mark.parametrize("method,path", [
    ("get", "/account/password"), ("post", "/account/password"), ("get", "/account/sign-ins"),
    ("post", "/account/sign-ins/x/end"), ("post", "/account/sign-ins/end-others"),
    ("get", "/account/therapists"), ("post", "/account/therapists"),
])
def test_account_pages_need_a_sign_in(make_guest, room, client, post_form, method, path):
    for browser in (make_guest(room.links["child"]), client):
        if method == "get":
            r = browser.get(path)
        else:                       # with a valid CSRF token: refused for want of a sign-in
            r = post_form(browser, "/login", path, {"email": "x@example.org"})
        assert r.status_code == 302 and "/login" in r.location


@pytest.mark.parametrize("path", ["/forgot", "/reset/nope", "/account/password",
                                  "/account/sign-ins", "/register"])
def test_account_pages_carry_a_self_only_csp(therapist, client, path):
    from tests.unit.web.test_web import assert_csp_self_only
    browser = client if path in ("/forgot", "/reset/nope", "/register") else therapist
    assert_csp_self_only(browser.get(path))


def test_account_posts_without_csrf_are_refused(therapist, app, login):
    phone = app.test_client()
    login(phone, therapist.email)
    assert therapist.post("/account/sign-ins/end-others").status_code == 400
    assert therapist.post("/account/password", data={
        "current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 400
    assert signed_in(phone)


# ====================================================================== AUTH9 reset

@pytest.fixture
def mail_app_config(smtp_sink):
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp_sink[1], "SMTP_SECURITY": "none",
            "MAIL_FROM": "playroom@clinic.example"}


@pytest.fixture
def app_config(request):
    """Mail through the sink for tests that take `smtp_sink`."""
    if "smtp_sink" in request.fixturenames:
        return request.getfixturevalue("mail_app_config")
    return {}


def forgot(browser, post_form, email):
    return post_form(browser, "/forgot", "/forgot", {"email": email})


def reset_path(message):
    body = message.get_body(("plain",)).get_content()
    return re.search(r"http://[^/\s]+(/reset/\S+)", body).group(1)


def test_AUTH9_a_reset_link_from_the_mail_works_once(app, therapist, post_form, login, smtp_sink):
    sink, _ = smtp_sink
    laptop = app.test_client()
    login(laptop, therapist.email)
    r = forgot(app.test_client(), post_form, therapist.email)
    assert r.status_code == 200 and "If this email has an account" in text(r)
    assert len(sink.messages) == 1 and sink.messages[0]["To"] == therapist.email
    path = reset_path(sink.messages[0])
    stranger = app.test_client()
    r = post_form(stranger, path, path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert r.status_code == 302 and "/login" in r.location
    assert not signed_in(therapist) and not signed_in(laptop)       # everyone signed out
    assert login(app.test_client(), therapist.email, NEW_PASSWORD).status_code == 302
    again = stranger.get(path)
    assert again.status_code == 410 and "does not work any more" in text(again)
    r = post_form(stranger, "/login", path, {"password": "another fine password 7",
                                             "confirm": "another fine password 7"})
    assert r.status_code == 410


def test_AUTH9_forgot_does_not_say_whether_an_email_has_an_account(app, post_form, smtp_sink,
                                                                   therapist):
    sink, _ = smtp_sink
    unknown = forgot(app.test_client(), post_form, "nobody@example.org")
    known = forgot(app.test_client(), post_form, therapist.email)
    strip = lambda r: re.sub(r'value="[^"]+"', "", text(r))          # noqa: E731
    assert unknown.status_code == known.status_code == 200 and strip(unknown) == strip(known)
    assert [m["To"] for m in sink.messages] == [therapist.email]


def test_AUTH9_a_reset_link_expires_and_a_forged_one_is_refused(app, therapist, pr):
    from rooms.web import passwords
    with app.test_request_context():
        token = passwords.reset_token(pr.storage.get_therapist(therapist.therapist_id))
    client = app.test_client()
    assert client.get(f"/reset/{token}").status_code == 200
    assert client.get(f"/reset/{token[:-2]}xx").status_code == 410
    app.config["RESET_LINK_MINUTES"] = -1                        # already expired
    assert client.get(f"/reset/{token}").status_code == 410


@closed
def test_AUTH9_the_cli_prints_a_reset_link_where_no_mail_is_configured(app, pr, post_form,
                                                                      login):
    cli(app, "create-therapist", "--email", "kim@example.org", "--name", "Dr. Kim",
        "--password", PASSWORD)
    r = forgot(app.test_client(), post_form, "kim@example.org")
    assert "cannot send mail" in text(r)
    r = cli(app, "reset-password", "kim@example.org")
    assert r.exit_code == 0, r.output
    path = re.search(r"http://127\.0\.0\.1:5000(/reset/\S+)", r.output).group(1)
    browser = app.test_client()
    r = post_form(browser, path, path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert r.status_code == 302
    assert login(app.test_client(), "kim@example.org", NEW_PASSWORD).status_code == 302
    assert browser.get(path).status_code == 410
    assert cli(app, "reset-password", "nobody@example.org").exit_code != 0


# ====================================================================== HTTPS (issue 15.6)

def session_cookie(resp):
    return next(h for h in resp.headers.getlist("Set-Cookie") if h.startswith("session="))


@pytest.mark.parametrize("app_config", [{"BEHIND_PROXY": True}])
def test_cookies_are_secure_by_themselves_over_https_behind_the_proxy(app):
    https = app.test_client().get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "; Secure" in session_cookie(https)
    plain = app.test_client().get("/login", headers={"X-Forwarded-Proto": "http"})
    assert "; Secure" not in session_cookie(plain)


def test_a_forwarded_proto_is_ignored_without_a_proxy(client):
    r = client.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "; Secure" not in session_cookie(r)


def test_the_sample_nginx_sends_hsts_and_allows_only_modern_tls():
    import os
    from tests.support import ROOT
    with open(os.path.join(ROOT, "docs", "deploy", "nginx.conf")) as f:
        conf = f.read()
    hsts = re.search(r'add_header Strict-Transport-Security "max-age=(\d+)[^"]*" always;', conf)
    assert hsts and int(hsts.group(1)) >= 31536000
    assert re.search(r"^\s*ssl_protocols TLSv1\.2 TLSv1\.3;", conf, re.M)


def test_AUTH9_forgot_mails_one_account_at_most_three_times_per_window(app, post_form,
                                                                      smtp_sink, therapist):
    sink, _ = smtp_sink
    for _ in range(5):
        r = forgot(app.test_client(), post_form, therapist.email)
        assert r.status_code == 200 and "If this email has an account" in text(r)
    assert len(sink.messages) == 3


def test_AUTH7_the_list_leaves_out_sign_ins_idle_past_the_limit(therapist, pr):
    old = time.time() - 31 * 60                  # INACTIVITY_MINUTES is 30
    pr.storage.add_sign_in(therapist.therapist_id, "z" * 22, "10.0.0.9", "Old tablet", at=old)
    pr.storage.add_sign_in(therapist.therapist_id, "y" * 22, "10.0.0.8", "Fresh phone",
                           at=time.time() - 60)
    page = text(therapist.get("/account/sign-ins"))
    assert "Fresh phone" in page and "Old tablet" not in page
    assert pr.storage.get_sign_in("z" * 22) is None


def test_AUTH10_an_invitation_is_mailed_when_smtp_is_configured(app, post_form, login,
                                                               smtp_sink):
    sink, _ = smtp_sink
    assert cli(app, "create-therapist", "--email", "kim@example.org", "--name", "Dr. Kim",
               "--password", PASSWORD).exit_code == 0
    admin = app.test_client()
    login(admin, "kim@example.org")
    link = invitation(admin, post_form, "lee@example.org").replace("&amp;", "&")
    assert [m["To"] for m in sink.messages] == ["lee@example.org"]
    assert link in sink.messages[0].get_body(("plain",)).get_content()
