"""Sand tray activity: the pure reducer and its inverses (sand brush included), state
checks, strict validation, permissions, ephemeral signals, the figure catalogue, the
server renderer and the browser reducer's parity with this one."""
import copy
import json
import os
import shutil

import pytest

from activities import sandtray as st
from activities.contract import Invalid, Rejected
from rooms.assets import pictures
from activities.contract.protocol import CHILD, E_CONFLICT, E_FULL, E_INVALID, PARENT, THERAPIST
from tests.support import ASSETS, ROOT, run_node

NAN, INF = float("nan"), float("inf")
FIRE_RED = (0xDD, 0x2E, 0x44)       # the fire engine's body in Twemoji


def place(fid="a", fig="dragon", x=20, y=20, **kw):
    return {"id": fid, "fig": fig, "x": x, "y": y, "rot": 0, "scale": 1, "flip": False, **kw}


def run(state, *ops, by="u1"):
    for t, d in ops:
        state, _ = st.apply(state, t, d, by=by)
    return state


def figs(state):
    return [f["id"] for f in state["tray"]["figures"]]


def fig(state, fid):
    return next(f for f in state["tray"]["figures"] if f["id"] == fid)


def level(state, cx, cy):
    return int(state["tray"]["sand"][cy * st.GRID_W + cx])


def rich():
    """A tray with three figures, some dug sand and one saved copy."""
    s = run(st.initial_state(), ("place", place("a")), ("place", place("b", "house", 40, 30)),
            ("place", place("c", "tree", 60, 10)),
            ("sand", {"tool": "dig", "r": 4, "pts": [10, 10, 14, 10]}),
            ("bury", {"id": "c", "buried": 0.5}))
    return run(s, ("tray.save", {"id": "s1", "at": 1000.5}))


# ====================================================================== reducer

# Every op a client may send, plus the server-only ones, applied to rich().
ROUND_TRIP = [
    ("place", place("new", "lion", 5, 5)),
    ("move", {"id": "a", "x": 33.5, "y": 12}),
    ("rotate", {"id": "a", "rot": 45}),
    ("scale", {"id": "a", "scale": 2.5}),
    ("flip", {"id": "a", "flip": True}),
    ("lie", {"id": "a", "lying": True}),
    ("z", {"id": "a", "to": "front"}),
    ("z", {"id": "c", "to": "back"}),
    ("duplicate", {"src": "b", "id": "b2", "x": 44, "y": 34}),
    ("bury", {"id": "a", "buried": 1}),
    ("bury", {"id": "c", "buried": 0}),
    ("remove", {"id": "b"}),
    ("sand", {"tool": "dig", "r": 12, "pts": [0, 0, 143, 113, 70, 50]}),
    ("sand", {"tool": "raise", "r": 5, "pts": [30, 30, 33, 31]}),
    ("sand", {"tool": "smooth", "r": 6, "pts": [12, 10]}),
    ("theme", {"theme": "snow"}),
    ("tray.save", {"id": "s2", "at": 2000.0}),
    ("tray.new", {"id": "t2"}),
    ("tray.open", {"id": "s1"}),
    ("z.at", {"id": "c", "index": 0}),
    ("tray.unsave", {"id": "s1"}),
]


def start_for(t):
    """rich(), changed after the save when the op reopens the saved copy."""
    s = rich()
    return run(s, ("place", place("later", "cat-body"))) if t == "tray.open" else s


@pytest.mark.parametrize("t,d", ROUND_TRIP, ids=[f"{t}-{i}" for i, (t, _) in enumerate(ROUND_TRIP)])
def test_UNDO1_every_op_and_its_inverse_round_trip(t, d):
    """apply, then its inverse, gives the state back; the inverse's inverse (redo)
    gives the changed state again."""
    s0 = start_for(t)
    s1, inv = st.apply(s0, t, d, by="kid")
    assert inv is not None and s1 != s0
    s2, redo = st.apply(s1, *inv, by="kid")
    assert s2 == s0
    s3, _ = st.apply(s2, *redo, by="kid")
    assert s3 == s1


def test_place_puts_a_figure_on_top_with_its_author_and_defaults():
    s, inv = st.apply(st.initial_state(), "place", st.validate("place", {"id": "a", "fig": "dragon",
                                                                        "x": 10, "y": 20}), by="kid")
    assert fig(s, "a") == {"id": "a", "fig": "dragon", "x": 10, "y": 20, "rot": 0, "scale": 1,
                           "flip": False, "lying": False, "buried": 0, "by": "kid"}
    assert inv == ("remove", {"id": "a"})


def test_duplicate_copies_the_look_but_not_the_author_or_place():
    s = run(st.initial_state(), ("place", place("a", rot=30, scale=2, flip=True)),
            ("bury", {"id": "a", "buried": 0.5}), by="kid")
    s, _ = st.apply(s, "duplicate", {"src": "a", "id": "b", "x": 50, "y": 40}, by="mum")
    b = fig(s, "b")
    assert (b["rot"], b["scale"], b["flip"], b["buried"], b["by"]) == (30, 2, True, 0.5, "mum")
    assert (b["x"], b["y"]) == (50, 40) and figs(s) == ["a", "b"]


def test_z_front_and_back_reorder_the_stack():
    s = run(st.initial_state(), *[("place", place(k)) for k in "abc"])
    assert figs(run(s, ("z", {"id": "a", "to": "front"}))) == ["b", "c", "a"]
    assert figs(run(s, ("z", {"id": "c", "to": "back"}))) == ["c", "a", "b"]
    assert st.apply(s, "z", {"id": "c", "to": "front"}) == (s, None)


def test_remove_and_restore_put_the_figure_back_in_its_place_in_the_stack():
    s = run(st.initial_state(), *[("place", place(k)) for k in "abc"])
    removed, inv = st.apply(s, "remove", {"id": "b"})
    later = run(removed, ("place", place("d")))
    assert figs(st.apply(later, *inv)[0]) == ["a", "b", "c", "d"]


def _stale_cases():
    s = rich()
    gone = "zz"
    return [
        ("move a removed figure", s, "move", {"id": gone, "x": 1, "y": 1}),
        ("rotate a removed figure", s, "rotate", {"id": gone, "rot": 15}),
        ("scale a removed figure", s, "scale", {"id": gone, "scale": 2}),
        ("flip a removed figure", s, "flip", {"id": gone, "flip": True}),
        ("lie a removed figure", s, "lie", {"id": gone, "lying": True}),
        ("bury a removed figure", s, "bury", {"id": gone, "buried": 1}),
        ("z a removed figure", s, "z", {"id": gone, "to": "front"}),
        ("remove a removed figure", s, "remove", {"id": gone}),
        ("duplicate a removed figure", s, "duplicate", {"src": gone, "id": "new", "x": 1, "y": 1}),
        ("place an existing id", s, "place", place("a")),
        ("move to where it is", s, "move", {"id": "a", "x": 20, "y": 20}),
        ("same theme", s, "theme", {"theme": "beach"}),
        ("brush that changes nothing", s, "sand", {"tool": "smooth", "r": 3, "pts": [100, 100]}),
        ("restore a present figure", s, "restore", {"tray": "t1", "fig": fig(s, "a"), "index": 0}),
        ("restore into another tray", s, "restore", {"tray": "old", "fig": {**fig(s, "a"), "id": "q"},
                                                      "index": 0}),
        ("sand.put into another tray", s, "sand.put", {"tray": "old", "x": 0, "y": 0, "w": 1, "h": 1,
                                                        "v": "9"}),
        ("open a saved tray that is gone", s, "tray.open", {"id": "nope"}),
        ("save an existing id", s, "tray.save", {"id": "s1", "at": 1.0}),
        ("new tray with the current id", s, "tray.new", {"id": "t1"}),
        ("unsave a missing save", s, "tray.unsave", {"id": "nope"}),
        ("set the same tray", s, "tray.set", {"tray": copy.deepcopy(s["tray"])}),
    ]


@pytest.mark.parametrize("name,state,t,d", _stale_cases(), ids=[c[0] for c in _stale_cases()])
def test_TRAY2_stale_op_is_a_no_op_with_no_inverse(name, state, t, d):
    before = copy.deepcopy(state)
    new, inv = st.apply(state, t, d)
    assert inv is None and new == before


@pytest.mark.parametrize("t,d", ROUND_TRIP, ids=[f"{t}-{i}" for i, (t, _) in enumerate(ROUND_TRIP)])
def test_apply_never_mutates_its_input(t, d):
    state = start_for(t)
    before, d_before = copy.deepcopy(state), copy.deepcopy(d)
    new, inv = st.apply(state, t, d)
    assert state == before and d == d_before
    snap = copy.deepcopy(new)
    st.apply(new, *inv)
    assert new == snap


def test_TRAY2_undo_of_a_removal_does_not_leak_into_a_fresh_tray():
    s = run(st.initial_state(), ("place", place("a")))
    removed, inv = st.apply(s, "remove", {"id": "a"})
    fresh = run(removed, ("tray.new", {"id": "t2"}))
    assert st.apply(fresh, *inv) == (fresh, None)
    dug, sinv = st.apply(s, "sand", {"tool": "dig", "r": 3, "pts": [5, 5]})
    fresh = run(dug, ("tray.new", {"id": "t2"}))
    assert st.apply(fresh, *sinv) == (fresh, None)


def test_tray_new_keeps_the_theme_and_starts_empty_sand():
    s = run(rich(), ("theme", {"theme": "desert"}), ("tray.new", {"id": "t2"}))
    assert s["tray"] == {"id": "t2", "theme": "desert", "sand": st.fresh_sand(), "figures": []}
    assert len(s["saved"]) == 1


def test_tray_save_keeps_a_packed_copy_with_time_and_author_and_open_brings_it_back():
    s0 = rich()
    entry = s0["saved"][0]
    assert (entry["id"], entry["at"], entry["by"]) == ("s1", 1000.5, "u1")
    assert st.unpack(entry["tray"]) == s0["tray"]
    assert len(entry["tray"]["rle"]) < 200          # mostly flat sand packs small
    changed = run(s0, ("remove", {"id": "a"}), ("tray.new", {"id": "t9"}))
    assert run(changed, ("tray.open", {"id": "s1"}))["tray"] == s0["tray"]


def test_rle_round_trips_any_surface():
    s = rich()["tray"]["sand"]
    assert st.rle_decode(st.rle_encode(s)) == s
    noisy = "".join(str((i * 7919) % 10) for i in range(st.GRID_W * st.GRID_H))
    assert st.rle_decode(st.rle_encode(noisy)) == noisy


# ---------------------------------------------------------------- sand maths

def test_TRAY1_dig_reaches_water_in_the_core_and_leaves_a_rim():
    s = run(st.initial_state(), ("sand", {"tool": "dig", "r": 8, "pts": [50, 50]}))
    assert level(s, 50, 50) == 0                      # core: down to the blue base
    assert level(s, 58, 50) == st.SAND_START - 1      # rim: a little lower
    assert level(s, 59, 50) == st.SAND_START          # outside the brush: untouched
    again = run(s, ("sand", {"tool": "dig", "r": 8, "pts": [50, 50]}))
    assert level(again, 50, 50) == 0                  # never below the base


def test_raise_stops_at_the_top_level_and_smooth_evens_out():
    s = st.initial_state()
    for _ in range(6):
        s = run(s, ("sand", {"tool": "raise", "r": 4, "pts": [20, 20]}))
    assert level(s, 20, 20) == st.MAX_LEVEL

    def roughness(state):
        return sum((level(state, x, 20) - level(state, x + 1, 20)) ** 2 for x in range(10, 30))
    s2 = run(s, ("sand", {"tool": "smooth", "r": 8, "pts": [20, 20]}))
    assert roughness(s2) < roughness(s)
    assert level(s2, 20, 20) == st.MAX_LEVEL and level(s2, 25, 20) > st.SAND_START


def test_brush_cells_use_integer_discs_clipped_to_the_grid():
    cells = st.brush_cells(2, [0, 0])
    assert cells == {0: 2, 1: 2, 2: 1, st.GRID_W: 2, st.GRID_W + 1: 2, 2 * st.GRID_W: 1}
    assert max(st.brush_cells(12, [143, 113])) == st.GRID_W * st.GRID_H - 1


def test_sand_inverse_stores_only_the_bounding_box_of_changed_cells():
    s = st.initial_state()
    _, inv = st.apply(s, "sand", {"tool": "dig", "r": 3, "pts": [10, 20]})
    t, d = inv
    assert t == "sand.put" and (d["x"], d["y"], d["w"], d["h"]) == (7, 17, 7, 7)
    assert d["v"] == str(st.SAND_START) * 49 and d["tray"] == "t1"


# ====================================================================== check

def test_check_accepts_a_fitting_op():
    assert st.check(rich(), "place", place("new")) is None
    assert st.check(rich(), "move", {"id": "gone", "x": 1, "y": 1}) is None   # a no-op, not refused


@pytest.mark.parametrize("t,d", [("place", place("a")),
                                 ("duplicate", {"src": "b", "id": "a", "x": 1, "y": 1}),
                                 ("tray.save", {"id": "s1", "at": 5.0}),
                                 ("tray.new", {"id": "t1"})])
def test_check_refuses_ids_in_use(t, d):
    r = st.check(rich(), t, d)
    assert isinstance(r, Rejected) and r.code == E_CONFLICT


@pytest.mark.parametrize("t,d", [("place", place("one-more")),
                                 ("duplicate", {"src": "a", "id": "one-more", "x": 1, "y": 1})])
def test_check_refuses_more_than_the_figure_limit_with_a_clear_message(t, d):
    s = run(st.initial_state(), *[("place", place(f"f{k}")) for k in range(st.MAX_FIGURES - 1)],
            ("place", place("a")))
    r = st.check(s, t, d)
    assert r == Rejected(E_FULL, "the tray is full")
    assert st.check(run(s, ("remove", {"id": "a"})), t, {**d, "src": "f1"}) is None


def test_check_refuses_too_many_saved_trays(monkeypatch):
    monkeypatch.setattr(st, "MAX_SAVED", 1)
    r = st.check(rich(), "tray.save", {"id": "s2", "at": 1.0})
    assert isinstance(r, Rejected) and r.code == E_FULL


def test_check_refuses_saved_trays_beyond_the_sand_budget(monkeypatch):
    monkeypatch.setattr(st, "MAX_SAVED_SAND_CHARS", 5)
    r = st.check(st.initial_state(), "tray.save", {"id": "s2", "at": 1.0})
    assert isinstance(r, Rejected) and r.code == E_FULL


def test_check_refuses_opening_a_tray_that_was_never_saved():
    r = st.check(rich(), "tray.open", {"id": "nope"})
    assert isinstance(r, Rejected) and r.code == E_INVALID
    assert st.check(rich(), "tray.open", {"id": "s1"}) is None


# ====================================================================== validation

GOOD = {
    "place": place("p1", "fire-engine", 0, st.TRAY_H, rot=345, scale=st.SCALE_RANGE[1], flip=True),
    "move": {"id": "a", "x": st.TRAY_W, "y": 0.5},
    "rotate": {"id": "a", "rot": 15},
    "scale": {"id": "a", "scale": st.SCALE_RANGE[0]},
    "flip": {"id": "a", "flip": False},
    "lie": {"id": "a", "lying": True},
    "z": {"id": "a", "to": "back"},
    "duplicate": {"src": "a", "id": "b", "x": 1, "y": 2},
    "bury": {"id": "a", "buried": 0.5},
    "remove": {"id": "a"},
    "sand": {"tool": "dig", "r": st.MAX_BRUSH_R, "pts": [0, 0, st.GRID_W - 1, st.GRID_H - 1]},
    "theme": {"theme": "earth"},
    "tray.save": {"id": "s9"},
    "tray.new": {"id": "t9"},
    "tray.open": {"id": "s1"},
}


def with_(t, **changes):
    return {**GOOD[t], **changes}


def without(t, key):
    return {k: v for k, v in GOOD[t].items() if k != key}


BAD = {
    "unknown figure": ("place", with_("place", fig="bazooka")),
    "figure path": ("place", with_("place", fig="../../etc/passwd")),
    "figure not text": ("place", with_("place", fig=7)),
    "x NaN": ("place", with_("place", x=NAN)),
    "y inf": ("place", with_("place", y=INF)),
    "x outside the tray": ("place", with_("place", x=st.TRAY_W + 0.1)),
    "y negative": ("move", with_("move", y=-1)),
    "x string": ("move", with_("move", x="10")),
    "x bool": ("move", with_("move", x=True)),
    "x huge int": ("move", with_("move", x=10 ** 400)),
    "scale absurd": ("scale", with_("scale", scale=1000)),
    "scale zero": ("scale", with_("scale", scale=0)),
    "scale negative": ("place", with_("place", scale=-1)),
    "scale NaN": ("scale", with_("scale", scale=NAN)),
    "rot not a step": ("rotate", with_("rotate", rot=10)),
    "rot 360": ("rotate", with_("rotate", rot=360)),
    "rot negative": ("rotate", with_("rotate", rot=-15)),
    "rot float": ("rotate", with_("rotate", rot=15.0)),
    "flip number": ("flip", with_("flip", flip=1)),
    "lying text": ("lie", with_("lie", lying="yes")),
    "bury 0.3": ("bury", with_("bury", buried=0.3)),
    "bury 2": ("bury", with_("bury", buried=2)),
    "bury bool": ("bury", with_("bury", buried=True)),
    "z sideways": ("z", with_("z", to="up")),
    "id with slash": ("move", with_("move", id="a/b")),
    "id too long": ("remove", with_("remove", id="x" * 33)),
    "src missing": ("duplicate", without("duplicate", "src")),
    "extra field": ("move", with_("move", by="th-1")),
    "author smuggled": ("place", with_("place", by="th-1")),
    "lying at place": ("place", with_("place", lying=True)),
    "missing field": ("move", without("move", "y")),
    "brush outside grid x": ("sand", with_("sand", pts=[st.GRID_W, 0])),
    "brush outside grid y": ("sand", with_("sand", pts=[0, st.GRID_H])),
    "brush negative": ("sand", with_("sand", pts=[-1, 0])),
    "brush float cell": ("sand", with_("sand", pts=[1.5, 0])),
    "brush bool cell": ("sand", with_("sand", pts=[True, 0])),
    "brush odd length": ("sand", with_("sand", pts=[1, 2, 3])),
    "brush empty": ("sand", with_("sand", pts=[])),
    "brush too many points": ("sand", with_("sand", pts=[1, 1] * (st.MAX_BRUSH_POINTS + 1))),
    "brush huge radius": ("sand", with_("sand", r=10_000)),
    "brush radius 0": ("sand", with_("sand", r=0)),
    "brush radius float": ("sand", with_("sand", r=2.5)),
    "brush unknown tool": ("sand", with_("sand", tool="flood")),
    "unknown theme": ("theme", with_("theme", theme="lava")),
    "save with a time": ("tray.save", with_("tray.save", at=1.0)),
    "new without id": ("tray.new", {}),
}


@pytest.mark.parametrize("name", BAD)
def test_validate_rejects_with_invalid_and_never_raises(name):
    t, d = BAD[name]
    r = st.validate(t, d)
    assert isinstance(r, Rejected) and r.code == E_INVALID, r


@pytest.mark.parametrize("t", [t for t, s in st.OPS.items() if s.client])
@pytest.mark.parametrize("d", [None, "x", [1, 2], 5])
def test_validate_rejects_a_payload_that_is_not_an_object(t, d):
    assert isinstance(st.validate(t, d), Rejected)


@pytest.mark.parametrize("t", list(GOOD))
def test_validate_accepts_good_payloads_on_the_bounds(t):
    out = st.validate(t, GOOD[t])
    assert not isinstance(out, Rejected), out


def test_validate_fills_place_defaults_and_normalises_bury_levels():
    d = st.validate("place", {"id": "a", "fig": "cow", "x": 1, "y": 1})
    assert (d["rot"], d["scale"], d["flip"]) == (0, 1, False)
    assert st.validate("bury", {"id": "a", "buried": 1.0})["buried"] == 1


def test_internal_ops_are_not_offered_to_clients():
    internal = {"restore", "z.at", "sand.put", "tray.set", "tray.unsave", "saved.restore"}
    assert {t for t, s in st.OPS.items() if not s.client} == internal
    assert not internal & set(st.client_config()["ops"])
    assert st.OPS["tray.save"].stamped and not st.OPS["tray.save"].undoable


# ====================================================================== permissions

CLIENT_OPS = [t for t, s in st.OPS.items() if s.client]
ROLE_KEY = {CHILD: "child_may_draw", PARENT: "parent_may_play"}


def expected_may(role, t, settings):
    """The rule as a person states it, written independently of the code."""
    if role == THERAPIST or t == "eph:cursor":
        return True
    if t.startswith("tray."):
        return False            # save, new and open are the therapist's
    return settings[ROLE_KEY[role]]


@pytest.mark.parametrize("child_may_draw", [True, False], ids=["child-on", "child-off"])
@pytest.mark.parametrize("parent_may_play", [True, False], ids=["parent-on", "parent-off"])
@pytest.mark.parametrize("t", CLIENT_OPS + ["history", "eph:drag", "eph:cursor"])
@pytest.mark.parametrize("role", [THERAPIST, CHILD, PARENT])
def test_may_permission_matrix(role, t, child_may_draw, parent_may_play):
    settings = {"child_may_draw": child_may_draw, "parent_may_play": parent_may_play}
    assert st.may(role, t, settings) is expected_may(role, t, settings)


def test_unknown_role_may_only_point():
    settings = {"child_may_draw": True, "parent_may_play": True}
    assert not any(st.may("visitor", t, settings) for t in CLIENT_OPS + ["history", "eph:drag"])


# ====================================================================== ephemeral

def refused(kind, d):
    try:
        out = st.EPHEMERAL[kind][0](d)
    except (Invalid, KeyError, TypeError, AttributeError):
        return True
    return isinstance(out, Rejected)


def test_ephemeral_validators_accept_good_signals():
    drag = {"id": "a", "x": 1.5, "y": 2, "fig": "cow", "rot": 30, "end": True}
    assert st.EPHEMERAL["drag"][0](drag) == drag
    assert st.EPHEMERAL["cursor"][0]({"x": st.TRAY_W, "y": 0}) == {"x": st.TRAY_W, "y": 0}
    assert st.EPHEMERAL["drag"][1] is None and st.EPHEMERAL["cursor"][1] is None  # latest wins


@pytest.mark.parametrize("kind,d", [
    ("drag", {"id": "a", "x": NAN, "y": 1}),
    ("drag", {"id": "a", "x": 1, "y": st.TRAY_H + 1}),
    ("drag", {"id": "a", "x": 1, "y": 1, "fig": "bazooka"}),
    ("drag", {"id": "a", "x": 1, "y": 1, "rot": 7}),
    ("drag", {"id": "a", "x": 1, "y": 1, "end": "yes"}),
    ("drag", {"id": "a", "x": 1, "y": 1, "by": "th-1"}),
    ("drag", {"id": "a b", "x": 1, "y": 1}),
    ("drag", "not an object"),
    ("cursor", {"x": INF, "y": 0}),
    ("cursor", {"x": 1}),
    ("cursor", {"x": 1, "y": 1, "page": "p1"}),
], ids=["x NaN", "y outside", "unknown figure", "rot off-step", "end text", "author smuggled",
        "bad id", "not an object", "cursor inf", "cursor no y", "cursor extra"])
def test_ephemeral_validators_refuse_bad_signals(kind, d):
    assert refused(kind, d)


# ====================================================================== catalogue

def test_catalogue_has_at_least_200_figures_in_at_least_10_categories():
    cats = {c for c, _, _ in pictures.FIGURE_CATEGORIES}
    assert len(pictures.FIGURES) >= 200 and len(cats) >= 10
    assert {f["category"] for f in pictures.FIGURES.values()} == cats
    for c in cats:
        assert sum(f["category"] == c for f in pictures.FIGURES.values()) >= 10, c


def test_every_figure_has_a_name_tags_a_licence_and_a_served_id():
    for fid, f in pictures.FIGURES.items():
        assert f["id"] == fid and f["name"] and f["tags"], fid
        assert f["licence"]["licence"] == "CC-BY-4.0" and f["licence"]["source"], fid
        assert pictures.CATALOG[fid][0] == f["file"], fid
    skin = [f for f in pictures.FIGURES.values() if "skin" in f["tags"]]
    assert len({f["file"].split("-")[-1] for f in skin}) == 5          # five skin tones
    for word in ("baby", "grandma", "grandpa", "girl", "boy"):
        assert any(word in f["tags"] for f in skin), word


def test_existing_picture_ids_still_mean_the_same_picture():
    for pid, code in {"cat": "1f431", "dog": "1f436", "dragon": "1f409", "house": "1f3e0",
                      "star": "2b50", "palette": "1f3a8"}.items():
        assert pictures.CATALOG[pid][0] == code
    assert set(pictures.AVATARS) <= set(pictures.CATALOG) and set(pictures.STAMPS) <= set(pictures.CATALOG)


def test_every_figure_has_an_image_the_server_can_load():
    """resvg rasterises each figure's SVG to a non-empty picture."""
    missing = []
    for fid in pictures.FIGURES:
        path = pictures.svg_path(ROOT, fid)
        if not os.path.exists(path):
            missing.append(fid)
            continue
        img = pictures.raster(ROOT, fid, 24)
        assert img.size == (24, 24) and img.getbbox() is not None, fid
    assert missing == []


def test_client_config_lists_every_figure_with_name_category_and_tags():
    cfg = st.client_config()
    assert len(cfg["figures"]) == len(pictures.FIGURES)
    assert all(len(row) == 4 and row[1] and row[3] for row in cfg["figures"])
    assert [c["id"] for c in cfg["categories"]] == [c for c, _, _ in pictures.FIGURE_CATEGORIES]
    assert st.ICON in pictures.CATALOG
    assert len(json.dumps(cfg)) < 60_000                  # part of every room page


# ====================================================================== renderer

def px(x, y):
    """Export pixel of tray point (x, y)."""
    pad = round(st.FRAME * st.EXPORT_PX)
    return round(pad + x * st.EXPORT_PX), round(pad + y * st.EXPORT_PX)


def near(c, rgb, tol=40):
    return all(abs(a - b) < tol for a, b in zip(c, rgb))


def count_near(img, box, rgb):
    return sum(near(c, rgb) for c in img.crop(box).get_flattened_data())


def test_render_empty_tray_is_the_export_size_in_sand_inside_a_frame():
    img = st.render(st.initial_state(), "current", ASSETS)
    pad = round(st.FRAME * st.EXPORT_PX)
    assert img.size == (st.TRAY_W * st.EXPORT_PX + 2 * pad, st.TRAY_H * st.EXPORT_PX + 2 * pad)
    sand = st.level_colour(st.THEMES["beach"], st.SAND_START)
    assert near(img.getpixel(px(36, 28)), sand, 12)
    assert near(img.getpixel((2, 2)), st._rgb(st.THEMES["beach"]["frame"]), 30)


def test_render_shows_water_where_the_sand_is_dug():
    s = run(st.initial_state(), ("sand", {"tool": "dig", "r": 8, "pts": [40, 40]}))
    img = st.render(s, "current", ASSETS)
    r, g, b = img.getpixel(px(20, 20))
    assert b > r + 60 and b > g                              # blue water in the hole
    assert not near(img.getpixel(px(60, 20)), (r, g, b), 30)   # sand elsewhere


def test_render_puts_the_figure_at_its_spot_and_only_there():
    s = run(st.initial_state(), ("place", place("f", "fire-engine", 20, 30)))
    img = st.render(s, "current", ASSETS)
    (x, y), half = px(20, 30), st.FIG_SIZE * st.EXPORT_PX // 2
    assert count_near(img, (x - half, y - half, x + half, y + half), FIRE_RED) > 1000
    (x2, y2) = px(55, 30)
    assert count_near(img, (x2 - half, y2 - half, x2 + half, y2 + half), FIRE_RED) == 0


def test_render_fully_buried_figure_is_a_mound_and_half_buried_shows_its_top():
    base = run(st.initial_state(), ("place", place("f", "fire-engine", 36, 28)))
    (x, y), half = px(36, 28), st.FIG_SIZE * st.EXPORT_PX // 2
    full = st.render(run(base, ("bury", {"id": "f", "buried": 1})), "current", ASSETS)
    assert count_near(full, (x - half, y - half, x + half, y + half), FIRE_RED) == 0
    top_box, low_box = (x - half, y - half, x + half, y - 12), (x - half, y + 40, x + half, y + half)
    half_img = st.render(run(base, ("bury", {"id": "f", "buried": 0.5})), "current", ASSETS)
    plain = st.render(base, "current", ASSETS)
    assert count_near(half_img, top_box, FIRE_RED) == count_near(plain, top_box, FIRE_RED) > 100
    assert count_near(half_img, low_box, FIRE_RED) == 0 < count_near(plain, low_box, FIRE_RED)


def test_render_rotation_flip_and_scale_change_the_picture():
    base = run(st.initial_state(), ("place", place("f", "fire-engine", 36, 28)))
    plain = st.render(base, "current", ASSETS)
    for t, d in [("rotate", {"rot": 90}), ("flip", {"flip": True}), ("scale", {"scale": 2}),
                 ("lie", {"lying": True})]:
        other = st.render(run(base, (t, {"id": "f", **d})), "current", ASSETS)
        assert other.tobytes() != plain.tobytes(), t


def test_render_a_saved_tray_by_its_id_and_refuse_unknown_keys():
    s = run(rich(), ("tray.new", {"id": "t2"}))
    saved = st.render(s, "s1", ASSETS)
    assert saved.tobytes() == st.render(rich(), "current", ASSETS).tobytes()
    with pytest.raises(KeyError):
        st.render(s, "nope", ASSETS)


# ====================================================================== browser parity

PARITY_OPS = ROUND_TRIP + [
    ("sand", {"tool": "dig", "r": 1, "pts": [0, 0]}),
    ("sand", {"tool": "smooth", "r": 12, "pts": [5, 5, 70, 50, 140, 110]}),
    ("sand", {"tool": "raise", "r": 7, "pts": [70, 50, 72, 51, 74, 52]}),
    ("move", {"id": "zz", "x": 1, "y": 1}),
]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_TRAY1_browser_reducer_gives_the_same_states_and_inverses(tmp_path):
    """static/canvas/sandtray/model.js run by node on the same ops gives the same
    state and inverse after every op (sand cells included)."""
    script = (
        "import {createModel} from './model.mjs';\n"
        "import {readFileSync} from 'node:fs';\n"
        "const {cfg, state, ops} = JSON.parse(readFileSync(0, 'utf8'));\n"
        "const m = createModel(cfg);\n"
        "let s = state; const out = [];\n"
        "for (const [t, d] of ops) { const [n, inv] = m.apply(s, t, d, 'kid'); s = n; out.push([n, inv]); }\n"
        "process.stdout.write(JSON.stringify(out));\n")
    state = rich()
    js = run_node(tmp_path, {"model.mjs": "sandtray/model.js"}, script,
                  {"cfg": st.client_config(), "state": state, "ops": PARITY_OPS})
    s = state
    for (t, d), (js_state, js_inv) in zip(PARITY_OPS, js):
        s, inv = st.apply(s, t, d, by="kid")
        assert js_state == json.loads(json.dumps(s)), t
        assert js_inv == (list(json.loads(json.dumps(inv))) if inv else None), t
    assert len(js) == len(PARITY_OPS)
