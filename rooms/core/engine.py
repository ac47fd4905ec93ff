"""The op pipeline: one ordered history per room, one writer per room.

    op -> validate -> authorise -> check -> apply -> sequence+persist -> broadcast -> ack

Everything that changes a room's durable state runs under that room's lock, so ops
are applied in exactly the order their sequence numbers say (SEQ1), a retried op is
answered with its original seq (SEQ2), and a joining socket receives the missing ops
or a snapshot before it is added to the live room (JOIN1). The engine knows
activities only through the registry interface and talks to sockets only through
one events object (rooms/core/events.py), so it is unit-tested without either.

Per-person undo (UNDO1-3): `apply` returns an inverse for every op; the inverse goes
on the author's undo stack for that activity. Undo applies the inverse as a new,
sequenced op and moves its inverse to the redo stack. Stacks are rebuilt from the op
log on load, so they survive a restart.
"""
import threading
import time

from rooms.core import control as room_control
from rooms.core.offload import Offload
from activities.contract.protocol import (LIMITS)
from rooms.core.events import as_events
from rooms.core.joining import Joining
from rooms.core.loading import Loading
from rooms.core.pipeline import Pipeline
from rooms.core.session import RoomControl


class Engine(Loading, Joining, RoomControl, Pipeline):
    """The rooms of this process: loading (rooms/core/loading.py), joining
    (joining.py), the room itself (session.py) and the op pipeline (pipeline.py).
    `events` is a RoomEvents (rooms/core/events.py): what the engine tells the world;
    a plain callable is taken as the broadcast alone (tests, tools)."""

    def __init__(self, storage, registry, events, *, snapshot_every=200,
                 undo_depth=LIMITS["undo_depth"], max_replay=LIMITS["max_replay_ops"],
                 clock=time.time, session_idle_s=3600, offload=None):
        self.clock = clock                  # server time for stamped ops (CLK1)
        self.offload = offload or Offload()     # heavy work off the serving loop (WORK1)
        self.storage = storage
        self.registry = registry
        self.events = as_events(events)
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
