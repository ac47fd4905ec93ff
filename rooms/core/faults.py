"""Faults of the store: which errors mean "the store is out of reach right now".

A Redis restart, a cut or stalled link is not a bug in Playroom: every event that
meets one is answered `unavailable` (the browser tries again soon) with one log
line, never a traceback, and a connect that cannot read its identity is refused
instead of accepted unbound (FAULT1, FAULT4). Anything else a store raises stays a
bug (ERR2). SQLite has no such passing fault here: a locked or broken database is
reported as the bug it most likely is.
"""
import redis

# redis-py raises these after its own retries: the server is down, restarting
# (BusyLoadingError is a ConnectionError), or a reply took longer than the
# client's socket timeout (5 s by default).
STORE_DOWN = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


def store_down(exc):
    """True if `exc` means the store cannot be reached now (not a bug)."""
    return isinstance(exc, STORE_DOWN)


def one_line(exc):
    """The error as one short log line's worth of text."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text[:200]}"
