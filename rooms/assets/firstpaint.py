"""A big page's picture ahead of its strokes (PAINT1, issue 18 part 2).

A browser joining a board of 5,000 strokes gets them as numbers and draws them
itself: outlines, then filling them in software, ~1.1 s of work on a child's tablet
after the state arrived. The server renders the same page in ~0.3 s (numpy,
activities/canvas). So when an activity says a key of its state is worth it
(`first_picture(state)`, activities/contract), whoever is sent a snapshot is sent
`picture` {a, seq, png, key, ...} for it: just before it when the picture of that
view at that seq is made already (`cached`, so the browser decodes it while reading
the state), else right after it, once rendered (`for_snapshot`); the browser shows
the picture until its own drawing has caught up, then its own.

What a joiner is sent is exactly what they may read: the picture is rendered from
the view of the state their snapshot was made of, and only to their socket, with
their snapshot (rooms/transport/hub.py). Pictures are kept per room, activity and
key for the latest seq rendered (joiners of one view at one seq share one picture,
as they share one snapshot text, JOIN1); a room renders at most one picture every
`every_s` seconds, so someone who joins again and again (or draws between joins)
costs the server at most one render per interval: a joiner who finds no fresh
picture is told so (png None) and draws the strokes, as before.
"""
import io
import logging
import threading
import time
from collections import OrderedDict

from rooms.assets.pictures import Assets
from rooms.core.faults import one_line

log = logging.getLogger("playroom.pictures")


def png_of(act, state, key, assets_root):
    """The PNG bytes of `act.render(state, key, …)` (pure: runs in a worker thread).
    Raises KeyError for a key the activity does not know."""
    img = act.render(state, key, Assets(assets_root))
    buf = io.BytesIO()
    # zlib level 1: faster than the default for a somewhat larger file (an RGB
    # picture of the 5,000-stroke board: ~45 instead of ~80 ms; most of the rest is
    # Pillow's row filters, which palette pictures skip: ~12 ms, bench/).
    img.save(buf, "PNG", compress_level=1)
    return buf.getvalue()


class FirstPictures:
    """Pictures for joiners of big pages; one per app (rooms/playroom.py)."""

    def __init__(self, registry, offload, assets_root, *, every_s=5.0, keep=16,
                 clock=time.monotonic):
        self.registry = registry
        self.offload = offload
        self.assets_root = assets_root
        self.every_s = every_s
        self.keep = keep                  # pictures kept, over all rooms (~0.3 MB each)
        self.clock = clock
        self.enabled = True               # False: png None every time (bench/ A/B switch)
        self._pictures = OrderedDict()    # (room, a, key, view) -> (seq, png)
        self._last = {}                   # room -> clock of its last render
        self._locks = {}                  # room -> Lock (one render at a time per room)
        self._guard = threading.Lock()

    def for_snapshot(self, room_id, seq, view, states):
        """The `picture` events for someone who was just sent the snapshot of
        `states` at `seq`, the room's `view` they may read (readpolicy.visible_states:
        the same content for every joiner of that view at that seq): [{a, seq, png,
        key, ...}], one per activity that wants one, png None when there is none
        this time."""
        out = []
        for name, act, state, info in self._wanted(states):
            try:
                png = self._picture(room_id, name, act, info["key"], view, seq, state)
            except Exception as e:      # a picture is a nicety: the browser draws the strokes
                log.warning("picture of %s %s in room %s failed: %s", name, info["key"], room_id,
                            one_line(e))
                png = None
            # png None: no picture this time (the room had one rendered moments ago at
            # another seq): the browser stops waiting for it and draws the strokes.
            out.append({**info, "a": name, "seq": seq, "png": png})
        return out

    def _wanted(self, states):
        """(name, activity, state, info) of each activity that wants a picture now."""
        for name, state in states.items():
            act = self.registry.get(name)
            want = getattr(act, "first_picture", None)
            info = want(state) if want is not None and hasattr(act, "render") else None
            if info:
                yield name, act, state, info

    def cached(self, room_id, seq, view, states):
        """The events of `for_snapshot` for the pictures already made for exactly this
        view at this seq (no rendering: called under the room lock, to send them
        just before the snapshot)."""
        out = []
        if not self.enabled:
            return out
        for name, _, _, info in self._wanted(states):
            with self._guard:
                hit = self._pictures.get((room_id, name, info["key"], view))
            if hit is not None and hit[0] == seq:
                out.append({**info, "a": name, "seq": seq, "png": hit[1]})
        return out

    def _picture(self, room_id, name, act, key, view, seq, state):
        if not self.enabled:
            return None
        with self._guard:
            lock = self._locks.setdefault(room_id, threading.Lock())
        with lock:                          # a second joiner meanwhile waits for the first's
            at = (room_id, name, key, view)
            with self._guard:
                hit = self._pictures.get(at)
                if hit is not None and hit[0] == seq:
                    self._pictures.move_to_end(at)
                    return hit[1]
                now = self.clock()
                last = self._last.get(room_id)
                if last is not None and now - last < self.every_s:
                    return None
                self._last[room_id] = now
                if len(self._last) > 4 * self.keep:      # rooms quiet for a while: forgotten
                    for old in [r for r, t in self._last.items() if now - t >= self.every_s]:
                        del self._last[old]
                        if not self._locks[old].locked():
                            del self._locks[old]
            png = self.offload.run(png_of, act, state, key, self.assets_root)
            with self._guard:
                self._pictures[at] = (seq, png)
                self._pictures.move_to_end(at)
                while len(self._pictures) > self.keep:
                    self._pictures.popitem(last=False)
            return png

    def forget(self, room_id):
        """A room unloaded or deleted: its pictures and timers go."""
        with self._guard:
            for at in [at for at in self._pictures if at[0] == room_id]:
                del self._pictures[at]
            self._last.pop(room_id, None)
            self._locks.pop(room_id, None)
