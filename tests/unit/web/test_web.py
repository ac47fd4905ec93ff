"""HTTP pages through the Flask test client: accounts, the dashboard, invite links,
the guest join page, room access, the PNG export, static assets and headers."""
import hashlib
import io
import json
import os
import re

import pytest
from PIL import Image

from activities import canvas
from rooms.core import invites
from rooms.assets import pictures
from tests.unit.payloads import line, op, stroke

PASSWORD = "correct horse battery"


def text(resp):
    return resp.get_data(as_text=True)


def path_of(link):
    return re.sub(r"^https?://[^/]+", "", link)


def token_of(link):
    return path_of(link).rsplit("/j/", 1)[1]


# ====================================================================== accounts

def test_register_signs_in_and_stores_only_a_password_hash(client, register, pr):
    r = register(client, "Kim@Example.org ")
    assert r.status_code == 302 and r.location.endswith("/dashboard")
    assert client.get("/dashboard").status_code == 200
    rec = pr.storage.get_therapist_by_email("kim@example.org")
    assert rec["name"] == "Dr. Kim" and PASSWORD not in rec["password_hash"]


def test_register_refuses_a_short_password_with_a_message(client, register, pr):
    r = register(client, "kim@example.org", password="short")
    assert r.status_code == 400
    errors = re.findall(r'<em class="err"[^>]*>([^<]*)</em>', text(r))
    assert any("10" in e and "characters" in e for e in errors), errors
    assert pr.storage.get_therapist_by_email("kim@example.org") is None


def test_register_refuses_mismatched_passwords(client, register, pr):
    r = register(client, "kim@example.org", confirm="something else entirely")
    assert r.status_code == 400 and "Passwords differ" in text(r)
    assert pr.storage.get_therapist_by_email("kim@example.org") is None


def test_register_refuses_a_taken_email(client, register, make_therapist, pr):
    first = make_therapist("kim@example.org")
    r = register(client, "kim@example.org", name="Impostor")
    assert r.status_code == 400 and "We could not create an account" in text(r)   # AUTH5
    assert pr.storage.get_therapist(first.therapist_id)["name"] == "Dr. Kim"


def test_login_and_logout(app, post_form, make_therapist):
    make_therapist("kim@example.org")
    c = app.test_client()
    r = post_form(c, "/login", "/login", {"email": "kim@example.org", "password": PASSWORD})
    assert r.status_code == 302 and r.location.endswith("/dashboard")
    assert c.get("/dashboard").status_code == 200
    r = post_form(c, "/dashboard", "/logout", {})
    assert r.status_code == 302
    r = c.get("/dashboard")
    assert r.status_code == 302 and "/login" in r.location


def test_login_with_a_wrong_password_says_so_without_a_stack_trace(app, post_form, make_therapist):
    make_therapist("kim@example.org")
    c = app.test_client()
    r = post_form(c, "/login", "/login", {"email": "kim@example.org", "password": "wrong password!"})
    assert r.status_code == 400
    body = text(r)
    assert "Email or password is not right." in body
    assert "Traceback" not in body and "File \"" not in body
    assert c.get("/dashboard").status_code == 302


def test_login_with_an_unknown_email_gives_the_same_message(client, post_form):
    r = post_form(client, "/login", "/login", {"email": "nobody@example.org", "password": PASSWORD})
    assert r.status_code == 400 and "Email or password is not right." in text(r)


def test_dashboard_requires_sign_in(client):
    r = client.get("/dashboard")
    assert r.status_code == 302 and "/login" in r.location


@pytest.mark.parametrize("action", ["/rooms", "/login", "/register"])
def test_post_without_csrf_token_is_refused(therapist, pr, action):
    r = therapist.post(action, data={"name": "Sam, 7", "email": "x@example.org",
                                     "password": PASSWORD, "confirm": PASSWORD})
    assert r.status_code == 400
    assert pr.storage.list_rooms(therapist.therapist_id) == []
    assert pr.storage.get_therapist_by_email("x@example.org") is None


def test_post_with_a_forged_csrf_token_is_refused(therapist, pr):
    r = therapist.post("/rooms", data={"name": "Sam, 7", "csrf_token": "forged"})
    assert r.status_code == 400
    assert pr.storage.list_rooms(therapist.therapist_id) == []


# ====================================================================== dashboard and links

def test_create_room_shows_two_links_with_qr_codes_once(therapist, room, read_dashboard):
    assert set(room.links) == {"child", "parent"}
    assert room.links["child"] != room.links["parent"]
    qrs = room.dashboard.qr_codes(room.id)
    assert len(qrs) == 2 and all(q.startswith("data:image/svg+xml") for q in qrs)
    again = read_dashboard(therapist)
    assert again.links(room.id) == {} and again.qr_codes(room.id) == []
    assert "Active until" in again.sections[room.id]


def test_dashboard_lists_only_my_rooms(make_therapist, create_room, read_dashboard):
    kim, lee = make_therapist(), make_therapist()
    mine = create_room(kim, "Sam, 7")
    theirs = create_room(lee, "Alex, 9")
    board = read_dashboard(kim)
    assert list(board.sections) == [mine.id]
    assert "Sam, 7" in board.html and "Alex, 9" not in board.html
    assert theirs.id not in board.html


def test_room_without_a_name_is_not_created(therapist, post_form, pr):
    r = post_form(therapist, "/dashboard", "/rooms", {"name": "  "}, follow_redirects=True)
    assert "Please give the room a name" in text(r)
    assert pr.storage.list_rooms(therapist.therapist_id) == []


def test_token_is_long_and_only_its_hash_is_stored(app, room, pr):
    for role, link in room.links.items():
        token = token_of(link)
        assert len(token) >= 32                    # >= 128 bits of token_urlsafe
        inv = pr.storage.find_invite(hashlib.sha256(token.encode()).hexdigest())
        assert inv is not None and inv["role"] == role and inv["room_id"] == room.id
    instance = app.config["INSTANCE_PATH"]
    blobs = b""
    for name in os.listdir(instance):
        with open(os.path.join(instance, name), "rb") as f:
            blobs += f.read()
    assert blobs, "no database files found"
    for link in room.links.values():
        assert token_of(link).encode() not in blobs


def test_regenerate_revokes_the_old_link_and_shows_a_new_one(therapist, room, post_form,
                                                             read_dashboard, client):
    r = post_form(therapist, "/dashboard", f"/rooms/{room.id}/invites/child", {})
    assert r.status_code == 302
    board = read_dashboard(therapist)
    new = board.links(room.id)
    assert set(new) == {"child"} and new["child"] != room.links["child"]
    old = client.get(path_of(room.links["child"]))
    assert old.status_code == 410 and "switched off" in text(old)
    assert client.get(path_of(new["child"])).status_code == 200
    assert client.get(path_of(room.links["parent"])).status_code == 200   # untouched


def test_revoke_switches_the_link_off_and_shuts_its_guests_out(therapist, room, post_form,
                                                               make_guest, client):
    guest = make_guest(room.links["child"])
    assert guest.get(f"/room/{room.id}").status_code == 200
    r = post_form(therapist, "/dashboard", f"/rooms/{room.id}/invites/child/revoke", {})
    assert r.status_code == 302
    assert client.get(path_of(room.links["child"])).status_code == 410
    assert guest.get(f"/room/{room.id}").status_code == 403


def test_unknown_role_in_link_actions_is_refused(therapist, room, post_form):
    r = post_form(therapist, "/dashboard", f"/rooms/{room.id}/invites/therapist", {})
    assert r.status_code == 400


# ====================================================================== guests

def test_join_page_shows_the_avatars_and_the_therapists_name(client, room):
    r = client.get(path_of(room.links["child"]))
    assert r.status_code == 200
    body = text(r)
    for avatar in pictures.GUEST_AVATARS:
        assert f'name="avatar" value="{avatar}"' in body
        assert f'src="/pictures/{avatar}.svg"' in body
    assert "Dr. Kim" in body


def test_join_page_does_not_offer_the_therapists_owl(client, room):
    """The owl marks the therapist in the people list and on cursors."""
    body = text(client.get(path_of(room.links["child"])))
    assert 'value="owl"' not in body and 'value="bear"' in body


@pytest.mark.parametrize("role,default", [("child", "Friend"), ("parent", "Grown-up")])
def test_join_with_empty_name_gets_a_default_and_lands_in_the_room(app, room, join, pr, role, default):
    c = app.test_client()
    r = join(c, room.links[role], name="", avatar="bear")
    assert r.status_code == 302 and r.location.endswith(f"/room/{room.id}")
    (part,) = pr.storage.list_participants(room.id)
    assert (part["name"], part["role"], part["avatar"]) == (default, role, "bear")
    with c.session_transaction() as s:
        assert s["guests"] == {room.id: part["id"]}
    assert c.get(f"/room/{room.id}").status_code == 200


def test_a_guest_leaves_to_a_goodbye_page_not_the_sign_up_page(make_guest, room, therapist, client):
    """The room's "Leave" and the goodbye screen's "OK" follow config.urls.leave."""
    guest = make_guest(room.links["child"])
    assert room_config(guest.get(f"/room/{room.id}"))["urls"]["leave"] == "/bye"
    page = client.get("/bye")      # open to anyone: it shows nothing of any room
    assert page.status_code == 200 and "See you next time" in text(page)
    assert "/register" not in text(page) and "/login" not in text(page)
    assert room_config(therapist.get(f"/room/{room.id}"))["urls"]["leave"] == "/"


def room_config(response):
    return json.loads(re.search(r'id="playroom-config">(.*?)</script>', text(response), re.S).group(1))


def test_join_keeps_the_given_name(make_guest, room, pr):
    guest = make_guest(room.links["child"], name="Sam")
    assert pr.storage.get_participant(guest.participant_id)["name"] == "Sam"


@pytest.mark.parametrize("avatar", ["dragon", "owl"])
def test_join_refuses_an_avatar_outside_the_set(app, room, join, pr, avatar):
    """"owl" is the therapist's: a guest posting it by hand is refused, nothing stored."""
    r = join(app.test_client(), room.links["child"], avatar=avatar)
    assert r.status_code == 400
    assert pr.storage.list_participants(room.id) == []


def test_opening_the_link_again_goes_straight_back_to_the_room(make_guest, room, pr):
    guest = make_guest(room.links["child"])
    r = guest.get(path_of(room.links["child"]))
    assert r.status_code == 302 and r.location.endswith(f"/room/{room.id}")
    assert len(pr.storage.list_participants(room.id)) == 1


@pytest.mark.parametrize("token", ["x" * 32, "short", "a" * 65])
def test_AUTH2_unknown_token_shows_a_friendly_not_found_page(client, token):
    r = client.get(f"/j/{token}")
    assert r.status_code == 404
    assert "could not find" in text(r).lower()
    assert "Traceback" not in text(r)


def test_AUTH2_expired_link_is_refused(client, room, monkeypatch):
    later = invites.time.time() + 31 * 86400   # the default lifetime is 30 days

    class Later:
        @staticmethod
        def time():
            return later
    monkeypatch.setattr(invites, "time", Later)
    r = client.get(path_of(room.links["child"]))
    assert r.status_code == 410 and "too old" in text(r)


def test_AUTH2_expired_link_shuts_out_a_guest_already_in(make_guest, room, monkeypatch):
    guest = make_guest(room.links["child"])
    later = invites.time.time() + 31 * 86400

    class Later:
        @staticmethod
        def time():
            return later
    monkeypatch.setattr(invites, "time", Later)
    assert guest.get(f"/room/{room.id}").status_code == 403


def test_AUTH2_guest_of_one_room_cannot_open_another(therapist, create_room, make_guest):
    a = create_room(therapist, "Sam, 7")
    b = create_room(therapist, "Alex, 9")
    guest = make_guest(a.links["child"])
    assert guest.get(f"/room/{a.id}").status_code == 200
    r = guest.get(f"/room/{b.id}")
    assert r.status_code in (403, 404)
    assert "Alex, 9" not in text(r)


def test_AUTH2_stranger_without_a_link_cannot_open_a_room(client, room):
    r = client.get(f"/room/{room.id}")
    assert r.status_code in (403, 404)
    assert client.get("/room/no-such-room").status_code == 404


@pytest.mark.parametrize("path", ["/dashboard", "/rooms/{id}/export/canvas/p1.png",
                                  "/rooms/{id}/safety", "/rooms/{id}/home"])
def test_guests_are_sent_to_sign_in_for_therapist_pages(make_guest, room, path):
    guest = make_guest(room.links["child"])
    r = guest.get(path.format(id=room.id))
    assert r.status_code == 302 and "/login" in r.location


# ====================================================================== ownership

@pytest.mark.parametrize("method,path", [
    ("get", "/room/{id}"),
    ("get", "/rooms/{id}/export/canvas/p1.png"),
    ("post", "/rooms/{id}/delete"),
    ("post", "/rooms/{id}/invites/child"),
    ("post", "/rooms/{id}/invites/child/revoke"),
    ("get", "/rooms/{id}/safety"),          # SAFE2: the crisis card
    ("post", "/rooms/{id}/safety"),
    ("get", "/rooms/{id}/home"),            # issue 17: home practice
    ("post", "/rooms/{id}/home"),
    ("post", "/rooms/{id}/home/link"),
    ("post", "/rooms/{id}/home/revoke"),
])
def test_another_therapist_cannot_touch_my_room(room, make_therapist, read_dashboard, pr,
                                                client, method, path):
    other = make_therapist()
    url = path.format(id=room.id)
    if method == "get":
        r = other.get(url)
    else:
        token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"',
                          read_dashboard(other).html).group(1)
        r = other.post(url, data={"csrf_token": token})
    assert r.status_code == 404
    assert pr.storage.get_room(room.id) is not None
    assert client.get(path_of(room.links["child"])).status_code == 200   # links still work


def test_delete_room_removes_all_its_data(therapist, room, make_guest, post_form, pr,
                                          read_dashboard, client):
    guest = make_guest(room.links["child"])
    ack = pr.engine.submit(room.id, therapist.participant, op("stroke", stroke("a")))
    assert ack["ok"]
    pr.engine.unload(room.id)                                  # writes a snapshot
    assert pr.storage.load_snapshot(room.id) is not None
    invite_ids = [i["id"] for i in pr.storage.list_invites(room.id)]

    r = post_form(therapist, "/dashboard", f"/rooms/{room.id}/delete", {})
    assert r.status_code == 302
    assert pr.storage.get_room(room.id) is None
    assert pr.storage.list_invites(room.id) == []
    assert all(pr.storage.get_invite(i) is None for i in invite_ids)
    assert pr.storage.get_participant(guest.participant_id) is None
    assert pr.storage.ops_since(room.id, 0) == []
    assert pr.storage.load_snapshot(room.id) is None
    assert room.id not in read_dashboard(therapist).sections
    assert client.get(path_of(room.links["child"])).status_code == 404
    assert guest.get(f"/room/{room.id}").status_code == 404


def test_delete_without_csrf_token_keeps_the_room(therapist, room, pr):
    assert therapist.post(f"/rooms/{room.id}/delete").status_code == 400
    assert pr.storage.get_room(room.id) is not None


# ====================================================================== room page and export

def test_room_page_for_the_owner(therapist, room):
    r = therapist.get(f"/room/{room.id}")
    assert r.status_code == 200
    assert "Sam, 7" in text(r)


def test_export_png_is_the_board_with_the_drawing(therapist, room, pr):
    d = stroke("red", pts=line(y=500), size=16)
    assert pr.engine.submit(room.id, therapist.participant, op("stroke", d))["ok"]
    r = therapist.get(f"/rooms/{room.id}/export/canvas/p1.png")
    assert r.status_code == 200 and r.mimetype == "image/png"
    assert "attachment" in r.headers["Content-Disposition"]
    img = Image.open(io.BytesIO(r.data))
    img.load()
    assert img.size == (canvas.BOARD_W, canvas.BOARD_H)
    assert img.convert("RGB").getpixel((800, 500)) == (0xe5, 0x39, 0x35)
    assert img.convert("RGB").getpixel((800, 100)) == (255, 255, 255)


@pytest.mark.parametrize("path", ["canvas/p9.png", "nosuch/p1.png", "canvas/..%2Fp1.png"])
def test_export_of_an_unknown_page_or_activity_is_404(therapist, room, path):
    assert therapist.get(f"/rooms/{room.id}/export/{path}").status_code == 404


@pytest.mark.parametrize("path, status", [("canvas/p1.png", 200), ("canvas/p9.png", 404)])
def test_WORK1_the_png_export_is_rendered_and_encoded_in_a_worker(therapist, room, pr, path, status):
    ran = []

    def worker(fn, *args):                   # run() wraps the work: (_captured, fn, args)
        ran.append(args[0].__name__)
        return fn(*args)
    pr.offload.install(worker)
    assert therapist.get(f"/rooms/{room.id}/export/{path}").status_code == status
    assert "png_of" in ran


# ====================================================================== assets

def test_pictures_are_served_and_unknown_ones_are_404(client):
    r = client.get("/pictures/cat.svg")
    assert r.status_code == 200 and r.mimetype == "image/svg+xml"
    assert b"<svg" in r.data
    r.close()
    assert client.get("/pictures/not-a-picture.svg").status_code == 404
    assert client.get("/pictures/..%2Fapp.svg").status_code == 404


def test_vendor_modules_are_served_and_unknown_ones_are_404(client):
    r = client.get("/vendor/socket.io-client.js")
    assert r.status_code == 200 and r.mimetype == "text/javascript"
    assert len(r.data) > 1000
    r.close()
    assert client.get("/vendor/left-pad.js").status_code == 404
    assert client.get("/vendor/..%2F..%2Fapp.py").status_code == 404


# ====================================================================== headers

ALLOWED_SOURCES = {"'self'", "'none'", "'unsafe-inline'", "data:", "blob:"}


def assert_csp_self_only(resp):
    csp = resp.headers.get("Content-Security-Policy")
    assert csp, f"no CSP on {resp.request.path}"
    directives = {}
    for part in csp.split(";"):
        name, *sources = part.split()
        directives[name] = sources
    assert directives["default-src"] == ["'self'"]
    for name, sources in directives.items():
        for src in sources:
            assert src in ALLOWED_SOURCES or src.startswith("'nonce-"), f"{name} allows {src}"
    return directives


@pytest.mark.parametrize("path", ["/", "/about", "/bye", "/login", "/register", "/j/" + "x" * 32,
                                  "/h/" + "x" * 32 + "/", "/no-such-page"])
def test_every_public_page_carries_a_self_only_csp(client, path):
    r = client.get(path)
    assert r.mimetype == "text/html"
    assert_csp_self_only(r)


def test_signed_in_and_guest_pages_carry_a_self_only_csp(therapist, room, make_guest, client):
    guest = make_guest(room.links["child"])
    responses = [therapist.get("/dashboard"), therapist.get(f"/room/{room.id}"),
                 client.get(path_of(room.links["parent"])), guest.get(f"/room/{room.id}"),
                 client.get(f"/room/{room.id}")]
    for r in responses:
        assert r.mimetype == "text/html"
        assert_csp_self_only(r)


def test_inline_scripts_carry_the_nonce_of_their_response(therapist):
    for _ in range(2):
        r = therapist.get("/dashboard")
        nonce = re.search(r"'nonce-([^']+)'", r.headers["Content-Security-Policy"]).group(1)
        scripts = re.findall(r"<script\b[^>]*>", text(r))
        assert scripts
        for tag in scripts:
            assert f'nonce="{nonce}"' in tag or "src=" in tag


def test_whole_number_settings_come_from_the_environment(monkeypatch):
    import app as app_module
    monkeypatch.setenv("PLAYROOM_INACTIVITY_MINUTES", "45")
    monkeypatch.setenv("PLAYROOM_SESSION_IDLE_MINUTES", "90")
    monkeypatch.setenv("PLAYROOM_SECRET_KEY", "ignored: not a number setting")
    config = app_module.env_config()
    assert config["INACTIVITY_MINUTES"] == 45 and config["SESSION_IDLE_MINUTES"] == 90
    assert "SECRET_KEY" not in config
    monkeypatch.setenv("PLAYROOM_SNAPSHOT_EVERY", "lots")
    import pytest
    with pytest.raises(SystemExit):
        app_module.env_config()
