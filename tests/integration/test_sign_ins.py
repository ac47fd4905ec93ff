"""AUTH7 over the socket: ending a therapist's sign-ins closes their open sockets at
once (`bye`, `not_authenticated`), not only their next page load, on every process."""
import re

from tests.integration.conftest import connect_error
from tests.integration.test_multiprocess import cluster_factory  # noqa: F401
from tests.support import Actions, SocketUser, stroke, wait_for

PASSWORD = "correct horse battery"
NEW_PASSWORD = "violet lantern orchard 42"


def signed_in_browser(base, email):
    browser = Actions(base)
    r = browser.post_form("/login", "/login", {"email": email, "password": PASSWORD})
    assert r.ok and r.url.endswith("/dashboard"), r.status_code
    return browser


def ended(user):
    """The socket got `bye` (not_authenticated) and was closed."""
    wait_for(lambda: user.received("bye") and not user.sio.connected, what="bye and close")
    return user.received("bye")[-1]["code"] == "not_authenticated"


def therapist_in_a_room(base):
    here = Actions(base)
    email = here.register()
    room_id, links = here.create_room()
    return here, email, room_id, links


def test_AUTH7_signing_out_closes_the_therapists_open_socket(room):
    u = room.user("therapist")
    assert room.therapist.post_form("/dashboard", "/logout", {}).ok
    assert ended(u)


def test_AUTH7_a_new_password_ends_the_other_browsers_socket_and_keeps_this_one(server):
    here, email, room_id, links = therapist_in_a_room(server.url)
    laptop = signed_in_browser(server.url, email)
    child = Actions(server.url)
    child.join(links["child"])
    users = [SocketUser(b, room_id).connect() for b in (laptop, here, child)]
    try:
        r = here.post_form("/account/password", "/account/password",
                           {"current": PASSWORD, "password": NEW_PASSWORD,
                            "confirm": NEW_PASSWORD})
        assert r.ok and r.url.endswith("/account/sign-ins")
        assert ended(users[0])
        assert connect_error(laptop, room_id) == "not_authenticated"
        for u in users[1:]:                           # this browser and the child stay
            assert u.op("stroke", stroke())["ok"] and not u.received("bye")
    finally:
        for u in users:
            u.close()


def test_AUTH7_ending_one_sign_in_from_the_list_closes_its_socket_on_another_process(
        cluster_factory):  # noqa: F811
    cluster = cluster_factory(2)
    here, email, room_id, _ = therapist_in_a_room(cluster[0].url)
    phone = signed_in_browser(cluster[0].url, email)
    on_a = SocketUser(phone, room_id).connect(url=cluster[0].url)
    mine = SocketUser(here, room_id).connect(url=cluster[0].url)
    try:
        here.base = cluster[1].url                    # the list is used on the other process
        page = here.get("/account/sign-ins").text
        phone_id = re.search(r'data-sign-in="([^"]+)">', page).group(1)
        r = here.post_form("/account/sign-ins", f"/account/sign-ins/{phone_id}/end", {})
        assert r.ok
        assert ended(on_a)
        assert mine.op("stroke", stroke())["ok"] and not mine.received("bye")
    finally:
        on_a.close()
        mine.close()
