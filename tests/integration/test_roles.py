"""AUTH1, AUTH2, VER1, SET1 and the role rules over real sockets: who may do what is
decided by the connection (cookie + invite) and the room settings, never by what a
client writes in an event."""
import pytest

from activities.contract.protocol import PROTOCOL_VERSION
from tests.support import Actions, stroke, wait_for

from .conftest import (Room, connect_error, connect_refusal, mark, events_since, new_id, room_settings,
                       send_op, wait_op)


def refused(ack, code, user):
    """A negative ack with `code`, mirrored by an error event to the sender."""
    assert ack["ok"] is False and ack["code"] == code, ack
    err = wait_for(lambda: [e for e in user.received("error") if e["code"] == code],
                   what=f"error event {code}")[-1]
    assert err["reason"]
    return err


def test_ROLE_child_may_not_clear(room, trio):
    therapist, child, parent = trio
    assert send_op(child, "stroke", stroke(sid="mine"))["ok"]
    ack = child.op("clear", {"page": "p1"}, op_id="child-clear")
    err = refused(ack, "forbidden", child)
    assert err["event"] == "op" and err["op_id"] == "child-clear" == ack["op_id"]
    assert room.item_ids() == ["mine"]
    assert not ops_named(therapist, "child-clear")


def ops_named(user, op_id):
    return [o for o in user.received("op") if o["op_id"] == op_id]


def test_SET1_parent_plays_only_when_the_therapist_allows(room, trio):
    therapist, child, parent = trio
    refused(parent.op("stroke", stroke(sid="p-early")), "forbidden", parent)
    before = mark(parent)
    assert therapist.call("settings", {"parent_may_play": True}) == {"ok": True}
    for u in (therapist, child, parent):
        ev = wait_for(lambda: [d for d in u.received("room")
                               if d["settings"]["parent_may_play"]], what="room settings")
        assert ev[-1] == {"settings": room_settings(parent_may_play=True)}
    assert [e for e, _ in events_since(parent, before) if e == "room"]
    ok = send_op(parent, "stroke", stroke(sid="p-ok"))
    assert ok["ok"], ok
    assert therapist.call("settings", {"parent_may_play": False})["ok"]
    refused(parent.op("stroke", stroke(sid="p-late")), "forbidden", parent)
    assert room.item_ids() == ["p-ok"]


def test_SET1_child_may_draw_off_stops_strokes_and_previews_not_cursors(room, trio):
    therapist, child, parent = trio
    assert therapist.call("settings", {"child_may_draw": False})["ok"]
    wait_for(lambda: child.received("room"), what="room event")
    refused(child.op("stroke", stroke(sid="c")), "forbidden", child)
    child.sio.emit("eph", {"a": "canvas", "k": "stroke", "id": "c", "page": "p1", "tool": "pen",
                           "color": "#000000", "size": 8, "from": 0, "pts": [1, 1, 0.5]})
    err = wait_for(lambda: [e for e in child.received("error") if e["event"] == "eph"],
                   what="eph refusal")[-1]
    assert err["code"] == "forbidden"
    child.sio.emit("eph", {"a": "canvas", "k": "cursor", "page": "p1", "x": 3, "y": 4})
    got = wait_for(lambda: [it for ev in therapist.received("eph") for it in ev["items"]],
                   what="cursor relayed")
    assert [it["k"] for it in got] == ["cursor"]
    assert room.item_ids() == []


@pytest.mark.parametrize("change", [{"child_may_draw": "yes"}, {"admin": True}, {}, [1], None,
                                    {"perms": {"admin": {"canvas": True}}},
                                    {"perms": {"child": {"no-such-activity": True}}},
                                    {"perms": {"parent": {"canvas": "yes"}}}])
def test_SET1_bad_settings_are_invalid(room, change):
    therapist = room.user("therapist")
    refused(therapist.call("settings", change), "invalid", therapist)
    assert room.snapshot()["settings"] == room_settings()


def test_SET1_only_the_therapist_changes_settings(room, trio):
    therapist, child, parent = trio
    refused(child.call("settings", {"child_may_draw": True}), "forbidden", child)
    refused(parent.call("settings", {"parent_may_play": True}), "forbidden", parent)
    assert room.snapshot()["settings"]["parent_may_play"] is False
    assert therapist.received("room") == []


def test_UNDO1_child_may_not_undo_for_the_therapist(room, trio):
    therapist, child, parent = trio
    assert send_op(therapist, "stroke", stroke(sid="t1"))["ok"]
    ack = child.call("history", {"op_id": "h1", "a": "canvas", "action": "undo",
                                 "target": therapist.me})
    refused(ack, "forbidden", child)
    assert room.item_ids() == ["t1"]


@pytest.mark.parametrize("field,value", [("role", "therapist"), ("by", "th-1"),
                                         ("room", "another-room"), ("seq", 1)])
def test_AUTH1_forged_envelope_fields_are_refused(room, trio, field, value):
    therapist, child, parent = trio
    msg = {"op_id": "forged", "a": "canvas", "t": "clear", "d": {"page": "p1"}, field: value}
    assert send_op(therapist, "stroke", stroke(sid="keep"))["ok"]
    before = mark(therapist)
    ack = child.call("op", msg)
    refused(ack, "bad_event", child)
    ack = child.call("history", {"op_id": "forged-h", "a": "canvas", "action": "undo",
                                 "target": child.me, field: value})
    assert ack["ok"] is False and ack["code"] == "bad_event"
    assert not [e for e, _ in events_since(therapist, before) if e in ("op", "eph")]
    assert room.item_ids() == ["keep"]


def test_AUTH2_guest_cannot_reach_another_room(server, room):
    other = Room(server)  # another therapist's room
    try:
        err = connect_error(room.child, other.id)
        assert err == "not_authenticated"
        # Nor the therapist of one room another therapist's room.
        assert connect_error(room.therapist, other.id) == "not_authenticated"
        assert connect_error(room.child, "no-such-room") == "not_authenticated"
    finally:
        other.close()


def test_AUTH2_socket_without_cookies_is_refused(server, room):
    assert connect_error(Actions(server.url), room.id) == "not_authenticated"


@pytest.mark.parametrize("version", [0, 2, "1", None])
def test_VER1_version_mismatch_is_refused_at_connect(room, version):
    assert connect_error(room.child, room.id, version=version) == "version_mismatch"


@pytest.mark.parametrize("case", ["version", "auth", "revoked"])
def test_VER1_refusal_carries_code_and_reason_as_data(room, case):
    """The browser reads `err.data.code` / `err.data.reason` (connection.js
    connectErrorCode, onConnectError), i.e. ConnectionRefusedError(message, {code,
    reason}); the reason is what the child is shown."""
    if case == "revoked":
        assert revoke(room, "child").ok
    err = connect_refusal(room.child if case != "auth" else Actions(room.base), room.id,
                          version=0 if case == "version" else PROTOCOL_VERSION)
    code = {"version": "version_mismatch", "auth": "not_authenticated", "revoked": "revoked"}[case]
    assert isinstance(err.get("data"), dict), err
    assert err["data"]["code"] == code and err["data"]["reason"], err


def revoke(room, role):
    return room.therapist.post_form("/dashboard", f"/rooms/{room.id}/invites/{role}/revoke", {})


def test_AUTH2_revoked_link_disconnects_and_cannot_reconnect(room, trio):
    therapist, child, parent = trio
    r = revoke(room, "child")
    assert r.ok, r.status_code
    bye = wait_for(lambda: child.received("bye"), what="bye")[0]
    assert bye["code"] == "revoked" and bye["reason"]
    wait_for(lambda: not child.sio.connected, what="child disconnected")
    assert connect_error(room.child, room.id) == "revoked"
    assert room.child.get(room.links["child"].replace(room.base, "")).status_code == 410
    # Nobody else was touched.
    assert therapist.sio.connected and parent.sio.connected
    assert parent.received("bye") == [] and therapist.received("bye") == []
    # (named by op_id: the therapist's last op received may be a room op)
    assert send_op(therapist, "stroke", stroke(sid="still-here"), op_id="still-here")["ok"]
    wait_op(parent, "still-here")


def test_AUTH2_new_link_switches_off_the_old_one(room, trio):
    therapist, child, parent = trio
    r = room.therapist.post_form("/dashboard", f"/rooms/{room.id}/invites/child", {})
    assert r.ok
    assert wait_for(lambda: child.received("bye"), what="bye")[0]["code"] == "revoked"
    wait_for(lambda: not child.sio.connected, what="child disconnected")
    assert parent.sio.connected and parent.received("bye") == []


def test_AUTH2_deleting_the_room_kicks_everybody(room, trio):
    therapist, child, parent = trio
    r = room.therapist.post_form("/dashboard", f"/rooms/{room.id}/delete", {})
    assert r.ok
    for u in trio:
        bye = wait_for(lambda: u.received("bye"), what=f"bye to {u.role}")[0]
        assert bye["code"] == "session_ended"
        wait_for(lambda: not u.sio.connected, what=f"{u.role} disconnected")
    for who in (room.child, room.therapist):
        assert connect_error(who, room.id) in ("not_authenticated", "session_ended")


def test_AUTH1_each_participant_is_named_by_the_server(room, trio):
    therapist, child, parent = trio
    assert therapist.call("settings", {"parent_may_play": True})["ok"]
    seen = {}
    for u in trio:
        op_id = new_id("who-")
        assert send_op(u, "stroke", stroke(), op_id=op_id)["ok"]
        seen[u.role] = wait_op(therapist, op_id)["by"]
    assert seen == {"therapist": therapist.me, "child": child.me, "parent": parent.me}
    assert len(set(seen.values())) == 3
    roles = {p["id"]: p["role"] for p in therapist.received("presence")[-1]["participants"]}
    assert roles == {therapist.me: "therapist", child.me: "child", parent.me: "parent"}


def canvas_ids(state):
    return [it["id"] for p in state["activities"]["canvas"]["pages"] for it in p["items"]]


def test_ROUTE1_the_room_in_the_url_is_a_routing_hint_only(server, room):
    """A child whose connect URL says `?room=<another room>` (nginx routes on it) is
    still bound to the room of its invite: it sees, draws into and hears only that."""
    other = Room(server)       # another therapist's room
    try:
        theirs = other.user("therapist")
        assert send_op(theirs, "stroke", stroke(sid="theirs"))["ok"]
        ours = room.user("therapist")
        assert send_op(ours, "stroke", stroke(sid="ours"))["ok"]

        child = room.user("child", route=other.id)
        assert canvas_ids(wait_for(lambda: child.state, what="state")) == ["ours"]
        assert send_op(child, "stroke", stroke(sid="by-child"), op_id="by-child")["ok"]
        assert wait_op(ours, "by-child")
        assert send_op(theirs, "stroke", stroke(sid="theirs-2"), op_id="theirs-2")["ok"]
        assert send_op(ours, "stroke", stroke(sid="ours-2"), op_id="ours-2")["ok"]
        wait_op(child, "ours-2")
        assert not ops_named(child, "theirs-2")
        assert room.item_ids() == ["ours", "by-child", "ours-2"]
        assert other.item_ids() == ["theirs", "theirs-2"]
    finally:
        other.close()
