"""Home practice (issue 17 part 3): what a therapist sends home, and what the family
does with it between sessions.

The therapist picks a few things of the room (a story, a schedule or checklist, a
breathing pattern, a feelings check-in: the activities' `home_items`,
activities/contract/home.py) and sends them as a home pack; the family opens the home
link on any device with no account and no live session (static/canvas/home/), and
what the child does there comes back as ops of this activity, sent over HTTP by the
holder of the home link (role HOME, rooms/web/home.py) — validated, applied here,
sequenced and stored like every op, each applied once (the engine dedupes by op id,
so a queue sent again after a lost answer changes nothing).

State (plain JSON):
    {"pack": None | {"id", "at", "lang", "items": [{"id", "kind", ...item}]},
     "log": [{"n", "visit", "item", "what", "step"?, "done"?, "page"?, "rounds"?,
              "value"?, "when", "at"}],          what was done with the current pack
     "checkins": [{"n", "value", "at", "moment": "home", "pack"}],  every home check-in
     "n": int}                                   entries numbered in order (their undo)

`at` is the server's time an op arrived; `when` the time it was done on the family's
device (offline, it may be days earlier), kept when it is plausible — after the pack
was sent and not after it arrived — else the arrival time. The check-ins stay from
pack to pack (the room page charts them with the sessions' ones, moment "home",
rooms/records/trends.py); a new pack starts a new log.

Not a tab of the room (`SHOWN = False`): the therapist sends a pack from the room's
home page and reads what was done in the next session record (`BETWEEN_SESSIONS`:
its ops since the last session are in the next session's record) and on the room's
records page. Guests in the room read none of it, but a pack sent during their own session (`visible`).
"""
from activities.contract import (Bound, Invalid, OpSpec, Rejected, ident, integer, internal,
                                 number, one_of, require_dict, validate_op)
from activities.contract import home as kinds
from activities.contract.i18n import ENGLISH, LANGUAGES, N_
from activities.contract.protocol import E_CONFLICT, E_INVALID, HOME, THERAPIST

NAME = "home"
TITLE = N_("Home practice")
ICON = "house"
SHOWN = False              # not a tab of the room (Registry.client_config)
BETWEEN_SESSIONS = True    # its ops between two sessions go into the next record

MAX_ITEMS = 4
MAX_LOG = 2000
MAX_CHECKINS = 1000
WHATS = {"step": "steps", "read": "story", "breathe": "breathe", "checkin": "checkin"}
MAX_BREATHS = 60
PLAUSIBLE_S = 60           # a device's clock may run this much ahead of the server's
EARLIEST_MS = 1_500_000_000_000
LATEST_MS = 4_100_000_000_000


# ---------------------------------------------------------------- validation

def _pack(d):
    require_dict(d, ("id", "lang", "items"))
    items = d["items"]
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_ITEMS:
        raise Invalid(f"a home pack holds 1-{MAX_ITEMS} things")
    out, seen = [], set()
    for it in items:
        if not isinstance(it, dict) or "id" not in it:
            raise Invalid("every item has an id")
        iid = ident(it["id"], "item id")
        if iid in seen:
            raise Invalid("item ids must differ")
        seen.add(iid)
        out.append({"id": iid, **kinds.validate_item({k: v for k, v in it.items() if k != "id"})})
    return {"id": ident(d["id"]), "lang": one_of(d["lang"], LANGUAGES, "lang"), "items": out}


def _done(d):
    """One thing done at home: a step ticked (or unticked), a story page reached, a
    sitting of breathing, a check-in."""
    if not isinstance(d, dict):
        raise Invalid("payload must be an object")
    what = one_of(d.get("what"), WHATS, "what")
    extra = {"step": ("step", "done"), "read": ("page",), "breathe": ("rounds",),
             "checkin": ("value",)}[what]
    require_dict(d, ("pack", "visit", "item", "what", "when") + extra)
    out = {"pack": ident(d["pack"], "pack"), "visit": ident(d["visit"], "visit"),
           "item": ident(d["item"], "item"), "what": what,
           "when": number(d["when"], EARLIEST_MS, LATEST_MS, "when")}
    if what == "step":
        out["step"] = integer(d["step"], 0, kinds.MAX_STEPS - 1, "step")
        if not isinstance(d["done"], bool):
            raise Invalid("done must be true or false")
        out["done"] = d["done"]
    elif what == "read":
        out["page"] = integer(d["page"], 0, kinds.MAX_PAGES - 1, "page")
    elif what == "breathe":
        out["rounds"] = integer(d["rounds"], 1, MAX_BREATHS, "rounds")
    else:
        out["value"] = integer(d["value"], kinds.VALUES[0], kinds.VALUES[-1], "value")
    return out


OPS = {
    # The therapist sends a pack (rooms/web/home.py builds it from the activities'
    # home_items); their undo gives the previous pack back.
    "pack": OpSpec(_pack, stamped=True),
    # The family, from the home link (or the therapist noting what they were told);
    # each sender's undo takes back their own last one.
    "done": OpSpec(_done, stamped=True),
    # Inverses, produced by the server only.
    "pack.put": OpSpec(internal("pack"), client=False),
    "done.drop": OpSpec(internal("n"), client=False),
    "done.put": OpSpec(internal("entry"), client=False),
}

EPHEMERAL = {}


def validate(t, d):
    return validate_op(OPS, t, d)


def initial_state():
    return {"pack": None, "log": [], "checkins": [], "n": 0}


# ROOM1: what the family did is bounded; a new pack starts a new log.
BOUND = Bound(MAX_LOG + MAX_CHECKINS, lambda s: len(s["log"]) + len(s["checkins"]),
              "Home practice is full: send a new home pack.")


def _item(pack, iid):
    for it in (pack or {}).get("items", ()):
        if it["id"] == iid:
            return it
    return None


def check(state, t, d):
    if t == "done":
        pack = state["pack"]
        if pack is None or pack["id"] != d["pack"]:
            return Rejected(E_CONFLICT, "This home pack was replaced by a new one.")
        item = _item(pack, d["item"])
        if item is None or item["kind"] != WHATS[d["what"]]:
            return Rejected(E_INVALID, "no such thing in this home pack")
        if d["what"] == "step" and d["step"] >= len(item["steps"]):
            return Rejected(E_INVALID, "no such step")
        if d["what"] == "read" and d["page"] >= len(item["pages"]):
            return Rejected(E_INVALID, "no such page")
    return None                                    # full: the engine's BOUND check


def may(role, t, settings):
    """The therapist does everything (sends packs; may note what a family told them
    they did); the holder of a home link does things at home; a guest in the live
    room writes none of it."""
    if role == THERAPIST:
        return True
    return role == HOME and t == "done"


# ---------------------------------------------------------------- reducer

def when_of(pack, d):
    """The time something was done: the device's (`when`, ms) when it is plausible —
    not before the pack was sent, not after it arrived — else the arrival time."""
    when, at = d["when"] / 1000.0, d["at"]
    return when if pack["at"] - PLAUSIBLE_S <= when <= at + PLAUSIBLE_S else at


def apply(state, t, d, by=None):
    if t == "pack":
        pack = {"id": d["id"], "at": d["at"], "lang": d["lang"], "items": d["items"]}
        return ({**state, "pack": pack, "log": []},
                ("pack.put", {"pack": state["pack"], "log": state["log"]}))
    if t == "pack.put":
        return ({**state, "pack": d["pack"], "log": list(d["log"])},
                ("pack.put", {"pack": state["pack"], "log": state["log"]}))
    if t == "done":
        pack = state["pack"]
        if pack is None or pack["id"] != d["pack"] or _item(pack, d["item"]) is None:
            return state, None                     # stale: the pack was replaced
        when = when_of(pack, d)
        n = state["n"] + 1                         # names the entry for its sender's undo
        entry = {k: v for k, v in d.items() if k not in ("pack", "when", "at")}
        entry.update({"n": n, "when": when, "at": d["at"]})
        checkin = {"n": n, "value": d["value"], "at": when, "moment": "home", "pack": pack["id"]} \
            if d["what"] == "checkin" else None
        return {**_put(state, entry, checkin), "n": n}, ("done.drop", {"n": n})
    if t == "done.put":
        n = d["entry"]["n"]
        if any(e["n"] == n for e in state["log"]):
            return state, None
        return {**_put(state, d["entry"], d["checkin"]), "n": max(state["n"], n)}, ("done.drop", {"n": n})
    if t == "done.drop":
        entry = next((e for e in state["log"] if e["n"] == d["n"]), None)
        if entry is None:
            return state, None                     # gone with its pack
        checkin = next((c for c in state["checkins"] if c.get("n") == d["n"]), None)
        new = {**state, "log": [e for e in state["log"] if e["n"] != d["n"]],
               # the latest one taken back: the count goes back too (an undo gives back
               # the very state before; another sender's later entries keep theirs)
               "n": state["n"] - 1 if state["n"] == d["n"] else state["n"]}
        if checkin is not None:
            new["checkins"] = [c for c in state["checkins"] if c is not checkin]
        return new, ("done.put", {"entry": entry, "checkin": checkin})
    return state, None


def _put(state, entry, checkin):
    """The entry (and its check-in) back in `n` order: another sender's undo or redo
    may take one out of the middle."""
    new = {**state, "log": sorted(state["log"] + [entry], key=lambda e: e["n"])}
    if checkin is not None:
        new["checkins"] = sorted(state["checkins"] + [checkin], key=lambda c: c.get("n", 0))
    return new


# ---------------------------------------------------------------- reading

EMPTY = initial_state()


def visible(state, role, session):
    """What a guest in the live room may read (READ2, as for the check-ins): the home
    practice is the therapist's, except a pack sent during the guest's own session —
    they saw it arrive, and what is done with it, live (ops from the session's start
    on are replayed and broadcast to them; a late joiner must read the same). Home
    check-ins of earlier packs stay the therapist's. Nothing hidden: the state itself
    (one snapshot text for every joiner, JOIN1)."""
    if role == THERAPIST or (state["pack"] is None and not state["log"] and not state["checkins"]):
        return state
    pack, start = state["pack"], (session or {}).get("at")
    if pack is None or start is None or pack["at"] < start:
        return EMPTY
    checkins = [c for c in state["checkins"] if c["pack"] == pack["id"]]
    return state if len(checkins) == len(state["checkins"]) else {**state, "checkins": checkins}


def progress(pack, log):
    """What the family's page shows as done (its JS twin: static/canvas/home/model.js):
    {steps: {item: [bool]}, read: {item: highest page reached or -1},
     rounds: {item: total rounds}, feeling: {item: last value or None}}.
    Entries naming an unknown item or an out-of-range step or page are ignored."""
    out = {"steps": {}, "read": {}, "rounds": {}, "feeling": {}}
    items = {}
    for it in (pack or {}).get("items", ()):
        items[it["id"]] = it
        if it["kind"] == "steps":
            out["steps"][it["id"]] = [False] * len(it["steps"])
        elif it["kind"] == "story":
            out["read"][it["id"]] = -1
        elif it["kind"] == "breathe":
            out["rounds"][it["id"]] = 0
        elif it["kind"] == "checkin":
            out["feeling"][it["id"]] = None
    for e in log or ():
        it = items.get(e.get("item"))
        if it is None or it["kind"] != WHATS.get(e.get("what")):
            continue
        if e["what"] == "step":
            if 0 <= e["step"] < len(it["steps"]):
                out["steps"][it["id"]][e["step"]] = bool(e["done"])
        elif e["what"] == "read":
            if 0 <= e["page"] < len(it["pages"]):
                out["read"][it["id"]] = max(out["read"][it["id"]], e["page"])
        elif e["what"] == "breathe":
            out["rounds"][it["id"]] += e["rounds"]
        else:
            out["feeling"][it["id"]] = e["value"]
    return out


def trend_checkins(state):
    """The home check-ins for the room page's trend chart (moment "home")."""
    return [{"value": c["value"], "at": c["at"], "moment": "home"} for c in state["checkins"]]


def visits_since(state, since):
    """How many times the family practised (page visits that did something) since
    `since` (server seconds): what the therapist's pages say."""
    return len({e["visit"] for e in state["log"] if e["at"] > since})


def client_config(tr=ENGLISH):
    return {}


# ---------------------------------------------------------------- session record

KIND_NAMES = {"story": N_("Story"), "steps": N_("Steps"), "breathe": N_("Breathing"),
              "checkin": N_("Feelings check-in")}


def _feeling(tr, value):
    """A check-in face's word in the therapist's language (the check-in's words)."""
    return {1: tr.pgettext("feeling", "very upset"), 2: tr.pgettext("feeling", "upset"),
            3: tr.pgettext("feeling", "okay"), 4: tr.pgettext("feeling", "good"),
            5: tr.pgettext("feeling", "great")}[value]


def record_entries(ops, state=None, ended_at=None, tr=ENGLISH):
    """Timeline lines: a pack sent (what it holds), and what was done at home since
    the last session — each step ticked or unticked, how far a story was read in a
    sitting, breathing, the check-in a sitting ended with — and how many times the
    family practised. Lines at the time the thing was done (`when`)."""
    out, packs = [], {}
    visits, reads, feels = set(), {}, {}
    for op in ops:
        t, d = op["t"], op["d"]
        if t == "pack" and op.get("kind", "do") == "do":
            packs[d["id"]] = d
            what = ", ".join(f"{tr.gettext(KIND_NAMES[i['kind']])} “{i['title']}”" for i in d["items"])
            out.append({"seq": op["seq"], "at": d.get("at", 0.0), "by": op["by"], "kind": "home.pack",
                        "text": tr.gettext("sent a home pack: {what}", what=what),
                        "data": {"pack": d["id"], "items": len(d["items"])}})
            continue
        if t != "done":
            continue
        pack = packs.get(d["pack"]) or ((state or {}).get("pack") or {})
        if pack.get("id") != d["pack"]:
            pack = None
        item = _item(pack, d["item"]) if pack else None
        when = when_of({"at": pack.get("at", d["at"]) if pack else d["at"]}, d)
        # A pack replaced since (its op in an earlier record): the lines still read.
        title = item["title"] if item else tr.gettext("the home pack")
        visits.add(d["visit"])
        base = {"seq": op["seq"], "at": when, "by": None}
        if d["what"] == "step":
            step = (item["steps"][d["step"]]["text"] if item and d["step"] < len(item["steps"]) else "") \
                or tr.gettext("step {n}", n=d["step"] + 1)
            text = (tr.gettext("At home: did “{step}” ({title}, step {n})", step=step, title=title,
                               n=d["step"] + 1) if d["done"] else
                    tr.gettext("At home: took back “{step}” ({title}, step {n})", step=step,
                               title=title, n=d["step"] + 1))
            out.append({**base, "kind": "home.step", "text": text,
                        "data": {"item": d["item"], "step": d["step"], "done": d["done"]}})
        elif d["what"] == "breathe":
            out.append({**base, "kind": "home.breathe",
                        "text": tr.ngettext("At home: breathed {n} round of “{title}”",
                                            "At home: breathed {n} rounds of “{title}”",
                                            d["rounds"], title=title),
                        "data": {"item": d["item"], "rounds": d["rounds"]}})
        elif d["what"] == "read":       # one line per sitting and story: how far it got
            key = (d["visit"], d["item"])
            pages = len(item["pages"]) if item else d["page"] + 1
            if key in reads:
                e = reads[key]
                if d["page"] + 1 > e["data"]["page"]:
                    e["data"]["page"] = d["page"] + 1
                    e["text"] = tr.gettext("At home: read “{title}” (page {n} of {of})",
                                           title=title, n=d["page"] + 1, of=pages)
                continue
            reads[key] = {**base, "kind": "home.read",
                          "text": tr.gettext("At home: read “{title}” (page {n} of {of})",
                                             title=title, n=d["page"] + 1, of=pages),
                          "data": {"item": d["item"], "page": d["page"] + 1}}
            out.append(reads[key])
        else:                           # the check-in a sitting ended with
            key = (d["visit"], d["item"])
            line = {**base, "kind": "home.checkin",
                    "text": tr.gettext("At home: checked in — {value} ({word})", value=d["value"],
                                       word=_feeling(tr, d["value"])),
                    "data": {"item": d["item"], "value": d["value"]}}
            if key in feels:
                feels[key].clear()
                feels[key].update(line)
            else:
                feels[key] = line
                out.append(line)
    if visits:
        first = min((e for e in out if e["kind"].startswith("home.") and e["kind"] != "home.pack"),
                    key=lambda e: e["seq"])
        out.append({"seq": first["seq"], "at": first["at"] - 0.001, "by": None,
                    "kind": "home.summary",
                    "text": tr.ngettext("Practised at home {n} time since the last session",
                                        "Practised at home {n} times since the last session",
                                        len(visits)),
                    "data": {"visits": len(visits)}})
    return out
