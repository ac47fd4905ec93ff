"""The small interface every activity implements, and helpers for strict validation.

An activity module provides:

    NAME            wire name, e.g. "canvas"
    TITLE, ICON     label and picture id for the room shell's switcher
    OPS             {op type: OpSpec}; internal ops (client=False) are produced only by
                    the server (inverses for undo) and refused from clients
    EPHEMERAL       {kind: validator(payload) -> payload | Rejected}
    initial_state() -> state (plain JSON-able dicts/lists; never mutated in place)
    validate(t, d)  -> payload | Rejected       shape and bounds, state-free
                    (ops with OpSpec(stamped=True) then get d["at"] = server time)
    check(state, t, d) -> None | Rejected       rules that need the state (page exists, full)
    BOUND           Bound(limit, measure, reason): the room-wide bound on the activity's
                    content (ROOM1); the engine refuses any op — sent, undo or redo —
                    that would take measure(state) past limit (see `Bound`)
    may(role, t, settings) -> bool              authorisation
    apply(state, t, d) -> (state, inverse)      pure; inverse is (t, d) or None for no-op
    client_config(tr) -> dict                   what the browser half needs (limits, palette), its words in tr's language
    render(state, key, assets) -> PIL.Image    optional, server-side pictures (mode RGB, or P
                    when a palette holds every colour exactly: its PNG encodes faster)
    first_picture(state) -> {"key": key, ...} | None
                    optional, pure: a key of render() worth sending someone who joins
                    with a snapshot as a picture, ahead of drawing the state themselves
                    (a page so full that the browser takes longer to draw it than the
                    server): the event `picture` {a, seq, png, key, ...the rest of the
                    dict} comes with their snapshot (PAINT1, rooms/assets/firstpaint.py)
    record_entries(ops, state=None, ended_at=None, tr=ENGLISH) -> [entry]
                    optional, pure: the session record's timeline lines (in the
                    language of `tr`, the therapist's; a person's own words as written) for this
                    activity's ops of one session (in seq order; `state` the final
                    state, `ended_at` the session's end). entry = {seq, at, by, kind,
                    text, data}; the text never names a person (the record adds who);
                    data {"picture": key} marks an explicit snapshot (rooms/records/service.py)
    record_pictures(state, tr) -> [(key, caption)]  optional: what render(state, key, assets)
                    should draw for the session record (nothing when untouched)
    practice_tasks() -> {"levels": [level, ...], "tasks": {id: {"title", "steps": [text]}}}
                    optional: the task analyses whose prompt levels (record entries of
                    kind "task.prompt", data {task, step, level}; "task.reset" clears
                    a task) the room page charts across sessions; levels from the most
                    independent to the most help (rooms/records/trends.py)
    visible(state, role, session) -> state
                    optional, pure: the part of the state someone of `role` may read
                    in a snapshot (READ2), for content that outlives a session (the
                    check-ins of earlier sessions are the therapist's). `session` is
                    the room's current session {start, at, ...} or None. Without it,
                    everyone reads the whole state. Return the state object itself
                    when nothing is hidden (snapshot texts are cached per object).
    download(state, key, fmt, ctx) -> (bytes, mimetype, filename)
                    optional: a file of the activity's current state for the room's
                    therapist to take home (e.g. a story as PDF), served at
                    /rooms/<room>/download/<activity>/<key>.<fmt> (owner only, 404 for
                    anyone else). What `key` names is the activity's business; raise
                    KeyError for an unknown key or a `fmt` it does not make (-> 404).
                    `ctx` is a DownloadContext (below): all it may use of the server
    home_items(state, tr) -> [(key, item)]
                    optional: what of the state a therapist may send home in a home pack
                    (a story, steps, a breathing pattern, a check-in), as the kinds of
                    activities/contract/home.py, in `tr`'s language (the family's)
    SHOWN           optional, default True: False keeps the activity out of the room's
                    tabs (client_config); it still has state, ops and records (home)
    BETWEEN_SESSIONS optional, default False: True puts the activity's ops made between
                    two sessions into the next session's record (home practice)
    trend_checkins(state) -> [{value, at, moment}]
                    optional: check-ins the room page's trend chart adds to the
                    check-in activity's (the home ones, moment "home")

Rules: validation rejects, it never clamps; apply never raises for an op that passed
check — a stale op (its target is gone) is a no-op with inverse None.
"""
import math
import re
from dataclasses import dataclass, field
from typing import Callable, Protocol

from activities.contract.protocol import E_FULL, E_INVALID
from activities.contract.i18n import ENGLISH, Translator


@dataclass(frozen=True)
class Rejected:
    """An expected refusal: a value, not an exception. `code` is a protocol error code."""
    code: str
    reason: str


@dataclass(frozen=True)
class Bound:
    """The room-wide bound on one activity's content (ROOM1): `measure(state)` counts
    what a full state is made of (numbers of strokes, figures, pages …), whatever
    page, tray or story it is on. Per-item limits alone let a room grow page by page
    (or through undo, which restores what was removed) until encoding and storing it
    stalled the server; with every activity bounded, a room's state is bounded.
    `measure` must be cheap: it runs on every op."""
    limit: int
    measure: Callable
    reason: str         # shown to the person as is: say what to do

    def refuse(self, old, new):
        """Rejected(full) if going from state `old` to `new` passes the limit. An op
        that does not grow the content is never refused (a room over a lowered limit
        can still be tidied up)."""
        n = self.measure(new)
        if n > self.limit and n > self.measure(old):
            return Rejected(E_FULL, self.reason)
        return None


def over_bound(module, old, new):
    """The engine's check of an activity's BOUND for a decided op (ROOM1)."""
    bound = getattr(module, "BOUND", None)
    return None if bound is None else bound.refuse(old, new)


@dataclass(frozen=True)
class OpSpec:
    validator: Callable
    client: bool = True       # may a client send it directly?
    undoable: bool = True     # does it go on the sender's undo stack?
    # The server writes its clock (UNIX seconds, float) into the payload as "at"
    # before check/apply, so reducers stay pure and replays see the same time.
    # A client-sent "at" is refused by the validator like any unknown field.
    stamped: bool = False


@dataclass(frozen=True)
class DownloadContext:
    """What `download(state, key, fmt, ctx)` gets from the server, so an activity needs
    no rooms/ internals: the room's `Assets` service (below) and the translator of the
    person downloading (activities/contract/i18n.py)."""
    assets: "Assets"
    tr: Translator = ENGLISH


class Assets(Protocol):
    """The assets service the server hands to `render` and `download` (implemented by
    rooms/assets/pictures.py `Assets`): activities draw pictures through it and never
    read files or import rooms/."""

    def raster(self, pid, size):
        """The catalog picture `pid` (activities/contract/pictures.py) as an RGBA image
        of size×size pixels; shared and cached: copy before drawing on it."""

    def upload_image(self, upload_id, size):
        """An uploaded picture ("upload:<id>", activities/contract/uploads.py) of the
        room's therapist as RGBA fitting size×size, or None when it is gone or someone
        else's."""

    def svg_path(self, pid):
        """The catalog picture `pid` as its SVG file (documents embed it as vectors), or
        None when it is not in the catalog."""

    def twemoji_dir(self):
        """The folder of every Twemoji SVG: documents draw any emoji in a text as its
        picture (activities/contract/pdfdoc.py)."""


class Invalid(Exception):
    """Raised inside validators; turned into Rejected(E_INVALID) at the boundary."""


# Used with fullmatch: `$` alone would accept a trailing newline.
ID_RE = re.compile(r"[A-Za-z0-9_-]{1,32}")
COLOR_RE = re.compile(r"#[0-9a-fA-F]{6}")


def validate_op(ops, t, d):
    """An activity's validate(t, d): run the op's validator; schema errors and
    malformed shapes become Rejected(invalid), never exceptions."""
    try:
        return ops[t].validator(d)
    except Invalid as e:
        return Rejected(E_INVALID, str(e))
    except (KeyError, TypeError, AttributeError):
        return Rejected(E_INVALID, "malformed payload")


def internal(key=None):
    """Validator for a server-only op (an inverse): clients never send these, so a
    shape check (a dict holding `key`) is all that is needed."""
    def check(d):
        if not isinstance(d, dict) or (key is not None and key not in d):
            raise Invalid("internal op")
        return d
    return check


def require_dict(d, keys, optional=()):
    """`d` must be a dict with exactly `keys` plus any of `optional`."""
    if not isinstance(d, dict):
        raise Invalid("payload must be an object")
    missing = [k for k in keys if k not in d]
    if missing:
        raise Invalid(f"missing field(s): {', '.join(missing)}")
    extra = [k for k in d if k not in keys and k not in optional]
    if extra:
        raise Invalid(f"unknown field(s): {', '.join(sorted(map(str, extra)))[:80]}")
    return d


def number(v, lo, hi, name):
    """A finite int/float within [lo, hi]. bool is not a number here."""
    if isinstance(v, bool) or not isinstance(v, (int, float)) or \
            (isinstance(v, float) and not math.isfinite(v)):
        raise Invalid(f"{name} must be a finite number")
    if not lo <= v <= hi:  # also bounds huge ints, which math.isfinite cannot take
        raise Invalid(f"{name} out of range [{lo}, {hi}]")
    return v


def integer(v, lo, hi, name):
    if isinstance(v, bool) or not isinstance(v, int):
        raise Invalid(f"{name} must be an integer")
    return number(v, lo, hi, name)


def ident(v, name="id"):
    if not isinstance(v, str) or not ID_RE.fullmatch(v):
        raise Invalid(f"{name} must be 1-32 letters, digits, '-' or '_'")
    return v


def color(v, name="color"):
    if not isinstance(v, str) or not COLOR_RE.fullmatch(v):
        raise Invalid(f"{name} must look like #rrggbb")
    return v.lower()


def one_of(v, allowed, name):
    if not isinstance(v, str) or v not in allowed:
        raise Invalid(f"{name} must be one of {', '.join(sorted(allowed))[:120]}")
    return v


# Control characters (C0, DEL, C1) never belong in text a person writes.
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def is_text(v, newlines=False):
    """Is `v` text a person could have written (TEXT1)? A str that encodes to UTF-8
    (JSON can carry a lone surrogate such as "\\ud800", but no page, PDF or file can
    hold one) without control characters, newlines only where `newlines` allows."""
    if not isinstance(v, str):
        return False
    try:
        v.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return CONTROL_RE.search(v.replace("\n", "") if newlines else v) is None


def text(v, max_chars, name, *, newlines=False):
    """A free-text field of an op: at most `max_chars` characters of real text (is_text)."""
    if not isinstance(v, str) or len(v) > max_chars:
        raise Invalid(f"{name} must be text of at most {max_chars} characters")
    if not is_text(v, newlines):
        raise Invalid(f"{name} must be plain text (no control characters"
                      f"{'' if newlines else ' or line breaks'}, no broken characters)")
    return v


def printable(v):
    """`v` (a str, or lists, tuples and dicts holding them) with every character that
    cannot be encoded as UTF-8 replaced by U+FFFD: pages and files made from stored
    text (rooms from before TEXT1) must never fail on it. Other values pass as they are."""
    if isinstance(v, str):
        try:
            v.encode("utf-8")
            return v
        except UnicodeEncodeError:
            # surrogatepass keeps a well-formed pair as its character; lone halves -> U+FFFD
            return v.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    if isinstance(v, dict):
        return {k: printable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return type(v)(printable(x) for x in v)
    return v


def flat_points(v, *, stride, max_points, bounds, name="points"):
    """A flat list [x, y, (p), x, y, (p) ...] of finite numbers within `bounds`.

    `bounds` is one (lo, hi) pair per component. This is the hot validator for
    strokes, so it is one pass with local lookups.
    """
    if not isinstance(v, list):
        raise Invalid(f"{name} must be a list")
    n = len(v)
    if n == 0 or n % stride:
        raise Invalid(f"{name} must hold a multiple of {stride} numbers")
    if n // stride > max_points:
        raise Invalid(f"{name}: at most {max_points} points")
    if _all_good(v, stride, bounds):
        return v
    # Something is wrong: find the first bad number, for the reason.
    isfinite = math.isfinite
    for i, x in enumerate(v):
        if type(x) is not int and type(x) is not float:
            raise Invalid(f"{name} must hold only numbers")
        lo, hi = bounds[i % stride]
        if not (lo <= x <= hi) or (type(x) is float and not isfinite(x)):
            raise Invalid(f"{name}[{i}] out of range")
    return v


def _all_good(v, stride, bounds):
    """True if every item of v is an int or a float (not a bool), finite and within
    its component's bounds: the common case, with built-ins doing most of the work
    (sum, then min and max per component; a 480-point stroke ~190 -> ~70 µs, a
    preview of 8 points ~3.4 -> ~2.9 µs). False means "look closer", never "bad":
    flat_points then finds the first bad number and says why."""
    float_, int_ = float, int
    for x in v:
        if type(x) is not float_ and type(x) is not int_:
            return False
    try:
        if not math.isfinite(sum(v)):       # a NaN or an infinity (min/max skip a NaN)
            return False
    except OverflowError:                   # an int too large for a float
        return False
    for k in range(stride):
        part = v[k::stride]
        lo, hi = bounds[k]
        if min(part) < lo or max(part) > hi:
            return False
    return True


@dataclass
class Registry:
    """Maps activity names to modules. rooms/ talks to activities only through this."""
    modules: dict = field(default_factory=dict)

    def add(self, module):
        assert module.NAME not in self.modules, module.NAME
        self.modules[module.NAME] = module
        return module

    def get(self, name):
        return self.modules.get(name) if isinstance(name, str) else None

    def names(self):
        return list(self.modules)

    def initial_states(self):
        return {name: m.initial_state() for name, m in self.modules.items()}

    def client_config(self, tr=ENGLISH):
        """Each activity's browser configuration in the reader's language (`tr`, an
        activities.contract.i18n.Translator): its title and whatever it shows."""
        return [
            {"name": m.NAME, "title": tr.gettext(m.TITLE), "icon": m.ICON, "config": m.client_config(tr)}
            for m in self.modules.values() if getattr(m, "SHOWN", True)
        ]


# ---------------------------------------------------------------- permissions

# The role master switches of the room settings (SET1): off means the role watches.
MASTER = {"child": "child_may_draw", "parent": "parent_may_play"}


def may_play(settings, role, activity):
    """May someone of `role` change `activity` now (PERM1)? The therapist always may.
    A guest needs the room not frozen, no private child time for a parent, their
    role's master switch on and the activity's permission for their role on (a
    permission the settings do not name is on: new activities start allowed)."""
    if role == "therapist":
        return True
    if settings.get("freeze") or (role == "parent" and settings.get("private")):
        return False
    master = MASTER.get(role)
    return bool(master and settings.get(master)) and \
        bool(settings.get("perms", {}).get(role, {}).get(activity, True))
