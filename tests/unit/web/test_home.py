"""Home practice over HTTP (issue 17 part 3): a therapist sends a home pack and gets a
home link; the family's page, pack and ops work with the link alone; what they do is
applied once, appears in the next session's record and the check-in trend; a
switched-off or expired link ends access at once with a friendly page; nobody reaches
another room's home, and a home link never opens the live room (nor the other way)."""
import re
import time
from urllib.parse import urlsplit

import pytest

from tests.conftest import _post_form

HOME_LINK_RE = re.compile(r'value="([^"]+/h/[^"]+/)" data-link="home"')
T = 1_800_000_000_000      # a device's clock, ms (later than any pack here)


def send_pack(client, room_id, **fields):
    data = {"story": "", "steps": "", "breathe": "", "lang": "en", **fields}
    return _post_form(client, f"/rooms/{room_id}/home", f"/rooms/{room_id}/home", data)


def home_link(client, room_id):
    """Send a pack with a story, the morning checklist, balloon breathing and a check-in;
    returns the home link's path (shown once)."""
    r = send_pack(client, room_id, story="stories|story:doctor", steps="stories|task:morning",
                  breathe="calm|pattern:balloon", checkin="y")
    assert r.status_code == 302, r.status_code
    html = client.get(f"/rooms/{room_id}/home").get_data(as_text=True)
    found = HOME_LINK_RE.findall(html)
    assert len(found) == 1, "the home link is shown once, right after it is made"
    assert not HOME_LINK_RE.findall(client.get(f"/rooms/{room_id}/home").get_data(as_text=True))
    return urlsplit(found[0]).path


def served(client, url):
    """GET `url`, read and closed (files are streamed)."""
    r = client.get(url)
    r.data
    r.close()
    return r


def pack_of(app, path):
    return app.test_client().get(path + "pack.json").get_json()


def op(pack, what, item, n=0, visit="visit0001", when=T, **d):
    return {"op_id": f"{what}-{item}-{n}-{visit}",
            "d": {"pack": pack["pack"]["id"], "visit": visit, "item": item, "what": what,
                  "when": when, **d}}


def items_by_kind(pack):
    return {it["kind"]: it for it in pack["pack"]["items"]}


def test_a_home_link_shows_the_pack_to_a_family_with_no_account(app, therapist, room):
    path = home_link(therapist, room.id)
    family = app.test_client()
    page = family.get(path)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert 'id="playroom-config"' in html and "canvas/home/home.js" in html
    pack = family.get(path + "pack.json").get_json()
    kinds = items_by_kind(pack)
    assert set(kinds) == {"story", "steps", "breathe", "checkin"}
    assert kinds["steps"]["steps"][5]["text"] == "Brush teeth"
    assert kinds["steps"]["steps"][5]["pic"] == {"src": "/pictures/toothbrush.svg", "alt": "toothbrush"}
    assert kinds["breathe"]["timing"] == [4, 0, 6, 0]
    assert [f["value"] for f in kinds["checkin"]["faces"]] == [1, 2, 3, 4, 5]
    # Everything the page needs offline is listed, and every listed URL is served.
    assert "/static/canvas/home/home.js" in pack["assets"]
    # Every module of the home page is kept for offline use (none orphaned, none missed);
    # the service worker itself is served from the link's own path.
    import os
    from tests.support import ROOT
    for f in os.listdir(os.path.join(ROOT, "static", "canvas", "home")):
        if f.endswith(".js") and f != "sw.js":
            assert f"/static/canvas/home/{f}" in pack["assets"], f
    assert "/pictures/toothbrush.svg" in pack["assets"]
    for url in pack["assets"]:
        assert served(family, url).status_code == 200, url
    sw = served(family, path + "sw.js")
    assert sw.status_code == 200 and sw.mimetype == "text/javascript"
    assert b"addEventListener" in sw.data
    assert family.get(path.rstrip("/")).status_code in (301, 302, 308)


def test_a_pack_in_spanish_reaches_the_family_in_spanish(app, therapist, room):
    r = send_pack(therapist, room.id, steps="stories|task:morning", lang="es")
    assert r.status_code == 302
    path = urlsplit(HOME_LINK_RE.findall(
        therapist.get(f"/rooms/{room.id}/home").get_data(as_text=True))[0]).path
    page = app.test_client().get(path).get_data(as_text=True)
    assert '<html lang="es">' in page
    pack = pack_of(app, path)
    assert pack["pack"]["lang"] == "es"
    assert pack["pack"]["items"][0]["steps"][5]["text"] == "Lavarme los dientes"


def test_what_the_family_does_is_applied_once_and_shown_back(app, therapist, room, pr):
    path = home_link(therapist, room.id)
    pack = pack_of(app, path)
    k = items_by_kind(pack)
    batch = [op(pack, "step", k["steps"]["id"], 0, step=0, done=True),
             op(pack, "step", k["steps"]["id"], 1, step=1, done=True),
             op(pack, "checkin", k["checkin"]["id"], value=4)]
    family = app.test_client()
    first = family.post(path + "ops", json={"ops": batch})
    assert first.status_code == 200
    assert [r["ok"] for r in first.get_json()["results"]] == [True, True, True]
    # The answer was lost; the page sends the same queue again: nothing is applied twice.
    again = family.post(path + "ops", json={"ops": batch}).get_json()
    assert all(r["ok"] and r.get("duplicate") for r in again["results"])
    log = again["log"]
    assert len(log) == 3
    state = pr.engine.state(room.id, "home")[1]
    assert [c["value"] for c in state["checkins"]] == [4]
    assert state["checkins"][0]["at"] == T / 1000.0 or state["checkins"][0]["at"] > 0
    assert pack_of(app, path)["log"] == log
    # The therapist's page says so.
    html = therapist.get(f"/rooms/{room.id}/home").get_data(as_text=True)
    assert "2 of 8 steps done" in html and "Practised 1 time." in html


@pytest.mark.parametrize("bad, code", [
    ({"what": "step", "step": 99, "done": True}, "invalid"),          # no such step
    ({"what": "checkin", "value": 6}, "invalid"),                      # out of range
    ({"what": "checkin", "value": 3, "extra": 1}, "invalid"),          # unknown field
    ({"what": "fly"}, "invalid"),
])
def test_bad_ops_get_a_clear_refusal_and_change_nothing(app, therapist, room, pr, bad, code):
    path = home_link(therapist, room.id)
    pack = pack_of(app, path)
    k = items_by_kind(pack)
    item = k["steps"]["id"] if bad.get("what") == "step" else k["checkin"]["id"]
    d = {"pack": pack["pack"]["id"], "visit": "visit0001", "item": item, "when": T, **bad}
    res = app.test_client().post(path + "ops", json={"ops": [{"op_id": "bad00001", "d": d}]})
    assert res.status_code == 200
    assert res.get_json()["results"][0]["ok"] is False
    assert res.get_json()["results"][0]["code"] == code
    assert pr.engine.state(room.id, "home")[1]["log"] == []


@pytest.mark.parametrize("body", [None, [], {"ops": []}, {"ops": "x"}, {"ops": [1] * 51},
                                  {"ops": [], "more": 1}])
def test_a_malformed_batch_is_a_400(app, therapist, room, body):
    path = home_link(therapist, room.id)
    res = app.test_client().post(path + "ops", json=body)
    assert res.status_code == 400


def test_an_op_for_a_replaced_pack_is_refused(app, therapist, room):
    path = home_link(therapist, room.id)
    old = pack_of(app, path)
    assert send_pack(therapist, room.id, steps="stories|task:handwashing").status_code == 302
    new = pack_of(app, path)            # the same link shows the new pack
    assert new["pack"]["id"] != old["pack"]["id"]
    assert items_by_kind(new)["steps"]["title"] == "Washing my hands"
    k = items_by_kind(old)
    res = app.test_client().post(path + "ops", json={"ops": [
        op(old, "step", k["steps"]["id"], step=0, done=True)]}).get_json()
    assert res["results"][0]["code"] == "conflict"


def test_switching_the_link_off_ends_access_at_once(app, therapist, room):
    path = home_link(therapist, room.id)
    pack = pack_of(app, path)
    family = app.test_client()
    assert family.get(path).status_code == 200
    r = _post_form(therapist, f"/rooms/{room.id}/home", f"/rooms/{room.id}/home/revoke", {})
    assert r.status_code == 302
    page = family.get(path)
    assert page.status_code == 410
    assert "This link was switched off" in page.get_data(as_text=True)
    assert family.get(path + "pack.json").status_code == 410
    k = items_by_kind(pack)
    res = family.post(path + "ops", json={"ops": [op(pack, "checkin", k["checkin"]["id"], value=2)]})
    assert res.status_code == 410 and res.get_json()["error"] == "revoked"
    # A new pack makes a new link; the old one stays off.
    home_link(therapist, room.id)
    assert family.get(path).status_code == 410


def test_an_expired_link_shows_a_friendly_page(app, therapist, room, pr):
    path = home_link(therapist, room.id)
    inv = [i for i in pr.storage.list_invites(room.id) if i["role"] == "home"][-1]
    _expire(pr, inv)
    page = app.test_client().get(path)
    assert page.status_code == 410
    html = page.get_data(as_text=True)
    assert "This link is too old" in html and "ask your therapist for a new link" in html


def _expire(pr, inv):
    storage = getattr(pr.storage, "inner", pr.storage)
    if hasattr(storage, "_run"):
        storage._run("UPDATE invites SET expires_at=? WHERE id=?", (time.time() - 1, inv["id"]))
    else:
        pytest.skip("expiring a link needs the SQLite store")


def test_links_of_one_kind_never_open_the_other(app, therapist, room):
    path = home_link(therapist, room.id)
    token = path.strip("/").split("/")[-1]
    # A home link is not a room invite ...
    assert app.test_client().get(f"/j/{token}").status_code == 404
    # ... and a child's invite does not open a home page.
    child_token = urlsplit(room.links["child"]).path.rsplit("/", 1)[1]
    assert app.test_client().get(f"/h/{child_token}/").status_code == 404
    assert app.test_client().post(f"/h/{child_token}/ops", json={"ops": [{"op_id": "x1234567", "d": {}}]}
                                  ).status_code == 404
    assert app.test_client().get("/h/not-a-real-token-at-all-000000/").status_code == 404


def test_only_the_rooms_therapist_sends_packs_and_reads_the_home_page(app, therapist, room,
                                                                     make_therapist):
    other = make_therapist()
    assert other.get(f"/rooms/{room.id}/home").status_code == 404
    r = _post_form(other, "/dashboard", f"/rooms/{room.id}/home",
                   {"story": "", "steps": "stories|task:morning", "breathe": "", "lang": "en"})
    assert r.status_code == 404
    assert app.test_client().get(f"/rooms/{room.id}/home").status_code in (302, 401)


def test_a_pack_with_nothing_or_an_unknown_item_is_refused(app, therapist, room, pr):
    r = send_pack(therapist, room.id)
    assert r.status_code == 302
    assert pr.engine.state(room.id, "home")[1]["pack"] is None
    r = send_pack(therapist, room.id, story="stories|story:no-such-story")
    assert r.status_code == 400
    assert pr.engine.state(room.id, "home")[1]["pack"] is None


def test_guests_in_the_live_room_read_none_of_it(app, therapist, room, pr):
    from rooms.core import readpolicy
    path = home_link(therapist, room.id)
    pack = pack_of(app, path)
    k = items_by_kind(pack)
    app.test_client().post(path + "ops", json={"ops": [op(pack, "checkin", k["checkin"]["id"], value=1)]})
    states = {"home": pr.engine.state(room.id, "home")[1]}
    for role in ("child", "parent"):
        _, seen = readpolicy.visible_states(pr.registry, states, {"id": "g", "role": role}, None)
        assert seen["home"] == {"pack": None, "log": [], "checkins": [], "n": 0}


def test_home_check_ins_join_the_trend_chart_of_the_records_page(app, therapist, room, pr):
    """A check-in at home counts towards the next session on the records page's chart
    and in its table ("At home")."""
    path = home_link(therapist, room.id)
    pack = pack_of(app, path)
    k = items_by_kind(pack)
    res = app.test_client().post(path + "ops", json={"ops": [
        op(pack, "checkin", k["checkin"]["id"], value=2, when=int(time.time() * 1000))]})
    assert res.get_json()["results"][0]["ok"]
    me = {**therapist.participant, "name": "Dr. Kim", "avatar": "owl"}
    pr.engine.present(room.id, me)
    first = pr.engine.room_state(room.id)[1]["session"]["start"]
    assert pr.engine.control(room.id, me, {"op_id": "end1", "action": "end"})["ok"]
    rec = pr.records.close_session(room.id, first, pr.storage.last_seq(room.id), None)
    assert rec is not None
    html = therapist.get(f"/rooms/{room.id}/records").get_data(as_text=True)
    assert 'data-trend="checkins"' in html
    row = html.split("<tbody>", 1)[1].split("</tr>", 1)[0]
    assert row.rstrip().endswith("<td>2</td>")           # the "At home" column
    assert "1 at home" in html                              # the chart says it in words


def test_a_link_posting_batch_after_batch_meets_429_and_nothing_of_that_batch_applies(
        app, therapist, room, pr):
    """A day offline sends at once (up to OPS_BURST actions); a script posting batch
    after batch is slowed down with 429 and Retry-After; the page keeps its queue."""
    from rooms.web import home as home_web
    path = home_link(therapist, room.id)
    pack = pack_of(app, path)
    item = items_by_kind(pack)["steps"]["id"]
    family = app.test_client()
    sent, n = 0, 0
    while True:
        batch = [op(pack, "step", item, n + k, step=(n + k) % 8, done=True) for k in range(50)]
        n += 50
        res = family.post(path + "ops", json={"ops": batch})
        if res.status_code == 429:
            break
        assert res.status_code == 200 and all(r["ok"] for r in res.get_json()["results"])
        sent += 50
        assert sent <= home_web.OPS_BURST + 50, "never slowed down"
    assert home_web.OPS_BURST - 50 < sent <= home_web.OPS_BURST
    assert res.get_json()["error"] == "rate_limited" and int(res.headers["Retry-After"]) >= 1
    assert len(pr.engine.state(room.id, "home")[1]["log"]) == sent     # none of the refused batch
