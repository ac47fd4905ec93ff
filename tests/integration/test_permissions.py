"""PERM1, CTL3, CTL5, STORY2, SCHED1, FEEL2, UNDO1 over real sockets: the permission
matrix. Every client op type of every activity, plus undo (`history`) per activity,
sent by every role (therapist, child, parent) under every setting that decides who may
play: everything on, a role's master switch off, a role's permission for the activity
off, freeze, private child time.

The expected outcome of each case comes from the tables below, written by hand from
the activity modules and docs/PROTOCOL.md; the test never asks the code under test
(`may`, GUEST_OPS) what is allowed. A case is

- allowed: ack ok, the room's seq advanced by one (to the ack's seq) and the
  activity's state changed;
- refused: a negative ack with the code the setting calls for, an `error` event for
  the sender, the room's seq and every activity's state unchanged (ERR1).

Every payload is valid and its precondition (an open story, figures on the tray, a
running pacer, a schedule whose steps are all done ...) is set up by the therapist just
before it is sent, and every payload would change the state, so a refusal can only
come from authorisation and an acceptance always shows. One room per setting (its own
therapist, child and parent, so each setting has its own rate allowances); the room's
state is read from the server after every case (a fresh therapist socket's snapshot).
"""
import itertools
import time

import pytest

from activities.contract import home as kinds
from activities.contract.protocol import E_FORBIDDEN, E_FROZEN, E_PRIVATE, E_RATE
from tests.support import stroke, wait_for

from .conftest import new_id

ROLES = ("therapist", "child", "parent")
GUESTS = ("child", "parent")
HISTORY = "history"
HISTORY_ACTIONS = ("undo", "redo")     # one case each, per activity: the `history` event

# ------------------------------------------------------------------ the tables (by hand)

# Every op type a client may send (OpSpec.client), per activity, in the order the
# cases run (ops that replace the whole tray come last).
CLIENT_OPS = {
    "canvas": ("stroke", "stamp", "page.add", "page.bg", "page.shape", "clear", "page.save"),
    "sandtray": ("place", "move", "rotate", "scale", "flip", "lie", "z", "duplicate", "bury",
                 "remove", "sand", "theme", "tray.save", "tray.new", "tray.open"),
    "calm": ("show", "pacer.start", "pacer.pause", "pacer.resume", "pacer.stop", "pattern.save",
             "pattern.delete", "timer.start", "timer.pause", "timer.resume", "timer.reset",
             "grounding.start", "grounding.order", "grounding.go", "grounding.count",
             "grounding.stop"),
    "checkin": ("checkin", "checkin.delete", "ask", "ask.close"),
    "stories": ("open", "page", "close", "task.open", "task.tick", "task.prompt", "task.reset",
                "story.copy", "story.create", "story.delete", "story.title", "story.lang", "page.text",
                "page.pics", "page.add", "page.remove", "page.move"),
    "schedule": ("layout", "step.add", "step.remove", "step.edit", "step.move", "step.done",
                 "timer.start", "timer.stop", "rewards", "reward.pick", "reset"),
    # Home practice (issue 17): sending a pack, and what is done at home (the family
    # sends it over HTTP, tests/unit/web/test_home.py; the therapist may note it here).
    "home": ("pack", "done"),
}
ACTIVITIES = tuple(CLIENT_OPS)

_BUILD = {"place", "move", "rotate", "scale", "flip", "lie", "z", "duplicate", "bury", "remove",
          "sand", "theme"}
# What a guest may send at all while everything is allowed (their master switch and
# the activity's permission on, not frozen, no private time). Anything else is the
# therapist's: refused with `forbidden`.
GUEST_MAY = {
    # Drawing, stamps, pages and backgrounds, own undo; never clear (canvas table).
    "canvas": {g: {"stroke", "stamp", "page.add", "page.bg", "page.shape", HISTORY} for g in GUESTS},
    # Building the tray and own undo; saving, new and reopening trays are the therapist's.
    "sandtray": {g: _BUILD | {HISTORY} for g in GUESTS},
    # Only counting in the grounding card; the pacer, timer, patterns, the grounding
    # card's course and undo are the therapist's.
    "calm": {g: {"grounding.count"} for g in GUESTS},
    # The check-in is the child's own (FEEL2: a parent's answer is refused); no undo.
    "checkin": {"child": {"checkin"}, "parent": set()},
    # STORY2: page turns, ticks and undoing own ticks.
    "stories": {g: {"page", "task.tick", HISTORY} for g in GUESTS},
    # SCHED1: done / not done, the step timer, the reward and own undo.
    "schedule": {g: {"step.done", "timer.start", "timer.stop", "reward.pick", HISTORY}
                 for g in GUESTS},
    # Nothing: a guest in the live room never writes the family's home practice.
    "home": {g: set() for g in GUESTS},
}
MASTER = {"child": "child_may_draw", "parent": "parent_may_play"}

# The settings under test. "perm-off" blocks switch off perms[role][activity] for the
# activity under test only (every other activity stays on).
BLOCKS = ("all-on", "child-switch-off", "parent-switch-off", "child-perm-off",
          "parent-perm-off", "freeze", "private")


def expected(block, role, act, t):
    """None when the op must apply, else the refusal code (PERM1, CTL3, CTL5)."""
    if role == "therapist":
        return None                       # the therapist always may, whatever the settings
    if block == "freeze":
        return E_FROZEN                   # CTL3: every guest op and history request
    if block == "private" and role == "parent":
        return E_PRIVATE                  # CTL5: the parent only; the child plays on
    if block in (f"{role}-switch-off", f"{role}-perm-off"):
        return E_FORBIDDEN
    return None if (HISTORY if t in HISTORY_ACTIONS else t) in GUEST_MAY[act][role] \
        else E_FORBIDDEN


# What each person sends first, while everything is on, so their undo stack in every
# activity holds something (a refused undo cannot be "nothing to undo" instead).
SEED = {"canvas": "stroke", "sandtray": "place", "calm": "grounding.count", "checkin": "checkin",
        "stories": "task.tick", "schedule": "step.done", "home": "done"}

# ------------------------------------------------------------------ payloads

_ids = itertools.count(1)


def nid(prefix):
    return f"{prefix}{next(_ids)}"


def other(values, current):
    return next(v for v in values if v != current)


# -- canvas
def canvas_prep(t, st):
    p1 = st["pages"][0]
    if t == "page.shape" and not any(not p["items"] for p in st["pages"]):
        return [("page.add", {"page": nid("pg")})]          # only an empty page turns
    return [("stroke", stroke(sid=nid("s")))] if t in ("clear", "page.save") and not p1["items"] else []


def canvas_payload(t, st):
    p1 = st["pages"][0]
    return {
        "stroke": lambda: stroke(sid=nid("s")),
        "stamp": lambda: {"page": "p1", "id": nid("st"), "stamp": "star", "x": 400, "y": 300,
                          "size": 96},
        "page.add": lambda: {"page": nid("pg")},
        "page.bg": lambda: {"page": "p1", "bg": other(("cream", "grid", "dots"), p1["bg"])},
        "page.shape": lambda: next({"page": p["id"], "shape": other(("wide", "tall"), p.get("shape", "wide"))}
                                   for p in st["pages"] if not p["items"]),
        "clear": lambda: {"page": "p1"},
        "page.save": lambda: {"page": "p1", "id": nid("sv"), "caption": "Our dragon"},
    }[t]()


# -- sandtray
FIGURE_OPS = {"move", "rotate", "scale", "flip", "lie", "z", "duplicate", "bury", "remove"}


def place():
    return {"id": nid("f"), "fig": "dragon", "x": 20, "y": 20}


def sandtray_prep(t, st):
    figures = st["tray"]["figures"]
    if t in FIGURE_OPS:
        return [("place", place()) for _ in range(2 - len(figures))]
    if t == "tray.open":
        ops = []
        saved = st["saved"]
        if not saved:
            ops.append(("tray.save", {"id": nid("tr")}))
        if not saved or saved[0]["tray"]["id"] == st["tray"]["id"]:
            ops.append(("tray.new", {"id": nid("tr")}))   # so opening the saved one shows
        return ops
    return []


def sandtray_payload(t, st):
    tray = st["tray"]
    fig = tray["figures"][0] if tray["figures"] else None
    if t == "sand":
        # Dig where there is sand, else raise: the surface changes either way.
        cx, cy = 20 + next(_ids) % 100, 30 + next(_ids) % 60
        tool = "dig" if tray["sand"][cy * 144 + cx] != "0" else "raise"
        return {"tool": tool, "r": 3, "pts": [cx, cy]}
    return {
        "place": place,
        "move": lambda: {"id": fig["id"], "x": 10 if fig["x"] != 10 else 30, "y": 10},
        "rotate": lambda: {"id": fig["id"], "rot": (fig["rot"] + 15) % 360},
        "scale": lambda: {"id": fig["id"], "scale": 1.5 if fig["scale"] != 1.5 else 1},
        "flip": lambda: {"id": fig["id"], "flip": not fig["flip"]},
        "lie": lambda: {"id": fig["id"], "lying": not fig["lying"]},
        "z": lambda: {"id": fig["id"], "to": "front"},           # the bottom one of >= 2
        "duplicate": lambda: {"src": fig["id"], "id": nid("f"), "x": 30, "y": 30},
        "bury": lambda: {"id": fig["id"], "buried": 1 if fig["buried"] != 1 else 0},
        "remove": lambda: {"id": fig["id"]},
        "theme": lambda: {"theme": other(("snow", "meadow"), tray["theme"])},
        "tray.save": lambda: {"id": nid("tr")},
        "tray.new": lambda: {"id": nid("tr")},
        "tray.open": lambda: {"id": st["saved"][0]["id"]},
    }[t]()


# -- calm
PACER = ("pacer.start", {"pattern": "balloon", "minutes": 15})
TIMER = ("timer.start", {"minutes": 30})
PATTERN = {"name": "Slow and easy", "inhale": 4, "hold": 1, "exhale": 5, "hold2": 0,
           "visual": "orb"}


def _clock_prep(clock, start, kind, t):
    if t.endswith(".pause") and not clock["running"]:
        return [start]
    if t.endswith(".resume") and clock["paused_at"] is None:
        return ([] if clock["running"] else [start]) + [(f"{kind}.pause", {})]
    if (t.endswith(".stop") or t.endswith(".reset")) and clock["started_at"] is None:
        return [start]
    return []


def calm_prep(t, st):
    g = st["grounding"]
    if t.startswith("pacer.") and t != "pacer.start":
        return _clock_prep(st["pacer"], PACER, "pacer", t)
    if t.startswith("timer.") and t != "timer.start":
        return _clock_prep(st["timer"], TIMER, "timer", t)
    if t == "pattern.delete" and not st["patterns"]:
        return [("pattern.save", {"id": nid("pat"), **PATTERN})]
    if t == "grounding.start" and g["current"] is not None:
        return [("grounding.stop", {})]
    if t in ("grounding.go", "grounding.stop") and g["current"] is None:
        return [("grounding.start", {})]
    if t == "grounding.count" and g["current"] in (None, "done"):
        return [("grounding.start", {})]
    return []


def calm_payload(t, st):
    g = st["grounding"]
    if t in ("pacer.start", "timer.start"):
        return dict((PACER if t == "pacer.start" else TIMER)[1])
    if t == "show":
        return {"card": other(("pacer", "timer", "grounding"), st["card"])}
    if t == "pattern.save":
        return {"id": nid("pat"), **PATTERN}
    if t == "pattern.delete":
        return {"id": next(iter(st["patterns"]))}
    if t == "grounding.order":
        return {"order": list(reversed(g["order"])), "skipped": []}
    if t == "grounding.go":
        return {"to": other([s for s in g["order"] if s not in g["skipped"]], g["current"])}
    if t == "grounding.count":
        sense = g["current"]
        return {"sense": sense, "n": 1 if g["counts"][sense] != 1 else 0}
    return {}      # pause, resume, stop, reset, grounding.start / .stop


# -- checkin
def checkin_prep(t, st):
    if t == "checkin.delete" and not st["entries"]:
        return [("checkin", {"id": nid("c"), "value": 4, "moment": "any"})]
    if t == "ask.close" and st["ask"] is None:
        return [("ask", {"id": nid("q"), "moment": "end"})]
    return []


def checkin_payload(t, st):
    return {
        "checkin": lambda: {"id": nid("c"), "value": 3, "moment": "any"},
        "checkin.delete": lambda: {"id": st["entries"][0]["id"]},
        "ask": lambda: {"id": nid("q"), "moment": "start"},
        "ask.close": lambda: {},
    }[t]()


# -- stories
STORY = "worried-school"      # a ready story, 7 pages
TASK = "morning"              # a ready checklist, 8 steps
OWN_STORY_OPS = {"story.delete", "story.title", "story.lang", "page.text", "page.pics", "page.add",
                 "page.remove", "page.move"}


def stories_prep(t, st):
    view = st["view"]
    blank = not any(st["progress"][TASK]["done"]) and not any(st["progress"][TASK]["prompts"])
    if t == "open" and view != "shelf":
        return [("close", {})]
    if t == "page" and view != "story":
        return [("open", {"story": STORY})]
    if t == "close" and view == "shelf":
        return [("open", {"story": STORY})]
    if t == "task.open" and view == "task" and st["task"] == TASK:
        return [("close", {})]
    if t == "task.reset" and blank:
        return [("task.tick", {"task": TASK, "step": 0, "done": True})]
    if t in OWN_STORY_OPS and not st["stories"]:
        return [("story.copy", {"id": nid("mine"), "from": "friend"})]    # 6 pages
    if t in ("page.remove", "page.move") and len(st["stories"][own_story(st)]["pages"]) < 2:
        return [("page.add", {"id": own_story(st), "page": 0, "pics": ["owl"], "text": "More."})]
    return []


def own_story(st):
    """The room's own story with the most pages (None if there is none)."""
    return max(st["stories"], key=lambda k: len(st["stories"][k]["pages"]), default=None)


def stories_payload(t, st):
    own_id = own_story(st)
    own = st["stories"].get(own_id)
    progress = st["progress"][TASK]
    return {
        "open": lambda: {"story": STORY, "page": 0},
        "page": lambda: {"page": 1 if st["open"]["page"] != 1 else 2},
        "close": lambda: {},
        "task.open": lambda: {"task": TASK},
        "task.tick": lambda: {"task": TASK, "step": 2, "done": not progress["done"][2]},
        "task.prompt": lambda: {"task": TASK, "step": 2,
                                "level": other(("verbal", "model"), progress["prompts"][2])},
        "task.reset": lambda: {"task": TASK},
        "story.copy": lambda: {"id": nid("mine"), "from": "friend"},
        "story.create": lambda: {"id": nid("mine"), "title": "My day"},
        "story.delete": lambda: {"id": own_id},
        "story.title": lambda: {"id": own_id, "title": other(("Title A", "Title B"), own["title"])},
        "story.lang": lambda: {"id": own_id, "lang": other(("en", "es"), own.get("lang", "en"))},
        "page.text": lambda: {"id": own_id, "page": 0,
                              "text": other(("Hello.", "Hi there."), own["pages"][0]["text"])},
        "page.pics": lambda: {"id": own_id, "page": 0,
                              "pics": other((["owl"], ["book"]), own["pages"][0]["pics"])},
        "page.add": lambda: {"id": own_id, "page": 0, "pics": ["owl"], "text": "A new page."},
        "page.remove": lambda: {"id": own_id, "page": 0},
        "page.move": lambda: {"id": own_id, "from": 0, "to": 1},
    }[t]()


# -- schedule
def step(secs=0, pos=0):
    return {"id": nid("st"), "pos": pos, "pic": "book", "text": "Read", "secs": secs}


def schedule_prep(t, st):
    steps = st["steps"]
    ops = []

    def at_least(n):
        ops.extend(("step.add", step()) for _ in range(n - len(steps)))

    if t in ("step.remove", "step.move"):
        at_least(2)
    elif t in ("step.edit", "step.done"):
        at_least(1)
    elif t in ("timer.start", "timer.stop"):
        timed = [s for s in steps if s["secs"] and not s["done"]]
        if t == "timer.start" and not timed:
            ops.append(("step.add", step(secs=60)))
        if t == "timer.stop" and st["timer"] is None:
            if timed:
                sid = timed[0]["id"]
            else:
                add = step(secs=60)
                sid = add["id"]
                ops.append(("step.add", add))
            ops.append(("timer.start", {"step": sid}))
    elif t == "reward.pick":
        if not [p for p in st["rewards"] if p != st["reward"]]:
            ops.append(("rewards", {"pics": ["balloon", "kite", "star"]}))
        if not steps:
            add = step()
            ops += [("step.add", add), ("step.done", {"id": add["id"], "done": True})]
        ops += [("step.done", {"id": s["id"], "done": True}) for s in steps if not s["done"]]
    elif t == "reset" and not (any(s["done"] for s in steps) or st["timer"] or st["reward"]):
        if steps:
            ops.append(("step.done", {"id": steps[0]["id"], "done": True}))
        else:
            add = step()
            ops += [("step.add", add), ("step.done", {"id": add["id"], "done": True})]
    return ops


def schedule_payload(t, st):
    steps = st["steps"]
    first = steps[0] if steps else None
    return {
        "layout": lambda: {"layout": other(("list", "first-then"), st["layout"])},
        "step.add": lambda: step(),
        "step.remove": lambda: {"id": steps[-1]["id"]},
        "step.edit": lambda: {"id": first["id"], "pic": first["pic"], "secs": first["secs"],
                              "text": other(("Wash hands", "Tidy up"), first["text"])},
        "step.move": lambda: {"id": first["id"], "to": 1},
        "step.done": lambda: {"id": first["id"], "done": not first["done"]},
        "timer.start": lambda: {"step": next(s["id"] for s in steps
                                             if s["secs"] and not s["done"])},
        "timer.stop": lambda: {},
        "rewards": lambda: {"pics": other((["balloon", "kite"], ["star"]), st["rewards"])},
        "reward.pick": lambda: {"pic": other(st["rewards"], st["reward"])},
        "reset": lambda: {},
    }[t]()


# -- home
def home_pack():
    return {"id": nid("pk"), "lang": "en", "items": [{"id": "i0", **kinds.checkin_item(
        "How do you feel?", [{"value": v, "pic": f"feel-{v}", "color": "#43a047", "word": "fine"}
                             for v in range(1, 6)])}]}


def home_prep(t, st):
    return [("pack", home_pack())] if t == "done" and st["pack"] is None else []


def home_payload(t, st):
    if t == "pack":
        return home_pack()
    return {"pack": st["pack"]["id"], "visit": "visit0001", "item": "i0", "what": "checkin",
            "value": 3, "when": int(time.time() * 1000)}


PREP = {"canvas": canvas_prep, "sandtray": sandtray_prep, "calm": calm_prep,
        "checkin": checkin_prep, "stories": stories_prep, "schedule": schedule_prep,
        "home": home_prep}
PAYLOAD = {"canvas": canvas_payload, "sandtray": sandtray_payload, "calm": calm_payload,
           "checkin": checkin_payload, "stories": stories_payload, "schedule": schedule_payload,
           "home": home_payload}


# ------------------------------------------------------------------ the driver

class Matrix:
    def __init__(self, room):
        self.room = room
        self.users = {role: room.user(role) for role in ROLES}
        self.therapist = self.users["therapist"]
        self.snap = None            # the latest snapshot, while nothing was sent since
        self.cases = 0

    def snapshot(self):
        if self.snap is None:
            self.snap = self.room.snapshot()
        return self.snap

    def emit(self, role, event, msg):
        """Send one op/history event; a rate-limit refusal is resent (same op_id)."""
        self.snap = None
        user = self.users[role]
        while True:
            ack = user.call(event, msg)
            if ack.get("code") != E_RATE:
                return ack
            time.sleep(0.06)     # the allowance refills at 20 ops/s (RATE1)

    def op(self, role, act, t, d):
        return self.emit(role, "op", {"op_id": new_id("op-"), "a": act, "t": t, "d": d})

    def control(self, changes):
        self.snap = None
        msg = {"op_id": new_id("c-"), "action": "settings", "changes": changes}
        deadline = time.monotonic() + 10
        while True:
            ack = self.therapist.call("control", msg)
            # The therapist's ops and controls share one rate allowance (RATE1), and
            # this test sends many: wait and resend the same op_id (applied once).
            if ack.get("code") != E_RATE or time.monotonic() > deadline:
                break
            time.sleep(0.06)
        assert ack["ok"], (changes, ack)

    def prepare(self, act, t):
        """The therapist sets up what op `t` needs; returns the snapshot after it."""
        for pt, pd in PREP[act](t, self.snapshot()["activities"][act]):
            ack = self.op("therapist", act, pt, pd)
            assert ack["ok"], ("preparing", act, t, pt, pd, ack)
        return self.snapshot()

    def do(self, role, act, t):
        """`role` sends op `t` (prepared, valid); it must be accepted."""
        before = self.prepare(act, t)
        ack = self.op(role, act, t, PAYLOAD[act](t, before["activities"][act]))
        assert ack["ok"], (role, act, t, ack)

    def history(self, role, act, action):
        ack = self.emit(role, HISTORY, {"op_id": new_id(action + "-"), "a": act, "action": action})
        assert ack["ok"], (role, act, action, ack)

    def seed(self):
        """Everybody does two things of their own in every activity they may, and
        undoes the second where they may undo: both their undo and their redo stacks
        hold something (UNDO1), so a refused undo or redo is never "nothing to do"."""
        for act in ACTIVITIES:
            for role in ROLES:
                if role == "therapist" or SEED[act] in GUEST_MAY[act][role]:
                    self.do(role, act, SEED[act])
                    self.do(role, act, SEED[act])
                if role == "therapist" or HISTORY in GUEST_MAY[act][role]:
                    self.history(role, act, "undo")

    def case(self, block, role, act, t):
        want = expected(block, role, act, t)
        label = f"[{block}] {role} {act}.{t}"
        user = self.users[role]
        if t in HISTORY_ACTIONS:
            if want is None:
                self.do(role, act, SEED[act])       # their own latest op, to undo
                if t == "redo":
                    self.history(role, act, "undo")
            before = self.snapshot()
            op_id = new_id(t + "-")
            msg, event = {"op_id": op_id, "a": act, "action": t}, HISTORY
        else:
            before = self.prepare(act, t)
            op_id = new_id("op-")
            msg = {"op_id": op_id, "a": act, "t": t, "d": PAYLOAD[act](t, before["activities"][act])}
            event = "op"
        errors = len(user.received("error"))
        ack = self.emit(role, event, msg)
        after = self.snapshot()
        self.cases += 1
        others = {a: s for a, s in after["activities"].items() if a != act}
        assert others == {a: s for a, s in before["activities"].items() if a != act}, label
        if want is None:
            assert ack.get("ok") is True, (label, ack)
            assert after["seq"] == ack["seq"] == before["seq"] + 1, (label, ack, before["seq"])
            assert after["activities"][act] != before["activities"][act], (label, "no change")
            return
        assert ack.get("ok") is False, (label, "should be refused", ack)
        got = ack.get("code")
        assert got == want, (label, ack)
        assert after["seq"] == before["seq"], (label, "seq moved")
        assert after["activities"] == before["activities"], (label, "state changed")
        wait_for(lambda: [e for e in user.received("error")[errors:]
                          if e["code"] == want and e.get("op_id") in (op_id, None)
                          and e["event"] == event],
                 what=f"error event for {label}")

    def block_settings(self, block, act=None):
        """The settings change of `block` (for one activity in the perm-off blocks)."""
        if block.endswith("-perm-off"):
            role = block.split("-")[0]
            return {"perms": {role: {a: a != act for a in ACTIVITIES}}}
        if block.endswith("-switch-off"):
            return {MASTER[block.split("-")[0]]: False}
        return {"freeze": {"freeze": True}, "private": {"private": True}}.get(block)


@pytest.mark.parametrize("block", BLOCKS)
def test_PERM1_every_op_x_role_x_setting(room, block):
    m = Matrix(room)
    m.control({"child_may_draw": True, "parent_may_play": True})
    m.seed()
    change = m.block_settings(block)
    if change and not block.endswith("-perm-off"):
        m.control(change)
    for act in ACTIVITIES:
        if block.endswith("-perm-off"):
            m.control(m.block_settings(block, act))
        for t in CLIENT_OPS[act] + HISTORY_ACTIONS:
            for role in ROLES:
                m.case(block, role, act, t)
    per_role = sum(len(ops) + len(HISTORY_ACTIONS) for ops in CLIENT_OPS.values())
    assert m.cases == per_role * len(ROLES) == 86 * 3


def test_PERM1_the_matrix_names_every_client_op_of_every_activity():
    """Coverage, not expectations: a new op type or activity must join the tables."""
    from activities.registry import build_registry
    registry = build_registry()
    assert set(registry.names()) == set(CLIENT_OPS) == set(GUEST_MAY)
    for name in registry.names():
        ops = registry.get(name).OPS
        assert sorted(CLIENT_OPS[name]) == sorted(t for t, s in ops.items() if s.client), name


@pytest.mark.parametrize("event", ["op", HISTORY])
def test_CTL5_a_parents_op_in_private_time_is_refused_with_private_time(room, event):
    m = Matrix(room)
    m.control({"parent_may_play": True})
    m.do("parent", "canvas", "stroke")
    m.control({"private": True})
    before = m.snapshot()
    msg = {"op_id": new_id("p-"), "a": "canvas"}
    msg.update({"t": "stroke", "d": stroke(sid=nid("s"))} if event == "op" else {"action": "undo"})
    ack = m.users["parent"].call(event, msg)
    after = m.snapshot()
    assert (after["seq"], after["activities"]) == (before["seq"], before["activities"])
    assert (ack["ok"], ack["code"]) == (False, E_PRIVATE), ack
