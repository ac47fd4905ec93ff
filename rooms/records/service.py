"""Session records: what happened in one session, written by the server from the op log.

Single entry point, called by the engine when the therapist ends a session, AFTER it
has released the room lock (rendering pictures can take a second on a big board):

    RecordService(storage, registry, assets_root).close_session(
        room_id, first_seq, last_seq, states=None) -> record dict | None

    room_id    the room whose session ended
    first_seq  seq of the session's first op (its `room`/`session` start op)
    last_seq   seq of its last op (the `room`/`session` end op)
    states     {activity name: state at the end of the session}; None: asked of
               `states_of(room_id)` given to the service (the engine's current states)

In the app the service is app.extensions["playroom"].records, also registered in
Playroom.session_end_hooks (run as a background task). A repeated call for the same
session (same room and first_seq) returns the stored record instead of a second one.

It reads the session's ops (first_seq..last_seq) and the room's participants, builds
the timeline (`build_timeline`, pure), renders the snapshot pictures from `states`,
and stores all of it as one record (storage.create_record), so the record no longer
depends on the op log. It returns the stored record, or None when the room is gone
or the session held no ops. It never raises for bad data: an activity whose summary
or picture fails is logged and left out, the rest is kept.

Room-level ops (activity name "room", reserved) are described here; every activity
describes its own ops through the optional interface functions (activities/contract/__init__.py):

    record_entries(ops, state=None, ended_at=None, tr=ENGLISH) -> [entry]
        entry = {seq, at, by, kind, text, data}; `by` a participant id or None. The
        text never names a person: the timeline adds `who`. `tr` is the translator of
        the therapist's account language: the record is written in it (issue 16).
    record_pictures(state, tr=ENGLISH) -> [(key, caption)] (captions in tr's language)
        the pictures worth keeping of the final state; each key is passed to the
        activity's render(state, key, assets). An entry whose data holds
        {"picture": key} (an explicit snapshot, e.g. a saved sand tray) is rendered
        the same way.

An activity without these functions contributes nothing (and never breaks a record).
"""
import io
import json
import logging
import re
import zipfile

from babel.dates import format_datetime

from activities.contract import printable
from activities.contract.i18n import ENGLISH, N_
from rooms.assets.pictures import Assets
from rooms.core.offload import Offload

log = logging.getLogger("playroom.records")

ROOM = "room"                     # the reserved activity name of room-level ops
MAX_PICTURES = 40                 # per record: bounds the work at session end
BETWEEN_LOOKBACK = 5000           # ops read back for what happened between sessions
ROLE_LABELS = {"therapist": N_("Therapist"), "child": N_("Child"), "parent": N_("Parent")}
SOMEONE = N_("Someone")           # a participant of no known role and no name


# ------------------------------------------------------------------ timeline (pure)

def _at(op):
    d = op.get("d")
    at = d.get("at") if isinstance(d, dict) else None
    return at if isinstance(at, (int, float)) and not isinstance(at, bool) else op.get("ts", 0.0)


# What the therapist did, in words, per room setting (others: "set <key> on/off").
# The timeline puts the person first: "Dr. Kim locked the room (no new joins)".
# Written in the therapist's language when the record is built (issue 16).
SETTING_TEXT = {
    "lock": (N_("locked the room (no new joins)"), N_("unlocked the room")),
    "freeze": (N_("paused everyone's input"), N_("let everyone play again")),
    "follow": (N_("turned follow me on"), N_("turned follow me off")),
    "private": (N_("started private child time"), N_("ended private child time")),
    "auto_admit": (N_("let guests in automatically"), N_("made guests wait to be let in")),
    "child_may_draw": (N_("let the child play"), N_("made the child watch only")),
    "parent_may_play": (N_("let the parent play"), N_("made the parent watch only")),
}
SETTING_TEXT.update({"locked": SETTING_TEXT["lock"], "frozen": SETTING_TEXT["freeze"],
                     "follow_me": SETTING_TEXT["follow"]})


def _setting_text(key, value, tr=ENGLISH):
    if key in SETTING_TEXT and isinstance(value, bool):
        return tr.gettext(SETTING_TEXT[key][0 if value else 1])
    label = str(key).replace("_", " ")
    if isinstance(value, bool):
        return (tr.gettext("set {setting} on", setting=label) if value
                else tr.gettext("set {setting} off", setting=label))
    return tr.gettext("set {setting} {value}", setting=label, value=value)


def _title(mod, key, tr=ENGLISH):
    """An activity's title in the reader's language (its TITLE is an N_() mark)."""
    title = getattr(mod, "TITLE", None)
    return tr.gettext(title) if title else str(key)


# Whole sentences per role and permission (word order differs per language).
PERM_TEXT = {
    ("child", "switch", True): N_("let the child switch activities"),
    ("child", "switch", False): N_("stopped the child from being able to switch activities"),
    ("parent", "switch", True): N_("let the parent switch activities"),
    ("parent", "switch", False): N_("stopped the parent from being able to switch activities"),
    ("child", "play", True): N_("let the child play in {activity}"),
    ("child", "play", False): N_("stopped the child from being able to play in {activity}"),
    ("parent", "play", True): N_("let the parent play in {activity}"),
    ("parent", "play", False): N_("stopped the parent from being able to play in {activity}"),
    ("*", "switch", True): N_("let the {role} switch activities"),
    ("*", "switch", False): N_("stopped the {role} from being able to switch activities"),
    ("*", "play", True): N_("let the {role} play in {activity}"),
    ("*", "play", False): N_("stopped the {role} from being able to play in {activity}"),
}


def _perm_texts(perms, registry, tr=ENGLISH):
    """{role: {activity | "switch": bool}} -> [(text, data)], e.g. "let the child play in Draw"."""
    out = []
    for role, table in perms.items() if isinstance(perms, dict) else ():
        for key, allowed in (table.items() if isinstance(table, dict) else ()):
            what = "switch" if key == "switch" else "play"
            message = PERM_TEXT.get((role, what, bool(allowed)))
            title = "" if key == "switch" else _title(registry.get(key), key, tr)
            # A role the record does not know by name (not expected): named as stored.
            message = message or PERM_TEXT[("*", what, bool(allowed))]
            text = tr.gettext(message, activity=title, role=role)
            out.append((text, {"key": "perms", "role": role, "activity": key, "value": allowed}))
    return out


def room_entries(ops, registry, names, tr=ENGLISH):
    """Timeline entries of the room-level ops (joins and leaves, waiting room, settings,
    follow-me activity switches, private child time, session start and end), in the
    language of `tr` (the therapist's: the record is theirs)."""
    out = []
    shown = None
    for op in ops:
        t, d = op.get("t"), op.get("d") if isinstance(op.get("d"), dict) else {}
        base = {"seq": op["seq"], "at": _at(op), "by": op.get("by")}
        pid = d.get("pid")
        if t == "session":
            # The start happens when the first person comes in: nobody "started" it.
            start = d.get("state") == "start"
            out.append({**base, "by": None if start else base["by"], "kind": "session",
                        "text": tr.gettext("Session started") if start
                        else tr.gettext("ended the session"),
                        "data": {"state": d.get("state")}})
        elif t == "presence":
            online = bool(d.get("online"))
            out.append({**base, "by": pid, "kind": "join" if online else "leave",
                        "text": tr.gettext("joined") if online else tr.gettext("left"),
                        "data": {"pid": pid}})
        elif t == "admit":
            out.append({**base, "kind": "admit", "text": tr.gettext("let {name} in", name=names(pid)),
                        "data": {"pid": pid}})
        elif t == "remove":
            text = (tr.gettext("removed {name} and switched off their link", name=names(pid))
                    if d.get("revoke") else tr.gettext("removed {name}", name=names(pid)))
            out.append({**base, "kind": "remove", "text": text,
                        "data": {"pid": pid, "revoke": bool(d.get("revoke"))}})
        elif t == "settings":
            changes = {k: v for k, v in d.items() if k != "at"}
            for key, value in changes.items():
                if key == "perms":
                    for text, data in _perm_texts(value, registry, tr):
                        out.append({**base, "kind": "settings", "text": text, "data": data})
                    continue
                kind = "private" if key == "private" else "settings"
                out.append({**base, "kind": kind, "text": _setting_text(key, value, tr),
                            "data": {"key": key, "value": value}})
        elif t == "view":
            act = d.get("activity")
            if act == shown:
                continue          # a page turn inside the same activity is not a switch
            shown = act
            title = _title(registry.get(act), act, tr)
            out.append({**base, "kind": "switch",
                        "text": tr.gettext("showed everyone {activity}", activity=title),
                        "data": {"activity": act}})
        elif t == "private":
            on = bool(d.get("on"))
            out.append({**base, "kind": "private",
                        "text": tr.gettext(SETTING_TEXT["private"][0 if on else 1]),
                        "data": {"on": on}})
        else:
            out.append({**base, "kind": "room", "text": tr.gettext("room: {op}", op=t), "data": {}})
    return out


def participant_names(participants, tr=ENGLISH):
    """pid -> {name, role} from the room's participants (list of dicts)."""
    return {p["id"]: {"name": p.get("name") or tr.gettext(ROLE_LABELS.get(p.get("role"), SOMEONE)),
                      "role": p.get("role")} for p in participants}


def build_timeline(ops, participants, registry, states=None, ended_at=None, tr=ENGLISH):
    """The session's ops -> timeline entries [{seq, at, who, role, kind, text, data,
    activity}], in seq order. Pure: `ops` as storage.ops_since returns them,
    `participants` as storage.list_participants (plus the therapist), `states` the
    final activity states (for names of things that only the state knows), `tr` the
    language the lines are written in (the therapist's; what people said or typed is
    kept as written)."""
    people = participant_names(participants, tr)
    for op in ops:     # presence ops name who came (a guest removed since, the therapist)
        d = op.get("d") if isinstance(op.get("d"), dict) else {}
        if op.get("a") == ROOM and d.get("pid") not in people and d.get("name"):
            people[d["pid"]] = {"name": d["name"], "role": d.get("role")}

    def name(pid):
        return people.get(pid, {}).get("name") or tr.gettext("someone")

    states = states or {}
    if ended_at is None:
        ended_at = max((_at(op) for op in ops), default=0.0)
    by_activity = {}
    for op in ops:
        by_activity.setdefault(op.get("a"), []).append(op)
    entries = []
    for act_name, act_ops in by_activity.items():
        if act_name == ROOM:
            found = room_entries(act_ops, registry, name, tr)
        else:
            mod = registry.get(act_name)
            fn = getattr(mod, "record_entries", None)
            if fn is None:
                continue
            try:
                found = list(_activity_entries(fn, act_ops, states.get(act_name), ended_at, tr))
            except Exception:
                log.exception("record_entries of %s failed; its entries are left out", act_name)
                continue
        for e in found:
            pid = e.get("by")
            who = people.get(pid)
            entries.append({"seq": e.get("seq", 0), "at": e.get("at", 0.0),
                            "who": who["name"] if who else None,
                            "role": who["role"] if who else None,
                            "kind": e.get("kind", "note"), "text": str(e.get("text", "")),
                            "data": e.get("data") or {}, "activity": act_name})
    entries.sort(key=lambda e: (e["seq"], e["at"]))
    return entries


def _activity_entries(fn, ops, state, ended_at, tr):
    """An activity's record_entries in the reader's language (the contract passes
    `tr`); one written before the contract had `tr` is called without it."""
    import inspect
    try:
        takes_tr = "tr" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        takes_tr = False
    return fn(ops, state, ended_at, tr=tr) if takes_tr else fn(ops, state, ended_at)


# ------------------------------------------------------------------ pictures

def _safe(text):
    return re.sub(r"[^A-Za-z0-9_-]+", "-", str(text)).strip("-")[:40] or "picture"


def picture_requests(timeline, touched, states, registry, tr=ENGLISH):
    """[(activity, key, caption)] to render: the explicit snapshots in the timeline,
    then each touched activity's record_pictures of its final state."""
    wanted, seen = [], set()
    for e in timeline:
        key = e["data"].get("picture") if isinstance(e.get("data"), dict) else None
        if key is not None and (e["activity"], key) not in seen:
            seen.add((e["activity"], key))
            wanted.append((e["activity"], key, e["data"].get("caption") or e["text"]))
    for act_name in touched:
        mod = registry.get(act_name)
        fn = getattr(mod, "record_pictures", None)
        if fn is None or not hasattr(mod, "render") or act_name not in states:
            continue
        try:
            for key, caption in fn(states[act_name], tr=tr):
                if (act_name, key) not in seen:
                    seen.add((act_name, key))
                    wanted.append((act_name, key, caption))
        except Exception:
            log.exception("record_pictures of %s failed", act_name)
    return wanted[:MAX_PICTURES]


def render_pictures(requests, states, registry, assets_root):
    """PNG bytes for each request: [{name, caption, activity, png}]. A picture that
    cannot be rendered (its saved tray is gone) is left out."""
    out = []
    for act_name, key, caption in requests:
        mod = registry.get(act_name)
        try:
            img = mod.render(states[act_name], key, Assets(assets_root))
        except KeyError:
            continue
        except Exception:
            log.exception("rendering %s/%s for a record failed", act_name, key)
            continue
        buf = io.BytesIO()
        img.save(buf, "PNG", optimize=False)
        out.append({"name": f"{len(out) + 1:02d}-{_safe(act_name)}-{_safe(key)}.png",
                    "caption": caption, "activity": act_name, "png": buf.getvalue()})
    return out


# ------------------------------------------------------------------ the service

class RecordService:
    """Builds and stores session records (see the module docstring)."""

    def __init__(self, storage, registry, assets_root, states_of=None, offload=None,
                 translator=None):
        self.storage = storage
        # translator(lang code or None) -> Translator: the record is written in the
        # therapist's account language (issue 16); without one, in English.
        self.translator = translator
        # Timeline and pictures are built off the serving loop (WORK1).
        self.offload = offload or Offload()
        self.registry = registry
        self.assets_root = assets_root
        # states_of(room_id) -> {activity: state}: used when close_session gets no states.
        self.states_of = states_of

    def _participants(self, room, tr=ENGLISH):
        people = list(self.storage.list_participants(room["id"]))
        th_pid = f"th-{room['therapist_id']}"
        if not any(p["id"] == th_pid for p in people):
            th = self.storage.get_therapist(room["therapist_id"])
            people.append({"id": th_pid, "role": "therapist",
                           "name": th["name"] if th else tr.gettext("Therapist"), "avatar": "owl"})
        return people

    def therapist_tr(self, therapist_id):
        """The translator of the therapist's account language (storage.get_language,
        when the storage has it), else English."""
        if self.translator is None:
            return ENGLISH
        getter = getattr(self.storage, "get_language", None)
        try:
            code = getter(therapist_id) if getter else None
        except Exception:
            log.exception("reading the language of therapist %s failed", therapist_id)
            code = None
        return self.translator(code)

    def close_session(self, room_id, first_seq, last_seq, states):
        """Build and store the record of the session first_seq..last_seq. Returns the
        stored record (without pictures' bytes), or None."""
        try:
            if states is None and self.states_of is not None:
                states = self.states_of(room_id)
            return self._close(room_id, int(first_seq), int(last_seq), dict(states or {}))
        except Exception:
            log.exception("building the record of room %s failed", room_id)
            return None

    def _close(self, room_id, first_seq, last_seq, states):
        room = self.storage.get_room(room_id)
        if room is None:
            return None
        for done in self.storage.list_records(room_id):
            if done["first_seq"] == first_seq:      # already written (a repeated call)
                return self.storage.get_record(done["id"])
        ops = [op for op in self.storage.ops_since(room_id, max(0, first_seq - 1))
               if op["seq"] <= last_seq]
        if not ops:
            return None
        between = self._between(room_id, first_seq)
        starts = [_at(o) for o in ops if o["a"] == ROOM and o["t"] == "session"
                  and o["d"].get("state") == "start"]
        ends = [_at(o) for o in ops if o["a"] == ROOM and o["t"] == "session"
                and o["d"].get("state") == "end"]
        started_at = starts[0] if starts else _at(ops[0])
        ended_at = ends[-1] if ends else max(_at(ops[-1]), started_at)
        tr = self.therapist_tr(room["therapist_id"])
        people = self._participants(room, tr)
        timeline, pics = self.offload.run(self._contents, between + ops, people, states,
                                          ended_at, tr)
        present = {op["by"] for op in ops} | {op["d"].get("pid") for op in ops if op["a"] == ROOM}
        record = {
            "room_id": room_id, "therapist_id": room["therapist_id"],
            "room_name": room["name"], "started_at": float(started_at),
            "ended_at": float(ended_at), "first_seq": first_seq, "last_seq": last_seq,
            "participants": [{"id": p["id"], "name": p["name"], "role": p["role"]}
                             for p in people if p["id"] in present],
            "timeline": timeline,
        }
        return self.storage.create_record(record, pics)

    def _between(self, room_id, first_seq):
        """The ops since the previous recorded session of the activities whose work
        happens between sessions (`BETWEEN_SESSIONS`: home practice, issue 17 part 3):
        the next record tells what the family did at home since the last one."""
        wanted = {n for n in self.registry.names()
                  if getattr(self.registry.get(n), "BETWEEN_SESSIONS", False)}
        if not wanted:
            return []
        before = [r["last_seq"] for r in self.storage.list_records(room_id)
                  if r["first_seq"] < first_seq]
        # At most BETWEEN_LOOKBACK ops back: between sessions only the family's ops
        # happen (bounded by the activity), and a room whose records retention deleted
        # would otherwise read its whole history at every session's end.
        since = max(max(before, default=0), first_seq - 1 - BETWEEN_LOOKBACK)
        if since >= first_seq - 1:
            return []
        return [op for op in self.storage.ops_since(room_id, since, limit=first_seq - 1 - since)
                if op["a"] in wanted]

    def _contents(self, ops, people, states, ended_at, tr=ENGLISH):
        """Pure (it runs in a worker thread): the timeline and its pictures. Rendering
        a big board took seconds that no other room was served in."""
        timeline = build_timeline(ops, people, self.registry, states, ended_at, tr)
        touched = []
        for op in ops:
            if op["a"] != ROOM and op["a"] not in touched:
                touched.append(op["a"])
        pics = render_pictures(picture_requests(timeline, touched, states, self.registry, tr),
                               states, self.registry, self.assets_root)
        return timeline, pics


# ------------------------------------------------------------------ exports

# How a record names a day, per language (CLDR patterns, babel.dates): English as it
# always was ("Mon 07 Dec 2026"), Spanish "lun 7 dic 2026"; others CLDR's medium date.
DAY_PATTERNS = {"en": "EEE dd MMM yyyy", "es": "EEE d MMM yyyy"}


def _local(ts):
    """The server's local wall-clock time of `ts` (records are in server time)."""
    import datetime
    return datetime.datetime.fromtimestamp(ts)


def clock_time(ts, locale=None):
    return format_datetime(_local(ts), "HH:mm", locale=locale or "en")


def entry_time(ts, start, locale=None):
    """When a timeline line happened: its time, with the day and month when it is not
    the session's day (what a family did at home the days before, issue 17)."""
    if _local(ts).date() == _local(start).date():
        return clock_time(ts, locale)
    return format_datetime(_local(ts), "d MMM HH:mm", locale=locale or "en")


def day(ts, locale=None):
    locale = locale or ENGLISH.locale
    pattern = DAY_PATTERNS.get(str(getattr(locale, "language", locale)))
    if pattern is None:
        from babel.dates import format_date
        return format_date(_local(ts).date(), "medium", locale=locale)
    return format_datetime(_local(ts), pattern, locale=locale)


def duration(seconds):
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    m, s = divmod(seconds, 60)
    if m < 60:
        return f"{m} min {s} s" if s else f"{m} min"
    h, m = divmod(m, 60)
    return f"{h} h {m} min"


def entry_line(e):
    who = f"{e['who']} " if e.get("who") else ""
    return f"{who}{e['text']}" if who else e["text"][:1].upper() + e["text"][1:]




def record_pdf(record, pictures, notes=(), assets_root=None, tr=ENGLISH):
    """The record as PDF bytes with a text layer (rooms/records/documents.py, fpdf2): a summary
    and the timeline, the therapist's notes, then one page per picture, in the language
    of `tr`. `pictures` = [{caption, png}]."""
    from . import documents
    return documents.record_pdf(record, pictures, notes, assets_root, tr=tr)


def session_safety(storage, room_id, first_seq):
    """Where the child was and the emergency contact of one session (SAFE2; {} when
    none): kept beside the record, never in the op log guests read."""
    data = storage.get_safety(room_id, first_seq)
    return json.loads(data) if data else {}


def merge_safety(storage, room_id, first_seq, changes):
    """Store `changes` over what the session already has (the therapist's fields and
    the parent's confirmation are written by different people). Returns the whole."""
    details = {**session_safety(storage, room_id, first_seq), **changes}
    storage.save_safety(room_id, first_seq, json.dumps(details))
    return details


def safety_lines(safety, tr=ENGLISH):
    """The record's words for it (page, PDF): [] when nothing was recorded."""
    keys = ("location", "contact_name", "contact_phone", "parent_location")
    if not any(safety.get(k) for k in keys):
        return []
    contact = ", ".join(v for v in (safety.get("contact_name"), safety.get("contact_phone")) if v)
    missing = tr.gettext("not recorded")
    lines = [tr.gettext("Child was at: {place}", place=safety.get("location") or missing),
             tr.gettext("Emergency contact: {contact}", contact=contact or missing)]
    if safety.get("parent_location"):
        lines.append(tr.gettext("The parent said on joining: {place}",
                                place=safety["parent_location"]))
    return lines


def record_json(record, pictures, notes=()):
    """The record as plain JSON-able data (what record.json in the ZIP holds)."""
    return {
        "room": record["room_name"], "started_at": record["started_at"],
        "ended_at": record["ended_at"], "participants": record["participants"],
        "timeline": record["timeline"],
        "pictures": [{"file": p["name"], "caption": p.get("caption")} for p in pictures],
        "notes": [{"text": n["text"], "created_at": n["created_at"],
                   "updated_at": n["updated_at"]} for n in notes],
        "safety": {k: (record.get("safety") or {}).get(k, "")
                   for k in ("location", "contact_name", "contact_phone", "parent_location")},
    }


def record_zip(record, pictures, notes=()):
    """ZIP bytes: record.json and every picture as its PNG file."""
    record, pictures, notes = printable((record, pictures, notes))   # TEXT1: old rooms
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("record.json", json.dumps(record_json(record, pictures, notes),
                                             ensure_ascii=False, indent=2))
        for p in pictures:
            z.writestr(p["name"], p["png"], compress_type=zipfile.ZIP_STORED)
    return buf.getvalue()
