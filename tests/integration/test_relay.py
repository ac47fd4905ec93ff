"""EPH1: strokes in progress and cursors are relayed to the others while drawing,
coalesced, never echoed to the sender and never stored; the finished stroke is one
durable op that everybody receives with the same seq. Also run on every async mode."""
import time
import importlib.util

import pytest

from tests.support import ServerProcess, stroke, wait_for

from .conftest import Room, assert_no_crash_in_log, events_since, mark, new_id, wait_op

PTS_PER_CHUNK = 4


def preview_chunks(sid, n_chunks, page="p1"):
    """A stroke in progress as the client sends it: consecutive chunks, `from` being
    the index of the chunk's first point in the whole stroke."""
    chunks = []
    for c in range(n_chunks):
        pts = []
        for i in range(PTS_PER_CHUNK):
            k = c * PTS_PER_CHUNK + i
            pts += [100 + k, 200 + (k % 50), 0.5]
        chunks.append({"a": "canvas", "k": "stroke", "id": sid, "page": page, "tool": "pen",
                       "color": "#e53935", "size": 8, "from": c * PTS_PER_CHUNK, "pts": pts})
    return chunks


def preview_items(user, sid):
    return [it for ev in user.received("eph") for it in ev["items"]
            if it.get("k") == "stroke" and it.get("id") == sid]


def rebuilt_points(items):
    """Reassemble a relayed stroke from its items; they must be consecutive."""
    pts = []
    for it in sorted(items, key=lambda it: it["from"]):
        assert it["from"] == len(pts) // 3, "a relayed chunk was lost or repeated"
        pts += it["pts"]
    return pts


def test_EPH1_stroke_preview_relayed_merged_not_echoed_then_committed(room, trio):
    therapist, child, parent = trio
    child_mark = mark(child)
    sid = new_id()
    chunks = preview_chunks(sid, 20)
    sent_pts = [x for c in chunks for x in c["pts"]]
    for c in chunks:
        child.sio.emit("eph", c)

    def complete(v):
        items = preview_items(v, sid)
        return sum(len(it["pts"]) for it in items) >= len(sent_pts)
    for v in (therapist, parent):
        wait_for(lambda: complete(v), what="the whole preview relayed")
        items = preview_items(v, sid)
        assert rebuilt_points(items) == sent_pts
        # Coalesced: 20 chunks sent back to back arrive as far fewer relayed items.
        assert len(items) < len(chunks), len(items)
        for ev in v.received("eph"):
            assert ev["by"] == child.me
        for it in items:
            assert (it["a"], it["k"], it["page"], it["tool"], it["color"], it["size"]) == \
                ("canvas", "stroke", "p1", "pen", "#e53935", 8)

    # The finished stroke: one op, same seq for everybody, sender included.
    d = stroke(sid=sid)
    d["pts"] = sent_pts
    op_id = new_id("op-")
    ack = child.op("stroke", d, op_id=op_id)
    assert ack["ok"], ack
    got = [wait_op(u, op_id) for u in (therapist, child, parent)]
    assert {o["seq"] for o in got} == {ack["seq"]}
    assert all(o["by"] == child.me and o["kind"] == "do" and o["t"] == "stroke" for o in got)
    assert got[0]["d"]["pts"] == sent_pts
    # The sender never receives its own preview (the op above arrived after the
    # relay flushes that carried the preview to the others).
    assert not [e for e, _ in events_since(child, child_mark) if e == "eph"]
    # Previews are never stored: the board holds only the committed stroke.
    assert room.item_ids() == [sid]


def test_EPH1_cursor_relayed_latest_position_to_others_only(room, trio):
    therapist, child, parent = trio
    for x in range(10, 60, 5):
        parent.sio.emit("eph", {"a": "canvas", "k": "cursor", "page": "p1", "x": x, "y": 40})

    def last_cursor(v):
        items = [it for ev in v.received("eph") if ev["by"] == parent.me
                 for it in ev["items"] if it["k"] == "cursor"]
        return items[-1] if items and items[-1]["x"] == 55 else None
    for v in (therapist, child):
        cur = wait_for(lambda: last_cursor(v), what="latest cursor")
        assert (cur["a"], cur["page"], cur["x"], cur["y"]) == ("canvas", "p1", 55, 40)
    # Cursors keep only the latest value: fewer messages than positions sent.
    assert len([1 for ev in therapist.received("eph") for it in ev["items"]
                if it["k"] == "cursor"]) < 10
    # Never echoed: a later signal from the child reaches the parent in a later
    # flush, so any echo of the parent's own cursors would have arrived before it.
    child.sio.emit("eph", {"a": "canvas", "k": "cursor", "page": "p1", "x": 99, "y": 9})
    wait_for(lambda: parent.received("eph"), what="the child's cursor at the parent")
    assert [ev["by"] for ev in parent.received("eph")] == [child.me]


def _mode_available(mode):
    return mode != "gevent" or importlib.util.find_spec("gevent") is not None


@pytest.mark.parametrize("mode", ["eventlet", "gevent", "threading"])
def test_EPH1_relay_and_ops_in_every_async_mode(tmp_path, mode):
    if not _mode_available(mode):
        pytest.skip("gevent is not installed in this environment")
    srv = ServerProcess(tmp_path, mode=mode).start()
    room = None
    try:
        room = Room(srv)
        therapist, child = room.user("therapist"), room.user("child")
        sid = new_id()
        chunks = preview_chunks(sid, 5)
        for c in chunks:
            child.sio.emit("eph", c)
        sent = [x for c in chunks for x in c["pts"]]
        wait_for(lambda: sum(len(i["pts"]) for i in preview_items(therapist, sid)) >= len(sent),
                 what=f"preview relayed in {mode} mode")
        assert rebuilt_points(preview_items(therapist, sid)) == sent
        op_id = new_id("op-")
        ack = child.op("stroke", stroke(sid=sid), op_id=op_id)
        assert ack["ok"], ack
        assert wait_op(therapist, op_id)["seq"] == ack["seq"] == wait_op(child, op_id)["seq"]
        assert child.received("eph") == []
        assert room.item_ids() == [sid]
    finally:
        if room:
            room.close()
        srv.stop()
    assert_no_crash_in_log(srv)


def test_CLK1_clock_answers_with_server_time(room):
    child = room.user("child")
    before = time.time() * 1000
    ack = child.call("clock", {})
    after = time.time() * 1000
    # Same machine, same clock: the server's answer lies inside the round trip.
    assert before - 5 <= ack["now"] <= after + 5
