"""The layout guard (issue 14 part 5): every activity × role × form factor.

For each case the person's page is resized and switched to the activity in-page (one
server, one room and one browser context per person for the whole module, so the ~70
cases stay cheap), then: no visible interactive element is outside the viewport or
covered by another element, nothing overflows sideways, the child's tap targets are
≥ 48 px, and axe-core finds no serious or critical violation. A screenshot of every
case is kept under test-artifacts/layout/.
"""
import os
import re

import pytest

from tests.e2e.conftest import ARTIFACTS
from tests.e2e.layout import VIEWPORTS, axe_problems, reach_problems, settle
from tests.e2e.people import Person
from tests.support import DEFAULT_MODE, Actions, ServerProcess

pytestmark = pytest.mark.browser

ACTIVITIES = ["canvas", "sandtray", "calm", "checkin", "stories", "schedule"]
ROLES = ["therapist", "child", "parent"]
PASSWORD = "a long enough password"
CHILD_TAP_PX = 48
SHOTS = os.path.join(ARTIFACTS, "layout")


class LayoutRoom:
    """One room with a therapist, a child and a parent, each in a touch context (phone,
    tablets) or a mouse context (laptop); switching kind closes the other three, as a
    family that moves from tablets to a laptop."""

    def __init__(self, browser, url):
        self.browser, self.url = browser, url
        self.http = http = Actions(url)
        self.email = http.register(password=PASSWORD, name="Dr. Rivera")
        self.room_id, self.links = http.create_room("Sam, 7")
        self._home = None
        self.touch = None
        self.people = {}

    def person(self, role, touch):
        if touch != self.touch:
            self.close()
            self.touch = touch
            self.people = {r: self._enter(r, touch) for r in ROLES}
            self._let_parent_play(self.people["therapist"], self.people["parent"])
        return self.people[role]

    @staticmethod
    def _let_parent_play(t, parent):
        """By default a parent watches what the therapist shows; the guard needs the
        parent's own tools and tabs, so the therapist allows both in the room panel."""
        page = t.page
        page.click('[data-action="room-panel"]')
        for box in ('[data-setting="parent_may_play"]', '[data-perm="parent.switch"]'):
            page.set_checked(f".room-panel {box}", True)
        page.click(".room-panel .ctl-close")
        page.locator(".room-panel").wait_for(state="hidden")
        parent.page.wait_for_function(
            "!document.querySelector('.tab[data-activity=\"sandtray\"]').disabled")

    def _enter(self, role, touch):
        p = Person(self.browser, self.url, has_touch=touch, bypass_csp=True,
                   viewport={"width": 1024, "height": 768})
        if role == "therapist":
            p.goto("/login")
            p.page.fill('input[name="email"]', self.email)
            p.page.fill('input[name="password"]', PASSWORD)
            p.page.click('button[type="submit"]')
            p.page.wait_for_url("**/dashboard")
            p.goto(f"/room/{self.room_id}")
        else:
            p.goto(self.links[role])
            p.page.click('label.avatar:has(input[value="fox"])' if role == "child" else "label.avatar >> nth=2")
            p.page.click('[data-action="join"]')
            p.page.wait_for_url("**/room/**")
        p.wait_connected()
        names = p.page.evaluate("playroom.config.activities.map(a => a.name)")
        assert names == ACTIVITIES, "the guard covers every activity: update ACTIVITIES"
        return p

    def home_link(self):
        """The room's home link (issue 17 part 3), with one item of every kind."""
        if self._home is None:
            page = f"/rooms/{self.room_id}/home"
            r = self.http.post_form(page, page, {
                "story": "stories|story:first-visit", "steps": "stories|task:morning",
                "breathe": "calm|pattern:balloon", "checkin": "y", "lang": "en"})
            assert r.status_code == 200, r.status_code          # followed the redirect
            self._home = re.search(r'value="([^"]+/h/[^"]+/)" data-link="home"', r.text).group(1)
        return self._home

    def close(self):
        for p in self.people.values():
            p.close()
        self.people = {}


@pytest.fixture(scope="module")
def layout_room(browser, tmp_path_factory):
    srv = ServerProcess(tmp_path_factory.mktemp("layout"), mode=DEFAULT_MODE).start()
    room = LayoutRoom(browser, srv.url)
    os.makedirs(SHOTS, exist_ok=True)
    yield room
    room.close()
    srv.stop()


def show(person, activity, viewport):
    """Resize the page and switch it to `activity` with its tab. The tab is clicked
    in the page, not through Playwright's actionability waits: a tab the layout hides
    is the guard's finding to report, not a 30 s timeout."""
    page = person.page
    page.set_viewport_size(viewport)
    page.evaluate("a => document.querySelector(`.tab[data-activity=\"${a}\"]`).click()", activity)
    page.wait_for_selector(f'.tab[data-activity="{activity}"].on')
    page.wait_for_function("document.querySelector('#stage').childElementCount > 0")
    settle(page)


CASES = [(vp, role, act) for vp in VIEWPORTS for role in ROLES for act in ACTIVITIES]


@pytest.mark.parametrize("vp,role,activity", CASES, ids=["-".join(c) for c in CASES])
def test_every_control_reachable_and_accessible(layout_room, vp, role, activity):
    viewport, touch = VIEWPORTS[vp]
    person = layout_room.person(role, touch)
    show(person, activity, viewport)
    problems = reach_problems(person.page, CHILD_TAP_PX if role == "child" else 0)
    problems += axe_problems(person.page)
    person.page.screenshot(path=os.path.join(SHOTS, f"{vp}-{role}-{activity}.png"))
    assert problems == [], "\n".join(problems)
    assert person.console_errors == [], person.console_errors


SITE_PAGES = ["/about", "/dashboard", "/account/settings", "/account/audit", "/rooms/{room}/home"]


@pytest.mark.parametrize("vp", ["phone-390x844", "laptop-1366x768"])
def test_site_pages_reachable_and_accessible(layout_room, browser, vp):
    """The therapist's pages around the room (footer, breadcrumbs): same checks."""
    viewport, touch = VIEWPORTS[vp]
    p = Person(browser, layout_room.url, has_touch=touch, bypass_csp=True, viewport=viewport)
    try:
        p.goto("/login")
        p.page.fill('input[name="email"]', layout_room.email)
        p.page.fill('input[name="password"]', PASSWORD)
        p.page.click('button[type="submit"]')
        p.page.wait_for_url("**/dashboard")
        problems = []
        layout_room.home_link()            # the home page with a pack, its link and QR
        for template in SITE_PAGES:
            path = template.format(room=layout_room.room_id)
            p.goto(path)
            problems += [f"{path}: {x}" for x in reach_problems(p.page, page_scrolls=True) + axe_problems(p.page)]
            name = template.strip("/").replace("/", "-").replace("{room}", "room")
            p.page.screenshot(path=os.path.join(SHOTS, f"{vp}-site-{name}.png"), full_page=True)
        assert problems == [], "\n".join(problems)
    finally:
        p.close()


@pytest.mark.parametrize("vp", list(VIEWPORTS))
def test_home_practice_page_reachable_and_accessible(layout_room, browser, vp):
    """The family's home page (issue 17 part 3): its tiles and every item's screen,
    with a child's tap targets."""
    viewport, touch = VIEWPORTS[vp]
    p = Person(browser, layout_room.url, has_touch=touch, bypass_csp=True, viewport=viewport)
    try:
        p.goto(layout_room.home_link())
        p.page.wait_for_selector('[data-action="open"]')
        settle(p.page)
        problems = [f"tiles: {x}" for x in reach_problems(p.page, CHILD_TAP_PX, page_scrolls=True)
                    + axe_problems(p.page)]
        p.page.screenshot(path=os.path.join(SHOTS, f"{vp}-home-tiles.png"), full_page=True)
        items = p.page.eval_on_selector_all('[data-action="open"]', "ts => ts.map(t => t.dataset.item)")
        assert len(items) == 4
        for item in items:
            p.page.click(f'[data-action="open"][data-item="{item}"]')
            p.page.wait_for_selector('[data-action="home"]')
            settle(p.page)
            problems += [f"{item}: {x}" for x in reach_problems(p.page, CHILD_TAP_PX, page_scrolls=True)
                         + axe_problems(p.page)]
            p.page.screenshot(path=os.path.join(SHOTS, f"{vp}-home-{item}.png"), full_page=True)
            p.page.click('[data-action="home"]')
            p.page.wait_for_selector('[data-action="open"]')
        assert problems == [], "\n".join(problems)
        assert p.console_errors == [], p.console_errors
    finally:
        p.close()
