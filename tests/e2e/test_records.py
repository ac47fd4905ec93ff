"""Issue 17 in the browser: the child draws with a finger on a tablet, the therapist
saves the page to the record, clears it, ends the session and follows the link that
appears to the record just written — which shows the saved drawing with its caption,
and whose PDF has it as text."""
import io
import os

from PIL import Image

from tests.e2e.people import RED, count_near
from tests.pdftools import pdf_text

TABLET = {"width": 1024, "height": 768}


def touch_line(person, fx=0.3, fy=0.4, tx=0.7, ty=0.6, steps=16):
    """A finger stroke across the board (touch events through the DevTools protocol:
    Playwright's touchscreen only taps)."""
    box = person.page.locator("#board").bounding_box()
    cdp = person.context.new_cdp_session(person.page)

    def at(k):
        return {"x": box["x"] + box["width"] * (fx + (tx - fx) * k),
                "y": box["y"] + box["height"] * (fy + (ty - fy) * k)}
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [at(0)]})
    for i in range(1, steps + 1):
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [at(i / steps)]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def test_save_to_record_then_end_session_links_to_the_record_with_the_picture(session_for, artifacts):
    t, c = session_for(TABLET)
    c.page.wait_for_selector("#board")
    c.page.click('[data-color="#e53935"]')
    touch_line(c)
    c.wait_items(1)
    t.wait_items(1)

    # The therapist saves the page to the record; a guest has no such button.
    assert c.page.locator('[data-action="save-record"]').count() == 0
    t.page.click('[data-action="save-record"]')
    assert t.page.input_value('[data-field="caption"]') == "Drawing, page 1"
    t.page.fill('[data-field="caption"]', "Our red road 🚗")
    t.page.screenshot(path=os.path.join(artifacts, "record-save-caption-1366x768.png"))
    t.page.click('[data-action="confirm-yes"]')
    t.page.wait_for_selector('.toast:has-text("Saved to the session record.")')
    t.page.wait_for_function("document.querySelector('#board').dataset.pending === '0'")
    t.page.screenshot(path=os.path.join(artifacts, "record-save-button-1366x768.png"))
    # The button is on screen and big enough on a phone and a tablet in both orientations.
    for w, h in ((390, 844), (768, 1024), (1024, 768), (1366, 768)):
        t.page.set_viewport_size({"width": w, "height": h})
        box = t.page.locator('[data-action="save-record"]').bounding_box()
        assert box and box["width"] >= 44 and box["height"] >= 44, (w, h, box)
        assert 0 <= box["x"] and box["x"] + box["width"] <= w and box["y"] + box["height"] <= h, (w, h, box)
        t.page.screenshot(path=os.path.join(artifacts, f"record-save-button-{w}x{h}.png"))

    # Then the page is cleared: only the saved copy keeps the drawing.
    t.page.click('[data-action="clear"]')
    t.page.click('[data-action="confirm-yes"]')
    c.wait_items(0)

    # End the session: a link to its record appears and opens it in a new tab.
    t.page.click('[data-action="room-panel"]')
    t.page.click('[data-action="end-session"]')
    t.page.click('[data-action="confirm-yes"]')
    link = t.page.wait_for_selector('[data-action="open-record"]', timeout=15000)
    t.page.screenshot(path=os.path.join(artifacts, "record-link-after-end-1366x768.png"))
    with t.context.expect_page() as opened:
        link.click()
    rec = opened.value
    rec.wait_for_url("**/records/*", timeout=20000)
    rec.wait_for_selector("figcaption", timeout=10000)
    assert rec.locator("figcaption").all_inner_texts() == ["Our red road 🚗"]
    assert "saved the drawing to the record: “Our red road 🚗”" in rec.inner_text("body")
    img = rec.locator('img[alt="Our red road 🚗"]')
    img.wait_for()
    png = rec.request.get(rec.url.split("/records/")[0] + img.get_attribute("src"))
    with Image.open(io.BytesIO(png.body())) as pic:
        assert count_near(pic.convert("RGB"), RED) > 200     # the child's red line, as saved
    rec.screenshot(path=os.path.join(artifacts, "record-page-saved-drawing-1366x768.png"),
                   full_page=True)

    # The record's PDF has the line and the caption as text.
    pdf = rec.request.get(rec.url + "/record.pdf")
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    text = " ".join(pdf_text(pdf.body()).split())
    assert "saved the drawing to the record: “Our red road" in text
    assert "Our red road" in text
    for p in (t, c):
        assert p.console_errors == [], p.console_errors
