"""RATE1 / RATE2 / EPH2: limits are per participant connection. A flood of ops is
refused with rate_limited (the excess, not everything); excess ephemeral signals
are dropped quietly; sustained abuse and oversized packets close that one socket
(with a bye where the server chooses to) while everybody else goes on."""
from tests.support import stroke, wait_for

from .conftest import assert_alive, new_id, send_op, wait_op

FLOOD = 300


def test_RATE1_op_flood_is_rate_limited_server_stays_up(server, room, trio):
    therapist, child, parent = trio
    acks = {}
    for k in range(FLOOD):
        op_id = f"flood-{k}"
        child.sio.emit("op", {"op_id": op_id, "a": "canvas", "t": "stroke",
                              "d": stroke(sid=f"f{k}")},
                       callback=lambda ack, op_id=op_id: acks.__setitem__(op_id, ack))
    wait_for(lambda: len(acks) == FLOOD, timeout=30, what="an ack for every flooded op")
    accepted = [k for k, a in acks.items() if a["ok"]]
    limited = [a for a in acks.values() if not a["ok"]]
    assert limited, "nothing was rate limited"
    assert {a["code"] for a in limited} == {"rate_limited"}
    assert all(a["op_id"].startswith("flood-") and a["reason"] for a in limited)
    assert 60 <= len(accepted) < FLOOD  # at least the burst allowance
    errors = wait_for(lambda: len(child.received("error")) >= len(limited)
                      and child.received("error"), what="error events")
    assert {e["code"] for e in errors} == {"rate_limited"}
    assert child.sio.connected and child.received("bye") == []
    # The others got exactly the accepted ops, in order; the therapist still works.
    marker = send_op(therapist, "page.bg", {"page": "p1", "bg": "night"}, op_id="after-flood")
    assert marker["ok"], marker
    wait_op(parent, "after-flood")
    got = [o["op_id"] for o in parent.received("op")]
    assert sorted(got[:-1]) == sorted(accepted) and got[-1] == "after-flood"
    assert len(room.item_ids()) == len(accepted)
    # The child may draw again once the bucket refills.
    assert send_op(child, "stroke", stroke(sid="calm-again"))["ok"]
    assert_alive(server)


def test_RATE2_sustained_abuse_gets_bye_and_disconnect(server, room, trio):
    therapist, child, parent = trio
    for k in range(600):
        child.sio.emit("op", "garbage")
    bye = wait_for(lambda: child.received("bye"), timeout=30, what="bye")[0]
    assert bye["code"] == "rate_limited" and bye["reason"]
    wait_for(lambda: not child.sio.connected, what="abuser disconnected")
    assert therapist.sio.connected and parent.sio.connected
    assert therapist.received("bye") == parent.received("bye") == []
    assert send_op(therapist, "stroke", stroke(sid="fine"))["ok"]
    assert room.item_ids() == ["fine"]
    # Abuse is not a ban: the child's next connection works.
    again = room.user("child")
    assert send_op(again, "stroke", stroke(sid="back"))["ok"]
    assert_alive(server)


def test_EPH2_signal_flood_is_dropped_not_disconnected(room, trio):
    therapist, child, parent = trio
    for k in range(300):
        child.sio.emit("eph", {"a": "canvas", "k": "cursor", "page": "p1", "x": k % 1600, "y": 1})
    # Relayed (coalesced, the excess dropped), no error flood, no disconnect.
    wait_for(lambda: therapist.received("eph"), what="some cursor relayed")
    marker = new_id("m-")
    assert send_op(child, "stroke", stroke(sid=marker), op_id=marker)["ok"]
    wait_op(therapist, marker)
    assert child.sio.connected and child.received("bye") == []
    assert child.received("error") == []
    # Once the burst is spent, later signals are relayed again.
    wait_for(lambda: (child.sio.emit("eph", {"a": "canvas", "k": "cursor", "page": "p1",
                                             "x": 1234, "y": 5}) or True) and
             any(it.get("x") == 1234 for ev in parent.received("eph") for it in ev["items"]),
             interval=0.1, what="cursor relayed after the flood")


def test_RATE2_packet_over_1MB_closes_only_that_socket(server, room, trio):
    therapist, child, parent = trio
    ws = child.sio.eio.ws  # the client library leaves it open when the server drops it
    child.sio.emit("op", {"op_id": "huge", "a": "canvas", "t": "stroke",
                          "d": stroke(sid="huge", color="#" + "f" * (1100 * 1024))})
    wait_for(lambda: not child.sio.connected, timeout=15, what="the oversized sender closed")
    ws.shutdown()
    assert therapist.sio.connected and parent.sio.connected
    marker = send_op(therapist, "stroke", stroke(sid="ok"), op_id="after-huge")
    assert marker["ok"], marker
    wait_op(parent, "after-huge")
    assert room.item_ids() == ["ok"]
    assert_alive(server)
