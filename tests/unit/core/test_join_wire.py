"""JOIN2: snapshot text encoded once (rooms/core/wire.py) and packed number lists, with
the browser's decoder (static/canvas/room/wire.js) run by node on the Python output."""
import json
import math
import random
import shutil

import pytest

from rooms.core.wire import MARK, Collision, StateEncoder, pack_numbers
from tests.packing import unpack_numbers
from tests.support import run_node


def plain(obj):
    return json.dumps(obj, separators=(",", ":"))


def stroke_pts(n, rnd):
    pts = []
    for _ in range(n):
        pts += [round(rnd.uniform(0, 1600), 1), round(rnd.uniform(0, 1000), 1), round(rnd.random(), 2)]
    return pts


def board(rnd, strokes=30):
    items = [{"id": f"s{i}", "k": "stroke", "by": "th-1", "tool": "pen", "color": "#e53935",
              "size": 8, "pts": stroke_pts(rnd.randint(1, 60), rnd)} for i in range(strokes)]
    items.append({"id": "st", "k": "stamp", "by": "kid", "stamp": "star", "x": 10.5, "y": 3,
                  "size": 120, "rot": -0.0})
    return {"pages": [{"id": "p1", "bg": "white", "n": 0, "items": items},
                      {"id": "p2", "bg": "grid", "n": 0, "items": []}]}


# Number lists that must come back exactly, packed or not.
LISTS = {
    "canvas points": stroke_pts(40, random.Random(1)),
    "integers": list(range(-20, 20)),
    "big jumps (int32 differences)": [0, 2_000_000_000, -2_000_000_000] * 6,
    "three decimals": [round(k * 0.001, 3) for k in range(30)],
    "not decimal": [k / 3 for k in range(30)],
    "mixed ints and floats": [1, 2.5, 3, 4.25, 5, 6.125] * 4,
    "negative zero": [-0.0] + [1.0] * 20,
    "huge": [1e300] * 20,
    "beyond int32 start": [3e9 + k for k in range(20)],
    "odd length": [round(0.1 * k, 1) for k in range(17)],
    "stride 2": [round(0.5 * k, 1) for k in range(20)],
    "bools stay bools": [True, False] * 10,
    "strings": ["a"] * 20,
    "short": [1.5, 2.5, 3.5],
}


@pytest.mark.parametrize("name", list(LISTS))
def test_JOIN2_packing_is_lossless_or_not_done(name):
    values = LISTS[name]
    text = StateEncoder(True).encode_states({"a": {"v": values}})
    back = json.loads(text)["a"]["v"]
    if isinstance(back, dict):
        assert set(back) == {MARK}
        assert name not in ("negative zero", "huge", "bools stay bools", "strings", "short",
                            "not decimal", "beyond int32 start")
    else:
        assert back == values and [type(v) for v in back] == [type(v) for v in values]


def test_JOIN2_negative_zero_and_non_finite_are_never_packed():
    assert pack_numbers([-0.0] + [0.5] * 20) is None
    assert pack_numbers([0.0] * 21) is not None
    assert pack_numbers([float("inf")] + [0.5] * 20) is None
    assert pack_numbers([float("nan")] + [0.5] * 20) is None


def test_JOIN2_canvas_points_are_packed_about_four_times_smaller():
    pts = stroke_pts(300, random.Random(2))
    packed = pack_numbers(pts)
    assert packed is not None
    assert len(packed) * 2.5 < len(plain(pts))


def test_JOIN1_plain_encoding_is_the_json_of_the_states():
    rnd = random.Random(3)
    states = {"canvas": board(rnd), "calm": {"x": [1, 2], "s": "é\n\"", "n": None, "b": True}}
    enc = StateEncoder(False)
    assert json.loads(enc.encode_states(states)) == states
    assert enc.encode_states(states) == plain(states)


def test_JOIN1_encoder_reuses_unchanged_items_and_sees_new_ones():
    """A new state shares unchanged items with the old one (pure reducers): the next
    encoding is the JSON of the new state, whatever the cache holds."""
    rnd = random.Random(4)
    s1 = board(rnd)
    enc = StateEncoder(False)
    first = enc.encode_states({"canvas": s1})
    page = s1["pages"][0]
    extra = {"id": "new", "k": "stroke", "by": "kid", "tool": "pen", "color": "#000000", "size": 4,
             "pts": [1, 2, 0.5] * 8}
    s2 = {"pages": [{**page, "items": page["items"][1:] + [extra]}, s1["pages"][1]]}
    second = enc.encode_states({"canvas": s2})
    assert json.loads(first) == {"canvas": s1}
    assert second == plain({"canvas": s2})
    assert enc.encode_states({"canvas": s1}) == first


def test_JOIN2_a_state_using_the_marker_key_cannot_be_packed():
    with pytest.raises(Collision):
        StateEncoder(True).encode_states({"x": {"deep": [{MARK: "1:0b:AAAAAA=="}]}})


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_JOIN2_browser_unpacks_to_the_very_same_numbers(tmp_path):
    """static/canvas/room/wire.js on the packed text gives what JSON.parse gives on the
    plain text, compared with Object.is (bit for bit, sign of zero included)."""
    script = (
        "import {unpack} from './wire.mjs';\n"
        "import {readFileSync} from 'node:fs';\n"
        "const cases = JSON.parse(readFileSync(0, 'utf8'));\n"
        "function same(a, b, path) {\n"
        "  if (Array.isArray(a) || (a && typeof a === 'object')) {\n"
        "    if (Array.isArray(a) !== Array.isArray(b) || !b || typeof b !== 'object') return path;\n"
        "    const ka = Object.keys(a), kb = Object.keys(b);\n"
        "    if (ka.join() !== kb.join()) return path + ' keys';\n"
        "    for (const k of ka) { const r = same(a[k], b[k], path + '/' + k); if (r) return r; }\n"
        "    return null;\n"
        "  }\n"
        "  return Object.is(a, b) ? null : `${path}: ${a} != ${b}`;\n"
        "}\n"
        "const out = cases.map(([packed, plainText]) =>"
        " same(unpack(JSON.parse(packed)), JSON.parse(plainText), ''));\n"
        "process.stdout.write(JSON.stringify(out));\n")
    rnd = random.Random(5)
    states = [{"canvas": board(rnd, 200)}, {"lists": LISTS}]
    cases = []
    for s in states:
        packed = StateEncoder(True).encode_states(s)
        assert MARK in packed
        cases.append([packed, plain(s)])
    assert run_node(tmp_path, {"wire.mjs": "room/wire.js"}, script, cases) == [None] * len(cases)


def test_JOIN2_numbers_survive_a_round_trip_through_python_decoding():
    """A reference decoder in Python (what wire.js does) on random lists."""
    rnd = random.Random(6)
    for _ in range(300):
        n = rnd.choice([16, 17, 30, 33, 300])
        d = rnd.randint(0, 3)
        vals = [round(rnd.uniform(-5000, 5000), d) for _ in range(n)]
        if d == 0:
            vals = [int(v) for v in vals]
        text = pack_numbers(vals)
        if text is None:
            assert any(v == 0 and math.copysign(1, v) < 0 for v in vals)
            continue
        out = unpack_numbers(text[len('{"#n":"'):-2])
        assert out == vals
