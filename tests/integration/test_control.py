"""CTL1-CTL6 and PERM1 over real sockets: the waiting room, freeze, private child
time, removing a guest (and their link), the end of a session, guests trying
therapist-only events, and the permission matrix (op type x role x setting)."""
import itertools

import pytest

from activities.contract.protocol import E_FORBIDDEN, E_FROZEN, E_PRIVATE
from tests.support import stroke, wait_for

from .conftest import Room, connect_refusal, full_log, new_id, send_op


@pytest.fixture
def wroom(server):
    """A room with the waiting room on (the dashboard's default)."""
    r = Room(server, waiting_room=True)
    yield r
    r.close()


def control(user, action, **body):
    return user.call("control", {"op_id": new_id("c-"), "action": action, **body})


def test_CTL1_a_guest_waits_knocks_and_comes_in_when_admitted(wroom):
    therapist = wroom.user("therapist")
    child = wroom.user("child", sync=False)
    ack = child.call("sync", {"since": -1})
    assert (ack["ok"], ack["code"]) == (False, "waiting") and ack["reason"]
    assert child.state is None, "a waiting guest sees nothing of the room"
    knock = wait_for(lambda: therapist.received("lobby"), what="knock")[0]["knock"]
    assert (knock["name"], knock["role"]) == ("Sam", "child")
    # Drawing while waiting is refused: not joined.
    assert child.op("stroke", stroke())["ok"] is False
    assert control(therapist, "admit", pid=knock["id"])["ok"]
    wait_for(lambda: {"admitted": knock["id"]} in child.received("lobby"), what="admitted")
    ack = child.call("sync", {"since": -1})
    assert ack["ok"], ack
    wait_for(lambda: child.state is not None, what="state")
    assert send_op(child, "stroke", stroke())["ok"]


def test_CTL3_freeze_pauses_guests_ops_and_previews_and_the_therapist_goes_on(room, trio):
    therapist, child, parent = trio
    assert control(therapist, "settings", changes={"freeze": True})["ok"]
    wait_for(lambda: any(r["settings"]["freeze"] for r in child.received("room")), what="freeze")
    before = room.snapshot()["activities"]["canvas"]
    ack = child.op("stroke", stroke())
    assert (ack["ok"], ack["code"]) == (False, E_FROZEN)
    child.sio.emit("eph", {"a": "canvas", "k": "stroke", "id": "x1", "pts": [1, 2, 0.5],
                           "color": "#000000", "tool": "pen", "size": 8, "page": "p1"})
    assert send_op(therapist, "stroke", stroke(), op_id="t-while-frozen")["ok"]
    wait_for(lambda: [o for o in child.received("op") if o["op_id"] == "t-while-frozen"], what="op")
    assert not [e for e in therapist.received("eph") if e.get("by") == child.me]
    after = room.snapshot()["activities"]["canvas"]
    assert len(after["pages"][0]["items"]) == len(before["pages"][0]["items"]) + 1
    assert control(therapist, "settings", changes={"freeze": False})["ok"]
    assert send_op(child, "stroke", stroke())["ok"]


def test_CTL5_private_time_hides_the_room_from_the_parent_and_brings_them_back(room, trio):
    therapist, child, parent = trio
    room.therapist  # noqa: B018
    assert control(therapist, "settings", changes={"private": True})["ok"]
    wait_for(lambda: any(r["settings"]["private"] for r in parent.received("room")), what="private")
    seen = len(parent.received("op"))
    drawn = stroke()
    assert send_op(child, "stroke", drawn, op_id="secret")["ok"]
    assert parent.op("stroke", stroke())["code"] in (E_PRIVATE, "not_joined")
    # The parent's socket left the room: the child's stroke does not reach it.
    wait_for(lambda: [o for o in therapist.received("op") if o["op_id"] == "secret"], what="op")
    assert not [o for o in parent.received("op")[seen:] if o["op_id"] == "secret"]
    ack = parent.call("sync", {"since": parent.seq})
    assert (ack["ok"], ack["code"]) == (False, E_PRIVATE)
    assert control(therapist, "settings", changes={"private": False})["ok"]
    wait_for(lambda: {"resume": True} in parent.received("lobby"), what="resume")
    states = len(parent.received("state"))
    assert parent.call("sync", {"since": 0})["ok"]
    # READ1: not the ops of private time, the room as it is now (the stroke is on it).
    back = wait_for(lambda: parent.received("state")[states:], what="state after private time")[0]
    assert back["mode"] == "snapshot"
    assert drawn["id"] in [it["id"] for it in back["activities"]["canvas"]["pages"][0]["items"]]


def test_CTL4_removing_a_guest_with_their_link_closes_it_for_good(room, trio):
    therapist, child, parent = trio
    assert control(therapist, "remove", pid=child.me, revoke=True)["ok"]
    bye = wait_for(lambda: child.received("bye"), what="bye")[0]
    assert bye["code"] in ("removed", "revoked")
    wait_for(lambda: not child.sio.connected, what="disconnect")
    refusal = connect_refusal(room.child, room.id)
    assert "revoked" in str(refusal)
    assert parent.sio.connected


def test_CTL4_a_removed_guest_reconnecting_with_the_old_link_is_sent_away(room, trio):
    therapist, child, parent = trio
    assert control(therapist, "remove", pid=parent.me)["ok"]
    wait_for(lambda: parent.received("bye"), what="bye")
    again = room.user("parent", sync=False)
    ack = again.call("sync", {"since": -1})
    assert (ack["ok"], ack["code"]) == (False, "removed")
    assert again.state is None
    assert f"refused entry of removed parent {parent.me} in room {room.id}" in full_log(room.srv)


def test_CTL4_ending_the_session_says_goodbye_to_guests_and_keeps_the_therapist(room, trio):
    therapist, child, parent = trio
    assert send_op(child, "stroke", stroke())["ok"]
    ack = control(therapist, "end")
    assert ack["ok"] and "ended" not in ack
    for u in (child, parent):
        bye = wait_for(lambda u=u: u.received("bye"), what="goodbye")[0]
        assert bye["code"] == "session_ended"
    assert therapist.sio.connected
    assert send_op(therapist, "stroke", stroke())["ok"]


@pytest.mark.parametrize("action,body", [
    ("settings", {"changes": {"freeze": True}}), ("settings", {"changes": {"private": True}}),
    ("admit", {"pid": "x"}), ("remove", {"pid": "x"}), ("end", {}), ("view", {"activity": "canvas"}),
])
def test_CTL2_guests_emitting_therapist_events_are_refused_with_no_effect(room, trio, action, body):
    therapist, child, parent = trio
    before = room.snapshot()
    for guest in (child, parent):
        ack = control(guest, action, **body)
        assert (ack["ok"], ack["code"]) == (False, E_FORBIDDEN)
        err = wait_for(lambda g=guest: [e for e in g.received("error") if e["event"] == "control"],
                       what="error event")[-1]
        assert err["code"] == E_FORBIDDEN
    after = room.snapshot()
    assert (after["activities"], after["settings"]) == (before["activities"], before["settings"])
    assert child.sio.connected and parent.sio.connected
    # ...and logged, naming who tried it in which room.
    log = full_log(room.srv)
    for guest in (child, parent):
        assert f"refused control {action!r} from {guest.role} {guest.me} in room {room.id}" in log


# ------------------------------------------------------------------ PERM1 matrix

def guest_ops(therapist):
    """One op per guest-playable op type of each activity, with what it needs first."""
    return {
        ("canvas", "stroke"): lambda: stroke(),
        ("canvas", "stamp"): lambda: {"page": "p1", "id": new_id("st"), "stamp": "star",
                                      "x": 400, "y": 300, "size": 96},
        ("sandtray", "place"): lambda: {"id": new_id("f"), "fig": "dragon", "x": 20, "y": 20,
                                        "rot": 0, "scale": 1, "flip": False},
        ("checkin", "checkin"): lambda: {"id": new_id("c"), "value": 3, "moment": "any"},
        ("stories", "page"): lambda: {"page": 1},
    }


# Who may do each op when everything is allowed (the therapist's table, by hand):
# the check-in is the child's own; everything else both guests may.
ALLOWED_WHEN_ON = {("checkin", "checkin"): {"child"}}
SETTINGS = {
    "all on": {"child_may_draw": True, "parent_may_play": True},
    "master off": {"child_may_draw": False, "parent_may_play": False},
    "activity off": "perm-off",
    "frozen": {"freeze": True},
    "private time": {"private": True},
}


def test_PERM1_every_guest_op_x_role_x_setting(room, trio):
    therapist, child, parent = trio
    assert send_op(therapist, "open", {"story": "worried-school"}, a="stories")["ok"]
    ops = guest_ops(therapist)
    for (case, change), ((act, t), make) in itertools.product(SETTINGS.items(), ops.items()):
        reset = {"child_may_draw": True, "parent_may_play": True, "freeze": False, "private": False,
                 "perms": {"child": {act: True}, "parent": {act: True}}}
        assert control(therapist, "settings", changes=reset)["ok"]
        if change == "perm-off":
            change = {"perms": {"child": {act: False}, "parent": {act: False}}}
        assert control(therapist, "settings", changes=change)["ok"]
        for role, user in (("child", child), ("parent", parent)):
            # Private time pauses the parent only: the child plays on.
            on = case == "all on" or (case == "private time" and role == "child")
            allowed = on and role in ALLOWED_WHEN_ON.get((act, t), {"child", "parent"})
            before = room.snapshot()["activities"][act]
            ack = send_op(user, t, make(), a=act)
            after = room.snapshot()["activities"][act]
            label = f"{case}: {role} {act}.{t}"
            if allowed:
                assert ack["ok"], (label, ack)
            else:
                assert ack["ok"] is False, (label, ack)
                assert ack["code"] in (E_FORBIDDEN, E_FROZEN, E_PRIVATE, "not_joined"), (label, ack)
                assert after == before, label
            if role == "parent" and case == "private time":
                # Bring the parent back for the next case.
                assert control(therapist, "settings", changes={"private": False})["ok"]
                wait_for(lambda: {"resume": True} in parent.received("lobby"), what="resume")
                assert parent.call("sync", {"since": -1})["ok"]
                parent.events.clear()


def test_CTL4_ending_the_session_during_private_time_sends_the_parent_home_too(room, trio):
    therapist, child, parent = trio
    assert control(therapist, "settings", changes={"private": True})["ok"]
    wait_for(lambda: any(r["settings"]["private"] for r in parent.received("room")), what="private")
    assert control(therapist, "end")["ok"]
    for u in (child, parent):
        bye = wait_for(lambda u=u: u.received("bye"), what="goodbye")[0]
        assert bye["code"] == "session_ended"
