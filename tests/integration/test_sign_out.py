"""AUTH4 over the socket: a therapist's session cookie copied before sign-out no
longer opens the room's socket after it (the connect handler's identity lookup goes
through the same check as every page)."""
from tests.support import Actions

from tests.integration.conftest import connect_error


def copy_of(actions):
    """Another browser with a copy of `actions`' cookies."""
    thief = Actions(actions.base)
    thief.http.cookies.update(actions.http.cookies)
    return thief


def test_AUTH4_a_copied_therapist_cookie_cannot_connect_after_sign_out(room):
    thief = copy_of(room.therapist)
    try:
        u = room.user("therapist", sync=False)
        u.close()                                        # the cookie works before
        r = room.therapist.post_form("/dashboard", "/logout", {})
        assert r.ok and r.url.rstrip("/") == room.base
        assert connect_error(thief, room.id) == "not_authenticated"
        assert "/login" in thief.get("/dashboard").url
    finally:
        thief.http.close()
