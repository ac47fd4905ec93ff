"""Loading rooms: the live room cache, catch-up from the shared log, replay, snapshots.
Part of the Engine (rooms/core/engine.py)."""
import json
import threading
from contextlib import contextmanager

from rooms.core import control as room_control
from rooms.core.live import DO, LiveRoom, UNDO, encode_snapshot, log


class Loading:
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
                self.events.caught_up(live, self._public(op))
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
                self.events.room_op(live, self._public(op), False)
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
