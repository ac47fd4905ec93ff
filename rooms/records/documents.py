"""The therapist's PDFs with a text layer (issue 17): the session record and the
check-in trend sheet (check-ins across a room's sessions). Layout only: the data
comes from the stored record (rooms/records.py) and the check-in activity's state;
fonts, hyphenation, emoji pictures and metadata from activities/contract/pdfdoc.Document.

The text is real text, so `pdftotext`, a screen reader and search find the
timeline; pictures carry their caption as alt text.
"""
import os

from activities.contract import printable
from activities.contract.i18n import ENGLISH, N_
from activities.contract.pdfdoc import GREY, Document
from rooms.assets import pictures

from .service import ROLE_LABELS, clock_time, day, duration, entry_line, entry_time, safety_lines
TIME_COL = 16                   # mm: the clock time beside each timeline line
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # assets root


def _document(title, assets_root):
    return Document(title, svg_dir=pictures.svg_dir(assets_root or ROOT))


# ------------------------------------------------------------------ session record

def record_pdf(record, pictures_, notes=(), assets_root=None, tr=ENGLISH):
    """The record as PDF bytes: a summary and the timeline, the therapist's notes,
    then one page per picture with its caption. `pictures_` = [{caption, png}].
    Headings, dates and labels in the language of `tr` (the therapist's); the timeline
    lines as the record stored them, notes and names as written."""
    record, pictures_, notes = printable((record, pictures_, notes))   # TEXT1: old rooms
    loc = tr.locale
    title = tr.gettext("Session record — {room}", room=record["room_name"])
    doc = _document(title, assets_root)
    doc.add_page()
    doc.text_block(title, size=20, bold=True, after=2)
    doc.text_block(tr.gettext("{day}, {start}–{end} ({duration})",
                              day=day(record["started_at"], loc),
                              start=clock_time(record["started_at"], loc),
                              end=clock_time(record["ended_at"], loc),
                              duration=duration(record["ended_at"] - record["started_at"])),
                   size=12)
    people = ", ".join(tr.gettext("{name} ({role})", name=p["name"],
                                  role=tr.gettext(ROLE_LABELS[p["role"]])
                                  if p["role"] in ROLE_LABELS else p["role"])
                       for p in record["participants"])
    if people:
        doc.text_block(tr.gettext("With: {people}", people=people), size=11)
    for line in safety_lines(record.get("safety") or {}, tr):     # SAFE2
        doc.text_block(line, size=11)
    doc.ln(4)
    heading = tr.gettext("Timeline")
    doc.start_section(heading)
    doc.text_block(heading, size=15, bold=True, after=2)
    times = [entry_time(e["at"], record["started_at"], loc) for e in record["timeline"]]
    doc.style(10.5)
    col = max([TIME_COL] + [doc.get_string_width(t) + 3 for t in times])   # "8 Dec 14:02" at home
    for when, e in zip(times, record["timeline"]):
        _timeline_line(doc, when, entry_line(e), col)
    if notes:
        doc.ln(4)
        heading = tr.gettext("Private notes")
        doc.start_section(heading)
        doc.text_block(heading, size=15, bold=True, after=2)
        for n in notes:
            doc.text_block(f"{day(n['updated_at'], loc)} {clock_time(n['updated_at'], loc)}", size=9,
                           color=GREY, after=0.5)
            doc.text_block(n["text"], size=11, after=3)
    for i, pic in enumerate(pictures_):
        caption = pic.get("caption") or tr.gettext("Picture {n}", n=i + 1)
        doc.add_page()
        if i == 0:
            doc.start_section(tr.gettext("Pictures"))
        doc.text_block(caption, size=15, bold=True, after=3)
        y = doc.get_y()
        h = doc.picture(pic["png"], doc.l_margin, y, doc.epw, doc.h - y - doc.b_margin, caption)
        # A thin frame: a drawing on white shows where its page ends.
        doc.set_draw_color(200, 200, 200)
        _frame(doc, pic["png"], y, h)
    return doc.output_bytes()


def _timeline_line(doc, when, text, col=TIME_COL):
    """The time in its own column, the text wrapped beside it (a line never splits
    from its time across a page)."""
    doc.style(10.5)
    if doc.get_y() + doc.line_height() > doc.h - doc.b_margin:
        doc.add_page()
    y = doc.get_y()
    doc.style(10.5, color=GREY)
    doc.cell(col, doc.line_height(), when)
    doc.set_xy(doc.l_margin, y)
    doc.text_block(text, size=10.5, indent=col, after=0.8)


def _frame(doc, png, y, h):
    import io
    from PIL import Image
    with Image.open(io.BytesIO(png)) as im:
        pw, ph = im.size
    w = pw * h / ph
    doc.rect(doc.l_margin + (doc.epw - w) / 2, y, w, h)


# ------------------------------------------------------------------ check-in trend sheet

WORDS = {1: N_("very upset"), 2: N_("upset"), 3: N_("okay"), 4: N_("good"), 5: N_("great")}
MOMENTS = {"start": N_("start"), "end": N_("end"), "any": N_("during")}
COLORS = {1: (229, 57, 53), 2: (251, 140, 0), 3: (253, 216, 53), 4: (156, 204, 101),
          5: (67, 160, 71)}
FACES = {1: "feel-1", 2: "feel-2", 3: "feel-3", 4: "feel-4", 5: "feel-5"}


def session_of(at, sessions):
    """The session (record summary {started_at, ended_at}) a check-in at `at` falls in."""
    for s in sessions:
        if s["started_at"] - 1 <= at <= s["ended_at"] + 1:
            return s
    return None


def checkin_rows(entries, sessions, tr=ENGLISH):
    """[(day, [(time, moment word, value)], session or None)] in time order: the
    check-ins grouped by session, or by day for those outside any recorded session."""
    loc = tr.locale
    groups, order = {}, []
    for e in sorted(entries, key=lambda e: e["at"]):
        s = session_of(e["at"], sessions)
        key = ("s", s["started_at"]) if s else ("d", day(e["at"], loc))
        if key not in groups:
            groups[key] = (day(e["at"], loc), [], s)
            order.append(key)
        groups[key][1].append((clock_time(e["at"], loc),
                               tr.gettext(MOMENTS.get(e.get("moment"), MOMENTS["any"])),
                               int(e["value"])))
    return [groups[k] for k in order]


def checkin_sheet_pdf(room_name, entries, sessions, assets_root=None, tr=ENGLISH):
    """The room's check-ins over time as PDF bytes: a chart of every check-in (1–5,
    faces on the axis) and a table per session, in the language of `tr`. `entries`
    are the check-in activity's entries [{value, at, moment}], `sessions` the room's
    records."""
    room_name, entries = printable((room_name, entries))
    loc = tr.locale
    title = tr.gettext("Check-ins — {room}", room=room_name)
    doc = _document(title, assets_root)
    root = assets_root or ROOT
    doc.add_page()
    doc.text_block(title, size=20, bold=True, after=2)
    if not entries:
        doc.text_block(tr.gettext("No check-ins yet."), size=12)
        return doc.output_bytes()
    first, last = min(e["at"] for e in entries), max(e["at"] for e in entries)
    doc.text_block(tr.ngettext("{n} check-in from {first} to {last}",
                               "{n} check-ins from {first} to {last}", len(entries),
                               first=day(first, loc), last=day(last, loc)), size=12)
    doc.ln(2)
    _chart(doc, sorted(entries, key=lambda e: e["at"]), root, tr)
    doc.start_section(tr.gettext("Sessions"))
    for when, rows, s in checkin_rows(entries, sessions, tr):
        head = (tr.gettext("{day}, session {start}–{end}", day=when,
                           start=clock_time(s["started_at"], loc), end=clock_time(s["ended_at"], loc))
                if s else tr.gettext("{day}, outside a session", day=when))
        doc.text_block(head, size=12, bold=True, after=1)
        for at, moment, v in rows:
            _timeline_line(doc, at, tr.gettext("{moment}: {value} of 5, {word}", moment=moment, value=v,
                                               word=tr.gettext(WORDS[v]) if v in WORDS else ""))
        doc.ln(2)
    return doc.output_bytes()


def _chart(doc, entries, root, tr=ENGLISH):
    """Dots joined by a line, one per check-in in time order; the five faces on the
    left axis say what the heights mean without reading."""
    x0, y0, w, h = doc.l_margin + 12, doc.get_y(), doc.epw - 14, 60
    step = h / 4
    doc.set_draw_color(220, 220, 220)
    for v in range(1, 6):
        y = y0 + h - (v - 1) * step
        doc.line(x0, y, x0 + w, y)
        doc.picture(pictures.svg_path(root, FACES[v]), doc.l_margin, y - 4, 8, 8, tr.gettext(WORDS[v]))
    n = len(entries)
    pts = [(x0 + (w * (i + 0.5) / n), y0 + h - (int(e["value"]) - 1) * step)
           for i, e in enumerate(entries)]
    doc.set_draw_color(120, 120, 120)
    doc.set_line_width(0.4)
    for a, b in zip(pts, pts[1:]):
        doc.line(a[0], a[1], b[0], b[1])
    for (x, y), e in zip(pts, entries):
        doc.set_fill_color(*COLORS[int(e["value"])])
        doc.circle(x, y, 1.6, style="F")
    doc.set_line_width(0.2)
    doc.set_y(y0 + h + 8)
