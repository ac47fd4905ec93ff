"""Ephemeral signals (strokes in progress, cursors): relayed, never stored.

python-socketio has no volatile emit, so each sender is throttled instead (EPH1):
a signal goes out at once when its sender sent nothing during the last throttle
period (a browser sends at most 30 a second, so that is the normal case and costs
no added latency); otherwise it waits in a per-sender buffer, merged with what is
already there, and leaves at the sender's next slot. A stroke preview is merged with
the pending one of the same stroke so no point is lost; a cursor keeps only its
latest position. One message per sender per slot, encoded once for the whole room.
"""
import threading
import time


class EphemeralRelay:
    def __init__(self, emit, period, clock=time.monotonic):
        self._emit = emit          # emit(room_id, skip_sid, payload)
        self.period = period       # seconds between two messages of one sender
        self._clock = clock
        self._lock = threading.Lock()
        self._pending = {}         # sid -> [room_id, by, {(a, k, stroke id or None): item}]
        self._last = {}            # sid -> time of that sender's last message

    def put(self, sid, room_id, by, key, item, merge=None):
        now = self._clock()
        with self._lock:
            entry = self._pending.get(sid)
            if entry is None and now - self._last.get(sid, -1e9) >= self.period:
                self._last[sid] = now
                send = True
            else:
                send = False
                if entry is None:
                    entry = self._pending[sid] = [room_id, by, {}]
                self._merge(entry[2], key, item, merge)
        if send:
            self._emit(room_id, sid, {"by": by, "items": [item]})

    @staticmethod
    def _merge(items, key, item, merge):
        old = items.get(key)
        if old is not None and merge is not None:
            merged = merge(old, item)
            if merged is not None:
                items[key] = merged
                return
            # A gap (chunks dropped on the way): keep the earlier points and send
            # them first, so viewers do not lose part of the line.
            items[(key, len(items))] = items.pop(key)
        items[key] = item

    def drop(self, sid):
        with self._lock:
            self._pending.pop(sid, None)
            self._last.pop(sid, None)

    def flush(self, force=False):
        """Send what is due (everything with force=True); returns how many messages."""
        now = self._clock()
        with self._lock:
            due = [sid for sid in self._pending
                   if force or now - self._last.get(sid, -1e9) >= self.period]
            out = [(sid, self._pending.pop(sid)) for sid in due]
            for sid in due:
                self._last[sid] = now
        for sid, (room_id, by, items) in out:
            self._emit(room_id, sid, {"by": by, "items": list(items.values())})
        return len(out)
