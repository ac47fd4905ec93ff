"""Calm corner: a breathing pacer in phase on every screen, a visual countdown timer and
a 5-4-3-2-1 grounding card.

State (plain JSON):
    {"card": "pacer" | "timer" | "grounding",          what everybody sees
     "pacer": {"pattern", "name", "visual", "timing": [inhale, hold, exhale, hold2],
               "rounds", "minutes", "total", "started_at", "paused_at", "paused_total",
               "running"},
     "patterns": {id: {"name", "timing", "visual"}},  the therapist's saved patterns
     "timer": {"minutes", "started_at", "paused_at", "paused_total", "running"},
     "grounding": {"order": [sense ...], "skipped": [sense ...], "current": sense | "done"
                   | None, "counts": {sense: n}}}

Time is the server's (CLK1): start, pause, resume and stop are stamped ops, so
`started_at`/`paused_at` are server seconds and every screen computes the phase from
them with the same pure function (`pacer_phase`, mirrored line by line in
static/canvas/calm/phase.js) at the server time it estimates through its clock offset
(`ClockEstimator`, mirrored in static/canvas/room/clock.js). Invariants: `running` is true
exactly while the pacer (timer) is started and not paused; `paused_total` is the
paused time before the current pause; `total` is the number of rounds the pacer runs.

Undo: every pacer, timer and grounding op returns the previous sub-state as its inverse
(`*.restore`). Stamped inverses are impossible (an undo is applied later, unstamped), so
undoing a pause restores the pacer as if the pause never happened, which keeps every
screen deterministic.
"""
import math

from activities.contract.protocol import E_CONFLICT, E_FULL, E_INVALID, E_NOTHING, THERAPIST

from activities.contract import text as person_text
from activities.contract import (Bound, may_play, Invalid, OpSpec, Rejected, ident, integer, internal, number, one_of,
                   require_dict, validate_op)
from activities.contract import home as home_kinds
from activities.contract.i18n import ENGLISH, N_

NAME = "calm"
TITLE = N_("Calm")
ICON = "calm-corner"

PHASES = ("inhale", "hold", "exhale", "hold2")
VISUALS = ("balloon", "orb", "box", "star", "hand", "flower")
CARDS = ("pacer", "timer", "grounding")
# Durations in seconds: a breath in or out takes 1-10 s, a hold 0-10 s (0 = no hold).
BREATH_RANGE = (1, 10)
HOLD_RANGE = (0, 10)
ROUNDS_RANGE = (1, 30)
PACER_MINUTES_RANGE = (1, 15)
TIMER_MINUTES_RANGE = (1, 60)
MAX_PATTERNS = 24
NAME_CHARS = 40

# Presets for children (and 4-7-8 for teens). `rounds` is the suggested length; the
# hand and star are traced once in five rounds (one finger or point per breath).
PRESETS = {
    "balloon": {"name": "Balloon", "timing": [4, 0, 6, 0], "visual": "balloon", "rounds": 5,
                "picture": "balloon"},
    "box4": {"name": "Box 4-4-4-4", "timing": [4, 4, 4, 4], "visual": "box", "rounds": 4,
             "picture": "calm-box"},
    "box3": {"name": "Little box 3-3-3-3", "timing": [3, 3, 3, 3], "visual": "box", "rounds": 4,
             "picture": "calm-box"},
    "flower": {"name": "Flower and candle", "timing": [4, 1, 6, 0], "visual": "flower",
               "rounds": 5, "picture": "calm-tulip"},
    "hand": {"name": "Five fingers", "timing": [3, 0, 3, 0], "visual": "hand", "rounds": 5,
             "picture": "calm-hand"},
    "star": {"name": "Star", "timing": [3, 1, 4, 0], "visual": "star", "rounds": 5,
             "picture": "star"},
    "478": {"name": "4-7-8", "timing": [4, 7, 8, 0], "visual": "orb", "rounds": 4,
            "picture": "calm-orb"},
}


def preset_names(tr=ENGLISH):
    """The presets' names in `tr`'s language (the state and PRESETS keep the source's)."""
    return {
        "balloon": tr.pgettext("breathing pattern", "Balloon"),
        "box4": tr.pgettext("breathing pattern", "Box 4-4-4-4"),
        "box3": tr.pgettext("breathing pattern", "Little box 3-3-3-3"),
        "flower": tr.pgettext("breathing pattern", "Flower and candle"),
        "hand": tr.pgettext("breathing pattern", "Five fingers"),
        "star": tr.pgettext("breathing pattern", "Star"),
        "478": tr.pgettext("breathing pattern", "4-7-8"),
    }


def cue_words(tr=ENGLISH):
    """What the pacer says for each phase, per visual (the default for every visual not
    listed), in `tr`'s language."""
    hold = tr.pgettext("breathing", "Hold")
    return {
        "default": {"inhale": tr.pgettext("breathing", "Breathe in"), "hold": hold,
                    "exhale": tr.pgettext("breathing", "Breathe out"), "hold2": hold},
        "flower": {"inhale": tr.pgettext("breathing", "Smell the flower"), "hold": hold,
                   "exhale": tr.pgettext("breathing", "Blow out the candle"), "hold2": hold},
        "balloon": {"inhale": tr.pgettext("breathing", "Fill the balloon"), "hold": hold,
                    "exhale": tr.pgettext("breathing", "Let it go"), "hold2": hold},
    }


# Word cues per visual (the default for every visual not listed), in the source language.
CUES = cue_words()

VISUAL_PICTURE = {"balloon": "balloon", "orb": "calm-orb", "box": "calm-box", "star": "star",
                  "hand": "calm-hand", "flower": "calm-tulip"}

# 5-4-3-2-1: how many things to find per sense (the count belongs to the sense).
SENSES = {"see": 5, "touch": 4, "hear": 3, "smell": 2, "taste": 1}
SENSE_ORDER = ("see", "touch", "hear", "smell", "taste")
SENSE_PICTURE = {s: f"sense-{s}" for s in SENSE_ORDER}


# ---------------------------------------------------------------- validation

def _nothing(d):
    require_dict(d, ())
    return {}


def _length(d):
    """Exactly one of rounds / minutes."""
    has_r, has_m = d.get("rounds") is not None, d.get("minutes") is not None
    if has_r == has_m:
        raise Invalid("give either rounds or minutes")
    if has_r:
        return {"rounds": integer(d["rounds"], *ROUNDS_RANGE, "rounds"), "minutes": None}
    return {"rounds": None, "minutes": integer(d["minutes"], *PACER_MINUTES_RANGE, "minutes")}


def _pacer_start(d):
    require_dict(d, ("pattern",), optional=("rounds", "minutes"))
    return {"pattern": ident(d["pattern"], "pattern"), **_length(d)}


def _pattern_name(v):
    if not isinstance(v, str) or not v.strip():
        raise Invalid(f"name must be 1-{NAME_CHARS} characters of text")
    return person_text(v, NAME_CHARS, "name").strip()


def _pattern_save(d):
    require_dict(d, ("id", "name", "inhale", "hold", "exhale", "hold2", "visual"))
    return {"id": ident(d["id"]), "name": _pattern_name(d["name"]),
            "inhale": number(d["inhale"], *BREATH_RANGE, "inhale"),
            "hold": number(d["hold"], *HOLD_RANGE, "hold"),
            "exhale": number(d["exhale"], *BREATH_RANGE, "exhale"),
            "hold2": number(d["hold2"], *HOLD_RANGE, "hold2"),
            "visual": one_of(d["visual"], VISUALS, "visual")}


def _id_only(d):
    require_dict(d, ("id",))
    return {"id": ident(d["id"])}


def _timer_start(d):
    require_dict(d, ("minutes",))
    return {"minutes": integer(d["minutes"], *TIMER_MINUTES_RANGE, "minutes")}


def _show(d):
    require_dict(d, ("card",))
    return {"card": one_of(d["card"], CARDS, "card")}


def _grounding_order(d):
    require_dict(d, ("order", "skipped"))
    order, skipped = d["order"], d["skipped"]
    if not isinstance(order, list) or not all(isinstance(s, str) for s in order) or \
            sorted(order) != sorted(SENSE_ORDER):
        raise Invalid("order must list each sense once: " + ", ".join(SENSE_ORDER))
    if not isinstance(skipped, list) or not all(isinstance(s, str) and s in SENSES for s in skipped) \
            or len(set(skipped)) != len(skipped):
        raise Invalid("skipped must list distinct senses")
    if len(skipped) == len(SENSES):
        raise Invalid("at least one sense must stay")
    return {"order": list(order), "skipped": [s for s in order if s in skipped]}


def _grounding_go(d):
    require_dict(d, ("to",))
    return {"to": one_of(d["to"], set(SENSES) | {"done"}, "to")}


def _grounding_count(d):
    require_dict(d, ("sense", "n"))
    sense = one_of(d["sense"], SENSES, "sense")
    return {"sense": sense, "n": integer(d["n"], 0, SENSES[sense], "n")}


OPS = {
    "show": OpSpec(_show, undoable=False),
    "pacer.start": OpSpec(_pacer_start, stamped=True),
    "pacer.pause": OpSpec(_nothing, stamped=True),
    "pacer.resume": OpSpec(_nothing, stamped=True),
    "pacer.stop": OpSpec(_nothing, stamped=True),
    "pattern.save": OpSpec(_pattern_save),
    "pattern.delete": OpSpec(_id_only),
    "timer.start": OpSpec(_timer_start, stamped=True),
    "timer.pause": OpSpec(_nothing, stamped=True),
    "timer.resume": OpSpec(_nothing, stamped=True),
    "timer.reset": OpSpec(_nothing, stamped=True),
    "grounding.start": OpSpec(_nothing),
    "grounding.order": OpSpec(_grounding_order),
    "grounding.go": OpSpec(_grounding_go),
    "grounding.count": OpSpec(_grounding_count),
    "grounding.stop": OpSpec(_nothing),
    # Produced by the server as inverses; never accepted from a client.
    "pacer.restore": OpSpec(internal("pacer"), client=False),
    "timer.restore": OpSpec(internal("timer"), client=False),
    "grounding.restore": OpSpec(internal("grounding"), client=False),
    "pattern.restore": OpSpec(internal("id"), client=False),
}

EPHEMERAL = {}


def validate(t, d):
    return validate_op(OPS, t, d)


# ---------------------------------------------------------------- authorisation

GUEST_OPS = {"grounding.count"}


def may(role, t, settings):
    """The therapist runs the calm corner (pacer, patterns, timer, grounding, undo).
    A child or parent only taps to count in the grounding card, and only while their
    role may play (child_may_draw / parent_may_play)."""
    if role == THERAPIST:
        return True
    return t in GUEST_OPS and may_play(settings, role, NAME)


# ---------------------------------------------------------------- time (pure)

def elapsed(clock, now):
    """Running seconds of a pacer or timer at server time `now` (0 when stopped).
    A paused clock stands still at its pause; time never runs backwards."""
    if clock["started_at"] is None:
        return 0.0
    end = clock["paused_at"] if clock["paused_at"] is not None else now
    return max(0.0, end - clock["started_at"] - clock["paused_total"])


def phase_at(timing, secs, total=None):
    """Where a breathing pattern is after `secs` running seconds:
    (phase, progress 0..1 within it, round counted from 0). Phases of length 0 are
    skipped; after `total` rounds the phase is "done". Same arithmetic in JS."""
    cycle = timing[0] + timing[1] + timing[2] + timing[3]
    if total is not None and secs >= cycle * total:
        return "done", 1.0, total
    rnd = math.floor(secs / cycle)
    pos = secs - rnd * cycle
    for name, dur in zip(PHASES, timing):
        if dur > 0 and pos < dur:
            return name, pos / dur, rnd
        pos -= dur
    return "inhale", 0.0, rnd + 1   # float edge: exactly at the end of a cycle


def pacer_phase(pacer, now):
    """The pacer at server time `now` (seconds): {phase, progress, round, running}.
    `phase` is "idle" when stopped, else a PHASES name or "done"."""
    if pacer["started_at"] is None:
        return {"phase": "idle", "progress": 0.0, "round": 0, "running": False}
    phase, progress, rnd = phase_at(pacer["timing"], elapsed(pacer, now), pacer["total"])
    return {"phase": phase, "progress": progress, "round": rnd,
            "running": pacer["running"] and phase != "done"}


def timer_remaining(timer, now):
    """Seconds left on the timer at server time `now` (≤ 0 once it has run out)."""
    return timer["minutes"] * 60 - elapsed(timer, now)


def total_rounds(timing, rounds, minutes):
    """Rounds a pacer runs: as given, or as many whole breaths as fill the minutes."""
    if rounds is not None:
        return rounds
    return max(1, math.ceil(minutes * 60 / sum(timing)))


# ---------------------------------------------------------------- clock offset

def sample(sent, server_now, received):
    """One clock sample (all ms; `sent`/`received` on the client's monotonic clock):
    (rtt, offset) with offset = server_now + rtt/2 - received (CLK1)."""
    rtt = received - sent
    return rtt, server_now + rtt / 2 - received


class ClockEstimator:
    """The client's estimate of server time: the offset of the lowest-delay sample
    among the last `keep` (older ones are dropped, so a drifting clock is followed).
    Reference for static/canvas/room/clock.js; Python clients (tests, bench) use it too."""

    def __init__(self, keep=10):
        self.keep = keep
        self.samples = []

    def add(self, sent, server_now, received):
        rtt, offset = sample(sent, server_now, received)
        if rtt < 0:
            return  # a clock that ran backwards: not a sample
        self.samples.append((rtt, offset))
        del self.samples[:-self.keep]

    @property
    def best(self):
        return min(self.samples, key=lambda s: s[0]) if self.samples else None

    @property
    def offset(self):
        return self.best[1] if self.samples else None

    def server_ms(self, local_ms):
        return local_ms + self.offset


# ---------------------------------------------------------------- reducer

def _stopped_clock():
    return {"started_at": None, "paused_at": None, "paused_total": 0, "running": False}


# ROOM1: the saved breathing patterns; an undo cannot go past it.
BOUND = Bound(MAX_PATTERNS, lambda state: len(state["patterns"]),
              f"At most {MAX_PATTERNS} saved patterns: delete one first.")


def initial_state():
    p = PRESETS["balloon"]
    return {
        "card": "pacer",
        "pacer": {"pattern": "balloon", "name": p["name"], "visual": p["visual"],
                  "timing": list(p["timing"]), "rounds": p["rounds"], "minutes": None,
                  "total": p["rounds"], **_stopped_clock()},
        "patterns": {},
        "timer": {"minutes": 5, **_stopped_clock()},
        "grounding": {"order": list(SENSE_ORDER), "skipped": [], "current": None,
                      "counts": {s: 0 for s in SENSE_ORDER}},
    }


def _pattern(state, pid):
    """(name, timing, visual) of a preset or saved pattern, or None."""
    if pid in PRESETS:
        p = PRESETS[pid]
        return p["name"], list(p["timing"]), p["visual"]
    p = state["patterns"].get(pid)
    return (p["name"], list(p["timing"]), p["visual"]) if p else None


def _active(g):
    return [s for s in g["order"] if s not in g["skipped"]]


def _clock_check(clock, t, what, timed_out):
    """pause / resume / stop / reset rules shared by the pacer and the timer."""
    if t.endswith(".pause") and (not clock["running"] or timed_out):
        return Rejected(E_INVALID, f"the {what} is not running")
    if t.endswith(".resume") and clock["paused_at"] is None:
        return Rejected(E_INVALID, f"the {what} is not paused")
    if (t.endswith(".stop") or t.endswith(".reset")) and clock["started_at"] is None:
        return Rejected(E_NOTHING, f"the {what} is not started")
    return None


def check(state, t, d):
    """State-dependent rules for a client op that passed validate()."""
    if t == "pacer.start" and _pattern(state, d["pattern"]) is None:
        return Rejected(E_INVALID, "no such pattern")
    if t in ("pacer.pause", "pacer.resume", "pacer.stop"):
        p = state["pacer"]
        done = p["started_at"] is not None and pacer_phase(p, d["at"])["phase"] == "done"
        return _clock_check(p, t, "pacer", done)
    if t in ("timer.pause", "timer.resume", "timer.reset"):
        tm = state["timer"]
        return _clock_check(tm, t, "timer",
                            tm["started_at"] is not None and timer_remaining(tm, d["at"]) <= 0)
    if t == "pattern.save":
        if d["id"] in PRESETS:
            return Rejected(E_CONFLICT, "that id belongs to a preset")
        if d["id"] not in state["patterns"] and len(state["patterns"]) >= MAX_PATTERNS:
            return Rejected(E_FULL, f"at most {MAX_PATTERNS} saved patterns")
    if t == "pattern.delete" and d["id"] not in state["patterns"]:
        return Rejected(E_NOTHING, "no such saved pattern")
    g = state["grounding"]
    if t == "grounding.go" and (g["current"] is None or
                                (d["to"] != "done" and d["to"] not in _active(g))):
        return Rejected(E_INVALID, "that sense is not part of the exercise now")
    if t == "grounding.count" and g["current"] != d["sense"]:
        return Rejected(E_INVALID, "that sense is not the current one")
    if t == "grounding.stop" and g["current"] is None:
        return Rejected(E_NOTHING, "grounding is not started")
    return None


def _set(state, key, value, restore):
    """Replace sub-state `key`; the inverse restores the old one (None if unchanged)."""
    old = state[key]
    if old == value:
        return state, None
    return {**state, key: value}, (restore, {key: old})


def _pacer(state, t, d):
    p = state["pacer"]
    if t == "pacer.start":
        name, timing, visual = _pattern(state, d["pattern"])
        rounds, minutes = d.get("rounds"), d.get("minutes")
        new = {"pattern": d["pattern"], "name": name, "visual": visual, "timing": timing,
               "rounds": rounds, "minutes": minutes, "total": total_rounds(timing, rounds, minutes),
               "started_at": d["at"], "paused_at": None, "paused_total": 0, "running": True}
    elif t == "pacer.pause":
        if not p["running"]:
            return state, None
        new = {**p, "paused_at": d["at"], "running": False}
    elif t == "pacer.resume":
        if p["paused_at"] is None:
            return state, None
        new = {**p, "paused_total": p["paused_total"] + max(0, d["at"] - p["paused_at"]),
               "paused_at": None, "running": True}
    else:  # stop
        new = {**p, **_stopped_clock()}
    return _set(state, "pacer", new, "pacer.restore")


def _timer(state, t, d):
    tm = state["timer"]
    if t == "timer.start":
        new = {"minutes": d["minutes"], "started_at": d["at"], "paused_at": None,
               "paused_total": 0, "running": True}
    elif t == "timer.pause":
        if not tm["running"]:
            return state, None
        new = {**tm, "paused_at": d["at"], "running": False}
    elif t == "timer.resume":
        if tm["paused_at"] is None:
            return state, None
        new = {**tm, "paused_total": tm["paused_total"] + max(0, d["at"] - tm["paused_at"]),
               "paused_at": None, "running": True}
    else:  # reset
        new = {**tm, **_stopped_clock()}
    return _set(state, "timer", new, "timer.restore")


def _grounding(state, t, d):
    g = state["grounding"]
    if t == "grounding.count":
        old = g["counts"].get(d["sense"], 0)
        if old == d["n"]:
            return state, None
        new = {**g, "counts": {**g["counts"], d["sense"]: d["n"]}}
        return {**state, "grounding": new}, ("grounding.count", {"sense": d["sense"], "n": old})
    if t == "grounding.start":
        new = {**g, "current": _active(g)[0], "counts": {s: 0 for s in SENSE_ORDER}}
    elif t == "grounding.stop":
        new = {**g, "current": None}
    elif t == "grounding.go":
        if g["current"] is None or (d["to"] != "done" and d["to"] not in _active(g)):
            return state, None
        new = {**g, "current": d["to"]}
    else:  # order: a skipped current sense moves on to the next one still in play
        new = {**g, "order": d["order"], "skipped": d["skipped"]}
        cur = g["current"]
        if cur in d["skipped"]:
            rest = [s for s in g["order"][g["order"].index(cur):] if s not in d["skipped"]]
            new["current"] = rest[0] if rest else "done"
    return _set(state, "grounding", new, "grounding.restore")


def apply(state, t, d, by=None):
    """Apply op (t, d). Returns (new_state, inverse or None). Pure."""
    if t.startswith("pacer.") and t != "pacer.restore":
        return _pacer(state, t, d)
    if t.startswith("timer.") and t != "timer.restore":
        return _timer(state, t, d)
    if t.startswith("grounding.") and t != "grounding.restore":
        return _grounding(state, t, d)
    if t in ("pacer.restore", "timer.restore", "grounding.restore"):
        key = t.split(".")[0]
        return _set(state, key, d[key], t)
    if t == "show":
        if state["card"] == d["card"]:
            return state, None
        return {**state, "card": d["card"]}, ("show", {"card": state["card"]})
    if t == "pattern.save":
        new = {"name": d["name"], "timing": [d["inhale"], d["hold"], d["exhale"], d["hold2"]],
               "visual": d["visual"]}
        return _put_pattern(state, d["id"], new)
    if t == "pattern.delete":
        return _put_pattern(state, d["id"], None)
    if t == "pattern.restore":
        return _put_pattern(state, d["id"], d["pattern"])
    raise ValueError(f"unknown calm op {t}")


def _put_pattern(state, pid, pattern):
    """Set (or delete, pattern None) a saved pattern; the inverse puts the old one back."""
    old = state["patterns"].get(pid)
    if old == pattern:
        return state, None
    patterns = dict(state["patterns"])
    if pattern is None:
        del patterns[pid]
    else:
        patterns[pid] = pattern
    return {**state, "patterns": patterns}, ("pattern.restore", {"id": pid, "pattern": old})


def home_items(state, tr=ENGLISH):
    """Breathing patterns that may go home (issue 17 part 3): the presets, in the
    family's language, and the therapist's saved ones."""
    names = preset_names(tr)
    out = [(f"pattern:{pid}", home_kinds.breathe_item(names[pid], p["visual"], p["timing"], p["rounds"]))
           for pid, p in PRESETS.items()]
    for pid, p in state["patterns"].items():
        out.append((f"pattern:{pid}", home_kinds.breathe_item(p["name"], p["visual"], p["timing"],
                                                        PRESETS["balloon"]["rounds"])))
    return out


def client_config(tr=ENGLISH):
    return {
        "phases": list(PHASES), "visuals": list(VISUALS), "cards": list(CARDS),
        # The page JSON has sorted keys: the order to show the presets in travels apart.
        "presets": PRESETS, "preset_order": list(PRESETS), "visual_picture": VISUAL_PICTURE,
        # What a reader sees and hears: the presets' names and the breathing cues in their language.
        "preset_names": preset_names(tr), "cues": cue_words(tr),
        "senses": SENSES, "sense_order": list(SENSE_ORDER), "sense_picture": SENSE_PICTURE,
        "limits": {"breath": list(BREATH_RANGE), "hold": list(HOLD_RANGE),
                   "rounds": list(ROUNDS_RANGE), "pacer_minutes": list(PACER_MINUTES_RANGE),
                   "timer_minutes": list(TIMER_MINUTES_RANGE), "patterns": MAX_PATTERNS,
                   "name_chars": NAME_CHARS},
        "ops": [t for t, s in OPS.items() if s.client],
        "stamped": [t for t, s in OPS.items() if s.stamped],
    }


# ---------------------------------------------------------------- session record

def _minutes_seconds(secs, tr=ENGLISH):
    secs = int(round(secs))
    m, s = divmod(secs, 60)
    if m and s:
        return tr.gettext("{m} min {s} s", m=m, s=s)
    return tr.gettext("{m} min", m=m) if m else tr.gettext("{s} s", s=s)


def record_entries(ops, state=None, ended_at=None, tr=ENGLISH):
    """Timeline entries for the session record (activities/contract/__init__.py): each breathing
    exercise with the time it really ran (pauses left out, at most its planned
    breaths; one still running at the end counts up to `ended_at`), timers and the
    grounding exercise. Pure: replays the pacer's clock from the ops (CALM1)."""
    patterns = {pid: (p["name"], p["timing"]) for pid, p in ((state or {}).get("patterns") or {}).items()}
    patterns.update({pid: (p["name"], p["timing"]) for pid, p in PRESETS.items()})
    out, cur = [], {}
    presets = preset_names(tr)

    def close(at):
        if not cur:
            return
        p, entry = cur.pop("pacer"), cur.pop("entry")
        cycle = sum(p["timing"])
        secs = max(0.0, min(elapsed(p, at), cycle * p["total"]))
        breaths = min(p["total"], int(secs // cycle)) if cycle else 0
        entry["data"].update(seconds=round(secs, 1), breaths=breaths,
                             completed=breaths >= p["total"])
        pid = p.get("pattern")
        name = presets[pid] if pid in PRESETS else p["name"]   # a saved pattern: as the therapist wrote it
        entry["text"] = tr.ngettext("started breathing “{name}”: {time} ({breaths} of {n} breath)",
                                    "started breathing “{name}”: {time} ({breaths} of {n} breaths)",
                                    p["total"], name=name, time=_minutes_seconds(secs, tr), breaths=breaths)

    def start(op, p):
        entry = {"seq": op["seq"], "at": p["started_at"], "by": op["by"], "kind": "breathing",
                 "data": {"pattern": p.get("pattern"), "name": p["name"], "total": p["total"]}}
        out.append(entry)
        cur.update(pacer=p, entry=entry)

    for op in ops:
        t, d = op["t"], op["d"]
        at = d.get("at", op["ts"])
        if t == "pacer.start":
            close(at)
            name, timing = patterns.get(d["pattern"], (d["pattern"], [4, 0, 4, 0]))
            start(op, {"pattern": d["pattern"], "name": name, "timing": list(timing),
                       "total": total_rounds(timing, d.get("rounds"), d.get("minutes")),
                       "started_at": at, "paused_at": None, "paused_total": 0, "running": True})
        elif t == "pacer.pause" and cur and cur["pacer"]["running"]:
            cur["pacer"] = {**cur["pacer"], "paused_at": at, "running": False}
        elif t == "pacer.resume" and cur and cur["pacer"]["paused_at"] is not None:
            p = cur["pacer"]
            cur["pacer"] = {**p, "paused_total": p["paused_total"] + max(0, at - p["paused_at"]),
                            "paused_at": None, "running": True}
        elif t == "pacer.stop":
            close(at)
        elif t == "pacer.restore":          # an undo or redo: the pacer as it was
            new = d["pacer"]
            if cur and new.get("started_at") == cur["pacer"]["started_at"]:
                cur["pacer"] = new
            else:
                close(at)
                if new.get("started_at") is not None:
                    start(op, new)
        elif t == "pattern.save":
            patterns[d["id"]] = (d["name"], [d["inhale"], d["hold"], d["exhale"], d["hold2"]])
        elif t == "timer.start" and op["kind"] == "do":
            out.append({"seq": op["seq"], "at": at, "by": op["by"], "kind": "timer",
                        "text": tr.gettext("started a {minutes} min timer", minutes=d["minutes"]),
                        "data": {"minutes": d["minutes"]}})
        elif t == "grounding.start" and op["kind"] == "do":
            out.append({"seq": op["seq"], "at": at, "by": op["by"], "kind": "grounding",
                        "text": tr.gettext("started 5-4-3-2-1 grounding"), "data": {}})
        elif t == "grounding.go" and d.get("to") == "done" and op["kind"] == "do":
            out.append({"seq": op["seq"], "at": at, "by": op["by"], "kind": "grounding",
                        "text": tr.gettext("finished 5-4-3-2-1 grounding"), "data": {}})
    last = max((o["d"].get("at", o["ts"]) for o in ops), default=0.0)
    close(ended_at if ended_at is not None else last)
    return out
