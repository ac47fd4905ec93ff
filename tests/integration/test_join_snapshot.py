"""Late joiners over real sockets (JOIN1, JOIN2): the snapshot text encoded once per
seq reaches every joiner whole and in order with the live ops; packed number lists
only for a client that asks, and they decode to the very same state."""

from tests.integration.conftest import draw_strokes, send_op, wait_op
from tests.packing import unpacked
from tests.support import SocketUser, stroke, wait_for


def late_joiner(room, role="parent", since=-1, pack=None):
    """A fresh socket for `role` that syncs by hand; returns (user, ack)."""
    u = room.user(role, sync=False)
    msg = {"since": since}
    if pack is not None:
        msg["pack"] = pack
    ack = u.call("sync", msg)
    assert ack["ok"], ack
    wait_for(lambda: u.state is not None, what="state")
    return u, ack


def long_stroke(sid, n=120):
    d = stroke(sid=sid, n=n)
    d["pts"] = [round(v + 0.1 * (i % 7), 1) if i % 3 != 2 else round(0.3 + 0.01 * (i % 40), 2)
                for i, v in enumerate(d["pts"])]
    return d


def test_JOIN1_late_joiners_at_one_seq_get_the_same_full_snapshot(room):
    # Both are in the room already (another tab each), so joining again records no
    # presence op: both join at the seq of the last stroke.
    room.user("parent"), room.user("therapist")
    drawn = draw_strokes(room, "child", 30)
    first, ack1 = late_joiner(room, "parent")
    second, ack2 = late_joiner(room, "therapist")
    assert ack1["seq"] == ack2["seq"] == drawn[-1][0]
    assert first.state == second.state
    assert first.state["mode"] == "snapshot" and first.state["seq"] == drawn[-1][0]
    items = first.state["activities"]["canvas"]["pages"][0]["items"]
    assert [it["id"] for it in items] == [sid for _, sid in drawn]
    assert all(isinstance(it["pts"], list) for it in items), "plain lists without pack"


def test_JOIN1_a_joiner_after_a_new_op_sees_it_and_then_the_live_ops(room):
    child = room.user("child")
    assert send_op(child, "stroke", stroke(sid="one"))["ok"]
    early, _ = late_joiner(room, "parent")
    two = send_op(child, "stroke", stroke(sid="two"))
    assert two["ok"], two
    late, ack = late_joiner(room, "therapist")
    ids = [it["id"] for it in late.state["activities"]["canvas"]["pages"][0]["items"]]
    # The therapist's own presence op follows "two".
    assert (ack["seq"], late.state["seq"], ids) == (two["seq"] + 1, two["seq"] + 1, ["one", "two"])
    assert [it["id"] for it in early.state["activities"]["canvas"]["pages"][0]["items"]] == ["one"]
    # Both are in the live room: the next op reaches them, with the next seq.
    three = send_op(child, "stroke", stroke(sid="three"), op_id="op-three")
    assert three["ok"] and three["seq"] == ack["seq"] + 1, three
    for u in (early, late):
        assert wait_op(u, "op-three")["seq"] == three["seq"]


def test_JOIN1_reconnect_with_since_gets_the_missed_ops_not_a_snapshot(room):
    child = room.user("child")
    assert send_op(child, "stroke", stroke(sid="a"))["ok"]
    _, first = late_joiner(room, "parent", pack=1)         # caches a packed snapshot at its seq
    b = send_op(child, "stroke", stroke(sid="b"))
    assert b["ok"], b
    back, ack = late_joiner(room, "parent", since=first["seq"], pack=1)
    assert back.state["mode"] == "ops" and ack["seq"] == b["seq"]
    assert [o["d"]["id"] for o in back.state["ops"]] == ["b"]


def test_JOIN2_packed_snapshot_only_when_asked_and_it_decodes_to_the_plain_one(room):
    child = room.user("child")
    # Parent and therapist are in already, so the joiners below add no presence op and
    # all four snapshots are at one seq.
    room.user("parent"), room.user("therapist")
    for k in range(4):
        assert send_op(child, "stroke", long_stroke(f"L{k}"))["ok"]
    plain, _ = late_joiner(room, "parent")
    packed, _ = late_joiner(room, "therapist", pack=1)
    other, _ = late_joiner(room, "parent", pack=2)          # a version this server does not know
    bool_pack, _ = late_joiner(room, "parent", pack=True)
    assert "packed" not in plain.state and "packed" not in other.state and "packed" not in bool_pack.state
    assert other.state == bool_pack.state == plain.state
    assert packed.state["packed"] == 1
    items = packed.state["activities"]["canvas"]["pages"][0]["items"]
    assert all(set(it["pts"]) == {"#n"} for it in items)
    assert unpacked({k: v for k, v in packed.state.items() if k != "packed"}) == plain.state


def test_JOIN1_many_joiners_while_someone_draws_each_get_a_consistent_start(room):
    """Every joiner's snapshot plus the ops it receives afterwards is the whole history,
    with no gap and no duplicate, while strokes keep arriving."""
    child = room.user("child")
    joiners = []
    for k in range(6):
        assert send_op(child, "stroke", stroke(sid=f"k{k}"))["ok"]
        u = SocketUser(room.parent, room.id)
        room.users.append(u)
        u.connect(sync=False)
        u.sio.emit("sync", {"since": -1, "pack": 1})
        joiners.append(u)
    assert send_op(child, "stroke", stroke(sid="last"))["ok"]
    final = [f"k{k}" for k in range(6)] + ["last"]
    for u in joiners:
        wait_for(lambda: u.state is not None, what="state")

        def seen():
            ids = [it["id"] for it in u.state["activities"]["canvas"]["pages"][0]["items"]]
            ops = [o for o in u.received("op") if o["seq"] > u.state["seq"]]
            return ids + [o["d"]["id"] for o in sorted(ops, key=lambda o: o["seq"])]
        wait_for(lambda: seen() == final, what=f"{final}, got {seen()}")
