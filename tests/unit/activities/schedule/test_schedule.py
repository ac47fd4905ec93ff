"""The visual schedule / first–then board (issue 6): strict validation, state checks,
who may do what (SCHED1), every op and its inverse, the pipeline (stamped timers,
undo by a child) and the browser reducer's parity with this one (node)."""
import copy
import json
import shutil

import pytest

from activities.registry import build_registry

from activities import schedule as sc
from activities.contract import Rejected
from rooms.core.engine import Engine
from activities.contract.protocol import CHILD, E_CONFLICT, E_FORBIDDEN, E_FULL, E_INVALID, E_NOTHING, PARENT, \
    THERAPIST
from tests.support import run_node, with_undo
from tests.unit.core.test_engine import Broadcasts

UID = "u" * 22
T0 = 1_700_000_000.0


def valid(t, d):
    out = sc.validate(t, d)
    assert not isinstance(out, Rejected), (t, out)
    return out


def run(state, *ops):
    for t, d in ops:
        assert sc.check(state, t, d) is None, (t, d, sc.check(state, t, d))
        state, _ = sc.apply(state, t, d)
    return state


def step(sid, pos=0, pic="toilet", text="Toilet", secs=0):
    return ("step.add", {"id": sid, "pos": pos, "pic": pic, "text": text, "secs": secs})


def three():
    return run(sc.initial_state(), step("a"), step("b", 1, "plate", "Eat", 60),
               step("c", 2, "upload:" + UID, "Play", 0))


# ====================================================================== validation

@pytest.mark.parametrize("t,d", [
    ("layout", {"layout": "grid"}),
    ("layout", {"layout": "list", "x": 1}),
    ("step.add", {"id": "a", "pos": 0, "pic": "nope", "text": "", "secs": 0}),
    ("step.add", {"id": "a", "pos": 0, "pic": "upload:../../etc", "text": "", "secs": 0}),
    ("step.add", {"id": "a b", "pos": 0, "pic": "owl", "text": "", "secs": 0}),
    ("step.add", {"id": "a", "pos": 12, "pic": "owl", "text": "", "secs": 0}),
    ("step.add", {"id": "a", "pos": -1, "pic": "owl", "text": "", "secs": 0}),
    ("step.add", {"id": "a", "pos": 0, "pic": "owl", "text": "x" * 41, "secs": 0}),
    ("step.add", {"id": "a", "pos": 0, "pic": "owl", "text": "two\nlines", "secs": 0}),
    ("step.add", {"id": "a", "pos": 0, "pic": "owl", "text": "bell\x07", "secs": 0}),
    ("step.add", {"id": "a", "pos": 0, "pic": "owl", "text": "", "secs": 5}),
    ("step.add", {"id": "a", "pos": 0, "pic": "owl", "text": "", "secs": 3601}),
    ("step.add", {"id": "a", "pos": 0, "pic": "owl", "text": "", "secs": 30.5}),
    ("step.add", {"id": "a", "pos": 0, "pic": "owl", "text": "", "secs": True}),
    ("step.add", {"id": "a", "pos": 0, "pic": "owl", "text": ""}),
    ("step.done", {"id": "a", "done": 1}),
    ("step.move", {"id": "a", "to": "1"}),
    ("timer.start", {"step": "a", "at": T0}),          # a client may not send the time
    ("timer.stop", {"step": "a"}),
    ("rewards", {"pics": ["star"] * 2}),
    ("rewards", {"pics": ["star", "kite", "teddy", "puzzle", "balloon"]}),
    ("rewards", {"pics": "star"}),
    ("reward.pick", {"pic": "nope"}),
    ("reset", {"all": True}),
])
def test_bad_input_is_refused_as_invalid(t, d):
    out = sc.validate(t, d)
    assert isinstance(out, Rejected) and out.code == E_INVALID, (t, d, out)


def test_text_is_kept_as_text_and_trimmed():
    d = valid("step.add", {"id": "a", "pos": 0, "pic": "owl", "text": " <b>Sam</b> & co ", "secs": 10})
    assert d["text"] == "<b>Sam</b> & co" and d["secs"] == 10


def test_server_only_ops_are_not_client_ops():
    assert {t for t, s in sc.OPS.items() if not s.client} == {"step.put", "timer.set", "rewards.set",
                                                               "restore"}
    # Steps done and the prize picked are stamped: their time is in the session record.
    assert sc.OPS["timer.start"].stamped and sc.OPS["step.done"].stamped
    assert sc.OPS["reward.pick"].stamped and not sc.OPS["timer.stop"].stamped


# ====================================================================== checks

def test_checks_need_the_state():
    s = three()
    assert sc.check(s, *step("a")).code == E_CONFLICT
    assert sc.check(s, *step("z", 4)).code == E_INVALID
    assert sc.check(s, "step.done", {"id": "zz", "done": True}).code == E_INVALID
    assert sc.check(s, "step.move", {"id": "a", "to": 3}).code == E_INVALID
    assert sc.check(s, "timer.start", {"step": "a", "at": T0}).code == E_INVALID   # no timer
    assert sc.check(s, "timer.stop", {}).code == E_NOTHING
    s = run(s, ("rewards", {"pics": ["kite", "teddy"]}))
    assert sc.check(s, "reward.pick", {"pic": "kite"}).code == E_INVALID   # steps not done
    assert sc.check(s, "reward.pick", {"pic": "star"}).code == E_INVALID   # not on offer
    full = run(sc.initial_state(), *[step(f"s{i}", i) for i in range(sc.MAX_STEPS)])
    assert sc.check(full, *step("one-more", 0)).code == E_FULL
    done = run(s, *[("step.done", {"id": i, "done": True}) for i in "abc"])
    assert sc.check(done, "reward.pick", {"pic": "kite"}) is None
    assert sc.check(done, "timer.start", {"step": "b", "at": T0}).code == E_INVALID


# ====================================================================== who may do what

@pytest.mark.parametrize("role", [CHILD, PARENT])
def test_SCHED1_guests_only_tick_time_and_pick_while_they_may_play(role):
    on = {"child_may_draw": True, "parent_may_play": True}
    for t in sc.OPS:
        assert sc.may(THERAPIST, t, {})
        assert not sc.may(role, t, {}), t
        assert sc.may(role, t, on) == (t in {"step.done", "timer.start", "timer.stop", "reward.pick"}), t
    assert sc.may(role, "history", on) and not sc.may(role, "history", {})


# ====================================================================== ops and inverses

def round_trip(state, t, d):
    """Apply (t, d); apply its inverse; the state is back. Returns the applied state."""
    before = copy.deepcopy(state)
    after, inv = sc.apply(state, t, d)
    assert inv is not None, t
    assert state == before                           # pure: nothing mutated
    back, inv2 = sc.apply(after, *inv)
    assert back == before, (t, inv)
    again, _ = sc.apply(back, *inv2)                 # redo gives the same state again
    assert again == after, (t, inv2)
    return after


ROUND_TRIP = [
    ("layout", {"layout": "list"}),
    ("step.add", {"id": "n", "pos": 1, "pic": "kite", "text": "Kite", "secs": 30}),
    ("step.remove", {"id": "b"}),
    ("step.edit", {"id": "a", "pic": "shower", "text": "Wash", "secs": 120}),
    ("step.move", {"id": "a", "to": 2}),
    ("step.move", {"id": "c", "to": 0}),
    ("step.done", {"id": "a", "done": True}),
    ("timer.start", {"step": "b", "at": T0}),
    ("rewards", {"pics": ["kite", "teddy", "upload:" + UID]}),
    ("reset", {}),
]


@pytest.mark.parametrize("t,d", ROUND_TRIP, ids=[f"{t}-{i}" for i, (t, _) in enumerate(ROUND_TRIP)])
def test_every_op_has_an_inverse_that_restores_the_state(t, d):
    s = run(three(), ("step.done", {"id": "c", "done": True}), ("timer.start", {"step": "b", "at": T0 - 5}),
            ("rewards", {"pics": ["kite"]}))
    if t == "timer.start":
        s = run(s, ("timer.stop", {}))
    round_trip(s, t, d)


def test_removing_the_step_whose_timer_runs_stops_it_and_undo_brings_both_back():
    s = run(three(), ("timer.start", {"step": "b", "at": T0}))
    after = round_trip(s, "step.remove", {"id": "b"})
    assert after["timer"] is None and [x["id"] for x in after["steps"]] == ["a", "c"]


def test_picking_a_reward_at_the_end_and_taking_the_offer_away():
    s = run(three(), ("rewards", {"pics": ["kite", "teddy"]}),
            *[("step.done", {"id": i, "done": True}) for i in "abc"])
    s = round_trip(s, "reward.pick", {"pic": "teddy"})
    assert s["reward"] == "teddy" and sc.all_done(s)
    s2 = round_trip(s, "rewards", {"pics": ["kite", "star"]})
    assert s2["reward"] is None                      # no longer on offer
    assert round_trip(s, "reset", {})["reward"] is None


def test_stale_and_repeated_ops_are_no_ops():
    s = three()
    for t, d in [("step.done", {"id": "zz", "done": True}), ("step.remove", {"id": "zz"}),
                 ("step.move", {"id": "a", "to": 0}), ("layout", {"layout": "first-then"}),
                 ("timer.stop", {}), ("timer.start", {"step": "a", "at": T0}),
                 ("step.done", {"id": "a", "done": False}), ("reward.pick", {"pic": "kite"}),
                 ("reset", {}), ("step.put", {"pos": 0, "step": s["steps"][0], "timer": None})]:
        assert sc.apply(s, t, d) == (s, None), t


def test_uploads_used_lists_step_and_reward_uploads():
    other = "v" * 22
    s = run(three(), ("rewards", {"pics": ["kite", "upload:" + other]}))
    assert sc.uploads_used(s) == {UID, other}
    assert sc.uploads_used(sc.initial_state()) == set()


def test_examples_in_the_client_config_are_valid_steps():
    cfg = sc.client_config()
    for steps in cfg["examples"].values():
        for i, (pic, text, secs) in enumerate(steps):
            valid("step.add", {"id": f"x{i}", "pos": i, "pic": pic, "text": text, "secs": secs})
    valid("rewards", {"pics": cfg["reward_ideas"][:4]})


# ====================================================================== pipeline

@pytest.fixture
def engine(storage):
    return Engine(storage, build_registry(), Broadcasts(), clock=lambda: T0)


def test_timer_is_stamped_by_the_server_and_a_child_undoes_only_their_own(engine, storage, room_id):
    th = {"id": "th", "role": THERAPIST}
    kid = {"id": "kid", "role": CHILD}

    def send(who, t, d, n):
        return engine.submit(room_id, who, {"op_id": f"o{n}", "a": "schedule", "t": t, "d": d})
    assert send(th, *step("a", secs=60), 1)["ok"]
    assert send(th, *step("b", 1), 2)["ok"]
    engine.set_settings(room_id, th, {"child_may_draw": True})
    assert send(kid, "timer.start", {"step": "a"}, 3)["ok"]
    assert engine.state(room_id, "schedule")[1]["timer"] == {"step": "a", "at": T0}
    assert send(kid, "timer.start", {"step": "a", "at": 5.0}, 4)["code"] == E_INVALID
    assert send(kid, "step.add", step("z")[1], 5)["code"] == E_FORBIDDEN
    assert send(kid, "step.done", {"id": "b", "done": True}, 6)["ok"]
    ack = engine.history(room_id, kid, {"op_id": "u1", "a": "schedule", "action": "undo"})
    assert ack["ok"], ack
    s = engine.state(room_id, "schedule")[1]
    assert [x["done"] for x in s["steps"]] == [False, False] and s["timer"] is not None
    assert len(s["steps"]) == 2                     # the therapist's steps are untouched


# ====================================================================== browser parity

PARITY_OPS = [step("a"), step("b", 1, "plate", "Eat", 60), step("c", 0, "upload:" + UID, "Play", 0)] + \
    ROUND_TRIP + [
    ("timer.stop", {}), ("timer.start", {"step": "b", "at": T0 + 1.25}),
    ("step.remove", {"id": "b"}), ("step.done", {"id": "zz", "done": True}),
    ("rewards", {"pics": ["kite", "teddy"]}),
    ("step.done", {"id": "a", "done": True}), ("step.done", {"id": "c", "done": True}),
    ("step.done", {"id": "n", "done": True}),
    ("reward.pick", {"pic": "teddy"}), ("reward.pick", {"pic": "star"}),
    ("rewards", {"pics": ["kite"]}), ("reset", {}), ("layout", {"layout": "first-then"}),
]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_browser_reducer_gives_the_same_states_and_inverses(tmp_path):
    """static/canvas/schedule/model.js run by node on the same ops (inverses applied
    too) gives the same state and inverse after every op."""
    script = (
        "import {apply, initialState} from './model.mjs';\n"
        "import {readFileSync} from 'node:fs';\n"
        "const {cfg, ops} = JSON.parse(readFileSync(0, 'utf8'));\n"
        "let s = initialState(); const out = [];\n"
        "for (const [t, d] of ops) { const [n, inv] = apply(s, cfg, t, d); s = n; out.push([n, inv]); }\n"
        "process.stdout.write(JSON.stringify(out));\n")
    ops = with_undo(sc, PARITY_OPS)
    js = run_node(tmp_path, {"model.mjs": "schedule/model.js"}, script,
                  {"cfg": sc.client_config(), "ops": ops})
    assert len(js) == len(ops)
    s = sc.initial_state()
    for (t, d), (js_state, js_inv) in zip(ops, js):
        s, inv = sc.apply(s, t, d)
        assert js_state == json.loads(json.dumps(s)), t
        assert js_inv == (list(json.loads(json.dumps(inv))) if inv else None), t
    assert s == sc.initial_state() | {"layout": s["layout"]}


# ====================================================================== session record

def test_record_lists_steps_done_with_times_timers_prizes_and_the_end(storage, room_id):
    """Issue 17: the record said only "showed everyone Schedule"; now each step done
    (with the time it was done), the timer, the prizes and the pick, and an undo."""
    from rooms.records import service as records
    now = [T0]
    engine = Engine(storage, build_registry(), Broadcasts(), clock=lambda: now[0])
    th, kid = {"id": "th", "role": THERAPIST}, {"id": "kid", "role": CHILD}
    n = iter(range(100))

    def send(who, t, d, at):
        now[0] = at
        ack = engine.submit(room_id, who, {"op_id": f"o{next(n)}", "a": "schedule", "t": t, "d": d})
        assert ack["ok"], ack
    send(th, *step("a", 0, "toilet", "Toilet"), T0)
    send(th, *step("b", 1, "plate", "", 120), T0 + 1)
    send(th, "rewards", {"pics": ["kite", "teddy"]}, T0 + 2)
    engine.set_settings(room_id, th, {"child_may_draw": True})
    send(kid, "step.done", {"id": "a", "done": True}, T0 + 60)
    assert engine.history(room_id, kid, {"op_id": "u1", "a": "schedule", "action": "undo"})["ok"]
    send(kid, "step.done", {"id": "a", "done": True}, T0 + 90)
    send(kid, "timer.start", {"step": "b"}, T0 + 100)
    send(kid, "step.done", {"id": "b", "done": True}, T0 + 220)
    send(kid, "reward.pick", {"pic": "teddy"}, T0 + 230)
    people = [{"id": "th", "name": "Dr. Kim", "role": THERAPIST},
              {"id": "kid", "name": "Sam", "role": CHILD}]
    tl = records.build_timeline(storage.ops_since(room_id, 0), people, build_registry(),
                                states={"schedule": engine.state(room_id, "schedule")[1]})
    tl = [e for e in tl if e["activity"] == "schedule"]
    assert [records.entry_line(e) for e in tl] == [
        "Dr. Kim added 2 steps to the schedule",
        "Dr. Kim offered prizes: kite, teddy bear",
        "Sam finished the step “Toilet”",
        "Sam put the step “Toilet” back to do (undo)",
        "Sam finished the step “Toilet”",
        "Sam started the timer for “plate and cutlery” (2 min)",
        "Sam finished the step “plate and cutlery”",
        "Sam finished the whole schedule (2 steps)",
        "Sam picked the prize: teddy bear",
    ]
    # Steps done, timer and pick carry the server's time (CLK1), printed beside the line
    # (an undo is the time it was stored).
    assert [e["at"] for i, e in enumerate(tl) if i > 1 and i != 3] == \
        [T0 + 60, T0 + 90, T0 + 100, T0 + 220, T0 + 220, T0 + 230]


# ====================================================================== languages (issue 16)

@pytest.fixture(scope="module")
def spanish():
    from activities.contract.i18n import Catalogs
    from rooms.web import i18n
    return Catalogs([(d[1], d[0]) for d in i18n.domains()]).translator("es")


def test_the_quick_start_steps_read_in_the_readers_language(spanish):
    """The quick starts are stored in the source language and every screen reads them
    in its own: a Spanish-speaking child sees "Despertarse" whoever built the plan."""
    en, es = sc.client_config(), sc.client_config(spanish)
    assert en["examples"] == es["examples"]                   # what is stored: one language
    stored = [text for steps in es["examples"].values() for _, text, _ in steps]
    assert set(stored) == set(es["words"]) == set(en["words"])
    assert all(en["words"][w] == w for w in stored)
    assert es["words"]["Wake up"] == "Despertarse" and es["words"]["Toilet"] == "Ir al baño"
    assert all(es["words"][w] != w for w in stored)
    assert es["example_names"] == {"morning": "Rutina de la mañana", "session": "Nuestra sesión"}
    assert spanish.gettext(sc.TITLE) == "Horario"


def test_record_lines_in_the_readers_language(spanish):
    state = sc.initial_state()
    ops, seq = [], iter(range(1, 100))
    for t, d, by in [("step.add", {"id": "a", "pos": 0, "pic": "toilet", "text": "Toilet", "secs": 0}, "th"),
                     ("step.add", {"id": "b", "pos": 1, "pic": "plate", "text": "", "secs": 90}, "th"),
                     ("step.done", {"id": "a", "done": True, "at": 10.0}, "kid"),
                     ("timer.start", {"step": "b", "at": 11.0}, "kid"),
                     ("step.done", {"id": "b", "done": True, "at": 12.0}, "kid")]:
        state, _ = sc.apply(state, t, d)
        ops.append({"seq": next(seq), "ts": 1.0, "by": by, "kind": "do", "t": t, "d": d})
    en = [e["text"] for e in sc.record_entries(ops, state)]
    assert en == ["added 2 steps to the schedule", "finished the step “Toilet”",
                  "started the timer for “plate and cutlery” (1 min 30 s)",
                  "finished the step “plate and cutlery”", "finished the whole schedule (2 steps)"]
    es = [e["text"] for e in sc.record_entries(ops, state, tr=spanish)]
    assert es[0] == "agregó 2 pasos al horario"
    assert es[1] == "terminó el paso “Ir al baño”"
    assert es[2].startswith("puso el temporizador de “") and es[2].endswith("” (1 min 30 s)")
    assert es[4] == "terminó todo el horario (2 pasos)"
    one = sc.record_entries(ops[:1], tr=spanish)
    assert one[0]["text"] == "agregó 1 paso al horario"
