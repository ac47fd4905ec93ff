"""Engine.join with snapshots encoded once per seq (JOIN1) and packed for clients
that ask (JOIN2): what each joiner receives, and that an op landing while a snapshot
is encoded outside the room lock never slips between the state and the live room."""
import json

import pytest

from activities.registry import build_registry
from rooms.core import wire
from rooms.core.engine import Engine
from activities.contract.protocol import CHILD, THERAPIST
from tests.packing import unpack_numbers
from tests.unit.payloads import history, line, op, stroke


@pytest.fixture
def sent():
    return []


@pytest.fixture
def engine(storage, sent):
    return Engine(storage, build_registry(), lambda room, ev, data: sent.append((ev, data)))


@pytest.fixture
def th(storage, room_id):
    return {"id": f"th-{storage.get_room(room_id)['therapist_id']}", "role": THERAPIST}


@pytest.fixture
def kid(storage, room_id):
    p = storage.create_participant(room_id, CHILD, "Sam", "fox")
    return {"id": p["id"], "role": CHILD}


def draw(engine, room_id, who, sid, **kw):
    ack = engine.submit(room_id, who, op("stroke", stroke(sid, pts=line(step=7), **kw)))
    assert ack["ok"], ack
    return ack["seq"]


def join(engine, room_id, since=-1, pack=False, during_send=None):
    """(seq, payload, wire text or None, order of calls) of one join."""
    calls = []

    def send_state(payload):
        calls.append("state")
        if during_send:
            during_send()
        calls.append(("payload", payload))

    seq = engine.join(room_id, since, send_state, lambda: calls.append("enter"), pack=pack)
    payloads = [c[1] for c in calls if isinstance(c, tuple)]
    assert [c for c in calls if not isinstance(c, tuple)] == ["state", "enter"]
    payload = payloads[0]
    return seq, payload, getattr(payload, "json", None)


def decoded(text):
    """The wire text as the browser ends up with it (packed lists unpacked)."""
    def hook(obj):
        if set(obj) == {wire.MARK}:
            return unpack_numbers(obj[wire.MARK])
        return obj
    return json.loads(text, object_hook=hook)


def test_JOIN1_two_joiners_at_the_same_seq_get_the_same_text_encoded_once(engine, room_id, th,
                                                                         monkeypatch):
    import rooms.core.joining
    monkeypatch.setattr(rooms.core.joining, "WIRE_CACHE_MIN", 0)    # as for a big board
    for k in range(3):
        draw(engine, room_id, th, f"s{k}")
    encodes = []
    real = wire.StateEncoder.encode_states
    monkeypatch.setattr(wire.StateEncoder, "encode_states",
                        lambda self, states: encodes.append(1) or real(self, states))
    seq1, p1, text1 = join(engine, room_id)
    seq2, p2, text2 = join(engine, room_id)
    assert seq1 == seq2 == 3
    assert text1 is not None and text1 == text2
    assert len(encodes) == 1, "the second joiner reuses the first one's encoding"
    assert json.loads(text1) == {"mode": "snapshot", "seq": 3,
                                 "activities": json.loads(json.dumps(p1["activities"])),
                                 "settings": p1["settings"]}
    assert p2["mode"] == "snapshot" and p2["activities"]["canvas"] == engine.state(room_id, "canvas")[1]


def test_JOIN1_a_small_room_keeps_no_snapshot_text_between_joins(engine, room_id, th):
    """Idle memory: a small room's text is rebuilt per joiner (cheap), not kept."""
    draw(engine, room_id, th, "s0")
    _, _, first = join(engine, room_id)
    live = engine.room(room_id)
    assert live.wire == {} and live.encoders == {}
    assert join(engine, room_id)[2] == first


def test_JOIN1_a_joiner_after_a_new_op_gets_the_new_op(engine, room_id, th, kid):
    draw(engine, room_id, th, "a")
    _, _, before = join(engine, room_id)
    draw(engine, room_id, kid, "b")
    engine.history(room_id, th, history("undo"))           # removes "a"
    seq, _, after = join(engine, room_id)
    state = json.loads(after)
    assert (seq, state["seq"]) == (3, 3)
    assert [it["id"] for it in state["activities"]["canvas"]["pages"][0]["items"]] == ["b"]
    with engine.locked(room_id) as live:
        assert state["activities"] == json.loads(json.dumps(live.states))
    assert before != after


def test_JOIN1_settings_changed_without_an_op_reach_the_next_joiner(engine, room_id, th):
    draw(engine, room_id, th, "a")
    _, _, first = join(engine, room_id)
    assert engine.set_settings(room_id, th, {"parent_may_play": True})["ok"]
    _, payload, second = join(engine, room_id)
    assert json.loads(first)["settings"]["parent_may_play"] is False
    assert json.loads(second)["settings"]["parent_may_play"] is True
    assert payload["settings"]["parent_may_play"] is True


def test_JOIN1_reconnect_with_since_gets_ops_not_a_snapshot(engine, room_id, th, kid):
    draw(engine, room_id, th, "a")
    join(engine, room_id, pack=True)
    draw(engine, room_id, kid, "b")
    seq, payload, text = join(engine, room_id, since=1, pack=True)
    assert text is None, "ops mode is not pre-encoded"
    assert (seq, payload["mode"], [o["d"]["id"] for o in payload["ops"]]) == (2, "ops", ["b"])


def test_JOIN1_an_op_while_the_snapshot_is_encoded_is_in_the_snapshot_sent(engine, room_id, th,
                                                                          kid, monkeypatch):
    """Encoding runs outside the room lock: an op committed meanwhile makes the join
    encode again, so the snapshot sent has the op and the seq the socket enters at."""
    draw(engine, room_id, th, "a")
    real = wire.StateEncoder.encode_states
    landed = []

    def encode_while_drawing(self, states):
        if not landed:
            landed.append(draw(engine, room_id, kid, "b"))   # takes the room lock: not held
        return real(self, states)
    monkeypatch.setattr(wire.StateEncoder, "encode_states", encode_while_drawing)
    seq, payload, text = join(engine, room_id, pack=True)
    assert landed == [2]
    state = decoded(text)
    assert seq == state["seq"] == payload["seq"] == 2
    assert [it["id"] for it in state["activities"]["canvas"]["pages"][0]["items"]] == ["a", "b"]


def test_JOIN1_a_room_that_never_stops_changing_still_gets_a_consistent_snapshot(
        engine, room_id, th, monkeypatch):
    """Ops land during every encoding outside the lock: the last round encodes under
    the lock (no op can land), so the join ends, consistent."""
    draw(engine, room_id, th, "s0")
    live = engine.room(room_id)
    real = wire.StateEncoder.encode_states
    rounds = []

    def busy(self, states):
        rounds.append(live.lock.locked())
        if not live.lock.locked():          # another participant draws meanwhile
            draw(engine, room_id, th, f"busy{len(rounds)}")
        return real(self, states)
    monkeypatch.setattr(wire.StateEncoder, "encode_states", busy)
    calls = []
    seq = engine.join(room_id, -1, calls.append, lambda: calls.append("enter"))
    assert rounds == [False, False, True]
    assert calls[1:] == ["enter"]
    state = json.loads(calls[0].json)
    assert state["seq"] == seq == 3
    ids = [it["id"] for it in state["activities"]["canvas"]["pages"][0]["items"]]
    assert ids == ["s0", "busy1", "busy2"]


def test_JOIN2_packed_only_for_a_client_that_asks_and_decodes_to_the_same_state(engine, room_id,
                                                                               th, kid):
    for k in range(5):
        draw(engine, room_id, th if k % 2 else kid, f"s{k}")
    _, plain_payload, plain_text = join(engine, room_id)
    _, packed_payload, packed_text = join(engine, room_id, pack=True)
    assert wire.MARK not in plain_text and "packed" not in json.loads(plain_text)
    assert wire.MARK in packed_text and json.loads(packed_text)["packed"] == 1
    assert len(packed_text) < len(plain_text)
    assert decoded(packed_text) == {**json.loads(plain_text), "packed": 1}
    assert plain_payload == packed_payload          # the dict view is the same state


def test_JOIN2_a_state_using_the_marker_key_goes_unpacked(engine, room_id, th, monkeypatch):
    draw(engine, room_id, th, "a")
    with engine.locked(room_id) as live:
        live.states = {**live.states, "odd": {"x": {wire.MARK: "not packed"}}}
    _, _, text = join(engine, room_id, pack=True)
    state = json.loads(text)
    assert "packed" not in state and state["activities"]["odd"] == {"x": {wire.MARK: "not packed"}}
    assert isinstance(state["activities"]["canvas"]["pages"][0]["items"][0]["pts"], list)
