"""Calm corner: phase computation (incl. pause/resume), the clock-offset estimator under
skew and jitter, the pure reducer and its inverses, strict validation, state checks,
permissions, and the pipeline (stamps, refusals, undo, replay)."""
import copy
import json
import math
import random

import pytest

from activities import calm
from activities.contract import Rejected
from rooms.core.engine import Engine
from activities.registry import build_registry
from activities.contract.protocol import (CHILD, E_CONFLICT, E_FORBIDDEN, E_FULL, E_INVALID, E_NOTHING, PARENT,
                            THERAPIST)
from tests.unit.core.test_engine import Broadcasts

T0 = 1_700_000_000.0          # a server time (seconds) to start from
BALLOON = [4, 0, 6, 0]
BOX = [4, 4, 4, 4]


def run(state, *ops):
    """Apply (t, d) ops in order; return the final state."""
    for t, d in ops:
        state, _ = calm.apply(state, t, d, by="th")
    return state


def started(pattern="balloon", at=T0, **length):
    length = length or {"rounds": 5}
    return run(calm.initial_state(), ("pacer.start", {"pattern": pattern, **length, "at": at}))


# ====================================================================== phase (CALM1)

@pytest.mark.parametrize("timing,secs,want", [
    (BALLOON, 0, ("inhale", 0.0, 0)),
    (BALLOON, 2, ("inhale", 0.5, 0)),
    (BALLOON, 4, ("exhale", 0.0, 0)),          # a hold of 0 is skipped
    (BALLOON, 7, ("exhale", 0.5, 0)),
    (BALLOON, 10, ("inhale", 0.0, 1)),
    (BALLOON, 23, ("inhale", 0.75, 2)),
    (BOX, 5, ("hold", 0.25, 0)),
    (BOX, 13, ("hold2", 0.25, 0)),
    ([4, 7, 8, 0], 11, ("exhale", 0.0, 0)),
    ([3, 1, 4, 0], 3.5, ("hold", 0.5, 0)),
])
def test_CALM1_phase_at(timing, secs, want):
    phase, progress, rnd = calm.phase_at(timing, secs)
    assert (phase, rnd) == (want[0], want[2])
    assert progress == pytest.approx(want[1])


def test_CALM1_phase_is_done_after_the_last_round():
    assert calm.phase_at(BALLOON, 49.9, total=5)[:1] == ("exhale",)
    assert calm.phase_at(BALLOON, 50, total=5) == ("done", 1.0, 5)
    assert calm.phase_at(BALLOON, 500, total=5) == ("done", 1.0, 5)


def test_CALM1_pacer_phase_is_a_pure_function_of_pattern_start_pauses_and_now():
    s = started()
    p = s["pacer"]
    assert calm.pacer_phase(p, T0 + 2) == {"phase": "inhale", "progress": 0.5, "round": 0, "running": True}
    # Before the start (a client clock estimate a little early): the very beginning.
    assert calm.pacer_phase(p, T0 - 3)["phase"] == "inhale"
    assert calm.pacer_phase(p, T0 - 3)["progress"] == 0
    idle = calm.initial_state()["pacer"]
    assert calm.pacer_phase(idle, T0)["phase"] == "idle"


def test_CALM1_pause_freezes_the_phase_and_resume_continues_where_it_stopped():
    s = started()
    paused = run(s, ("pacer.pause", {"at": T0 + 3}))           # inhale 0.75
    for later in (T0 + 3, T0 + 30, T0 + 3000):
        ph = calm.pacer_phase(paused["pacer"], later)
        assert (ph["phase"], ph["progress"], ph["running"]) == ("inhale", 0.75, False)
    resumed = run(paused, ("pacer.resume", {"at": T0 + 50}))
    assert resumed["pacer"]["paused_total"] == 47
    ph = calm.pacer_phase(resumed["pacer"], T0 + 51)           # 4 running seconds in
    assert (ph["phase"], ph["progress"], ph["running"]) == ("exhale", 0.0, True)
    # A second pause and resume add up.
    twice = run(resumed, ("pacer.pause", {"at": T0 + 52}), ("pacer.resume", {"at": T0 + 60}))
    assert twice["pacer"]["paused_total"] == 55
    assert calm.pacer_phase(twice["pacer"], T0 + 62)["progress"] == pytest.approx(0.5)


def test_CALM1_a_resume_stamped_before_its_pause_never_runs_time_backwards():
    s = run(started(), ("pacer.pause", {"at": T0 + 3}), ("pacer.resume", {"at": T0 + 2}))
    assert s["pacer"]["paused_total"] == 0
    assert calm.elapsed(s["pacer"], T0 + 1) == 1


def test_CALM1_minutes_become_whole_breaths():
    s = started(minutes=1)                                     # 60 s / 10 s per breath
    assert s["pacer"]["total"] == 6
    s = started("478", minutes=1)                              # 60 / 19 -> 4 breaths
    assert s["pacer"]["total"] == 4


def test_CALM1_timer_remaining_with_pause_and_resume():
    s = run(calm.initial_state(), ("timer.start", {"minutes": 2, "at": T0}))
    assert calm.timer_remaining(s["timer"], T0 + 30) == 90
    s = run(s, ("timer.pause", {"at": T0 + 30}))
    assert calm.timer_remaining(s["timer"], T0 + 100) == 90
    s = run(s, ("timer.resume", {"at": T0 + 100}))
    assert calm.timer_remaining(s["timer"], T0 + 190) == 0
    assert calm.timer_remaining(calm.initial_state()["timer"], T0) == 300


# ====================================================================== clock offset (CLK1)

def simulate(est, *, offset_ms, n, base_ms, jitter_ms, rng, start_ms=0.0, drift=0.0,
             up_extra_ms=0.0):
    """Take n samples against a server whose clock is `offset_ms` ahead of the client's
    (plus `drift` ms per ms). One-way delays are base + exponential jitter (asymmetric
    when up_extra_ms). Returns the true offset at the end."""
    t = start_ms
    for _ in range(n):
        up = base_ms + up_extra_ms + rng.expovariate(1 / jitter_ms)
        down = base_ms + rng.expovariate(1 / jitter_ms)
        sent = t
        server_now = (t + up) + offset_ms + drift * (t + up)
        received = t + up + down
        est.add(sent, server_now, received)
        t = received + 60
    return offset_ms + drift * t


@pytest.mark.parametrize("seed", range(6))
def test_CLK1_estimator_finds_a_skewed_clock_through_jitter(seed):
    rng = random.Random(seed)
    est = calm.ClockEstimator()
    true = simulate(est, offset_ms=7340.0, n=8, base_ms=8, jitter_ms=25, rng=rng)
    rtt, offset = est.best
    # The error of a sample is at most half its round trip (asymmetric delays);
    # picking the fastest one keeps it small even with 25 ms jitter.
    assert abs(offset - true) <= rtt / 2
    assert abs(offset - true) < 15


def test_CLK1_a_sample_delayed_on_one_way_does_not_pull_the_estimate():
    est = calm.ClockEstimator()
    est.add(0.0, 5000.0 + 10, 20.0)          # 10 ms each way: exact
    est.add(100.0, 5000.0 + 100 + 600, 610.0)  # stuck 600 ms on the way up (Wi-Fi retry)
    assert est.offset == 5000.0
    mean = sum(o for _, o in est.samples) / 2
    assert abs(mean - 5000.0) > 100           # why not to average


def test_CLK1_estimator_error_is_bounded_by_half_the_rtt_when_delays_are_asymmetric():
    rng = random.Random(1)
    est = calm.ClockEstimator()
    true = simulate(est, offset_ms=-4200.0, n=6, base_ms=5, jitter_ms=1, rng=rng, up_extra_ms=40)
    rtt, offset = est.best
    assert abs(offset - true) <= rtt / 2 + 1e-9
    assert offset > true               # a slow uplink makes the server look ahead


def test_CLK1_estimator_follows_a_drifting_clock_by_forgetting_old_samples():
    rng = random.Random(2)
    est = calm.ClockEstimator(keep=10)
    simulate(est, offset_ms=1000.0, n=10, base_ms=5, jitter_ms=2, rng=rng)
    # The client's clock is stepped by 250 ms (NTP) and drifts 50 ppm: a burst later
    # the estimate follows, because older samples fell out of the window.
    true = simulate(est, offset_ms=1250.0, n=10, base_ms=5, jitter_ms=2, rng=rng,
                    start_ms=10_000_000, drift=50e-6)
    assert abs(est.offset - true) < 6


def test_CLK1_a_sample_with_a_negative_round_trip_is_ignored():
    est = calm.ClockEstimator()
    est.add(100.0, 5000.0, 90.0)
    assert est.offset is None
    est.add(100.0, 5010.0, 110.0)
    assert est.offset == 5010 + 5 - 110
    assert est.server_ms(200.0) == 200 + est.offset


# ====================================================================== reducer and inverses

def _ops_from(state):
    """(name, state, op) cases that change `state`, with their preconditions met."""
    s_run = started()
    s_paused = run(s_run, ("pacer.pause", {"at": T0 + 3}))
    s_timer = run(calm.initial_state(), ("timer.start", {"minutes": 5, "at": T0}))
    s_tpaused = run(s_timer, ("timer.pause", {"at": T0 + 9}))
    s_ground = run(calm.initial_state(), ("grounding.start", {}))
    s_saved = run(calm.initial_state(), ("pattern.save", pattern_d("mine")))
    return [
        ("show", calm.initial_state(), ("show", {"card": "timer"})),
        ("pacer.start", calm.initial_state(), ("pacer.start", {"pattern": "box3", "rounds": 4, "at": T0})),
        ("pacer.start restarts", s_run, ("pacer.start", {"pattern": "star", "minutes": 2, "at": T0 + 9})),
        ("pacer.pause", s_run, ("pacer.pause", {"at": T0 + 3})),
        ("pacer.resume", s_paused, ("pacer.resume", {"at": T0 + 8})),
        ("pacer.stop", s_run, ("pacer.stop", {"at": T0 + 8})),
        ("pacer.stop paused", s_paused, ("pacer.stop", {"at": T0 + 8})),
        ("timer.start", calm.initial_state(), ("timer.start", {"minutes": 3, "at": T0})),
        ("timer.pause", s_timer, ("timer.pause", {"at": T0 + 9})),
        ("timer.resume", s_tpaused, ("timer.resume", {"at": T0 + 19})),
        ("timer.reset", s_timer, ("timer.reset", {"at": T0 + 19})),
        ("pattern.save new", calm.initial_state(), ("pattern.save", pattern_d("new"))),
        ("pattern.save over", s_saved, ("pattern.save", pattern_d("mine", inhale=2))),
        ("pattern.delete", s_saved, ("pattern.delete", {"id": "mine"})),
        ("grounding.start", calm.initial_state(), ("grounding.start", {})),
        ("grounding.go", s_ground, ("grounding.go", {"to": "hear"})),
        ("grounding.count", s_ground, ("grounding.count", {"sense": "see", "n": 3})),
        ("grounding.order", s_ground, ("grounding.order", {"order": ["taste", "see", "touch", "hear", "smell"],
                                                           "skipped": ["see"]})),
        ("grounding.stop", s_ground, ("grounding.stop", {})),
    ]


def pattern_d(pid, **over):
    return {"id": pid, "name": "Slow sea", "inhale": 5, "hold": 1, "exhale": 7, "hold2": 0,
            "visual": "orb", **over}


CASES = _ops_from(None)


@pytest.mark.parametrize("name,state,op", CASES, ids=[c[0] for c in CASES])
def test_UNDO1_every_op_has_an_inverse_that_restores_the_state(name, state, op):
    before = copy.deepcopy(state)
    t, d = op
    d_before = copy.deepcopy(d)
    new, inv = calm.apply(state, t, d)
    assert state == before and d == d_before, "apply must not mutate its input"
    assert new != state and inv is not None
    assert calm.OPS[inv[0]] is not None
    back, inv2 = calm.apply(new, *inv)
    assert back == state
    again, _ = calm.apply(back, *inv2)          # redo
    assert again == new
    json.dumps(new, allow_nan=False)            # plain JSON, storable


def test_UNDO1_undoing_a_pause_restores_the_running_pacer_exactly():
    s = started()
    paused, inv = calm.apply(s, "pacer.pause", {"at": T0 + 3})
    assert inv == ("pacer.restore", {"pacer": s["pacer"]})
    assert calm.apply(paused, *inv)[0]["pacer"]["running"] is True


@pytest.mark.parametrize("name,state,t,d", [
    ("pause a paused pacer", "paused", "pacer.pause", {"at": T0 + 9}),
    ("resume a running pacer", "running", "pacer.resume", {"at": T0 + 9}),
    ("stop a stopped pacer", "idle", "pacer.stop", {"at": T0 + 9}),
    ("go before grounding starts", "idle", "grounding.go", {"to": "see"}),
    ("count the same number", "idle", "grounding.count", {"sense": "see", "n": 0}),
    ("show the shown card", "idle", "show", {"card": "pacer"}),
    ("restore an equal pacer", "idle", "pacer.restore", {"pacer": calm.initial_state()["pacer"]}),
    ("delete an absent pattern", "idle", "pattern.restore", {"id": "nope", "pattern": None}),
])
def test_stale_op_is_a_no_op_with_no_inverse(name, state, t, d):
    s = {"idle": calm.initial_state(), "running": started(),
         "paused": run(started(), ("pacer.pause", {"at": T0 + 3}))}[state]
    before = copy.deepcopy(s)
    new, inv = calm.apply(s, t, d)
    assert inv is None and new == before


def test_skipping_the_current_sense_moves_on_to_the_next_one_in_play():
    s = run(calm.initial_state(), ("grounding.start", {}), ("grounding.go", {"to": "hear"}))
    s = run(s, ("grounding.order", {"order": list(calm.SENSE_ORDER), "skipped": ["hear", "smell"]}))
    assert s["grounding"]["current"] == "taste"
    s = run(s, ("grounding.order", {"order": list(calm.SENSE_ORDER), "skipped": ["hear", "smell", "taste"]}))
    assert s["grounding"]["current"] == "done"
    s = run(s, ("grounding.start", {}))
    assert s["grounding"]["current"] == "see" and s["grounding"]["counts"]["see"] == 0


def test_a_running_pacer_keeps_its_timing_when_the_saved_pattern_changes():
    s = run(calm.initial_state(), ("pattern.save", pattern_d("mine")))
    s = run(s, ("pacer.start", {"pattern": "mine", "rounds": 3, "at": T0}))
    assert (s["pacer"]["timing"], s["pacer"]["visual"], s["pacer"]["name"]) == ([5, 1, 7, 0], "orb", "Slow sea")
    s = run(s, ("pattern.delete", {"id": "mine"}))
    assert s["pacer"]["timing"] == [5, 1, 7, 0]


# ====================================================================== validation

STAMPED = [t for t, spec in calm.OPS.items() if spec.stamped]


def valid_payload(t):
    return {"pacer.start": {"pattern": "balloon", "rounds": 5}, "timer.start": {"minutes": 5}}.get(t, {})


@pytest.mark.parametrize("t", STAMPED)
def test_CLK1_a_client_can_never_send_its_own_time(t):
    assert not isinstance(calm.validate(t, valid_payload(t)), Rejected)
    for bad in ({"at": T0}, {"at": T0 + 3600}, {"started_at": T0}, {"paused_at": T0}):
        r = calm.validate(t, {**valid_payload(t), **bad})
        assert isinstance(r, Rejected) and r.code == E_INVALID, (t, bad)


BAD = [
    ("pacer.start", {"pattern": "no such!", "rounds": 5}),
    ("pacer.start", {"pattern": "balloon"}),
    ("pacer.start", {"pattern": "balloon", "rounds": 5, "minutes": 2}),
    ("pacer.start", {"pattern": "balloon", "rounds": 0}),
    ("pacer.start", {"pattern": "balloon", "rounds": 31}),
    ("pacer.start", {"pattern": "balloon", "rounds": "5"}),
    ("pacer.start", {"pattern": "balloon", "rounds": 2.5}),
    ("pacer.start", {"pattern": "balloon", "rounds": True}),
    ("pacer.start", {"pattern": "balloon", "minutes": 16}),
    ("pacer.start", {"pattern": "balloon", "minutes": float("nan")}),
    ("pacer.start", ["balloon"]),
    ("pacer.pause", {"now": 1}),
    ("pattern.save", pattern_d("p", inhale=0)),
    ("pattern.save", pattern_d("p", inhale=11)),
    ("pattern.save", pattern_d("p", exhale="6")),
    ("pattern.save", pattern_d("p", exhale=float("nan"))),
    ("pattern.save", pattern_d("p", exhale=float("inf"))),
    ("pattern.save", pattern_d("p", hold=-1)),
    ("pattern.save", pattern_d("p", hold2=10.5)),
    ("pattern.save", pattern_d("p", hold=None)),
    ("pattern.save", pattern_d("p", hold=10 ** 400)),
    ("pattern.save", pattern_d("p", name="")),
    ("pattern.save", pattern_d("p", name="   ")),
    ("pattern.save", pattern_d("p", name="x" * 41)),
    ("pattern.save", pattern_d("p", name="bad\nname")),
    ("pattern.save", pattern_d("p", visual="rocket")),
    ("pattern.save", pattern_d("p id")),
    ("pattern.save", {**pattern_d("p"), "extra": 1}),
    ("timer.start", {"minutes": 0}),
    ("timer.start", {"minutes": 61}),
    ("timer.start", {"minutes": "5"}),
    ("timer.start", {"minutes": 1.5}),
    ("timer.start", {}),
    ("show", {"card": "sandtray"}),
    ("grounding.count", {"sense": "see", "n": 6}),
    ("grounding.count", {"sense": "taste", "n": 2}),
    ("grounding.count", {"sense": "see", "n": -1}),
    ("grounding.count", {"sense": "feel", "n": 1}),
    ("grounding.go", {"to": "nowhere"}),
    ("grounding.order", {"order": ["see", "see", "hear", "smell", "taste"], "skipped": []}),
    ("grounding.order", {"order": ["see", "touch", "hear", "smell"], "skipped": []}),
    ("grounding.order", {"order": list(calm.SENSE_ORDER), "skipped": ["see", "see"]}),
    ("grounding.order", {"order": list(calm.SENSE_ORDER), "skipped": list(calm.SENSE_ORDER)}),
    ("grounding.order", {"order": list(calm.SENSE_ORDER), "skipped": [["see"]]}),
    ("grounding.order", {"order": [1, 2, 3, 4, 5], "skipped": []}),
]


@pytest.mark.parametrize("t,d", BAD, ids=[f"{t}-{i}" for i, (t, _) in enumerate(BAD)])
def test_bad_input_is_rejected_never_clamped(t, d):
    r = calm.validate(t, d)
    assert isinstance(r, Rejected) and r.code == E_INVALID and r.reason, (t, d)


def test_valid_payloads_come_back_normalised():
    assert calm.validate("pacer.start", {"pattern": "box3", "minutes": 3}) == \
        {"pattern": "box3", "rounds": None, "minutes": 3}
    assert calm.validate("pattern.save", pattern_d("p", name="  Sea  ", hold=0))["name"] == "Sea"
    assert calm.validate("grounding.order", {"order": ["taste", "smell", "hear", "touch", "see"],
                                             "skipped": ["see", "taste"]})["skipped"] == ["taste", "see"]


# ====================================================================== check (state rules)

def refused(state, t, d, code):
    r = calm.check(state, t, d)
    assert isinstance(r, Rejected) and r.code == code and r.reason, (t, d, r)


def test_CALM2_pause_is_refused_when_the_pacer_is_not_running():
    idle = calm.initial_state()
    refused(idle, "pacer.pause", {"at": T0}, E_INVALID)
    paused = run(started(), ("pacer.pause", {"at": T0 + 1}))
    refused(paused, "pacer.pause", {"at": T0 + 2}, E_INVALID)
    # Finished (5 rounds of 10 s): nothing runs any more.
    refused(started(), "pacer.pause", {"at": T0 + 50}, E_INVALID)
    assert calm.check(started(), "pacer.pause", {"at": T0 + 49}) is None


def test_CALM2_resume_and_stop_need_a_paused_or_started_pacer():
    refused(started(), "pacer.resume", {"at": T0 + 1}, E_INVALID)
    refused(calm.initial_state(), "pacer.stop", {"at": T0}, E_NOTHING)
    assert calm.check(started(), "pacer.stop", {"at": T0 + 500}) is None


def test_CALM2_timer_rules():
    s = run(calm.initial_state(), ("timer.start", {"minutes": 1, "at": T0}))
    assert calm.check(s, "timer.pause", {"at": T0 + 59}) is None
    refused(s, "timer.pause", {"at": T0 + 60}, E_INVALID)        # ran out
    refused(s, "timer.resume", {"at": T0 + 1}, E_INVALID)
    refused(calm.initial_state(), "timer.reset", {"at": T0}, E_NOTHING)


def test_pattern_rules():
    refused(calm.initial_state(), "pacer.start", {"pattern": "mine", "rounds": 1, "minutes": None, "at": T0},
            E_INVALID)
    refused(calm.initial_state(), "pattern.save", calm.validate("pattern.save", pattern_d("box4")), E_CONFLICT)
    refused(calm.initial_state(), "pattern.delete", {"id": "mine"}, E_NOTHING)
    s = calm.initial_state()
    for k in range(calm.MAX_PATTERNS):
        s = run(s, ("pattern.save", calm.validate("pattern.save", pattern_d(f"p{k}"))))
    refused(s, "pattern.save", calm.validate("pattern.save", pattern_d("one-more")), E_FULL)
    assert calm.check(s, "pattern.save", calm.validate("pattern.save", pattern_d("p3", inhale=2))) is None


def test_grounding_rules():
    idle = calm.initial_state()
    refused(idle, "grounding.go", {"to": "see"}, E_INVALID)
    refused(idle, "grounding.count", {"sense": "see", "n": 1}, E_INVALID)
    refused(idle, "grounding.stop", {}, E_NOTHING)
    s = run(idle, ("grounding.start", {}), ("grounding.order", {"order": list(calm.SENSE_ORDER),
                                                                "skipped": ["smell"]}))
    refused(s, "grounding.go", {"to": "smell"}, E_INVALID)
    refused(s, "grounding.count", {"sense": "touch", "n": 1}, E_INVALID)
    assert calm.check(s, "grounding.count", {"sense": "see", "n": 5}) is None
    assert calm.check(s, "grounding.go", {"to": "done"}) is None


# ====================================================================== permissions

CLIENT_OPS = [t for t, spec in calm.OPS.items() if spec.client] + ["history"]
SETTINGS_ON = {"child_may_draw": True, "parent_may_play": True}
SETTINGS_OFF = {"child_may_draw": False, "parent_may_play": False}


@pytest.mark.parametrize("t", CLIENT_OPS)
@pytest.mark.parametrize("role,settings,allowed", [
    (THERAPIST, SETTINGS_OFF, set(CLIENT_OPS)),
    (CHILD, SETTINGS_ON, {"grounding.count"}),
    (PARENT, SETTINGS_ON, {"grounding.count"}),
    (CHILD, SETTINGS_OFF, set()),
    (PARENT, SETTINGS_OFF, set()),
], ids=["therapist", "child-may", "parent-may", "child-not", "parent-not"])
def test_ROLE_who_may_do_what_in_the_calm_corner(t, role, settings, allowed):
    assert calm.may(role, t, settings) is (t in allowed)


# ====================================================================== the pipeline

@pytest.fixture
def people(storage, room_id):
    th = storage.get_room(room_id)["therapist_id"]
    out = {THERAPIST: {"id": f"th-{th}", "role": THERAPIST}}
    for role, name in ((CHILD, "Sam"), (PARENT, "Mum")):
        p = storage.create_participant(room_id, role, name, "fox")
        out[role] = {"id": p["id"], "role": role}
    return out


class Clock:
    def __init__(self, now=T0):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def engine(storage, clock):
    return Engine(storage, build_registry(), Broadcasts(), clock=clock)


def send(engine, room_id, who, t, d, op_id=None):
    return engine.submit(room_id, who, {"op_id": op_id or f"o{t}{json.dumps(d)}{who['id']}"[:64],
                                        "a": "calm", "t": t, "d": d})


def pacer(engine, room_id):
    return engine.state(room_id, "calm")[1]["pacer"]


def test_CLK1_start_pause_resume_carry_the_servers_time(engine, room_id, people, clock):
    th = people[THERAPIST]
    assert send(engine, room_id, th, "pacer.start", {"pattern": "box4", "rounds": 2})["ok"]
    clock.now = T0 + 5
    assert send(engine, room_id, th, "pacer.pause", {})["ok"]
    clock.now = T0 + 20
    assert send(engine, room_id, th, "pacer.resume", {})["ok"]
    p = pacer(engine, room_id)
    assert (p["started_at"], p["paused_total"], p["running"]) == (T0, 15, True)
    ops = [d for _, e, d in engine.events.sink if e == "op"]
    assert [o["d"]["at"] for o in ops] == [T0, T0 + 5, T0 + 20]
    assert calm.pacer_phase(p, T0 + 21)["phase"] == "hold"       # 6 s into box breathing


def test_CALM2_refusals_leave_the_state_unchanged(engine, room_id, people, clock):
    th, child = people[THERAPIST], people[CHILD]
    before = copy.deepcopy(engine.state(room_id, "calm")[1])
    for who, t, d, code in [
        (th, "pacer.pause", {}, E_INVALID),                                  # not running
        (th, "pacer.start", {"pattern": "balloon", "rounds": 5, "at": T0 + 9e6}, E_INVALID),
        (th, "pacer.start", {"pattern": "balloon", "rounds": 5, "at": T0 - 9e6}, E_INVALID),
        (th, "pattern.save", pattern_d("p", inhale="4"), E_INVALID),
        (child, "pacer.start", {"pattern": "box4", "rounds": 2}, E_FORBIDDEN),
        (child, "pattern.save", pattern_d("p"), E_FORBIDDEN),
        (people[PARENT], "pacer.stop", {}, E_FORBIDDEN),
    ]:
        ack = send(engine, room_id, who, t, d)
        assert ack["ok"] is False and ack["code"] == code, (t, d, ack)
    assert engine.state(room_id, "calm")[1] == before
    assert not [1 for _, e, _ in engine.events.sink if e == "op"]


def test_UNDO1_therapist_undoes_a_stop_and_the_pacer_runs_on_in_the_same_rhythm(engine, room_id, people, clock):
    th = people[THERAPIST]
    assert send(engine, room_id, th, "pacer.start", {"pattern": "balloon", "rounds": 10})["ok"]
    running = pacer(engine, room_id)
    clock.now = T0 + 13
    assert send(engine, room_id, th, "pacer.stop", {})["ok"]
    assert pacer(engine, room_id)["started_at"] is None
    ack = engine.history(room_id, th, {"op_id": "u1", "a": "calm", "action": "undo"})
    assert ack["ok"], ack
    assert pacer(engine, room_id) == running


def test_guest_counts_in_grounding_while_allowed(engine, room_id, people):
    th, child = people[THERAPIST], people[CHILD]
    assert send(engine, room_id, th, "grounding.start", {})["ok"]
    assert send(engine, room_id, child, "grounding.count", {"sense": "see", "n": 2})["ok"]
    assert engine.set_settings(room_id, th, {"child_may_draw": False})["ok"]
    ack = send(engine, room_id, child, "grounding.count", {"sense": "see", "n": 3})
    assert ack["code"] == E_FORBIDDEN
    assert engine.state(room_id, "calm")[1]["grounding"]["counts"]["see"] == 2


def test_DUR1_a_restarted_server_replays_the_same_stamped_times(storage, room_id, people, clock):
    e1 = Engine(storage, build_registry(), Broadcasts(), clock=clock)
    th = people[THERAPIST]
    assert send(e1, room_id, th, "pacer.start", {"pattern": "star", "minutes": 2})["ok"]
    clock.now = T0 + 4
    assert send(e1, room_id, th, "pacer.pause", {})["ok"]
    clock.now = T0 + 999                         # the restart happens much later
    e2 = Engine(storage, build_registry(), Broadcasts(), clock=clock)
    assert e2.state(room_id, "calm")[1] == e1.state(room_id, "calm")[1]
    assert pacer(e2, room_id)["paused_at"] == T0 + 4


def test_client_config_is_json_and_lists_the_presets_in_order():
    cfg = calm.client_config()
    json.dumps(cfg, allow_nan=False)
    assert cfg["preset_order"][0] == "balloon" and set(cfg["preset_order"]) == set(calm.PRESETS)
    assert set(cfg["stamped"]) == set(STAMPED)
    assert all(sum(p["timing"]) > 0 for p in calm.PRESETS.values())
    assert not set(cfg["ops"]) & {"pacer.restore", "timer.restore", "grounding.restore", "pattern.restore"}
    assert math.isclose(sum(calm.PRESETS["478"]["timing"]), 19)


# ---------------------------------------------------------------- languages (issue 16)

@pytest.fixture(scope="module")
def spanish():
    from activities.contract.i18n import Catalogs
    from rooms.web import i18n
    return Catalogs([(d[1], d[0]) for d in i18n.domains()]).translator("es")


def test_breathing_cues_and_pattern_names_follow_the_reader(spanish):
    en, es = calm.client_config(), calm.client_config(spanish)
    assert en["cues"] == calm.CUES and en["cues"]["default"]["inhale"] == "Breathe in"
    assert es["cues"]["default"] == {"inhale": "Respira hondo", "hold": "Aguanta", "exhale": "Suelta el aire",
                                     "hold2": "Aguanta"}
    assert es["cues"]["balloon"]["inhale"] == "Infla el globo"
    assert set(es["cues"]) == set(en["cues"]) and all(set(c) == set(calm.PHASES) for c in es["cues"].values())
    # The presets the reducers use stay as they are (every screen computes the same state).
    assert es["presets"] == en["presets"] == calm.PRESETS
    assert en["preset_names"] == {pid: p["name"] for pid, p in calm.PRESETS.items()}
    assert es["preset_names"]["balloon"] == "Globo" and es["preset_names"]["hand"] == "Cinco dedos"
    assert spanish.gettext(calm.TITLE) == "Calma"


def test_record_lines_in_the_readers_language(spanish):
    def op(seq, t, d, at):
        return {"seq": seq, "ts": at, "by": "th", "kind": "do", "t": t, "d": {**d, "at": at}}
    ops = [op(1, "pacer.start", {"pattern": "balloon", "rounds": 5}, T0),
           op(2, "pacer.stop", {}, T0 + 30),
           op(3, "pattern.save", {"id": "w", "name": "Olas lentas", "inhale": 3, "hold": 0, "exhale": 3,
                                  "hold2": 0, "visual": "orb"}, T0 + 31),
           op(4, "pacer.start", {"pattern": "w", "rounds": 1}, T0 + 40),
           op(5, "timer.start", {"minutes": 5}, T0 + 100),
           op(6, "grounding.start", {}, T0 + 200)]
    en = [e["text"] for e in calm.record_entries(ops, ended_at=T0 + 46)]
    assert en == ["started breathing “Balloon”: 30 s (3 of 5 breaths)",
                  "started breathing “Olas lentas”: 6 s (1 of 1 breath)",
                  "started a 5 min timer", "started 5-4-3-2-1 grounding"]
    es = [e["text"] for e in calm.record_entries(ops, ended_at=T0 + 46, tr=spanish)]
    assert es == ["respiró con “Globo”: 30 s (3 de 5 respiraciones)",
                  "respiró con “Olas lentas”: 6 s (1 de 1 respiración)",
                  "puso un temporizador de 5 min", "empezó el ejercicio 5-4-3-2-1 de los sentidos"]
