"""The app's services, wired together: storage, the activity registry, the sync
engine and the Socket.IO hub, and what one process hears from the others (SCALE1,
FAULT2). Built once per app by create_app (app.py); reachable as
app.extensions["playroom"]."""
import logging
import os
import secrets
import socket

from activities.contract.protocol import E_ENDED, E_REVOKED
from rooms.assets.firstpaint import FirstPictures
from rooms.core.engine import Engine
from rooms.core.events import RoomEvents
from rooms.core.faults import one_line, store_down
from rooms.core.offload import Offload
from rooms.store.crypto import CryptoError, load_keyring
from rooms.store.redis_store import RedisStorage
from rooms.store.sealed import SealedStorage
from rooms.store.sqlite_store import SQLiteStorage
from rooms.transport.fanout import RoomProcesses
from rooms.transport.hub import Hub
from rooms.web import pages as web


class _Events(RoomEvents):
    """Who hears the engine (rooms/core/events.py): the sockets of this process
    through the hub, and the session-end hooks (the session record)."""

    def __init__(self, playroom):
        self.playroom = playroom

    def broadcast(self, room_id, event, data):
        self.playroom.hub.broadcast(room_id, event, data)

    def room_op(self, live, op, local):
        self.playroom.hub.on_room_op(live, op, local)

    def caught_up(self, live, op):
        if self.playroom.hub.fanout is not None:      # SCALE2: ops skip the message queue
            self.playroom.hub.deliver_op(live.id, op)

    def session_ended(self, room_id, first_seq, last_seq):
        for hook in self.playroom.session_end_hooks:
            hook(room_id, first_seq, last_seq)


def listen_to_the_queue(socketio):
    """Subscribe to the message queue now, not at this process's first connection
    (python-socketio starts its manager then): a room event published in between —
    the freeze that reached every other process — never reached the first sockets of
    a process that had just started."""
    server = socketio.server
    if server is not None and not getattr(server, "manager_initialized", True):
        server.manager_initialized = True
        server.manager.initialize()


class Playroom:
    """The app's services, reachable as app.extensions["playroom"]."""

    def __init__(self, app, socketio, registry):
        self.storage = make_storage(app.config)
        self.registry = registry
        # Heavy work off the serving loop (WORK1): inline until serve() installs a pool.
        self.offload = Offload()
        self.engine = Engine(self.storage, self.registry, _Events(self),
                             snapshot_every=app.config["SNAPSHOT_EVERY"],
                             session_idle_s=app.config["SESSION_IDLE_MINUTES"] * 60,
                             offload=self.offload)
        self.pictures = FirstPictures(self.registry, self.offload, app.config["ASSETS_ROOT"])
        self.hub = Hub(socketio, self.engine, self.registry, web.socket_identity,
                       participant_of=self._participant_of, on_revoke=self._revoke,
                       pictures=self.pictures)
        # Called after a session ends, outside the room lock: hook(room_id, first_seq, last_seq).
        self.session_end_hooks = []
        self.announcement_hooks = {}    # kind -> handler(*args), e.g. rooms/web/signins.py
        if self.storage.shared:
            # SCALE1: apply other processes' ops as they are announced, so settings,
            # presence, removals and the end of a session take effect here too; the
            # ops reach this process's sockets then (SCALE2), never through the queue.
            socketio.start_background_task(self.storage.listen, self._announced)
            listen_to_the_queue(socketio)
            me = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
            self.hub.fanout = RoomProcesses(self.storage, me)
            socketio.start_background_task(self.hub.fanout_loop)

    def _announced(self, kind, args):
        """Another process said something (SCALE1): a room's new seq, or a kick; or
        our listener missed what was said while its link was down ("gap")."""
        try:
            if kind == "seq":
                self.engine.catch_up(args[0])       # (its ops reach our sockets as applied)
            elif kind == "gap":
                self._after_gap()
            elif kind == "kick-invite":
                self._kick_invite_here(args[0])
            elif kind == "kick-room":
                self._kick_room_here(args[0])
            elif kind in self.announcement_hooks:
                self.announcement_hooks[kind](*args)
        except Exception as e:
            if not store_down(e):
                logging.getLogger("playroom").exception("handling announcement %s failed", kind)
            else:   # the next gap in announcements re-reads every room (FAULT2)
                logging.getLogger("playroom").warning("handling announcement %s failed (%s)",
                                                      kind, one_line(e))

    def _after_gap(self):
        """FAULT2: announcements published while the link was down are gone. Re-read
        every loaded room: the ops found reach this process's sockets as they are
        applied (SCALE2: ops never use the message queue, whose own listener may
        come back up to a minute later); a room with none new hands them its latest
        op, so a client that missed ops sees the gap and syncs (SEQ1)."""
        for room_id in self.engine.loaded():
            if not self.engine.catch_up(room_id):   # new ops went to our sockets as applied
                for op in self.engine.catch_up(room_id, last=True):
                    self.hub.deliver_op(room_id, op)

    def _participant_of(self, room_id, pid):
        part = self.storage.get_participant(pid)
        return part if part is not None and part["room_id"] == room_id else None

    def _revoke(self, invite_id):
        """CTL4: removing a guest with "switch off their link" revokes the invite."""
        self.storage.revoke_invite(invite_id)
        self.kick_invite(invite_id)

    def kick_invite(self, invite_id):
        """A revoked link disconnects everyone who came in through it, on every
        process."""
        self._kick_invite_here(invite_id)
        self.storage.announce("kick-invite", invite_id)

    def _kick_invite_here(self, invite_id):
        self.hub.kick(lambda c: c.participant.get("invite_id") == invite_id,
                      E_REVOKED, "This link was switched off by the therapist.")

    def delete_room(self, room_id):
        self._kick_room_here(room_id)
        self.pictures.forget(room_id)
        self.storage.delete_room(room_id)
        self.storage.announce("kick-room", room_id)

    def _kick_room_here(self, room_id):
        self.hub.kick(lambda c: c.room_id == room_id, E_ENDED, "This room was closed.")
        self.engine.forget(room_id)


def make_storage(config):
    """RedisStorage when REDIS_URL is set, else SQLite in DATABASE; either with names,
    records, notes and snapshots encrypted at rest (rooms/store/sealed.py)."""
    if config.get("REDIS_URL"):
        inner = RedisStorage(config["REDIS_URL"])
    else:
        inner = SQLiteStorage(config["DATABASE"])
    storage = SealedStorage(inner, load_keyring(config))
    try:
        storage.check_key()
    except CryptoError as e:
        inner.close()
        raise SystemExit(f"cannot read the stored data with this data key: {e}. Restore the "
                         "key from its backup (README, Encryption at rest).") from None
    return storage
