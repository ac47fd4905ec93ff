"""JSON text of activity states for the `state` event, encoded once and reused.

A late joiner of a big board used to cost a full `json.dumps` of every state, per
joiner. Now the engine keeps one snapshot text per seq for all joiners (JOIN1), and
`StateEncoder` keeps the text of every dict it has encoded (items, not whole pages),
keyed by the object itself: states are never mutated in place (activities/contract/__init__.py),
so an unchanged item is encoded once while the room is loaded, and the snapshot after
one more op costs the new item and the joins around it.

Packed number lists (JOIN2): a client that says it understands them (`sync {pack:
1}`) gets every long list of plain numbers — a stroke's points — as
`{"#n": "<count>:<lanes>:<base64>"}` instead of `[x, y, p, ...]`, about 4x smaller.
The list is cut into `stride` interleaved lanes (x, y, pressure); each lane stores
its first value and then differences, as integers q with value = q / 10**d:

    lanes  one "<d><w>" token per lane: d decimals (0-3), w the width of a
           difference (b int8, h int16, i int32, little-endian), e.g. "1b1b2b"
    data   per lane, in lane order: the first q (int32), then the differences

A list is packed only when every value comes back bit-for-bit: each is a finite
int or float (not bool), q / 10**d == value as correctly rounded division (the
browser divides the same way), and no value is -0.0. Anything else is sent as the
plain list it is. A state that itself has the key "#n" anywhere is sent unpacked.
"""
import base64
import json
import math
import sys
from array import array
from json.encoder import encode_basestring_ascii
from operator import sub

MARK = "#n"
MIN_PACK = 16           # shorter lists are not worth a header
CACHE_MAX = 8 * 1024    # bigger texts (a page, a sand tray) are rebuilt from their cached
                        # parts: caching them too kept every level of a small state's text
                        # (~35 KiB for an empty room, bench/ idle); an item is far smaller
_STRIDES = (3, 2, 1)    # first stride that divides the length is used
_SCALES = [(d, float(10 ** d), 10 ** d) for d in range(4)]
_HALF = (0.5).__add__
_floor = math.floor
_WIDTHS = (("b", 127), ("h", 32767), ("i", 2 ** 31 - 1))
_SCALARS = frozenset((str, int, float, bool, type(None)))
_NUMBERS = frozenset((int, float))
_BIG_ENDIAN = sys.byteorder == "big"
_plain = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode


class Collision(Exception):
    """The state itself uses the marker key: it cannot be sent packed."""


def _scalar(v):
    t = type(v)
    if t is str:
        return encode_basestring_ascii(v)
    if t is int:
        return int.__repr__(v)
    if t is float and math.isfinite(v):
        return float.__repr__(v)
    return _plain(v)   # bool, None, subclasses; NaN/inf raise as in json.dumps


def _lane(values):
    """(d, w, first q, difference bytes) for one lane, or None if not exact."""
    first = values[0]
    for d, fs, s in _SCALES:
        # Cheap look at the first value before checking the whole lane.
        if _floor(first * fs + 0.5) / s != first:
            continue
        q = list(map(_floor, map(_HALF, map(fs.__mul__, values))))
        if list(map(s.__rtruediv__, q)) != values:
            continue
        if 0 in q and any(math.copysign(1.0, v) < 0 for v in values if v == 0):
            return None                         # -0.0 would come back as 0
        diffs = list(map(sub, q[1:], q))
        lo, hi = (min(diffs), max(diffs)) if diffs else (0, 0)
        # Every running sum stays an exact integer in a JavaScript number.
        if abs(q[0]) > _WIDTHS[-1][1] or abs(q[0]) + len(q) * max(-lo, hi) >= 2 ** 53:
            return None
        for code, lim in _WIDTHS:
            if -lim <= lo and hi <= lim:
                arr = array(code, diffs)
                if _BIG_ENDIAN:
                    arr.byteswap()
                return d, code, q[0], arr.tobytes()
        return None
    return None


def pack_numbers(values):
    """The packed text of a list of numbers, or None when it must stay a list."""
    n = len(values)
    if n < MIN_PACK or not set(map(type, values)) <= _NUMBERS:
        return None
    stride = next(s for s in _STRIDES if n % s == 0)
    spec, chunks = [], []
    try:
        for j in range(stride):
            lane = _lane(values[j::stride])
            if lane is None:
                return None
            d, code, first, data = lane
            head = array("i", [first])
            if _BIG_ENDIAN:
                head.byteswap()
            spec.append(f"{d}{code}")
            chunks.append(head.tobytes())
            chunks.append(data)
    except (OverflowError, ValueError):       # inf / nan / huge ints: not packable
        return None
    return f'{{"{MARK}":"{n}:{"".join(spec)}:{base64.b64encode(b"".join(chunks)).decode("ascii")}"}}'


class StateEncoder:
    """JSON text of states, caching the text of each dict (up to CACHE_MAX) by
    identity. One per room and format; not reentrant (callers hold a lock)."""

    def __init__(self, pack):
        self.pack = pack
        self._cache = {}          # id(dict) -> (dict, text); the dict keeps its id alive

    def encode_states(self, states):
        """`{"name": state, ...}` for a {name: state} mapping (the mapping itself may
        change in place later; only the states are cached). Raises Collision."""
        new = {}
        try:
            text = "{" + ",".join(_scalar(k) + ":" + self._enc(v, new) for k, v in states.items()) + "}"
        except Exception:
            self._cache = {}
            raise
        self._cache = new         # forget what the current states no longer hold
        return text

    def _enc(self, x, new):
        t = type(x)
        if t is dict:
            key = id(x)
            hit = self._cache.get(key) or new.get(key)
            if hit is not None and hit[0] is x:
                new[key] = hit
                return hit[1]
            if self.pack and MARK in x:
                raise Collision(MARK)
            parts = []
            for k, v in x.items():
                tk = type(k)
                ks = encode_basestring_ascii(k) if tk is str else _plain({k: 0})[1:-3]
                tv = type(v)
                parts.append(ks + ":" + (self._enc(v, new) if tv is dict or tv is list else _scalar(v)))
            text = "{" + ",".join(parts) + "}"
            if len(text) <= CACHE_MAX:
                new[key] = (x, text)
            return text
        if t is list:
            if self.pack:
                packed = pack_numbers(x)
                if packed is not None:
                    return packed
            if set(map(type, x)) <= _SCALARS:
                return _plain(x)
            return "[" + ",".join(self._enc(v, new) if type(v) in (dict, list) else _scalar(v)
                                  for v in x) + "]"
        return _scalar(x)
