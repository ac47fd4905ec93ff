"""The op pipeline: submit, undo/redo (history), commit, settings.
Part of the Engine (rooms/core/engine.py)."""
import secrets

from activities.contract import Rejected, over_bound
from rooms.core import control as room_control
from activities.contract.protocol import (E_BAD_EVENT, E_ENDED, E_FORBIDDEN, E_FROZEN, E_INTERNAL, E_INVALID,
                       E_NOTHING, E_PRIVATE, E_TOO_LARGE, E_UNAVAILABLE, E_UNKNOWN_ACTIVITY,
                       E_UNKNOWN_OP, GUEST_ROLES, LIMITS, PARENT, THERAPIST)
from rooms.core.faults import one_line, store_down
from rooms.core.live import (CONFLICT, DO, REDO, UNDO, _dumps, _size, is_op_id, log, nack, public_op,
                             small_enough)


class Pipeline:
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

    def submit(self, room_id, participant, msg, packet_chars=None):
        """Handle one client op. Returns the ack: {ok, seq} or a nack. `packet_chars`:
        the length of the packet it came in, when the transport knows it (an op far
        below the limit is not encoded just to be measured)."""
        parsed = self._parse(msg, ("t", "d"))
        if isinstance(parsed, dict):
            return parsed
        op_id, act = parsed
        if not small_enough(packet_chars, LIMITS["op_bytes"]) and _size(msg) > LIMITS["op_bytes"]:
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
        if role not in GUEST_ROLES:
            return None         # the therapist; a family at home is never in the live room
        if settings.get("freeze"):
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
        public = public_op(seq, act.NAME, t, d, text, pid, op_id, kind)
        if act is room_control:
            live.control = self._apply_room(live.control, public)
            live.seq = seq
            self.events.broadcast(live.id, "op", public)
            self._announce(live, seq)
            if t in ("settings", "view"):
                if t == "settings":
                    try:   # the room's record mirrors its settings (dashboard, new sessions)
                        self.storage.update_settings(live.id, live.settings)
                    except Exception:
                        log.exception("mirroring settings failed in room %s", live.id)
                self.events.broadcast(live.id, "room", {"settings": live.settings})
            else:
                self.events.broadcast(live.id, "presence", {"participants": room_control.online(live.control)})
            self.events.room_op(live, public, True)
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
        self.events.broadcast(live.id, "op", public)
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

    def stacks(self, room_id, pid):
        """UNDO4: {activity: [undos, redos]} that `pid` has, so their browser greys out
        Undo and Redo when there is nothing to take back (the stacks are the server's)."""
        with self.locked(room_id) as live:
            if live is None:
                return {}
            self._catch_up(live)
            return {a: [len(live.undo.get((pid, a), ())), len(live.redo.get((pid, a), ()))]
                    for a in self.registry.names()}

    def room_state(self, room_id):
        """(seq, the room's control state) or None."""
        with self.locked(room_id) as live:
            if live is None:
                return None
            self._catch_up(live)
            return live.seq, live.control
