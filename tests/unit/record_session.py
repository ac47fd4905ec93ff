"""A scripted therapy session written straight into storage, for the session record
tests (tests/unit/records/test_records.py, tests/unit/web/test_records_web.py)."""
import json

from tests.unit.payloads import stamp, stroke

T0 = 1_750_000_000.0          # the session's start, server seconds


class Session:
    """Drives a session straight through storage and the activities' own reducers,
    as the engine would store it: each op applied, then appended to the op log.
    `at` is the server time stamped into stamped ops (and room ops)."""

    def __init__(self, storage, room_id, registry):
        self.storage, self.room_id, self.registry = storage, room_id, registry
        self.states = registry.initial_states()
        self.n = 0

    def op(self, by, a, t, d, at=None, kind="do", target=None):
        self.n += 1
        if a == "room" or (a in self.states and self.registry.get(a).OPS[t].stamped):
            d = {**d, "at": at}
        if a != "room":
            act = self.registry.get(a)
            self.states[a], _ = act.apply(self.states[a], t, d, by=by)
        seq, created = self.storage.append_op(self.room_id, by, f"op-{self.n}", a, t, kind,
                                              target, json.dumps(d))
        assert created
        return seq



def scripted_session(storage, room_id, registry, people):
    """A whole session: joins, check-in, balloon breathing with a pause, drawing, sand
    tray with a saved tray, a story read and a checklist, follow-me switches, end."""
    th, child, parent = people["therapist"], people["child"], people["parent"]
    s = Session(storage, room_id, registry)
    s.op(th, "room", "session", {"state": "start"}, at=T0)
    s.op(th, "room", "presence", {"pid": th, "online": True}, at=T0)
    s.op(th, "room", "presence", {"pid": child, "online": True}, at=T0 + 5)
    s.op(th, "room", "admit", {"pid": child}, at=T0 + 6)
    s.op(th, "room", "view", {"activity": "checkin", "view": {}}, at=T0 + 10)
    s.op(th, "checkin", "ask", {"id": "q1", "moment": "start"}, at=T0 + 11)
    s.op(child, "checkin", "checkin", {"id": "q1", "value": 2, "moment": "start"}, at=T0 + 15)
    s.op(th, "room", "view", {"activity": "calm", "view": {}}, at=T0 + 30)
    s.op(th, "calm", "pacer.start", {"pattern": "balloon", "rounds": 5, "minutes": None},
         at=T0 + 60)
    s.op(th, "calm", "pacer.pause", {}, at=T0 + 70)
    s.op(th, "calm", "pacer.resume", {}, at=T0 + 80)
    s.op(th, "calm", "pacer.stop", {}, at=T0 + 100)
    s.op(th, "room", "settings", {"follow_me": False, "locked": True}, at=T0 + 110)
    s.op(th, "room", "view", {"activity": "canvas", "view": {"page": "p1"}}, at=T0 + 120)
    s.op(th, "room", "view", {"activity": "canvas", "view": {"page": "p2"}}, at=T0 + 121)
    for k in range(3):
        s.op(child, "canvas", "stroke", stroke(sid=f"c{k}"))
    s.op(th, "canvas", "stamp", stamp(sid="st1"))
    s.op(th, "room", "view", {"activity": "sandtray", "view": {}}, at=T0 + 300)
    s.op(child, "sandtray", "place", {"id": "f1", "fig": "dragon", "x": 30, "y": 20, "rot": 0,
                                      "scale": 1, "flip": False})
    s.op(child, "sandtray", "place", {"id": "f2", "fig": "house", "x": 50, "y": 30, "rot": 0,
                                      "scale": 1, "flip": False})
    s.op(th, "sandtray", "tray.save", {"id": "s1"}, at=T0 + 400)
    s.op(th, "room", "presence", {"pid": parent, "online": True}, at=T0 + 500)
    s.op(th, "room", "private", {"on": True}, at=T0 + 510)
    s.op(th, "room", "private", {"on": False}, at=T0 + 520)
    s.op(th, "stories", "open", {"story": "angry", "page": 0})
    s.op(child, "stories", "page", {"page": 1})
    s.op(child, "stories", "page", {"page": 2})
    s.op(th, "stories", "task.open", {"task": "morning"})
    s.op(child, "stories", "task.tick", {"task": "morning", "step": 0, "done": True}, at=T0 + 600)
    s.op(th, "stories", "task.prompt", {"task": "morning", "step": 0, "level": "verbal"},
         at=T0 + 601)
    s.op(th, "room", "remove", {"pid": parent, "revoke": True}, at=T0 + 700)
    s.op(th, "room", "presence", {"pid": parent, "online": False}, at=T0 + 701)
    s.op(child, "checkin", "checkin", {"id": "q2", "value": 5, "moment": "end"}, at=T0 + 900)
    s.op(th, "calm", "pacer.start", {"pattern": "box4", "rounds": 2, "minutes": None},
         at=T0 + 950)                # still running when the session ends
    s.op(th, "room", "session", {"state": "end"}, at=T0 + 1000)
    return s
