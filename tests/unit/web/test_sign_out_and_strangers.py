"""AUTH4: signing out ends the session on the server, so a copy of the session cookie
taken before stops working (on every device of that therapist). AUTH5: neither the
sign-in nor the sign-up form tells a stranger whether an email has an account."""
import re

import pytest

from rooms.web import accounts

PASSWORD = "correct horse battery"
NOT_CREATED = "We could not create an account with these details"


def text(resp):
    return resp.get_data(as_text=True)


def copy_of(app, client):
    """Another browser holding a copy of `client`'s session cookie (as an attacker who
    read it off the screen or the disk would)."""
    name = app.config["SESSION_COOKIE_NAME"]
    thief = app.test_client()
    thief.set_cookie(name, client.get_cookie(name).value)
    return thief


def sign_out(post_form, client):
    r = post_form(client, "/dashboard", "/logout", {})
    assert r.status_code == 302, r.status_code
    return r


def signed_out(client):
    r = client.get("/dashboard")
    return r.status_code == 302 and "/login" in r.location


@pytest.fixture
def login(post_form):
    def do(client, email, password=PASSWORD):
        return post_form(client, "/login", "/login", {"email": email, "password": password})
    return do


# ====================================================================== AUTH4

def test_AUTH4_a_cookie_copied_before_sign_out_gets_the_sign_in_page_after_it(
        app, therapist, room, post_form):
    thief = copy_of(app, therapist)
    assert thief.get("/dashboard").status_code == 200          # the copy works meanwhile
    sign_out(post_form, therapist)
    assert signed_out(thief)
    assert thief.get(f"/room/{room.id}").status_code == 403     # not the therapist any more
    assert thief.get("/account/alive").status_code == 302
    assert signed_out(therapist)


def test_AUTH4_sign_out_ends_every_browser_of_the_therapist_and_says_so(
        app, make_therapist, login, post_form):
    kim = make_therapist("kim@example.org")
    laptop = app.test_client()
    assert login(laptop, "kim@example.org").status_code == 302
    r = sign_out(post_form, kim)
    assert "every device" in text(kim.get(r.location))
    assert signed_out(laptop)
    # Signing in again works, and the new session is not ended by the old sign-out.
    assert login(laptop, "kim@example.org").status_code == 302
    assert laptop.get("/dashboard").status_code == 200


# ====================================================================== AUTH5

def test_AUTH5_an_unknown_email_is_checked_against_a_password_hash(app, client, login,
                                                                   monkeypatch):
    checked = []
    real = accounts.check_password_hash

    def counting(pwhash, password):
        checked.append(pwhash.split("$", 1)[0])
        return real(pwhash, password)
    monkeypatch.setattr(accounts, "check_password_hash", counting)
    r = login(client, "nobody@example.org", "some password")
    assert r.status_code == 400 and "Email or password is not right" in text(r)
    # One check of the same kind as a real account's (scrypt, same cost).
    assert checked == [accounts.generate_password_hash("x").split("$", 1)[0]]


def test_AUTH5_sign_up_with_a_taken_email_does_not_say_so(app, make_therapist, register, pr):
    first = make_therapist("kim@example.org")
    r = register(app.test_client(), "kim@example.org", name="Impostor")
    errors = re.findall(r'<em class="err"[^>]*>([^<]*)</em>', text(r))
    assert r.status_code == 400 and len(errors) == 1 and errors[0].startswith(NOT_CREATED)
    assert not re.search(r"exist|already|taken|in use", errors[0], re.I)
    assert pr.storage.get_therapist(first.therapist_id)["name"] == "Dr. Kim"


@pytest.mark.parametrize("app_config", [{"LOGIN_MAX_FAILURES_PER_ADDRESS": 3}])
def test_AUTH5_probing_emails_through_sign_up_meets_the_address_limit(
        app, make_therapist, register, login, pr):
    for k in range(3):
        make_therapist(f"known{k}@example.org")
    prober = app.test_client()
    for k in range(3):
        assert register(prober, f"known{k}@example.org").status_code == 400
    r = register(prober, "fresh@example.org")
    assert r.status_code == 429 and "Too many" in text(r)
    assert pr.storage.get_therapist_by_email("fresh@example.org") is None
    # The same count as sign-in: the address cannot go on probing there either.
    assert login(prober, "known0@example.org").status_code == 429
