"""Heavy work off the path that serves every room (WORK1).

Under gevent and eventlet every room is served by one event loop: a second spent
encoding a big board, rendering a session record or decoding an uploaded picture in
a handler is a second in which no other room gets an answer. `Offload` is the one
place such work goes:

    run(fn, *args)    call fn in a worker OS thread and wait for its result; only the
                      calling task waits, the loop goes on serving everyone else
    later(fn, *args)  start fn(*args) as a background task and return at once

Rooms, records and uploads get it injected; only the server entry point (app.py
`serve`) knows the async mode and installs its pool (gevent's hub threadpool,
eventlet's tpool, a plain call under threading). The default runs everything inline,
which is what unit tests and `flask` commands want.

What goes to `run` must be pure work on values the caller owns (JSON encoding of
immutable states, Pillow decoding and rendering): a worker thread must not touch
sockets, storage connections, locks of the loop or logging, so callers do their I/O
before and after. Threads share the GIL; the work given here is either Python-level
loops (the GIL switches every few ms) or C code that releases it (Pillow, numpy).
"""
import logging

log = logging.getLogger("playroom.offload")


def _inline(fn, *args):
    return fn(*args)


class Offload:
    """The injected service. `run_in_thread(fn, *args)` and `spawn(fn, *args)` are
    the mode's primitives; both default to an inline call."""

    def __init__(self, run_in_thread=None, spawn=None):
        self.install(run_in_thread, spawn)

    def install(self, run_in_thread=None, spawn=None):
        """Use the mode's thread pool and task spawner (app.py serve())."""
        self._run = run_in_thread or _inline
        self._spawn = spawn or _inline

    def run(self, fn, *args):
        """fn(*args) in a worker thread; its result, or its exception re-raised here
        (carried back as a value: gevent's pool would print every exception raised
        in it, expected refusals such as a broken upload included)."""
        name = getattr(fn, "__qualname__", "work")
        log.debug("offload: %s started", name)      # (logged here, on the caller's side)
        ok, value = self._run(_captured, fn, args)
        log.debug("offload: %s finished", name)
        if ok:
            return value
        raise value

    def later(self, fn, *args):
        """fn(*args) in a background task. It must handle its own failures; one that
        escapes is logged here, never raised into the caller."""
        self._spawn(_logged, fn, args)


def _captured(fn, args):
    try:
        return True, fn(*args)
    except Exception as e:      # re-raised in the caller, with its traceback
        return False, e


def _logged(fn, args):
    try:
        fn(*args)
    except Exception:
        log.exception("background work %s failed", getattr(fn, "__qualname__", fn))
