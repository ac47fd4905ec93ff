"""Visual schedule and first–then board: picture steps the child moves to "All done",
an optional timer per step, and a reward the child picks at the end.

State (plain JSON):
    {"layout": "first-then" | "list",
     "steps": [{"id", "pic", "text", "secs", "done"}],   in order; secs 0 = no timer
     "timer": None | {"step": id, "at": server seconds},  the one running step timer
     "rewards": [pic, ...],                               0-4 offered by the therapist
     "reward": pic | None}                                the child's choice

A picture is a catalog id or "upload:<id>" (rooms/assets/uploads.py), as in stories.
"first-then" shows the first two steps not done yet as two big cards; "list" shows the
whole schedule. A step's timer starts with a server-stamped `at` (CLK1), so every
screen shows the same time left: secs − (server now − at), drawn as a shrinking disc.

Who does what (SCHED1, `may`): the therapist everything; a guest, while their role may
play, marks steps done (or not), starts and stops a step's timer, picks the reward and
undoes their own ops. Every op has an inverse; an op whose step is gone is a no-op.
"""
from activities.contract import pictures
from activities.contract import uploads
from activities.contract.protocol import E_CONFLICT, E_FULL, E_INVALID, E_NOTHING, THERAPIST

from activities.contract import text as person_text
from activities.contract import (Bound, Invalid, OpSpec, Rejected, ident, integer, internal, may_play, one_of,
                   require_dict, validate_op)
from activities.contract import home as home_kinds
from activities.contract.i18n import ENGLISH, N_

NAME = "schedule"
TITLE = N_("Schedule")
ICON = "footprints"

LAYOUTS = ("first-then", "list")
MAX_STEPS = 12
MAX_REWARDS = 4
TEXT_CHARS = 40
MAX_SECS = 3600          # a step's timer: 0 (none) or 10 s .. 60 min
MIN_SECS = 10


# ---------------------------------------------------------------- validation

def picture_ref(p):
    """A catalog picture id or "upload:<id>" (strict format; the upload's owner is
    checked whenever it is served: only the room's therapist's, only while shown)."""
    return isinstance(p, str) and (p in pictures.CATALOG or uploads.parse_ref(p) is not None)


def _pic(v, name="pic"):
    if not picture_ref(v):
        raise Invalid(f"{name}: unknown picture")
    return v


def _text(v):
    return person_text(v, TEXT_CHARS, "text").strip()      # one line: no newlines


def _secs(v):
    secs = integer(v, 0, MAX_SECS, "secs")
    if 0 < secs < MIN_SECS:
        raise Invalid(f"secs must be 0 (no timer) or {MIN_SECS}-{MAX_SECS}")
    return secs


def _pos(v, name="pos"):
    return integer(v, 0, MAX_STEPS - 1, name)


def _layout(d):
    require_dict(d, ("layout",))
    return {"layout": one_of(d["layout"], LAYOUTS, "layout")}


def _step_fields(d):
    return {"pic": _pic(d["pic"]), "text": _text(d["text"]), "secs": _secs(d["secs"])}


def _add(d):
    require_dict(d, ("id", "pos", "pic", "text", "secs"))
    return {"id": ident(d["id"]), "pos": _pos(d["pos"]), **_step_fields(d)}


def _edit(d):
    require_dict(d, ("id", "pic", "text", "secs"))
    return {"id": ident(d["id"]), **_step_fields(d)}


def _id_only(d):
    require_dict(d, ("id",))
    return {"id": ident(d["id"])}


def _move(d):
    require_dict(d, ("id", "to"))
    return {"id": ident(d["id"]), "to": _pos(d["to"], "to")}


def _done(d):
    require_dict(d, ("id", "done"))
    if not isinstance(d["done"], bool):
        raise Invalid("done must be true or false")
    return {"id": ident(d["id"]), "done": d["done"]}


def _timer_start(d):
    require_dict(d, ("step",))
    return {"step": ident(d["step"], "step")}


def _nothing(d):
    require_dict(d, ())
    return {}


def _rewards(d):
    require_dict(d, ("pics",))
    v = d["pics"]
    if not isinstance(v, list) or len(v) > MAX_REWARDS:
        raise Invalid(f"pics must list 0-{MAX_REWARDS} pictures")
    out = [_pic(p, "pics") for p in v]
    if len(set(out)) != len(out):
        raise Invalid("pics must not repeat a picture")
    return {"pics": out}


def _pick(d):
    require_dict(d, ("pic",))
    return {"pic": None if d["pic"] is None else _pic(d["pic"])}


OPS = {
    "layout": OpSpec(_layout),
    "step.add": OpSpec(_add),
    "step.remove": OpSpec(_id_only),
    "step.edit": OpSpec(_edit),
    "step.move": OpSpec(_move),
    "step.done": OpSpec(_done, stamped=True),        # its time is in the session record (CLK1)
    "timer.start": OpSpec(_timer_start, stamped=True),
    "timer.stop": OpSpec(_nothing),
    "rewards": OpSpec(_rewards),
    "reward.pick": OpSpec(_pick, stamped=True),
    "reset": OpSpec(_nothing),
    # Produced by the server as inverses; never accepted from a client.
    "step.put": OpSpec(internal("step"), client=False),
    "timer.set": OpSpec(internal("timer"), client=False),
    "rewards.set": OpSpec(internal("rewards"), client=False),
    "restore": OpSpec(internal("steps"), client=False),
}

EPHEMERAL = {}


def validate(t, d):
    return validate_op(OPS, t, d)


# ---------------------------------------------------------------- authorisation

# What a guest may do while their role may play (SCHED1). One small function, so the
# decision moves easily when permissions become per-role settings.
GUEST_OPS = {"step.done", "timer.start", "timer.stop", "reward.pick", "history"}


def may(role, t, settings):
    if role == THERAPIST:
        return True
    return t in GUEST_OPS and may_play(settings, role, NAME)


# ---------------------------------------------------------------- reducer

def initial_state():
    return {"layout": "first-then", "steps": [], "timer": None, "rewards": [], "reward": None}


# ROOM1: the steps of the plan (rewards are at most 4); an undo cannot go past it.
BOUND = Bound(MAX_STEPS, lambda state: len(state["steps"]),
              f"A schedule has at most {MAX_STEPS} steps: remove one first.")


def _index(state, sid):
    for i, s in enumerate(state["steps"]):
        if s["id"] == sid:
            return i
    return None


def all_done(state):
    return bool(state["steps"]) and all(s["done"] for s in state["steps"])


def check(state, t, d):
    """State-dependent rules for a client op that passed validate()."""
    n = len(state["steps"])
    if t == "step.add":
        if _index(state, d["id"]) is not None:
            return Rejected(E_CONFLICT, "a step with that id exists")
        if n >= MAX_STEPS:
            return Rejected(E_FULL, f"a schedule has at most {MAX_STEPS} steps")
        if d["pos"] > n:
            return Rejected(E_INVALID, "pos is past the end of the schedule")
        return None
    if t in ("step.remove", "step.edit", "step.move", "step.done"):
        i = _index(state, d["id"])
        if i is None:
            return Rejected(E_INVALID, "no such step")
        if t == "step.move" and d["to"] >= n:
            return Rejected(E_INVALID, "to is past the end of the schedule")
        return None
    if t == "timer.start":
        i = _index(state, d["step"])
        if i is None:
            return Rejected(E_INVALID, "no such step")
        if not state["steps"][i]["secs"]:
            return Rejected(E_INVALID, "this step has no timer")
        if state["steps"][i]["done"]:
            return Rejected(E_INVALID, "this step is done")
        return None
    if t == "timer.stop" and state["timer"] is None:
        return Rejected(E_NOTHING, "no timer is running")
    if t == "reward.pick" and d["pic"] is not None:
        if d["pic"] not in state["rewards"]:
            return Rejected(E_INVALID, "that reward is not on offer")
        if not all_done(state):
            return Rejected(E_INVALID, "the steps are not all done yet")
    return None


def _with_steps(state, steps, **extra):
    return {**state, "steps": steps, **extra}


def _timer(state, timer):
    old = state["timer"]
    if old == timer:
        return state, None
    return {**state, "timer": timer}, ("timer.set", {"timer": old})


def _rewards_set(state, rewards, reward):
    old = {"rewards": state["rewards"], "reward": state["reward"]}
    if old == {"rewards": rewards, "reward": reward}:
        return state, None
    return {**state, "rewards": list(rewards), "reward": reward}, ("rewards.set", old)


def _restorable(state):
    return {"steps": state["steps"], "timer": state["timer"], "reward": state["reward"]}


def apply(state, t, d, by=None):
    """Apply op (t, d). Returns (new_state, inverse or None). Pure."""
    steps = state["steps"]
    if t == "layout":
        if state["layout"] == d["layout"]:
            return state, None
        return {**state, "layout": d["layout"]}, ("layout", {"layout": state["layout"]})
    if t == "step.add":
        if _index(state, d["id"]) is not None or len(steps) >= MAX_STEPS or d["pos"] > len(steps):
            return state, None
        step = {"id": d["id"], "pic": d["pic"], "text": d["text"], "secs": d["secs"], "done": False}
        return _with_steps(state, steps[:d["pos"]] + [step] + steps[d["pos"]:]), \
            ("step.remove", {"id": d["id"]})
    if t == "step.put":
        step = d["step"]
        pos = d["pos"]
        if _index(state, step["id"]) is not None or pos > len(steps):
            return state, None
        out = _with_steps(state, steps[:pos] + [dict(step)] + steps[pos:])
        if d.get("timer") is not None:
            out["timer"] = d["timer"]
        return out, ("step.remove", {"id": step["id"]})
    if t == "step.remove":
        i = _index(state, d["id"])
        if i is None:
            return state, None
        timer = state["timer"]
        running = timer if timer is not None and timer["step"] == d["id"] else None
        out = _with_steps(state, steps[:i] + steps[i + 1:],
                          timer=None if running is not None else timer)
        return out, ("step.put", {"pos": i, "step": steps[i], "timer": running})
    if t in ("step.edit", "step.done"):
        i = _index(state, d["id"])
        if i is None:
            return state, None
        old = steps[i]
        changes = {k: d[k] for k in (("pic", "text", "secs") if t == "step.edit" else ("done",))}
        new = {**old, **changes}
        if new == old:
            return state, None
        return _with_steps(state, steps[:i] + [new] + steps[i + 1:]), \
            (t, {"id": d["id"], **{k: old[k] for k in changes}})
    if t == "step.move":
        i = _index(state, d["id"])
        if i is None or d["to"] >= len(steps) or d["to"] == i:
            return state, None
        rest = steps[:i] + steps[i + 1:]
        return _with_steps(state, rest[:d["to"]] + [steps[i]] + rest[d["to"]:]), \
            ("step.move", {"id": d["id"], "to": i})
    if t == "timer.start":
        i = _index(state, d["step"])
        if i is None or not steps[i]["secs"]:
            return state, None
        return _timer(state, {"step": d["step"], "at": d["at"]})
    if t == "timer.stop":
        return _timer(state, None)
    if t == "timer.set":
        return _timer(state, d["timer"])
    if t == "rewards":
        reward = state["reward"] if state["reward"] in d["pics"] else None
        return _rewards_set(state, d["pics"], reward)
    if t == "rewards.set":
        return _rewards_set(state, d["rewards"], d["reward"])
    if t == "reward.pick":
        if d["pic"] is not None and d["pic"] not in state["rewards"]:
            return state, None
        if state["reward"] == d["pic"]:
            return state, None
        return {**state, "reward": d["pic"]}, ("reward.pick", {"pic": state["reward"]})
    if t == "reset":
        new = {"steps": [{**s, "done": False} for s in steps], "timer": None, "reward": None}
        if new == _restorable(state):
            return state, None
        return {**state, **new}, ("restore", _restorable(state))
    if t == "restore":
        new = {"steps": d["steps"], "timer": d["timer"], "reward": d["reward"]}
        if new == _restorable(state):
            return state, None
        return {**state, **new}, ("restore", _restorable(state))
    raise ValueError(f"unknown schedule op {t}")


def uploads_used(state):
    """Ids of the uploads the schedule shows: a guest may fetch exactly these."""
    refs = [s["pic"] for s in state["steps"]] + list(state["rewards"])
    return {uid for p in refs if (uid := uploads.parse_ref(p)) is not None}


# Quick starts for the therapist's editor: (picture, words, seconds). The words are
# stored as written here (English, the source language) and every screen shows them in
# its reader's language (`step_words`), so a step from a quick start reads in Spanish to
# a Spanish-speaking child whatever the therapist's language.
EXAMPLES = {
    "morning": [("alarm-clock", "Wake up", 0), ("toilet", "Toilet", 0),
                ("soap", "Wash", 120), ("breakfast", "Breakfast", 600),
                ("backpack", "School bag", 0)],
    "session": [("calm-corner", "Calm body", 120), ("crayon", "Draw", 600),
                ("book", "Story", 300), ("thumbsup", "Goodbye", 0)],
}


def step_words(tr=ENGLISH):
    """The quick starts' step words in `tr`'s language: {as stored: as read}. With a
    context: "Story" or "Draw" may be a button elsewhere."""
    return {
        "Wake up": tr.pgettext("schedule step", "Wake up"),
        "Toilet": tr.pgettext("schedule step", "Toilet"),
        "Wash": tr.pgettext("schedule step", "Wash"),
        "Breakfast": tr.pgettext("schedule step", "Breakfast"),
        "School bag": tr.pgettext("schedule step", "School bag"),
        "Calm body": tr.pgettext("schedule step", "Calm body"),
        "Draw": tr.pgettext("schedule step", "Draw"),
        "Story": tr.pgettext("schedule step", "Story"),
        "Goodbye": tr.pgettext("schedule step", "Goodbye"),
    }


def home_items(state, tr=ENGLISH):
    """The room's schedule may go home as steps to tick (issue 17 part 3)."""
    if not state["steps"]:
        return []
    return [("schedule", home_kinds.steps_item(tr.gettext("My schedule"), state["steps"]))]


def client_config(tr=ENGLISH):
    return {
        "layouts": list(LAYOUTS),
        "limits": {"steps": MAX_STEPS, "rewards": MAX_REWARDS, "text_chars": TEXT_CHARS,
                   "max_secs": MAX_SECS, "min_secs": MIN_SECS},
        "examples": EXAMPLES,
        # The quick starts' words in the reader's language, and the names of the quick starts.
        "words": step_words(tr),
        "example_names": {"morning": tr.gettext("Morning routine"), "session": tr.gettext("Our session")},
        "reward_ideas": ["balloon", "football", "teddy", "ice-cream", "kite", "puzzle",
                         "guitar", "star"],
        "uploads_url": "/uploads",
        "upload_pic_url": "/rooms/{room}/uploads/{id}.webp",
        "upload_thumb_url": "/rooms/{room}/uploads/{id}/thumb.webp",
        "upload_max_bytes": uploads.MAX_BYTES,
        "ops": [t for t, s in OPS.items() if s.client],
    }


# ---------------------------------------------------------------- session record

def _label(step, tr=ENGLISH):
    """How the record names a step: its words (a quick start's in `tr`'s language),
    else its picture's label."""
    if step.get("text"):
        return step_words(tr).get(step["text"], step["text"])
    return _prize(step.get("pic"), tr)


def _prize(pic, tr=ENGLISH):
    entry = pictures.CATALOG.get(pic)
    return tr.gettext(entry[1]) if entry else tr.gettext("a picture")


def _duration(secs, tr):
    m, s = divmod(secs, 60)
    if m and s:
        return tr.gettext("{m} min {s} s", m=m, s=s)
    return tr.gettext("{m} min", m=m) if m else tr.gettext("{s} s", s=s)


def _step_names(ops, state, tr=ENGLISH):
    """step id -> label, from the final state and the session's own adds and edits
    (a step removed since keeps the name it had)."""
    names = {s["id"]: _label(s, tr) for s in (state or {}).get("steps", [])}
    for op in ops:
        d = op["d"]
        if op["t"] in ("step.add", "step.edit") and "id" in d:
            names.setdefault(d["id"], _label(d, tr))
        elif op["t"] == "step.put":
            names.setdefault(d["step"]["id"], _label(d["step"], tr))
    return names


def record_entries(ops, state=None, ended_at=None, tr=ENGLISH):
    """Timeline entries for the session record (activities/contract/__init__.py): each step marked
    done or not (with its time: the op's), step timers started and stopped, the
    prizes offered and the one picked, the whole schedule finished, a fresh start.
    Building the schedule is one line per person ("added 4 steps"). Undone ops say so."""
    names = _step_names(ops, state, tr)
    out, added, last_done = [], {}, None

    def undone(text):
        return tr.gettext("{text} (undo)", text=text) if kind == "undo" else text

    for op in ops:
        t, d, kind = op["t"], op["d"], op["kind"]
        base = {"seq": op["seq"], "at": d.get("at", op["ts"]), "by": op["by"]}
        if t == "step.done":
            name = names.get(d["id"]) or tr.gettext("a step")
            text = tr.gettext("finished the step “{name}”", name=name) if d["done"] \
                else tr.gettext("put the step “{name}” back to do", name=name)
            out.append({**base, "kind": "schedule.step", "text": undone(text),
                        "data": {"step": d["id"], "done": d["done"], "name": name}})
            if d["done"] and kind != "undo":
                last_done = out[-1]
        elif t == "timer.start" and kind != "undo":
            name = names.get(d["step"]) or tr.gettext("a step")
            secs = next((s["secs"] for s in (state or {}).get("steps", []) if s["id"] == d["step"]), 0)
            text = tr.gettext("started the timer for “{name}” ({length})", name=name,
                              length=_duration(secs, tr)) if secs \
                else tr.gettext("started the timer for “{name}”", name=name)
            out.append({**base, "kind": "schedule.timer", "data": {"step": d["step"], "secs": secs},
                        "text": text})
        elif t == "timer.stop" and kind == "do":
            out.append({**base, "kind": "schedule.timer", "data": {}, "text": tr.gettext("stopped the step timer")})
        elif t == "rewards" and kind == "do":
            offered = ", ".join(_prize(p, tr) for p in d["pics"]) or tr.gettext("none")
            out.append({**base, "kind": "schedule.rewards", "data": {"pics": d["pics"]},
                        "text": tr.gettext("offered prizes: {prizes}", prizes=offered)})
        elif t == "reward.pick":
            text = tr.gettext("picked the prize: {prize}", prize=_prize(d["pic"], tr)) if d["pic"] \
                else tr.gettext("put the prize back")
            out.append({**base, "kind": "schedule.prize", "data": {"pic": d["pic"]},
                        "text": undone(text)})
        elif t == "reset" and kind == "do":
            out.append({**base, "kind": "schedule.reset", "data": {},
                        "text": tr.gettext("started the schedule again")})
        elif t == "step.add" and kind == "do":
            entry = added.get(op["by"])
            if entry is None:
                entry = added[op["by"]] = {**base, "kind": "schedule.setup", "data": {"added": 0}}
                out.append(entry)
            entry["data"]["added"] += 1
    for entry in added.values():
        n = entry["data"]["added"]
        entry["text"] = tr.ngettext("added {n} step to the schedule", "added {n} steps to the schedule", n)
    if last_done is not None and state is not None and all_done(state):
        out.insert(out.index(last_done) + 1, {
            **{k: last_done[k] for k in ("seq", "at", "by")}, "kind": "schedule.all",
            "data": {"steps": len(state["steps"])},
            "text": tr.ngettext("finished the whole schedule ({n} step)", "finished the whole schedule ({n} steps)",
                                len(state["steps"]))})
    return out
