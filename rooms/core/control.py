"""The room itself as a tiny reducer: who is in, who waits, what each role may do,
what the therapist shows, and when a session starts and ends (CTL1-CTL8).

Room-level changes are ops in the room's ordinary log under the reserved name
`"room"`, so they are ordered with every activity op, survive restarts, reach every
server process through the same log, and are the raw material of the session record.
This module is pure (no storage, no sockets): `apply(state, t, d)` returns the new
state, like an activity's reducer. It knows activities only as names.

State:
    settings   what the browser gets as `settings` (SET1): role master switches,
               per-role per-activity permissions, lock, freeze, auto_admit, follow,
               private, and the therapist's shown `view`
    session    None, or {"start": seq of the start op, "at": server time,
               "private_end": seq of the op that last ended private child time in
               this session, or None} (records made before READ1 lack it: unknown)
    people     {pid: {id, name, role, avatar, online, here}} of this session; `here`
               is the seq of the presence op that last brought them in (READ1)
    removed    [pid] and `removed_invites` [invite id]: refused for this session
"""
import copy

from activities.contract import Invalid, OpSpec, ident, require_dict
from activities.contract.protocol import CHILD, GUEST_ROLES, PARENT, THERAPIST

NAME = "room"

# Settings keys with boolean values (besides `perms` and `view`).
FLAGS = ("child_may_draw", "parent_may_play", "auto_admit", "lock", "freeze", "follow", "private")
SWITCH = "switch"   # the per-role permission to change activity (when follow-me is off)


def default_settings(activity_names):
    """Settings of a new room. Both roles may play every activity once their master
    switch is on; only the child may switch activities by default."""
    perms = {role: {**{name: True for name in activity_names}, SWITCH: role == CHILD}
             for role in GUEST_ROLES}
    return {"child_may_draw": True, "parent_may_play": False, "auto_admit": False,
            "lock": False, "freeze": False, "follow": False, "private": False,
            "perms": perms, "view": {"activity": None}}


def merge_settings(defaults, stored):
    """`stored` (possibly from an older version, possibly missing keys or naming
    activities that no longer exist) laid over `defaults`."""
    out = copy.deepcopy(defaults)
    if not isinstance(stored, dict):
        return out
    for k in FLAGS:
        if isinstance(stored.get(k), bool):
            out[k] = stored[k]
    perms = stored.get("perms")
    if isinstance(perms, dict):
        for role, table in out["perms"].items():
            given = perms.get(role)
            if isinstance(given, dict):
                for key in table:
                    if isinstance(given.get(key), bool):
                        table[key] = given[key]
    view = stored.get("view")
    if isinstance(view, dict) and (view.get("activity") is None or isinstance(view.get("activity"), str)):
        out["view"] = view
    return out


def initial_state(settings):
    return {"settings": settings, "session": None, "people": {}, "removed": [],
            "removed_invites": []}


# ---------------------------------------------------------------- validation

def validate_settings(d, settings):
    """A partial settings change: known flags as booleans, perms as
    {role: {activity or "switch": bool}}. Returns the change or raises Invalid."""
    if not isinstance(d, dict) or not d:
        raise Invalid("settings change must be a non-empty object")
    for k, v in d.items():
        if k in FLAGS:
            if not isinstance(v, bool):
                raise Invalid(f"{k} must be true or false")
        elif k == "perms":
            if not isinstance(v, dict) or not v:
                raise Invalid("perms must be an object")
            for role, table in v.items():
                known = settings["perms"].get(role)
                if known is None or not isinstance(table, dict) or not table:
                    raise Invalid("perms: unknown role")
                for key, allowed in table.items():
                    if key not in known or not isinstance(allowed, bool):
                        raise Invalid("perms: unknown permission or value")
        else:
            raise Invalid(f"unknown setting: {str(k)[:40]}")
    return d


def validate_view(d, activity_names):
    require_dict(d, ("activity",), ("view",))
    if d["activity"] not in activity_names:
        raise Invalid("no such activity")
    view = d.get("view")
    if view is not None:
        if not isinstance(view, dict) or len(view) > 4:
            raise Invalid("view must be a small object")
        for k, v in view.items():
            if not isinstance(k, str) or len(k) > 16:
                raise Invalid("view keys are short names")
            if not (v is None or isinstance(v, bool) or
                    (isinstance(v, (int, float)) and abs(v) < 1e9) or
                    (isinstance(v, str) and len(v) <= 64)):
                raise Invalid("view values are short")
    return d


def validate_action(msg, settings, activity_names):
    """A therapist's `control` event {action, ...} (op_id already taken off) as the
    room op it becomes: (t, d). Raises Invalid."""
    action = msg.get("action")
    body = {k: v for k, v in msg.items() if k != "action"}
    if action == "settings":
        require_dict(body, ("changes",))
        return "settings", validate_settings(body["changes"], settings)
    if action == "view":
        return "view", validate_view(body, activity_names)
    if action in ("admit", "remove"):
        require_dict(body, ("pid",), ("revoke",) if action == "remove" else ())
        ident(body["pid"], "pid")
        if not isinstance(body.get("revoke", False), bool):
            raise Invalid("revoke must be true or false")
        return action, body
    if action == "end":
        require_dict(body, ())
        return "session", {"state": "end"}
    raise Invalid("unknown action")


# Every room op is written by the server (the `control` event is translated into
# one); none is undoable. The specs exist so the engine's pipeline treats room ops
# like any activity's.
OPS = {
    "settings": OpSpec(lambda d: d, client=False, undoable=False, stamped=True),
    "view": OpSpec(lambda d: d, client=False, undoable=False, stamped=True),
    "session": OpSpec(lambda d: d, client=False, undoable=False, stamped=True),
    "presence": OpSpec(lambda d: d, client=False, undoable=False, stamped=True),
    "admit": OpSpec(lambda d: d, client=False, undoable=False, stamped=True),
    "remove": OpSpec(lambda d: d, client=False, undoable=False, stamped=True),
}


# ---------------------------------------------------------------- reducer

def apply(state, t, d, by=None, seq=None):
    """Pure: returns (new state, None). Room ops have no inverse (not undoable).
    `seq` is the op's own seq: the read policy's floors are seqs (READ1)."""
    s = dict(state)
    if t == "settings":
        if d.get("private") is False and s["settings"].get("private") and s["session"]:
            s["session"] = {**s["session"], "private_end": seq}
        settings = copy.deepcopy(s["settings"])
        for k, v in d.items():
            if k == "perms":
                for role, table in v.items():
                    settings["perms"].setdefault(role, {}).update(table)
            elif k != "at":
                settings[k] = v
        s["settings"] = settings
    elif t == "view":
        s["settings"] = {**s["settings"], "view": {k: v for k, v in d.items() if k != "at"}}
    elif t == "session":
        s["quiet_since"] = None
        if d["state"] == "start":
            s["session"] = {"start": seq, "at": d["at"], "private_end": None}
        else:
            # A new session starts clean: nobody seen, nobody removed. Revoked
            # links stay revoked (that lives with the invite).
            s["session"] = None
            # The therapist stays (still connected); guests were sent home.
            s["people"] = {pid: p for pid, p in s["people"].items()
                           if p.get("role") == THERAPIST and p.get("online")}
            s["removed"], s["removed_invites"] = [], []
            s["settings"] = {**s["settings"], "private": False, "freeze": False,
                             "lock": False}
    elif t == "presence":
        people = dict(s["people"])
        info = {k: d[k] for k in ("name", "role", "avatar", "invite") if k in d}
        prev = people.get(d["pid"], {})
        people[d["pid"]] = {**prev, **info, "id": d["pid"], "online": bool(d["online"]),
                            "seen": True}
        if d["online"] and not (prev.get("online") and prev.get("seen")):
            people[d["pid"]]["here"] = seq     # (back) in the room from this op on
        s["people"] = people
        # Since when nobody is here (an open session nobody returns to ends by itself).
        s["quiet_since"] = None if any(p.get("online") for p in people.values()) else d["at"]
    elif t == "admit":
        s["removed"] = [p for p in s["removed"] if p != d["pid"]]
        people = dict(s["people"])
        prev = people.get(d["pid"])
        people[d["pid"]] = {**(prev or {"id": d["pid"]}), "admitted": True,
                            "online": bool(prev and prev.get("online"))}
        for k in ("name", "role", "avatar", "invite"):
            if k in d:
                people[d["pid"]][k] = d[k]
        s["people"] = people
    elif t == "remove":
        s["removed"] = sorted(set(s["removed"]) | {d["pid"]})
        if d.get("invite"):
            s["removed_invites"] = sorted(set(s["removed_invites"]) | {d["invite"]})
        people = dict(s["people"])
        if d["pid"] in people:
            people[d["pid"]] = {**people[d["pid"]], "online": False, "admitted": False}
        s["people"] = people
    return s, None


# ---------------------------------------------------------------- rules (pure)

def entry(state, participant):
    """May this participant enter now?  "ok", "wait" (waiting room: not admitted
    yet, or the room is locked to newcomers), "private" (a parent during private
    child time) or "removed" (for the rest of this session)."""
    role = participant["role"]
    if role == THERAPIST:
        return "ok"
    pid = participant["id"]
    if pid in state["removed"] or (participant.get("invite_id") and
                                   participant["invite_id"] in state["removed_invites"]):
        return "removed"
    settings = state["settings"]
    known = state["people"].get(pid)
    # Admitted in this session, or already in it (a reconnect after a Wi-Fi blip).
    inside = state["session"] is not None and known is not None and \
        (known.get("admitted") or known.get("seen"))
    if not inside and (settings.get("lock") or not settings.get("auto_admit")):
        return "wait"
    if role == PARENT and settings.get("private"):
        return "private"
    return "ok"


def online(state):
    """The presence list (PRES1): everyone seen in this session, online or away."""
    return [{k: p.get(k) for k in ("id", "name", "role", "avatar", "online")}
            for p in state["people"].values() if p.get("seen")]
