"""Sand tray: a shared tray of sand and water with miniatures from a shelf.

State (plain JSON):
    {"tray": tray, "saved": [{"id", "at", "by", "tray": packed tray}, ...]}
    tray = {"id", "theme", "sand", "figures": [figure, ...]}
`sand` is the surface as a string of GRID_W × GRID_H digits, row by row: the sand
height of each cell, 0 = dug down to the blue base (water), SAND_START at first.
A figure is {"id", "fig", "x", "y", "rot", "scale", "flip", "lying", "buried", "by"}
with x/y its centre in tray units (TRAY_W × TRAY_H), rot clockwise degrees in
ROT_STEP steps, buried 0, 0.5 or 1; the list order is the stacking order (last on
top). A saved tray keeps its sand run-length encoded as "rle" (saved trays are
never edited, only reopened), so many of them stay small.

The reducer is pure and deterministic with integer sand maths, mirrored line by line
by static/canvas/sandtray/model.js: the same op gives the same cells everywhere.
Every apply returns the inverse that undoes it; an op on a figure that is gone is a
no-op with inverse None, so the ordered stream never breaks.
"""
import random
from functools import lru_cache

from PIL import Image, ImageChops, ImageDraw, ImageFilter

from activities.contract import pictures
from activities.contract.protocol import E_CONFLICT, E_FULL, E_INVALID, THERAPIST

from activities.contract import (Bound, may_play, Invalid, OpSpec, Rejected, ident, integer, internal, number, one_of,
                   require_dict, validate_op)
from activities.contract.i18n import ENGLISH, N_

NAME = "sandtray"
TITLE = N_("Sand tray")
ICON = "sandtray"

# The classic tray is about 72 × 57 cm; one tray unit is one of those.
TRAY_W, TRAY_H = 72, 57
CELLS_PER_UNIT = 2
GRID_W, GRID_H = TRAY_W * CELLS_PER_UNIT, TRAY_H * CELLS_PER_UNIT
MAX_LEVEL = 9
SAND_START = 3
BRUSH_TOOLS = ("dig", "raise", "smooth")
MAX_BRUSH_R = 12                    # cells
MAX_BRUSH_POINTS = 120
DIG = (0, 1, 3)                     # by brush strength 1 (rim) / 2 (core)
RAISE = (0, 1, 2)
FIG_SIZE = 8                        # tray units across a figure at scale 1
SCALE_RANGE = (0.4, 3.0)
SCALES = [0.5, 0.65, 0.8, 1, 1.25, 1.6, 2, 2.5, 3]   # the browser's bigger/smaller steps
ROT_STEP = 15
BURY_LEVELS = (0, 0.5, 1)
MAX_FIGURES = 120
MAX_SAVED = 20
MAX_SAVED_SAND_CHARS = 300_000      # all saved trays' encoded sand together
THEMES = {
    "beach": {"sand": "#e2c48e", "water": "#3b8ed8", "frame": "#8a5a2b"},
    "pale": {"sand": "#ede2cc", "water": "#55a7e6", "frame": "#a47449"},
    "desert": {"sand": "#d8935a", "water": "#2d84c0", "frame": "#6e4424"},
    "earth": {"sand": "#8e6b4b", "water": "#3a7db6", "frame": "#4e3320"},
    "meadow": {"sand": "#9cc26f", "water": "#3b8ed8", "frame": "#6b4a2a"},
    "snow": {"sand": "#eef3f7", "water": "#69b3e8", "frame": "#7b8a99"},
}
DEFAULT_THEME = "beach"
# Export: 20 px per tray unit, plus a wooden frame of FRAME units around the sand.
EXPORT_PX = 20
FRAME = 1.5
# Buried figures (fractions of the figure's box size S, downwards from its centre):
# half buried shows the picture above CUT and a mound; fully buried only a mound.
BURY_CUT = 0.05
MOUND = {0.5: (0.12, 0.46, 0.17), 1: (0.05, 0.40, 0.26)}   # centre dy, rx, ry

FIGURE_IDS = frozenset(pictures.FIGURES)


# ---------------------------------------------------------------- validation

def _boolean(v, name):
    if not isinstance(v, bool):
        raise Invalid(f"{name} must be true or false")
    return v


def _x(v):
    return number(v, 0, TRAY_W, "x")


def _y(v):
    return number(v, 0, TRAY_H, "y")


def _rot(v):
    integer(v, 0, 360 - ROT_STEP, "rot")
    if v % ROT_STEP:
        raise Invalid(f"rot must be a multiple of {ROT_STEP}")
    return v


def _scale(v):
    return number(v, *SCALE_RANGE, "scale")


def _buried(v):
    number(v, 0, 1, "buried")
    if v not in BURY_LEVELS:
        raise Invalid("buried must be 0, 0.5 or 1")
    return 0.5 if v == 0.5 else int(v)


def _fig(v):
    if not isinstance(v, str) or v not in FIGURE_IDS:
        raise Invalid("fig must be a figure from the shelf")
    return v


def _place(d):
    require_dict(d, ("id", "fig", "x", "y"), optional=("rot", "scale", "flip"))
    return {"id": ident(d["id"]), "fig": _fig(d["fig"]), "x": _x(d["x"]), "y": _y(d["y"]),
            "rot": _rot(d.get("rot", 0)), "scale": _scale(d.get("scale", 1)),
            "flip": _boolean(d.get("flip", False), "flip")}


def _move(d):
    require_dict(d, ("id", "x", "y"))
    return {"id": ident(d["id"]), "x": _x(d["x"]), "y": _y(d["y"])}


def _field(key, check):
    def validator(d):
        require_dict(d, ("id", key))
        return {"id": ident(d["id"]), key: check(d[key])}
    return validator


def _z(d):
    require_dict(d, ("id", "to"))
    return {"id": ident(d["id"]), "to": one_of(d["to"], {"front", "back"}, "to")}


def _duplicate(d):
    require_dict(d, ("src", "id", "x", "y"))
    return {"src": ident(d["src"], "src"), "id": ident(d["id"]), "x": _x(d["x"]), "y": _y(d["y"])}


def _id_only(d):
    require_dict(d, ("id",))
    return {"id": ident(d["id"])}


def _cells(v):
    """A flat [cx, cy, ...] list of integer grid cells: the brush path."""
    if not isinstance(v, list):
        raise Invalid("pts must be a list")
    if not v or len(v) % 2:
        raise Invalid("pts must hold pairs of cell numbers")
    if len(v) // 2 > MAX_BRUSH_POINTS:
        raise Invalid(f"pts: at most {MAX_BRUSH_POINTS} points")
    for i, c in enumerate(v):
        hi = (GRID_W if i % 2 == 0 else GRID_H) - 1
        if type(c) is not int or not 0 <= c <= hi:
            raise Invalid(f"pts[{i}] must be a cell inside the {GRID_W}×{GRID_H} grid")
    return v


def _sand(d):
    require_dict(d, ("tool", "r", "pts"))
    return {"tool": one_of(d["tool"], set(BRUSH_TOOLS), "tool"),
            "r": integer(d["r"], 1, MAX_BRUSH_R, "r"), "pts": _cells(d["pts"])}


def _theme(d):
    require_dict(d, ("theme",))
    return {"theme": one_of(d["theme"], set(THEMES), "theme")}


OPS = {
    "place": OpSpec(_place),
    "move": OpSpec(_move),
    "rotate": OpSpec(_field("rot", _rot)),
    "scale": OpSpec(_field("scale", _scale)),
    "flip": OpSpec(_field("flip", lambda v: _boolean(v, "flip"))),
    "lie": OpSpec(_field("lying", lambda v: _boolean(v, "lying"))),
    "z": OpSpec(_z),
    "duplicate": OpSpec(_duplicate),
    "bury": OpSpec(_field("buried", _buried)),
    "remove": OpSpec(_id_only),
    "sand": OpSpec(_sand),
    "theme": OpSpec(_theme),
    # Therapist only. A snapshot is not taken back by the therapist's next undo.
    "tray.save": OpSpec(_id_only, stamped=True, undoable=False),
    "tray.new": OpSpec(_id_only),
    "tray.open": OpSpec(_id_only),
    # Produced by the server as inverses; never accepted from a client.
    "restore": OpSpec(internal(), client=False),
    "z.at": OpSpec(internal(), client=False),
    "sand.put": OpSpec(internal(), client=False),
    "tray.set": OpSpec(internal(), client=False),
    "tray.unsave": OpSpec(internal(), client=False),
    "saved.restore": OpSpec(internal(), client=False),
}


def _drag(d):
    """A figure being held: {id, x, y, fig?, rot?, end?}. `fig` lets others see a
    figure still on its way from the shelf; `end` says it was let go."""
    require_dict(d, ("id", "x", "y"), optional=("fig", "rot", "end"))
    out = {"id": ident(d["id"]), "x": _x(d["x"]), "y": _y(d["y"])}
    if "fig" in d:
        out["fig"] = _fig(d["fig"])
    if "rot" in d:
        out["rot"] = _rot(d["rot"])
    if "end" in d:
        out["end"] = _boolean(d["end"], "end")
    return out


def _cursor(d):
    require_dict(d, ("x", "y"))
    return {"x": _x(d["x"]), "y": _y(d["y"])}


# kind -> (validator, merge): None keeps only the latest per (sender, kind, figure id).
EPHEMERAL = {"drag": (_drag, None), "cursor": (_cursor, None)}


def validate(t, d):
    return validate_op(OPS, t, d)


# ---------------------------------------------------------------- authorisation

THERAPIST_ONLY = {"tray.save", "tray.new", "tray.open"}
GUEST_OPS = {t for t, s in OPS.items() if s.client} - THERAPIST_ONLY | {"history", "eph:drag"}


def may(role, t, settings):
    """Therapist: everything. Child / parent: building while their role may play
    (the room's two settings); saving, new and reopening trays stay with the
    therapist. Everyone in the room may show their cursor."""
    if role == THERAPIST or t == "eph:cursor":
        return True
    return t in GUEST_OPS and may_play(settings, role, NAME)


# ---------------------------------------------------------------- sand maths

def fresh_sand():
    # One shared string (str is immutable): every loaded room holds a fresh tray,
    # and a copy each was ~16 KiB of every room's memory (bench/ idle).
    return _FRESH_SAND


_FRESH_SAND = str(SAND_START) * (GRID_W * GRID_H)


def brush_cells(r, pts):
    """{cell index: strength} covered by the brush: 2 in the core (distance ≤ 3r/4),
    1 on the rim (≤ r); the strongest dab wins. Integer maths only."""
    r2 = r * r
    disc = []
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            d2 = dx * dx + dy * dy
            if d2 <= r2:
                disc.append((dx, dy, 2 if 16 * d2 <= 9 * r2 else 1))
    cells = {}
    for k in range(0, len(pts), 2):
        cx, cy = pts[k], pts[k + 1]
        for dx, dy, s in disc:
            x, y = cx + dx, cy + dy
            if 0 <= x < GRID_W and 0 <= y < GRID_H:
                i = y * GRID_W + x
                if cells.get(i, 0) < s:
                    cells[i] = s
    return cells


def _smoothed(sand, i):
    """The rounded mean of the 3×3 neighbourhood of cell i (inside the grid)."""
    x, y = i % GRID_W, i // GRID_W
    total = n = 0
    for yy in range(max(0, y - 1), min(GRID_H, y + 2)):
        row = yy * GRID_W
        for xx in range(max(0, x - 1), min(GRID_W, x + 2)):
            total += ord(sand[row + xx]) - 48
            n += 1
    return (2 * total + n) // (2 * n)


def brush(sand, tool, r, pts):
    """New sand string after one brush op (every new value from the old surface)."""
    cells = brush_cells(r, pts)
    out = bytearray(sand, "ascii")
    for i, s in cells.items():
        h = ord(sand[i]) - 48
        if tool == "dig":
            h = max(0, h - DIG[s])
        elif tool == "raise":
            h = min(MAX_LEVEL, h + RAISE[s])
        else:
            h = _smoothed(sand, i)
        out[i] = 48 + h
    return out.decode("ascii")


def _changed_rect(old, new):
    """Bounding box (x, y, w, h) of the cells that differ, or None."""
    x0 = y0 = 1 << 30
    x1 = y1 = -1
    for i in range(len(old)):
        if old[i] != new[i]:
            x, y = i % GRID_W, i // GRID_W
            x0, x1, y0, y1 = min(x0, x), max(x1, x), min(y0, y), max(y1, y)
    if x1 < 0:
        return None
    return x0, y0, x1 - x0 + 1, y1 - y0 + 1


def _rect(sand, x, y, w, h):
    return "".join(sand[(y + k) * GRID_W + x:(y + k) * GRID_W + x + w] for k in range(h))


def _put(sand, x, y, w, h, v):
    rows = [sand[:y * GRID_W]]
    for k in range(h):
        row = (y + k) * GRID_W
        rows.append(sand[row:row + x] + v[k * w:(k + 1) * w] + sand[row + x + w:row + GRID_W])
    rows.append(sand[(y + h) * GRID_W:])
    return "".join(rows)


def rle_encode(sand):
    """"3200,050,3166": one digit (the height) then its run length, comma separated."""
    runs = []
    i, n = 0, len(sand)
    while i < n:
        j = i
        while j < n and sand[j] == sand[i]:
            j += 1
        runs.append(f"{sand[i]}{j - i}")
        i = j
    return ",".join(runs)


def rle_decode(text):
    return "".join(run[0] * int(run[1:]) for run in text.split(",")) if text else ""


def pack(tray):
    return {"id": tray["id"], "theme": tray["theme"], "rle": rle_encode(tray["sand"]),
            "figures": tray["figures"]}


def unpack(packed):
    return {"id": packed["id"], "theme": packed["theme"], "sand": rle_decode(packed["rle"]),
            "figures": packed["figures"]}


# ---------------------------------------------------------------- reducer

def new_tray(tray_id="t1", theme=DEFAULT_THEME):
    return {"id": tray_id, "theme": theme, "sand": fresh_sand(), "figures": []}


def initial_state():
    return {"tray": new_tray(), "saved": []}


def content(state):
    """Figures on the tray and on every saved tray (ROOM1's measure)."""
    return len(state["tray"]["figures"]) + sum(len(s["tray"]["figures"]) for s in state["saved"])


# ROOM1: a full tray and 20 full saved trays (with the sand, ~0.6 MB of JSON); an
# undone removal cannot go past it.
BOUND = Bound(MAX_FIGURES * (MAX_SAVED + 1), content,
              N_("The sand tray is full: remove some figures or saved trays first."))


def _find(figures, fid):
    for i, f in enumerate(figures):
        if f["id"] == fid:
            return i, f
    return -1, None


def _find_saved(state, sid):
    for i, s in enumerate(state["saved"]):
        if s["id"] == sid:
            return i, s
    return -1, None


def _tray_ids(state):
    return {state["tray"]["id"]} | {s["tray"]["id"] for s in state["saved"]}


def check(state, t, d):
    """State-dependent rules for a client op that passed validate(). Ops on figures
    that are gone pass: they become no-ops, so the stream goes on."""
    tray = state["tray"]
    if t in ("place", "duplicate"):
        if _find(tray["figures"], d["id"])[1] is not None:
            return Rejected(E_CONFLICT, "a figure with that id is on the tray")
        if len(tray["figures"]) >= MAX_FIGURES:
            return Rejected(E_FULL, N_("the tray is full"))
    elif t == "tray.save":
        if _find_saved(state, d["id"])[1] is not None:
            return Rejected(E_CONFLICT, "a saved tray with that id exists")
        used = sum(len(s["tray"]["rle"]) for s in state["saved"])
        if len(state["saved"]) >= MAX_SAVED or used + len(rle_encode(tray["sand"])) > MAX_SAVED_SAND_CHARS:
            return Rejected(E_FULL, N_("there are too many saved trays"))
    elif t == "tray.new":
        if d["id"] in _tray_ids(state):
            return Rejected(E_CONFLICT, "a tray with that id exists")
    elif t == "tray.open":
        if _find_saved(state, d["id"])[1] is None:
            return Rejected(E_INVALID, "no saved tray with that id")
    return None


def _with_tray(state, tray):
    return {**state, "tray": tray}


def _with_figures(state, figures):
    return {**state, "tray": {**state["tray"], "figures": figures}}


def _replace(state, i, fig):
    figures = list(state["tray"]["figures"])
    figures[i] = fig
    return _with_figures(state, figures)


# Ops that set one field of one figure: op type -> field.
FIELD_OPS = {"move": None, "rotate": "rot", "scale": "scale", "flip": "flip", "lie": "lying",
             "bury": "buried"}


def apply(state, t, d, by=None):
    """Apply op (t, d) by participant `by`. Returns (new_state, inverse or None)."""
    tray = state["tray"]
    figures = tray["figures"]
    if t in FIELD_OPS:
        i, fig = _find(figures, d["id"])
        if fig is None:
            return state, None                      # stale: the figure is gone
        keys = ("x", "y") if t == "move" else (FIELD_OPS[t],)
        if all(fig[k] == d[k] for k in keys):
            return state, None
        old = {"id": fig["id"], **{k: fig[k] for k in keys}}
        return _replace(state, i, {**fig, **{k: d[k] for k in keys}}), (t, old)
    if t in ("place", "duplicate"):
        if _find(figures, d["id"])[1] is not None:
            return state, None
        if t == "place":
            fig = {"id": d["id"], "fig": d["fig"], "x": d["x"], "y": d["y"], "rot": d["rot"],
                   "scale": d["scale"], "flip": d["flip"], "lying": False, "buried": 0, "by": by}
        else:
            src = _find(figures, d["src"])[1]
            if src is None:
                return state, None
            fig = {**src, "id": d["id"], "x": d["x"], "y": d["y"], "by": by}
        return _with_figures(state, figures + [fig]), ("remove", {"id": d["id"]})
    if t == "remove":
        i, fig = _find(figures, d["id"])
        if fig is None:
            return state, None
        return _with_figures(state, figures[:i] + figures[i + 1:]), \
            ("restore", {"tray": tray["id"], "fig": fig, "index": i})
    if t == "restore":
        if d["tray"] != tray["id"] or _find(figures, d["fig"]["id"])[1] is not None:
            return state, None
        out = list(figures)
        out.insert(min(d["index"], len(out)), d["fig"])
        return _with_figures(state, out), ("remove", {"id": d["fig"]["id"]})
    if t in ("z", "z.at"):
        i, fig = _find(figures, d["id"])
        if fig is None:
            return state, None
        rest = figures[:i] + figures[i + 1:]
        if t == "z.at":
            to = min(d["index"], len(rest))
        else:
            to = len(rest) if d["to"] == "front" else 0
        if to == i:
            return state, None
        return _with_figures(state, rest[:to] + [fig] + rest[to:]), ("z.at", {"id": fig["id"], "index": i})
    if t == "sand":
        sand = brush(tray["sand"], d["tool"], d["r"], d["pts"])
        return _sand_changed(state, tray, sand)
    if t == "sand.put":
        if d["tray"] != tray["id"]:
            return state, None
        sand = _put(tray["sand"], d["x"], d["y"], d["w"], d["h"], d["v"])
        return _sand_changed(state, tray, sand)
    if t == "theme":
        if tray["theme"] == d["theme"]:
            return state, None
        return _with_tray(state, {**tray, "theme": d["theme"]}), ("theme", {"theme": tray["theme"]})
    if t == "tray.save":
        if _find_saved(state, d["id"])[1] is not None:
            return state, None
        entry = {"id": d["id"], "at": d["at"], "by": by, "tray": pack(tray)}
        return {**state, "saved": state["saved"] + [entry]}, ("tray.unsave", {"id": d["id"]})
    if t == "tray.unsave":
        i, entry = _find_saved(state, d["id"])
        if entry is None:
            return state, None
        return {**state, "saved": state["saved"][:i] + state["saved"][i + 1:]}, \
            ("saved.restore", {"entry": entry, "index": i})
    if t == "saved.restore":
        if _find_saved(state, d["entry"]["id"])[1] is not None:
            return state, None
        saved = list(state["saved"])
        saved.insert(min(d["index"], len(saved)), d["entry"])
        return {**state, "saved": saved}, ("tray.unsave", {"id": d["entry"]["id"]})
    if t == "tray.new":
        if d["id"] in _tray_ids(state):
            return state, None
        return _with_tray(state, new_tray(d["id"], tray["theme"])), ("tray.set", {"tray": tray})
    if t == "tray.open":
        entry = _find_saved(state, d["id"])[1]
        if entry is None:
            return state, None
        return _set_tray(state, tray, unpack(entry["tray"]))
    if t == "tray.set":
        return _set_tray(state, tray, d["tray"])
    raise ValueError(f"unknown sandtray op {t}")


def _sand_changed(state, tray, sand):
    rect = _changed_rect(tray["sand"], sand)
    if rect is None:
        return state, None
    x, y, w, h = rect
    inverse = {"tray": tray["id"], "x": x, "y": y, "w": w, "h": h, "v": _rect(tray["sand"], x, y, w, h)}
    return _with_tray(state, {**tray, "sand": sand}), ("sand.put", inverse)


def _set_tray(state, old, tray):
    if tray == old:
        return state, None
    return _with_tray(state, tray), ("tray.set", {"tray": old})


def figure_rows(tr=ENGLISH):
    rows = []
    for f in pictures.FIGURES.values():
        words = pictures.figure_words(f, tr)
        row = [f["id"], pictures.figure_name(f, tr), f["category"], " ".join(words)]
        if tr.lang != ENGLISH.lang:
            row.append(" ".join(w for w in f["tags"] if w not in words))
        rows.append(row)
    return rows


def client_config(tr=ENGLISH):
    return {
        "tray": {"w": TRAY_W, "h": TRAY_H},
        "grid": {"w": GRID_W, "h": GRID_H, "max_level": MAX_LEVEL, "start": SAND_START,
                 "dig": list(DIG), "raise": list(RAISE)},
        "brush": {"tools": list(BRUSH_TOOLS), "max_r": MAX_BRUSH_R, "sizes": [3, 6, 10],
                  "max_points": MAX_BRUSH_POINTS},
        "fig_size": FIG_SIZE, "scale_range": list(SCALE_RANGE), "scales": SCALES,
        "rot_step": ROT_STEP, "bury": {"cut": BURY_CUT, "mound": {str(k): v for k, v in MOUND.items()}},
        "themes": THEMES, "default_theme": DEFAULT_THEME,
        "categories": [{"id": c, "title": tr.gettext(title), "icon": icon}
                       for c, title, icon in pictures.FIGURE_CATEGORIES],
        # [id, name, category, "tag tag ..."(, "English words")]: compact, the shelf
        # searches names and tags in the reader's language, then the English ones (a
        # bilingual family types either), which a reader of English needs only once.
        "figures": figure_rows(tr),
        "limits": {"figures": MAX_FIGURES, "saved": MAX_SAVED},
        "frame": FRAME,
        "ops": [t for t, s in OPS.items() if s.client],
    }


# ---------------------------------------------------------------- server renderer

def _rgb(hexstr):
    return tuple(int(hexstr[k:k + 2], 16) for k in (1, 3, 5))


def level_colour(theme, v):
    """Colour of interpolated sand height v (0..MAX_LEVEL, a float): water below
    0.5, wet sand up to 1, then sand darker when low and lighter when high. The
    browser's sand renderer uses the same rule."""
    sand, water = _rgb(theme["sand"]), _rgb(theme["water"])
    if v < 0.5:
        k = 0.78 + 0.44 * v
        return tuple(round(c * k) for c in water)
    if v < 1:
        return tuple(round(c * 0.74) for c in sand)
    t = (v - SAND_START) / (MAX_LEVEL - SAND_START)
    if t < 0:
        return tuple(round(c * (1 + 0.09 * t * (SAND_START - 1))) for c in sand)
    return tuple(round(c + (255 - c) * 0.5 * t) for c in sand)


def _lut(theme):
    """256-entry tables per channel for heights stored as v × 28 in an L image."""
    cols = [level_colour(theme, min(MAX_LEVEL, k / 28)) for k in range(256)]
    return [[c[ch] for c in cols] for ch in range(3)]


def _sand_image(tray, w, h):
    sand = tray["sand"]
    heights = Image.frombytes("L", (GRID_W, GRID_H),
                              bytes((ord(c) - 48) * 28 for c in sand))
    # Light from the top left: brighter where the surface rises towards it.
    shade = bytearray(GRID_W * GRID_H)
    for y in range(GRID_H):
        for x in range(GRID_W):
            a = sand[max(0, y - 1) * GRID_W + max(0, x - 1)]
            b = sand[min(GRID_H - 1, y + 1) * GRID_W + min(GRID_W - 1, x + 1)]
            shade[y * GRID_W + x] = max(0, min(255, 128 + 12 * (ord(a) - ord(b))))
    # Bilinear, then a box blur of one cell: round shorelines, not stair steps.
    soften = ImageFilter.BoxBlur(w / GRID_W)
    big = heights.resize((w, h), Image.Resampling.BILINEAR).filter(soften)
    lut = _lut(THEMES[tray["theme"]])
    rgb = Image.merge("RGB", [big.point(lut[ch]) for ch in range(3)])
    light = Image.frombytes("L", (GRID_W, GRID_H), bytes(shade)).resize(
        (w, h), Image.Resampling.BILINEAR).filter(soften)
    lit = ImageChops.add(rgb, Image.merge("RGB", [light] * 3), 1.0, -128)
    return ImageChops.add(lit, _grain(w, h), 1.0, -128)


GRAIN_TILE = 96
GRAIN = 5                           # ± brightness of the sand's grain


@lru_cache(maxsize=4)
def _grain(w, h):
    """A fixed grain texture (seeded, so every export of a tray is identical)."""
    rnd = random.Random(7)
    tile = Image.frombytes("L", (GRAIN_TILE, GRAIN_TILE),
                           bytes(128 + rnd.randint(-GRAIN, GRAIN) for _ in range(GRAIN_TILE ** 2)))
    out = Image.new("L", (w, h))
    for y in range(0, h, GRAIN_TILE):
        for x in range(0, w, GRAIN_TILE):
            out.paste(tile, (x, y))
    return Image.merge("RGB", [out] * 3)


def render(state, key, assets):
    """The tray `key` ("current" or a saved tray's id) as an RGB PIL image at the
    export size: sand and water from the height grid, figures in stacking order."""
    if key == "current":
        tray = state["tray"]
    else:
        entry = _find_saved(state, key)[1]
        if entry is None:
            raise KeyError(key)
        tray = unpack(entry["tray"])
    theme = THEMES[tray["theme"]]
    px = EXPORT_PX
    pad = round(FRAME * px)
    w, h = TRAY_W * px, TRAY_H * px
    out = Image.new("RGBA", (w + 2 * pad, h + 2 * pad), theme["frame"])
    draw = ImageDraw.Draw(out)
    draw.rectangle([pad // 3, pad // 3, w + 2 * pad - pad // 3, h + 2 * pad - pad // 3],
                   outline=tuple(round(c * 1.15) for c in _rgb(theme["frame"])), width=3)
    out.paste(_sand_image(tray, w, h), (pad, pad))
    for fig in tray["figures"]:
        _draw_figure(out, fig, theme, assets, pad)
    return out.convert("RGB")


def _draw_figure(out, fig, theme, assets, pad):
    px = EXPORT_PX
    size = max(1, round(FIG_SIZE * fig["scale"] * px))
    cx, cy = pad + fig["x"] * px, pad + fig["y"] * px
    if fig["buried"] != 1:
        img = assets.raster(fig["fig"], size)
        if fig["flip"]:
            img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        angle = (fig["rot"] + (90 if fig["lying"] else 0)) % 360
        if angle:
            img = img.rotate(-angle, resample=Image.Resampling.BICUBIC, expand=True)
        at = (round(cx - img.width / 2), round(cy - img.height / 2))
        if fig["buried"] == 0.5:     # the sand hides what is below the cut
            img = img.crop((0, 0, img.width, round(img.height / 2 + BURY_CUT * size)))
        # A soft shadow under the figure (the browser's drop-shadow), then the figure.
        shadow = Image.new("RGBA", img.size, (0, 0, 0, 0))
        shadow.putalpha(img.getchannel("A").filter(ImageFilter.GaussianBlur(4)).point(lambda v: v // 4))
        _composite(out, shadow, at[0], at[1] + 6)
        _composite(out, img, *at)
    if fig["buried"]:
        dy, rx, ry = MOUND[fig["buried"]]
        mx, my, rx, ry = cx, cy + dy * size, rx * size, ry * size
        draw = ImageDraw.Draw(out)
        draw.ellipse([mx - rx, my - ry + 2, mx + rx, my + ry + 4], fill=level_colour(theme, 1.2))
        draw.ellipse([mx - rx, my - ry, mx + rx, my + ry], fill=level_colour(theme, 6))


def _composite(out, img, x, y):
    """alpha_composite at (x, y), which may lie partly outside `out` (figures may
    hang over the frame's edge)."""
    if x >= out.width or y >= out.height or x + img.width <= 0 or y + img.height <= 0:
        return
    out.alpha_composite(img, (max(0, x), max(0, y)), (max(0, -x), max(0, -y)))


# ---------------------------------------------------------------- session record

def record_entries(ops, state=None, ended_at=None, tr=ENGLISH):
    """Timeline entries for the session record (activities/contract/__init__.py): how many
    figures each person placed, the sand shaped, fresh and reopened trays, and each
    saved tray as an explicit snapshot picture (data {"picture": saved id})."""
    out, placed = [], {}
    for op in ops:
        if op["kind"] != "do":
            continue
        t, by, d = op["t"], op["by"], op["d"]
        base = {"seq": op["seq"], "at": d.get("at", op["ts"]), "by": by}
        if t in ("place", "duplicate", "sand"):
            entry = placed.get(by)
            if entry is None:
                entry = placed[by] = {**base, "kind": "sandtray", "data": {"figures": 0, "sand": 0}}
                out.append(entry)
            entry["data"]["sand" if t == "sand" else "figures"] += 1
        elif t == "tray.save":
            out.append({**base, "kind": "snapshot", "text": tr.gettext("saved the sand tray as a picture"),
                        "data": {"picture": d["id"], "caption": tr.gettext("Saved sand tray")}})
        elif t == "tray.new":
            out.append({**base, "kind": "tray", "text": tr.gettext("started a fresh sand tray"),
                        "data": {"tray": d["id"]}})
        elif t == "tray.open":
            out.append({**base, "kind": "tray", "text": tr.gettext("reopened a saved sand tray"),
                        "data": {"tray": d["id"]}})
    for entry in placed.values():
        n, sand = entry["data"]["figures"], entry["data"]["sand"]
        # Whole sentences (never joined from parts): the record puts who did it first.
        if n and sand:
            entry["text"] = tr.ngettext("placed {n} figure and shaped the sand in the sand tray",
                                        "placed {n} figures and shaped the sand in the sand tray", n)
        elif n:
            entry["text"] = tr.ngettext("placed {n} figure in the sand tray", "placed {n} figures in the sand tray", n)
        else:
            entry["text"] = tr.gettext("shaped the sand in the sand tray")
    return out


def record_pictures(state, tr=ENGLISH):
    """Pictures for the session record: the tray as it was left, unless untouched
    (the caption in the language of `tr`, the record's reader; English when none is given)."""
    tray = state["tray"]
    if not tray["figures"] and tray["sand"] == fresh_sand():
        return []
    return [("current", tr.gettext("Sand tray at the end of the session"))]
