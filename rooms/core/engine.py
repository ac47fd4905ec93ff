"""The op pipeline: one ordered history per room, one writer per room.

    op -> validate -> authorise -> check -> apply -> sequence+persist -> broadcast -> ack

Everything that changes a room's durable state runs under that room's lock, so ops
are applied in exactly the order their sequence numbers say (SEQ1), a retried op is
answered with its original seq (SEQ2), and a joining socket receives the missing ops
or a snapshot before it is added to the live room (JOIN1). The engine knows
activities only through the registry interface and talks to sockets only through
the `broadcast` callback, so it is unit-tested without either.

Per-person undo (UNDO1-3): `apply` returns an inverse for every op; the inverse goes
on the author's undo stack for that activity. Undo applies the inverse as a new,
sequenced op and moves its inverse to the redo stack. Stacks are rebuilt from the op
log on load, so they survive a restart.
"""
import json
import logging
import math
import secrets
import threading
import time
from collections import defaultdict
from contextlib import contextmanager

from activities.contract import Invalid, Rejected, over_bound
from rooms.core import control as room_control
from rooms.core import readpolicy
from rooms.core.offload import Offload
from activities.contract.protocol import (E_BAD_EVENT, E_ENDED, E_FORBIDDEN, E_FROZEN, E_INTERNAL, E_INVALID,
                       E_NOTHING, E_PRIVATE, E_TOO_LARGE, E_UNAVAILABLE, E_UNKNOWN_ACTIVITY,
                       E_UNKNOWN_OP, LIMITS, PACK_VERSION, PARENT, THERAPIST)
from rooms.core.faults import one_line, store_down
from rooms.core.wire import Collision, StateEncoder

log = logging.getLogger("playroom.engine")

DO, UNDO, REDO = "do", "undo", "redo"


def _dumps(obj):
    return json.dumps(obj, separators=(",", ":"), allow_nan=False)


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


class EncodedState(dict):
    """A `state` payload (a plain dict, as for ops mode) that also carries its JSON
    text in `.json`, so the socket layer sends the cached text instead of encoding."""
    __slots__ = ("json",)


class Engine:
    def __init__(self, storage, registry, broadcast, *, snapshot_every=200,
                 undo_depth=LIMITS["undo_depth"], max_replay=LIMITS["max_replay_ops"],
                 clock=time.time, on_room_op=None, session_idle_s=3600, offload=None):
        self.clock = clock                  # server time for stamped ops (CLK1)
        self.offload = offload or Offload()     # heavy work off the serving loop (WORK1)
        self.storage = storage
        self.registry = registry
        self.broadcast = broadcast          # broadcast(room_id, event, data)
        # on_room_op(live, op, local): a room op was applied here — committed by this
        # process (local=True, after its broadcast) or caught up from the log (False).
        # Called under the room lock; the socket layer does its side effects there.
        self.on_room_op = on_room_op or (lambda live, op, local: None)
        # on_session_end(room_id, first_seq, last_seq): a session ended (the therapist
        # pressed End, or an empty room's session timed out); called after the lock.
        self.on_session_end = lambda room_id, first, last: None
        self.session_idle_s = session_idle_s
        self._ended = []                    # (room_id, first, last) not yet handed on
        self._ended_lock = threading.Lock()
        self.defaults = room_control.default_settings(registry.names())
        self.snapshot_every = snapshot_every
        self.undo_depth = undo_depth
        self.max_replay = max_replay
        self._rooms = {}
        self._rooms_lock = threading.Lock()
        self._loading = {}      # room id -> the gate of its load in progress (see room())

    # ------------------------------------------------------------ loading
    def room(self, room_id):
        """The live room, loaded from storage on first use; None if it does not exist.
        Loading a big room takes a while (WORK1): it runs outside `_rooms_lock`, which
        every op of every room takes, behind a gate of its own room (one load per
        room; whoever needs the same room waits for that load)."""
        with self._rooms_lock:
            live = self._rooms.get(room_id)
            if live is not None:
                return live
            gate = self._loading.setdefault(room_id, threading.Lock())
        with gate:
            with self._rooms_lock:
                live = self._rooms.get(room_id)
            if live is None:
                try:
                    live = self._load(room_id)
                finally:
                    with self._rooms_lock:
                        if live is not None:
                            self._rooms[room_id] = live
                        self._loading.pop(room_id, None)
            return live

    @contextmanager
    def locked(self, room_id):
        """The live room with its lock held, or None if the room does not exist.
        Never yields a room that was unloaded meanwhile, so there is exactly one
        writer per room (a stale object would apply ops the reloaded one misses)."""
        while True:
            live = self.room(room_id)
            if live is None:
                yield None
                return
            with live.lock:
                if not live.closed:
                    yield live
                    return

    def _act(self, name):
        """The reducer for an op's `a`: an activity, or the room itself."""
        return room_control if name == room_control.NAME else self.registry.get(name)

    def _load(self, room_id):
        """Read the room's record, snapshot and newer ops here; decode and replay
        them in a worker (WORK1) into a LiveRoom nobody else sees yet."""
        rec = self.storage.get_room(room_id)
        if rec is None:
            return None
        live = LiveRoom(room_id, room_control.initial_state(
            room_control.merge_settings(self.defaults, rec["settings"])))
        snap = self.storage.load_snapshot(room_id)
        ops = list(self.storage.ops_since(room_id, snap[0] if snap else 0))
        self.offload.run(self._fill, live, snap, ops)
        return live

    def _fill(self, live, snap, ops):
        """Pure work on a room no other task holds: the snapshot, then the ops."""
        live.states = self.registry.initial_states()
        if snap:
            seq, text = snap
            data = json.loads(text)
            live.seq = seq
            live.states.update({a: s for a, s in data["states"].items() if self.registry.get(a)})
            if "control" in data:
                ctl = data["control"]
                live.control = {**ctl, "settings": room_control.merge_settings(
                    self.defaults, ctl["settings"])}
            for name in ("undo", "redo"):
                stacks = getattr(live, name)
                for pid, act, items in data[name]:
                    stacks[(pid, act)] = [tuple(x) for x in items]
        for op in ops:
            self._replay(live, op)

    def _catch_up(self, live):
        """Apply ops other processes stored since our seq (SCALE1). Cheap when there
        are none: one read of the log's tail. Returns the ops applied."""
        applied = []
        for op in self.storage.ops_since(live.id, live.seq):
            if op["seq"] == live.seq + 1:
                self._replay(live, op, notify=True)
                live.since_snapshot += 1
                applied.append(op)
        return applied

    def catch_up(self, room_id, last=False):
        """Another process announced a new seq for `room_id`: apply it now if the room
        is loaded here (so its settings and presence are current for ephemeral
        events, and the room's side effects — a removal, the end — happen here too).
        Returns the ops applied (public form); with `last`, at least the room's
        latest op, so clients that missed announcements notice their gap (FAULT2).
        [] when the room is not loaded here."""
        with self._rooms_lock:
            live = self._rooms.get(room_id)
        if live is None:
            return []
        with live.lock:
            if live.closed:
                return []
            ops = self._catch_up(live)
            if not ops and last and live.seq > 0:
                ops = self.storage.ops_since(live.id, live.seq - 1)
            return [self._public(op) for op in ops]

    def loaded(self):
        """Ids of the rooms loaded in this process."""
        with self._rooms_lock:
            return list(self._rooms)

    def _replay(self, live, op, notify=False):
        if op["a"] == room_control.NAME:
            live.control = self._apply_room(live.control, op)
            live.seq = op["seq"]
            if notify:
                self.on_room_op(live, self._public(op), False)
            return
        act = self.registry.get(op["a"])
        if act is None:
            live.seq = op["seq"]
            return
        state, inverse = act.apply(live.states[op["a"]], op["t"], op["d"], by=op["by"])
        live.states[op["a"]] = state
        live.seq = op["seq"]
        if op["kind"] == DO:
            if act.OPS[op["t"]].undoable and inverse:
                self._push(live.undo, (op["by"], op["a"]), inverse)
                live.redo.pop((op["by"], op["a"]), None)
        else:
            key = (op["target"], op["a"])
            src, dst = (live.undo, live.redo) if op["kind"] == UNDO else (live.redo, live.undo)
            stack = src[key]
            # Entries skipped as no-ops when the undo ran were popped too.
            while stack and list(stack[-1]) != [op["t"], op["d"]]:
                stack.pop()
            if stack:
                stack.pop()
            if inverse:
                self._push(dst, key, inverse)

    def _push(self, stacks, key, inverse):
        stack = stacks[key]
        stack.append(inverse)
        if len(stack) > self.undo_depth:
            del stack[0]

    def unload(self, room_id):
        """Snapshot and drop a room nobody is in (the next join reloads it)."""
        with self._rooms_lock:
            live = self._rooms.pop(room_id, None)
        if live is not None:
            with live.lock:
                live.closed = True
                pending = self._snapshot_data(live) if live.since_snapshot else None
            if pending is not None:     # outside the lock: storage keeps the newest seq
                self._store_snapshot(live.id, *pending)

    def forget(self, room_id):
        """Drop a deleted room without writing anything."""
        with self._rooms_lock:
            live = self._rooms.pop(room_id, None)
        if live is not None:
            with live.lock:
                live.closed = True

    @staticmethod
    def _snapshot_data(live):
        """Under the lock: (seq, the room at seq) as values later ops cannot change.
        States and control are replaced, never mutated; the mapping of states and
        the undo/redo stacks are changed in place, so those are copied."""
        return live.seq, {
            "states": dict(live.states), "control": live.control,
            "undo": [[p, a, list(s)] for (p, a), s in live.undo.items() if s],
            "redo": [[p, a, list(s)] for (p, a), s in live.redo.items() if s]}

    def _store_snapshot(self, room_id, seq, data):
        """Encode `data` off the serving loop (a big board takes a second), then
        store it. Never under the room lock: the room goes on meanwhile."""
        text = self.offload.run(encode_snapshot, data)
        self.storage.save_snapshot(room_id, seq, text)

    def _snapshot_task(self, live, seq, data):
        """A periodic snapshot, as a background task. A failure loses nothing (every
        op is in the log; the next snapshot comes after `snapshot_every` more ops)."""
        try:
            self._store_snapshot(live.id, seq, data)
        except Exception:
            log.exception("snapshot failed in room %s (ops are safe in the log)", live.id)
        finally:
            # A plain flag: a race at worst skips or adds one snapshot, and storage
            # keeps the newest seq either way.
            live.snapshotting = False

    # ------------------------------------------------------------ joining
    def join(self, room_id, since, send_state, enter, pack=False, participant=None, wait=None):
        try:
            return self._join(room_id, since, send_state, enter, pack, participant,
                              wait or (lambda verdict: None))
        finally:
            self._hand_on_ended()

    def _hand_on_ended(self):
        """Tell on_session_end about sessions that ended (outside any room lock)."""
        with self._ended_lock:
            ended, self._ended = self._ended, []
        for room_id, first, last in ended:
            try:
                self.on_session_end(room_id, first, last)
            except Exception:
                log.exception("handling the end of a session failed in room %s", room_id)

    def _end_session(self, live, by, op_id=None, **extra):
        """Under the lock: commit the session's end op; its record is handed on later."""
        first = live.control["session"]["start"]
        ack = self._room_op(live, by, "session", {"state": "end", **extra}, op_id)
        if ack.get("ok") and not ack.get("duplicate"):
            with self._ended_lock:
                self._ended.append((live.id, first, ack["seq"]))
        return ack, first

    def _join(self, room_id, since, send_state, enter, pack, participant, wait):
        """Send what a client at `since` is missing, then call `enter()` to add it to
        the live room — both under the room lock, so no op slips between (JOIN1).
        A small gap gets the missing ops; a large, unknown or future one a snapshot,
        with long number lists packed if `pack` (JOIN2). A guest gets ops only from
        the floor the read policy sets, and a snapshot of what their role may read
        (READ1, READ2: rooms/core/readpolicy.py); without a `participant`, the whole room.

        A snapshot's text is encoded once per seq, format and view and shared by
        every joiner of that view at that seq. Encoding runs outside the room lock
        (states are immutable); if an op lands meanwhile, the next round encodes only
        what changed, and the last round encodes under the lock so a busy room
        cannot starve a joiner.

        With a `participant`, the room decides first (CTL1): the answer is then a
        string instead of a seq when they must wait ("waiting"), are a parent during
        private child time ("private_time") or were removed ("removed"); nothing is
        sent, and `wait(verdict)` is called under the lock (READ3: the socket waits
        from then on, so a `resume` or `admitted` after it reaches it). Someone who
        may enter and is not yet present is recorded as present (a `presence` room
        op; the first entry of a session also starts it)."""
        pack = bool(pack)
        fresh = None        # encoded outside the lock in the previous round
        for attempt in range(3):
            with self.locked(room_id) as live:
                if live is None:
                    return None
                self._catch_up(live)
                if participant is not None and attempt == 0:
                    verdict = self._enter(live, participant)
                    if verdict is not None:
                        wait(verdict)
                        return verdict
                if readpolicy.replays(live.control, participant, since, live.seq, self.max_replay):
                    ops = [self._public(op) for op in self.storage.ops_since(room_id, since)]
                    send_state({"mode": "ops", "seq": live.seq, "ops": ops, "settings": live.settings})
                    enter()
                    return live.seq
                view, states = readpolicy.visible_states(self.registry, live.states, participant,
                                                         live.control["session"])
                key = (pack, view)
                snap = live.wire.get(key)
                if fresh is not None and fresh.seq == live.seq:
                    snap = fresh
                if (snap is None or snap.seq != live.seq) and attempt == 2:
                    snap = self._encode(live, live.seq, states, key)
                if snap is not None and snap.seq == live.seq:
                    send_state(self._snapshot_payload(live, snap, states))
                    enter()
                    return live.seq
                seq = live.seq
            fresh = self._encode(live, seq, states, key)

    def _encode(self, live, seq, states, key):
        """The WireSnapshot of `states` (one view, READ2) at `seq`, cached on the
        room under `key` = (pack, view)."""
        pack = key[0]
        with live.wire_lock:
            snap = live.wire.get(key)
            if snap is not None and snap.seq == seq:
                return snap
            encoder = live.encoders.get(pack)
            if encoder is None:
                encoder = live.encoders[pack] = StateEncoder(pack)
            try:    # in a worker thread (WORK1); wire_lock keeps the encoder ours
                snap = WireSnapshot(seq, self.offload.run(encoder.encode_states, states), pack)
            except Collision:
                # The state uses the marker key itself: this snapshot goes unpacked.
                snap = WireSnapshot(seq, self.offload.run(StateEncoder(False).encode_states, states),
                                    False)
            if len(snap.activities) < WIRE_CACHE_MIN:
                # A small room is re-encoded per joiner in well under a millisecond;
                # keeping its text (and the encoder's item cache) cost ~6 KiB per
                # idle connection (bench/ idle). Big boards keep both.
                live.wire.pop(key, None)
                live.encoders.pop(pack, None)
            else:
                live.wire[key] = snap
            return snap

    # ------------------------------------------------------------ the room (CTL)
    def _enter(self, live, participant):
        """Under the lock: None if `participant` is in (recorded present now if they
        were not), or the refusal code."""
        ctl = live.control
        quiet = ctl.get("quiet_since")
        if ctl["session"] is not None and quiet is not None and \
                self.clock() - quiet >= self.session_idle_s:
            # Nobody came back to an open session for a long time (the therapist
            # forgot to end it): it ended when the last person left; this is a new one.
            self._end_session(live, participant["id"], idle=True, at=quiet)
        verdict = room_control.entry(live.control, participant)
        if verdict != "ok":
            return {"wait": "waiting", "private": "private_time", "removed": "removed"}[verdict]
        known = live.control["people"].get(participant["id"])
        if known is None or not known.get("online") or not known.get("seen"):
            if live.control["session"] is None:
                self._room_op(live, participant["id"], "session", {"state": "start"})
            self._room_op(live, participant["id"], "presence", {
                "pid": participant["id"], "online": True, "name": participant["name"],
                "role": participant["role"], "avatar": participant["avatar"],
                "invite": participant.get("invite_id")})
        return None

    def _apply_room(self, control, op):
        state, _ = room_control.apply(control, op["t"], op["d"], seq=op["seq"])
        return state

    def _room_op(self, live, by, t, d, op_id=None):
        """Commit one room op written by the server, under the lock (retrying after a
        catch-up if another process was first). Returns the ack."""
        for _ in range(8):
            dd = {**d, "at": d.get("at", self.clock())}   # (only the server writes `at` here)
            ack = self._commit(live, room_control, by, op_id or "srv-" + secrets.token_hex(8), t,
                               dd, _dumps(dd), DO, None, None, None)
            if ack is not CONFLICT:
                return ack
            self._catch_up(live)
        return nack(E_INTERNAL, "the room is very busy, please try again", op_id)

    def present(self, room_id, participant):
        """`participant` still has a socket in this process: record them present if
        the room says otherwise (another process recorded them away)."""
        with self.locked(room_id) as live:
            if live is None:
                return
            self._catch_up(live)
            self._enter(live, participant)

    def leave(self, room_id, pid):
        """`pid` has no socket left (after the presence grace): record them away."""
        with self.locked(room_id) as live:
            if live is None:
                return
            self._catch_up(live)
            known = live.control["people"].get(pid)
            if known is not None and known.get("online"):
                self._room_op(live, pid, "presence", {"pid": pid, "online": False})

    def control(self, room_id, participant, msg, known_participant=None):
        """A therapist's `control` event (CTL2): settings, view, admit, remove, end.
        `known_participant(pid)` -> the participant record if `pid` belongs to this
        room. Returns the ack; for `end` it carries `ended: [first seq, last seq]`."""
        if not isinstance(msg, dict):
            return nack(E_BAD_EVENT, "event payload must be an object")
        op_id = msg.get("op_id")
        if not is_op_id(op_id):
            return nack(E_BAD_EVENT, "op_id must be a short string")
        if participant["role"] != THERAPIST:
            return nack(E_FORBIDDEN, "only the therapist runs the room", op_id)
        body = {k: v for k, v in msg.items() if k != "op_id"}
        if _size(body) > 4096:
            return nack(E_TOO_LARGE, "control message too large", op_id)
        with self.locked(room_id) as live:
            if live is None:
                return nack(E_ENDED, "this room no longer exists", op_id)
            self._catch_up(live)
            dup = self.storage.find_op(room_id, participant["id"], op_id)
            if dup is not None:
                return {"ok": True, "seq": dup, "duplicate": True}
            try:
                t, d = room_control.validate_action(body, live.settings, self.registry.names())
            except Invalid as e:
                return nack(E_INVALID, str(e), op_id)
            except (KeyError, TypeError, AttributeError):
                return nack(E_INVALID, "malformed control message", op_id)
            if t in ("admit", "remove"):
                who = known_participant(d["pid"]) if known_participant else None
                if who is None or who["role"] == THERAPIST:
                    return nack(E_INVALID, "nobody with that id in this room", op_id)
                d = {**d, "name": who["name"], "role": who["role"], "avatar": who["avatar"],
                     "invite": who.get("invite_id")}
            if t == "session":
                if live.control["session"] is None:
                    return nack(E_NOTHING, "no session is open", op_id)
                ack, first = self._end_session(live, participant["id"], op_id)
                if ack.get("ok"):
                    ack = {**ack, "ended": [first, ack["seq"]]}
            else:
                ack = self._room_op(live, participant["id"], t, d, op_id)
        self._hand_on_ended()
        return ack

    @staticmethod
    def _snapshot_payload(live, snap, states):
        """The `state` payload of `snap`; `states` is the view it was encoded from."""
        payload = EncodedState(mode="snapshot", seq=snap.seq, activities=dict(states),
                               settings=live.settings)
        payload.json = snap.text(live.settings)
        return payload

    @staticmethod
    def _public(op):
        return {"seq": op["seq"], "a": op["a"], "t": op["t"], "d": op["d"], "by": op["by"],
                "op_id": op["op_id"], "kind": op["kind"]}

    # ------------------------------------------------------------ ops
    def _parse(self, msg, extra=()):
        """Common envelope checks. Returns (op_id, activity) or a nack dict."""
        if not isinstance(msg, dict):
            return nack(E_BAD_EVENT, "event payload must be an object")
        op_id = msg.get("op_id")
        if not is_op_id(op_id):
            return nack(E_BAD_EVENT, "op_id must be a short string")
        unknown = set(msg) - {"op_id", "a"} - set(extra)
        if unknown:
            return nack(E_BAD_EVENT, "unknown field(s) in event", op_id)
        act = self.registry.get(msg.get("a"))
        if act is None:
            return nack(E_UNKNOWN_ACTIVITY, "no such activity", op_id)
        return op_id, act

    def submit(self, room_id, participant, msg):
        """Handle one client op. Returns the ack: {ok, seq} or a nack."""
        parsed = self._parse(msg, ("t", "d"))
        if isinstance(parsed, dict):
            return parsed
        op_id, act = parsed
        if _size(msg) > LIMITS["op_bytes"]:
            return nack(E_TOO_LARGE, "op too large", op_id)
        t = msg.get("t")
        spec = act.OPS.get(t) if isinstance(t, str) else None
        if spec is None or not spec.client:
            return nack(E_UNKNOWN_OP, "no such op", op_id)
        d = act.validate(t, msg.get("d"))
        if isinstance(d, Rejected):
            return nack(d.code, d.reason, op_id)
        if spec.stamped:
            d = {**d, "at": self.clock()}
        text = _dumps(d)
        pid, role = participant["id"], participant["role"]

        def attempt(live):
            dup = self.storage.find_op(room_id, pid, op_id)
            if dup is not None:
                return {"ok": True, "seq": dup, "duplicate": True}
            refused = self._paused(live, role, op_id)
            if refused is not None:
                return refused
            if not act.may(role, t, live.settings):
                return nack(E_FORBIDDEN, "not allowed for your role right now", op_id)
            refused = act.check(live.states[act.NAME], t, d)
            if refused is not None:
                return nack(refused.code, refused.reason, op_id)
            state, inverse = act.apply(live.states[act.NAME], t, d, by=pid)
            return self._commit(live, act, pid, op_id, t, d, text, DO, None, state, inverse)
        return self._attempts(room_id, op_id, attempt)

    def _attempts(self, room_id, op_id, attempt):
        """Run `attempt(live)` under the room lock until it is not beaten to the log
        by another process (SCALE1): each loss catches up and decides again, on the
        new state, so every process applies the same ops in the same order."""
        with self.locked(room_id) as live:
            if live is None:
                return nack(E_ENDED, "this room no longer exists", op_id)
            ack = CONFLICT
            for _ in range(8):
                ack = attempt(live)
                if ack is CONFLICT:
                    self._catch_up(live)
                elif ack["ok"] or not self._newer(live):
                    return ack
            if ack is CONFLICT:
                return nack(E_INTERNAL, "the room is very busy, please try again", op_id)
            return ack

    def _newer(self, live):
        """FAULT3: a refusal decided on a room this process has not caught up with
        (a page, drawing switched back on or a freeze lifted on another process, not
        yet announced here) must be decided again. True if catching up changed the
        room. Only refusals pay for the read, and only with a shared store: the
        accepted path costs nothing more (its compare-and-set catches staleness)."""
        if not self.storage.shared:
            return False
        before = live.seq
        self._catch_up(live)
        return live.seq != before

    @staticmethod
    def _paused(live, role, op_id):
        """CTL3/CTL5: guests' input is refused while frozen, a parent's during
        private child time, with their own reason (the browser shows it calmly)."""
        settings = live.settings
        if role != THERAPIST and settings.get("freeze"):
            return nack(E_FROZEN, "The therapist paused the room for a moment.", op_id)
        if role == PARENT and settings.get("private"):
            return nack(E_PRIVATE, "Private time: the room is paused for you.", op_id)
        return None

    def history(self, room_id, participant, msg):
        """Undo or redo the target's (default: own) last op in an activity."""
        parsed = self._parse(msg, ("action", "target"))
        if isinstance(parsed, dict):
            return parsed
        op_id, act = parsed
        action = msg.get("action")
        if action not in (UNDO, REDO):
            return nack(E_INVALID, "action must be undo or redo", op_id)
        pid, role = participant["id"], participant["role"]
        target = msg.get("target", pid)
        if not isinstance(target, str) or len(target) > 32:
            return nack(E_INVALID, "bad target", op_id)
        if target != pid and role != THERAPIST:
            return nack(E_FORBIDDEN, "only the therapist may undo for someone else", op_id)
        def attempt(live):
            dup = self.storage.find_op(room_id, pid, op_id)
            if dup is not None:
                return {"ok": True, "seq": dup, "duplicate": True}
            refused = self._paused(live, role, op_id)
            if refused is not None:
                return refused
            if not act.may(role, "history", live.settings):
                return nack(E_FORBIDDEN, "not allowed for your role right now", op_id)
            key = (target, act.NAME)
            src = (live.undo if action == UNDO else live.redo).get(key, [])
            current = live.states[act.NAME]
            # Skip entries that no longer change anything (their target is gone).
            for depth in range(len(src) - 1, -1, -1):
                t, d = src[depth]
                state, inverse = act.apply(current, t, d, by=target)
                if inverse is not None:
                    break
            else:
                return nack(E_NOTHING, f"nothing to {action}", op_id)
            return self._commit(live, act, pid, op_id, t, d, _dumps(d), action, target,
                                state, inverse, popped=len(src) - depth)
        return self._attempts(room_id, op_id, attempt)

    def _commit(self, live, act, pid, op_id, t, d, text, kind, target, state, inverse, popped=0):
        """Sequence + persist, then update memory and broadcast. Nothing in memory
        changes unless the op is stored (no partial writes). The op is stored only
        as the successor of the state it was decided on (compare-and-set on seq);
        if another process stored one first the answer is CONFLICT (SCALE1).
        Room ops (act is rooms.core.control) are applied here, after storing."""
        if act is not room_control:    # ROOM1: sent, undo and redo ops alike
            refused = over_bound(act, live.states[act.NAME], state)
            if refused is not None:
                return nack(refused.code, refused.reason, op_id)
        try:
            seq, created = self.storage.append_op(live.id, pid, op_id, act.NAME, t, kind,
                                                  target, text, expect=live.seq)
        except Exception as e:
            if not store_down(e):
                log.exception("storing op failed in room %s", live.id)
                return nack(E_INTERNAL, "could not save, please try again", op_id)
            log.warning("storing an op failed in room %s: the store is out of reach (%s)",
                        live.id, one_line(e))
            return nack(E_UNAVAILABLE, "could not save, please try again", op_id)
        if seq is None:
            return CONFLICT
        if not created:
            return {"ok": True, "seq": seq, "duplicate": True}
        public = {"seq": seq, "a": act.NAME, "t": t, "d": d, "by": pid, "op_id": op_id, "kind": kind}
        if act is room_control:
            live.control = self._apply_room(live.control, public)
            live.seq = seq
            self.broadcast(live.id, "op", public)
            self._announce(live, seq)
            if t in ("settings", "view"):
                if t == "settings":
                    try:   # the room's record mirrors its settings (dashboard, new sessions)
                        self.storage.update_settings(live.id, live.settings)
                    except Exception:
                        log.exception("mirroring settings failed in room %s", live.id)
                self.broadcast(live.id, "room", {"settings": live.settings})
            else:
                self.broadcast(live.id, "presence", {"participants": room_control.online(live.control)})
            self.on_room_op(live, public, True)
            self._count(live)
            return {"ok": True, "seq": seq}
        live.states[act.NAME] = state
        live.seq = seq
        if kind == DO:
            if act.OPS[t].undoable and inverse:
                self._push(live.undo, (pid, act.NAME), inverse)
                live.redo.pop((pid, act.NAME), None)
        else:
            key = (target, act.NAME)
            src, dst = (live.undo, live.redo) if kind == UNDO else (live.redo, live.undo)
            del src[key][-popped:]
            self._push(dst, key, inverse)
        self.broadcast(live.id, "op", public)
        self._announce(live, seq)
        self._count(live)
        return {"ok": True, "seq": seq}

    def _announce(self, live, seq):
        """Tell the other processes about an op stored and applied here (SCALE1).
        It is committed whatever happens now, so a failure is one log line, never
        an error for the sender (FAULT4); the others re-read the room's seq when
        their listener comes back (FAULT2) or before they refuse anything (FAULT3)."""
        try:
            self.storage.notify(live.id, seq)
        except Exception as e:
            log.warning("announcing seq %s of room %s failed (%s)", seq, live.id, one_line(e))

    def _count(self, live):
        """Under the lock, after each op: every `snapshot_every` ops hand the room's
        state at this seq to a background task (at most one per room at a time)."""
        live.since_snapshot += 1
        if live.since_snapshot >= self.snapshot_every and not live.snapshotting:
            seq, data = self._snapshot_data(live)
            live.since_snapshot = 0
            live.snapshotting = True
            self.offload.later(self._snapshot_task, live, seq, data)

    # ------------------------------------------------------------ settings
    def set_settings(self, room_id, participant, changes):
        """The `settings` event (SET1): a partial change, stored as a room op."""
        if participant["role"] != THERAPIST:
            return nack(E_FORBIDDEN, "only the therapist changes room settings")
        if not isinstance(changes, dict) or not changes:
            return nack(E_INVALID, "unknown setting or value")
        ack = self.control(room_id, participant, {"op_id": "set-" + secrets.token_hex(8),
                                                  "action": "settings", "changes": changes})
        return {"ok": True} if ack.get("ok") else {k: v for k, v in ack.items() if k != "op_id"}

    def settings(self, room_id):
        """Current settings (read without the lock: the dict is replaced, never mutated)."""
        live = self.room(room_id)
        return live.settings if live else None

    def state(self, room_id, activity):
        """A consistent copy-free view of one activity's current state (read-only)."""
        with self.locked(room_id) as live:
            self._catch_up(live)
            return live.seq, live.states[activity]

    def room_state(self, room_id):
        """(seq, the room's control state) or None."""
        with self.locked(room_id) as live:
            if live is None:
                return None
            self._catch_up(live)
            return live.seq, live.control
