"""DUR1: every acknowledged op survives a restart, a polite one (SIGTERM) or a crash
(kill -9 right after the ack), including the undo stacks rebuilt from the log and
snapshots; sequence numbers continue, never reset."""
import signal

import pytest

from tests.support import stroke, wait_for

from .conftest import draw_strokes, room_settings, send_op, wait_op


def history(user, action, op_id, target=None):
    msg = {"op_id": op_id, "a": "canvas", "action": action}
    if target:
        msg["target"] = target
    return user.call("history", msg)


def test_DUR1_acked_ops_survive_a_polite_restart(fresh_server, room_factory):
    room = room_factory(fresh_server)
    drawn = draw_strokes(room, "child", 30)
    therapist = room.user("therapist")
    bg = send_op(therapist, "page.bg", {"page": "p1", "bg": "grid"})
    add = send_op(therapist, "page.add", {"page": "p2"})
    assert bg["ok"] and add["ok"]
    fresh_server.restart(signal.SIGTERM)
    snap = room.snapshot()
    assert add["seq"] == bg["seq"] + 1 == drawn[-1][0] + 3   # the therapist's presence op between
    assert snap["seq"] == add["seq"]
    pages = snap["activities"]["canvas"]["pages"]
    assert [p["id"] for p in pages] == ["p1", "p2"] and pages[0]["bg"] == "grid"
    assert [it["id"] for it in pages[0]["items"]] == [sid for _, sid in drawn]
    # The history goes on where it stopped: after the snapshot's seq come at most the
    # child's own room ops (its entry), then its stroke.
    child = room.user("child", since=snap["seq"])
    assert child.state["mode"] == "ops" and all(o["a"] == "room" for o in child.state["ops"])
    after = send_op(child, "stroke", stroke(sid="after"))
    assert after["ok"] and after["seq"] == child.state["seq"] + 1


@pytest.mark.parametrize("n", [40, 230], ids=["log-only", "snapshot-plus-log"])
def test_DUR1_kill_9_right_after_the_ack_loses_nothing(fresh_server, room_factory, n):
    """n=230 crosses SNAPSHOT_EVERY (200): the room reloads from a snapshot plus the
    ops after it; n=40 from the op log alone."""
    room = room_factory(fresh_server)
    drawn = draw_strokes(room, "child", n)
    therapist = room.user("therapist")
    child = room.user("child")
    assert send_op(therapist, "stroke", stroke(sid="th-1"))["ok"]
    # send_op retries while rate-limited: the bulk drawing above used the child's allowance.
    last = send_op(child, "stroke", stroke(sid="child-last"), op_id="last-before-crash")
    assert last["ok"], last
    fresh_server.stop(signal.SIGKILL)        # right after the ack: no clean shutdown
    fresh_server.start()
    ids = room.item_ids()
    assert len(ids) == n + 2
    assert ids == [sid for _, sid in drawn] + ["th-1", "child-last"]
    # Undo after the restart still undoes the child's own last stroke, not the
    # therapist's (undo stacks are rebuilt from the snapshot and the log).
    child = room.user("child", since=last["seq"])
    assert child.state["mode"] == "ops" and child.state["ops"] == []
    undo = history(child, "undo", "undo-after-crash")
    assert undo["ok"] and undo["seq"] == last["seq"] + 1, undo
    assert wait_op(child, "undo-after-crash")["d"]["ids"] == ["child-last"]
    assert room.item_ids() == [sid for _, sid in drawn] + ["th-1"]
    assert history(child, "undo", "undo-2")["ok"]
    assert room.item_ids() == [sid for _, sid in drawn][:-1] + ["th-1"]
    # A retry of the op acked just before the crash is still recognised (SEQ2).
    again = child.op("stroke", stroke(sid="child-last"), op_id="last-before-crash")
    assert again == {"ok": True, "seq": last["seq"], "duplicate": True}


def test_DUR1_undo_and_settings_survive_kill_9(fresh_server, room_factory):
    room = room_factory(fresh_server)
    therapist = room.user("therapist")
    assert therapist.call("settings", {"parent_may_play": True, "child_may_draw": False}) == {"ok": True}
    parent = room.user("parent")
    for sid in ("a", "b", "c"):
        assert send_op(parent, "stroke", stroke(sid=sid))["ok"]
    assert history(parent, "undo", "u1")["ok"]
    fresh_server.stop(signal.SIGKILL)
    fresh_server.start()
    assert room.item_ids() == ["a", "b"]
    parent = room.user("parent")
    assert parent.state["settings"] == room_settings(child_may_draw=False, parent_may_play=True)
    # The redo stack came back too.
    assert history(parent, "redo", "r1")["ok"]
    assert room.item_ids() == ["a", "b", "c"]
    child = room.user("child")
    refused = child.op("stroke", stroke(sid="x"))
    assert refused["ok"] is False and refused["code"] == "forbidden"
    wait_for(lambda: child.received("error"), what="error event")


def test_PRES1_someone_who_left_just_before_a_restart_is_shown_away_after_it(fresh_server,
                                                                              room_factory):
    """Presence is stored (room ops): a child whose socket closed inside the grace
    period when the server restarted must not stay "online" forever."""
    room = room_factory(fresh_server)
    child = room.user("child")
    child.close()
    fresh_server.restart(signal.SIGTERM)
    therapist = room.user("therapist")

    def child_away():
        for ev in reversed(therapist.received("presence")):
            kids = [p for p in ev["participants"] if p["role"] == "child"]
            return kids and kids[0]["online"] is False
    wait_for(child_away, timeout=30, what="the child shown away after the grace period")
