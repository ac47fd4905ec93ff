"""The activity contract (activities/contract/__init__.py), checked over every
registered activity, as the storage contract suite checks every backend: a new
activity gets these checks by its one registry line.

The ops come from the hostile-client suite's valid samples (tests/hostile/fuzz.py
SAMPLES, one generator per activity), so an activity added without samples fails
`test_every_activity_has_samples` first.
"""
import copy
import json
import random

import pytest

from activities.contract import Rejected
from activities.contract.protocol import CHILD, PARENT, ROLES, THERAPIST
from activities.registry import build_registry
from rooms.core.control import default_settings
from tests.hostile.fuzz import SAMPLES, Ids

REGISTRY = build_registry()
NAMES = REGISTRY.names()
REQUIRED = ("NAME", "TITLE", "ICON", "OPS", "EPHEMERAL", "initial_state", "validate", "check",
            "may", "apply", "client_config")
PEOPLE = {THERAPIST: "pid-therapist-7f3a", CHILD: "pid-child-2b9c", PARENT: "pid-parent-5d1e"}


def settings_variants():
    """Room settings a `may` must answer for: the defaults, frozen, private child
    time, guests watching, each activity switched off for each guest role."""
    base = default_settings(NAMES)
    out = [base, {**base, "freeze": True}, {**base, "private": True},
           {**base, "child_may_draw": False, "parent_may_play": False}]
    for role in (CHILD, PARENT):
        off = copy.deepcopy(base)
        off["perms"][role] = {name: False for name in NAMES}
        out.append(off)
    return out


def played(module, n=400, seed=7):
    """A seeded sequence of valid ops the activity accepts, as the engine would run
    them: validate, stamp, check, apply. Yields (state before, t, d, by, state after,
    inverse, seq)."""
    rng = random.Random(seed)
    table = SAMPLES[module.NAME](rng, Ids(rng, "c"))
    kinds = sorted(table)
    state = module.initial_state()
    clock = 1_700_000_000.0
    for seq in range(1, n + 1):
        t = kinds[seq % len(kinds)] if seq <= len(kinds) else rng.choice(kinds)
        d = module.validate(t, table[t]())
        if isinstance(d, Rejected):
            continue
        clock += rng.uniform(0.5, 5)
        if module.OPS[t].stamped:
            d = {**d, "at": clock}
        if module.check(state, t, d) is not None:
            continue
        by = PEOPLE[rng.choice(ROLES)]
        before = copy.deepcopy(state)
        after, inverse = module.apply(state, t, d, by=by)
        assert state == before, f"{module.NAME} {t}: apply changed the state it was given"
        yield before, t, d, by, after, inverse, seq, clock
        state = after


@pytest.fixture(params=NAMES)
def module(request):
    return REGISTRY.get(request.param)


def test_every_activity_has_the_contract(module):
    missing = [name for name in REQUIRED if not hasattr(module, name)]
    assert not missing, f"{module.NAME} lacks {missing}"
    assert isinstance(module.NAME, str) and REGISTRY.get(module.NAME) is module
    for t, spec in module.OPS.items():
        assert callable(spec.validator), (module.NAME, t)


def test_every_activity_has_samples(module):
    """The suite's valid samples cover every op a client may send (so the fuzzer and
    these checks reach all of them)."""
    rng = random.Random(1)
    table = SAMPLES[module.NAME](rng, Ids(rng, "s"))
    client_ops = {t for t, spec in module.OPS.items() if spec.client}
    assert client_ops <= set(table), f"no sample for {sorted(client_ops - set(table))}"


def test_client_config_is_json(module):
    config = module.client_config()
    assert isinstance(config, dict)
    assert json.loads(json.dumps(config, allow_nan=False)) == json.loads(json.dumps(config))


def test_may_answers_every_op_type_for_every_role(module):
    """`may` covers every op type (and "history", undo/redo): a plain bool for every
    role and settings, never an exception; the therapist may always."""
    for settings in settings_variants():
        for role in ROLES:
            for t in [*module.OPS, "history"]:
                answer = module.may(role, t, settings)
                assert isinstance(answer, bool), (module.NAME, role, t)
                if role == THERAPIST:
                    assert answer, (module.NAME, t)


def test_validators_reject_unknown_fields_and_non_objects(module):
    rng = random.Random(3)
    table = SAMPLES[module.NAME](rng, Ids(rng, "v"))
    for t, make in table.items():
        sample = make()
        if isinstance(module.validate(t, sample), Rejected):
            continue
        assert isinstance(module.validate(t, {**sample, "zz_unknown": 1}), Rejected), (module.NAME, t)
        for junk in (None, [], "x", 7):
            assert isinstance(module.validate(t, junk), Rejected), (module.NAME, t, junk)
    assert isinstance(module.validate("no.such.op", {}), Rejected)


def test_ops_have_inverses_that_undo_them(module):
    """Every accepted op's inverse, applied to the new state, gives back the old one
    (per-person undo rests on it); an op without inverse changed nothing."""
    seen = set()
    for before, t, d, by, after, inverse, _, _ in played(module):
        seen.add(t)
        if inverse is None:
            assert after == before, f"{module.NAME} {t}: no inverse but the state changed"
            continue
        back, redo = module.apply(after, *inverse, by=by)
        assert back == before, f"{module.NAME} {t}: its inverse does not undo it"
        assert redo is not None, f"{module.NAME} {t}: an undo must be redoable"
    assert seen, f"{module.NAME}: no sample op was accepted"


def test_record_entries_never_name_a_person(module):
    """The timeline adds who did what (rooms/records/service.py): an activity's
    entries carry the participant id in `by` only, never in the text."""
    fn = getattr(module, "record_entries", None)
    if fn is None:
        pytest.skip(f"{module.NAME} writes no timeline entries")
    ops, state, ended = [], module.initial_state(), 0.0
    for _, t, d, by, after, _, seq, at in played(module):
        ops.append({"seq": seq, "a": module.NAME, "t": t, "d": d, "by": by, "ts": at, "kind": "op"})
        state, ended = after, at
    entries = list(fn(ops, state, ended + 1))
    for e in entries:
        assert {"seq", "at", "kind", "text"} <= set(e), e
        assert isinstance(e["text"], str)
        for role, pid in PEOPLE.items():
            assert pid not in e["text"], f"{module.NAME}: entry text names {role}: {e['text']!r}"
        assert e.get("by") in (None, *PEOPLE.values())


def test_practice_tasks_name_every_prompt_level_the_record_writes(module):
    """The trend charts (rooms/records/trends.py) read "task.prompt" record entries by
    the task, step and level that practice_tasks() names: every such entry of a
    played session must be one of them, or the room page would drop it."""
    fn = getattr(module, "practice_tasks", None)
    if fn is None:
        pytest.skip(f"{module.NAME} has no task analyses")
    practice = fn()
    assert practice["levels"] and all(isinstance(v, str) for v in practice["levels"])
    ops, state = [], module.initial_state()
    for _, t, d, by, after, _, seq, at in played(module, n=1500):
        ops.append({"seq": seq, "a": module.NAME, "t": t, "d": d, "by": by, "ts": at, "kind": "do"})
        state = after
    prompts = [e["data"] for e in module.record_entries(ops, state) if e["kind"] == "task.prompt"]
    assert prompts, "the samples set prompt levels"
    for data in prompts:
        task = practice["tasks"][data["task"]]
        assert 0 <= data["step"] < len(task["steps"]) and task["title"]
        assert data["level"] is None or data["level"] in practice["levels"]
