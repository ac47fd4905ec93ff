"""READ1-READ3 over real sockets: guests' sockets record every event they receive
while the room goes through private child time, a removal, a revoked link, the end
of the session and a new one; then the test reads what they got. A guest never
receives what their role may not see in their current session, whatever `since`
they send (DESIGN.md §9)."""
import json
import re

from tests.support import Actions, SocketUser, stroke, wait_for

from .conftest import connect_refusal, events_since, mark, new_id, send_op


def control(user, action, **body):
    ack = user.call("control", {"op_id": new_id("c-"), "action": action, **body})
    assert ack["ok"], ack
    return ack


def done(user, t, d, a="canvas"):
    ack = send_op(user, t, d, a=a)
    assert ack["ok"], ack
    return ack


def last_seen(user):
    """The last seq a client knows: what a browser sends as `since`."""
    return max([o["seq"] for o in user.received("op")] + [s["seq"] for s in user.received("state")])


def sync_again(user, since):
    """`sync` on the open socket; returns (ack, the `state` it sent or None)."""
    before = len(user.received("state"))
    ack = user.call("sync", {"since": since})
    if not ack["ok"]:
        return ack, None
    return ack, wait_for(lambda: user.received("state")[before:], what="state")[0]


def everything(user):
    with user.lock:
        return json.dumps(user.events)


def checkin_ids(state):
    return [e["id"] for e in state["activities"]["checkin"]["entries"]]


def new_link(room, role):
    """The therapist makes a new invite link for `role` on the dashboard."""
    r = room.therapist.post_form("/dashboard", f"/rooms/{room.id}/invites/{role}", {})
    assert r.ok, r.status_code
    links = dict(re.findall(r'value="([^"]+/j/[^"]+)" data-link="(\w+)"', r.text))
    return {k: v for v, k in links.items()}[role]


def test_READ1_READ2_READ3_guests_receive_nothing_they_should_not(room, trio):
    therapist, child, parent = trio
    done(child, "checkin", {"id": "week1", "value": 4, "moment": "start"}, a="checkin")

    # Private child time: the parent waits; the child draws and checks in, the
    # therapist clears the board and deletes the check-in before the parent returns.
    start = control(therapist, "settings", changes={"private": True})["seq"]
    wait_for(lambda: any(r["settings"]["private"] for r in parent.received("room")), what="private")
    before_private, since = mark(parent), last_seen(parent)
    done(child, "stroke", stroke(sid="secret-stroke"))
    done(child, "checkin", {"id": "secret-feeling", "value": 1, "moment": "any"}, a="checkin")
    child.sio.emit("eph", {"a": "canvas", "k": "cursor", "page": "p1", "x": 5, "y": 5})
    wait_for(lambda: [e for e in therapist.received("eph") if e["by"] == child.me],
             what="the child's cursor at the therapist")
    done(therapist, "clear", {"page": "p1"})
    done(therapist, "checkin.delete", {"id": "secret-feeling"}, a="checkin")
    end = control(therapist, "settings", changes={"private": False})["seq"]
    wait_for(lambda: {"resume": True} in parent.received("lobby"), what="resume")
    during = events_since(parent, before_private)
    assert [e for e, _ in during] == ["lobby"], "no op, eph or presence of private time"
    # Back with the last seq it saw (and with a guessed 0): the room as it is now.
    for guess in (since, 0):
        ack, back = sync_again(parent, guess)
        assert ack["ok"] and back["mode"] == "snapshot", (guess, back["mode"])
        assert back["activities"]["canvas"]["pages"][0]["items"] == []
        assert checkin_ids(back) == ["week1"]
    assert not [o for o in parent.received("op") if start < o["seq"] < end]
    assert "secret" not in everything(parent)

    # Removed: the parent's socket is closed and a new one gets nothing of the room.
    control(therapist, "remove", pid=parent.me)
    wait_for(lambda: parent.received("bye"), what="bye")
    after_removal = mark(parent)
    wait_for(lambda: not parent.sio.connected, what="disconnect")
    parent.reconnect(sync=False)
    ack, back = sync_again(parent, last_seen(parent))
    assert (ack["ok"], ack["code"], back) == (False, "removed", None)
    done(child, "checkin", {"id": "while-removed", "value": 3, "moment": "any"}, a="checkin")

    # Revoked: the child's link is off for good.
    control(therapist, "remove", pid=child.me, revoke=True)
    wait_for(lambda: child.received("bye"), what="bye")
    after_revocation = mark(child)
    wait_for(lambda: not child.sio.connected, what="disconnect")
    assert "revoked" in str(connect_refusal(room.child, room.id))
    last_of_session = control(therapist, "end")["seq"]

    # The next session: a new child on a new link, and the parent again, each with a
    # `since` from the earlier session.
    newcomer = Actions(room.base)
    assert newcomer.join(new_link(room, "child"), name="Sam") == room.id
    kid = SocketUser(newcomer, room.id)
    room.users.append(kid)
    kid.connect(since=0)
    wait_for(lambda: kid.state is not None, what="state")
    assert kid.state["mode"] == "snapshot" and checkin_ids(kid.state) == []
    parent.reconnect(since=last_seen(parent))
    wait_for(lambda: parent.received("state")[-1]["seq"] > last_of_session, what="state")
    back = parent.received("state")[-1]
    assert back["mode"] == "snapshot" and checkin_ids(back) == []
    done(therapist, "stroke", stroke(sid="week2"))
    wait_for(lambda: [o for o in kid.received("op") if o["d"].get("id") == "week2"], what="op")

    assert not [o for o in kid.received("op") if o["seq"] <= last_of_session]
    for word in ("week1", "secret", "while-removed"):
        assert word not in everything(kid), word
    for word in ("secret", "while-removed"):
        assert word not in everything(parent), word
    removed = [e for e, _ in events_since(parent, after_removal)]
    assert set(removed[:removed.index("state")]) <= {"bye"}, removed
    assert events_since(child, after_revocation) == []
