"""PDF documents that read as text (fpdf2): what the story for home, the session
record and the check-in trend sheet share.

Why not Pillow pages any more: they were pictures of text — `pdftotext` found
nothing, a screen reader read nothing, a long word was clipped on both sides, emoji
came out as empty boxes and a record weighed ~1.7 MB. A `Document` here:

- embeds DejaVu Sans (Debian's fonts-dejavu-core) as a subset: fpdf2 subsets every
  TrueType font it embeds, so a page of text costs a few KB, not the whole font;
- shapes text with HarfBuzz (uharfbuzz), so scripts that need it (Arabic, Indic …)
  come out joined and ligatures and kerning are right;
- puts soft hyphens into long words (pyphen), so they break at a syllable; a word
  with no hyphenation point (a 100-letter scribble) is broken between letters by
  fpdf2 — either way it stays inside the page;
- draws emoji as the app's own Twemoji pictures (DejaVu has no emoji, and the
  device's emoji font is never used anywhere in the app), inline with the text;
- gives every picture alt text, and the document its language and title.

It knows nothing about rooms or activities: callers hand it the Twemoji folder.
fpdf2 and pyphen are imported on the first PDF, not at start-up (importing fpdf2
took seconds on a loaded machine, and every server process paid it).
"""
import io
import os
import re
from functools import lru_cache

FONT_FAMILY = "DejaVu"
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
# Where Debian (fonts-dejavu-core) and other systems put DejaVu; PLAYROOM_FONT_DIR first.
FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu",
             "/usr/share/fonts/TTF", "/usr/local/share/fonts/dejavu", "/Library/Fonts")
HYPHENATE_FROM = 10            # letters: shorter words never need breaking on a line
EMOJI_MAX_CODEPOINTS = 10      # the longest Twemoji sequence (families, flags) fits
GREY = (110, 110, 110)
INK = (25, 25, 25)


class FontsMissing(RuntimeError):
    """The TrueType fonts the PDFs embed are not installed: the message says how to fix it."""


def font_files(dirs=None):
    """{style: path} of DejaVu Sans regular and bold, from the first of `dirs` (default:
    PLAYROOM_FONT_DIR, then FONT_DIRS) that holds both. FontsMissing (with what to
    install) otherwise: a PDF without them cannot show its text."""
    if dirs is None:
        env = os.environ.get("PLAYROOM_FONT_DIR")
        dirs = ([env] if env else []) + list(FONT_DIRS)
    for folder in dirs:
        paths = {style: os.path.join(folder, name) for style, name in FONT_FILES.items()}
        if all(os.path.isfile(p) for p in paths.values()):
            return paths
    raise FontsMissing("PDFs need the DejaVu Sans fonts (DejaVuSans.ttf and "
                       "DejaVuSans-Bold.ttf): install Debian's fonts-dejavu-core "
                       "(`make run` does) or set PLAYROOM_FONT_DIR to a folder that holds them")


# ------------------------------------------------------------------ hyphenation

@lru_cache(maxsize=16)
def _dictionary(lang):
    import pyphen
    return pyphen.Pyphen(lang=pyphen.language_fallback(lang.replace("-", "_")) or "en_GB")


def hyphenate(text, lang="en"):
    """`text` with soft hyphens (U+00AD) at the syllables of its long words: fpdf2
    breaks a line there (printing a hyphen) and prints nothing where it does not."""
    dic = _dictionary(lang)
    return re.sub(r"\w{%d,}" % HYPHENATE_FROM,
                  lambda m: dic.inserted(m.group(0), hyphen="\u00ad"), text)


# ------------------------------------------------------------------ emoji as pictures

@lru_cache(maxsize=4)
def _twemoji_names(svg_dir):
    try:
        return frozenset(f[:-4] for f in os.listdir(svg_dir) if f.endswith(".svg"))
    except OSError:
        return frozenset()


def _emoji_at(text, i, names):
    """(length, file name) of the longest Twemoji sequence starting at text[i], or None.
    Twemoji names a file by its code points in hex, mostly without U+FE0F."""
    for n in range(min(EMOJI_MAX_CODEPOINTS, len(text) - i), 0, -1):
        seq = text[i:i + n]
        for name in ("-".join(f"{ord(c):x}" for c in seq),
                     "-".join(f"{ord(c):x}" for c in seq if c != "\ufe0f")):
            if name in names:
                return n, name
    return None


def split_emoji(text, svg_dir):
    """[(text, None) | (emoji, svg path)]: runs of text and the emoji between them
    (the emoji's own characters are its alt text: what a screen reader would say)."""
    names = _twemoji_names(svg_dir) if svg_dir else frozenset()
    out, buf, i = [], [], 0
    while i < len(text):
        hit = _emoji_at(text, i, names) if ord(text[i]) >= 0x2000 else None
        if hit is None:
            buf.append(text[i])
            i += 1
            continue
        if buf:
            out.append(("".join(buf), None))
            buf = []
        out.append((text[i:i + hit[0]], os.path.join(svg_dir, hit[1] + ".svg")))
        i += hit[0]
    if buf:
        out.append(("".join(buf), None))
    return out


# ------------------------------------------------------------------ the document

def Document(title, lang="en", orientation="P", svg_dir=None, running=True):
    """An A4 document in mm with the embedded fonts, shaping, language and title set,
    a running head (`running`: the title, grey, with the page number) and helpers
    that wrap text with emoji pictures. `svg_dir` is the Twemoji folder."""
    return _document_class()(title, lang=lang, orientation=orientation, svg_dir=svg_dir,
                             running=running)


@lru_cache(maxsize=1)
def _document_class():
    """fpdf2's FPDF with our helpers, defined on first use (see the module docstring)."""
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    class Document(FPDF):
        """An A4 document in mm with the embedded fonts, shaping, language and title set,
        a running head (`running`: the title, grey, with the page number) and helpers
        that wrap text with emoji pictures. `svg_dir` is the Twemoji folder."""

        def __init__(self, title, lang="en", orientation="P", svg_dir=None, running=True):
            super().__init__(orientation=orientation, unit="mm", format="A4")
            for style, path in font_files().items():
                self.add_font(FONT_FAMILY, style, path)
            self.set_text_shaping(True)
            self.set_title(title)
            self.set_lang(lang)
            self.set_author("Playroom")
            self.set_creator("Playroom")
            self.doc_title, self.lang, self.svg_dir, self.running = title, lang, svg_dir, running
            self.set_margins(15, 20, 15)
            self.set_auto_page_break(True, margin=15)
            self.set_font(FONT_FAMILY, size=11)

        def header(self):
            if not self.running:
                return
            self.set_xy(self.l_margin, 8)
            self.set_font(FONT_FAMILY, size=8)
            self.set_text_color(*GREY)
            self.inline(self.doc_title, 5, self.epw - 20)
            self.set_x(self.w - self.r_margin - 20)
            self.cell(20, 5, f"page {self.page_no()}", align="R")
            self.set_xy(self.l_margin, self.t_margin)

        # -- text

        def style(self, size=11, bold=False, color=INK):
            self.set_font(FONT_FAMILY, "B" if bold else "", size)
            self.set_text_color(*color)

        def line_height(self):
            return self.font_size * 1.35

        def text_block(self, text, size=11, bold=False, color=INK, indent=0, align="L", after=1.5):
            """A paragraph from the left margin (+indent) to the right one, wrapped and
            hyphenated, with emoji drawn as pictures; the cursor ends below it."""
            self.style(size, bold, color)
            h = self.line_height()
            left = self.l_margin
            self.set_left_margin(left + indent)
            try:
                self.set_x(left + indent)
                runs = split_emoji(str(text), self.svg_dir)
                if all(pic is None for _, pic in runs):
                    self.multi_cell(0, h, hyphenate(str(text), self.lang), align=align,
                                    new_x=XPos.LMARGIN, new_y=YPos.NEXT)
                else:
                    self._flow(runs, h, align)
            finally:
                self.set_left_margin(left)
                self.set_x(left)
            self.ln(after)

        def _flow(self, runs, h, align):
            """Text and emoji pictures in one flow (fpdf2's `write` wraps at the margin).
            Centred when it fits on one line, else from the left."""
            size = self.font_size * 1.1
            width = sum(size if pic else self.get_string_width(t) for t, pic in runs)
            if align == "C" and width <= self.epw:
                self.set_x(self.l_margin + (self.epw - width) / 2)
            for t, pic in runs:
                if pic is None:
                    self.write(h, hyphenate(t, self.lang))
                    continue
                if self.get_x() + size > self.w - self.r_margin:
                    self.ln(h)
                self.image(pic, x=self.get_x(), y=self.get_y() + (h - size) / 2, w=size, h=size,
                           alt_text=t)
                self.set_x(self.get_x() + size)
            self.ln(h)

        def inline(self, text, h, width):
            """One line of text and emoji pictures from the cursor, cut at `width` mm
            (running heads: never wrapped)."""
            end = self.get_x() + width
            for t, pic in split_emoji(str(text), self.svg_dir):
                room = end - self.get_x()
                if room <= 0:
                    break
                if pic is None:
                    while t and self.get_string_width(t) > room:     # cut, never overprint
                        t = t[:-1]
                    self.cell(self.get_string_width(t), h, t)
                elif room >= self.font_size:
                    self.image(pic, x=self.get_x(), y=self.get_y() + (h - self.font_size) / 2,
                               w=self.font_size, h=self.font_size, alt_text=t)
                    self.set_x(self.get_x() + self.font_size)

        # -- pictures

        def picture(self, img, x, y, w, h, alt):
            """An image (PNG bytes, a PIL image or an SVG path) fitted into the w×h box at
            (x, y), keeping its proportions, with alt text. Returns the drawn height."""
            if isinstance(img, (bytes, bytearray)):
                img = io.BytesIO(img)
            if isinstance(img, str):           # SVG: square pictures (Twemoji)
                side = min(w, h)
                self.image(img, x=x + (w - side) / 2, y=y, w=side, h=side, alt_text=alt)
                return side
            pw, ph = _pixel_size(img)
            scale = min(w / pw, h / ph)
            dw, dh = pw * scale, ph * scale
            self.image(img, x=x + (w - dw) / 2, y=y, w=dw, h=dh, alt_text=alt)
            return dh

        def output_bytes(self):
            return bytes(self.output())

    return Document


def _pixel_size(img):
    if hasattr(img, "size") and not isinstance(img, io.BytesIO):
        return img.size
    from PIL import Image
    with Image.open(img) as im:
        size = im.size
    img.seek(0)
    return size
