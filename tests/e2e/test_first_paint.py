"""PAINT1 in the browser: a child who opens a board of many strokes on a tablet sees
the whole board at once, from the server's picture of it, before the tablet has
drawn the strokes itself; then the tablet's own drawing takes over, and the board
looks the same."""
import base64
import io
import os

import pytest
from PIL import Image

from tests.e2e.people import Person, RED, child_joins, count_near, therapist_creates_room
from tests.e2e.test_cues import therapist_socket
from tests.integration.conftest import send_op
from tests.integration.test_first_paint import BIG, long_stroke
from tests.support import wait_for

pytestmark = pytest.mark.browser

TABLET = {"viewport": {"width": 1024, "height": 768}, "has_touch": True, "is_mobile": True}
STROKES = 2 * BIG          # 134 strokes of 1,500 points: more than one frame's drawing

# Before any page script: when #board first shows every item (data-shown), how many
# its own ink layer had drawn (data-items) and what the board looked like.
WATCH = """
(() => {
  const want = "%d";
  new MutationObserver(() => {
    const b = document.getElementById("board");
    if (!b || window.__firstShown || b.dataset.shown !== want) return;
    window.__firstShown = {items: b.dataset.items, png: b.toDataURL("image/png")};
  }).observe(document, {subtree: true, childList: true, attributes: true,
                        attributeFilter: ["data-shown", "id"]});
})();
"""


def test_PAINT1_a_big_board_shows_whole_from_the_servers_picture_then_the_tablets_own(
        browser, server, artifacts):
    t = Person(browser, server.url, viewport={"width": 1366, "height": 768})
    c = Person(browser, server.url, **TABLET)
    try:
        link = therapist_creates_room(t)
        t.page.click('[data-action="open-room"]')
        t.wait_connected()
        sock = therapist_socket(t, server)
        for k in range(STROKES):
            assert send_op(sock, "stroke", long_stroke(k))["ok"]
        sock.close()
        c.page.add_init_script(WATCH % STROKES)
        # A slower tablet than this machine (Chromium's own CPU throttling).
        c.context.new_cdp_session(c.page).send("Emulation.setCPUThrottlingRate", {"rate": 4})
        child_joins(c, link)
        wait_for(lambda: c.page.evaluate("window.__firstShown"), timeout=20, what="the whole board shown")
        first = c.page.evaluate("window.__firstShown")
        assert int(first["items"]) < STROKES, "the picture stood in before the tablet drew every stroke"
        shown = Image.open(io.BytesIO(base64.b64decode(first["png"].split(",", 1)[1]))).convert("RGB")
        shown.save(os.path.join(artifacts, "first-paint-picture-1024x768.png"))
        assert count_near(shown, RED) > 2000, "the strokes are on the board from the picture"
        c.wait_items(STROKES)                      # then its own drawing of every stroke
        assert c.board_attr("shown") == str(STROKES)
        own = c.board_png()
        c.page.screenshot(path=os.path.join(artifacts, "first-paint-own-1024x768.png"))
        # The same board: the picture and the tablet's own strokes cover about as much.
        a, b = count_near(shown, RED), count_near(own.resize(shown.size), RED)
        assert abs(a - b) < 0.2 * max(a, b), (a, b)
        assert not c.console_errors and not t.console_errors
    finally:
        c.close()
        t.close()
