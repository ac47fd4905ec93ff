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
import threading
import time
from collections import defaultdict
from contextlib import contextmanager

from activities.base import Rejected
from .protocol import (DEFAULT_SETTINGS, E_BAD_EVENT, E_ENDED, E_FORBIDDEN, E_INTERNAL,
                       E_INVALID, E_NOTHING, E_TOO_LARGE, E_UNKNOWN_ACTIVITY, E_UNKNOWN_OP, LIMITS,
                       PACK_VERSION, THERAPIST)
from .wire import Collision, StateEncoder

log = logging.getLogger("playroom.engine")

DO, UNDO, REDO = "do", "undo", "redo"


def _dumps(obj):
    return json.dumps(obj, separators=(",", ":"), allow_nan=False)


def _size(msg):
    """Bytes of an event as JSON (NaN allowed here: it is refused later, by name)."""
    try:
        return len(json.dumps(msg, separators=(",", ":")))
    except (TypeError, ValueError):
        return 0


def nack(code, reason, op_id=None):
    out = {"ok": False, "code": code, "reason": reason}
    if op_id is not None:
        out["op_id"] = op_id
    return out


class LiveRoom:
    """In-memory state of one loaded room. Every field is guarded by `lock`."""

    def __init__(self, room_id, settings):
        self.id = room_id
        self.lock = threading.Lock()
        self.seq = 0
        self.settings = settings
        self.states = {}
        self.undo = defaultdict(list)   # (participant, activity) -> [inverse (t, d), ...]
        self.redo = defaultdict(list)
        self.since_snapshot = 0
        self.closed = False   # set when unloaded: holders of a stale reference must reload
        # Snapshot text for joiners (JOIN1), per format (packed or not, JOIN2): the
        # last WireSnapshot and the encoder whose cache makes the next one cheap.
        # Guarded by `wire_lock` (encoding runs outside `lock`, on immutable states).
        self.wire_lock = threading.Lock()
        self.wire = {}          # pack (bool) -> WireSnapshot
        self.encoders = {}      # pack (bool) -> StateEncoder


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
                 clock=time.time):
        self.clock = clock                  # server time for stamped ops (CLK1)
        self.storage = storage
        self.registry = registry
        self.broadcast = broadcast          # broadcast(room_id, event, data)
        self.snapshot_every = snapshot_every
        self.undo_depth = undo_depth
        self.max_replay = max_replay
        self._rooms = {}
        self._rooms_lock = threading.Lock()

    # ------------------------------------------------------------ loading
    def room(self, room_id):
        """The live room, loaded from storage on first use; None if it does not exist."""
        with self._rooms_lock:
            live = self._rooms.get(room_id)
            if live is None:
                live = self._load(room_id)
                if live is not None:
                    self._rooms[room_id] = live
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

    def _load(self, room_id):
        rec = self.storage.get_room(room_id)
        if rec is None:
            return None
        live = LiveRoom(room_id, {**DEFAULT_SETTINGS, **rec["settings"]})
        live.states = self.registry.initial_states()
        snap = self.storage.load_snapshot(room_id)
        if snap:
            seq, text = snap
            data = json.loads(text)
            live.seq = seq
            live.states.update({a: s for a, s in data["states"].items() if self.registry.get(a)})
            for name in ("undo", "redo"):
                stacks = getattr(live, name)
                for pid, act, items in data[name]:
                    stacks[(pid, act)] = [tuple(x) for x in items]
        for op in self.storage.ops_since(room_id, live.seq):
            self._replay(live, op)
        return live

    def _replay(self, live, op):
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
                if live.since_snapshot:
                    self._snapshot(live)

    def forget(self, room_id):
        """Drop a deleted room without writing anything."""
        with self._rooms_lock:
            live = self._rooms.pop(room_id, None)
        if live is not None:
            with live.lock:
                live.closed = True

    def _snapshot(self, live):
        data = {"states": live.states,
                "undo": [[p, a, s] for (p, a), s in live.undo.items() if s],
                "redo": [[p, a, s] for (p, a), s in live.redo.items() if s]}
        self.storage.save_snapshot(live.id, live.seq, _dumps(data))
        live.since_snapshot = 0

    # ------------------------------------------------------------ joining
    def join(self, room_id, since, send_state, enter, pack=False):
        """Send what a client at `since` is missing, then call `enter()` to add it to
        the live room — both under the room lock, so no op slips between (JOIN1).
        A small gap gets the missing ops; a large, unknown or future one a snapshot,
        with long number lists packed if `pack` (JOIN2).

        A snapshot's text is encoded once per seq and format and shared by every
        joiner at that seq. Encoding runs outside the room lock (states are
        immutable); if an op lands meanwhile, the next round encodes only what
        changed, and the last round encodes under the lock so a busy room cannot
        starve a joiner."""
        pack = bool(pack)
        for attempt in range(3):
            with self.locked(room_id) as live:
                if live is None:
                    return None
                ok_since = isinstance(since, int) and not isinstance(since, bool)
                if ok_since and 0 <= since <= live.seq and live.seq - since <= self.max_replay:
                    ops = [self._public(op) for op in self.storage.ops_since(room_id, since)]
                    send_state({"mode": "ops", "seq": live.seq, "ops": ops, "settings": live.settings})
                    enter()
                    return live.seq
                snap = live.wire.get(pack)
                if (snap is None or snap.seq != live.seq) and attempt == 2:
                    snap = self._encode(live, live.seq, dict(live.states), pack)
                if snap is not None and snap.seq == live.seq:
                    send_state(self._snapshot_payload(live, snap))
                    enter()
                    return live.seq
                seq, states = live.seq, dict(live.states)
            self._encode(live, seq, states, pack)

    def _encode(self, live, seq, states, pack):
        """The WireSnapshot of `states` at `seq` (cached on the room)."""
        with live.wire_lock:
            snap = live.wire.get(pack)
            if snap is not None and snap.seq == seq:
                return snap
            encoder = live.encoders.get(pack)
            if encoder is None:
                encoder = live.encoders[pack] = StateEncoder(pack)
            try:
                snap = WireSnapshot(seq, encoder.encode_states(states), pack)
            except Collision:
                # The state uses the marker key itself: this snapshot goes unpacked.
                snap = WireSnapshot(seq, StateEncoder(False).encode_states(states), False)
            live.wire[pack] = snap
            return snap

    @staticmethod
    def _snapshot_payload(live, snap):
        payload = EncodedState(mode="snapshot", seq=snap.seq, activities=dict(live.states),
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
        if not isinstance(op_id, str) or not 0 < len(op_id) <= LIMITS["op_id_chars"]:
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
        with self.locked(room_id) as live:
            if live is None:
                return nack(E_ENDED, "this room no longer exists", op_id)
            dup = self.storage.find_op(room_id, pid, op_id)
            if dup is not None:
                return {"ok": True, "seq": dup, "duplicate": True}
            if not act.may(role, t, live.settings):
                return nack(E_FORBIDDEN, "not allowed for your role right now", op_id)
            refused = act.check(live.states[act.NAME], t, d)
            if refused is not None:
                return nack(refused.code, refused.reason, op_id)
            state, inverse = act.apply(live.states[act.NAME], t, d, by=pid)
            return self._commit(live, act, pid, op_id, t, d, text, DO, None, state, inverse)

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
        with self.locked(room_id) as live:
            if live is None:
                return nack(E_ENDED, "this room no longer exists", op_id)
            dup = self.storage.find_op(room_id, pid, op_id)
            if dup is not None:
                return {"ok": True, "seq": dup, "duplicate": True}
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
            ack = self._commit(live, act, pid, op_id, t, d, _dumps(d), action, target,
                               state, inverse, popped=len(src) - depth)
            return ack

    def _commit(self, live, act, pid, op_id, t, d, text, kind, target, state, inverse, popped=0):
        """Sequence + persist, then update memory and broadcast. Nothing in memory
        changes unless the op is stored (no partial writes)."""
        try:
            seq, created = self.storage.append_op(live.id, pid, op_id, act.NAME, t, kind,
                                                  target, text)
        except Exception:
            log.exception("storing op failed in room %s", live.id)
            return nack(E_INTERNAL, "could not save, please try again", op_id)
        if not created:
            return {"ok": True, "seq": seq, "duplicate": True}
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
        self.broadcast(live.id, "op", {"seq": seq, "a": act.NAME, "t": t, "d": d, "by": pid,
                                       "op_id": op_id, "kind": kind})
        live.since_snapshot += 1
        if live.since_snapshot >= self.snapshot_every:
            try:
                self._snapshot(live)
            except Exception:
                log.exception("snapshot failed in room %s (ops are safe in the log)", live.id)
        return {"ok": True, "seq": seq}

    # ------------------------------------------------------------ settings
    def set_settings(self, room_id, participant, changes):
        if participant["role"] != THERAPIST:
            return nack(E_FORBIDDEN, "only the therapist changes room settings")
        if not isinstance(changes, dict) or not changes or \
                any(k not in DEFAULT_SETTINGS or not isinstance(v, bool) for k, v in changes.items()):
            return nack(E_INVALID, "unknown setting or value")
        with self.locked(room_id) as live:
            if live is None:
                return nack(E_ENDED, "this room no longer exists")
            settings = {**live.settings, **changes}
            self.storage.update_settings(room_id, settings)
            live.settings = settings
            self.broadcast(room_id, "room", {"settings": settings})
        return {"ok": True}

    def settings(self, room_id):
        """Current settings (read without the lock: the dict is replaced, never mutated)."""
        live = self.room(room_id)
        return live.settings if live else None

    def state(self, room_id, activity):
        """A consistent copy-free view of one activity's current state (read-only)."""
        with self.locked(room_id) as live:
            return live.seq, live.states[activity]
