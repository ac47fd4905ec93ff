"""ERR1 / ERR2: bad input gets an error event with a code (and a negative ack where
the event has one); the room's state does not change, the other clients receive
nothing, and the server keeps serving."""
import math

import pytest

from tests.support import stroke, wait_for

from .conftest import Room, assert_alive, events_since, mark, new_id, wait_op


def st(**changes):
    d = stroke(sid="bad")
    d.update(changes)
    return d


def op(d, t="stroke", a="canvas", op_id="bad-op"):
    return {"op_id": op_id, "a": a, "t": t, "d": d}


def pts_with(value, at=0):
    d = stroke(sid="bad")
    d["pts"][at] = value
    return d


def extra_field():
    d = stroke(sid="bad")
    d["by"] = "th-1"
    return d


def without(key):
    d = stroke(sid="bad")
    del d[key]
    return d


# (id, event, payload, expected codes, has ack)
CASES = [
    ("non-dict-payload", "op", "draw please", {"bad_event"}, True),
    ("list-payload", "op", [1, 2, 3], {"bad_event"}, True),
    ("binary-payload", "op", b"\x00\x01\x02", {"bad_event"}, True),
    ("missing-op_id", "op", {"a": "canvas", "t": "stroke", "d": stroke()}, {"bad_event"}, True),
    ("numeric-op_id", "op", {**op(stroke()), "op_id": 12}, {"bad_event"}, True),
    ("empty-op_id", "op", {**op(stroke()), "op_id": ""}, {"bad_event"}, True),
    ("100-char-op_id", "op", op(stroke(), op_id="x" * 100), {"bad_event"}, True),
    ("unknown-activity", "op", op(stroke(), a="chess"), {"unknown_activity"}, True),
    ("activity-not-a-string", "op", op(stroke(), a=["canvas"]), {"unknown_activity"}, True),
    ("unknown-op-type", "op", op(stroke(), t="explode"), {"unknown_op"}, True),
    ("op-type-not-a-string", "op", op(stroke(), t={"x": 1}), {"unknown_op"}, True),
    ("internal-items.restore", "op",
     op({"page": "p1", "items": [[0, {"id": "z", "k": "stroke"}]]}, t="items.restore"),
     {"unknown_op"}, True),
    ("internal-page.remove", "op", op({"page": "p1"}, t="page.remove"), {"unknown_op"}, True),
    ("nan-coordinate", "op", op(pts_with(math.nan)), {"invalid"}, True),
    ("infinite-coordinate", "op", op(pts_with(math.inf, 1)), {"invalid"}, True),
    ("x-out-of-range", "op", op(pts_with(1601)), {"invalid"}, True),
    ("negative-y", "op", op(pts_with(-1, 1)), {"invalid"}, True),
    ("pressure-above-1", "op", op(pts_with(1.5, 2)), {"invalid"}, True),
    ("coordinate-as-string", "op", op(pts_with("10")), {"invalid"}, True),
    ("coordinate-as-bool", "op", op(pts_with(True)), {"invalid"}, True),
    ("1501-points", "op", op(stroke(sid="bad", n=1501)), {"invalid"}, True),
    ("pts-not-multiple-of-3", "op", op(st(pts=[1, 2])), {"invalid"}, True),
    ("no-points", "op", op(st(pts=[])), {"invalid"}, True),
    ("page-does-not-exist", "op", op(stroke(page="p9")), {"no_such_page"}, True),
    ("page-id-with-slash", "op", op(stroke(page="../p1")), {"invalid"}, True),
    ("extra-field-in-d", "op", op(extra_field()), {"invalid"}, True),
    ("missing-field-in-d", "op", op(without("tool")), {"invalid"}, True),
    ("d-not-a-dict", "op", op([1, 2]), {"invalid"}, True),
    ("d-missing", "op", {"op_id": "bad-op", "a": "canvas", "t": "stroke"}, {"invalid"}, True),
    ("bad-color", "op", op(st(color="red")), {"invalid"}, True),
    ("unknown-tool", "op", op(st(tool="chainsaw")), {"invalid"}, True),
    ("size-out-of-range", "op", op(st(size=500)), {"invalid"}, True),
    ("size-bool", "op", op(st(size=True)), {"invalid"}, True),
    ("stroke-id-too-long", "op", op(st(id="y" * 33)), {"invalid"}, True),
    ("unknown-stamp", "op", op({"page": "p1", "id": "st1", "stamp": "../../etc/passwd",
                                "x": 5, "y": 5, "size": 64}, t="stamp"), {"invalid"}, True),
    ("unknown-background", "op", op({"page": "p1", "bg": "url(x)"}, t="page.bg"),
     {"invalid"}, True),
    ("page-already-exists", "op", op({"page": "p1"}, t="page.add"), {"conflict"}, True),
    ("op-json-over-256KB", "op", op(st(color="#" + "a" * 300_000)), {"too_large", "invalid"}, True),
    ("history-bad-action", "history", {"op_id": "h", "a": "canvas", "action": "explode"},
     {"invalid"}, True),
    ("history-bad-target", "history", {"op_id": "h", "a": "canvas", "action": "undo",
                                       "target": {"id": 1}}, {"invalid"}, True),
    ("history-unknown-activity", "history", {"op_id": "h", "a": "chess", "action": "undo"},
     {"unknown_activity"}, True),
    ("history-nothing-to-redo", "history", {"op_id": "h", "a": "canvas", "action": "redo"},
     {"nothing_to_do"}, True),
    ("unknown-event-name", "explode", {"x": 1}, {"bad_event"}, False),
    ("eph-not-a-dict", "eph", "wiggle", {"bad_event"}, False),
    ("eph-unknown-kind", "eph", {"a": "canvas", "k": "laser", "x": 1}, {"unknown_activity"}, False),
    ("eph-unknown-activity", "eph", {"a": "chess", "k": "cursor", "page": "p1", "x": 1, "y": 1},
     {"unknown_activity"}, False),
    ("eph-cursor-out-of-range", "eph", {"a": "canvas", "k": "cursor", "page": "p1",
                                        "x": 99999, "y": 1}, {"invalid", "bad_event"}, False),
    ("eph-cursor-nan", "eph", {"a": "canvas", "k": "cursor", "page": "p1", "x": math.nan,
                               "y": 1}, {"invalid", "bad_event"}, False),
    ("eph-preview-too-many-points", "eph",
     {"a": "canvas", "k": "stroke", "id": "pv", "page": "p1", "tool": "pen", "color": "#000000",
      "size": 8, "from": 0, "pts": [1, 1, 0.5] * 241}, {"invalid", "bad_event"}, False),
    ("eph-preview-extra-field", "eph",
     {"a": "canvas", "k": "stroke", "id": "pv", "page": "p1", "tool": "pen", "color": "#000000",
      "size": 8, "from": 0, "pts": [1, 1, 0.5], "by": "th-1"}, {"invalid", "bad_event"}, False),
    ("settings-not-a-dict", "settings", "on", {"forbidden"}, True),
]


@pytest.fixture(scope="module")
def err_room(server):
    """One room (accounts and links) for the whole matrix; sockets are per test."""
    r = Room(server)
    yield r
    r.close()


@pytest.fixture
def err_trio(err_room):
    users = [err_room.user(role) for role in ("therapist", "child", "parent")]
    yield users
    for u in users:
        u.close()


def state_of(room):
    snap = room.snapshot()
    return snap["seq"], snap["activities"], snap["settings"]


@pytest.mark.parametrize("event,payload,codes,has_ack",
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_ERR1_bad_input_is_refused_and_changes_nothing(server, err_room, err_trio,
                                                       event, payload, codes, has_ack):
    therapist, child, parent = err_trio
    before = state_of(err_room)
    marks = {u.role: mark(u) for u in err_trio}
    if has_ack:
        ack = child.call(event, payload)
        assert ack["ok"] is False and ack["code"] in codes, ack
        assert ack["reason"]
        assert "seq" not in ack
    else:
        child.sio.emit(event, payload)
    err = wait_for(lambda: [d for e, d in events_since(child, marks["child"]) if e == "error"],
                   what="error event")[0]
    assert err["code"] in codes, err
    assert err["reason"] and err["event"] == event
    if has_ack and isinstance(payload, dict) and isinstance(payload.get("op_id"), str) \
            and 0 < len(payload["op_id"]) <= 64:
        assert err["op_id"] == ack["op_id"] == payload["op_id"]
    # State unchanged, as a fresh late joiner sees it.
    assert state_of(err_room) == before
    # Nothing reached the others: a valid signal and op sent afterwards by the same
    # child arrive with nothing (op or eph) before them.
    child.sio.emit("eph", {"a": "canvas", "k": "cursor", "page": "p1", "x": 7, "y": 7})
    marker = new_id("marker-")
    ack = child.op("stroke", stroke(sid=marker), op_id=marker)
    assert ack["ok"], ack
    for u in (therapist, parent):
        wait_op(u, marker)
        wait_for(lambda: [ev for e, ev in events_since(u, marks[u.role]) if e == "eph"],
                 what="marker cursor")
        got = events_since(u, marks[u.role])
        assert [d["op_id"] for e, d in got if e == "op"] == [marker], u.role
        eph_items = [it for e, d in got if e == "eph" for it in d["items"]]
        assert eph_items == [{"a": "canvas", "k": "cursor", "page": "p1", "x": 7, "y": 7}]
        assert not [e for e, _ in got if e in ("error", "bye")]
    assert [d["op_id"] for e, d in events_since(child, marks["child"]) if e == "op"] == [marker]
    assert child.sio.connected
    assert_alive(server)


def test_ERR1_events_before_sync_are_not_joined(err_room, err_trio):
    therapist, child, parent = err_trio
    before = mark(therapist)
    early = err_room.user("child", sync=False)
    for event, payload in (("op", op(stroke(sid="early"), op_id="early")),
                           ("history", {"op_id": "eh", "a": "canvas", "action": "undo"}),
                           ("settings", {"child_may_draw": False})):
        ack = early.call(event, payload)
        assert ack["ok"] is False and ack["code"] == "not_joined", (event, ack)
    early.sio.emit("eph", {"a": "canvas", "k": "cursor", "page": "p1", "x": 1, "y": 1})
    errs = wait_for(lambda: len(early.received("error")) >= 4 and early.received("error"),
                    what="four not_joined errors")
    assert {e["code"] for e in errs} == {"not_joined"}
    assert {e["event"] for e in errs} == {"op", "history", "settings", "eph"}
    # It has not joined: the room's broadcasts do not reach it either.
    marker = new_id("m-")
    assert therapist.op("stroke", stroke(sid=marker), op_id=marker)["ok"]
    wait_op(parent, marker)
    assert early.received("op") == [] and early.received("state") == []
    assert [d["op_id"] for e, d in events_since(therapist, before) if e == "op"] == [marker]
    assert marker in err_room.item_ids() and "early" not in err_room.item_ids()


def test_ERR1_duplicate_stroke_id_conflicts(err_room, err_trio):
    therapist, child, parent = err_trio
    sid = new_id()
    assert child.op("stroke", stroke(sid=sid))["ok"]
    again = child.op("stroke", stroke(sid=sid), op_id=new_id("other-"))
    assert again["ok"] is False and again["code"] == "conflict", again
    assert err_room.item_ids().count(sid) == 1


def test_ERR2_sync_with_odd_payloads_still_works(err_room):
    for payload in (None, "x", [1], {"since": {"a": 1}}, {"since": 10**30}):
        u = err_room.user("parent", sync=False)
        ack = u.call("sync", payload)
        assert ack["ok"] is True and isinstance(ack["seq"], int), (payload, ack)
        wait_for(lambda: u.state is not None, what="state")
        assert u.state["mode"] == "snapshot"
        u.close()


def test_ERR1_page_limit_is_enforced(room):
    """A canvas has at most MAX_PAGES (20) pages: the 21st is refused with "full"."""
    therapist = room.user("therapist")
    for k in range(2, 21):
        assert therapist.op("page.add", {"page": f"p{k}"})["ok"]
    ack = therapist.op("page.add", {"page": "p21"})
    assert ack["ok"] is False and ack["code"] == "full", ack
    assert len(room.canvas()["pages"]) == 20
