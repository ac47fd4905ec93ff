"""Ephemeral signals (strokes in progress, cursors): coalesced, relayed, never stored.

python-socketio has no volatile emit, so senders' latest values are kept per
(socket, activity, kind) and flushed to the rest of the room about 30 times a
second (EPH1). A stroke preview is merged with the pending one of the same stroke so
no point is lost between flushes; a cursor keeps only its latest position.
"""
import threading


class EphemeralRelay:
    def __init__(self, emit):
        self._emit = emit          # emit(room_id, skip_sid, payload)
        self._lock = threading.Lock()
        self._pending = {}         # sid -> [room_id, by, {(a, k, stroke id or None): item}]

    def put(self, sid, room_id, by, key, item, merge=None):
        with self._lock:
            entry = self._pending.get(sid)
            if entry is None:
                entry = self._pending[sid] = [room_id, by, {}]
            items = entry[2]
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

    def flush(self):
        """Send everything pending; one message per sender per flush."""
        with self._lock:
            pending, self._pending = self._pending, {}
        for sid, (room_id, by, items) in pending.items():
            self._emit(room_id, sid, {"by": by, "items": list(items.values())})
        return len(pending)
