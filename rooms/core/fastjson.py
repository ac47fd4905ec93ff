"""JSON text of the live path (JSON1): orjson, with the standard library as fallback.

Every relayed stroke preview is decoded and encoded again, and every stroke op's
points are decoded, encoded once for the log and sent: with the standard library
those floats were ~15 % of the server's CPU per delivered message (a preview: 6.8 µs
to decode, 7.5 to encode; a 480-point stroke: 250 µs each way). orjson does the
same work in a tenth of the time.

This module is what python-socketio and python-engineio use for their packets
(`SocketIO(json=...)` in app.py: they call `dumps(data, separators=...)` and
`loads(text)`), and what the op pipeline uses for the text it stores and broadcasts
(rooms.core.live._dumps), so a broadcast op's text and a normal emit's are one
encoding.

What it reads and writes, against the standard library's (as engine.io used it):
- `loads` gives the same values. A text orjson refuses (NaN, Infinity, a number too
  large for a double, a lone surrogate "\\ud800", nesting deeper than 1,024, bad
  JSON) is read again by the standard library with engine.io's guard (no integer
  of more than 100 digits; not imported from engine.io: rooms/core knows no socket
  library), so it is accepted or refused exactly as before (validators then refuse
  a NaN by name).
  One difference: an integer of 20 to 308 digits comes back as a float (engine.io
  took up to 100 digits as an int and refused more); no field of ours takes such a
  number, so it is refused either way, by validation now (`invalid`).
- `dumps` writes non-ASCII characters as UTF-8 instead of \\u escapes (the same
  text once decoded), and anything orjson cannot write (a lone surrogate in data
  stored before the text rule, a non-string key, an integer beyond 64 bits) goes
  through the standard library, which writes it as before. A NaN would be written
  as null, but none reaches it: validators refuse non-finite numbers.
"""
import json as _json

import orjson as _orjson

_fast_dumps = _orjson.dumps
_fast_loads = _orjson.loads
_Refused = _orjson.JSONDecodeError
_std_dumps = _json.JSONEncoder(separators=(",", ":")).encode


def _int_of_at_most_100_digits(text):
    """The guard engine.io's reader puts on the standard library (engineio/json.py):
    reading a longer integer takes quadratic time, so it is refused."""
    if len(text) > 100:
        raise ValueError("Integer is too large")
    return int(text)


def _std_loads(text):
    return _json.loads(text, parse_int=_int_of_at_most_100_digits)


def dumps(obj, **_ignored):
    """Compact JSON text of obj (the arguments python-socketio passes are the
    compact separators this always uses)."""
    try:
        return _fast_dumps(obj).decode()
    except TypeError:
        return _std_dumps(obj)


def loads(text, **_ignored):
    """The value of a JSON text (str or bytes); ValueError if it is none."""
    try:
        return _fast_loads(text)
    except _Refused:
        return _std_loads(text)


def use_standard_library():
    """JSON1 off, for bench/'s A/B comparison only (PLAYROOM_FAST_JSON=0, read by
    rooms/transport/server.py): the standard library reads and writes everything
    again, as engine.io and the op pipeline did before."""
    global dumps, loads

    def dumps(obj, **_ignored):
        return _std_dumps(obj)

    def loads(text, **_ignored):
        return _std_loads(text)
