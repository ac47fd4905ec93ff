"""Canvas: shared drawing pages with pen, marker, highlighter, eraser and stamps.

State (plain JSON):
    {"pages": [{"id": "p1", "bg": "white", "n": 0, "items": [item, ...]
                [, "shape": "tall"]}, ...],
     "saved": [{"id", "page", "index", "caption", "at", "by", "bg", "n", "items"}]}
                     copies kept for the session record ("save to record"; the key
                     appears with the first one)
An item is a stroke {"id", "k": "stroke", "by", "tool", "color", "size", "pts"} with
`pts` a flat [x, y, pressure, ...] list in board units, or a stamp
{"id", "k": "stamp", "by", "stamp", "x", "y", "size", "rot"}. Items are drawn in list
order onto one ink layer over the page background; eraser strokes remove ink, so
undoing an eraser stroke brings the ink back. `n` counts the numbers stored on the
page (the memory budget).

A page is wide (1600×1000 board units, the default: no "shape" key) or tall
(1200×1600, 3:4 like a sheet of paper, "shape": "tall"): a child holding a tablet or phone upright gets a page
that fills it (issue 14). A new page takes the shape its maker asks for (the browser
asks for the shape of the screen it is on); an empty page can be turned
(`page.shape`), a drawn one cannot (its drawing would not fit). Strokes and stamps
are validated against the larger of the two boxes and checked against their page's.

The reducer is pure: every apply returns a new state that shares unchanged pages
and items with the old one, plus the inverse op that undoes it.
"""
from functools import lru_cache
from operator import itemgetter

import numpy as np
from PIL import Image, ImageDraw

from activities.contract import pictures
from activities.contract.protocol import E_CONFLICT, E_FULL, E_INVALID, E_NO_PAGE, E_NOTHING, THERAPIST

from activities.canvas import strokes
from activities.contract import text as person_text
from activities.contract import (Bound, may_play, OpSpec, Rejected, color, flat_points, ident, integer, internal, number, one_of,
                   require_dict, validate_op)
from activities.contract.i18n import ENGLISH, N_

NAME = "canvas"
TITLE = N_("Draw")
ICON = "palette"

BOARD_W, BOARD_H = 1600, 1000          # a wide page
TALL_W = 1200                         # a tall page: 1200 × 1600 (3:4, measured best
#   in the room upright: a phone's and a tablet's drawing area is nearer 3:4 than 10:16)
SHAPES = {"wide": (BOARD_W, BOARD_H), "tall": (TALL_W, BOARD_W)}
SIDE = max(BOARD_W, BOARD_H)           # every page fits in SIDE × SIDE
_ITEM_ID = itemgetter("id")
MAX_STROKE_POINTS = 1500
MAX_PREVIEW_POINTS = 240
MAX_PAGES = 20
MAX_ITEMS_PER_PAGE = 10_000
MAX_NUMBERS_PER_PAGE = 2_000_000
# ROOM1: all pages together. 1,000,000 numbers (333k points; ~2,200 strokes of 150
# points, where a busy 50-minute session drew ~1,000 of ~100) is 5.7 MB of snapshot
# JSON (1.4 MB packed, JOIN2), encoded in ~0.3-0.6 s on a worker thread (measured
# here, 2 cores under load); 20 pages x 2,000,000 took seconds and ~0.5 GB.
MAX_NUMBERS = 1_000_000
TOOLS = {"pen", "marker", "highlighter", "eraser"}
SIZES = [4, 8, 16, 32]
SIZE_RANGE = (1, 80)
STAMP_SIZE_RANGE = (24, 480)
PALETTE = ["#000000", "#7f8c8d", "#ffffff", "#8b5a2b", "#e53935", "#ff7f00", "#fdd835",
           "#43a047", "#a5d6a7", "#00897b", "#29b6f6", "#1e40af", "#8e24aa", "#ec407a",
           "#f8bbd0", "#ffcc80"]
BACKGROUNDS = {"white": "#ffffff", "cream": "#fff8e7", "grid": "#ffffff",
               "dots": "#ffffff", "night": "#1b2a49"}
_BACKGROUND_INK = {"grid": "#dbe4f0", "dots": "#c3cfdf"}   # its lines or dots
# Stroke shape per tool: thinning (how much pressure narrows the line) and opacity.
TOOL_STYLE = {"pen": (0.5, 1.0), "marker": (0.0, 1.0),
              "highlighter": (0.0, 0.35), "eraser": (0.0, 1.0)}
POINT_BOUNDS = ((0, SIDE), (0, SIDE), (0, 1))    # then check(): inside the page's shape


# ---------------------------------------------------------------- validation

def _page(d):
    return ident(d["page"], "page")


def _stroke(d):
    require_dict(d, ("page", "id", "tool", "color", "size", "pts"))
    return {"page": _page(d), "id": ident(d["id"]), "tool": one_of(d["tool"], TOOLS, "tool"),
            "color": color(d["color"]), "size": number(d["size"], *SIZE_RANGE, "size"),
            "pts": flat_points(d["pts"], stride=3, max_points=MAX_STROKE_POINTS,
                               bounds=POINT_BOUNDS, name="pts")}


def _stamp(d):
    require_dict(d, ("page", "id", "stamp", "x", "y", "size"), optional=("rot",))
    return {"page": _page(d), "id": ident(d["id"]),
            "stamp": one_of(d["stamp"], set(pictures.STAMPS), "stamp"),
            "x": number(d["x"], 0, SIDE, "x"), "y": number(d["y"], 0, SIDE, "y"),
            "size": number(d["size"], *STAMP_SIZE_RANGE, "size"),
            "rot": number(d.get("rot", 0), -180, 180, "rot")}


def _page_only(d):
    require_dict(d, ("page",))
    return {"page": _page(d)}


def _page_add(d):
    require_dict(d, ("page",), optional=("shape",))
    out = {"page": _page(d)}
    if "shape" in d:
        out["shape"] = one_of(d["shape"], SHAPES, "shape")
    return out


def _page_shape(d):
    require_dict(d, ("page", "shape"))
    return {"page": _page(d), "shape": one_of(d["shape"], SHAPES, "shape")}


def _page_bg(d):
    require_dict(d, ("page", "bg"))
    return {"page": _page(d), "bg": one_of(d["bg"], BACKGROUNDS, "bg")}


OPS = {
    "stroke": OpSpec(_stroke),
    "stamp": OpSpec(_stamp),
    "page.add": OpSpec(_page_add),
    "page.bg": OpSpec(_page_bg),
    "page.shape": OpSpec(_page_shape),
    "clear": OpSpec(_page_only),
    # Therapist only: a copy of the page for the session record (issue 17). Not
    # taken back by the therapist's next undo, like the sand tray's snapshot.
    "page.save": OpSpec(lambda d: _save(d), stamped=True, undoable=False),
    "page.unsave": OpSpec(internal(), client=False),
    "saved.restore": OpSpec(internal(), client=False),
    # Produced by the server as inverses; never accepted from a client.
    "items.remove": OpSpec(internal("page"), client=False),
    "items.restore": OpSpec(internal("page"), client=False),
    "page.remove": OpSpec(internal("page"), client=False),
    "page.restore": OpSpec(internal("page"), client=False),
}


def _preview(d):
    """In-progress stroke: {id, page, tool, color, size, from, pts}. `from` is the
    index of the first point in `pts` within the whole stroke, so relays can be
    merged and a late viewer knows it missed the start."""
    require_dict(d, ("id", "page", "tool", "color", "size", "from", "pts"))
    return {"id": ident(d["id"]), "page": _page(d), "tool": one_of(d["tool"], TOOLS, "tool"),
            "color": color(d["color"]), "size": number(d["size"], *SIZE_RANGE, "size"),
            "from": integer(d["from"], 0, MAX_STROKE_POINTS, "from"),
            "pts": flat_points(d["pts"], stride=3, max_points=MAX_PREVIEW_POINTS,
                               bounds=POINT_BOUNDS, name="pts")}


def _cursor(d):
    require_dict(d, ("page", "x", "y"))
    return {"page": _page(d), "x": number(d["x"], 0, SIDE, "x"),
            "y": number(d["y"], 0, SIDE, "y")}


def _merge_preview(old, new):
    """Coalesce two previews of the same stroke (consecutive points) into one."""
    if old["id"] == new["id"] and old["from"] + len(old["pts"]) // 3 == new["from"]:
        merged = dict(old)
        merged["pts"] = old["pts"] + new["pts"]
        return merged
    return None


# kind -> (validator, merge(old, new) -> merged | None (keep latest only))
EPHEMERAL = {"stroke": (_preview, _merge_preview), "cursor": (_cursor, None)}


def validate(t, d):
    return validate_op(OPS, t, d)


# ---------------------------------------------------------------- authorisation

GUEST_OPS = {"stroke", "stamp", "page.add", "page.bg", "page.shape", "history", "eph:stroke"}


def may(role, t, settings):
    """Therapist: everything. Guests: drawing ops while their role may play; never
    clear. Everyone in the room may show their cursor."""
    if role == THERAPIST or t == "eph:cursor":
        return True
    return t in GUEST_OPS and may_play(settings, role, NAME)


# ---------------------------------------------------------------- reducer

def initial_state():
    return {"pages": [_new_page("p1")]}


def _new_page(pid, bg="white", shape="wide"):
    page = {"id": pid, "bg": bg, "n": 0, "items": []}
    if shape != "wide":
        page["shape"] = shape
    return page


def page_size(page):
    """(width, height) of a page in board units."""
    return SHAPES[page.get("shape", "wide")]


def _outside(page, t, d):
    """Does a stroke's or stamp's position lie outside its page (validation allowed
    the larger box)? One slice and max: the stroke path's only extra cost."""
    if page.get("shape", "wide") == "wide":          # x ≤ BOARD_W = SIDE already
        return (max(d["pts"][1::3]) if t == "stroke" else d["y"]) > BOARD_H
    return (max(d["pts"][0::3]) if t == "stroke" else d["x"]) > TALL_W


def _find(state, page_id):
    for i, p in enumerate(state["pages"]):
        if p["id"] == page_id:
            return i, p
    return -1, None


def _has_id(page, item_id):
    """Whether the page holds an item with this id. The scan runs in C (map over
    itemgetter): replaying a 5,000-stroke log on a cold load checked every stroke
    against all earlier ones with a Python generator, ~1 s of the load (bench/)."""
    return item_id in map(_ITEM_ID, page["items"])


def _numbers(item):
    return len(item["pts"]) if item["k"] == "stroke" else 6


def content(state):
    """Numbers stored on all pages and saved copies (ROOM1's measure: each page keeps
    its count)."""
    return sum(p["n"] for p in state["pages"]) + sum(s["n"] for s in state.get("saved", ()))


BOUND = Bound(MAX_NUMBERS, content,
              N_("The drawing is full: undo some strokes or clear a page to draw more."))


def check(state, t, d):
    """State-dependent rules for a client op that passed validate()."""
    i, page = _find(state, d["page"])
    if t == "page.save":
        return _check_save(state, page, d)
    if t == "page.add":
        if page is not None:
            return Rejected(E_CONFLICT, "that page already exists")
        if len(state["pages"]) >= MAX_PAGES:
            return Rejected(E_FULL, f"a canvas has at most {MAX_PAGES} pages")
        return None
    if page is None:
        return Rejected(E_NO_PAGE, "no such page")
    if t in ("stroke", "stamp"):
        if len(page["items"]) >= MAX_ITEMS_PER_PAGE or \
                page["n"] + len(d.get("pts", ())) > MAX_NUMBERS_PER_PAGE:
            return Rejected(E_FULL, N_("this page is full: add a new page"))
        if _has_id(page, d["id"]):
            return Rejected(E_CONFLICT, "an item with that id exists")
        if _outside(page, t, d):
            return Rejected(E_INVALID, "points beyond the page")
    if t == "page.shape" and page["items"] and page.get("shape", "wide") != d["shape"]:
        return Rejected(E_CONFLICT, N_("Only an empty page can be turned: clear it or add a new page."))
    return None


def _with_page(state, i, page):
    pages = list(state["pages"])
    pages[i] = page
    return {**state, "pages": pages}


def apply(state, t, d, by=None):
    """Apply op (t, d) by participant `by`. Returns (new_state, inverse or None)."""
    if t in SAVE_OPS:
        return _apply_saved(state, t, d, by)
    i, page = _find(state, d["page"]) if t != "page.restore" else (-1, None)
    if t == "page.add":
        if page is not None:
            return state, None
        return {**state, "pages": state["pages"] + [_new_page(d["page"], shape=d.get("shape", "wide"))]}, \
            ("page.remove", {"page": d["page"]})
    if t == "page.restore":
        if _find(state, d["page"]["id"])[1] is not None:
            return state, None
        pages = list(state["pages"])
        pages.insert(min(d["index"], len(pages)), d["page"])
        return {**state, "pages": pages}, ("page.remove", {"page": d["page"]["id"]})
    if page is None:
        return state, None  # stale: the page is gone
    if t == "page.remove":
        if len(state["pages"]) == 1:
            return state, None
        pages = state["pages"][:i] + state["pages"][i + 1:]
        return {**state, "pages": pages}, ("page.restore", {"page": page, "index": i})
    if t == "page.shape":
        old = page.get("shape", "wide")
        if old == d["shape"] or page["items"]:     # a drawn page is never turned (check)
            return state, None
        turned = {k: v for k, v in page.items() if k != "shape"}
        if d["shape"] != "wide":
            turned["shape"] = d["shape"]
        return _with_page(state, i, turned), ("page.shape", {"page": page["id"], "shape": old})
    if t == "page.bg":
        if page["bg"] == d["bg"]:
            return state, None
        return _with_page(state, i, {**page, "bg": d["bg"]}), \
            ("page.bg", {"page": page["id"], "bg": page["bg"]})
    if t in ("stroke", "stamp"):
        if _has_id(page, d["id"]):
            return state, None
        item = {k: v for k, v in d.items() if k != "page"}
        item["k"] = t
        item["by"] = by
        new_page = {**page, "items": page["items"] + [item], "n": page["n"] + _numbers(item)}
        return _with_page(state, i, new_page), ("items.remove", {"page": page["id"], "ids": [d["id"]]})
    if t == "clear":
        return _remove(state, i, page, None)
    if t == "items.remove":
        return _remove(state, i, page, set(d["ids"]))
    if t == "items.restore":
        return _restore(state, i, page, d["items"])
    raise ValueError(f"unknown canvas op {t}")


def _remove(state, i, page, ids):
    """Remove `ids` (all items when None); the inverse restores them in place."""
    kept, removed = [], []
    for idx, it in enumerate(page["items"]):
        if ids is None or it["id"] in ids:
            removed.append([idx, it])
        else:
            kept.append(it)
    if not removed:
        return state, None
    n = page["n"] - sum(_numbers(it) for _, it in removed)
    return _with_page(state, i, {**page, "items": kept, "n": n}), \
        ("items.restore", {"page": page["id"], "items": removed})


def _restore(state, i, page, entries):
    present = {it["id"] for it in page["items"]}
    items = list(page["items"])
    restored = []
    for idx, it in sorted(entries, key=lambda e: e[0]):
        if it["id"] in present:
            continue
        items.insert(min(idx, len(items)), it)
        restored.append(it["id"])
    if not restored:
        return state, None
    n = page["n"] + sum(_numbers(it) for _, it in entries if it["id"] in restored)
    return _with_page(state, i, {**page, "items": items, "n": n}), \
        ("items.remove", {"page": page["id"], "ids": restored})


def client_config(tr=ENGLISH):
    return {
        "board": {"w": BOARD_W, "h": BOARD_H},
        # PAINT1: a snapshot whose first page holds this many numbers is followed by
        # the server's picture of it (or word that none comes): worth waiting for.
        "picture_from": PICTURE_FROM,
        "shapes": {k: {"w": w, "h": h} for k, (w, h) in SHAPES.items()},
        "palette": PALETTE, "sizes": SIZES, "size_range": list(SIZE_RANGE),
        "tools": sorted(TOOLS), "tool_style": {k: list(v) for k, v in TOOL_STYLE.items()},
        "stamps": pictures.STAMPS, "stamp_size_range": list(STAMP_SIZE_RANGE),
        "backgrounds": BACKGROUNDS,
        "limits": {"stroke_points": MAX_STROKE_POINTS, "preview_points": MAX_PREVIEW_POINTS,
                   "pages": MAX_PAGES, "items_per_page": MAX_ITEMS_PER_PAGE,
                   "caption_chars": CAPTION_CHARS},
        "ops": [t for t, s in OPS.items() if s.client],
    }


# ---------------------------------------------------------------- server renderer
#
# Every stroke is drawn once, at the export size, with the browser's shape
# (perfect-freehand's outline: activities/canvas/strokes.py). Opaque strokes (pen, marker)
# and erasers become pixel spans resolved by paint order: each pixel shows the last
# of them that covers it, or the background where that is an eraser. Translucent
# items (highlighter strokes, stamps) are then blended in order over their own
# pixels, only where no later opaque stroke or eraser covers them. That is the same
# picture as painting every item in turn onto an ink layer over the background,
# without an image per item.

_BATCH_POINTS = 40_000      # numbers per batch of strokes: bounds the memory used
_BAND_ROWS = 128            # rows composed at a time
_HIGHLIGHT_ALPHA = round(255 * TOOL_STYLE["highlighter"][1])


# PAINT1 (issue 18 part 2): from this many numbers on the first page, a joiner gets
# the server's picture of it ahead of drawing its strokes. Measured (bench/, Chromium
# in software on one core): ~1,000 strokes of 100 points (300,000 numbers) take a
# browser ~0.3 s to outline and fill, the server ~0.1 s to render; 5,000 take ~1.1 s
# against ~0.3 s. Below it the browser's own drawing is quick enough.
PICTURE_FROM = 300_000


def first_picture(state):
    """The first page (the one a joiner sees) when it holds so much that its picture
    paints sooner than its strokes; with how many items the picture shows and the id
    of the last one and its background, so the browser can tell whether it still
    matches its state."""
    page = state["pages"][0]
    if page["n"] < PICTURE_FROM or not page["items"]:
        return None
    return {"key": page["id"], "n": len(page["items"]), "last": page["items"][-1]["id"],
            "bg": page["bg"]}


def render(state, page_id, assets, scale=1.0):
    """Render one page to a PIL image from the authoritative state: mode "P" (a
    palette of the exact colours) when the page has no stamps and at most 256
    colours, which is most drawings (its PNG needs no row filters and a third of
    the bytes: ~12 instead of ~45 ms for the 5,000-stroke board, bench/), else "RGB".
    Both give the same pixels."""
    if str(page_id).startswith(SAVED_KEY):       # a copy saved to the record
        state = {"pages": [_saved_page(state, page_id)]}
        page_id = state["pages"][0]["id"]
    _, page = _find(state, page_id)
    if page is None:
        raise KeyError(page_id)
    pw, ph = page_size(page)
    w, h = round(pw * scale), round(ph * scale)
    items = page["items"]
    opaque, translucent = [], []
    for i, item in enumerate(items):
        if item["k"] != "stroke":
            translucent.append(i)
        elif item["pts"]:
            (opaque if TOOL_STYLE[item["tool"]][1] >= 1 else translucent).append(i)
    top = _paint_order(items, opaque, scale, w, h)
    lines = [i for i in translucent if items[i]["k"] == "stroke"]
    pixels = dict(zip(lines, _stroke_pixels([items[i] for i in lines], scale, w, h)))
    if len(lines) == len(translucent):
        img = _indexed(top, items, lines, pixels, page["bg"], w, h, scale)
        if img is not None:
            return img
    out = np.empty(w * h, np.uint32)          # RGBX pixels
    _compose(out, top, items, page["bg"], w, h, scale)
    rgba = out.view(np.uint8).reshape(h, w, 4)
    flat = rgba.reshape(-1, 4)
    top2d = top.reshape(h, w) if top is not None else None
    for i in translucent:
        item = items[i]
        if item["k"] == "stroke":
            px = _uncovered(pixels[i], top, i)
            flat[px, :3] = _over(_rgb(item["color"]), flat[px, :3].astype(np.uint32))
        else:
            _draw_stamp(rgba, top2d, i, item, assets, scale)
    del top, top2d
    return Image.frombytes("RGB", (w, h), out, "raw", "RGBX")


def _uncovered(px, top, i):
    """The pixels of px that no later opaque stroke or eraser covers."""
    return px if top is None else px[top[px] < i]


def _over(rgb, under):
    """A highlighter's colour over `under` (uint32 RGB rows), rounded as uint8."""
    a = _HIGHLIGHT_ALPHA
    return (np.asarray(rgb, np.uint32) * a + under * (255 - a) + 127) // 255


def _indexed(top, items, lines, pixels, bg, w, h, scale):
    """The page as a palette image (see render), or None past 256 colours."""
    colours = {}                                # (r, g, b) -> palette index

    def index(rgb):
        k = colours.get(rgb)
        if k is None:
            k = colours[rgb] = len(colours)
        return k
    index(_rgb(BACKGROUNDS[bg]))                # 0: the page
    ink = index(_rgb(_BACKGROUND_INK.get(bg, BACKGROUNDS[bg])))   # its grid or dots
    page = Image.new("L", (w, h), 0)
    _draw_background(ImageDraw.Draw(page), bg, w, h, scale, ink=ink)
    idx = np.frombuffer(page.tobytes(), np.uint8).copy()
    if top is not None:
        lut = np.full(len(items) + 1, -1, np.int16)      # -1: no stroke, or erased
        for i, item in enumerate(items):
            if item["k"] == "stroke" and item["tool"] != "eraser" and item["pts"]:
                lut[i + 1] = index(_rgb(item["color"]))
        if len(colours) > 256:
            return None
        shown = lut[top + 1]
        keep = shown >= 0
        idx[keep] = shown[keep]
    palette = np.array(list(colours), np.uint32)
    for i in lines:
        px = _uncovered(pixels[i], top, i)
        if not len(px):
            continue
        under, at = np.unique(idx[px], return_inverse=True)
        new = [index(tuple(c)) for c in _over(_rgb(items[i]["color"]), palette[under]).tolist()]
        if len(colours) > 256:
            return None
        palette = np.array(list(colours), np.uint32)
        idx[px] = np.array(new, np.uint8)[at]
    img = Image.frombytes("P", (w, h), idx.tobytes())
    img.putpalette(palette.astype(np.uint8).reshape(-1).tobytes())
    return img


@lru_cache(maxsize=256)
def _rgb(hex_color):
    return tuple(int(hex_color[k:k + 2], 16) for k in (1, 3, 5))


def _stroke_args(item):
    return item["pts"], item["size"], TOOL_STYLE[item["tool"]][0]


def _batches(items, indices):
    batch, count = [], 0
    for i in indices:
        batch.append(i)
        count += len(items[i]["pts"])
        if count >= _BATCH_POINTS:
            yield batch
            batch, count = [], 0
    if batch:
        yield batch


def _paint_order(items, indices, scale, w, h):
    """For each pixel, the index of the last opaque stroke or eraser covering it
    (-1: none), as a flat array; None when there are none."""
    if not indices:
        return None
    order = strokes.PaintOrder(w, h, len(items))
    for batch in _batches(items, indices):
        x, y, r, sid, n = strokes.centre_lines([_stroke_args(items[i]) for i in batch], scale)
        ords = np.asarray(batch, order.dtype)
        for left, length, s in strokes.spans(x, y, r, sid, n, w, h):
            order.add(left, length, ords[s])
    return order.resolve()


def _compose(out, top, items, bg, w, h, scale):
    """Fill out with the page background, then the colour of the opaque stroke each
    pixel shows (none where an eraser was last), a band of rows at a time."""
    colour = np.zeros(len(items) + 1, np.uint32)   # index 0: no stroke; 0: background
    for i, item in enumerate(items):
        if item["k"] == "stroke" and item["tool"] != "eraser":
            r, g, b = _rgb(item["color"])
            colour[i + 1] = r | g << 8 | b << 16 | 0xFF000000
    for y0 in range(0, h, _BAND_ROWS):
        bh = min(_BAND_ROWS, h - y0)
        band = Image.new("RGB", (w, bh), BACKGROUNDS[bg])
        _draw_background(ImageDraw.Draw(band), bg, w, h, scale, y0)
        part = out[y0 * w:(y0 + bh) * w]
        part[:] = np.frombuffer(band.tobytes("raw", "RGBX"), np.uint32)
        if top is not None:
            c = colour[top[y0 * w:(y0 + bh) * w] + 1]
            np.copyto(part, c, where=c != 0)


def _stroke_pixels(items, scale, w, h):
    """Per stroke, the flat indices of its pixels (each once)."""
    if not items:
        return []
    x, y, r, sid, n = strokes.centre_lines([_stroke_args(it) for it in items], scale)
    groups = strokes.spans(x, y, r, sid, n, w, h)
    if not groups:
        return [np.zeros(0, np.int64) for _ in items]
    left, length, s = (np.concatenate(v) for v in zip(*groups))
    order = np.argsort(s, kind="stable")
    left, length, s = left[order], length[order], s[order]
    row, col = np.divmod(left, w)
    bounds = np.searchsorted(s, np.arange(len(items) + 1))
    out = []
    for k in range(len(items)):
        a, b = bounds[k], bounds[k + 1]
        if a == b:
            out.append(np.zeros(0, np.int64))
            continue
        rr, cc, nn = row[a:b], col[a:b], length[a:b]
        r0, c0 = int(rr.min()), int(cc.min())
        bw = int((cc + nn).max()) - c0
        ll = (rr - r0) * bw + (cc - c0)      # in the stroke's bounding box
        cs = np.cumsum(nn) - nn
        mark = np.zeros((int(rr.max()) - r0 + 1) * bw, bool)  # spans overlap: each pixel once
        mark[np.arange(int(nn.sum())) + np.repeat(ll - cs, nn)] = True
        py, px = np.divmod(np.flatnonzero(mark), bw)
        out.append((py + r0) * w + (px + c0))
    return out


def _blend(rgba, top, i, box, pix):
    """Blend the RGBA picture pix over rgba with its corner at box (x, y), where no
    later opaque stroke or eraser (top > i) covers the pixel."""
    bx, by = box
    mh, mw = pix.shape[:2]
    x0, y0 = max(bx, 0), max(by, 0)
    x1, y1 = min(bx + mw, rgba.shape[1]), min(by + mh, rgba.shape[0])
    if x0 >= x1 or y0 >= y1:
        return
    src = pix[y0 - by:y1 - by, x0 - bx:x1 - bx]
    sel = src[:, :, 3] > 0
    if top is not None:
        sel &= top[y0:y1, x0:x1] < i
    dst = rgba[y0:y1, x0:x1, :3]
    a = src[:, :, 3][sel].astype(np.uint32)[:, None]
    under = dst[sel].astype(np.uint32)
    over = src[:, :, :3][sel].astype(np.uint32)
    dst[sel] = (over * a + under * (255 - a) + 127) // 255


def _draw_background(draw, bg, w, h, scale, y0=0, ink=None):
    """Grid lines or dots of a w x h page, drawn on a band whose top is row y0, in
    their colour or in `ink` (a palette index)."""
    step = 50 * scale
    fill = _BACKGROUND_INK.get(bg) if ink is None else ink
    if bg == "grid":
        for k in range(1, int(w / step) + 1):
            draw.line([(k * step, -y0), (k * step, h - y0)], fill=fill, width=1)
        for k in range(1, int(h / step) + 1):
            draw.line([(0, k * step - y0), (w, k * step - y0)], fill=fill, width=1)
    elif bg == "dots":
        r = max(1, 2 * scale)
        for x in range(1, int(w / step) + 1):
            for y in range(1, int(h / step) + 1):
                draw.ellipse([x * step - r, y * step - r - y0, x * step + r, y * step + r - y0],
                             fill=fill)


def _draw_stamp(rgba, top, i, item, assets, scale):
    """Blend the stamp's picture (cached raster, rotated about its centre) in place."""
    px = max(1, round(item["size"] * scale))
    img = assets.raster(item["stamp"], px)
    if item.get("rot"):
        img = img.rotate(-item["rot"], resample=Image.Resampling.BICUBIC, expand=True)
    x = round(item["x"] * scale - img.width / 2)
    y = round(item["y"] * scale - img.height / 2)
    _blend(rgba, top, i, (x, y), np.asarray(img))


# ---------------------------------------------------------------- session record

def record_entries(ops, state=None, ended_at=None, tr=ENGLISH):
    """Timeline entries for the session record (activities/contract/__init__.py): one line per
    person saying how much they drew (from their first mark on), and pages added or
    cleared. Pure: `ops` are this activity's ops of one session, in seq order."""
    out, drawn = [], {}
    for op in ops:
        if op["kind"] != "do":
            continue
        t, by = op["t"], op["by"]
        base = {"seq": op["seq"], "at": op["ts"], "by": by}
        if t in ("stroke", "stamp"):
            entry = drawn.get(by)
            if entry is None:
                entry = drawn[by] = {**base, "kind": "drawing",
                                     "data": {"strokes": 0, "stamps": 0}}
                out.append(entry)
            entry["data"]["strokes" if t == "stroke" else "stamps"] += 1
        elif t == "clear":
            out.append({**base, "kind": "clear", "text": tr.gettext("cleared a drawing page"),
                        "data": {"page": op["d"].get("page")}})
        elif t == "page.add":
            out.append({**base, "kind": "page", "text": tr.gettext("added a drawing page"),
                        "data": {"page": op["d"].get("page")}})
        elif t == "page.save":
            out.append(_saved_entry(base, op["d"], state, tr))
    for entry in drawn.values():
        n, s = entry["data"]["strokes"], entry["data"]["stamps"]
        strokes = tr.ngettext("{n} stroke", "{n} strokes", n)
        stamps = tr.ngettext("{n} stamp", "{n} stamps", s)
        if n and s:
            entry["text"] = tr.gettext("drew on the canvas: {strokes} and {stamps}", strokes=strokes, stamps=stamps)
        else:
            entry["text"] = tr.gettext("drew on the canvas: {what}", what=strokes if n else stamps)
    return out


def record_pictures(state, tr=ENGLISH):
    """Pictures for the session record: every page with something on it (captions in
    the language of `tr`, the record's reader; English when none is given)."""
    return [(p["id"], tr.gettext("Drawing, page {n}", n=i + 1)) for i, p in enumerate(state["pages"])
            if p["items"]]


# ---------------------------------------------------------------- saved to the record
#
# "Save to record" (issue 17): the therapist keeps the page as it is now for the
# session record, with a caption, as the sand tray keeps a snapshot. The copy shares
# its items with the page (the reducer never mutates), so it costs no memory until
# the page changes; its numbers count towards ROOM1. It is state like any other:
# snapshots carry it and the browser's reducer keeps it the same way (every client
# converges on what a late joiner gets), but nothing draws it.

SAVE_OPS = {"page.save", "page.unsave", "saved.restore"}
MAX_SAVED = 12                   # copies kept in the room (the oldest must go first)
CAPTION_CHARS = 80
SAVED_KEY = "saved:"             # render key of a copy: "saved:<id>"


def _save(d):
    require_dict(d, ("page", "id"), optional=("caption",))
    caption = d.get("caption")
    caption = None if caption is None else person_text(caption, CAPTION_CHARS, "caption").strip()
    return {"page": _page(d), "id": ident(d["id"]), "caption": caption or None}


def _find_saved(state, sid):
    for i, s in enumerate(state.get("saved", ())):
        if s["id"] == sid:
            return i, s
    return -1, None


def _check_save(state, page, d):
    if page is None:
        return Rejected(E_NO_PAGE, "no such page")
    if not page["items"]:
        return Rejected(E_NOTHING, N_("nothing is drawn on this page yet"))
    if _find_saved(state, d["id"])[1] is not None:
        return Rejected(E_CONFLICT, "a saved drawing with that id exists")
    if len(state.get("saved", ())) >= MAX_SAVED:
        return Rejected(E_FULL, f"at most {MAX_SAVED} drawings are kept for records")
    return None


def _apply_saved(state, t, d, by):
    saved = list(state.get("saved", ()))
    if t == "page.save":
        i, page = _find(state, d["page"])
        if page is None or not page["items"] or _find_saved(state, d["id"])[1] is not None:
            return state, None
        entry = {"id": d["id"], "page": page["id"], "index": i + 1, "caption": d.get("caption"),
                 "at": d.get("at"), "by": by, "bg": page["bg"], "n": page["n"],
                 "items": page["items"]}
        if "shape" in page:
            entry["shape"] = page["shape"]
        return {**state, "saved": saved + [entry]}, ("page.unsave", {"id": d["id"]})
    if t == "page.unsave":
        i, entry = _find_saved(state, d["id"])
        if entry is None:
            return state, None
        rest = saved[:i] + saved[i + 1:]
        # The key goes with the last copy: the inverse gives back the very same state.
        new = {**state, "saved": rest} if rest else {k: v for k, v in state.items() if k != "saved"}
        return new, ("saved.restore", {"entry": entry, "index": i})
    if _find_saved(state, d["entry"]["id"])[1] is not None:      # saved.restore
        return state, None
    saved.insert(min(d["index"], len(saved)), d["entry"])
    return {**state, "saved": saved}, ("page.unsave", {"id": d["entry"]["id"]})


def _saved_page(state, key):
    """The saved copy `key` ("saved:<id>") as a page to render; KeyError if gone."""
    entry = _find_saved(state, str(key)[len(SAVED_KEY):])[1]
    if entry is None:
        raise KeyError(key)
    return _new_page(key, entry["bg"], entry.get("shape", "wide")) | \
        {"n": entry["n"], "items": entry["items"]}


def caption_of(entry_or_op, tr=ENGLISH):
    """The caption a saved drawing has in the record: the therapist's words, else
    which page it was."""
    d = entry_or_op
    if d.get("caption"):
        return d["caption"]
    return tr.gettext("Drawing, page {n}", n=d["index"]) if d.get("index") else tr.gettext("Saved drawing")


def _saved_entry(base, d, state, tr=ENGLISH):
    """The timeline line of a page.save: an explicit snapshot picture (records.py)."""
    entry = _find_saved(state or {}, d["id"])[1]
    caption = caption_of(entry or d, tr)
    return {**base, "at": d.get("at", base["at"]), "kind": "snapshot",
            "text": tr.gettext("saved the drawing to the record: “{caption}”", caption=caption),
            "data": {"picture": SAVED_KEY + d["id"], "caption": caption}}


def visible(state, role, session):
    """READ2: copies saved in earlier sessions are the therapist's, like the earlier
    check-ins; a guest's snapshot holds only this session's (saved at or after its
    start, both by the server's clock). The state itself when nothing is hidden."""
    saved = state.get("saved")
    if role == THERAPIST or not saved:
        return state
    start = session.get("at") if session else None
    keep = [s for s in saved if start is not None and s.get("at") is not None and s["at"] >= start]
    return state if len(keep) == len(saved) else {**state, "saved": keep}
