"""Canvas activity: the pure reducer, state checks, strict validation, permissions,
ephemeral signals and the server renderer."""
import copy
import json
import shutil

import pytest

from activities import canvas
from activities.contract import Invalid, Rejected
from activities.contract.protocol import (CHILD, E_CONFLICT, E_FULL, E_INVALID, E_NO_PAGE, E_NOTHING, PARENT,
                            THERAPIST)
from tests.support import ASSETS, run_node
from tests.unit.payloads import line, stamp, stroke

WHITE = (255, 255, 255)
RED = (0xe5, 0x39, 0x35)
GRID_LINE = (0xdb, 0xe4, 0xf0)


def run(state, *ops, by="u1"):
    """Apply (t, d) ops in order; return the final state."""
    for t, d in ops:
        state, _ = canvas.apply(state, t, d, by=by)
    return state


def page(state, pid="p1"):
    return next(p for p in state["pages"] if p["id"] == pid)


def ids(state, pid="p1"):
    return [it["id"] for it in page(state, pid)["items"]]


# ====================================================================== reducer

def test_stroke_is_added_with_author_and_an_inverse_that_removes_it():
    s0 = canvas.initial_state()
    d = stroke("a")
    s1, inv = canvas.apply(s0, "stroke", d, by="kid")
    item = page(s1)["items"][0]
    assert item["k"] == "stroke" and item["by"] == "kid" and item["pts"] == d["pts"]
    assert "page" not in item
    assert inv == ("items.remove", {"page": "p1", "ids": ["a"]})
    s2, inv2 = canvas.apply(s1, *inv)
    assert s2 == s0
    assert inv2[0] == "items.restore"
    s3, _ = canvas.apply(s2, *inv2)
    assert s3 == s1


def test_stamp_is_added_and_its_inverse_removes_it():
    s1, inv = canvas.apply(canvas.initial_state(), "stamp", stamp("st", rot=0), by="kid")
    item = page(s1)["items"][0]
    assert (item["k"], item["stamp"], item["x"], item["y"]) == ("stamp", "star", 400, 300)
    s2, _ = canvas.apply(s1, *inv)
    assert ids(s2) == []


def test_eraser_is_an_item_and_undoing_it_brings_the_ink_back():
    s1 = run(canvas.initial_state(), ("stroke", stroke("ink")))
    s2, inv = canvas.apply(s1, "stroke", stroke("rub", tool="eraser", color="#ffffff"))
    assert ids(s2) == ["ink", "rub"]  # erasing removes nothing from the state
    s3, _ = canvas.apply(s2, *inv)
    assert s3 == s1


def test_clear_removes_everything_and_its_inverse_restores_it_in_place():
    s = run(canvas.initial_state(), ("stroke", stroke("a")), ("stamp", stamp("b")),
            ("stroke", stroke("c")))
    cleared, inv = canvas.apply(s, "clear", {"page": "p1"})
    assert ids(cleared) == [] and page(cleared)["n"] == 0
    restored, _ = canvas.apply(cleared, *inv)
    assert restored == s


def test_undoing_clear_puts_old_items_back_at_their_places_around_newer_ones():
    s = run(canvas.initial_state(), ("stroke", stroke("a")), ("stroke", stroke("b")))
    cleared, inv = canvas.apply(s, "clear", {"page": "p1"})
    later = run(cleared, ("stroke", stroke("c")))
    restored, _ = canvas.apply(later, *inv)
    assert ids(restored) == ["a", "b", "c"]


def test_clear_of_an_empty_page_is_a_no_op():
    s = canvas.initial_state()
    assert canvas.apply(s, "clear", {"page": "p1"}) == (s, None)


def test_page_add_remove_restore_round_trip():
    s = run(canvas.initial_state(), ("page.add", {"page": "p2"}), ("page.add", {"page": "p3"}),
            ("stroke", stroke("x", page="p2")))
    assert [p["id"] for p in s["pages"]] == ["p1", "p2", "p3"]
    removed, inv = canvas.apply(s, "page.remove", {"page": "p2"})
    assert [p["id"] for p in removed["pages"]] == ["p1", "p3"]
    assert inv[0] == "page.restore" and inv[1]["index"] == 1
    back, inv2 = canvas.apply(removed, *inv)
    assert back == s  # same place, same drawing on it
    assert inv2 == ("page.remove", {"page": "p2"})


def test_page_add_inverse_removes_the_new_page():
    s0 = canvas.initial_state()
    s1, inv = canvas.apply(s0, "page.add", {"page": "p2"})
    assert page(s1, "p2") == {"id": "p2", "bg": "white", "n": 0, "items": []}
    assert canvas.apply(s1, *inv)[0] == s0


def test_the_last_page_is_never_removed():
    s = canvas.initial_state()
    assert canvas.apply(s, "page.remove", {"page": "p1"}) == (s, None)


def test_page_bg_changes_and_its_inverse_restores_the_old_one():
    s0 = canvas.initial_state()
    s1, inv = canvas.apply(s0, "page.bg", {"page": "p1", "bg": "grid"})
    assert page(s1)["bg"] == "grid"
    assert inv == ("page.bg", {"page": "p1", "bg": "white"})
    assert canvas.apply(s1, *inv)[0] == s0
    assert canvas.apply(s1, "page.bg", {"page": "p1", "bg": "grid"}) == (s1, None)


def _stale_cases():
    one = run(canvas.initial_state(), ("stroke", stroke("a")))
    return [
        ("stroke on a removed page", one, "stroke", stroke("z", page="gone")),
        ("stamp on a removed page", one, "stamp", stamp("z", page="gone")),
        ("clear a removed page", one, "clear", {"page": "gone"}),
        ("bg of a removed page", one, "page.bg", {"page": "gone", "bg": "grid"}),
        ("duplicate item id", one, "stroke", stroke("a")),
        ("remove an absent item", one, "items.remove", {"page": "p1", "ids": ["nope"]}),
        ("restore a present item", one, "items.restore",
         {"page": "p1", "items": [[0, page(one)["items"][0]]]}),
        ("add an existing page", one, "page.add", {"page": "p1"}),
        ("remove an absent page", one, "page.remove", {"page": "gone"}),
        ("restore an existing page", one, "page.restore", {"page": page(one), "index": 0}),
    ]


@pytest.mark.parametrize("name,state,t,d", _stale_cases(), ids=[c[0] for c in _stale_cases()])
def test_stale_op_is_a_no_op_with_no_inverse(name, state, t, d):
    before = copy.deepcopy(state)
    new, inv = canvas.apply(state, t, d)
    assert inv is None
    assert new == before


def _rich_state():
    return run(canvas.initial_state(), ("stroke", stroke("a")), ("stamp", stamp("b")),
               ("page.add", {"page": "p2"}), ("stroke", stroke("c", page="p2")))


PURITY_OPS = [
    ("stroke", stroke("new")),
    ("stamp", stamp("new")),
    ("clear", {"page": "p1"}),
    ("page.add", {"page": "p3"}),
    ("page.bg", {"page": "p1", "bg": "night"}),
    ("page.remove", {"page": "p2"}),
    ("items.remove", {"page": "p1", "ids": ["a"]}),
]


@pytest.mark.parametrize("t,d", PURITY_OPS, ids=[t for t, _ in PURITY_OPS])
def test_apply_never_mutates_its_input(t, d):
    state = _rich_state()
    before = copy.deepcopy(state)
    d_before = copy.deepcopy(d)
    new, inv = canvas.apply(state, t, d)
    assert state == before and d == d_before
    assert new != before and inv is not None
    # applying the inverse to the new state must not disturb it either
    new_copy = copy.deepcopy(new)
    canvas.apply(new, *inv)
    assert new == new_copy


def test_restore_and_page_restore_do_not_mutate_their_input():
    s = _rich_state()
    cleared, inv = canvas.apply(s, "clear", {"page": "p1"})
    snap = copy.deepcopy(cleared)
    canvas.apply(cleared, *inv)
    assert cleared == snap
    removed, pinv = canvas.apply(s, "page.remove", {"page": "p2"})
    snap = copy.deepcopy(removed)
    canvas.apply(removed, *pinv)
    assert removed == snap


def test_n_counts_the_numbers_stored_on_a_page():
    pts = [1, 2, 0.5] * 7
    s1 = run(canvas.initial_state(), ("stroke", stroke("a", pts=pts)))
    assert page(s1)["n"] == 21
    s2 = run(s1, ("stamp", stamp("b")))
    assert page(s2)["n"] == 27                 # a stamp counts as 6 numbers
    s3, _ = canvas.apply(s2, "items.remove", {"page": "p1", "ids": ["a"]})
    assert page(s3)["n"] == 6
    cleared, inv = canvas.apply(s2, "clear", {"page": "p1"})
    assert page(cleared)["n"] == 0
    assert page(canvas.apply(cleared, *inv)[0])["n"] == 27


# ====================================================================== check

def test_check_accepts_a_fitting_op():
    assert canvas.check(canvas.initial_state(), "stroke", stroke()) is None
    assert canvas.check(canvas.initial_state(), "page.add", {"page": "p2"}) is None


@pytest.mark.parametrize("t,d", [
    ("stroke", stroke(page="p9")),
    ("stamp", stamp(page="p9")),
    ("clear", {"page": "p9"}),
    ("page.bg", {"page": "p9", "bg": "grid"}),
])
def test_check_refuses_ops_on_a_page_that_does_not_exist(t, d):
    r = canvas.check(canvas.initial_state(), t, d)
    assert isinstance(r, Rejected) and r.code == E_NO_PAGE


@pytest.mark.parametrize("t,d", [("stroke", stroke("dup")), ("stamp", stamp("dup"))])
def test_check_refuses_a_duplicate_item_id(t, d):
    s = run(canvas.initial_state(), ("stroke", stroke("dup")))
    r = canvas.check(s, t, d)
    assert isinstance(r, Rejected) and r.code == E_CONFLICT


def test_check_refuses_adding_a_page_that_exists():
    r = canvas.check(canvas.initial_state(), "page.add", {"page": "p1"})
    assert isinstance(r, Rejected) and r.code == E_CONFLICT


@pytest.mark.parametrize("t,d", [("stroke", stroke("third")), ("stamp", stamp("third"))])
def test_check_refuses_items_on_a_full_page(monkeypatch, t, d):
    monkeypatch.setattr(canvas, "MAX_ITEMS_PER_PAGE", 2)
    s = run(canvas.initial_state(), ("stroke", stroke("a")), ("stroke", stroke("b")))
    r = canvas.check(s, t, d)
    assert isinstance(r, Rejected) and r.code == E_FULL
    assert canvas.check(s, t, {**d, "page": "p2"}) is not None  # other page: no such page
    s2 = run(s, ("page.add", {"page": "p2"}))
    assert canvas.check(s2, t, {**d, "page": "p2"}) is None      # a new page has room


def test_check_refuses_a_stroke_beyond_the_page_number_budget(monkeypatch):
    monkeypatch.setattr(canvas, "MAX_NUMBERS_PER_PAGE", 12)
    s = run(canvas.initial_state(), ("stroke", stroke("a", pts=[1, 1, 0.5] * 3)))  # n = 9
    assert canvas.check(s, "stroke", stroke("b", pts=[1, 1, 0.5])) is None         # 12 fits
    r = canvas.check(s, "stroke", stroke("b", pts=[1, 1, 0.5] * 2))                # 15 does not
    assert isinstance(r, Rejected) and r.code == E_FULL


def test_check_refuses_too_many_pages(monkeypatch):
    monkeypatch.setattr(canvas, "MAX_PAGES", 2)
    s = run(canvas.initial_state(), ("page.add", {"page": "p2"}))
    r = canvas.check(s, "page.add", {"page": "p3"})
    assert isinstance(r, Rejected) and r.code == E_FULL


def test_real_page_limit_is_reached_by_adding_pages():
    s = canvas.initial_state()
    for k in range(2, canvas.MAX_PAGES + 1):
        assert canvas.check(s, "page.add", {"page": f"p{k}"}) is None
        s = run(s, ("page.add", {"page": f"p{k}"}))
    assert canvas.check(s, "page.add", {"page": "one-more"}).code == E_FULL


# ====================================================================== validation

NAN, INF = float("nan"), float("inf")
MAXP = canvas.MAX_STROKE_POINTS

GOOD = {
    "stroke": stroke("s1"),
    "stamp": stamp("st1"),
    "page.add": {"page": "p2"},
    "page.bg": {"page": "p1", "bg": "grid"},
    "clear": {"page": "p1"},
}


def with_(t, **changes):
    return {**GOOD[t], **changes}


def without(t, key):
    return {k: v for k, v in GOOD[t].items() if k != key}


BAD = {
    # points
    "pts NaN": ("stroke", with_("stroke", pts=[10, NAN, 0.5])),
    "pts inf": ("stroke", with_("stroke", pts=[INF, 10, 0.5])),
    "pts -inf": ("stroke", with_("stroke", pts=[10, 10, -INF])),
    "pts negative x": ("stroke", with_("stroke", pts=[-1, 10, 0.5])),
    # Beyond any page's box (a point beyond its own page's shape: test_page_shapes_*).
    "pts beyond board x": ("stroke", with_("stroke", pts=[canvas.SIDE + 0.5, 10, 0.5])),
    "pts beyond board y": ("stroke", with_("stroke", pts=[10, canvas.SIDE + 1, 0.5])),
    "pts pressure above 1": ("stroke", with_("stroke", pts=[10, 10, 1.5])),
    "pts huge int": ("stroke", with_("stroke", pts=[10 ** 400, 10, 0.5])),
    "pts bool": ("stroke", with_("stroke", pts=[True, 10, 0.5])),
    "pts string number": ("stroke", with_("stroke", pts=["10", 10, 0.5])),
    "pts null": ("stroke", with_("stroke", pts=[None, 10, 0.5])),
    "pts nested list": ("stroke", with_("stroke", pts=[[10, 10, 0.5]])),
    "pts too many": ("stroke", with_("stroke", pts=[10, 10, 0.5] * (MAXP + 1))),
    "pts odd length": ("stroke", with_("stroke", pts=[10, 20, 0.5, 30])),
    "pts empty": ("stroke", with_("stroke", pts=[])),
    "pts not a list": ("stroke", with_("stroke", pts="10,20,0.5")),
    # tool, colour, size
    "unknown tool": ("stroke", with_("stroke", tool="spray")),
    "tool not text": ("stroke", with_("stroke", tool=1)),
    "colour name": ("stroke", with_("stroke", color="red")),
    "colour short": ("stroke", with_("stroke", color="#f00")),
    "colour not hex": ("stroke", with_("stroke", color="#gggggg")),
    "colour with alpha": ("stroke", with_("stroke", color="#e53935ff")),
    "colour trailing newline": ("stroke", with_("stroke", color="#e53935\n")),
    "size 0": ("stroke", with_("stroke", size=0)),
    "size above range": ("stroke", with_("stroke", size=canvas.SIZE_RANGE[1] + 1)),
    "size negative": ("stroke", with_("stroke", size=-8)),
    "size NaN": ("stroke", with_("stroke", size=NAN)),
    "size inf": ("stroke", with_("stroke", size=INF)),
    "size bool": ("stroke", with_("stroke", size=True)),
    "size string number": ("stroke", with_("stroke", size="8")),
    "size huge int": ("stroke", with_("stroke", size=10 ** 400)),
    # ids
    "id with space": ("stroke", with_("stroke", id="a b")),
    "id with slash": ("stroke", with_("stroke", id="a/b")),
    "id with markup": ("stroke", with_("stroke", id="<b>")),
    "id empty": ("stroke", with_("stroke", id="")),
    "id too long": ("stroke", with_("stroke", id="x" * 33)),
    "id not text": ("stroke", with_("stroke", id=7)),
    "id non-ascii": ("stroke", with_("stroke", id="é")),
    "id trailing newline": ("stroke", with_("stroke", id="abc\n")),
    "page id with dots": ("stroke", with_("stroke", page="../p1")),
    # fields
    "stroke unknown field": ("stroke", with_("stroke", extra=1)),
    "stroke missing pts": ("stroke", without("stroke", "pts")),
    "stroke missing page": ("stroke", without("stroke", "page")),
    "stroke missing color": ("stroke", without("stroke", "color")),
    # stamps
    "unknown stamp": ("stamp", with_("stamp", stamp="skull")),
    "avatar is not a stamp": ("stamp", with_("stamp", stamp="cat")),
    "stamp x beyond board": ("stamp", with_("stamp", x=canvas.SIDE + 1)),
    "stamp y NaN": ("stamp", with_("stamp", y=NAN)),
    "stamp x huge int": ("stamp", with_("stamp", x=10 ** 400)),
    "stamp too small": ("stamp", with_("stamp", size=canvas.STAMP_SIZE_RANGE[0] - 1)),
    "stamp too big": ("stamp", with_("stamp", size=canvas.STAMP_SIZE_RANGE[1] + 1)),
    "stamp rot beyond 180": ("stamp", with_("stamp", rot=181)),
    "stamp rot bool": ("stamp", with_("stamp", rot=False)),
    "stamp unknown field": ("stamp", with_("stamp", color="#000000")),
    "stamp missing x": ("stamp", without("stamp", "x")),
    # page ops
    "page.add bad id": ("page.add", {"page": "p 2"}),
    "page.add extra field": ("page.add", {"page": "p2", "bg": "grid"}),
    "page.bg unknown bg": ("page.bg", with_("page.bg", bg="purple")),
    "page.bg missing bg": ("page.bg", without("page.bg", "bg")),
    "clear extra field": ("clear", {"page": "p1", "all": True}),
    "clear missing page": ("clear", {}),
}


@pytest.mark.parametrize("t,d", list(BAD.values()), ids=list(BAD))
def test_validate_rejects_with_invalid_and_never_raises(t, d):
    r = canvas.validate(t, d)
    assert isinstance(r, Rejected), f"accepted: {r!r}"
    assert r.code == E_INVALID and r.reason


@pytest.mark.parametrize("t", sorted(GOOD))
@pytest.mark.parametrize("d", [None, [], "p1", 3, True], ids=["null", "list", "text", "int", "bool"])
def test_validate_rejects_a_payload_that_is_not_an_object(t, d):
    r = canvas.validate(t, d)
    assert isinstance(r, Rejected) and r.code == E_INVALID


@pytest.mark.parametrize("t", sorted(GOOD))
def test_validate_accepts_the_good_payloads(t):
    assert canvas.validate(t, copy.deepcopy(GOOD[t])) == {**GOOD[t], **({"rot": 0} if t == "stamp" else {})}


@pytest.mark.parametrize("d", [
    with_("stroke", pts=[0, 0, 0, canvas.BOARD_W, canvas.BOARD_H, 1]),
    with_("stroke", pts=[10, 10, 0.5] * MAXP),
    with_("stroke", size=canvas.SIZE_RANGE[0]),
    with_("stroke", size=canvas.SIZE_RANGE[1]),
    with_("stroke", size=7.5),
    with_("stroke", id="a" * 32),
    with_("stroke", id="A-z_09"),
    with_("stroke", tool="eraser"),
], ids=["board corners", "max points", "min size", "max size", "fractional size",
        "32-char id", "id charset", "eraser"])
def test_validate_accepts_values_on_the_bounds(d):
    assert not isinstance(canvas.validate("stroke", d), Rejected)


def test_validate_normalises_colour_case_instead_of_refusing_it():
    assert canvas.validate("stroke", with_("stroke", color="#E53935"))["color"] == "#e53935"


def test_validate_stamp_rotation_defaults_to_zero_and_accepts_bounds():
    assert canvas.validate("stamp", GOOD["stamp"])["rot"] == 0
    for rot in (-180, 180):
        assert canvas.validate("stamp", with_("stamp", rot=rot))["rot"] == rot


def test_internal_ops_are_not_offered_to_clients():
    for t in ("items.remove", "items.restore", "page.remove", "page.restore", "page.unsave",
              "saved.restore"):
        assert not canvas.OPS[t].client
    assert set(canvas.client_config()["ops"]) == {"stroke", "stamp", "page.add", "page.bg", "clear",
                                                  "page.save", "page.shape"}


# ====================================================================== permissions

OPS_TO_AUTHORISE = ["stroke", "stamp", "page.add", "page.bg", "clear", "page.save", "history",
                    "eph:stroke", "eph:cursor"]
GUEST_DRAWING = {"stroke", "stamp", "page.add", "page.bg", "history", "eph:stroke"}
ROLE_KEY = {CHILD: "child_may_draw", PARENT: "parent_may_play"}


def expected_may(role, t, settings):
    """The rule as a person states it, written independently of the code."""
    if role == THERAPIST or t == "eph:cursor":
        return True            # the therapist may do everything; anyone may point
    if t in ("clear", "page.save"):
        return False           # only the therapist wipes a page or saves it to the record
    return settings[ROLE_KEY[role]] and t in GUEST_DRAWING


@pytest.mark.parametrize("child_may_draw", [True, False], ids=["child-on", "child-off"])
@pytest.mark.parametrize("parent_may_play", [True, False], ids=["parent-on", "parent-off"])
@pytest.mark.parametrize("t", OPS_TO_AUTHORISE)
@pytest.mark.parametrize("role", [THERAPIST, CHILD, PARENT])
def test_may_permission_matrix(role, t, child_may_draw, parent_may_play):
    settings = {"child_may_draw": child_may_draw, "parent_may_play": parent_may_play}
    assert canvas.may(role, t, settings) is expected_may(role, t, settings)


def test_unknown_role_may_only_point():
    settings = {"child_may_draw": True, "parent_may_play": True}
    assert not any(canvas.may("visitor", t, settings) for t in OPS_TO_AUTHORISE if t != "eph:cursor")


# ====================================================================== ephemeral

def preview(**kw):
    d = {"id": "s1", "page": "p1", "tool": "pen", "color": "#e53935", "size": 8, "from": 0,
         "pts": [10, 10, 0.5, 20, 20, 0.5]}
    d.update(kw)
    return d


def refused(kind, d):
    validator, _ = canvas.EPHEMERAL[kind]
    try:
        out = validator(d)
    except Invalid:
        return True
    return isinstance(out, Rejected)


def test_ephemeral_validators_accept_good_signals():
    assert canvas.EPHEMERAL["stroke"][0](preview())["from"] == 0
    assert canvas.EPHEMERAL["cursor"][0]({"page": "p1", "x": 0, "y": canvas.BOARD_H}) == \
        {"page": "p1", "x": 0, "y": canvas.BOARD_H}


@pytest.mark.parametrize("kind,d", [
    ("stroke", preview(**{"from": -1})),
    ("stroke", preview(**{"from": 1.0})),
    ("stroke", preview(**{"from": True})),
    ("stroke", preview(**{"from": canvas.MAX_STROKE_POINTS + 1})),
    ("stroke", preview(pts=[10, 10, 0.5] * (canvas.MAX_PREVIEW_POINTS + 1))),
    ("stroke", preview(pts=[10, NAN, 0.5])),
    ("stroke", preview(tool="spray")),
    ("stroke", preview(extra=1)),
    ("stroke", {"id": "s1"}),
    ("stroke", "not an object"),
    ("cursor", {"page": "p1", "x": canvas.SIDE + 1, "y": 0}),
    ("cursor", {"page": "p1", "x": INF, "y": 0}),
    ("cursor", {"page": "p1", "x": 1}),
    ("cursor", {"page": "p1", "x": 1, "y": 1, "color": "#000000"}),
    ("cursor", {"page": "bad page", "x": 1, "y": 1}),
], ids=["from negative", "from float", "from bool", "from too far", "too many points",
        "NaN point", "unknown tool", "unknown field", "missing fields", "not an object",
        "cursor beyond board", "cursor inf", "cursor missing y", "cursor unknown field",
        "cursor bad page"])
def test_ephemeral_validators_refuse_bad_signals(kind, d):
    assert refused(kind, d)


def test_merge_preview_joins_consecutive_chunks_of_one_stroke():
    a = preview(pts=[1, 1, 0.5, 2, 2, 0.5])
    b = preview(**{"from": 2, "pts": [3, 3, 0.5]})
    a_before = copy.deepcopy(a)
    merged = canvas._merge_preview(a, b)
    assert merged["from"] == 0 and merged["pts"] == [1, 1, 0.5, 2, 2, 0.5, 3, 3, 0.5]
    assert a == a_before  # the pending chunk is not mutated


@pytest.mark.parametrize("b", [
    preview(**{"from": 5, "pts": [3, 3, 0.5]}),
    preview(**{"from": 0, "pts": [3, 3, 0.5]}),
    preview(id="other", **{"from": 2, "pts": [3, 3, 0.5]}),
], ids=["gap", "restart", "other stroke"])
def test_merge_preview_refuses_chunks_that_do_not_follow(b):
    assert canvas._merge_preview(preview(pts=[1, 1, 0.5, 2, 2, 0.5]), b) is None


# ====================================================================== render

def render(state, page_id="p1"):
    """The page as RGB (render gives a palette image when it can: see below)."""
    return canvas.render(state, page_id, ASSETS).convert("RGB")


def rendered_both_ways(state, monkeypatch, page_id="p1"):
    """render's picture, and the one its RGB path draws when the palette path is off."""
    fast = canvas.render(state, page_id, ASSETS)
    with monkeypatch.context() as m:
        m.setattr(canvas, "_indexed", lambda *a: None)
        slow = canvas.render(state, page_id, ASSETS)
    return fast, slow


def test_render_of_an_empty_page_is_the_board_size_in_its_background():
    img = render(canvas.initial_state())
    assert img.size == (canvas.BOARD_W, canvas.BOARD_H)
    assert img.getextrema() == ((255, 255), (255, 255), (255, 255))


@pytest.mark.parametrize("bg", sorted(canvas.BACKGROUNDS))
def test_render_gives_a_palette_image_with_the_same_pixels_as_the_rgb_path(bg, monkeypatch):
    """Pens, markers, an eraser and highlighters crossing each other and the grid: a
    palette ("P") image whose pixels are exactly those of the RGB path."""
    ops = [("page.bg", {"page": "p1", "bg": bg})]
    for k, (tool, color) in enumerate([("pen", "#e53935"), ("marker", "#1e40af"), ("highlighter", "#fdd835"),
                                       ("pen", "#43a047"), ("highlighter", "#8e24aa"),
                                       ("eraser", "#000000"), ("highlighter", "#e53935")]):
        ops.append(("stroke", stroke(f"s{k}", pts=line(y=300 + 60 * k), size=24, tool=tool, color=color)))
        ops.append(("stroke", stroke(f"d{k}", pts=[200 + 150 * k, 100, 0.5, 260 + 150 * k, 900, 0.5],
                                     size=30, tool=tool, color=color)))
    fast, slow = rendered_both_ways(run(canvas.initial_state(), *ops), monkeypatch)
    assert fast.mode == "P" and slow.mode == "RGB"
    assert fast.convert("RGB").tobytes() == slow.tobytes()
    assert len(slow.getcolors(256)) > 8          # the blends are really there


def test_render_falls_back_to_rgb_past_256_colours_or_with_a_stamp(monkeypatch):
    many = run(canvas.initial_state(), *[
        ("stroke", stroke(f"c{k}", pts=[10 + 5 * k, 10, 0.5, 10 + 5 * k, 990, 0.5], size=4,
                          color=f"#{k % 256:02x}{k // 256:02x}80")) for k in range(260)])
    img = canvas.render(many, "p1", ASSETS)
    assert img.mode == "RGB" and len(img.getcolors(1000)) == 261
    few = run(canvas.initial_state(), *[
        ("stroke", stroke(f"c{k}", pts=[10 + 5 * k, 10, 0.5, 10 + 5 * k, 990, 0.5], size=4,
                          color=f"#{k % 256:02x}{k // 256:02x}80")) for k in range(255)])
    assert canvas.render(few, "p1", ASSETS).mode == "P"
    stamped = run(few, ("stamp", stamp("st", x=400, y=300, size=96)))
    fast, slow = rendered_both_ways(stamped, monkeypatch)
    assert fast.mode == "RGB" and fast.tobytes() == slow.tobytes()


def test_render_red_stroke_is_red_where_drawn_and_background_elsewhere():
    s = run(canvas.initial_state(), ("stroke", stroke("r", pts=line(y=500), size=16)))
    img = render(s)
    for x in (200, 800, 1400):
        assert img.getpixel((x, 500)) == RED
    assert img.getpixel((800, 100)) == WHITE
    assert img.getpixel((800, 900)) == WHITE
    assert img.getpixel((50, 500)) == WHITE  # before the stroke starts


def test_render_eraser_over_ink_gives_the_background_back():
    s = run(canvas.initial_state(),
            ("stroke", stroke("r", pts=line(y=500), size=16)),
            ("stroke", stroke("e", pts=line(y=500), size=40, tool="eraser", color="#000000")))
    img = render(s)
    for x in (200, 800, 1400):
        assert img.getpixel((x, 500)) == WHITE


def test_render_eraser_on_grid_shows_grid_lines_not_white_paint():
    s = run(canvas.initial_state(), ("page.bg", {"page": "p1", "bg": "grid"}),
            ("stroke", stroke("r", pts=line(y=500), size=16)),
            ("stroke", stroke("e", pts=line(y=500), size=40, tool="eraser", color="#ffffff")))
    img = render(s)
    assert img.getpixel((800, 500)) == GRID_LINE   # y=500 is a grid line
    assert img.getpixel((825, 505)) == WHITE


def test_render_highlighter_is_see_through():
    s = run(canvas.initial_state(),
            ("stroke", stroke("h", pts=line(y=500), size=16, tool="highlighter")))
    r, g, b = render(s).getpixel((800, 500))
    assert (r, g, b) != RED and (r, g, b) != WHITE
    assert r > g and r > b  # still reddish


def test_render_stamp_puts_a_picture_at_its_spot():
    s = run(canvas.initial_state(), ("stamp", stamp("st", x=400, y=300, size=96)))
    img = render(s)
    box = img.crop((352, 252, 448, 348))
    raw = box.tobytes()
    inked = sum(1 for i in range(0, len(raw), 3) if raw[i:i + 3] != bytes(WHITE))
    assert inked > 0.3 * 96 * 96
    assert img.getpixel((1200, 800)) == WHITE
    assert img.crop((500, 0, 1600, 1000)).getextrema() == ((255, 255), (255, 255), (255, 255))


def test_render_grid_background_has_lines():
    s = run(canvas.initial_state(), ("page.bg", {"page": "p1", "bg": "grid"}))
    img = render(s)
    assert img.getpixel((50, 25)) == GRID_LINE
    assert img.getpixel((25, 50)) == GRID_LINE
    assert img.getpixel((25, 25)) == WHITE


def test_render_night_background_is_dark():
    s = run(canvas.initial_state(), ("page.bg", {"page": "p1", "bg": "night"}))
    assert render(s).getpixel((10, 10)) == (0x1b, 0x2a, 0x49)


def test_render_draws_only_the_asked_page():
    s = run(canvas.initial_state(), ("page.add", {"page": "p2"}),
            ("stroke", stroke("r", page="p2", pts=line(y=500), size=16)))
    assert render(s, "p2").getpixel((800, 500)) == RED
    assert render(s, "p1").getpixel((800, 500)) == WHITE


def test_render_scale_changes_the_picture_size():
    img = render_scaled = canvas.render(canvas.initial_state(), "p1", ASSETS, scale=0.5)
    assert render_scaled.convert("RGB").getpixel((0, 0)) == WHITE
    assert img.size == (canvas.BOARD_W // 2, canvas.BOARD_H // 2)


def test_render_unknown_page_raises_key_error():
    with pytest.raises(KeyError):
        render(canvas.initial_state(), "nope")



# ====================================================================== save to record (issue 17)

def saved_state():
    s = run(canvas.initial_state(), ("stroke", stroke(sid="a")), ("page.add", {"page": "p2"}))
    d = canvas.validate("page.save", {"page": "p1", "id": "sv1", "caption": "  Our dragon "})
    assert canvas.check(s, "page.save", d) is None
    new, inv = canvas.apply(s, "page.save", {**d, "at": 5.0}, by="th")
    return s, new, inv


def test_save_keeps_a_copy_of_the_page_that_later_drawing_does_not_change():
    before, s, inv = saved_state()
    assert inv == ("page.unsave", {"id": "sv1"})
    assert s["pages"] == before["pages"]
    entry = s["saved"][0]
    assert (entry["caption"], entry["index"], entry["at"], entry["by"]) == ("Our dragon", 1, 5.0, "th")
    later = run(s, ("stroke", stroke(sid="b")), ("clear", {"page": "p1"}))
    assert [it["id"] for it in later["saved"][0]["items"]] == ["a"]
    # The copy's numbers count towards ROOM1; the page's own count is unchanged.
    assert canvas.content(s) == 2 * canvas.content(before)


def test_unsave_and_restore_are_each_others_inverse():
    _, s, inv = saved_state()
    gone, back = canvas.apply(s, *inv)
    assert "saved" not in gone and back[0] == "saved.restore"      # exactly the state before
    again, inv2 = canvas.apply(gone, *back)
    assert again["saved"] == s["saved"] and inv2 == inv
    assert canvas.apply(gone, *inv) == (gone, None)           # stale: nothing to unsave


@pytest.mark.parametrize("d,code", [
    ({"page": "nope", "id": "x"}, E_NO_PAGE),
    ({"page": "p2", "id": "x"}, E_NOTHING),                  # an empty page
    ({"page": "p1", "id": "sv1"}, E_CONFLICT),
])
def test_save_is_refused_with_a_reason(d, code):
    _, s, _ = saved_state()
    assert canvas.check(s, "page.save", canvas.validate("page.save", d)).code == code


def test_save_is_refused_when_the_room_keeps_enough_copies():
    _, s, _ = saved_state()
    for k in range(canvas.MAX_SAVED - 1):
        s, _ = canvas.apply(s, "page.save", {"page": "p1", "id": f"k{k}", "caption": None, "at": 1.0})
    assert canvas.check(s, "page.save", {"page": "p1", "id": "more", "caption": None}).code == E_FULL


@pytest.mark.parametrize("d", [
    {"page": "p1"}, {"page": "p1", "id": "x", "caption": "x" * 81},
    {"page": "p1", "id": "x", "caption": "two\nlines"}, {"page": "p1", "id": "x", "caption": 3},
    {"page": "p1", "id": "x", "at": 1.0}, {"page": "p1", "id": "x", "items": []},
])
def test_save_payload_is_validated(d):
    assert isinstance(canvas.validate("page.save", d), Rejected)


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_browser_reducer_keeps_the_same_copies(tmp_path):
    """static/canvas/canvas-model.js keeps saved copies as the server does, so every
    client's state is what a late joiner receives (HOST1's convergence)."""
    ops = [("stroke", stroke(sid="a")), ("page.add", {"page": "p2"}),
           ("page.save", {"page": "p1", "id": "sv1", "caption": "Our dragon", "at": 5.0}),
           ("page.save", {"page": "p2", "id": "sv2", "caption": None, "at": 6.0}),   # empty: no-op
           ("stroke", stroke(sid="b")), ("page.save", {"page": "p1", "id": "sv3", "caption": None, "at": 7.0}),
           ("page.unsave", {"id": "sv1"}), ("page.unsave", {"id": "nope"})]
    script = (
        "import {apply, initialState} from './model.mjs';\n"
        "import {readFileSync} from 'node:fs';\n"
        "const {ops} = JSON.parse(readFileSync(0, 'utf8'));\n"
        "let s = initialState(); const out = [];\n"
        "for (const [t, d] of ops) { const [n, inv] = apply(s, t, d, 'th'); s = n; out.push([n, inv]); }\n"
        "process.stdout.write(JSON.stringify(out));\n")
    s = canvas.initial_state()
    py = []
    for t, d in ops:
        s, inv = canvas.apply(s, t, d, by="th")
        py.append((t, d, s, inv))
    _, restore = py[-2][3]
    ops.append(("saved.restore", restore))
    s, inv = canvas.apply(s, "saved.restore", restore, by="th")
    py.append(("saved.restore", restore, s, inv))
    js = run_node(tmp_path, {"model.mjs": "canvas/model.js"}, script, {"ops": ops})
    for (t, _, state, inv), (js_state, js_inv) in zip(py, js):
        assert js_state == json.loads(json.dumps(state)), t
        assert js_inv == (list(json.loads(json.dumps(inv))) if inv else None), t
    assert [x["id"] for x in s["saved"]] == ["sv1", "sv3"]


def test_READ2_a_guest_reads_only_this_sessions_copies():
    before, s, _ = saved_state()                     # saved at 5.0
    s, _ = canvas.apply(s, "page.save", {"page": "p1", "id": "sv2", "caption": None, "at": 50.0})
    assert canvas.visible(s, THERAPIST, {"at": 40.0}) is s
    for role in (CHILD, PARENT):
        assert [x["id"] for x in canvas.visible(s, role, {"at": 40.0})["saved"]] == ["sv2"]
        assert canvas.visible(s, role, {"at": 1.0}) is s
        assert canvas.visible(s, role, None)["saved"] == []
        assert canvas.visible(before, role, None) is before


def test_a_saved_copy_is_an_explicit_record_picture_with_its_caption():
    _, s, _ = saved_state()
    s = run(s, ("clear", {"page": "p1"}))
    op = {"seq": 9, "ts": 7.0, "by": "th", "kind": "do", "t": "page.save",
          "d": {"page": "p1", "id": "sv1", "caption": "Our dragon", "at": 5.0}}
    [entry] = canvas.record_entries([op], s)
    assert entry["data"] == {"picture": "saved:sv1", "caption": "Our dragon"}
    assert entry["at"] == 5.0 and "Our dragon" in entry["text"]
    img = canvas.render(s, "saved:sv1", ASSETS).convert("RGB")
    assert RED in {c for _, c in img.getcolors(1 << 20)}       # the stroke as it was saved
    with pytest.raises(KeyError):
        canvas.render(s, "saved:nope", ASSETS)
    op["d"]["caption"] = None
    assert canvas.record_entries([op], {"pages": s["pages"], "saved": []})[0]["data"]["caption"] \
        == "Saved drawing"



# ====================================================================== upright pages

def _run(state, t, d):
    d = canvas.validate(t, d)
    assert not isinstance(d, Rejected), d
    refused = canvas.check(state, t, d)
    if refused is not None:
        return state, refused
    return canvas.apply(state, t, d, by="kid")[0], None


def test_page_shapes_a_tall_page_for_an_upright_tablet_and_its_bounds():
    """Issue 14: a child holding a tablet upright gets a tall page (1200×1600) that
    fills it; points are checked against their own page's shape."""
    s, _ = _run(canvas.initial_state(), "page.add", {"page": "p2", "shape": "tall"})
    assert canvas.page_size(s["pages"][1]) == (1200, 1600)
    assert canvas.page_size(s["pages"][0]) == (canvas.BOARD_W, canvas.BOARD_H)
    low = with_("stroke", page="p2", pts=[500, 1500, 0.5, 1199, 1600, 0.5])
    s, refused = _run(s, "stroke", low)
    assert refused is None and s["pages"][1]["n"] == 6
    for page, pts in (("p2", [1201, 10, 0.5]), ("p1", [10, 1001, 0.5])):
        _, refused = _run(s, "stroke", with_("stroke", id="x9", page=page, pts=pts))
        assert refused is not None and refused.code == E_INVALID, page
    _, refused = _run(s, "stamp", with_("stamp", id="st9", page="p2", x=1300, y=100))
    assert refused.code == E_INVALID
    _, refused = _run(s, "stamp", with_("stamp", id="st9", page="p2", x=900, y=1500))
    assert refused is None


def test_page_shapes_only_an_empty_page_turns_and_undo_turns_it_back():
    s = canvas.initial_state()
    s2, refused = _run(s, "page.shape", {"page": "p1", "shape": "tall"})
    assert refused is None and s2["pages"][0]["shape"] == "tall"
    _, inverse = canvas.apply(s, "page.shape", {"page": "p1", "shape": "tall"})
    assert canvas.apply(s2, *inverse)[0] == s                  # back to wide: no "shape" key
    drawn, _ = _run(s, "stroke", with_("stroke"))
    _, refused = _run(drawn, "page.shape", {"page": "p1", "shape": "tall"})
    assert refused.code == E_CONFLICT and "empty page" in refused.reason
    assert isinstance(canvas.validate("page.shape", {"page": "p1", "shape": "round"}), Rejected)
    assert isinstance(canvas.validate("page.add", {"page": "p3", "shape": "square"}), Rejected)


def test_page_shapes_a_tall_page_renders_upright_and_is_saved_upright():
    s, _ = _run(canvas.initial_state(), "page.add", {"page": "p2", "shape": "tall"})
    s, _ = _run(s, "stroke", with_("stroke", page="p2", pts=[100, 1500, 0.5, 900, 1500, 0.5]))
    img = canvas.render(s, "p2", ASSETS)
    assert img.size == (1200, 1600)
    assert img.convert("RGB").getpixel((500, 1500)) != (255, 255, 255)     # the line, low down
    s, _ = _run(s, "page.save", {"page": "p2", "id": "keep1"})
    assert canvas.render(s, "saved:keep1", ASSETS).size == (1200, 1600)


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_browser_reducer_turns_pages_as_the_server_does(tmp_path):
    """Issue 14: tall pages and turning an empty page, the same in model.js (parity)."""
    ops = [("page.add", {"page": "p2", "shape": "tall"}), ("page.shape", {"page": "p1", "shape": "tall"}),
           ("page.shape", {"page": "p1", "shape": "wide"}), ("page.add", {"page": "p3", "shape": "wide"}),
           ("stroke", stroke(sid="a", page="p2", pts=[10, 1500, 0.5, 20, 1510, 0.5])),
           ("page.shape", {"page": "p2", "shape": "wide"}),          # drawn: no-op
           ("page.save", {"page": "p2", "id": "sv1", "caption": None, "at": 5.0}),
           ("page.shape", {"page": "p3", "shape": "tall"}), ("page.shape", {"page": "gone", "shape": "tall"})]
    script = (
        "import {apply, initialState} from './model.mjs';\n"
        "import {readFileSync} from 'node:fs';\n"
        "const {ops} = JSON.parse(readFileSync(0, 'utf8'));\n"
        "let s = initialState(); const out = [];\n"
        "for (const [t, d] of ops) { const [n, inv] = apply(s, t, d, 'kid'); s = n; out.push([n, inv]); }\n"
        "process.stdout.write(JSON.stringify(out));\n")
    s, py = canvas.initial_state(), []
    for t, d in ops:
        s, inv = canvas.apply(s, t, d, by="kid")
        py.append((t, s, inv))
    js = run_node(tmp_path, {"model.mjs": "canvas/model.js"}, script, {"ops": ops})
    for (t, state, inv), (js_state, js_inv) in zip(py, js):
        assert js_state == json.loads(json.dumps(state)), t
        assert js_inv == (list(json.loads(json.dumps(inv))) if inv else None), t
    assert [p.get("shape", "wide") for p in s["pages"]] == ["wide", "tall", "tall"]
    assert s["saved"][0]["shape"] == "tall"
