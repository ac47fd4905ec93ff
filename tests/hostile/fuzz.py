"""A seeded, deterministic generator of hostile Socket.IO traffic for Playroom.

`Fuzzer(seed, role)` yields `Event`s: every client event (sync, op, history, eph,
settings, control, clock), unknown and reserved event names, and raw frames that are
not Socket.IO at all. Ops and ephemeral signals start from a valid sample of every
op type and ephemeral kind of every activity (`SAMPLES`, `EPH_SAMPLES`, checked
against the registry by test_fuzz.py so a new op type cannot be forgotten) and are
then mutated: wrong types, sizes at and past the limits, deep nesting, long strings,
lone surrogates, huge integers, NaN/Infinity, extra and missing fields, extra
arguments, binary attachments, no ack id. About a third stay valid, so the room's
state keeps changing (and the abuse limit of RATE2 is rarely reached).

The same seed gives the same events in the same order (random.Random(seed) is the
only source of randomness; ids come from a counter).
"""
import random
from dataclasses import dataclass, field

from activities.registry import build_registry
from rooms.assets import pictures
from activities.stories import library as story_library

from .rawwire import Raw, event_packet

RESERVED_NAMES = ("connect", "disconnect", "message", "json", "*", "connect_error",
                  "error", "newListener", "ping", "pong")


@dataclass
class Event:
    """One thing a hostile client sends.

    kind "emit": a Socket.IO event `args` (name first), with an ack id if `ack`,
    and `binary` attachments; kind "frame": `frame` sent as one raw WebSocket frame.
    `budget` names the rate limit it counts against (op / eph / sync / other), for
    the sender's pacing. `may_close`: the server may end the connection over it
    (not Socket.IO, an Engine.IO close, a packet over the 1 MiB limit); `ends`: the
    connection is no use afterwards (we left the namespace / closed it ourselves)."""
    kind: str
    note: str
    args: list = field(default_factory=list)
    ack: bool = True
    binary: tuple = ()
    frame: object = None
    budget: str = "other"
    may_close: bool = False
    ends: bool = False

    def describe(self, limit=300):
        """What was sent, short enough for a failure message."""
        if self.kind == "frame":
            body = repr(self.frame[:limit]) if self.frame is not None else "None"
            return f"[{self.note}] frame {body}"
        text = event_packet(self.args, "N" if self.ack else None, len(self.binary))
        more = f" +{len(self.binary)} binary" if self.binary else ""
        cut = "..." if len(text) > limit else ""
        return f"[{self.note}] 42{text[1:limit]}{cut}{more} ({len(text)} chars)"


# ------------------------------------------------------------------ valid samples

class Ids:
    """Fresh ids and a few remembered ones per activity, so ops often name things
    that exist (a move of a placed figure) and sometimes things that do not."""

    def __init__(self, rng, prefix):
        self.rng = rng
        self.prefix = prefix
        self.n = 0
        self.pool = {}

    def fresh(self, kind):
        self.n += 1
        new = f"{self.prefix}{kind[:2]}{self.n}"
        pool = self.pool.setdefault(kind, [])
        pool.append(new)
        del pool[:-8]
        return new

    def some(self, kind):
        pool = self.pool.get(kind)
        if not pool or self.rng.random() < 0.15:
            return self.fresh(kind)
        return self.rng.choice(pool)


def _pts(rng, n, w, h, stride=3):
    out = []
    for _ in range(n):
        out += [rng.randint(0, w), rng.randint(0, h)]
        if stride == 3:
            out.append(round(rng.random(), 2))
    return out


STORY_IDS = list(story_library.stories())
TASK_IDS = list(story_library.tasks())
PICS = list(pictures.CATALOG)
FIGS = sorted(pictures.FIGURES)


def _canvas(r, ids):
    page = lambda: r.choice(["p1", "p1", "p1", ids.some("page")])  # noqa: E731
    return {
        "stroke": lambda: {"page": page(), "id": ids.fresh("stroke"), "tool": r.choice(["pen", "marker", "highlighter", "eraser"]),
                           "color": r.choice(["#000000", "#e53935", "#43a047"]), "size": r.randint(1, 80),
                           "pts": _pts(r, r.randint(1, 8), 1600, 1000)},
        "stamp": lambda: {"page": page(), "id": ids.fresh("stamp"), "stamp": r.choice(pictures.STAMPS),
                          "x": r.randint(0, 1600), "y": r.randint(0, 1000), "size": r.randint(24, 480),
                          "rot": r.randint(-180, 180)},
        "page.add": lambda: {"page": ids.fresh("page"), **({"shape": r.choice(["wide", "tall"])}
                                                          if r.random() < 0.5 else {})},
        "page.shape": lambda: {"page": page(), "shape": r.choice(["wide", "tall"])},
        "page.bg": lambda: {"page": page(), "bg": r.choice(["white", "cream", "grid", "dots", "night"])},
        "clear": lambda: {"page": page()},
        "page.save": lambda: {"page": page(), "id": ids.fresh("saved"),
                              **({"caption": r.choice(["Our dragon", "", "x" * 81])} if r.random() < 0.7 else {})},
    }


def _sandtray(r, ids):
    fig = lambda: ids.some("fig")  # noqa: E731
    return {
        "place": lambda: {"id": ids.fresh("fig"), "fig": r.choice(FIGS), "x": r.uniform(0, 72), "y": r.uniform(0, 57),
                          "rot": 15 * r.randint(0, 23), "scale": r.choice([0.4, 1, 3]), "flip": r.random() < 0.5},
        "move": lambda: {"id": fig(), "x": r.randint(0, 72), "y": r.randint(0, 57)},
        "rotate": lambda: {"id": fig(), "rot": 15 * r.randint(0, 23)},
        "scale": lambda: {"id": fig(), "scale": r.choice([0.4, 1.25, 3])},
        "flip": lambda: {"id": fig(), "flip": r.random() < 0.5},
        "lie": lambda: {"id": fig(), "lying": r.random() < 0.5},
        "z": lambda: {"id": fig(), "to": r.choice(["front", "back"])},
        "duplicate": lambda: {"src": fig(), "id": ids.fresh("fig"), "x": 10, "y": 10},
        "bury": lambda: {"id": fig(), "buried": r.choice([0, 0.5, 1])},
        "remove": lambda: {"id": fig()},
        "sand": lambda: {"tool": r.choice(["dig", "raise", "smooth"]), "r": r.randint(1, 12),
                         "pts": _pts(r, r.randint(1, 6), 143, 113, stride=2)},
        "theme": lambda: {"theme": r.choice(["beach", "pale", "desert", "earth", "meadow", "snow"])},
        "tray.save": lambda: {"id": ids.some("tray")},
        "tray.new": lambda: {"id": ids.fresh("tray")},
        "tray.open": lambda: {"id": ids.some("tray")},
    }


def _calm(r, ids):
    nothing = lambda: {}  # noqa: E731
    senses = ["see", "touch", "hear", "smell", "taste"]
    return {
        "show": lambda: {"card": r.choice(["pacer", "timer", "grounding"])},
        "pacer.start": lambda: {"pattern": r.choice(["balloon", "box4", ids.some("pattern")]), "rounds": r.randint(1, 30)},
        "pacer.pause": nothing, "pacer.resume": nothing, "pacer.stop": nothing,
        "pattern.save": lambda: {"id": ids.fresh("pattern"), "name": "Slow wave", "inhale": 4, "hold": 1,
                                 "exhale": 5, "hold2": 0, "visual": "orb"},
        "pattern.delete": lambda: {"id": ids.some("pattern")},
        "timer.start": lambda: {"minutes": r.randint(1, 60)},
        "timer.pause": nothing, "timer.resume": nothing, "timer.reset": nothing,
        "grounding.start": nothing,
        "grounding.order": lambda: {"order": r.sample(senses, 5), "skipped": r.sample(senses, r.randint(0, 2))},
        "grounding.go": lambda: {"to": r.choice(senses + ["done"])},
        "grounding.count": lambda: {"sense": "see", "n": r.randint(0, 5)},
        "grounding.stop": nothing,
    }


def _checkin(r, ids):
    return {
        "checkin": lambda: {"id": ids.fresh("check"), "value": r.randint(1, 5), "moment": r.choice(["start", "end", "any"])},
        "checkin.delete": lambda: {"id": ids.some("check")},
        "ask": lambda: {"id": ids.fresh("ask"), "moment": r.choice(["start", "end", "any"])},
        "ask.close": lambda: {},
    }


def _stories(r, ids):
    story = lambda: ids.some("story")  # noqa: E731
    return {
        "open": lambda: {"story": r.choice([story(), r.choice(STORY_IDS)]), "page": r.randint(0, 2)},
        "page": lambda: {"page": r.randint(0, 3)},
        "close": lambda: {},
        "task.open": lambda: {"task": r.choice(TASK_IDS)},
        "task.tick": lambda: {"task": r.choice(TASK_IDS), "step": r.randint(0, 5), "done": r.random() < 0.5},
        "task.prompt": lambda: {"task": r.choice(TASK_IDS), "step": r.randint(0, 5),
                                "level": r.choice([None, "verbal", "model"])},
        "task.reset": lambda: {"task": r.choice(TASK_IDS)},
        "story.copy": lambda: {"id": ids.fresh("story"), "from": r.choice(STORY_IDS)},
        "story.create": lambda: {"id": ids.fresh("story"), "title": "Going to the park"},
        "story.delete": lambda: {"id": story()},
        "story.title": lambda: {"id": story(), "title": "A new title"},
        "story.lang": lambda: {"id": story(), "lang": r.choice(["en", "es"])},
        "page.text": lambda: {"id": story(), "page": r.randint(0, 2), "text": "We wait for our turn."},
        "page.pics": lambda: {"id": story(), "page": r.randint(0, 2), "pics": r.sample(PICS, r.randint(1, 3))},
        "page.add": lambda: {"id": story(), "page": r.randint(0, 2), "pics": [r.choice(PICS)], "text": "Then we go home."},
        "page.remove": lambda: {"id": story(), "page": r.randint(0, 2)},
        "page.move": lambda: {"id": story(), "from": r.randint(0, 2), "to": r.randint(0, 2)},
    }


def _schedule(r, ids):
    step = lambda: ids.some("step")  # noqa: E731
    return {
        "layout": lambda: {"layout": r.choice(["first-then", "list"])},
        "step.add": lambda: {"id": ids.fresh("step"), "pos": 0, "pic": r.choice(PICS), "text": "Wash hands",
                             "secs": r.choice([0, 10, 60])},
        "step.remove": lambda: {"id": step()},
        "step.edit": lambda: {"id": step(), "pic": r.choice(PICS), "text": "Brush teeth", "secs": 0},
        "step.move": lambda: {"id": step(), "to": r.randint(0, 2)},
        "step.done": lambda: {"id": step(), "done": r.random() < 0.5},
        "timer.start": lambda: {"step": step()},
        "timer.stop": lambda: {},
        "rewards": lambda: {"pics": r.sample(PICS, r.randint(0, 4))},
        "reward.pick": lambda: {"pic": r.choice([None, r.choice(PICS)])},
        "reset": lambda: {},
    }


def _home(r, ids):
    """A home pack (one item of each kind, ids i0-i3) and what a family does with it;
    the pack id is fixed so a `done` often names the current pack."""
    from activities.contract import home as kinds
    items = [
        {"id": "i0", **kinds.story_item("At the park", "en", [{"text": "We go to the park.", "pics": [r.choice(PICS)]},
                                                              {"text": "We swing.", "pics": []}])},
        {"id": "i1", **kinds.steps_item("Morning", [{"text": "Wash hands", "pic": r.choice(PICS)},
                                                    {"text": "", "pic": r.choice(PICS)}])},
        {"id": "i2", **kinds.breathe_item("Balloon", "balloon", [4, 0, 6, 0], 5)},
        {"id": "i3", **kinds.checkin_item("How do you feel?", [
            {"value": v, "pic": f"feel-{v}", "color": "#43a047", "word": "fine"} for v in range(1, 6)])},
    ]
    when = lambda: 1_800_000_000_000 + r.randint(0, 10 ** 9)  # noqa: E731
    base = lambda item, what: {"pack": "p1", "visit": r.choice(["visit001", "visit002"]),  # noqa: E731
                               "item": item, "what": what, "when": when()}
    done = [lambda: {**base("i1", "step"), "step": r.randint(0, 2), "done": r.random() < 0.7},
            lambda: {**base("i0", "read"), "page": r.randint(0, 2)},
            lambda: {**base("i2", "breathe"), "rounds": r.randint(1, 6)},
            lambda: {**base("i3", "checkin"), "value": r.randint(1, 5)}]
    return {
        "pack": lambda: {"id": "p1", "lang": "en", "items": r.sample(items, r.randint(1, 4))},
        "done": lambda: r.choice(done)(),
    }


SAMPLES = {"canvas": _canvas, "sandtray": _sandtray, "calm": _calm, "checkin": _checkin,
           "stories": _stories, "schedule": _schedule, "home": _home}


def _eph_samples(r, ids):
    return {
        "canvas": {
            "stroke": lambda: {"id": ids.some("stroke"), "page": "p1", "tool": "pen", "color": "#000000",
                               "size": 8, "from": r.randint(0, 100), "pts": _pts(r, r.randint(1, 10), 1600, 1000)},
            "cursor": lambda: {"page": "p1", "x": r.randint(0, 1600), "y": r.randint(0, 1000)},
        },
        "sandtray": {
            "drag": lambda: {"id": ids.some("fig"), "x": r.randint(0, 72), "y": r.randint(0, 57),
                             **({"fig": r.choice(FIGS)} if r.random() < 0.5 else {}),
                             **({"end": True} if r.random() < 0.2 else {})},
            "cursor": lambda: {"x": r.randint(0, 72), "y": r.randint(0, 57)},
        },
    }


EPH_SAMPLES = _eph_samples


# ------------------------------------------------------------------ hostile values

def _deep(depth, leaf="0"):
    return Raw("[" * depth + leaf + "]" * depth)


def _deep_dict(depth):
    return Raw('{"a":' * depth + "1" + "}" * depth)


class Values:
    """Hostile replacements for any JSON value."""

    def __init__(self, rng):
        self.rng = rng

    def small(self):
        """Cheap wrong values: types, edges, encodings."""
        r = self.rng
        return r.choice([
            None, True, False, 0, -1, 1, 0.5, -0.0, 33, 1e308, -1e308, 2 ** 31, 2 ** 63, -(2 ** 63) - 1,
            10 ** r.randint(20, 120), -(10 ** r.randint(20, 300)),
            Raw("NaN"), Raw("Infinity"), Raw("-Infinity"), Raw("1e999"), Raw("-1e999"),
            Raw("1" * r.randint(100, 4000)),                 # a 100+ digit integer
            "", " ", "x" * 32, "x" * 33, "y" * 64, "y" * 65, "\ud800", "a\udfffb", "\x00", "\u202e",
            "\n", "#zzzzzz", "p1", "canvas", "room", "undo", "__proto__", "constructor",
            "😀" * 20, "<script>alert(1)</script>", "../../etc/passwd",
            [], {}, [None], [1, 2, 3], {"a": 1}, {"_placeholder": True, "num": 0},
            {"": None}, [[[]]], {"op_id": "x"},
        ])

    def big(self):
        """Expensive ones: long strings, long lists, deep nesting, many keys."""
        r = self.rng
        n = r.choice([300, 1000, 20_000, 100_000, 300_000])
        make = r.choice([
            lambda: "z" * n,
            lambda: "\ud83d" * min(n, 20_000),              # lone surrogates, many
            lambda: [0.125] * min(n, 30_000),
            lambda: [0] * min(n, 100_000),
            lambda: {f"k{i}": i for i in range(min(n, 5000))},
            lambda: _deep(r.choice([50, 500, 900, 950, 990, 1000, 1100, 5000, 20_000])),
            lambda: _deep_dict(r.choice([100, 950, 1000, 3000])),
            lambda: _deep(r.choice([800, 950]), leaf='{"a":[1,2]}'),
        ])
        return make()

    def any(self):
        return self.big() if self.rng.random() < 0.08 else self.small()


def mutate(rng, values, obj, depth=0):
    """A copy of the JSON-able `obj` with one hostile change somewhere inside:
    a value replaced, a field added or dropped, a list grown or emptied."""
    if isinstance(obj, dict) and obj and depth < 4 and rng.random() < 0.7:
        key = rng.choice(sorted(obj))
        out = dict(obj)
        roll = rng.random()
        if roll < 0.12:
            del out[key]
        elif roll < 0.24:
            out[rng.choice(["extra", "at", "by", "seq", "room", "role", "__proto__", "a\ud800"])] = values.small()
        else:
            out[key] = mutate(rng, values, obj[key], depth + 1)
        return out
    if isinstance(obj, list) and obj and depth < 4 and rng.random() < 0.5:
        out = list(obj)
        roll = rng.random()
        if roll < 0.2:
            out.append(values.small())
        elif roll < 0.3:
            out = out * rng.choice([2, 50, 600])
        else:
            i = rng.randrange(len(out))
            out[i] = mutate(rng, values, out[i], depth + 1)
        return out
    return values.any()


# ------------------------------------------------------------------ the generator

class Fuzzer:
    """Events for one hostile client of `role` ("therapist", "child", "parent").
    `pids`: participant ids of the room (history targets, admit); `tag` makes op
    ids unique per client."""

    def __init__(self, seed, role, tag, pids=(), registry=None):
        self.rng = random.Random(seed)
        self.role = role
        self.tag = tag
        self.pids = list(pids) or ["nobody"]
        self.registry = registry or build_registry()
        self.values = Values(self.rng)
        self.ids = Ids(self.rng, tag)
        self.ops = {a: make(self.rng, self.ids) for a, make in SAMPLES.items()}
        self.eph = EPH_SAMPLES(self.rng, self.ids)
        self.n = 0
        self.seq_hint = 0            # the room's seq as last seen (for sync since)
        kinds = [(self.op, 40), (self.eph_event, 22), (self.history, 6), (self.clock, 5),
                 (self.sync, 2), (self.settings, 4), (self.control, 5), (self.names, 5),
                 (self.extra_args, 3), (self.frame, 3), (self.binary, 3)]
        self._kinds = [k for k, _ in kinds]
        self._weights = [w for _, w in kinds]

    def op_id(self):
        self.n += 1
        return f"{self.tag}-{self.n}"

    def __iter__(self):
        return self

    def __next__(self):
        return self.rng.choices(self._kinds, self._weights)[0]()

    # -- valid material
    def valid_op(self):
        a = self.rng.choice(sorted(self.ops))
        t = self.rng.choice(sorted(self.ops[a]))
        return {"op_id": self.op_id(), "a": a, "t": t, "d": self.ops[a][t]()}

    def valid_eph(self):
        a = self.rng.choice(sorted(self.eph))
        k = self.rng.choice(sorted(self.eph[a]))
        return {"a": a, "k": k, **self.eph[a][k]()}

    def _maybe(self, msg, valid_share):
        """`msg` as is (valid_share of the time) or mutated."""
        if self.rng.random() < valid_share:
            return msg, "valid"
        return mutate(self.rng, self.values, msg), "mutated"

    def _emit(self, name, payload, note, budget, ack=None):
        ack = self.rng.random() < 0.9 if ack is None else ack
        return Event("emit", f"{name} {note}", args=[name, payload], ack=ack, budget=budget)

    # -- event kinds
    def op(self):
        msg = self.valid_op()
        what = f"{msg['a']}/{msg['t']}"
        r = self.rng.random()
        if r < 0.06:
            msg = {**msg, "t": self.rng.choice(["items.remove", "restore", "sand.put", "story.put",
                                                 "checkin.put", "presence", "session"])}
            return self._emit("op", msg, f"server-only op {msg['t']}", "op")
        if r < 0.1:
            msg = {**msg, "a": self.rng.choice(["room", "nope", "", 1, None, ["canvas"]])}
            return self._emit("op", msg, "bad activity", "op")
        if r < 0.14:
            note, msg = self.at_limits()
            return self._emit("op", msg, note, "op")
        if r < 0.2:
            # The envelope fields every op has, set to what broke servers before.
            key = self.rng.choice(["op_id", "op_id", "a", "t", "d"])
            msg[key] = self.rng.choice(["\ud800", "a\udfffb", "\udc00" * 64, "", 10 ** 100, -1,
                                        None, [], {}, ["x"], {"op_id": "x"}, "x" * 65, Raw("NaN")])
            return self._emit("op", msg, f"nasty {key}", "op")
        msg, how = self._maybe(msg, 0.45)
        return self._emit("op", msg, f"{how} {what}", "op")

    def at_limits(self):
        """An op just at or just past one of its documented bounds."""
        r = self.rng
        past = r.random() < 0.5
        over = 1 if past else 0
        roll = r.randrange(7)
        op = {"op_id": self.op_id(), "a": "canvas", "t": "stroke", "d": self.ops["canvas"]["stroke"]()}
        if roll == 0:
            op["d"]["pts"] = _pts(r, 1500 + over, 1600, 1000)
            return f"stroke of {1500 + over} points", op
        if roll == 1:
            op["d"]["size"] = r.choice([80 + over * 1e-9, 1 - over * 1e-9])
            return f"stroke size {op['d']['size']}", op
        if roll == 2:
            op["op_id"] = "o" * (64 + over)
            return f"op_id of {64 + over} chars", op
        if roll == 3:
            op["d"]["id"] = "i" * (32 + over)
            return f"id of {32 + over} chars", op
        if roll == 4:
            op.update(a="stories", t="page.text", d={"id": self.ids.some("story"), "page": 0,
                                                      "text": "t" * (240 + over)})
            return f"story text of {240 + over} chars", op
        if roll == 5:
            op.update(a="stories", t="story.create", d={"id": self.ids.fresh("story"), "title": "T" * (60 + over)})
            return f"story title of {60 + over} chars", op
        # The whole op around the 256 KiB limit (RATE1's too_large): a long text field.
        op.update(a="schedule", t="step.edit", d={"id": "s1", "pic": "cat", "secs": 0,
                                                   "text": "x" * (256 * 1024 - 200 + 400 * over)})
        return f"op of about 256 KiB {'+' if past else '-'}", op

    def eph_event(self):
        msg, how = self._maybe(self.valid_eph(), 0.5)
        return self._emit("eph", msg, how, "eph", ack=self.rng.random() < 0.5)

    def history(self):
        msg = {"op_id": self.op_id(), "a": self.rng.choice(sorted(self.ops)),
               "action": self.rng.choice(["undo", "redo"])}
        if self.rng.random() < 0.3:
            msg["target"] = self.rng.choice(self.pids)
        msg, how = self._maybe(msg, 0.6)
        return self._emit("history", msg, how, "op")

    def clock(self):
        payload = {} if self.rng.random() < 0.6 else self.values.any()
        return self._emit("clock", payload, "", "eph")

    def sync(self):
        msg = {"since": self.rng.choice([-1, 0, self.seq_hint, self.seq_hint + 5])}
        if self.rng.random() < 0.3:
            msg["pack"] = 1
        msg, how = self._maybe(msg, 0.5)
        return self._emit("sync", msg, how, "sync")

    def _changes(self):
        r = self.rng
        # Harmless flags mostly; the runner puts the room back after every batch.
        flag = r.choice(["child_may_draw", "parent_may_play", "follow", "freeze", "private",
                         "lock", "auto_admit"])
        changes = {flag: r.random() < 0.5}
        if r.random() < 0.3:
            changes["perms"] = {r.choice(["child", "parent"]): {r.choice(sorted(self.ops) + ["switch"]): r.random() < 0.5}}
        return changes

    def settings(self):
        msg, how = self._maybe(self._changes(), 0.5)
        return self._emit("settings", msg, how, "other")

    def control(self):
        r = self.rng
        roll = r.random()
        if roll < 0.4:
            msg = {"op_id": self.op_id(), "action": "settings", "changes": self._changes()}
        elif roll < 0.7:
            msg = {"op_id": self.op_id(), "action": "view", "activity": r.choice(sorted(self.ops)),
                   "view": {"page": r.randint(0, 3)}}
        elif roll < 0.85:
            # admit someone (harmless) / remove someone who is not here: removing a
            # real guest is CTL4's business and would stop the run's guests.
            msg = {"op_id": self.op_id(), "action": r.choice(["admit", "remove"]),
                   "pid": r.choice(self.pids) if roll < 0.78 else f"ghost{self.n}"}
            if msg["action"] == "remove":
                msg["pid"] = f"ghost{self.n}"
        elif roll < 0.851:
            msg = {"op_id": self.op_id(), "action": "end"}
        else:
            msg = {"op_id": self.op_id(), "action": r.choice(["dance", "", None, 7, ["end"]])}
        msg, how = self._maybe(msg, 0.5)
        if how == "mutated" and isinstance(msg, dict) and msg.get("action") == "end":
            how = "mutated end"
        return self._emit("control", msg, how, "op")

    def names(self):
        """Unknown and reserved event names, and names that are not names."""
        r = self.rng
        name = r.choice([
            *RESERVED_NAMES, "Op", "op ", "ops", "state", "bye", "presence", "room", "lobby",
            "x" * r.choice([41, 1000, 100_000]), "\ud800", "", "sync\x00",
            7, None, 1.5, True, [], {}, ["op"], {"op": 1},
        ])
        payload = r.choice([{"since": -1}, self.valid_op(), self.values.small(), None])
        args = [name] if r.random() < 0.3 else [name, payload]
        return Event("emit", f"name {str(name)[:20]!r}", args=args, ack=r.random() < 0.85,
                     budget="other")

    def extra_args(self):
        """A known event with more (or fewer) arguments than it takes."""
        r = self.rng
        name = r.choice(["op", "sync", "history", "eph", "clock", "settings", "control"])
        base = self.valid_op() if name == "op" else ({"since": -1} if name == "sync" else self.values.small())
        args = [name] if r.random() < 0.25 else [name, base] + [self.values.small() for _ in range(r.randint(1, 3))]
        budget = {"op": "op", "history": "op", "control": "op", "eph": "eph", "clock": "eph",
                  "sync": "sync"}.get(name, "other")
        return Event("emit", f"{name} with {len(args) - 1} args", args=args, budget=budget)

    def binary(self):
        """Binary attachments where text belongs (op_id, a field of d, the payload)."""
        r = self.rng
        msg = self.valid_op()
        blob = r.choice([b"", b"\x00" * 16, bytes(range(256)), b"op-1", "é".encode()])
        where = r.choice(["op_id", "d", "payload", "field", "twice"])
        ph = {"_placeholder": True, "num": 0}
        if where == "payload":
            args = ["op", ph]
        elif where == "field":
            msg["d"] = {**msg["d"], "id": ph} if isinstance(msg["d"], dict) else ph
            args = ["op", msg]
        elif where == "twice":
            args = ["op", {**msg, "op_id": ph, "a": {"_placeholder": True, "num": 1}}]
            return Event("emit", "binary op_id and a", args=args, binary=(blob, blob), budget="op")
        else:
            msg[where] = ph
            args = ["op", msg]
        name = r.choice(["op", "op", "eph", "history", "sync"])
        args[0] = name
        budget = {"eph": "eph", "sync": "sync"}.get(name, "op")
        return Event("emit", f"{name} binary in {where}", args=args, binary=(blob,), budget=budget)

    def frame(self):
        """Frames that are not well-formed Socket.IO (or end the conversation)."""
        r = self.rng
        frames = [
            ("4", False), ("42", False), ("42[", False), ("42[]", False), ("42{}", False),
            ("42[1]", False), ('42["op"', False), ('42"op"', False), ("42null", False),
            ("4212345678901234567890[\"clock\",{}]", False), ("43999[]", False), ("43[]", False),
            ('451-["op",{"_placeholder":true,"num":7}]', False),
            ('451-["op",{"_placeholder":true,"num":"x"}]', False),
            ('452-["op",{"_placeholder":true,"num":0}]', False),
            ('45-1-["op",{}]', False), ('45999999999-["op",{}]', False),
            ("47[]", False), ("48", False), ("4/admin,[\"op\"]", False),
            ("40{\"v\":1}", True), ("40/other,{}", False), ("41", True), ("1", True),
            ("2", False), ("3", False), ("6", False), ("5", False), ("9", False), ("", False),
            (b"\x00\x01\x02", False), (bytes(r.randrange(256) for _ in range(64)), False),
            ("42[\"op\"," + "[" * 2000, False), ('42["sync",{"since":' + "9" * 5000 + "}]", False),
        ]
        if r.random() < 0.04:
            return Event("drop", "abrupt close (TCP dropped)", ends=True, may_close=True)
        frame, ends = r.choice(frames)
        if r.random() < 0.03:
            # One packet over the 1 MiB limit (RATE2): the server closes the connection.
            frame, ends = '42["eph",{"a":"canvas","k":"cursor","x":"' + "x" * (1024 * 1024 + 10) + '"}]', True
        return Event("frame", f"frame {str(frame[:16])!r}", frame=frame, may_close=True, ends=ends,
                     budget="other")


def every_sample(registry=None, seed=0):
    """{(activity, op type): payload} and {(activity, kind): body}: one valid sample
    of every client op and ephemeral kind, for the completeness check."""
    rng = random.Random(seed)
    ids = Ids(rng, "t")
    ops = {(a, t): make() for a, table in ((a, m(rng, ids)) for a, m in SAMPLES.items())
           for t, make in table.items()}
    eph = {(a, k): make() for a, table in EPH_SAMPLES(rng, ids).items() for k, make in table.items()}
    return ops, eph
