"""PAINT1 over real sockets: whoever joins a big page with a snapshot gets the
server's picture of it with it (right after it, or just before it when the server
has it already), the very picture the export draws; a replay, a
small page, a guest waiting in the lobby and a parent kept out by private time get
none."""
import io
import time

from PIL import Image

from activities import canvas
from activities.contract.protocol import E_PRIVATE
from tests.integration.conftest import new_id, send_op
from tests.integration.test_control import control
from tests.support import wait_for

POINTS = canvas.MAX_STROKE_POINTS
BIG = canvas.PICTURE_FROM // (3 * POINTS) + 1        # strokes of 1,500 points: 67


def long_stroke(k):
    """1,500 points zigzagging across the page, a row further down for each k."""
    pts = []
    for i in range(POINTS):
        pts += [100 + (i * 7) % 1400, 60 + (k * 13) % 880 + (i % 40), 0.5]
    return {"page": "p1", "id": new_id(f"L{k}-"), "tool": "pen", "color": "#e53935", "size": 8,
            "pts": pts}


def fill(room, n=BIG):
    child = room.user("child")
    ids = []
    for k in range(n):
        d = long_stroke(k)
        ack = send_op(child, "stroke", d)
        assert ack["ok"], ack
        ids.append(d["id"])
    return ids


def join(room, role, since=-1):
    u = room.user(role, sync=False)
    return u, u.call("sync", {"since": since})


def pictures(u):
    return u.received("picture")


def quiet(u):
    """Everything the server sends after a sync has reached `u` (one more round trip
    after the background task's send)."""
    time.sleep(0.3)
    u.call("clock", {})


def test_PAINT1_a_joiner_of_a_big_page_gets_its_picture_after_the_snapshot(room):
    ids = fill(room)
    therapist, ack = join(room, "therapist")
    assert ack["ok"], ack
    wait_for(lambda: pictures(therapist), what="the picture")
    names = [ev for ev, _ in therapist.events]
    assert names.index("state") < names.index("picture"), "the picture follows the snapshot"
    pic = pictures(therapist)[0]
    assert {k: pic[k] for k in ("a", "key", "seq", "n", "last", "bg")} == {
        "a": "canvas", "key": "p1", "seq": ack["seq"], "n": len(ids), "last": ids[-1], "bg": "white"}
    assert therapist.state["seq"] == ack["seq"]
    shown = Image.open(io.BytesIO(pic["png"]))
    assert shown.size == (canvas.BOARD_W, canvas.BOARD_H)
    export = room.actions("therapist").get(f"/rooms/{room.id}/export/canvas/p1.png")
    assert export.status_code == 200
    drawn = Image.open(io.BytesIO(export.content))
    assert shown.convert("RGB").tobytes() == drawn.convert("RGB").tobytes(), "the export's picture"
    # A guest reads the whole board too; a joiner at the same seq gets the same bytes,
    # and since the server has them already, just before the snapshot (the browser
    # decodes the picture while it reads the state).
    child, ack2 = join(room, "child")
    wait_for(lambda: pictures(child), what="the child's picture")
    assert ack2["seq"] == ack["seq"], "the child was in the room already: no new presence op"
    assert pictures(child)[0]["png"] == pic["png"]
    assert pictures(child)[0]["seq"] == ack2["seq"] == child.state["seq"]
    names = [ev for ev, _ in child.events]
    assert names.index("picture") < names.index("state") and names.count("picture") == 1
    assert len(pictures(therapist)) == 1, "only the joiner of a snapshot gets it"


def test_PAINT1_no_picture_after_a_replay_or_of_a_small_page(room, room_factory, server):
    fill(room)
    parent, ack = join(room, "parent")
    wait_for(lambda: pictures(parent), what="the picture")
    back, ack2 = join(room, "parent", since=ack["seq"])
    assert ack2["ok"] and back.state["mode"] == "ops"
    quiet(back)
    assert not pictures(back)
    small = room_factory(server)
    assert send_op(small.user("child"), "stroke", long_stroke(0))["ok"]
    u, ack3 = join(small, "therapist")
    assert ack3["ok"] and u.state["mode"] == "snapshot"
    quiet(u)
    assert not pictures(u)


def test_PAINT1_no_picture_for_a_parent_kept_out_by_private_time(room):
    therapist = room.user("therapist")
    fill(room)
    assert control(therapist, "settings", changes={"private": True})["ok"]
    parent, ack = join(room, "parent")
    assert (ack["ok"], ack.get("code")) == (False, E_PRIVATE)
    quiet(parent)
    assert not pictures(parent) and parent.state is None
