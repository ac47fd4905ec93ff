"""CTL1-CTL6, PERM1, SCALE1 at the engine: the therapist runs the room through room
ops in the log — waiting room, lock, freeze, private child time, removal, the end of
a session, per-role per-activity permissions — and two engines on one store (two
processes) apply the same ops in the same order."""
import pytest

from activities.registry import build_registry
from rooms.core import control
from rooms.core.engine import Engine
from rooms.core.events import RoomEvents
from activities.contract.protocol import (CHILD, DEFAULT_SETTINGS, E_BAD_EVENT, E_FORBIDDEN, E_FROZEN,
                            E_INVALID, E_NOTHING, E_PRIVATE, PARENT, THERAPIST)
from tests.unit.payloads import op, stroke


class Sent(list, RoomEvents):
    """The engine's events: broadcasts as (event, data), ended sessions in `ended`."""

    def __init__(self):
        super().__init__()
        self.ended = []

    def broadcast(self, room_id, event, data):
        self.append((event, data))

    def session_ended(self, room_id, first, last):
        self.ended.append((room_id, first, last))


@pytest.fixture
def sent():
    return Sent()


@pytest.fixture
def make_room(storage):
    def make(**settings):
        th = storage.create_therapist("ctl@example.org", "Dr. Kim", "-")
        room = storage.create_room(th["id"], "Sam, 7", {**DEFAULT_SETTINGS, **settings})
        invite = storage.create_invite(room["id"], CHILD, "h-child", 2e9)
        invite2 = storage.create_invite(room["id"], PARENT, "h-parent", 2e9)
        people = {THERAPIST: {"id": f"th-{th['id']}", "role": THERAPIST, "name": "Dr. Kim",
                              "avatar": "owl", "invite_id": None}}
        for role, inv, name in ((CHILD, invite, "Sam"), (PARENT, invite2, "Mum")):
            p = storage.create_participant(room["id"], role, name, "fox", inv["id"])
            people[role] = p
        return room["id"], people
    return make


@pytest.fixture
def engine(storage, sent):
    return Engine(storage, build_registry(), sent)


def enter(engine, room_id, who, since=-1):
    """What a `sync` gets: the seq (entered) or the refusal code; and the state sent."""
    got = []
    res = engine.join(room_id, since, got.append, lambda: None, participant=who)
    return res, (got[0] if got else None)


def ctl(engine, room_id, who, action, op_id=None, **body):
    ctl.n = getattr(ctl, "n", 0) + 1
    return engine.control(room_id, who, {"op_id": op_id or f"c{ctl.n}", "action": action, **body},
                          known_participant=lambda pid: engine.storage.get_participant(pid))


def room_ops(storage, room_id):
    return [(o["t"], o["d"]) for o in storage.ops_since(room_id, 0) if o["a"] == "room"]


# ------------------------------------------------------------------ waiting room

def test_CTL1_a_guest_waits_until_admitted_and_nothing_is_sent_meanwhile(engine, storage, make_room):
    room_id, p = make_room()                      # auto_admit off: the waiting room
    assert enter(engine, room_id, p[CHILD]) == ("waiting", None)
    assert storage.ops_since(room_id, 0) == []    # waiting writes nothing
    seq, state = enter(engine, room_id, p[THERAPIST])
    assert isinstance(seq, int) and state["mode"] == "snapshot"
    assert ctl(engine, room_id, p[THERAPIST], "admit", pid=p[CHILD]["id"])["ok"]
    seq, state = enter(engine, room_id, p[CHILD])
    assert isinstance(seq, int) and state is not None
    kinds = [t for t, _ in room_ops(storage, room_id)]
    assert kinds == ["session", "presence", "admit", "presence"]


def test_CTL1_auto_admit_lets_guests_straight_in_and_lock_stops_newcomers_only(engine, storage,
                                                                                make_room):
    room_id, p = make_room(auto_admit=True)
    assert isinstance(enter(engine, room_id, p[CHILD])[0], int)
    assert ctl(engine, room_id, p[THERAPIST], "settings", changes={"lock": True})["ok"]
    # The child was already in this session: a reconnect is not a new join.
    assert isinstance(enter(engine, room_id, p[CHILD], since=0)[0], int)
    assert enter(engine, room_id, p[PARENT]) == ("waiting", None)
    assert ctl(engine, room_id, p[THERAPIST], "admit", pid=p[PARENT]["id"])["ok"]
    assert isinstance(enter(engine, room_id, p[PARENT])[0], int)


def test_CTL1_the_first_entry_starts_a_session_and_presence_is_room_state(engine, storage,
                                                                          make_room, sent):
    room_id, p = make_room(auto_admit=True)
    enter(engine, room_id, p[THERAPIST])
    enter(engine, room_id, p[CHILD])
    presence = [d for e, d in sent if e == "presence"][-1]["participants"]
    assert {(x["id"], x["role"], x["online"]) for x in presence} == {
        (p[THERAPIST]["id"], THERAPIST, True), (p[CHILD]["id"], CHILD, True)}
    engine.leave(room_id, p[CHILD]["id"])
    presence = [d for e, d in sent if e == "presence"][-1]["participants"]
    assert {x["id"]: x["online"] for x in presence}[p[CHILD]["id"]] is False
    assert [t for t, _ in room_ops(storage, room_id)] == ["session", "presence", "presence", "presence"]


# ------------------------------------------------------------------ removal and the end

def test_CTL4_a_removed_guest_and_their_link_stay_out_for_the_session(engine, storage, make_room):
    room_id, p = make_room(auto_admit=True)
    enter(engine, room_id, p[THERAPIST])
    enter(engine, room_id, p[CHILD])
    assert ctl(engine, room_id, p[THERAPIST], "remove", pid=p[CHILD]["id"])["ok"]
    assert enter(engine, room_id, p[CHILD]) == ("removed", None)
    # Opening the same invite again makes a new participant: still out.
    again = storage.create_participant(room_id, CHILD, "Sam", "fox", p[CHILD]["invite_id"])
    assert enter(engine, room_id, again) == ("removed", None)
    # The next session starts clean.
    assert ctl(engine, room_id, p[THERAPIST], "end")["ok"]
    assert isinstance(enter(engine, room_id, again)[0], int)


def test_CTL4_end_of_session_names_its_ops_and_resets_the_room(engine, storage, make_room):
    room_id, p = make_room(auto_admit=True)
    enter(engine, room_id, p[THERAPIST])
    enter(engine, room_id, p[CHILD])
    assert engine.submit(room_id, p[CHILD], op("stroke", stroke("k1")))["ok"]
    ctl(engine, room_id, p[THERAPIST], "settings", changes={"freeze": True, "private": True})
    ack = ctl(engine, room_id, p[THERAPIST], "end")
    assert ack["ok"] and ack["ended"][1] == ack["seq"]
    first, last = ack["ended"]
    ops = storage.ops_since(room_id, first - 1, limit=last - first + 1)
    assert (ops[0]["t"], ops[0]["d"]["state"]) == ("session", "start")
    assert (ops[-1]["t"], ops[-1]["d"]["state"]) == ("session", "end")
    assert any(o["a"] == "canvas" for o in ops)
    _, ctl_state = engine.room_state(room_id)
    assert ctl_state["session"] is None
    assert not ctl_state["settings"]["freeze"] and not ctl_state["settings"]["private"]
    assert ctl(engine, room_id, p[THERAPIST], "end")["code"] == E_NOTHING


# ------------------------------------------------------------------ freeze, private, perms

def test_CTL3_freeze_refuses_guest_input_with_its_own_reason_and_the_therapist_goes_on(
        engine, storage, make_room):
    room_id, p = make_room(auto_admit=True, parent_may_play=True)
    ctl(engine, room_id, p[THERAPIST], "settings", changes={"freeze": True})
    before = storage.last_seq(room_id)
    for who in (p[CHILD], p[PARENT]):
        ack = engine.submit(room_id, who, op("stroke", stroke("g" + who["role"][0])))
        assert (ack["ok"], ack["code"]) == (False, E_FROZEN)
    assert storage.last_seq(room_id) == before
    assert engine.submit(room_id, p[THERAPIST], op("stroke", stroke("t1")))["ok"]
    ctl(engine, room_id, p[THERAPIST], "settings", changes={"freeze": False})
    assert engine.submit(room_id, p[CHILD], op("stroke", stroke("k1")))["ok"]


def test_CTL5_private_child_time_sends_the_parent_to_wait_and_refuses_their_input(
        engine, storage, make_room):
    room_id, p = make_room(auto_admit=True, parent_may_play=True)
    ctl(engine, room_id, p[THERAPIST], "settings", changes={"private": True})
    assert enter(engine, room_id, p[PARENT]) == ("private_time", None)
    assert isinstance(enter(engine, room_id, p[CHILD])[0], int)
    assert engine.submit(room_id, p[PARENT], op("stroke", stroke("m1")))["code"] == E_PRIVATE
    assert engine.submit(room_id, p[CHILD], op("stroke", stroke("k1")))["ok"]
    ctl(engine, room_id, p[THERAPIST], "settings", changes={"private": False})
    assert isinstance(enter(engine, room_id, p[PARENT])[0], int)
    assert engine.submit(room_id, p[PARENT], op("stroke", stroke("m1")))["ok"]


def test_PERM1_permissions_are_per_role_and_per_activity(engine, make_room):
    room_id, p = make_room(auto_admit=True)
    th = p[THERAPIST]
    ctl(engine, room_id, th, "settings", changes={"perms": {"child": {"canvas": False}}})
    assert engine.submit(room_id, p[CHILD], op("stroke", stroke("k1")))["code"] == E_FORBIDDEN
    place = {"op_id": "f1", "a": "sandtray", "t": "place",
             "d": {"id": "f1", "fig": "tree", "x": 100, "y": 100}}
    ack = engine.submit(room_id, p[CHILD], place)
    assert ack["ok"] or ack["code"] != E_FORBIDDEN, ack
    ctl(engine, room_id, th, "settings", changes={"perms": {"child": {"canvas": True}}})
    assert engine.submit(room_id, p[CHILD], op("stroke", stroke("k1")))["ok"]
    # The master switch still rules them all.
    ctl(engine, room_id, th, "settings", changes={"child_may_draw": False})
    assert engine.submit(room_id, p[CHILD], op("stroke", stroke("k2")))["code"] == E_FORBIDDEN


# ------------------------------------------------------------------ who may run the room

@pytest.mark.parametrize("role", [CHILD, PARENT])
@pytest.mark.parametrize("action,body", [
    ("settings", {"changes": {"freeze": False}}), ("admit", {"pid": "x"}), ("end", {}),
    ("remove", {"pid": "x"}), ("view", {"activity": "canvas"}),
])
def test_CTL2_guests_may_not_run_the_room(engine, storage, make_room, role, action, body):
    room_id, p = make_room(auto_admit=True)
    enter(engine, room_id, p[THERAPIST])
    before = storage.last_seq(room_id)
    ack = ctl(engine, room_id, p[role], action, **body)
    assert (ack["ok"], ack["code"]) == (False, E_FORBIDDEN)
    assert storage.last_seq(room_id) == before


@pytest.mark.parametrize("msg,code", [
    ({"action": "settings", "changes": {"freeze": "yes"}}, E_INVALID),
    ({"action": "settings", "changes": {"perms": {"child": {"nope": True}}}}, E_INVALID),
    ({"action": "settings", "changes": {}}, E_INVALID),
    ({"action": "view", "activity": "no-such"}, E_INVALID),
    ({"action": "view", "activity": "canvas", "view": {"x" * 40: 1}}, E_INVALID),
    ({"action": "admit", "pid": "someone-else"}, E_INVALID),
    ({"action": "admit", "pid": "bad id!"}, E_INVALID),
    ({"action": "remove", "pid": "x", "revoke": "yes"}, E_INVALID),
    ({"action": "end", "extra": 1}, E_INVALID),
    ({"action": "explode"}, E_INVALID),
    ({"action": "settings", "changes": {"lock": True}, "op_id": ""}, E_BAD_EVENT),
])
def test_CTL2_bad_control_messages_are_refused_and_store_nothing(engine, storage, make_room,
                                                                 msg, code):
    room_id, p = make_room(auto_admit=True)
    enter(engine, room_id, p[THERAPIST])
    before = storage.last_seq(room_id)
    full = {"op_id": "bad1", **msg}
    ack = engine.control(room_id, p[THERAPIST], full,
                         known_participant=lambda pid: storage.get_participant(pid))
    assert (ack["ok"], ack["code"]) == (False, code)
    assert storage.last_seq(room_id) == before


def test_CTL2_a_resent_control_is_applied_once(engine, storage, make_room):
    room_id, p = make_room(auto_admit=True)
    a = ctl(engine, room_id, p[THERAPIST], "settings", op_id="same", changes={"lock": True})
    b = ctl(engine, room_id, p[THERAPIST], "settings", op_id="same", changes={"lock": True})
    assert a["seq"] == b["seq"] and b.get("duplicate")


# ------------------------------------------------------------------ pure rules

def test_entry_rules():
    s = control.initial_state(control.default_settings(["canvas"]))
    kid = {"id": "k", "role": CHILD, "invite_id": "i1"}
    assert control.entry(s, {"id": "t", "role": THERAPIST}) == "ok"
    assert control.entry(s, kid) == "wait"                       # no auto admit
    s2, _ = control.apply(s, "settings", {"auto_admit": True, "at": 1})
    assert control.entry(s2, kid) == "ok"
    s3, _ = control.apply(s2, "settings", {"lock": True, "at": 2})
    assert control.entry(s3, kid) == "wait"
    s4, _ = control.apply(s3, "remove", {"pid": "other", "invite": "i1", "at": 3})
    assert control.entry(s4, kid) == "removed"                   # same link


def test_merge_settings_keeps_known_values_and_drops_unknown_ones():
    d = control.default_settings(["canvas", "calm"])
    m = control.merge_settings(d, {"child_may_draw": False, "bogus": 1,
                                   "perms": {"child": {"canvas": False, "gone": True},
                                             "therapist": {"canvas": False}}})
    assert m["child_may_draw"] is False and "bogus" not in m
    assert m["perms"]["child"] == {"canvas": False, "calm": True, "switch": True}
    assert "therapist" not in m["perms"]


# ------------------------------------------------------------------ two processes (SCALE1)

def test_SCALE1_two_engines_on_one_store_apply_the_same_ops_in_the_same_order(storage, make_room):
    """Two engines (two processes) on one store, each deciding on a stale copy: the
    compare-and-set append makes the loser catch up and decide again."""
    room_id, p = make_room(auto_admit=True, parent_may_play=True)
    a = Engine(storage, build_registry(), Sent())
    b = Engine(storage, build_registry(), Sent())
    enter(a, room_id, p[CHILD])
    enter(b, room_id, p[PARENT])
    for i in range(20):
        assert a.submit(room_id, p[CHILD], op("stroke", stroke(f"a{i}")))["ok"]
        assert b.submit(room_id, p[PARENT], op("stroke", stroke(f"b{i}")))["ok"]
    # A setting changed on one is enforced by the other.
    assert ctl(a, room_id, p[THERAPIST], "settings", changes={"freeze": True})["ok"]
    assert b.submit(room_id, p[PARENT], op("stroke", stroke("late")))["code"] == E_FROZEN
    seqs = [o["seq"] for o in storage.ops_since(room_id, 0)]
    assert seqs == list(range(1, len(seqs) + 1))
    sa, sb = a.state(room_id, "canvas"), b.state(room_id, "canvas")
    assert sa == sb
    ids = [it["id"] for it in sa[1]["pages"][0]["items"]]
    assert ids == [x for i in range(20) for x in (f"a{i}", f"b{i}")]


def test_SCALE1_two_engines_on_one_redis_converge_and_hear_each_other(redis_url):
    """The same on Redis, with the announcements: after B commits, A's listener
    catches A up without A doing anything (settings then hold for A's relay too)."""
    import threading
    from rooms.store.redis_store import RedisStorage
    store_a, store_b = RedisStorage(redis_url), RedisStorage(redis_url)
    try:
        th = store_a.create_therapist("r@example.org", "Dr. R", "-")
        room_id = store_a.create_room(th["id"], "Sam", {**DEFAULT_SETTINGS, "auto_admit": True})["id"]
        kid = store_a.create_participant(room_id, CHILD, "Sam", "fox")
        a = Engine(store_a, build_registry(), Sent())
        b = Engine(store_b, build_registry(), Sent())
        heard = threading.Event()

        def on_announce(kind, args):
            if kind != "seq":
                return
            a.catch_up(args[0])
            if a.settings(args[0]).get("freeze"):
                heard.set()
        stop = threading.Event()
        listener = threading.Thread(target=store_a.listen, args=(on_announce, stop.is_set), daemon=True)
        listener.start()
        enter(a, room_id, kid)
        assert a.submit(room_id, kid, op("stroke", stroke("k1")))["ok"]
        therapist = {"id": f"th-{th['id']}", "role": THERAPIST, "name": "Dr. R", "avatar": "owl"}
        import time
        deadline = time.monotonic() + 10
        while not heard.is_set() and time.monotonic() < deadline:
            ctl(b, room_id, therapist, "settings", changes={"freeze": True})
            heard.wait(0.5)
        assert heard.is_set(), "engine A never heard B's settings op"
        assert a.state(room_id, "canvas") == b.state(room_id, "canvas")
        stop.set()
        listener.join(5)
    finally:
        store_a.close()
        store_b.close()


def test_CTL4_an_open_session_nobody_returns_to_ends_when_the_last_person_left(storage, make_room):
    """A therapist who forgot to press End: the next entry after the idle time
    closes the old session (at the time the last person left, handed on for its
    record) and starts a new one."""
    now = [1000.0]
    eng = Engine(storage, build_registry(), Sent(), clock=lambda: now[0], session_idle_s=3600)
    ended = eng.events.ended
    room_id, p = make_room(auto_admit=True)
    enter(eng, room_id, p[THERAPIST])
    enter(eng, room_id, p[CHILD])
    now[0] = 1500.0
    eng.leave(room_id, p[CHILD]["id"])
    eng.leave(room_id, p[THERAPIST]["id"])
    now[0] = 1500.0 + 3599
    enter(eng, room_id, p[THERAPIST])           # within the idle time: same session
    assert ended == []
    eng.leave(room_id, p[THERAPIST]["id"])
    left = now[0]
    now[0] = left + 3600
    enter(eng, room_id, p[CHILD])
    assert len(ended) == 1
    _, first, last = ended[0]
    ops = storage.ops_since(room_id, first - 1, limit=last - first + 1)
    assert ops[0]["d"]["state"] == "start" and ops[-1]["d"] == {"state": "end", "idle": True,
                                                                 "at": left}
    _, ctl_state = eng.room_state(room_id)
    assert ctl_state["session"]["start"] == last + 1        # a new session, with the child in it
    assert [o["t"] for o in storage.ops_since(room_id, last)] == ["session", "presence"]


def test_CTL4_ending_by_hand_is_handed_on_once(engine, make_room):
    ended = engine.events.ended
    room_id, p = make_room(auto_admit=True)
    enter(engine, room_id, p[THERAPIST])
    ack = ctl(engine, room_id, p[THERAPIST], "end", op_id="end-1")
    again = ctl(engine, room_id, p[THERAPIST], "end", op_id="end-1")
    assert again.get("duplicate") and [(first, last) for _, first, last in ended] == [tuple(ack["ended"])]
