"""Shared pieces of the engine: the live room, wire snapshots and small helpers."""
import json
import logging
import math
import threading
from collections import defaultdict

from activities.contract.protocol import (LIMITS, PACK_VERSION)
from rooms.core import fastjson
from rooms.core.wire import StateEncoder

log = logging.getLogger("playroom.engine")

DO, UNDO, REDO = "do", "undo", "redo"


def _dumps(obj):
    """Compact JSON text for the log and the broadcast (fastjson: one encoding with
    the packets the socket layer writes)."""
    return fastjson.dumps(obj)


def _size(msg):
    """Bytes of an event as JSON (NaN allowed here: it is refused later, by name).
    A payload nested too deep to encode (RecursionError) counts as too large: no
    event of ours nests deeper than a few levels."""
    try:
        return len(json.dumps(msg, separators=(",", ":")))
    except (TypeError, ValueError):
        return 0
    except RecursionError:
        return math.inf


# A JSON text of n characters, decoded and encoded again (_size), is at most 12 n long:
# a character outside the BMP becomes a 12-character escape, and nothing grows more
# (a control or non-ASCII character 6, a number such as 1e15 4.5 times).
JSON_GROWTH = 12


def small_enough(packet_chars, limit):
    """True when an event that arrived in a packet of `packet_chars` characters
    cannot be over `limit` bytes as JSON (so `_size` need not encode it)."""
    return packet_chars is not None and packet_chars * JSON_GROWTH <= limit


def is_op_id(op_id):
    """SEQ2/WIRE2: an op_id is a non-empty short str that is UTF-8 text (a lone
    surrogate cannot be stored or sent back)."""
    if type(op_id) is not str or not 0 < len(op_id) <= LIMITS["op_id_chars"]:
        return False
    try:
        op_id.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def nack(code, reason, op_id=None):
    out = {"ok": False, "code": code, "reason": reason}
    if op_id is not None:
        out["op_id"] = op_id
    return out


def encode_snapshot(data):
    """The JSON text of a stored snapshot. StateEncoder walks the state in Python,
    one small C encode per item, so a worker thread running it lets the serving
    thread take the GIL every few ms (one json.dumps of a big board would hold it
    for the whole second)."""
    return StateEncoder(False).encode_states(data)


# Snapshot texts shorter than this are not kept between joins (see Engine._encode).
WIRE_CACHE_MIN = 64 * 1024

# _commit's answer when another process stored an op first (SCALE1): catch up, retry.
CONFLICT = object()


class LiveRoom:
    """In-memory state of one loaded room. Every field is guarded by `lock`."""

    def __init__(self, room_id, control):
        self.id = room_id
        self.lock = threading.Lock()
        self.seq = 0
        self.control = control      # the room's own state (rooms/core/control.py)
        self.states = {}
        self.undo = defaultdict(list)   # (participant, activity) -> [inverse (t, d), ...]
        self.redo = defaultdict(list)
        self.since_snapshot = 0
        self.snapshotting = False   # a periodic snapshot is being written (WORK1)
        self.closed = False   # set when unloaded: holders of a stale reference must reload
        # Snapshot text for joiners (JOIN1), per format (packed or not, JOIN2) and
        # view (READ2): the last WireSnapshot, and per format the encoder whose
        # cache makes the next one cheap (views share unchanged state objects).
        # Guarded by `wire_lock` (encoding runs outside `lock`, on immutable states).
        self.wire_lock = threading.Lock()
        self.wire = {}          # (pack (bool), view) -> WireSnapshot
        self.encoders = {}      # pack (bool) -> StateEncoder

    @property
    def settings(self):
        """What the browsers get as `settings` (replaced, never mutated in place)."""
        return self.control["settings"]


class WireSnapshot:
    """The activities of one snapshot as JSON text, for every joiner at `seq`.
    Settings are added per joiner (they change without a new seq)."""
    __slots__ = ("seq", "activities", "packed")

    def __init__(self, seq, activities, packed):
        self.seq = seq
        self.activities = activities    # JSON text of {name: state}
        self.packed = packed            # number lists in it are packed (JOIN2)

    def text(self, settings):
        """The whole `state` payload as JSON text."""
        packed = f'"packed":{PACK_VERSION},' if self.packed else ""
        return (f'{{"mode":"snapshot","seq":{self.seq},"activities":{self.activities},{packed}'
                f'"settings":{_dumps(settings)}}}')


class EncodedOp(dict):
    """An op as broadcast (a plain dict, `d` last) that also carries its JSON text in
    `.json`, built around the text of `d` that the engine made for storing it: the
    socket layer sends that text instead of encoding the op again (hub.TextPacket)."""
    __slots__ = ("json",)


def public_op(seq, name, t, d, d_text, by, op_id, kind):
    """The broadcast form of a committed op; `d_text` is `_dumps(d)`."""
    op = EncodedOp(seq=seq, a=name, t=t, by=by, op_id=op_id, kind=kind)
    head = _dumps(op)
    op["d"] = d
    op.json = f'{head[:-1]},"d":{d_text}}}'
    return op


class EncodedState(dict):
    """A `state` payload (a plain dict, as for ops mode) that also carries its JSON
    text in `.json`, so the socket layer sends the cached text instead of encoding,
    and in `.view` which view of the room it is (readpolicy.visible_states: joiners of
    one view at one seq get the same content, JOIN1)."""
    __slots__ = ("json", "view")
