"""Canvas op payloads and op envelopes for unit tests (plain builders, no state)."""
import itertools

_ids = itertools.count(1)


def new_id(prefix="s"):
    return f"{prefix}{next(_ids)}"


def line(x0=100, x1=1500, y=500, step=10, pressure=0.5):
    """Flat [x, y, p, ...] points of a horizontal line."""
    pts = []
    for x in range(x0, x1 + 1, step):
        pts += [x, y, pressure]
    return pts


def stroke(sid=None, page="p1", color="#e53935", tool="pen", size=8, pts=None):
    return {"page": page, "id": sid or new_id(), "tool": tool, "color": color, "size": size,
            "pts": pts if pts is not None else [100, 200, 0.5, 150, 230, 0.5, 200, 260, 0.5]}


def stamp(sid=None, page="p1", stamp="star", x=400, y=300, size=96, **extra):
    return {"page": page, "id": sid or new_id("st"), "stamp": stamp, "x": x, "y": y,
            "size": size, **extra}


def op(t, d, op_id=None, a="canvas"):
    """The envelope a client sends as "op"."""
    return {"op_id": op_id or new_id("op"), "a": a, "t": t, "d": d}


def history(action="undo", target=None, op_id=None, a="canvas"):
    """The envelope a client sends as "history"."""
    msg = {"op_id": op_id or new_id("h"), "a": a, "action": action}
    if target is not None:
        msg["target"] = target
    return msg
