"""AUTH4: signing out ends the session on the server, so a copy of the session cookie
taken before stops working (on every device of that therapist)."""
import pytest

PASSWORD = "correct horse battery"


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
