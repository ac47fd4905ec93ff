"""Issue 16: the drawing board's words in Spanish: its title, the bound's reason and
the session record's lines (whole sentences, plurals), English unchanged."""
from activities import canvas
from activities.contract.i18n import Catalogs
from rooms.web import i18n

ES = Catalogs([(folder, domain) for domain, folder, _ in i18n.domains()]).translator("es")


def ops(*items):
    return [{"kind": "do", "seq": k, "ts": 10 + k, "by": by, "t": t, "d": d}
            for k, (by, t, d) in enumerate(items)]


def test_title_and_reason_are_catalog_messages():
    assert ES.gettext(canvas.TITLE) == "Dibujar"
    assert ES.gettext(canvas.BOUND.reason).startswith("El dibujo está lleno")


def test_record_lines_in_spanish_with_plurals():
    log = ops(("kid", "stroke", {"page": "p1"}), ("kid", "stroke", {"page": "p1"}),
              ("kid", "stamp", {"page": "p1"}), ("mum", "stamp", {"page": "p1"}),
              ("mum", "page.add", {"page": "p2"}), ("mum", "clear", {"page": "p2"}))
    es = [e["text"] for e in canvas.record_entries(log, tr=ES)]
    assert es == ["dibujó en el lienzo: 2 trazos y 1 sello", "dibujó en el lienzo: 1 sello",
                  "agregó una página de dibujo", "borró una página de dibujo"]
    en = [e["text"] for e in canvas.record_entries(log)]
    assert en == ["drew on the canvas: 2 strokes and 1 stamp", "drew on the canvas: 1 stamp",
                  "added a drawing page", "cleared a drawing page"]


def test_a_saved_drawing_without_a_caption_is_named_in_the_readers_language():
    assert canvas.caption_of({"index": 2}, ES) == "Dibujo, página 2"
    assert canvas.caption_of({}, ES) == "Dibujo guardado"
    assert canvas.caption_of({"caption": "Our dragon", "index": 2}, ES) == "Our dragon"   # their words
    assert canvas.caption_of({"index": 2}) == "Drawing, page 2"


def test_record_picture_captions_and_refusals_in_spanish():
    state = {"pages": [{"id": "p1", "items": []}, {"id": "p2", "items": [{"id": "x"}]}]}
    assert canvas.record_pictures(state, ES) == [("p2", "Dibujo, página 2")]
    assert canvas.record_pictures(state) == [("p2", "Drawing, page 2")]
    assert ES.client["nothing is drawn on this page yet"] == "todavía no hay nada dibujado en esta página"
