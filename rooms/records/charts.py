"""Small inline SVG charts of the trends (rooms/records/trends.py) for the room's
records page: drawn on the server, so the page makes no third-party request and runs
no chart script (the CSP allows none); the XML is built with the standard library's
ElementTree, which escapes every text (a task title is the therapist's).

Each chart is role="img" with a <title> and a <desc> that say in words what it shows
(the page adds a data table with every number); its viewBox is sized to its columns
and the page scales it down to the screen's width, never wider.
"""
import xml.etree.ElementTree as ET

from babel.dates import format_datetime
from markupsafe import Markup

from activities.contract.i18n import ENGLISH, N_

# The check-in activity's colours per value (activities/checkin COLORS; rooms/ may not
# import it) and words, as on the trend sheet.
VALUE_COLORS = {1: "#e53935", 2: "#fb8c00", 3: "#fdd835", 4: "#9ccc65", 5: "#43a047"}
WORDS = {1: N_("very upset"), 2: N_("upset"), 3: N_("okay"), 4: N_("good"), 5: N_("great")}
MOMENT_WORDS = {"start": N_("start"), "end": N_("end"), "home": N_("home")}
SERIES = {"start": "#1d4ed8", "end": "#7c3aed", "home": "#0f766e"}
# Prompt levels from independent to the most help: green to red, and a letter in
# every cell, so the colour is never the only cue.
LEVEL_COLORS = ["#2e7d32", "#9ccc65", "#fdd835", "#fb8c00", "#c62828"]
LEVEL_INK = ["#fff", "#1f2937", "#1f2937", "#1f2937", "#fff"]     # contrast ≥ 4.5:1
INK, MUTED, GRID = "#1f2937", "#4b5563", "#e5e7eb"
FONT = "system-ui, sans-serif"
COL_W = 44               # width of one session's column
LABEL_W = 56             # the y axis labels of the check-in chart


def _svg(width, height, title, desc, ident):
    svg = ET.Element("svg", {"xmlns": "http://www.w3.org/2000/svg", "viewBox": f"0 0 {width} {height}",
                             "width": str(width), "height": str(height), "role": "img",
                             "aria-labelledby": f"{ident}-t {ident}-d", "class": "trend-chart",
                             "font-family": FONT, "font-size": "14", "fill": INK})
    ET.SubElement(svg, "title", {"id": f"{ident}-t"}).text = title
    ET.SubElement(svg, "desc", {"id": f"{ident}-d"}).text = desc
    return svg


def _text(parent, x, y, text, **attrs):
    el = ET.SubElement(parent, "text", {"x": f"{x:g}", "y": f"{y:g}",
                                        **{k.replace("_", "-"): str(v) for k, v in attrs.items()}})
    el.text = text
    return el


def _markup(svg):
    return Markup(ET.tostring(svg, encoding="unicode"))


def words(tr=ENGLISH):
    """{value: word} of the check-in values in the reader's language."""
    return {v: tr.gettext(w) for v, w in WORDS.items()}


def column_label(c, tr=ENGLISH):
    """A column's day ("07 Dec", "07 dic") in the reader's language, or "since" for
    the trailing column of home check-ins after the last session."""
    if tr.locale.language == "en" and c.get("label"):
        return c["label"]             # trends' own label (English day and month)
    if c.get("started_at") is None:
        return tr.gettext("since")
    import datetime
    return format_datetime(datetime.datetime.fromtimestamp(c["started_at"]), "dd MMM",
                           locale=tr.locale).rstrip(".")


def _day_label(parent, x, y, label):
    """Day over month ("07" over "Dec"): two short lines fit a narrow column."""
    day, _, month = label.partition(" ")
    t = _text(parent, x, y, None, text_anchor="middle", fill=MUTED, font_size=13)
    ET.SubElement(t, "tspan", {"x": f"{x:g}", "dy": "0"}).text = day
    ET.SubElement(t, "tspan", {"x": f"{x:g}", "dy": "15"}).text = month or ""


# ------------------------------------------------------------------ check-ins

def _checkin_words(c, tr=ENGLISH):
    parts = [(tr.gettext("start {value} of 5 ({word})", value=c[m], word=tr.gettext(WORDS[c[m]]))
              if m == "start" else
              tr.gettext("end {value} of 5 ({word})", value=c[m], word=tr.gettext(WORDS[c[m]])))
             for m in ("start", "end") if c[m] is not None]
    if c["during"]:
        parts.append(tr.gettext("during {values}", values=", ".join(str(v) for v in c["during"])))
    if c["home"]:
        parts.append(tr.gettext("{n} at home", n=len(c["home"])))
    what = "; ".join(parts) if parts else tr.gettext("no check-in")
    if c["started_at"] is None:
        return tr.gettext("since the last session: {what}", what=what)
    return tr.gettext("session of {day}: {what}", day=column_label(c, tr), what=what)


def checkin_chart(columns, ident="checkins", tr=ENGLISH):
    """The check-in series (trends.checkin_series) as an SVG: the five values up the
    left, one column per session, a line through the start answers and one through the
    end answers (a session without one breaks its line), home check-ins as small
    diamonds in the column of the session they led up to."""
    n = len(columns)
    width, top, step = LABEL_W + COL_W * n + 16, 40, 34
    base = top + 4 * step
    height = base + 44
    desc = "; ".join(_checkin_words(c, tr) for c in columns) + "."
    svg = _svg(width, height,
               tr.ngettext("Check-ins over the last session (1 very upset to 5 great)",
                           "Check-ins over the last {n} sessions (1 very upset to 5 great)", n),
               desc, ident)
    _legend(svg, [(key, shape, tr.gettext(MOMENT_WORDS[key]))
                  for key, shape in (("start", "circle"), ("end", "square"))] +
            ([("home", "diamond", tr.gettext(MOMENT_WORDS["home"]))]
             if any(c["home"] for c in columns) else []))
    for v in range(1, 6):
        y = base - (v - 1) * step
        ET.SubElement(svg, "line", {"x1": str(LABEL_W - 6), "x2": str(width - 8), "y1": str(y),
                                    "y2": str(y), "stroke": GRID})
        ET.SubElement(svg, "circle", {"cx": "12", "cy": str(y), "r": "7",
                                      "fill": VALUE_COLORS[v]})
        _text(svg, 26, y + 5, str(v), fill=MUTED)
    xs = [LABEL_W + COL_W * i + COL_W / 2 for i in range(n)]
    for i, c in enumerate(columns):
        _day_label(svg, xs[i], base + 22, column_label(c, tr))
    for moment, shape in (("start", "circle"), ("end", "square")):
        pts = [(xs[i], base - (c[moment] - 1) * step) if c[moment] is not None else None
               for i, c in enumerate(columns)]
        _polyline(svg, pts, SERIES[moment], dashed=moment == "end")
        for p in pts:
            if p:
                _marker(svg, shape, p[0] + (-4 if moment == "start" else 4), p[1], SERIES[moment])
    for i, c in enumerate(columns):
        for k, v in enumerate(c["home"][:4]):
            _marker(svg, "diamond", xs[i] - 12 + 8 * k, base - (v - 1) * step, SERIES["home"], 4)
    return _markup(svg)


def _legend(svg, items):
    x = 8
    for key, shape, label in items:
        _marker(svg, shape, x + 6, 16, SERIES[key])
        _text(svg, x + 16, 21, label)
        x += 24 + 9 * len(label) + 14


def _polyline(svg, pts, color, dashed=False):
    """Lines between neighbouring answers only: a missing one is a gap, not a slope."""
    for a, b in zip(pts, pts[1:]):
        if a and b:
            attrs = {"x1": f"{a[0]:g}", "y1": f"{a[1]:g}", "x2": f"{b[0]:g}", "y2": f"{b[1]:g}",
                     "stroke": color, "stroke-width": "2.5"}
            if dashed:
                attrs["stroke-dasharray"] = "6 4"
            ET.SubElement(svg, "line", attrs)


def _marker(svg, shape, x, y, color, r=6):
    if shape == "circle":
        ET.SubElement(svg, "circle", {"cx": f"{x:g}", "cy": f"{y:g}", "r": str(r), "fill": color})
    elif shape == "square":
        ET.SubElement(svg, "rect", {"x": f"{x - r:g}", "y": f"{y - r:g}", "width": str(2 * r),
                                    "height": str(2 * r), "fill": color})
    else:
        ET.SubElement(svg, "polygon", {"fill": color, "points": " ".join(
            f"{px:g},{py:g}" for px, py in ((x, y - r), (x + r, y), (x, y + r), (x - r, y)))})


# ------------------------------------------------------------------ prompt levels

def level_letter(level):
    return level[:1].upper()


def prompt_chart(grid, ident="prompts", tr=ENGLISH):
    """One task's grid (trends.prompt_grids): a row per step (its number), a column per
    session, each cell coloured and lettered by the step's prompt level; the bottom row
    counts the steps done independently; a legend of the levels underneath."""
    steps, cols, levels = grid["steps"], grid["columns"], grid["levels"]
    n, cell = len(cols), 34
    left, top = 40, 8
    width = max(left + COL_W * n + 8, 320)
    rows_h = cell * len(steps)
    legend_y = top + rows_h + 40 + 34
    height = legend_y + 22 * ((len(levels) + 1) // 2) + 4
    counts = [tr.gettext("{day}: {done} of {steps}", day=column_label(c, tr), done=k, steps=len(steps))
              for c, k in zip(cols, grid["independent"])]
    desc = " ".join(_step_words(i, s, grid, tr) for i, s in enumerate(steps)) + " " + \
        tr.gettext("Steps done independently per session: {counts}.", counts=", ".join(counts))
    svg = _svg(width, height, tr.gettext("Prompt levels per step: {task}", task=grid["title"]),
               desc, ident)
    for i in range(len(steps)):
        y = top + i * cell
        _text(svg, left - 10, y + cell / 2 + 5, str(i + 1), text_anchor="end", fill=MUTED)
        for j, level in enumerate(row for row in grid["cells"][i]):
            x = left + j * COL_W + (COL_W - cell) / 2
            _cell(svg, x, y, cell, level, levels, tr=tr)
    y = top + rows_h + 20
    # Translators: short for "steps done independently", under a narrow chart column.
    _text(svg, 4, y, tr.gettext("ind."), fill=MUTED, font_size=12)
    for j, (c, k) in enumerate(zip(cols, grid["independent"])):
        _text(svg, left + j * COL_W + COL_W / 2, y, f"{k}/{len(steps)}", text_anchor="middle",
              font_weight="bold", font_size=13)
        _day_label(svg, left + j * COL_W + COL_W / 2, y + 18, column_label(c, tr))
    for k, level in enumerate(levels):
        x, ly = 4 + (k % 2) * 160, legend_y + 22 * (k // 2)
        _cell(svg, x, ly - 14, 18, level, levels, font=11, tr=tr)
        _text(svg, x + 24, ly, tr.gettext(level))
    return _markup(svg)


def _cell(svg, x, y, size, level, levels, font=14, tr=ENGLISH):
    if level is None:
        ET.SubElement(svg, "rect", {"x": f"{x + 2:g}", "y": f"{y + 2:g}", "width": str(size - 4),
                                    "height": str(size - 4), "fill": "none", "stroke": GRID})
        return
    k = min(levels.index(level), len(LEVEL_COLORS) - 1)
    color = LEVEL_COLORS[k]
    ET.SubElement(svg, "rect", {"x": f"{x + 2:g}", "y": f"{y + 2:g}", "width": str(size - 4),
                                "height": str(size - 4), "rx": "4", "fill": color})
    _text(svg, x + size / 2, y + size / 2 + font * 0.35, level_letter(tr.gettext(level)),
          text_anchor="middle", font_size=font, font_weight="bold", fill=LEVEL_INK[k])


def _step_words(i, text, grid, tr=ENGLISH):
    seen = [f"{column_label(c, tr)} {tr.gettext(lv)}"
            for c, lv in zip(grid["columns"], grid["cells"][i]) if lv]
    return tr.gettext("Step {n}, {step}: {levels}.", n=i + 1, step=text,
                      levels=", ".join(seen) if seen else tr.gettext("no level"))
