"""Calm corner and check-ins over real sockets: a late joiner lands in the same breathing
phase as everyone else (CALM1 + CLK1), timed ops carry the server's time and bad ones
are refused without a trace (CALM2), check-ins reach the therapist (FEEL1)."""
import copy
import time

from activities import calm
from tests.support import wait_for

from .conftest import new_id, send_op

SKEWS_MS = {"child": -3_250.0, "parent": 6_480.0}   # each device's clock is off by this


class Device:
    """A socket client with a wrong wall clock: it estimates the server's time the way
    the browser does (lowest-delay `clock` sample) and computes the phase from it."""

    def __init__(self, user, skew_ms):
        self.user = user
        self.skew_ms = skew_ms
        self.clock = calm.ClockEstimator()

    def local_ms(self):
        return time.time() * 1000.0 + self.skew_ms

    def sync_clock(self, n=6):
        for _ in range(n):
            sent = self.local_ms()
            ack = self.user.call("clock", {})
            self.clock.add(sent, ack["now"], self.local_ms())
        return self.clock.offset

    def server_s(self):
        return self.clock.server_ms(self.local_ms()) / 1000.0


def calm_state(user, base=None):
    """The calm state a client holds: its snapshot, or `base` plus the replayed ops,
    plus the live ops it applied since."""
    st = user.state
    if st["mode"] == "snapshot":
        state, ops = copy.deepcopy(st["activities"]["calm"]), []
    else:
        state, ops = copy.deepcopy(base), list(st["ops"])
    ops += [o for o in user.received("op") if o["seq"] > st["seq"]]
    for op in sorted(ops, key=lambda o: o["seq"]):
        if op["a"] == "calm":
            state, _ = calm.apply(state, op["t"], op["d"], by=op["by"])
    return state


def position(pacer, now):
    """Seconds into the whole run (round × cycle + place in the cycle)."""
    ph = calm.pacer_phase(pacer, now)
    t = pacer["timing"]
    i = calm.PHASES.index(ph["phase"])
    return ph["round"] * sum(t) + sum(t[:i]) + ph["progress"] * t[i]


def test_CALM1_late_joiner_lands_in_the_same_phase_as_the_first_client(room):
    therapist, child = room.user("therapist"), room.user("child")
    before = copy.deepcopy(child.state["activities"]["calm"])
    seq_before = child.seq
    ack = send_op(therapist, "pacer.start", {"pattern": "box4", "rounds": 20}, a="calm")
    assert ack["ok"], ack
    start = wait_for(lambda: [o for o in child.received("op") if o["t"] == "pacer.start"],
                     what="pacer.start at the child")[0]
    assert start["d"]["at"] > 0 and start["seq"] == ack["seq"]

    # Later: the parent joins fresh (snapshot) and another device catches up from the
    # seq it had (replayed ops). Every device's wall clock is seconds off.
    parent = room.user("parent")
    assert parent.state["mode"] == "snapshot"
    replay = room.user("therapist", since=seq_before)
    assert replay.state["mode"] == "ops"
    devices = {"child": (Device(child, SKEWS_MS["child"]), calm_state(child)),
               "parent": (Device(parent, SKEWS_MS["parent"]), calm_state(parent)),
               "replay": (Device(replay, 0.0), calm_state(replay, before))}
    pacers = [p["pacer"] for _, p in devices.values()]
    assert pacers[0] == pacers[1] == pacers[2] and pacers[0]["running"]
    for name, (dev, _) in devices.items():
        offset = dev.sync_clock()
        assert abs(offset + dev.skew_ms) < 50, (name, offset)   # the skew is found

    # At one real instant every device computes the same place in the breath.
    real = time.time()
    seen = {name: position(st["pacer"], dev.clock.server_ms(real * 1000 + dev.skew_ms) / 1000)
            for name, (dev, st) in devices.items()}
    assert max(seen.values()) - min(seen.values()) < 0.05, seen
    assert 0 <= seen["parent"] < 20 * 16
    phase = calm.pacer_phase(pacers[0], devices["parent"][0].server_s())
    assert phase["running"] and phase["phase"] in calm.PHASES


def test_CALM2_timed_ops_carry_server_time_and_bad_ones_leave_no_trace(room):
    therapist, child = room.user("therapist"), room.user("child")
    snapshot = room.snapshot()["activities"]["calm"]
    refusals = [
        (therapist, "pacer.pause", {}, "invalid"),                                 # not running
        (therapist, "pacer.start", {"pattern": "balloon", "rounds": 5, "at": 4e9}, "invalid"),
        (therapist, "pacer.start", {"pattern": "balloon", "rounds": 5, "at": 1.0}, "invalid"),
        (therapist, "pacer.start", {"pattern": "balloon", "rounds": 0}, "invalid"),
        (therapist, "pattern.save", {"id": "p1", "name": "x", "inhale": "4", "hold": 0,
                                     "exhale": 4, "hold2": 0, "visual": "orb"}, "invalid"),
        (therapist, "timer.start", {"minutes": 61}, "invalid"),
        (child, "pacer.start", {"pattern": "star", "rounds": 3}, "forbidden"),
        (child, "pattern.save", {"id": "p1", "name": "mine", "inhale": 4, "hold": 0,
                                 "exhale": 4, "hold2": 0, "visual": "orb"}, "forbidden"),
    ]
    for who, t, d, code in refusals:
        ack = who.op(t, d, a="calm", op_id=new_id("bad-"))
        assert ack["ok"] is False and ack["code"] == code, (t, d, ack)
    assert room.snapshot()["activities"]["calm"] == snapshot
    assert not [o for o in child.received("op") if o["a"] == "calm"]

    before = time.time()
    assert send_op(therapist, "timer.start", {"minutes": 2}, a="calm")["ok"]
    op = wait_for(lambda: [o for o in child.received("op") if o["t"] == "timer.start"],
                  what="timer.start at the child")[0]
    assert before - 1 <= op["d"]["at"] <= time.time() + 1
    assert send_op(therapist, "timer.pause", {}, a="calm")["ok"]
    ack = therapist.op("timer.pause", {}, a="calm", op_id=new_id("again-"))
    assert ack["ok"] is False and ack["code"] == "invalid"          # already paused


def test_FEEL1_child_checks_in_and_the_therapist_receives_it_stamped(room):
    therapist, child, parent = room.user("therapist"), room.user("child"), room.user("parent")
    assert send_op(therapist, "ask", {"id": "q1", "moment": "start"}, a="checkin")["ok"]
    ack = send_op(child, "checkin", {"id": "q1", "value": 2, "moment": "start"}, a="checkin")
    assert ack["ok"], ack
    got = wait_for(lambda: [o for o in therapist.received("op") if o["t"] == "checkin"],
                   what="the check-in at the therapist")[0]
    assert (got["by"], got["d"]["value"], got["d"]["moment"]) == (child.me, 2, "start")
    assert abs(got["d"]["at"] - time.time()) < 5
    # Changing the answer to the same question replaces it.
    assert send_op(child, "checkin", {"id": "q1", "value": 4, "moment": "start"}, a="checkin")["ok"]
    ack = parent.op("checkin", {"id": "p1", "value": 5, "moment": "any"}, a="checkin", op_id=new_id("p-"))
    assert ack["ok"] is False and ack["code"] == "forbidden"
    entries = room.snapshot()["activities"]["checkin"]["entries"]
    assert [(e["id"], e["value"], e["by"]) for e in entries] == [("q1", 4, child.me)]
