"""JSON1: the live path's JSON (rooms/core/fastjson.py) reads and writes the same values
as the standard library, falls back to it for what orjson cannot write, refuses what
no client of ours sends, and is what the server's packets use."""
import json
import math
import random

import pytest
import socketio
from engineio import json as engineio_json

from rooms.core import fastjson
from rooms.core.live import _dumps, public_op


def _stroke(rnd, n):
    pts = []
    for _ in range(n):
        pts += [round(rnd.uniform(0, 1600), 1), round(rnd.uniform(0, 1000), 1), round(rnd.random(), 2)]
    return {"page": "p1", "id": "abcdefabcdef", "tool": "pen", "color": "#e53935", "size": 8, "pts": pts}


VALUES = [
    _stroke(random.Random(1), 480),
    {"a": "canvas", "k": "stroke", "from": 40, "pts": [0, 0.5, 1, 1600, 1000, 0.99]},
    {"title": "Zoë's day — 学校 🦊", "steps": [{"label": "Ééé", "done": False}, None, True]},
    [1e16, 1e-7, -0.0, 0.1, 123.45, 2 ** 63 - 1, -(2 ** 63)],
    {"nested": [[[{"x": [1, [2, [3]]]}]]], "empty": {}, "list": []},
]


@pytest.mark.parametrize("value", VALUES, ids=range(len(VALUES)))
def test_JSON1_the_text_decodes_to_the_same_value_as_the_standard_librarys(value):
    text = fastjson.dumps(value)
    assert isinstance(text, str)
    assert json.loads(text) == value
    assert fastjson.loads(text) == value
    assert fastjson.loads(json.dumps(value)) == value
    assert fastjson.loads(text.encode()) == value            # bytes too


def test_JSON1_ascii_text_is_the_standard_librarys_compact_text():
    # Numbers, names and points: the same bytes as before (what tests, the browser and
    # stored logs have seen), so only non-ASCII text is written differently (UTF-8).
    value = VALUES[0]
    assert fastjson.dumps(value) == json.dumps(value, separators=(",", ":"))
    assert fastjson.dumps("Zoë") == '"Zoë"' and json.loads(fastjson.dumps("Zoë")) == "Zoë"


@pytest.mark.parametrize("value", [
    {"title": "Bad \ud800 title"},          # stored before the text rule refused it
    {1: "a non-string key"},
    [10 ** 30],                                # beyond 64 bits
])
def test_JSON1_what_orjson_cannot_write_goes_through_the_standard_library(value):
    assert fastjson.dumps(value) == json.dumps(value, separators=(",", ":"))


def _outcome(loads, text):
    try:
        return ("value", repr(loads(text)))
    except Exception as e:            # noqa: BLE001 (the kind of failure is the answer)
        return ("error", type(e).__name__ if not isinstance(e, ValueError) else "ValueError")


@pytest.mark.parametrize("text", [
    "NaN", "[Infinity]", "[-Infinity]", "[1e999]", '["op",{"x":NaN}]', '"\\ud800"',
    '{"op_id":"\\udfff"}', "[" * 950 + "]" * 950, "[" * 100_000 + "]" * 100_000, "1" * 400,
    '{"a":1', "[1,]", "", "x", b"\xff", b'{"a":"\xc3\xa9"}', '{"a":1,"a":2}', " [1] ",
])
def test_JSON1_what_orjson_refuses_is_read_as_the_library_read_it(text):
    """NaN, infinities, lone surrogates, deep nesting, bad JSON: accepted or refused
    exactly as engine.io's reading did (validators refuse a NaN by name, `invalid`)."""
    assert _outcome(fastjson.loads, text) == _outcome(engineio_json.loads, text)


def test_JSON1_an_integer_beyond_64_bits_is_read_as_a_float():
    # The one difference (docs/PROTOCOL.md WIRE2): no field takes such a number, so
    # validation refuses it (`invalid`) where the decoder did (`bad_event`).
    assert fastjson.loads("[" + "1" + "0" * 120 + "]") == [1e120]
    assert fastjson.loads("[18446744073709551615]") == [18446744073709551615]


def test_JSON1_keyword_arguments_the_libraries_pass_are_accepted():
    # python-socketio: dumps(data, separators=(',', ':')); engine.io: loads(text).
    assert fastjson.dumps(["op", {"a": 1}], separators=(",", ":")) == '["op",{"a":1}]'
    assert fastjson.loads('["op",{"a":1}]', parse_int=int) == ["op", {"a": 1}]


def test_JSON1_the_op_text_is_the_packet_encoding():
    """A broadcast op's text (built once, around the logged text of `d`) is what the
    packet class would write for it, non-ASCII included."""
    d = {"page": "p1", "id": "s1", "text": "Zoë 🦊", "pts": [1.5, 2, 0.25]}
    op = public_op(7, "canvas", "text", d, _dumps(d), "child1", "op-1", "do")
    assert fastjson.loads(op.json) == dict(op)
    assert op.json == fastjson.dumps(dict(op))


def test_JSON1_the_server_packets_use_it(app):
    """The app's Socket.IO server writes and reads its packets with fastjson (app.py)."""
    server = app.extensions["socketio"].server
    pkt = server.packet_class(socketio.packet.EVENT, data=["eph_out", {"t": "é", "x": 1.5}])
    assert pkt.json is fastjson
    assert pkt.encode() == '2["eph_out",{"t":"é","x":1.5}]'   # stdlib: "\\u00e9"
    assert server.packet_class(encoded_packet='2["x",{"v":1e120}]').data[1]["v"] == 1e120
    # (the library's module reads that as an int: only fastjson gives a float)
    assert type(socketio.packet.Packet.json.loads("1" + "0" * 120)) is float


def test_JSON1_the_bench_switch_brings_the_standard_library_back(monkeypatch):
    """bench/'s A/B (PLAYROOM_FAST_JSON=0): the same module, the standard library's
    text and reading again (escapes, NaN read, big integers as ints)."""
    monkeypatch.setattr(fastjson, "dumps", fastjson.dumps)
    monkeypatch.setattr(fastjson, "loads", fastjson.loads)
    fastjson.use_standard_library()
    assert fastjson.dumps({"t": "é", "x": [1.5]}) == '{"t":"\\u00e9","x":[1.5]}'
    assert fastjson.loads("[" + "1" * 30 + "]") == [int("1" * 30)]
    assert math.isnan(fastjson.loads("NaN"))
