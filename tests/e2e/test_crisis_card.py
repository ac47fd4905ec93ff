"""Issue 15 part 7 acceptance (SAFE2): the therapist records where the child is and an
emergency contact at session start and opens the crisis card; the child's and the
parent's pages never receive either — checked on the wire (every WebSocket frame and
every HTTP response body their browsers get during the whole flow)."""
import os

import pytest

from tests.e2e.people import Person, child_joins, therapist_creates_room

pytestmark = pytest.mark.browser

LOCATION = "home, 12 Oak St, Springfield PLATYPUS31"
CONTACT = "Ana Lopez PLATYPUS32"
PHONE = "+1 555 010 2030"
PARENT_SAYS = "at her dad's PLATYPUS33"
MARKERS = ("PLATYPUS31", "PLATYPUS32", "555 010 2030", "PLATYPUS33")


class Wire:
    """Everything one browser receives: WebSocket frames and HTTP response bodies."""

    def __init__(self, person):
        self.frames, self.bodies = [], []
        # Chromium's own record of WebSocket frames (DevTools protocol), on from the start.
        self.cdp = person.context.new_cdp_session(person.page)
        self.cdp.send("Network.enable")
        self.cdp.on("Network.webSocketFrameReceived",
                    lambda e: self.frames.append(e["response"]["payloadData"]))
        person.context.on("response", self._body)

    def _body(self, response):
        try:
            self.bodies.append(response.text())
        except Exception:        # redirects and aborted requests have no body
            pass

    def text(self):
        return "\n".join(str(f) for f in self.frames + self.bodies)


def test_SAFE2_location_and_contact_reach_the_therapist_only(browser, server, artifacts):
    t = Person(browser, server.url, viewport={"width": 1366, "height": 768})
    c = Person(browser, server.url, viewport={"width": 1024, "height": 768}, has_touch=True)
    p = Person(browser, server.url, viewport={"width": 390, "height": 844}, has_touch=True,
               is_mobile=True)
    wires = {"child": Wire(c), "parent": Wire(p)}
    own = Wire(t)     # the therapist's: the same listener does see the details there
    try:
        child_link = therapist_creates_room(t)
        parent_link = t.page.input_value('input[data-link="parent"]')
        t.page.click('[data-action="open-room"]')
        t.wait_connected()
        child_joins(c, child_link)
        # The parent confirms where the child is on the join page (a phone, by touch).
        p.goto(parent_link)
        p.page.tap('label.avatar >> nth=2')
        p.page.fill('[data-field="location"]', PARENT_SAYS)
        field = p.page.locator('[data-field="location"]').bounding_box()
        assert field["x"] >= 0 and field["x"] + field["width"] <= 390
        p.page.screenshot(path=os.path.join(artifacts, "crisis-parent-join-390x844.png"),
                          full_page=True)
        p.page.tap('[data-action="join"]')
        p.page.wait_for_url("**/room/**")
        p.wait_connected()

        # Session start: the therapist records where the child is and whom to call.
        t.page.click('[data-action="room-panel"]')
        card = t.page.locator('[data-safety="card"]')
        card.wait_for()
        t.page.wait_for_selector('[data-safety="lines"] li')
        assert "Not recorded yet" in card.inner_text()
        t.page.fill('[data-safety="location"]', LOCATION)
        t.page.fill('[data-safety="contact_name"]', CONTACT)
        t.page.fill('[data-safety="contact_phone"]', PHONE)
        t.page.click('[data-action="save-safety"]')
        t.page.wait_for_selector('[data-safety="status"]:has-text("Saved for this session")')
        t.page.click('.room-panel .ctl-close')

        # Later: one tap opens the crisis card, read back from the server.
        t.page.reload()
        t.wait_connected()
        t.page.click('[data-action="room-panel"]')
        t.page.wait_for_selector(f'[data-safety="shown"]:has-text("{CONTACT}")')
        assert t.page.inner_text('[data-safety="parent"]') == PARENT_SAYS
        shown = t.page.inner_text('[data-safety="shown"]')
        assert LOCATION in shown and PHONE in shown
        lines = t.page.inner_text('[data-safety="lines"]')
        assert "988" in lines and "911" in lines
        t.page.screenshot(path=os.path.join(artifacts, "crisis-card-therapist-1366x768.png"))

        # The card and its form fit a 390 px phone.
        t.page.set_viewport_size({"width": 390, "height": 844})
        for box in t.page.locator('[data-safety="card"] input, [data-safety="card"] button, '
                                  '[data-safety="shown"]').evaluate_all(
                "els => els.map(e => { const r = e.getBoundingClientRect();"
                " return [r.left, r.right]; })"):
            assert 0 <= box[0] and box[1] <= 390, box
        assert t.page.evaluate("document.documentElement.scrollWidth") <= 390
        t.page.screenshot(path=os.path.join(artifacts, "crisis-card-therapist-390x844.png"))

        # The guests are still in the room and their wires carried room traffic
        # (so the listener works), but never the details.
        c.page.wait_for_selector("#board")
        assert all(m in own.text() for m in MARKERS)
        for role, wire in wires.items():
            assert wire.frames, f"no frames recorded for the {role}"
            got = wire.text()
            for marker in MARKERS:
                assert marker not in got, (role, marker)
    finally:
        for person in (t, c, p):
            person.close()
