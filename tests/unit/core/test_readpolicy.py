"""READ1-READ3: what a guest may read is decided by the server, whatever `since`
they send — ops only from their floor (this session, since they came in, after
private time for a parent), else a snapshot of what their role may read; and a
socket's broadcast membership changes under the room lock with its joined state."""
import itertools
import json

import pytest

from activities.registry import build_registry

from activities import checkin
from rooms.core import control
from rooms.core import readpolicy
from rooms.core import wire
from rooms.core.engine import Engine
from activities.contract.protocol import CHILD, DEFAULT_SETTINGS, PARENT, PROTOCOL_VERSION, THERAPIST
from tests.unit.payloads import op, stroke


@pytest.fixture
def engine(storage):
    ticks = itertools.count(1000)
    return Engine(storage, build_registry(), lambda room, ev, data: None,
                  clock=lambda: float(next(ticks)))


@pytest.fixture
def make_room(storage):
    def make(**settings):
        th = storage.create_therapist("read@example.org", "Dr. Kim", "-")
        room = storage.create_room(th["id"], "Sam, 7", {**DEFAULT_SETTINGS, "auto_admit": True,
                                                         **settings})
        people = {THERAPIST: {"id": f"th-{th['id']}", "role": THERAPIST, "name": "Dr. Kim",
                              "avatar": "owl", "invite_id": None}}
        for role, name in ((CHILD, "Sam"), (PARENT, "Mum")):
            people[role] = new_guest(storage, room["id"], role, name)
        return room["id"], people
    return make


def new_guest(storage, room_id, role, name="Sam"):
    """A guest who opened a new invite link of the room."""
    invite = storage.create_invite(room_id, role, f"h-{role}-{name}-{id(object())}", 2e9)
    return storage.create_participant(room_id, role, name, "fox", invite["id"])


def enter(engine, room_id, who, since=-1):
    """(seq or refusal, the `state` payload sent or None) of one `sync`."""
    got = []
    res = engine.join(room_id, since, got.append, lambda: None, participant=who)
    return res, (got[0] if got else None)


def ctl(engine, room_id, who, action, **body):
    ctl.n = getattr(ctl, "n", 0) + 1
    return engine.control(room_id, who, {"op_id": f"r{ctl.n}", "action": action, **body},
                          known_participant=lambda pid: engine.storage.get_participant(pid))


def submit(engine, room_id, who, t, d, a="canvas"):
    ack = engine.submit(room_id, who, op(t, d, a=a))
    assert ack["ok"], ack
    return ack["seq"]


def text_of(payload):
    """Everything a client reads in a `state` payload, as text."""
    return payload.json if getattr(payload, "json", None) else json.dumps(payload)


# ------------------------------------------------------------------ the policy (pure)

def session_state(**session):
    return {"session": {"start": 5, "at": 100.0, "private_end": None, **session},
            "people": {"c": {"here": 7}, "p": {"here": 6}, "old": {}}}


@pytest.mark.parametrize("who, ctl_state, floor", [
    (None, session_state(), 0),
    ({"id": "t", "role": THERAPIST}, session_state(), 0),
    ({"id": "c", "role": CHILD}, session_state(), 7),              # since they came in
    ({"id": "c", "role": CHILD}, session_state(start=9), 9),       # (the session's start)
    ({"id": "p", "role": PARENT}, session_state(private_end=12), 12),
    ({"id": "c", "role": CHILD}, session_state(private_end=12), 7),   # the child was there
    ({"id": "p", "role": PARENT}, session_state(), 6),
    # What the record does not know gives nothing to replay: a snapshot.
    ({"id": "old", "role": CHILD}, session_state(), 40),
    ({"id": "nobody", "role": CHILD}, session_state(), 40),
    ({"id": "c", "role": CHILD}, {"session": None, "people": {}}, 40),
    ({"id": "p", "role": PARENT}, {"session": {"start": 5, "at": 1.0},
                                   "people": {"p": {"here": 6}}}, 40),
])
def test_READ1_the_floor_is_the_servers(who, ctl_state, floor):
    assert readpolicy.replay_floor(ctl_state, who, 40) == floor


@pytest.mark.parametrize("since, ops", [(-1, False), (6, False), (7, True), (40, True), (41, False),
                                        (True, False), ("7", False), (None, False)])
def test_READ1_ops_only_from_the_floor_to_the_rooms_seq(since, ops):
    assert readpolicy.replays(session_state(), {"id": "c", "role": CHILD}, since, 40, 500) is ops


def test_READ1_the_room_reducer_records_the_floors():
    s = control.initial_state(dict(DEFAULT_SETTINGS))
    s, _ = control.apply(s, "session", {"state": "start", "at": 1.0}, seq=3)
    s, _ = control.apply(s, "presence", {"pid": "p", "online": True, "role": PARENT, "at": 2}, seq=4)
    s, _ = control.apply(s, "presence", {"pid": "p", "online": True, "at": 2.5}, seq=5)
    assert s["people"]["p"]["here"] == 4                    # already in: unchanged
    s, _ = control.apply(s, "settings", {"private": True, "at": 3}, seq=6)
    s, _ = control.apply(s, "settings", {"private": False, "at": 4}, seq=7)
    s, _ = control.apply(s, "settings", {"private": False, "at": 5}, seq=8)   # no change
    s, _ = control.apply(s, "presence", {"pid": "p", "online": False, "at": 6}, seq=9)
    s, _ = control.apply(s, "presence", {"pid": "p", "online": True, "at": 7}, seq=10)
    assert s["session"] == {"start": 3, "at": 1.0, "private_end": 7}
    assert s["people"]["p"]["here"] == 10                   # back after being away


def test_READ2_checkin_shows_a_guest_only_this_sessions_entries():
    state = {"entries": [{"id": "a", "value": 2, "by": "c", "at": 50.0, "moment": "any"},
                         {"id": "b", "value": 4, "by": "c", "at": 150.0, "moment": "any"}],
             "ask": None}
    session = {"start": 9, "at": 100.0}
    assert checkin.visible(state, THERAPIST, session) is state
    assert [e["id"] for e in checkin.visible(state, CHILD, session)["entries"]] == ["b"]
    assert checkin.visible(state, PARENT, None)["entries"] == []
    recent = {**state, "entries": state["entries"][1:]}
    assert checkin.visible(recent, CHILD, session) is recent     # nothing hidden: same object


# ------------------------------------------------------------------ at the engine

def test_READ1_a_parent_back_from_private_time_gets_none_of_the_childs_private_ops(
        engine, make_room):
    room_id, p = make_room()
    th, kid, parent = p[THERAPIST], p[CHILD], p[PARENT]
    enter(engine, room_id, th)
    enter(engine, room_id, kid)
    before, _ = enter(engine, room_id, parent)
    assert ctl(engine, room_id, th, "settings", changes={"private": True})["ok"]
    started = engine.room_state(room_id)[0]
    submit(engine, room_id, kid, "stroke", stroke("secret-stroke"))
    submit(engine, room_id, kid, "checkin", {"id": "secret-feeling", "value": 1, "moment": "any"},
           a="checkin")
    submit(engine, room_id, th, "clear", {"page": "p1"})
    submit(engine, room_id, th, "checkin.delete", {"id": "secret-feeling"}, a="checkin")
    submit(engine, room_id, kid, "stroke", stroke("kept"))
    assert ctl(engine, room_id, th, "settings", changes={"private": False})["ok"]
    for since in (before, started, 0):
        seq, payload = enter(engine, room_id, parent, since=since)
        assert isinstance(seq, int) and payload["mode"] == "snapshot", (since, payload["mode"])
        text = text_of(payload)
        assert "secret" not in text
        assert "kept" in text          # the current state, as the therapist left it
    # Once back, a reconnect from after the private time replays ops again.
    seq, payload = enter(engine, room_id, parent, since=seq)
    assert payload["mode"] == "ops"


def test_READ1_a_new_guest_in_the_next_session_reads_nothing_of_the_earlier_one(
        engine, storage, make_room):
    room_id, p = make_room()
    th, kid = p[THERAPIST], p[CHILD]
    enter(engine, room_id, th)
    enter(engine, room_id, kid)
    submit(engine, room_id, kid, "checkin", {"id": "last-week", "value": 2, "moment": "start"},
           a="checkin")
    submit(engine, room_id, kid, "stroke", stroke("old-gone"))
    submit(engine, room_id, th, "clear", {"page": "p1"})
    assert ctl(engine, room_id, th, "end")["ok"]
    newcomer = new_guest(storage, room_id, PARENT, "Gran")
    seq, payload = enter(engine, room_id, newcomer, since=0)
    assert payload["mode"] == "snapshot"
    text = text_of(payload)
    assert "last-week" not in text and "old-gone" not in text
    assert payload["activities"]["checkin"]["entries"] == []
    # The therapist's chart keeps last week's check-in.
    _, mine = enter(engine, room_id, th)
    assert [e["id"] for e in mine["activities"]["checkin"]["entries"]] == ["last-week"]


def test_READ1_a_future_since_gets_a_snapshot(engine, make_room):
    room_id, p = make_room()
    seq, _ = enter(engine, room_id, p[CHILD])
    _, payload = enter(engine, room_id, p[CHILD], since=seq + 50)
    assert payload["mode"] == "snapshot"


def test_READ1_the_therapist_still_replays_the_whole_log(engine, make_room):
    room_id, p = make_room()
    enter(engine, room_id, p[THERAPIST])
    enter(engine, room_id, p[CHILD])
    submit(engine, room_id, p[CHILD], "stroke", stroke("k1"))
    assert ctl(engine, room_id, p[THERAPIST], "end")["ok"]
    seq, payload = enter(engine, room_id, p[THERAPIST], since=0)
    assert payload["mode"] == "ops" and [o["seq"] for o in payload["ops"]] == list(range(1, seq + 1))


def test_READ1_a_guest_reconnecting_in_the_session_gets_the_missing_ops(engine, make_room):
    room_id, p = make_room()
    seq, _ = enter(engine, room_id, p[CHILD])
    submit(engine, room_id, p[THERAPIST], "stroke", stroke("new"))
    _, payload = enter(engine, room_id, p[CHILD], since=seq)
    assert payload["mode"] == "ops" and [o["d"]["id"] for o in payload["ops"]] == ["new"]


def test_READ2_joiners_of_one_view_share_one_text(engine, storage, make_room, monkeypatch):
    import rooms.core.joining
    monkeypatch.setattr(rooms.core.joining, "WIRE_CACHE_MIN", 0)    # as for a big board
    encodes = []
    real = wire.StateEncoder.encode_states
    monkeypatch.setattr(wire.StateEncoder, "encode_states",
                        lambda self, states: encodes.append(1) or real(self, states))
    room_id, p = make_room()
    for who in (THERAPIST, CHILD, PARENT):
        enter(engine, room_id, p[who])
    submit(engine, room_id, p[CHILD], "checkin", {"id": "old", "value": 3, "moment": "any"},
           a="checkin")
    del encodes[:]
    texts = [enter(engine, room_id, p[who])[1].json for who in (CHILD, THERAPIST, PARENT)]
    assert len(set(texts)) == 1 and len(encodes) == 1, "nothing hidden: one text for all"
    assert ctl(engine, room_id, p[THERAPIST], "end")["ok"]
    enter(engine, room_id, p[CHILD])                # the next session starts
    enter(engine, room_id, p[PARENT])
    del encodes[:]
    _, a = enter(engine, room_id, p[CHILD])
    _, b = enter(engine, room_id, p[CHILD])
    _, t = enter(engine, room_id, p[THERAPIST])
    assert a.json == b.json and len(encodes) == 2    # the child's view once, the therapist's
    assert "old" not in a.json and '"old"' in t.json


# ------------------------------------------------------------------ the socket (READ3)

def test_READ3_private_time_starting_right_after_a_parents_join_takes_them_out(
        app, pr, therapist, room, make_guest, monkeypatch):
    """Finding 7: in threading mode private time could start between the engine's
    join (socket added to the room's broadcasts) and the rest of `sync`: the parent
    then stayed in the broadcasts for all of private time. Here it starts exactly
    there, every time."""
    sio = pr.hub.socketio
    auth = {"v": PROTOCOL_VERSION, "room": room.id}

    def client(browser):
        c = sio.test_client(app, auth=auth, flask_test_client=browser)
        assert c.emit("sync", {"since": -1}, callback=True)["ok"]
        return c
    client(therapist)
    kid = make_guest(room.links["child"])
    kid_socket = client(kid)
    real_join = pr.engine.join
    raced = []

    def join_then_private(room_id, since, send_state, enter, **kw):
        seq = real_join(room_id, since, send_state, enter, **kw)
        if kw["participant"]["role"] == PARENT:     # the lock is free again here
            raced.append(pr.engine.control(room_id, therapist.participant, {
                "op_id": "go-private", "action": "settings", "changes": {"private": True}}))
        return seq
    monkeypatch.setattr(pr.engine, "join", join_then_private)
    parent_socket = client(make_guest(room.links["parent"], name="Alex"))
    assert raced and raced[0]["ok"]
    parent_socket.get_received()
    ack = kid_socket.emit("op", op("stroke", stroke("private-stroke")), callback=True)
    assert ack["ok"], ack
    seen = json.dumps([ev["args"] for ev in parent_socket.get_received()])
    assert "private-stroke" not in seen
    assert kid_socket.is_connected()


def test_READ3_private_time_ending_right_after_a_parent_is_told_to_wait_calls_them_back(
        app, pr, therapist, room, make_guest, monkeypatch):
    """The other side: a parent whose `sync` is answered `private_time` joined the
    lobby only after the room lock was released; private time ending in between sent
    `resume` to a lobby they were not in yet. Here it ends exactly there."""
    sio = pr.hub.socketio
    auth = {"v": PROTOCOL_VERSION, "room": room.id}
    th = sio.test_client(app, auth=auth, flask_test_client=therapist)
    assert th.emit("sync", {"since": -1}, callback=True)["ok"]
    assert th.emit("control", {"op_id": "go-private", "action": "settings",
                               "changes": {"private": True}}, callback=True)["ok"]
    real_join = pr.engine.join

    def join_then_resume(room_id, since, send_state, enter, **kw):
        verdict = real_join(room_id, since, send_state, enter, **kw)
        if verdict == "private_time":                # the lock is free again here
            assert pr.engine.control(room_id, therapist.participant, {
                "op_id": "end-private", "action": "settings", "changes": {"private": False}})["ok"]
        return verdict
    monkeypatch.setattr(pr.engine, "join", join_then_resume)
    parent = sio.test_client(app, auth=auth,
                             flask_test_client=make_guest(room.links["parent"], name="Alex"))
    ack = parent.emit("sync", {"since": -1}, callback=True)
    assert (ack["ok"], ack["code"]) == (False, "private_time")
    lobby = [ev["args"][0] for ev in parent.get_received() if ev["name"] == "lobby"]
    assert {"resume": True} in lobby


def test_READ1_a_room_saved_before_the_floors_were_kept_loads_and_replays_guests_nothing(
        engine, storage, make_room):
    """A snapshot from before READ1 has no `private_end` nor `here`: the room loads,
    the therapist replays as before, and guests get snapshots until they re-enter."""
    room_id, p = make_room()
    for who in (THERAPIST, CHILD, PARENT):
        enter(engine, room_id, p[who])
    seq = submit(engine, room_id, p[CHILD], "stroke", stroke("k1"))
    engine.unload(room_id)
    at, text = storage.load_snapshot(room_id)
    data = json.loads(text)
    data["control"]["session"].pop("private_end")
    for person in data["control"]["people"].values():
        person.pop("here", None)
    storage.save_snapshot(room_id, at, json.dumps(data))
    again = Engine(storage, build_registry(), lambda room, ev, data: None)
    for who in (CHILD, PARENT):
        got, payload = enter(again, room_id, p[who], since=seq - 1)
        assert got == seq and payload["mode"] == "snapshot", who
        assert enter(again, room_id, p[who], since=seq)[1]["ops"] == []   # up to date
    assert enter(again, room_id, p[THERAPIST], since=0)[1]["mode"] == "ops"
