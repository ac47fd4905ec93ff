"""SEQ1, SEQ2, JOIN1, UNDO1, UNDO3 over real sockets: one ordered history per room,
retries applied once, late joiners and reconnecting clients see exactly what they
missed, per-person undo and an undoable clear."""
import threading

from tests.support import stroke, wait_for

from .conftest import (activity_ops, assert_seqs_follow_state, draw_strokes, new_id, ops_with,
                       room_settings, send_op, wait_op)

N_EACH = 30


def op_log(user):
    """(seq, op_id) of the activity ops `user` received (room ops interleave with them)."""
    return [(o["seq"], o["op_id"]) for o in activity_ops(user)]


def test_SEQ1_concurrent_senders_same_order_no_gaps(room):
    therapist = room.user("therapist")
    assert therapist.call("settings", {"parent_may_play": True}) == {"ok": True}
    child, parent = room.user("child"), room.user("parent")
    assert parent.state["settings"]["parent_may_play"] is True
    senders = (therapist, child, parent)
    start = threading.Barrier(len(senders))
    acks = {u.role: [] for u in senders}
    errors = []

    def run(user):
        try:
            start.wait(5)
            for i in range(N_EACH):
                sid = f"{user.role[0]}{i}-{new_id()}"[:32]
                op_id = f"{user.role}-{i}"
                ack = send_op(user, "stroke", stroke(sid=sid), op_id=op_id)
                assert ack["ok"], ack
                acks[user.role].append((ack["seq"], op_id, sid))
        except BaseException as e:  # reported below; a thread cannot fail the test
            errors.append(e)

    threads = [threading.Thread(target=run, args=(u,)) for u in senders]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    total = N_EACH * len(senders)
    for u in senders:
        wait_for(lambda: len(activity_ops(u)) >= total, what=f"{u.role} receives all ops")
    logs = [op_log(u) for u in senders]
    assert logs[0] == logs[1] == logs[2]
    assert len(logs[0]) == total
    # All ops each socket received, room ops included, continue its state's seq with
    # no gap or duplicate, and all three end at the same seq.
    assert len({assert_seqs_follow_state(u) for u in senders}) == 1
    # Nobody entered or left while they drew: the strokes took consecutive seqs.
    seqs = [s for s, _ in logs[0]]
    assert seqs == list(range(seqs[0], seqs[0] + total)), "gap, duplicate or reordering in seq"
    # Each sender's acks name the seqs the room broadcast for its op_ids.
    by_op = dict((op_id, seq) for seq, op_id in logs[0])
    for role, got in acks.items():
        assert len(got) == N_EACH
        assert all(by_op[op_id] == seq for seq, op_id, _ in got), role
    # A late joiner's board is the broadcast history applied in seq order.
    broadcast_ids = [o["d"]["id"] for o in sorted(activity_ops(therapist), key=lambda o: o["seq"])]
    assert room.item_ids() == broadcast_ids


def test_JOIN1_late_joiner_gets_full_board_as_snapshot(room):
    drawn = draw_strokes(room, "child", 200)
    first = drawn[0][0]        # after the session start and the child's presence op
    assert [s for s, _ in drawn] == list(range(first, first + 200))
    late = room.user("parent")
    wait_for(lambda: late.state is not None, what="state")
    assert late.state["mode"] == "snapshot"
    # The joiner's own presence op comes right after the last stroke.
    assert late.state["seq"] == late.seq == drawn[-1][0] + 1
    pages = late.state["activities"]["canvas"]["pages"]
    assert [p["id"] for p in pages] == ["p1"]
    assert [it["id"] for it in pages[0]["items"]] == [sid for _, sid in drawn]
    assert late.state["settings"] == room_settings()


def test_JOIN1_reconnect_with_since_gets_exactly_the_missed_ops(room):
    therapist = room.user("therapist")
    child = room.user("child")
    ack = send_op(child, "stroke", stroke(), op_id="before")
    assert ack["ok"], ack
    last = wait_op(child, "before")["seq"]
    child.close()
    missed = [send_op(therapist, "stroke", stroke(), op_id=f"missed-{i}") for i in range(5)]
    assert all(a["ok"] for a in missed), missed
    back = room.user("child", since=last)
    wait_for(lambda: back.state is not None, what="state")
    assert back.state["mode"] == "ops"
    assert [o["seq"] for o in back.state["ops"]] == list(range(last + 1, last + 6))
    assert [o["op_id"] for o in back.state["ops"]] == [f"missed-{i}" for i in range(5)]
    assert all(o["by"] == therapist.me for o in back.state["ops"])
    assert back.seq == back.state["seq"] == last + 5
    # ...and it is in the live room from then on.
    more = send_op(therapist, "stroke", stroke(), op_id="after-reconnect")
    assert wait_op(back, "after-reconnect")["seq"] == more["seq"] == last + 6


def test_JOIN1_since_in_the_future_or_garbage_gets_a_snapshot(room):
    drawn = send_op(room.user("therapist"), "stroke", stroke())
    assert drawn["ok"], drawn
    # The child's first entry adds its presence op; its later sockets (back within the
    # presence grace) add nothing.
    now = drawn["seq"] + 1
    for since in (10_000, -5, "3", None, 1.5):
        u = room.user("child", since=since)
        wait_for(lambda: u.state is not None, what="state")
        assert u.state["mode"] == "snapshot", since
        assert u.state["seq"] == now
        u.close()
    # The therapist replays from 0 (a guest only from their floor, READ1).
    u = room.user("therapist", since=0)
    wait_for(lambda: u.state is not None, what="state")
    assert u.state["mode"] == "ops" and [o["seq"] for o in u.state["ops"]] == list(range(1, now + 1))
    assert [o["seq"] for o in u.state["ops"] if o["a"] != "room"] == [drawn["seq"]]


def test_SEQ2_resend_after_reconnect_is_applied_once(room):
    therapist, parent = room.user("therapist"), room.user("parent")
    child = room.user("child")
    d = stroke(sid="retry-me")
    first = child.op("stroke", d, op_id="tablet-1")
    assert first["ok"] and "duplicate" not in first, first
    wait_op(parent, "tablet-1")
    child.close()
    child = room.user("child", since=first["seq"])
    again = child.op("stroke", d, op_id="tablet-1")
    assert again == {"ok": True, "seq": first["seq"], "duplicate": True}
    # No second broadcast: a marker sent afterwards arrives with nothing before it.
    marker = send_op(therapist, "page.bg", {"page": "p1", "bg": "cream"}, op_id="marker")
    for u in (therapist, parent, child):
        wait_op(u, "marker")
    assert len(ops_with(parent, "tablet-1")) == 1
    assert len(ops_with(therapist, "tablet-1")) == 1
    assert ops_with(child, "tablet-1") == []  # it had that op before reconnecting
    assert marker["seq"] == first["seq"] + 1
    assert room.item_ids() == ["retry-me"]


def test_SEQ2_resend_of_an_op_whose_ack_was_never_read(room):
    therapist = room.user("therapist")
    child = room.user("child")
    d = stroke(sid="lost-ack")
    # The tablet sends and loses its connection before reading the ack: the op may or
    # may not have reached the server.
    child.sio.emit("op", {"op_id": "flaky-1", "a": "canvas", "t": "stroke", "d": d})
    child.close()
    child = room.user("child")
    ack = child.op("stroke", d, op_id="flaky-1")
    assert ack["ok"], ack
    seen = wait_op(therapist, "flaky-1")
    assert seen["seq"] == ack["seq"]
    send_op(therapist, "page.bg", {"page": "p1", "bg": "dots"}, op_id="marker")
    wait_op(therapist, "marker")
    assert len(ops_with(therapist, "flaky-1")) == 1
    assert room.item_ids() == ["lost-ack"]
    # Same again when the first attempt certainly arrived (the others saw it).
    child.sio.emit("op", {"op_id": "flaky-2", "a": "canvas", "t": "stroke", "d": stroke(sid="b")})
    applied = wait_op(therapist, "flaky-2")
    child.close()
    child = room.user("child")
    assert child.op("stroke", stroke(sid="b"), op_id="flaky-2") == \
        {"ok": True, "seq": applied["seq"], "duplicate": True}
    assert room.item_ids() == ["lost-ack", "b"]


def test_SEQ2_op_ids_are_scoped_per_participant(room):
    therapist, child = room.user("therapist"), room.user("child")
    a = child.op("stroke", stroke(sid="c1"), op_id="same")
    b = therapist.op("stroke", stroke(sid="t1"), op_id="same")
    assert a["ok"] and b["ok"] and b["seq"] == a["seq"] + 1 and "duplicate" not in b
    assert room.item_ids() == ["c1", "t1"]


def history(user, action, target=None, op_id=None):
    msg = {"op_id": op_id or new_id("h-"), "a": "canvas", "action": action}
    if target is not None:
        msg["target"] = target
    return user.call("history", msg)


def test_UNDO1_undo_is_per_person_over_sockets(room):
    therapist = room.user("therapist")
    assert therapist.call("settings", {"parent_may_play": True})["ok"]
    child, parent = room.user("child"), room.user("parent")
    for u, sid in ((child, "c1"), (parent, "p1"), (child, "c2"), (parent, "p2")):
        assert send_op(u, "stroke", stroke(sid=sid))["ok"]
    ack = history(child, "undo", op_id="undo-1")
    assert ack["ok"], ack
    got = [wait_op(u, "undo-1") for u in (therapist, child, parent)]
    assert {o["seq"] for o in got} == {ack["seq"]}
    assert (got[0]["kind"], got[0]["t"], got[0]["d"]["ids"]) == ("undo", "items.remove", ["c2"])
    assert room.item_ids() == ["c1", "p1", "p2"]          # the parent's strokes stay
    assert history(parent, "undo")["ok"]
    assert room.item_ids() == ["c1", "p1"]
    assert history(child, "redo")["ok"]
    assert room.item_ids() == ["c1", "p1", "c2"]
    # The therapist may undo for anyone; a guest's own stack follows.
    ack = history(therapist, "undo", target=child.me, op_id="undo-for-child")
    assert ack["ok"], ack
    assert wait_op(parent, "undo-for-child")["by"] == therapist.me
    assert room.item_ids() == ["c1", "p1"]
    assert history(child, "undo")["ok"]
    assert room.item_ids() == ["p1"]
    nothing = history(child, "undo")
    assert nothing["ok"] is False and nothing["code"] == "nothing_to_do"


def test_UNDO4_acks_say_how_much_the_sender_can_undo_and_redo(room):
    """The child's Undo/Redo buttons are greyed out from these numbers."""
    child = room.user("child")
    assert child.sync_ack["stacks"]["canvas"] == [0, 0]          # nothing yet: both greyed
    assert send_op(child, "stroke", stroke(sid="s1"))["stacks"]["canvas"] == [1, 0]
    assert send_op(child, "stroke", stroke(sid="s2"))["stacks"]["canvas"] == [2, 0]
    assert history(child, "undo")["stacks"]["canvas"] == [1, 1]
    assert history(child, "undo")["stacks"]["canvas"] == [0, 2]
    nothing = history(child, "undo")
    assert nothing["code"] == "nothing_to_do" and nothing["stacks"]["canvas"] == [0, 2]
    # Someone else's op leaves the child's numbers alone; a rejoin gets them again.
    therapist = room.user("therapist")
    assert send_op(therapist, "stroke", stroke(sid="t1"))["stacks"]["canvas"] == [1, 0]
    assert room.user("child").sync_ack["stacks"]["canvas"] == [0, 2]


def test_UNDO3_therapist_clear_is_undoable(room):
    therapist, child = room.user("therapist"), room.user("child")
    ids = [sid for _, sid in draw_strokes(room, "child", 5)]
    assert send_op(therapist, "stroke", stroke(sid="t1"))["ok"]
    clear = send_op(therapist, "clear", {"page": "p1"}, op_id="clear-1")
    assert clear["ok"], clear
    assert wait_op(child, "clear-1")["t"] == "clear"
    assert room.item_ids() == []
    undo = history(therapist, "undo", op_id="unclear")
    assert undo["ok"], undo
    assert wait_op(child, "unclear")["t"] == "items.restore"
    assert room.item_ids() == ids + ["t1"]
    assert history(therapist, "redo")["ok"]
    assert room.item_ids() == []
