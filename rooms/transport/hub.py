"""Socket.IO events: bind a socket to one participant at connect, then route its
events through limits into the engine, the ephemeral relay and presence.

A client never names the room or role it acts for in an event: both come from the
connection (AUTH1). Every refused event gets an `error` event with a code; ops and
history also get a negative ack (ERR1). Nothing here touches an activity's state.
"""
import logging
import time

from flask import request
from flask_socketio import ConnectionRefusedError, join_room, leave_room
from socketio import packet as socketio_packet

from activities.contract import Invalid, Rejected
from rooms.core import control as room_control
from rooms.transport.boundary import Gate, packet_chars
from rooms.core.live import EncodedOp, is_op_id
from activities.contract.protocol import (E_AUTH, E_BAD_EVENT, E_ENDED, E_FORBIDDEN, E_INTERNAL, E_NOTHING,
                       E_INVALID, E_NOT_JOINED, E_PRIVATE, E_RATE, E_REMOVED, E_REVOKED,
                       E_UNAVAILABLE, E_UNKNOWN_ACTIVITY, E_VERSION, E_WAITING, EV_BYE, EV_EPH_OUT, EV_ERROR,
                       EV_LOBBY, EV_OP_OUT, EV_PICTURE, EV_PRESENCE, EV_STATE, GUEST_ROLES, LIMITS, PACK_VERSION,
                       PARENT, PROTOCOL_VERSION, THERAPIST)
from rooms.core.ephemeral import EphemeralRelay
from rooms.core.faults import one_line, store_down
from rooms.transport import fanout
from rooms.transport import tuning as transport
from rooms.core.ratelimit import TokenBucket

log = logging.getLogger("playroom.sockets")


UNAVAILABLE_REASON = "The room is out of reach for a moment. Trying again…"


def log_label(value):
    """What a log line may say of a value a client sent: a short repr of a plain
    value, else only its type. (The repr of a list nested 950 deep raised
    RecursionError inside logging: a traceback in the log, WIRE2.)"""
    if value is None or isinstance(value, (str, int, float, bool)):
        text = repr(value) if not isinstance(value, int) or abs(value) < 10 ** 40 else "<int>"
        return text if len(text) <= 60 else text[:57] + "..."
    return f"<{type(value).__name__}>"


def room_key(room_id):
    return f"room:{room_id}"


def host_key(room_id):
    """The therapist's sockets: waiting-room knocks go here (CTL1)."""
    return f"host:{room_id}"


def lobby_key(room_id):
    """Guests who wait (not admitted yet, or a parent in private child time)."""
    return f"lobby:{room_id}"


class TextPacket(socketio_packet.Packet):
    """Playroom's own events carry no binary data, so skip python-socketio's
    recursive scan of every outgoing payload for bytes (measurable on each relayed
    stroke preview). Data that does hold bytes (an emit or ack by other code) fails
    to encode as JSON, and only then goes out as the library's binary packet, so it
    is sent as it would be without this class (tests/conformance). Incoming binary
    packets are decoded as before."""
    uses_binary_events = False

    def encode(self):
        data = self.data
        if type(data) is list and len(data) == 2 and type(data[1]) is EncodedOp \
                and self.packet_type == socketio_packet.EVENT and self.id is None \
                and self.namespace in (None, "/"):
            # An op broadcast: its text was built once, around the stored text of
            # `d` (live.public_op); the same text the packet's encoder would give.
            return f"{socketio_packet.EVENT}[{self.json.dumps(data[0])},{data[1].json}]"
        try:
            return super().encode()
        except TypeError:
            binary = {socketio_packet.EVENT: socketio_packet.BINARY_EVENT,
                      socketio_packet.ACK: socketio_packet.BINARY_ACK}.get(self.packet_type)
            if binary is None or not self.data_is_binary(self.data):
                raise
            self.packet_type = binary
            return super().encode()


class Allowance:
    """Rate limits of one participant, shared by all their sockets (RATE1): a second
    tab or a reconnect does not get a fresh allowance. Parent and child on one home
    connection are separate participants, so they never share one."""
    __slots__ = ("ops", "eph", "control", "knocks", "strikes", "sockets")

    def __init__(self):
        self.ops = TokenBucket(LIMITS["op_rate"], LIMITS["op_burst"])
        self.eph = TokenBucket(LIMITS["eph_rate"], LIMITS["eph_burst"])
        # RATE3: `control` past the op limit draws on this, so the therapist can
        # always end, freeze or remove, however busy their drawing was.
        self.control = TokenBucket(LIMITS["control_reserve_rate"], LIMITS["control_reserve_burst"])
        # RATE5: one waiting-room knock per interval, whatever the number of sockets.
        self.knocks = TokenBucket(1.0 / LIMITS["knock_interval_s"], 1)
        self.strikes = 0
        self.sockets = 0


class Conn:
    """What the server knows about one socket."""
    __slots__ = ("sid", "room_id", "participant", "joined", "limits", "waiting", "syncs",
                 "refusals")

    def __init__(self, sid, room_id, participant, limits):
        self.sid = sid
        self.room_id = room_id
        self.participant = participant
        self.joined = False
        self.limits = limits
        self.waiting = None     # None, or why this socket waits: E_WAITING / E_PRIVATE
        # `sync` is limited per socket (RATE1): each connection syncs once, then only
        # to fill a gap or to knock while waiting.
        self.syncs = TokenBucket(LIMITS["sync_rate"], LIMITS["sync_burst"])
        # RATE3: every refused or dropped event of this socket takes one; a socket
        # that runs out floods far past its rates and is closed.
        self.refusals = TokenBucket(LIMITS["refused_rate"], LIMITS["refused_burst"])


class Hub:
    """Socket side of Playroom; one per app."""

    def __init__(self, socketio, engine, registry, identify, *, participant_of=None,
                 on_revoke=None, pictures=None):
        self.socketio = socketio
        # PAINT1: pictures of big pages for joiners (rooms/assets/firstpaint.py).
        self.pictures = pictures
        # SCALE2 (with a shared store): which processes have sockets in which room,
        # so ops and a room's previews cross the message queue only when another
        # process needs them (rooms/transport/fanout.py). None: one process.
        self.fanout = None
        self.engine = engine
        self.registry = registry
        self.identify = identify          # identify(room_id) -> participant | refusal code
        # participant_of(room_id, pid) -> participant record of that room, or None
        self.participant_of = participant_of or (lambda room_id, pid: None)
        self.on_revoke = on_revoke or (lambda invite_id: None)
        self.conns = {}                   # sid -> Conn
        self.allowances = {}              # participant id -> Allowance
        self.room_sockets = {}            # (room id, participant id) -> open sockets here
        # This process's sockets per room and participant (PRES1 grace; the room's
        # presence list itself is room state, shared by every process).
        self.presence = {}                # room_id -> {pid: {"sids": set, "left": t}}
        # A little shorter than the browsers' send interval (1/30 s): with network
        # jitter half of the previews of a 30 Hz sender would otherwise land just
        # inside the period and wait a whole slot (bench/: p50 ~20 ms at any load).
        self.relay = EphemeralRelay(self._emit_eph, 0.75 / LIMITS["eph_flush_hz"])
        self._flusher = None
        self.grace = LIMITS["presence_grace_s"]
        socketio.server.packet_class = TextPacket
        on = socketio.on
        on("connect")(self.on_connect)
        on("disconnect")(self.on_disconnect)
        on("sync")(self.on_sync)
        on("op")(self.on_op)
        on("history")(self.on_history)
        on("settings")(self.on_settings)
        on("control")(self.on_control)
        # Hot path (PERF): ephemeral signals and clock samples go straight to
        # python-socketio, without Flask's per-event request context and session copy.
        socketio.server.on("eph", self._guarded(self.on_eph), namespace="/")
        socketio.server.on("clock", self._guarded(self.on_clock), namespace="/")
        socketio.on_error_default(self.on_unexpected)
        # WIRE1/WIRE2: only the events registered above reach a handler.
        self.gate = Gate(socketio.server, self.on_unknown)

    # -------------------------------------------------------------- plumbing
    def _guarded(self, handler):
        """ERR2 for raw handlers (Flask-SocketIO's error handler does not see them)."""
        def run(sid, data=None):
            try:
                return handler(sid, data)
            except Exception:
                log.exception("unhandled error in socket event")
                self._error(sid, E_INTERNAL, "Something went wrong on the server.", "unknown")
        return run

    def broadcast(self, room_id, event, data):
        if event == EV_OP_OUT and self.fanout is not None:
            # SCALE2: every other process holding the room hands the op to its own
            # sockets as it catches up on the log (deliver_op).
            self.deliver_op(room_id, data)
            return
        self.socketio.emit(event, data, to=room_key(room_id))

    def deliver_op(self, room_id, op):
        """An op to this process's sockets of the room only."""
        self.socketio.server.emit(EV_OP_OUT, op, to=room_key(room_id), namespace="/",
                                  ignore_queue=True)

    def _emit_eph(self, room_id, skip_sid, payload):
        self.socketio.server.emit(EV_EPH_OUT, payload, to=room_key(room_id), skip_sid=skip_sid,
                                  namespace="/", ignore_queue=self._only_here(room_id))

    def _only_here(self, room_id):
        """SCALE2: are all of the room's sockets in this process (no need to publish)?"""
        if self.fanout is None:
            return False
        try:
            return self.fanout.only_here(room_id)
        except Exception as e:              # the store out of reach: publish, as before
            log.warning("could not tell where room %s is served: %s", room_id, one_line(e))
            return False

    def fanout_loop(self):
        """SCALE2: renew this process's listing in the rooms it has sockets in."""
        while True:
            self.socketio.sleep(fanout.REFRESH_S)
            try:
                self.fanout.refresh({c.room_id for c in list(self.conns.values()) if c.joined})
            except Exception as e:
                log.warning("could not renew where rooms are served: %s", one_line(e))

    def _flush_loop(self):
        # Several checks per throttle period, so a held-back signal waits at most
        # a few ms past its sender's next slot.
        tick = self.relay.period / 4
        while True:
            self.socketio.sleep(tick)
            try:
                self.relay.flush()
            except Exception:
                log.exception("ephemeral flush failed")

    def _error(self, sid, code, reason, event, op_id=None):
        data = {"code": code, "reason": reason, "event": event}
        if is_op_id(op_id):     # (never bytes or a lone surrogate: WIRE2)
            data["op_id"] = op_id
        self.socketio.server.emit(EV_ERROR, data, to=sid, namespace="/")

    def _refuse(self, sid, conn, ack, event):
        """Report a refused event; repeated abuse disconnects (RATE2, RATE3)."""
        if conn is not None:
            conn.limits.strikes += 1
            if conn.limits.strikes > LIMITS["abuse_strikes"] or not conn.refusals.take():
                self._flooded(sid, conn)
                return ack
        self._error(sid, ack["code"], ack["reason"], event, ack.get("op_id"))
        return ack

    def _drop(self, sid, conn):
        """An event dropped without an answer (eph or clock past its limit) still
        counts towards the socket's refusals (RATE3). Returns None (no ack data)."""
        if not conn.refusals.take():
            self._flooded(sid, conn)

    def _flooded(self, sid, conn):
        # Close this socket; a new connection starts without strikes (not a ban),
        # though it shares the participant's rate allowance.
        conn.limits.strikes = 0
        if sid in self.conns:
            server = self.socketio.server
            eio_sid = server.manager.eio_sid_from_sid(sid, "/")
            self.bye(sid, E_RATE, "Too many refused messages.")
            # Nothing more it sent is handled; one that does not read is hung up on.
            transport.drop_connection(server.eio, eio_sid, "flooding (RATE3)", LIMITS["bye_grace_s"])

    def _conn(self, sid, event):
        conn = self.conns.get(sid)
        if conn is None or not conn.joined:
            # Counted like any refusal (RATE3), when there is a socket to count on.
            self._refuse(sid, conn, {"code": E_NOT_JOINED, "reason": "send sync first"}, event)
            return None
        return conn

    def _bye_later(self, sid, code, reason):
        """bye() once the current event's ack is on its way."""
        self.socketio.sleep(0.2)
        if sid in self.conns:
            self.bye(sid, code, reason)

    def bye(self, sid, code, reason):
        """Tell a socket why it is being closed, then close it."""
        self.socketio.emit(EV_BYE, {"code": code, "reason": reason}, to=sid)
        self.socketio.server.disconnect(sid, namespace="/")

    # -------------------------------------------------------------- lifecycle
    def on_connect(self, auth=None):
        if self._flusher is None:
            self._flusher = self.socketio.start_background_task(self._flush_loop)
        if not isinstance(auth, dict) or auth.get("v") != PROTOCOL_VERSION:
            self._refuse_connect(E_VERSION, "Please reload the page.")
        room_id = auth.get("room")
        who = self.identify(room_id if isinstance(room_id, str) else None)
        if isinstance(who, str):
            self._refuse_connect(who, {
                E_REVOKED: "This link was switched off by the therapist.",
                E_ENDED: "The session has ended.",
            }.get(who, "Please open your invite link again."))
        # RATE5: sockets per person in one room (a therapist is one participant in
        # all their rooms, and may have several rooms open).
        here = (room_id, who["id"])
        if self.room_sockets.get(here, 0) >= LIMITS["participant_sockets"]:
            self._refuse_connect(E_RATE, "This person has too many windows open here.")
        self.room_sockets[here] = self.room_sockets.get(here, 0) + 1
        limits = self.allowances.setdefault(who["id"], Allowance())
        limits.sockets += 1
        self.conns[request.sid] = Conn(request.sid, room_id, who, limits)

    @staticmethod
    def _refuse_connect(code, reason):
        """The browser reads `err.data` = {code, reason}; the message is the code (VER1)."""
        raise ConnectionRefusedError(code, {"code": code, "reason": reason})

    def on_disconnect(self, *args):
        sid = request.sid
        conn = self.conns.pop(sid, None)
        self.relay.drop(sid)
        if conn is None:
            return
        # WIRE1: a socket the server no longer records is in none of its room's groups.
        for key in (room_key, host_key, lobby_key):
            leave_room(key(conn.room_id), sid=sid, namespace="/")
        conn.limits.sockets -= 1
        here = (conn.room_id, conn.participant["id"])
        if self.room_sockets.get(here, 0) <= 1:
            self.room_sockets.pop(here, None)
        else:
            self.room_sockets[here] -= 1
        entry = self.presence.get(conn.room_id, {}).get(conn.participant["id"])
        if entry is None or sid not in entry["sids"]:
            # Never entered (or waited in the lobby only): nothing to tell anyone.
            if conn.limits.sockets <= 0:
                self.allowances.pop(conn.participant["id"], None)
            return
        entry["sids"].discard(sid)
        if not entry["sids"]:
            entry["left"] = time.monotonic()
            self.socketio.start_background_task(self._after_grace, conn.room_id, conn.participant["id"])

    def _after_grace(self, room_id, pid):
        """Mark someone away only if they have not come back within the grace
        period (PRES1); unload a room nobody is in any more (here)."""
        self.socketio.sleep(self.grace)
        people = self.presence.get(room_id, {})
        entry = people.get(pid)
        if entry is None or entry["sids"] or time.monotonic() - entry["left"] < self.grace - 0.01:
            return
        people.pop(pid, None)
        limits = self.allowances.get(pid)
        if limits is not None and limits.sockets <= 0:  # kept through the grace (RATE1)
            self.allowances.pop(pid, None)
        try:
            self.engine.leave(room_id, pid)
        except Exception:
            log.exception("recording a leave failed in room %s", room_id)
        if not any(e["sids"] for e in people.values()):
            self.presence.pop(room_id, None)
            if not any(c.room_id == room_id for c in self.conns.values()):
                self.engine.unload(room_id)

    def _sweep(self, room_id):
        """A background task: a failure (the store gone meanwhile) is logged, never
        raised into the task runner (ERR2)."""
        self.socketio.sleep(self.grace)
        try:
            room = self.engine.room_state(room_id)
            if room is None:
                return
            here = self.presence.get(room_id, {})
            for p in room_control.online(room[1]):
                if p["online"] and not here.get(p["id"], {}).get("sids"):
                    self.engine.leave(room_id, p["id"])
        except Exception:
            log.exception("sweeping presence failed in room %s", room_id)

    # -------------------------------------------------------------- the room's own ops
    def on_room_op(self, live, op, local):
        """A room op was applied in this process (engine hook, under the room lock).
        `local`: this process committed it and already broadcast the op itself, so
        it also sends the derived events (once, through the message queue if any);
        every process then does the side effects for its own sockets."""
        t, d, room_id = op["t"], op["d"], live.id
        if local:   # (the engine has broadcast the op and its `room`/`presence` event)
            if t == "admit":
                self.socketio.emit(EV_LOBBY, {"admitted": d["pid"]}, to=lobby_key(room_id))
            if t == "settings" and d.get("private") is False:
                self.socketio.emit(EV_LOBBY, {"resume": True}, to=lobby_key(room_id))
        mine = [c for c in self.conns.values() if c.room_id == room_id]
        if t == "remove":
            for c in mine:
                if c.participant["id"] == d["pid"] or (
                        d.get("invite") and c.participant.get("invite_id") == d["invite"]):
                    self.bye(c.sid, E_REMOVED, "The therapist has closed your visit for today.")
        elif t == "session" and d.get("state") == "end":
            for c in mine:
                # Guests in the session (a parent in private time too) go home; those
                # still in the waiting room stay for the next session.
                if c.participant["role"] in GUEST_ROLES and c.waiting != E_WAITING:
                    self.bye(c.sid, E_ENDED, "The session has ended.")
        elif t == "settings" and d.get("private") is True:
            # CTL5: parents leave the room's broadcasts (they see nothing meanwhile)
            # and wait in the lobby; `resume` calls them back.
            for c in mine:
                if c.participant["role"] == PARENT and c.joined:
                    leave_room(room_key(room_id), sid=c.sid, namespace="/")
                    join_room(lobby_key(room_id), sid=c.sid, namespace="/")
                    c.joined, c.waiting = False, E_PRIVATE
        elif t == "presence" and d.get("online") is False:
            # PRES1 across processes: another process, where this person's last socket
            # there closed, recorded them away; if they still have a socket here (a
            # second tab), they are back at once.
            entry = self.presence.get(room_id, {}).get(d.get("pid"))
            here = [c for c in mine if entry and c.sid in entry["sids"]]
            if here:
                self.socketio.start_background_task(self.engine.present, room_id, here[0].participant)

    def on_sync(self, data=None):
        conn = self.conns.get(request.sid)
        if conn is None:
            return {"ok": False, "code": E_AUTH, "reason": "not connected"}
        if not conn.syncs.take():
            return self._refuse(request.sid, conn, {"ok": False, "code": E_RATE,
                                                    "reason": "Slow down a little."}, "sync")
        since = data.get("since") if isinstance(data, dict) else None
        # JOIN2: a client that unpacks number lists says so; others get plain lists.
        pack = isinstance(data, dict) and type(data.get("pack")) is int and data["pack"] == PACK_VERSION
        sid = request.sid

        def send_state(payload):
            if payload.get("mode") == "snapshot" and getattr(payload, "view", None):
                snapshots.append(payload)
                # PAINT1: a picture the server has already goes first, so the browser
                # decodes it while it reads the snapshot (sent only to someone who
                # is getting this very snapshot: the same view at the same seq).
                for event in (self.pictures.cached(conn.room_id, payload["seq"], payload.view,
                                                   payload["activities"])
                              if self.pictures is not None else ()):
                    self.socketio.server.emit(EV_PICTURE, event, to=sid, namespace="/",
                                              ignore_queue=True)
                    early.add(event["a"])
            text = getattr(payload, "json", None)
            if text is None:
                self.socketio.emit(EV_STATE, payload, to=sid)
                return
            # A snapshot already encoded once for every joiner at its seq: hand the
            # text to Engine.IO as the Socket.IO event packet python-socketio would
            # have built (`2["state",{...}]`), instead of encoding it again.
            server = self.socketio.server
            eio_sid = server.manager.eio_sid_from_sid(sid, "/")
            if eio_sid is not None:
                server.eio.send(eio_sid, f'{socketio_packet.EVENT}["{EV_STATE}",{text}]')

        newly, snapshots, early = [], [], set()

        def enter():
            # READ3: called under the room lock. The socket's state and its groups
            # change together here, so a room op (private time starting) that runs
            # after it sees this socket joined and takes it out again.
            if conn.waiting is not None:
                leave_room(lobby_key(conn.room_id), sid=sid, namespace="/")
                conn.waiting = None
            if not conn.joined:
                conn.joined = True
                newly.append(True)
            join_room(room_key(conn.room_id), sid=sid, namespace="/")
            if conn.participant["role"] == THERAPIST:
                join_room(host_key(conn.room_id), sid=sid, namespace="/")

        def wait(verdict):
            # READ3: under the room lock too. A guest who may not enter waits in the
            # lobby from here, out of the room's broadcasts, so the `resume` or
            # `admitted` of a room op after this one reaches them.
            if verdict == E_REMOVED:
                return
            if conn.joined:
                leave_room(room_key(conn.room_id), sid=sid, namespace="/")
                conn.joined = False
            join_room(lobby_key(conn.room_id), sid=sid, namespace="/")
            conn.waiting = verdict

        seq = self.engine.join(conn.room_id, since, send_state, enter, pack=pack,
                               participant=conn.participant, wait=wait)
        if seq is None:
            return {"ok": False, "code": E_ENDED, "reason": "this room no longer exists"}
        if isinstance(seq, str):
            return self._not_in(sid, conn, seq)
        if self.fanout is not None and conn.joined:
            try:
                self.fanout.here(conn.room_id)
            except Exception as e:          # previews may then skip this socket for a while
                log.warning("could not list room %s here: %s", conn.room_id, one_line(e))
        if snapshots and self.pictures is not None:
            self.socketio.start_background_task(self._send_pictures, sid, conn, snapshots[-1], early)
        if newly:
            if conn.room_id not in self.presence and not self.engine.storage.shared:
                # First socket of this room here: whoever the stored presence still
                # calls online but has no socket (a restart inside their grace
                # period) is marked away once the grace has passed (PRES1).
                self.socketio.start_background_task(self._sweep, conn.room_id)
            people = self.presence.setdefault(conn.room_id, {})
            people.setdefault(conn.participant["id"], {"sids": set(), "left": 0.0})["sids"].add(sid)
        room = self.engine.room_state(conn.room_id)
        if room is not None:
            self.socketio.server.emit(EV_PRESENCE, {"participants": room_control.online(room[1])},
                                      to=sid, namespace="/")
        # UNDO4: how much this person can undo and redo, for their Undo/Redo buttons.
        return {"ok": True, "seq": seq, "stacks": self.engine.stacks(conn.room_id, conn.participant["id"])}

    def _send_pictures(self, sid, conn, snapshot, early=()):
        """PAINT1: after a snapshot, the pictures of its big pages that did not go
        just before it, to this socket only (rendered from the same view; the
        socket's queue keeps them after it)."""
        try:
            events = self.pictures.for_snapshot(conn.room_id, snapshot["seq"], snapshot.view,
                                                {a: s for a, s in snapshot["activities"].items()
                                                 if a not in early})
        except Exception as e:          # a picture is a nicety: the strokes still come
            log.warning("picture for room %s failed: %s", conn.room_id, one_line(e))
            return
        for event in events:
            if self.conns.get(sid) is conn and conn.joined:
                self.socketio.server.emit(EV_PICTURE, event, to=sid, namespace="/",
                                          ignore_queue=True)

    def _not_in(self, sid, conn, verdict):
        """CTL1/CTL5: a guest who may not enter now waits in the lobby (put there by
        `wait` under the room lock) and knocks: the browser repeats `sync` while it
        waits; a removed one is sent away."""
        if verdict == E_REMOVED:
            log.info("refused entry of removed %s %s in room %s", conn.participant["role"],
                     conn.participant["id"], conn.room_id)
            reason = "The therapist has closed your visit for today."
            self.socketio.start_background_task(self._bye_later, sid, E_REMOVED, reason)
            return {"ok": False, "code": E_REMOVED, "reason": reason}
        if verdict == E_WAITING:
            p = conn.participant
            if conn.limits.knocks.take():       # RATE5: per participant, not per socket
                self.socketio.emit(EV_LOBBY, {"knock": {k: p[k] for k in ("id", "name", "role", "avatar")}},
                                   to=host_key(conn.room_id))
            return {"ok": False, "code": E_WAITING, "reason": "Your therapist will let you in soon."}
        return {"ok": False, "code": E_PRIVATE,
                "reason": "Your child is having some private time with the therapist."}

    # -------------------------------------------------------------- events
    def on_op(self, data=None):
        eio_sid = self.socketio.server.manager.eio_sid_from_sid(request.sid, "/")
        chars = packet_chars(eio_sid) if eio_sid is not None else None
        return self._durable(data, "op", lambda room_id, participant, msg:
                             self.engine.submit(room_id, participant, msg, packet_chars=chars))

    def on_history(self, data=None):
        return self._durable(data, "history", self.engine.history)

    def _durable(self, data, event, handler):
        sid = request.sid
        op_id = data.get("op_id") if isinstance(data, dict) else None
        op_id = op_id if is_op_id(op_id) else None      # echoed in refusals as it came
        waiting = self.conns.get(sid)
        if waiting is not None and waiting.waiting == E_PRIVATE:
            # CTL5: a parent taken out of the room for private time is told so (the
            # browser drops the op quietly instead of retrying it afterwards).
            log.info("refused %s from parent %s during private time in room %s", event,
                     waiting.participant["id"], waiting.room_id)
            return self._refuse(sid, waiting, {"ok": False, "code": E_PRIVATE, "op_id": op_id,
                                               "reason": "Private time: the room is paused for you."},
                                event)
        conn = self._conn(sid, event)
        if conn is None:
            return {"ok": False, "code": E_NOT_JOINED, "reason": "send sync first"}
        if not conn.limits.ops.take():
            return self._refuse(sid, conn, {"ok": False, "code": E_RATE, "op_id": op_id,
                                            "reason": "Slow down a little."}, event)
        ack = handler(conn.room_id, conn.participant, data)
        if (ack["ok"] and not ack.get("duplicate")) or ack.get("code") == E_NOTHING:   # UNDO4
            ack = {**ack, "stacks": self.engine.stacks(conn.room_id, conn.participant["id"])}
        if not ack["ok"]:
            if ack["code"] == E_PRIVATE:
                log.info("refused %s from parent %s during private time in room %s", event,
                         conn.participant["id"], conn.room_id)
            return self._refuse(sid, conn, ack, event)
        conn.limits.strikes = 0
        return ack

    def on_eph(self, sid, data=None):
        """Raw python-socketio handler (no Flask context): validate, authorise and
        hand the signal to the relay. Never touches storage (EPH1)."""
        conn = self._conn(sid, "eph")
        if conn is None:
            return
        if not conn.limits.eph.take():
            return self._drop(sid, conn)  # dropped without an answer (EPH2), counted (RATE3)
        if not isinstance(data, dict):
            return self._refuse(sid, conn, {"code": E_BAD_EVENT, "reason": "event payload must be an object"}, "eph")
        act = self.registry.get(data.get("a"))
        spec = act.EPHEMERAL.get(data["k"]) if act and type(data.get("k")) is str else None
        if spec is None:
            return self._refuse(sid, conn, {"code": E_UNKNOWN_ACTIVITY, "reason": "unknown signal"}, "eph")
        kind = data["k"]
        settings = self.engine.settings(conn.room_id)
        role = conn.participant["role"]
        if settings is not None and role != THERAPIST and (
                settings.get("freeze") or (role == PARENT and settings.get("private"))):
            return  # paused (CTL3/CTL5): the browser shows why; nothing to relay
        if settings is None or not act.may(role, "eph:" + kind, settings):
            return self._refuse(sid, conn, {"code": E_FORBIDDEN, "reason": "not allowed right now"}, "eph")
        body = {k: v for k, v in data.items() if k not in ("a", "k")}
        validator, merge = spec
        try:
            item = validator(body)
        except Invalid as e:
            item = Rejected(E_INVALID, str(e))
        except (KeyError, TypeError, AttributeError):
            item = Rejected(E_INVALID, "malformed signal")
        if isinstance(item, Rejected):
            return self._refuse(sid, conn, {"code": item.code, "reason": item.reason}, "eph")
        item["a"], item["k"] = act.NAME, kind
        conn.limits.strikes = 0
        self.relay.put(sid, conn.room_id, conn.participant["id"],
                       (act.NAME, kind, item.get("id")), item, merge)

    def on_clock(self, sid, data=None):
        """Clock sync (CLK1): the ack carries the server's time in ms; the client
        keeps the sample with the shortest round trip to estimate its offset.
        Answered before `sync` too, and counted as an ephemeral event."""
        conn = self.conns.get(sid)
        if conn is None:
            return None
        if not conn.limits.eph.take():
            return self._drop(sid, conn)
        return {"now": self.engine.clock() * 1000.0}

    def on_settings(self, data=None):
        sid = request.sid
        conn = self._conn(sid, "settings")
        if conn is None:
            return {"ok": False, "code": E_NOT_JOINED, "reason": "send sync first"}
        ack = self.engine.set_settings(conn.room_id, conn.participant, data)
        return ack if ack["ok"] else self._refuse(sid, conn, ack, "settings")

    def on_control(self, data=None):
        """The therapist runs the room (CTL2): settings, view, admit, remove, end."""
        sid = request.sid
        conn = self._conn(sid, "control")
        if conn is None:
            return {"ok": False, "code": E_NOT_JOINED, "reason": "send sync first"}
        if not (conn.limits.ops.take() or conn.limits.control.take()):
            return self._refuse(sid, conn, {"ok": False, "code": E_RATE,
                                            "reason": "Slow down a little."}, "control")
        room_id = conn.room_id
        ack = self.engine.control(room_id, conn.participant, data,
                                  known_participant=lambda pid: self.participant_of(room_id, pid))
        if not ack["ok"]:
            if ack["code"] == E_FORBIDDEN:
                # A guest sending a therapist-only event is worth a line in the log.
                log.warning("refused control %s from %s %s in room %s",
                            log_label(data.get("action") if isinstance(data, dict) else None),
                            conn.participant["role"], conn.participant["id"], room_id)
            return self._refuse(sid, conn, ack, "control")
        conn.limits.strikes = 0
        if isinstance(data, dict) and data.get("action") == "remove" and data.get("revoke") is True \
                and not ack.get("duplicate"):
            who = self.participant_of(room_id, data["pid"])
            if who and who.get("invite_id"):
                self.on_revoke(who["invite_id"])
        ended = ack.pop("ended", None)    # (the engine tells its events object: RoomEvents.session_ended)
        if ended:      # issue 17: the therapist's page links to the record of [first, last]
            ack["record_first_seq"] = ended[0]
        return ack

    def on_unknown(self, sid, event, reason):
        """The gate refused an event before dispatch (WIRE1/WIRE2): an unknown or
        reserved name, or a malformed packet. Counts towards RATE2 like any refusal."""
        return self._refuse(sid, self.conns.get(sid), {"ok": False, "code": E_BAD_EVENT,
                                                       "reason": reason}, event)

    def on_unexpected(self, exc):
        """A bug, not bad input: log it, tell the client, keep the server up (ERR2).
        The store out of reach is no bug: one log line and `unavailable` (FAULT4).
        A failed connect is refused: what this returns would accept it (FAULT1)."""
        event = (getattr(request, "event", None) or {}).get("message")
        if store_down(exc):
            log.warning("%s refused: the store is out of reach (%s)", event, one_line(exc))
            code, reason = E_UNAVAILABLE, UNAVAILABLE_REASON
        else:
            log.exception("unhandled error in socket event", exc_info=exc)
            code, reason = E_INTERNAL, "Something went wrong on the server."
        if event == "connect":   # (the identity lookup failed: FAULT1)
            self._refuse_connect(code, reason)
        self._error(request.sid, code, reason, "unknown")
        return {"ok": False, "code": code, "reason": reason if code == E_UNAVAILABLE else "server error"}

    # -------------------------------------------------------------- therapist actions
    def kick(self, predicate, code, reason):
        """Close every socket whose participant matches (revoked link, deleted room)."""
        for sid, conn in list(self.conns.items()):
            if predicate(conn):
                self.bye(sid, code, reason)
