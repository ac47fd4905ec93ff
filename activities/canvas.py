"""Canvas: shared drawing pages with pen, marker, highlighter, eraser and stamps.

State (plain JSON):
    {"pages": [{"id": "p1", "bg": "white", "n": 0, "items": [item, ...]}, ...]}
An item is a stroke {"id", "k": "stroke", "by", "tool", "color", "size", "pts"} with
`pts` a flat [x, y, pressure, ...] list in board units, or a stamp
{"id", "k": "stamp", "by", "stamp", "x", "y", "size", "rot"}. Items are drawn in list
order onto one ink layer over the page background; eraser strokes remove ink, so
undoing an eraser stroke brings the ink back. `n` counts the numbers stored on the
page (the memory budget).

The reducer is pure: every apply returns a new state that shares unchanged pages
and items with the old one, plus the inverse op that undoes it.
"""
from PIL import Image, ImageDraw

from rooms import pictures
from rooms.protocol import E_CONFLICT, E_FULL, E_INVALID, E_NO_PAGE, THERAPIST, CHILD, PARENT

from .base import (Invalid, OpSpec, Rejected, color, flat_points, ident, integer,
                   number, one_of, require_dict)

NAME = "canvas"
TITLE = "Draw"
ICON = "palette"

BOARD_W, BOARD_H = 1600, 1000
MAX_STROKE_POINTS = 1500
MAX_PREVIEW_POINTS = 240
MAX_PAGES = 20
MAX_ITEMS_PER_PAGE = 10_000
MAX_NUMBERS_PER_PAGE = 2_000_000
TOOLS = {"pen", "marker", "highlighter", "eraser"}
SIZES = [4, 8, 16, 32]
SIZE_RANGE = (1, 80)
STAMP_SIZE_RANGE = (24, 480)
PALETTE = ["#000000", "#7f8c8d", "#ffffff", "#8b5a2b", "#e53935", "#ff7f00", "#fdd835",
           "#43a047", "#a5d6a7", "#00897b", "#29b6f6", "#1e40af", "#8e24aa", "#ec407a",
           "#f8bbd0", "#ffcc80"]
BACKGROUNDS = {"white": "#ffffff", "cream": "#fff8e7", "grid": "#ffffff",
               "dots": "#ffffff", "night": "#1b2a49"}
# Stroke shape per tool: thinning (how much pressure narrows the line) and opacity.
TOOL_STYLE = {"pen": (0.5, 1.0), "marker": (0.0, 1.0),
              "highlighter": (0.0, 0.35), "eraser": (0.0, 1.0)}
POINT_BOUNDS = ((0, BOARD_W), (0, BOARD_H), (0, 1))


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
            "x": number(d["x"], 0, BOARD_W, "x"), "y": number(d["y"], 0, BOARD_H, "y"),
            "size": number(d["size"], *STAMP_SIZE_RANGE, "size"),
            "rot": number(d.get("rot", 0), -180, 180, "rot")}


def _page_only(d):
    require_dict(d, ("page",))
    return {"page": _page(d)}


def _page_bg(d):
    require_dict(d, ("page", "bg"))
    return {"page": _page(d), "bg": one_of(d["bg"], BACKGROUNDS, "bg")}


def _internal(d):
    if not isinstance(d, dict) or "page" not in d:
        raise Invalid("internal op")
    return d


OPS = {
    "stroke": OpSpec(_stroke),
    "stamp": OpSpec(_stamp),
    "page.add": OpSpec(_page_only),
    "page.bg": OpSpec(_page_bg),
    "clear": OpSpec(_page_only),
    # Produced by the server as inverses; never accepted from a client.
    "items.remove": OpSpec(_internal, client=False),
    "items.restore": OpSpec(_internal, client=False),
    "page.remove": OpSpec(_internal, client=False),
    "page.restore": OpSpec(_internal, client=False),
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
    return {"page": _page(d), "x": number(d["x"], 0, BOARD_W, "x"),
            "y": number(d["y"], 0, BOARD_H, "y")}


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
    spec = OPS.get(t)
    try:
        return spec.validator(d)
    except Invalid as e:
        return Rejected(E_INVALID, str(e))
    except (KeyError, TypeError, AttributeError):
        return Rejected(E_INVALID, "malformed payload")


# ---------------------------------------------------------------- authorisation

GUEST_OPS = {"stroke", "stamp", "page.add", "page.bg", "history", "eph:stroke"}
ROLE_SETTING = {CHILD: "child_may_draw", PARENT: "parent_may_play"}


def may(role, t, settings):
    """Therapist: everything. Guests: drawing ops while their role may play; never
    clear. Everyone in the room may show their cursor."""
    if role == THERAPIST or t == "eph:cursor":
        return True
    key = ROLE_SETTING.get(role)
    return bool(key and settings.get(key)) and t in GUEST_OPS


# ---------------------------------------------------------------- reducer

def initial_state():
    return {"pages": [_new_page("p1")]}


def _new_page(pid, bg="white"):
    return {"id": pid, "bg": bg, "n": 0, "items": []}


def _find(state, page_id):
    for i, p in enumerate(state["pages"]):
        if p["id"] == page_id:
            return i, p
    return -1, None


def _numbers(item):
    return len(item["pts"]) if item["k"] == "stroke" else 6


def check(state, t, d):
    """State-dependent rules for a client op that passed validate()."""
    i, page = _find(state, d["page"])
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
            return Rejected(E_FULL, "this page is full: add a new page")
        if any(it["id"] == d["id"] for it in page["items"]):
            return Rejected(E_CONFLICT, "an item with that id exists")
    return None


def _with_page(state, i, page):
    pages = list(state["pages"])
    pages[i] = page
    return {**state, "pages": pages}


def apply(state, t, d, by=None):
    """Apply op (t, d) by participant `by`. Returns (new_state, inverse or None)."""
    i, page = _find(state, d["page"]) if t != "page.restore" else (-1, None)
    if t == "page.add":
        if page is not None:
            return state, None
        return {**state, "pages": state["pages"] + [_new_page(d["page"])]}, \
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
    if t == "page.bg":
        if page["bg"] == d["bg"]:
            return state, None
        return _with_page(state, i, {**page, "bg": d["bg"]}), \
            ("page.bg", {"page": page["id"], "bg": page["bg"]})
    if t in ("stroke", "stamp"):
        if any(it["id"] == d["id"] for it in page["items"]):
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


def client_config():
    return {
        "board": {"w": BOARD_W, "h": BOARD_H},
        "palette": PALETTE, "sizes": SIZES, "size_range": list(SIZE_RANGE),
        "tools": sorted(TOOLS), "tool_style": {k: list(v) for k, v in TOOL_STYLE.items()},
        "stamps": pictures.STAMPS, "stamp_size_range": list(STAMP_SIZE_RANGE),
        "backgrounds": BACKGROUNDS,
        "limits": {"stroke_points": MAX_STROKE_POINTS, "preview_points": MAX_PREVIEW_POINTS,
                   "pages": MAX_PAGES, "items_per_page": MAX_ITEMS_PER_PAGE},
        "ops": [t for t, s in OPS.items() if s.client],
    }


# ---------------------------------------------------------------- server renderer

def render(state, page_id, pictures_root, scale=1.0):
    """Render one page to an RGB PIL image from the authoritative state."""
    _, page = _find(state, page_id)
    if page is None:
        raise KeyError(page_id)
    w, h = round(BOARD_W * scale), round(BOARD_H * scale)
    out = Image.new("RGBA", (w, h), BACKGROUNDS[page["bg"]])
    _draw_background(ImageDraw.Draw(out), page["bg"], w, h, scale)
    ink = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    for item in page["items"]:
        if item["k"] == "stroke":
            _draw_stroke(ink, item, scale)
        else:
            _draw_stamp(ink, item, pictures_root, scale)
    out.alpha_composite(ink)
    return out.convert("RGB")


def _draw_background(draw, bg, w, h, scale):
    step = 50 * scale
    if bg == "grid":
        for k in range(1, int(w / step) + 1):
            draw.line([(k * step, 0), (k * step, h)], fill="#dbe4f0", width=1)
        for k in range(1, int(h / step) + 1):
            draw.line([(0, k * step), (w, k * step)], fill="#dbe4f0", width=1)
    elif bg == "dots":
        r = max(1, 2 * scale)
        for x in range(1, int(w / step) + 1):
            for y in range(1, int(h / step) + 1):
                draw.ellipse([x * step - r, y * step - r, x * step + r, y * step + r], fill="#c3cfdf")


def _radius(size, thinning, pressure):
    # The same width rule the browser gives perfect-freehand (thinning, no easing).
    return max(0.5, size * (0.5 - thinning * (0.5 - pressure)))


def _draw_stroke(ink, item, scale):
    thinning, alpha = TOOL_STYLE[item["tool"]]
    pts = item["pts"]
    if item["tool"] == "eraser":
        fill = (0, 0, 0, 0)  # ImageDraw writes RGBA pixels as given: this clears ink
        layer = ink
    else:
        r, g, b = (int(item["color"][k:k + 2], 16) for k in (1, 3, 5))
        fill = (r, g, b, 255)
        layer = ink if alpha >= 1 else Image.new("RGBA", ink.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    # Runs of points whose (pixel-rounded) width is equal are drawn as one polyline
    # with round joints: one C call per run instead of per segment.
    run, run_w = [], None
    for k in range(0, len(pts), 3):
        x, y = pts[k] * scale, pts[k + 1] * scale
        wpx = max(1, round(2 * _radius(item["size"], thinning, pts[k + 2]) * scale))
        if run and wpx != run_w:
            _polyline(draw, run, run_w, fill)
            run = [run[-1]]
        run.append((x, y))
        run_w = wpx
    _polyline(draw, run, run_w, fill)
    if layer is not ink:
        faded = layer.getchannel("A").point(lambda v: int(v * alpha))
        layer.putalpha(faded)
        ink.alpha_composite(layer)


def _polyline(draw, run, wpx, fill):
    if len(run) > 1:
        draw.line(run, fill=fill, width=wpx, joint="curve")
    half = wpx / 2
    for x, y in (run[0], run[-1]):
        draw.ellipse([x - half, y - half, x + half, y + half], fill=fill)


def _draw_stamp(ink, item, root, scale):
    px = max(1, round(item["size"] * scale))
    img = pictures.raster(root, item["stamp"], px)
    if item.get("rot"):
        img = img.rotate(-item["rot"], resample=Image.Resampling.BICUBIC, expand=True)
    x = round(item["x"] * scale - img.width / 2)
    y = round(item["y"] * scale - img.height / 2)
    layer = Image.new("RGBA", ink.size, (0, 0, 0, 0))
    layer.paste(img, (x, y))
    ink.alpha_composite(layer)
