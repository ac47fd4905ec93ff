"""Sand tray against a real server: figures placed and moved by the child reach the
therapist and the parent in seq order, a late joiner and a restarted server see the
same tray, and every kind of bad input of the issue is refused (or, for ops on a
removed figure and a flood of drags, absorbed) with the room and server going on."""
import math
import signal

import pytest

from activities import sandtray as st
from tests.support import wait_for

from .conftest import Room, assert_alive, events_since, mark, new_id, send_op, wait_op


def op(user, t, d, **kw):
    return send_op(user, t, d, a="sandtray", **kw)


def place(fid, fig="dragon", x=20, y=20, **kw):
    return {"id": fid, "fig": fig, "x": x, "y": y, **kw}


def tray(room):
    return room.snapshot()["activities"]["sandtray"]


def replay(ops):
    """The state a client reaches by applying the ops it received, in order."""
    state = st.initial_state()
    for o in ops:
        state, _ = st.apply(state, o["t"], o["d"], by=o["by"])
    return state


def sandtray_ops(user):
    return [o for o in user.received("op") if o["a"] == "sandtray"]


def test_SEQ1_child_builds_others_follow_in_order_late_joiner_and_restart_agree(fresh_server, room_factory):
    room = room_factory(fresh_server)
    therapist, child, parent = room.user("therapist"), room.user("child"), room.user("parent")
    acks = [op(child, "place", place(f"f{k}", fig, 10 + 15 * k, 20))
            for k, fig in enumerate(("house", "dragon", "tree"))]
    acks.append(op(child, "move", {"id": "f1", "x": 50.5, "y": 40}))
    acks.append(op(child, "sand", {"tool": "dig", "r": 6, "pts": [20, 80, 24, 80, 28, 82]}))
    acks.append(op(child, "bury", {"id": "f2", "buried": 0.5}))
    assert all(a["ok"] for a in acks), acks
    seqs = [a["seq"] for a in acks]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    last = acks[-1]["seq"]
    for u in (therapist, parent):
        wait_for(lambda: len(sandtray_ops(u)) == len(acks), what=f"{u.role} receives every op")
        got = sandtray_ops(u)
        assert [o["seq"] for o in got] == seqs                    # in seq order
        assert all(o["by"] == child.me for o in got)
    wait_for(lambda: [o["seq"] for o in sandtray_ops(child)] == seqs, what="the sender gets them too")
    expected = replay(sandtray_ops(therapist))
    f1 = next(f for f in expected["tray"]["figures"] if f["id"] == "f1")
    assert (f1["x"], f1["y"], f1["by"]) == (50.5, 40, child.me)
    # A late joiner (fresh socket, snapshot) sees exactly that tray.
    assert tray(room) == expected
    # A polite restart and a crash keep it.
    fresh_server.restart(signal.SIGTERM)
    assert tray(room) == expected
    fresh_server.stop(signal.SIGKILL)
    fresh_server.start()
    snap = room.snapshot()
    assert snap["activities"]["sandtray"] == expected and snap["seq"] == last


def test_UNDO1_child_undoes_own_move_and_sand_and_therapist_save_new_open(room):
    therapist, child = room.user("therapist"), room.user("child")
    assert op(child, "place", place("a"))["ok"]
    assert op(child, "move", {"id": "a", "x": 40, "y": 30})["ok"]
    assert op(child, "sand", {"tool": "raise", "r": 4, "pts": [10, 10]})["ok"]
    for _ in range(2):
        undo = child.call("history", {"op_id": new_id("u-"), "a": "sandtray", "action": "undo"})
        assert undo["ok"], undo
    s = tray(room)
    assert s["tray"]["sand"] == st.fresh_sand()
    assert (s["tray"]["figures"][0]["x"], s["tray"]["figures"][0]["y"]) == (20, 20)
    # The therapist keeps a snapshot (server-stamped), starts fresh and reopens it.
    saved = op(therapist, "tray.save", {"id": "snap1"})
    assert saved["ok"]
    assert op(therapist, "tray.new", {"id": "fresh"})["ok"]
    assert tray(room)["tray"]["figures"] == []
    assert op(therapist, "tray.open", {"id": "snap1"})["ok"]
    s = tray(room)
    assert [f["id"] for f in s["tray"]["figures"]] == ["a"]
    entry = s["saved"][0]
    assert entry["id"] == "snap1" and entry["by"] == therapist.me and entry["at"] > 1.7e9


def test_eph_drag_reaches_the_others_and_is_never_stored(room):
    therapist, child, parent = room.user("therapist"), room.user("child"), room.user("parent")
    assert op(child, "place", place("a"))["ok"]
    seq = room.snapshot()["seq"]
    child.sio.emit("eph", {"a": "sandtray", "k": "drag", "id": "a", "x": 33, "y": 21})
    for u in (therapist, parent):
        wait_for(lambda: any(it == {"a": "sandtray", "k": "drag", "id": "a", "x": 33, "y": 21}
                             for ev in u.received("eph") for it in ev["items"]),
                 what=f"{u.role} sees the drag")
    assert room.snapshot()["seq"] == seq


@pytest.fixture(scope="module")
def bad_room(server):
    r = Room(server)
    yield r
    r.close()


def envelope(t, d, op_id="bad-sand"):
    return {"op_id": op_id, "a": "sandtray", "t": t, "d": d}


# (id, event, payload, expected code)
BAD = [
    ("unknown-figure-id", "op", envelope("place", place("x1", fig="bazooka")), "invalid"),
    ("figure-path", "op", envelope("place", place("x1", fig="../app")), "invalid"),
    ("nan-x", "op", envelope("place", place("x1", x=math.nan)), "invalid"),
    ("infinite-y", "op", envelope("move", {"id": "x1", "x": 1, "y": math.inf}), "invalid"),
    ("x-outside-tray", "op", envelope("place", place("x1", x=st.TRAY_W + 1)), "invalid"),
    ("negative-y", "op", envelope("move", {"id": "x1", "x": 1, "y": -0.5}), "invalid"),
    ("absurd-scale", "op", envelope("scale", {"id": "x1", "scale": 1e6}), "invalid"),
    ("zero-scale", "op", envelope("place", place("x1", scale=0)), "invalid"),
    ("rot-not-a-step", "op", envelope("rotate", {"id": "x1", "rot": 7}), "invalid"),
    ("bury-level", "op", envelope("bury", {"id": "x1", "buried": 0.25}), "invalid"),
    ("brush-outside-grid", "op", envelope("sand", {"tool": "dig", "r": 3, "pts": [st.GRID_W, 5]}),
     "invalid"),
    ("brush-negative-cell", "op", envelope("sand", {"tool": "dig", "r": 3, "pts": [-1, 5]}), "invalid"),
    ("brush-huge-radius", "op", envelope("sand", {"tool": "dig", "r": 10 ** 9, "pts": [5, 5]}), "invalid"),
    ("brush-too-many-points", "op",
     envelope("sand", {"tool": "raise", "r": 3, "pts": [5, 5] * (st.MAX_BRUSH_POINTS + 1)}), "invalid"),
    ("brush-unknown-tool", "op", envelope("sand", {"tool": "flood", "r": 3, "pts": [5, 5]}), "invalid"),
    ("unknown-theme", "op", envelope("theme", {"theme": "url(x)"}), "invalid"),
    ("author-smuggled", "op", envelope("place", place("x1", by="someone")), "invalid"),
    ("client-sends-time", "op", envelope("tray.save", {"id": "s1", "at": 1.0}), "invalid"),
    ("internal-restore", "op", envelope("restore", {"tray": "t1", "fig": {"id": "z"}, "index": 0}),
     "unknown_op"),
    ("internal-sand.put", "op", envelope("sand.put", {"tray": "t1", "x": 0, "y": 0, "w": 1, "h": 1,
                                                      "v": "9"}), "unknown_op"),
    ("internal-tray.set", "op", envelope("tray.set", {"tray": {}}), "unknown_op"),
    ("child-saves-tray", "op", envelope("tray.save", {"id": "s1"}), "forbidden"),
    ("child-new-tray", "op", envelope("tray.new", {"id": "t9"}), "forbidden"),
    ("eph-drag-nan", "eph", {"a": "sandtray", "k": "drag", "id": "x1", "x": math.nan, "y": 1}, "invalid"),
    ("eph-drag-unknown-figure", "eph", {"a": "sandtray", "k": "drag", "id": "x1", "x": 1, "y": 1,
                                        "fig": "bazooka"}, "invalid"),
    ("eph-cursor-outside", "eph", {"a": "sandtray", "k": "cursor", "x": 1, "y": 999}, "invalid"),
]


@pytest.mark.parametrize("event,payload,code", [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_ERR1_bad_sandtray_input_is_refused_and_changes_nothing(server, bad_room, event, payload, code):
    child, therapist = bad_room.user("child"), bad_room.user("therapist")
    try:
        _refused_and_nothing_changed(server, bad_room, child, therapist, event, payload, code)
    finally:    # one room for every case: each person has at most 8 sockets (RATE5)
        bad_room.close_users()


def _refused_and_nothing_changed(server, bad_room, child, therapist, event, payload, code):
    before = bad_room.snapshot()
    start = mark(therapist)
    if event == "op":
        ack = child.call("op", payload)
        assert ack["ok"] is False and ack["code"] == code and ack["reason"], ack
    else:
        child.sio.emit(event, payload)
    err = wait_for(lambda: child.received("error"), what="error event")[0]
    assert err["code"] == code and err["event"] == event
    after = bad_room.snapshot()
    assert (after["seq"], after["activities"]) == (before["seq"], before["activities"])
    assert not [e for e, _ in events_since(therapist, start) if e in ("op", "eph")]
    assert child.sio.connected
    assert_alive(server)


def test_ERR1_the_figure_limit_says_the_tray_is_full(room):
    therapist = room.user("therapist")
    assert therapist.call("settings", {"parent_may_play": True}) == {"ok": True}
    people = [therapist, room.user("child"), room.user("parent")]
    per = st.MAX_FIGURES // len(people)
    acks = {}
    for k, u in enumerate(people):              # each within its own burst allowance
        for j in range(per):
            fid = f"f{k}-{j}"
            u.sio.emit("op", {"op_id": "op-" + fid, "a": "sandtray", "t": "place",
                              "d": place(fid, x=j % 72, y=k * 10)},
                       callback=lambda ack, fid=fid: acks.__setitem__(fid, ack))
    wait_for(lambda: len(acks) == per * len(people), what="acks for the figures")
    for fid, ack in acks.items():
        if not ack["ok"]:      # rate limited: resend the same op
            k, j = map(int, fid[1:].split("-"))
            ack = op(people[k], "place", place(fid, x=j % 72, y=k * 10), op_id="op-" + fid)
        assert ack["ok"], ack
    assert len(tray(room)["tray"]["figures"]) == st.MAX_FIGURES
    full = people[1].op("place", place("one-more"), a="sandtray")
    assert full == {"ok": False, "code": "full", "reason": "the tray is full",
                    "op_id": full["op_id"]}
    dup = people[1].op("duplicate", {"src": "f0-0", "id": "one-more", "x": 1, "y": 1}, a="sandtray")
    assert dup["ok"] is False and dup["reason"] == "the tray is full"
    assert len(tray(room)["tray"]["figures"]) == st.MAX_FIGURES


def test_TRAY2_op_on_a_removed_figure_is_a_no_op_and_the_stream_goes_on(room):
    therapist, child, parent = room.user("therapist"), room.user("child"), room.user("parent")
    assert op(child, "place", place("a"))["ok"]
    assert op(therapist, "remove", {"id": "a"})["ok"]
    late = [op(child, t, d) for t, d in (("move", {"id": "a", "x": 5, "y": 5}),
                                         ("rotate", {"id": "a", "rot": 90}),
                                         ("bury", {"id": "a", "buried": 1}),
                                         ("duplicate", {"src": "a", "id": "b", "x": 1, "y": 1}))]
    assert all(a["ok"] for a in late), late                 # sequenced, harmless
    marker = new_id("m-")
    assert op(child, "place", place("c"), op_id=marker)["ok"]
    wait_op(parent, marker)
    assert [f["id"] for f in tray(room)["tray"]["figures"]] == ["c"]
    assert replay(sandtray_ops(parent)) == tray(room)


def test_EPH2_a_flood_of_drags_is_dropped_quietly_and_changes_nothing(server, room):
    therapist, child = room.user("therapist"), room.user("child")
    assert op(child, "place", place("a"))["ok"]
    before = room.snapshot()
    start = mark(therapist)
    # Past the burst, but within the socket's refusals (RATE3: a flood far past
    # them is sent away, tests/integration/test_budgets.py).
    for k in range(450):
        child.sio.emit("eph", {"a": "sandtray", "k": "drag", "id": "a", "x": k % 72, "y": 10})
    wait_for(lambda: [e for e, _ in events_since(therapist, start) if e == "eph"], what="some drag relayed")
    marker = new_id("m-")
    assert op(child, "move", {"id": "a", "x": 9, "y": 9}, op_id=marker)["ok"]
    wait_op(therapist, marker)
    relayed = [it for e, d in events_since(therapist, start) if e == "eph" for it in d["items"]]
    assert len(relayed) < 300                              # coalesced, the excess dropped
    assert child.received("error") == [] and child.received("bye") == []
    after = room.snapshot()
    assert after["seq"] == before["seq"] + 1               # only the move was stored
    assert child.sio.connected
    assert_alive(server)


def test_parent_builds_only_when_allowed(room):
    therapist, parent = room.user("therapist"), room.user("parent")
    refused = parent.op("place", place("p"), a="sandtray")
    assert refused["ok"] is False and refused["code"] == "forbidden"
    assert therapist.call("settings", {"parent_may_play": True}) == {"ok": True}
    assert op(parent, "place", place("p"))["ok"]
    assert [f["by"] for f in tray(room)["tray"]["figures"]] == [parent.me]
