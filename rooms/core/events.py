"""What the engine tells the world, as one small object handed to it.

The engine never reaches sockets, records or other processes itself: it calls these
methods, and the wiring (rooms/playroom.py) decides who hears them. The base
class hears nothing, so the engine runs alone in unit tests and tools.
"""


class RoomEvents:
    def broadcast(self, room_id, event, data):
        """Send `event` with `data` to everyone in the room (all processes)."""

    def room_op(self, live, op, local):
        """A room op was applied here: committed by this process (local=True, after
        its broadcast) or caught up from the log (False). Called under the room lock,
        so the socket layer's side effects (who is in which group) keep op order."""

    def caught_up(self, live, op):
        """An op another process committed was applied here (catching up on the
        log, SCALE1), under the room lock, in seq order: this process's sockets of
        the room get it from here, not through the message queue (SCALE2)."""

    def session_ended(self, room_id, first_seq, last_seq):
        """A session ended (the therapist pressed End, or an empty room's session timed
        out). Called outside any room lock."""


class Broadcasts(RoomEvents):
    """Events that only broadcast, through `sink(room_id, event, data)`: for tools and
    tests that need no socket layer."""

    def __init__(self, sink):
        self.sink = sink

    def broadcast(self, room_id, event, data):
        self.sink(room_id, event, data)


def as_events(events):
    """A RoomEvents as it is, a plain callable as the broadcast (Broadcasts)."""
    return events if isinstance(events, RoomEvents) else Broadcasts(events)
