"""Feelings check-in: a thermometer of five faces (1 = very upset … 5 = great) that the
child taps at the start or end of a session, or any time.

State (plain JSON):
    {"entries": [{"id", "value", "by", "at", "moment"}, ...],   oldest first
     "ask": {"id", "moment", "at"} | None}                        the open question

The entries stay in the room from week to week, so the therapist's chart shows this
child's check-ins across sessions. `at` is the server's time (the ops are stamped,
CLK1), never the tablet's. The therapist opens a question (`ask`) to say which moment
the answers belong to; an answer carries that question's id, so tapping another face
changes the answer instead of adding one. Without a question, a tap within
REPLACE_S seconds of the same entry changes it too (the browser reuses the id).
"""
from activities.contract.protocol import CHILD, E_CONFLICT, E_FULL, E_NOTHING, THERAPIST

from activities.contract import (Bound, may_play, OpSpec, Rejected, ident, integer, internal, one_of, require_dict, validate_op)
from activities.contract import home as home_kinds
from activities.contract.i18n import ENGLISH, N_

NAME = "checkin"
TITLE = N_("Feelings")
ICON = "feelings"

VALUES = (1, 2, 3, 4, 5)
MOMENTS = ("start", "end", "any")
MAX_ENTRIES = 1000
REPLACE_S = 120
# One face and colour per value: no reading needed.
FACES = {1: "feel-1", 2: "feel-2", 3: "feel-3", 4: "feel-4", 5: "feel-5"}
COLORS = {1: "#e53935", 2: "#fb8c00", 3: "#fdd835", 4: "#9ccc65", 5: "#43a047"}


# ---------------------------------------------------------------- validation

def _checkin(d):
    require_dict(d, ("id", "value", "moment"))
    return {"id": ident(d["id"]), "value": integer(d["value"], VALUES[0], VALUES[-1], "value"),
            "moment": one_of(d["moment"], MOMENTS, "moment")}


def _id_only(d):
    require_dict(d, ("id",))
    return {"id": ident(d["id"])}


def _ask(d):
    require_dict(d, ("id", "moment"))
    return {"id": ident(d["id"]), "moment": one_of(d["moment"], MOMENTS, "moment")}


def _nothing(d):
    require_dict(d, ())
    return {}


OPS = {
    "checkin": OpSpec(_checkin, stamped=True),
    "checkin.delete": OpSpec(_id_only),
    "ask": OpSpec(_ask, stamped=True),
    "ask.close": OpSpec(_nothing),
    # Produced by the server as inverses; never accepted from a client.
    "checkin.remove": OpSpec(internal("id"), client=False),
    "checkin.put": OpSpec(internal("entry"), client=False),
    "ask.restore": OpSpec(internal("ask"), client=False),
}

EPHEMERAL = {}


def validate(t, d):
    return validate_op(OPS, t, d)


# ---------------------------------------------------------------- authorisation

def may(role, t, settings):
    """The therapist does everything (and may answer for the child, who told them).
    The child answers while the room lets them play (child_may_draw). A parent
    watches: the check-ins are the child's."""
    if role == THERAPIST:
        return True
    return role == CHILD and t == "checkin" and may_play(settings, role, NAME)


# ---------------------------------------------------------------- reducer

def initial_state():
    return {"entries": [], "ask": None}


# ROOM1: the check-ins kept from session to session; an undo cannot go past it.
BOUND = Bound(MAX_ENTRIES, lambda state: len(state["entries"]),
              f"At most {MAX_ENTRIES} check-ins in a room: delete some first.")


def _find(entries, eid):
    for i, e in enumerate(entries):
        if e["id"] == eid:
            return i, e
    return -1, None


def check(state, t, d):
    """State-dependent rules for a client op that passed validate()."""
    if t == "checkin":
        _, old = _find(state["entries"], d["id"])
        if old is None:
            if len(state["entries"]) >= MAX_ENTRIES:
                return Rejected(E_FULL, f"at most {MAX_ENTRIES} check-ins in a room")
        elif not _replaceable(state, old, d):
            return Rejected(E_CONFLICT, "a check-in with that id exists")
    if t == "checkin.delete" and _find(state["entries"], d["id"])[1] is None:
        return Rejected(E_NOTHING, "no such check-in")
    if t == "ask.close" and state["ask"] is None:
        return Rejected(E_NOTHING, "no question is open")
    return None


def _replaceable(state, old, d):
    """An answer may be changed while its question is open, or shortly after it."""
    ask = state["ask"]
    return (ask is not None and ask["id"] == d["id"]) or 0 <= d["at"] - old["at"] <= REPLACE_S


def apply(state, t, d, by=None):
    """Apply op (t, d) by participant `by`. Returns (new_state, inverse or None). Pure."""
    entries = state["entries"]
    if t == "checkin":
        entry = {"id": d["id"], "value": d["value"], "by": by, "at": d["at"],
                 "moment": d["moment"]}
        i, old = _find(entries, d["id"])
        if old is None:
            return {**state, "entries": entries + [entry]}, ("checkin.remove", {"id": d["id"]})
        if old == entry:
            return state, None
        return _put(state, i, entry), ("checkin.put", {"entry": old, "index": i})
    if t in ("checkin.delete", "checkin.remove"):
        i, old = _find(entries, d["id"])
        if old is None:
            return state, None
        return {**state, "entries": entries[:i] + entries[i + 1:]}, \
            ("checkin.put", {"entry": old, "index": i})
    if t == "checkin.put":
        entry = d["entry"]
        i, old = _find(entries, entry["id"])
        if old is not None:   # replace in place (an undone change of answer)
            if old == entry:
                return state, None
            return _put(state, i, entry), ("checkin.put", {"entry": old, "index": i})
        new = list(entries)
        new.insert(min(d.get("index", len(new)), len(new)), entry)
        return {**state, "entries": new}, ("checkin.remove", {"id": entry["id"]})
    if t == "ask":
        return _ask_set(state, {"id": d["id"], "moment": d["moment"], "at": d["at"]})
    if t == "ask.close":
        return _ask_set(state, None)
    if t == "ask.restore":
        return _ask_set(state, d["ask"])
    raise ValueError(f"unknown checkin op {t}")


def _put(state, i, entry):
    entries = list(state["entries"])
    entries[i] = entry
    return {**state, "entries": entries}


def _ask_set(state, ask):
    if state["ask"] == ask:
        return state, None
    return {**state, "ask": ask}, ("ask.restore", {"ask": state["ask"]})


def client_config(tr=ENGLISH):
    return {
        "values": list(VALUES), "moments": list(MOMENTS),
        "faces": {str(k): v for k, v in FACES.items()},
        "colors": {str(k): v for k, v in COLORS.items()},
        # The feelings words of the faces, in the reader's language (the faces' names).
        "words": {str(k): v for k, v in feeling_words(tr).items()},
        "replace_s": REPLACE_S,
        "limits": {"entries": MAX_ENTRIES},
        "ops": [t for t, s in OPS.items() if s.client],
    }


# ---------------------------------------------------------------- what a guest reads

def visible(state, role, session):
    """READ2: the check-ins stay in the room for the therapist's chart; a guest's
    snapshot holds only this session's (stamped at or after its start, both by the
    server's clock). The open question stays: it is what the child answers now."""
    if role == THERAPIST:
        return state
    start = session.get("at") if session else None
    entries = [e for e in state["entries"] if start is not None and e["at"] >= start]
    if len(entries) == len(state["entries"]):
        return state
    return {**state, "entries": entries}


# ---------------------------------------------------------------- session record

def feeling_words(tr=ENGLISH):
    """The faces' feelings words in `tr`'s language (with a context: "good" or "okay"
    may mean something else in another catalog)."""
    return {1: tr.pgettext("feeling", "very upset"), 2: tr.pgettext("feeling", "upset"),
            3: tr.pgettext("feeling", "okay"), 4: tr.pgettext("feeling", "good"),
            5: tr.pgettext("feeling", "great")}


WORDS = feeling_words()


def home_items(state, tr=ENGLISH):
    """A check-in may go home (issue 17 part 3): the same five faces."""
    words = feeling_words(tr)
    return [("checkin", home_kinds.checkin_item(tr.gettext("How do you feel?"),
                                          [{"value": v, "pic": FACES[v], "color": COLORS[v],
                                            "word": words[v]} for v in VALUES]))]
MOMENT_WORDS = {"start": N_("start of session"), "end": N_("end of session"),
                "any": N_("during the session")}


def _moment(tr, m):
    return tr.gettext(MOMENT_WORDS[m]) if m in MOMENT_WORDS else m


def record_entries(ops, state=None, ended_at=None, tr=ENGLISH):
    """Timeline entries for the session record (activities/contract/__init__.py): every check-in
    (a changed answer is a new line, as the op log has it), check-ins taken back or
    deleted, and the therapist's questions."""
    out = []
    for op in ops:
        t, d = op["t"], op["d"]
        base = {"seq": op["seq"], "at": d.get("at", op["ts"]), "by": op["by"]}
        if t == "checkin" or (t == "checkin.put" and op["kind"] != "do"):
            e = d if t == "checkin" else d["entry"]
            v = e["value"]
            params = {"value": v, "word": feeling_words(tr).get(v, ""),
                      "moment": _moment(tr, e["moment"])}
            text = tr.gettext("checked in: {value} of 5, {word} ({moment})", **params) if t == "checkin" \
                else tr.gettext("put back a check-in: {value} of 5, {word} ({moment})", **params)
            out.append({**base, "kind": "checkin", "text": text,
                        "data": {"id": e["id"], "value": v, "moment": e["moment"]}})
        elif t == "checkin.remove":
            out.append({**base, "kind": "checkin.undo", "text": tr.gettext("took back a check-in"),
                        "data": {"id": d["id"]}})
        elif t == "checkin.delete":
            out.append({**base, "kind": "checkin.delete", "text": tr.gettext("deleted a check-in"),
                        "data": {"id": d["id"]}})
        elif t == "ask":
            out.append({**base, "kind": "ask",
                        "text": tr.gettext("asked for a check-in ({moment})", moment=_moment(tr, d["moment"])),
                        "data": {"moment": d["moment"]}})
    return out
