"""Issue 14, the portrait canvas: a child holding a tablet (or phone) upright draws on
an upright page that fills the screen, instead of a wide board with empty bands above
and below. The child turns the empty first page upright and draws on it with a finger;
the therapist on a laptop sees the same upright page and the line; a drawn page no
longer turns; a new page made on the upright tablet is upright; the PNG export is
upright too."""
import io
import os

import pytest
from PIL import Image

from tests.e2e.layout import axe_problems, reach_problems, settle
from tests.e2e.people import Person, RED, child_joins, count_near, therapist_creates_room
from tests.support import wait_for
from tests.e2e.test_records import touch_line

pytestmark = pytest.mark.browser

TABLET_UP = {"viewport": {"width": 768, "height": 1024}, "has_touch": True, "is_mobile": True}
PHONE_UP = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}


def board(person):
    return person.page.locator("#board").bounding_box()


@pytest.mark.parametrize("device", [TABLET_UP, PHONE_UP], ids=["tablet-768x1024", "phone-390x844"])
def test_an_upright_page_fills_an_upright_screen_and_everyone_sees_it_upright(browser, server,
                                                                              artifacts, device):
    t = Person(browser, server.url, viewport={"width": 1366, "height": 768})
    c = Person(browser, server.url, bypass_csp=True, **device)      # axe-core is injected
    size = "{width}x{height}".format(**device["viewport"])
    try:
        child_joins(c, therapist_creates_room(t))
        t.page.click('[data-action="open-room"]')
        t.wait_connected()
        c.page.wait_for_selector("#board")
        before = board(c)
        c.page.screenshot(path=os.path.join(artifacts, f"upright-before-{size}.png"))
        assert before["width"] > before["height"]                    # page 1 is wide

        c.page.locator('[data-action="page-turn"]').tap()
        c.page.wait_for_selector('.cv[data-shape="tall"]')
        after = board(c)
        vh = device["viewport"]["height"]
        # Upright, much taller, inside the screen, every control reachable.
        assert after["height"] > after["width"]
        assert after["height"] > 1.3 * before["height"], (before, after)
        assert after["y"] >= 0 and after["y"] + after["height"] <= vh
        if device is PHONE_UP:      # on a phone held upright: half as much room again
            assert after["width"] * after["height"] > 1.3 * before["width"] * before["height"]
            assert after["height"] > 0.5 * vh
        c.page.locator(".bar-name").tap()     # lifts the finger's :active press off the button …
        wait_for(lambda: c.page.locator('[data-action="page-turn"]').bounding_box()["width"] >= 48,
                 timeout=5, what="the turn button back to its size")     # … once it has sprung back
        settle(c.page)
        assert reach_problems(c.page, 48) + axe_problems(c.page) == []

        c.page.click('[data-color="#e53935"]')
        touch_line(c, fx=0.2, fy=0.85, tx=0.8, ty=0.9)               # low on the tall page
        c.wait_items(1)
        t.wait_items(1)
        t.page.wait_for_selector('.cv[data-shape="tall"]')
        tb = board(t)
        assert tb["height"] > tb["width"]
        assert count_near(t.board_png(), RED) > 50                    # the child's line, on the laptop
        c.page.screenshot(path=os.path.join(artifacts, f"upright-after-{size}.png"))
        t.page.screenshot(path=os.path.join(artifacts, f"upright-therapist-1366x768-{size}.png"))

        # A drawn page no longer turns; the button says so by being greyed out.
        assert c.page.locator('[data-action="page-turn"]').is_disabled()

        # The export is upright, with the line low down.
        png = t.page.request.get(server.url + f"/rooms/{t.page.url.rsplit('/', 1)[1]}/export/canvas/p1.png")
        with Image.open(io.BytesIO(png.body())) as img:
            assert img.size == (1200, 1600)
            low = img.convert("RGB").crop((0, 1200, 1200, 1600))
            assert count_near(low, RED) > 100

        # A new page made on a phone held upright is upright (on a tablet, wide: it
        # fits a wide page best); on the laptop, wide.
        # (A click, not a synthetic tap: about one synthetic tap in six on this button
        # gives pointer and touch events but no click in this Chromium, with or without
        # PAINT1, not understood yet. What is asserted here is the new page's shape.)
        c.page.locator('[data-action="page-add"]').click()
        wait_for(lambda: c.page.evaluate("document.querySelectorAll('.pagebtn').length") == 2,
                 timeout=15, what="the second page's button")
        c.page.wait_for_selector('.cv[data-shape="%s"]' % ("tall" if device is PHONE_UP else "wide"))
        t.page.click('[data-action="page-add"]')
        wait_for(lambda: t.page.evaluate("document.querySelectorAll('.pagebtn').length") == 3,
                 timeout=15, what="the third page's button")
        t.page.wait_for_selector('.cv[data-shape="wide"]')
        for p in (t, c):
            assert p.console_errors == [], p.console_errors
    finally:
        t.close()
        c.close()
