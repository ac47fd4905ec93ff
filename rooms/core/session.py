"""The room itself (CTL): presence, sessions and room control ops.
Part of the Engine (rooms/core/engine.py)."""
import secrets

from activities.contract import Invalid
from rooms.core import control as room_control
from activities.contract.protocol import (E_BAD_EVENT, E_ENDED, E_FORBIDDEN, E_INTERNAL, E_INVALID,
                       E_NOTHING, E_TOO_LARGE, THERAPIST)
from rooms.core.live import CONFLICT, DO, EncodedState, _dumps, _size, is_op_id, log, nack


class RoomControl:
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
    def _snapshot_payload(live, snap, states, view):
        """The `state` payload of `snap`; `states` is the view it was encoded from."""
        payload = EncodedState(mode="snapshot", seq=snap.seq, activities=dict(states),
                               settings=live.settings)
        payload.json = snap.text(live.settings)
        payload.view = view
        return payload

    @staticmethod
    def _public(op):
        """An op from the log as it was broadcast when committed (live.public_op: the
        same keys in the same order, so every process sends the same text)."""
        return {"seq": op["seq"], "a": op["a"], "t": op["t"], "by": op["by"],
                "op_id": op["op_id"], "kind": op["kind"], "d": op["d"]}

    def _hand_on_ended(self):
        """Tell the events object about sessions that ended (outside any room lock)."""
        with self._ended_lock:
            ended, self._ended = self._ended, []
        for room_id, first, last in ended:
            try:
                self.events.session_ended(room_id, first, last)
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
