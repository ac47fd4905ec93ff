"""Through the message queue only what another process needs (SCALE2, issue 18 part 3).

With `REDIS_URL`, python-socketio's Redis manager publishes every emit and every
process unpickles every one, even a process with no socket in the room. nginx sends
all of a room's sockets to one process (ROUTE1), so most of that is waste: a stroke
preview at 30 Hz crossed Redis to be thrown away by the other processes.

- **Ops** never cross the queue: every process holding the room applies each op from
  the log when its seq is announced (SCALE1) and hands it to its own sockets then
  (`RoomEvents.caught_up`, under the room lock, in seq order).
- **Ephemeral events** (previews, cursors) skip the queue while the room's sockets
  are all in this process. Each process lists itself, with an expiry, in a per-room
  Redis hash while it has sockets in the room (`RoomProcesses`); the emitter reads
  it at most once a second per room. A socket that arrives in another process
  (a room split during a move, or no `?room=` in its URL) is listed at once; the
  first process notices within a second and publishes again. Until then that socket
  misses at most a second of previews: they are ephemeral by nature, and the op that
  ends each stroke reaches it through the log.
- Everything else (presence, settings, lobby, kicks) is rare and keeps the queue.
"""
import time

EXPIRES_S = 20.0        # a process that died leaves its entries behind this long at most
REFRESH_S = 5.0         # how often a process renews its entries
CHECK_S = 1.0           # how long an emitter trusts what it read


class RoomProcesses:
    """Which processes have sockets in which room, kept in the shared store.

    `store` is the Redis storage (`room_here(room, process, until)`, `room_gone(room,
    process)`, `room_processes(room) -> {process: until}`); `me` this process's id."""

    def __init__(self, store, me, clock=time.time, check_s=CHECK_S):
        self.store = store
        self.me = me
        self.clock = clock
        self.check_s = check_s
        self.listed = set()       # rooms where this process has listed itself
        self.seen = {}            # room -> (read at, only here?)

    def here(self, room_id):
        """This process has a socket in the room now: listed at once if it was not
        (so others stop skipping the queue for it within CHECK_S)."""
        if room_id not in self.listed:
            self._list(room_id)

    def refresh(self, rooms_with_sockets):
        """Renew this process's entries for the rooms it has sockets in, and take
        it off the rooms it has none in any more (a background task, every REFRESH_S)."""
        rooms = set(rooms_with_sockets)
        for room_id in self.listed - rooms:
            self.listed.discard(room_id)
            self.seen.pop(room_id, None)
            self.store.room_gone(room_id, self.me)
        for room_id in rooms:
            self._list(room_id)

    def _list(self, room_id):
        self.store.room_here(room_id, self.me, self.clock() + EXPIRES_S)
        self.listed.add(room_id)

    def only_here(self, room_id):
        """Are all the room's sockets in this process (as far as anyone listed)?"""
        now = self.clock()
        hit = self.seen.get(room_id)
        if hit is not None and now - hit[0] < self.check_s:
            return hit[1]
        try:
            listed = self.store.room_processes(room_id)
        except Exception:
            self.seen[room_id] = (now, False)       # publish meanwhile; ask again in a second
            raise
        others = [p for p, until in listed.items() if p != self.me and until > now]
        alone = not others
        self.seen[room_id] = (now, alone)
        if len(self.seen) > 4 * max(16, len(self.listed)):      # rooms no longer emitting
            for old in [r for r, (t, _) in self.seen.items() if now - t >= self.check_s]:
                del self.seen[old]
        return alone
