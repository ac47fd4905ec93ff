"""Issue 14, parts 2 and 4, in two browsers: a child on a portrait tablet with touch
only builds in the sand tray the way a finger does it (drag up from the shelf below
the tray, drag a placed figure without tapping it first, tap-tap), and what the
therapist asks reaches the child (a check-in ask with Follow me off; a reload with
Follow me on keeps the followed page, and page 1 brings the child along)."""
import os

import pytest

from tests.e2e.people import Person, child_joins, therapist_creates_room

pytestmark = pytest.mark.browser

PORTRAIT_TABLET = {"viewport": {"width": 768, "height": 1024}, "has_touch": True, "is_mobile": True}


@pytest.fixture
def room(browser, server):
    """A therapist on a laptop and a child on a portrait tablet (touch, mobile) in one room."""
    t = Person(browser, server.url, viewport={"width": 1366, "height": 768})
    c = Person(browser, server.url, **PORTRAIT_TABLET)
    try:
        child_joins(c, therapist_creates_room(t))
        t.page.click('[data-action="open-room"]')
        t.wait_connected()
        yield t, c
    finally:
        t.close()
        c.close()


class Finger:
    """One finger on the touch screen, through CDP: real touch events, so the page
    gets pointer events of type "touch" and the browser applies `touch-action`
    (a pan it owns would cancel the pointer, as on a real tablet)."""

    def __init__(self, person):
        self.cdp = person.context.new_cdp_session(person.page)

    def touch(self, kind, x=None, y=None):
        points = [] if x is None else [{"x": x, "y": y, "id": 1, "radiusX": 8, "radiusY": 8}]
        self.cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    def drag(self, sx, sy, tx, ty, steps=16):
        self.touch("touchStart", sx, sy)
        for i in range(1, steps + 1):
            self.touch("touchMove", sx + (tx - sx) * i / steps, sy + (ty - sy) * i / steps)
        self.touch("touchEnd")

    def tap(self, x, y):
        self.touch("touchStart", x, y)
        self.touch("touchEnd")


def centre(person, selector):
    box = person.page.locator(selector).first.bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def tray_point(person, fx, fy):
    box = person.page.locator("#tray").bounding_box()
    return box["x"] + box["width"] * fx, box["y"] + box["height"] * fy


def figures(person):
    """{id: (fig, x, y)} of the figures person's tray shows (tray units)."""
    return person.page.evaluate(
        "() => Object.fromEntries([...document.querySelectorAll('#tray .fig:not(.ghost)')]"
        ".map(f => [f.dataset.id, [f.dataset.fig, +f.dataset.x, +f.dataset.y]]))")


def wait_settled(person, n):
    person.page.wait_for_function(
        "n => { const t = document.querySelector('#tray');"
        " return t && t.dataset.figures === String(n) && t.dataset.pending === '0'; }",
        arg=n, timeout=15000)


def therapist_sees(t, fid, fig, x, y):
    """The therapist's tray shows figure `fid` (`fig`) at about (x, y) tray units."""
    t.page.wait_for_function(
        "([id, fig, x, y]) => { const f = document.querySelector(`#tray .fig[data-id='${id}']`);"
        " return f && f.dataset.fig === fig && Math.abs(f.dataset.x - x) < 2"
        " && Math.abs(f.dataset.y - y) < 2 && !f.classList.contains('held'); }",
        arg=[fid, fig, x, y], timeout=15000)


def test_child_on_a_portrait_tablet_drags_up_moves_at_once_and_places_by_tap_tap(room, artifacts):
    t, c = room
    for p in (t, c):
        p.page.click('.tab[data-activity="sandtray"]')
        p.page.wait_for_selector("#tray")
    finger = Finger(c)
    tray = c.page.locator("#tray").bounding_box()
    shelf = c.page.locator(".st-shelf").bounding_box()
    assert shelf["y"] >= tray["y"] + tray["height"], "on a portrait tablet the shelf is under the tray"

    # 1. Straight up from the shelf into the tray (a mostly vertical drag).
    sx, sy = centre(c, '.st-grid [data-fig]')
    fig1 = c.page.get_attribute('.st-grid [data-fig]', "data-fig")
    tx, ty = tray_point(c, 0.1, 0.4)
    assert abs(ty - sy) > 3 * abs(tx - sx), "a mostly vertical drag"
    finger.drag(sx, sy, tx, ty, steps=24)
    wait_settled(c, 1)
    [(fid1, (fig, x1, y1))] = figures(c).items()
    assert fig == fig1
    therapist_sees(t, fid1, fig1, x1, y1)

    # 2. The placed figure moves with the first drag, without a tap to select it first.
    finger.tap(*tray_point(c, 0.95, 0.95))       # nothing selected any more
    c.page.wait_for_selector("#tray .fig.selected", state="detached")
    fx, fy = centre(c, f'#tray .fig[data-id="{fid1}"]')
    finger.drag(fx, fy, *tray_point(c, 0.7, 0.3))
    c.page.wait_for_function(
        "([id, x]) => { const f = document.querySelector(`#tray .fig[data-id='${id}']`);"
        " return f && Math.abs(f.dataset.x - x) > 10; }", arg=[fid1, x1], timeout=10000)
    wait_settled(c, 1)
    _, x2, y2 = figures(c)[fid1]
    therapist_sees(t, fid1, fig1, x2, y2)

    # 3. Tap-tap: a tap on a shelf figure picks it, a tap on the sand puts it there.
    items = c.page.locator(".st-grid [data-fig]")
    fig2 = items.nth(1).get_attribute("data-fig")
    items.nth(1).scroll_into_view_if_needed()      # the first drag scrolled the shelf
    finger.tap(*centre(c, f'.st-grid [data-fig="{fig2}"]'))
    c.page.wait_for_selector(f'.st-grid [data-fig="{fig2}"].picked')
    finger.tap(*tray_point(c, 0.25, 0.75))
    wait_settled(c, 2)
    fid2 = next(i for i, (f, _, _) in figures(c).items() if i != fid1)
    fig, x3, y3 = figures(c)[fid2]
    assert fig == fig2 and abs(x3 - 0.25 * 72) < 2 and abs(y3 - 0.75 * 57) < 2
    therapist_sees(t, fid2, fig2, x3, y3)

    # 4. The same without dragging for a placed figure: "Move", then a tap on the sand.
    c.page.wait_for_selector('[data-action="move"]')
    finger.tap(*centre(c, '[data-action="move"]'))
    finger.tap(*tray_point(c, 0.8, 0.8))
    c.page.wait_for_function(
        "id => { const f = document.querySelector(`#tray .fig[data-id='${id}']`);"
        " return f && Math.abs(f.dataset.x - 57.6) < 2; }", arg=fid2, timeout=10000)
    therapist_sees(t, fid2, fig2, 57.6, 45.6)

    # 5. Not understood: a figure dropped back on the shelf wiggles and the tray says why.
    sx, sy = centre(c, '.st-grid [data-fig] >> nth=2')
    finger.drag(sx, sy, sx + 60, sy)
    c.page.wait_for_selector('.st-hint:not([hidden])', timeout=5000)
    assert "sand" in c.page.inner_text(".st-hint")
    c.page.screenshot(path=os.path.join(artifacts, "touch-child-portrait-768x1024.png"))
    wait_settled(c, 2)
    for p in (t, c):
        assert p.console_errors == [], p.console_errors


def test_CTL7_the_therapists_ask_story_and_schedule_bring_the_child_there_with_follow_me_off(room):
    t, c = room
    c.page.wait_for_selector("#board")                     # the child plays on Draw
    assert t.page.get_attribute('.bar-toggles [data-setting="follow"]', "aria-checked") == "false"

    t.page.click('.tab[data-activity="checkin"]')
    t.page.click('[data-action="ask"][data-moment="start"]')
    c.page.wait_for_selector('#feelings[data-asked="start"]', timeout=10000)
    c.page.wait_for_selector('.tab[data-activity="checkin"].on')
    assert c.page.get_attribute("body", "data-summoned") == "checkin"   # the gentle cue
    c.page.click('[data-feeling="4"]')
    t.page.wait_for_selector('[data-checkin][data-value="4"][data-moment="start"]', timeout=10000)

    # The child goes back to drawing; a story the therapist opens brings them to it.
    c.page.click('.tab[data-activity="canvas"]')
    c.page.wait_for_selector("#board")
    t.page.click('.tab[data-activity="stories"]')
    t.page.click('.st-card[data-story="worried-school"] [data-action="read"]')
    c.page.wait_for_selector('#story-page[data-story="worried-school"][data-page="0"]', timeout=10000)

    # The therapist builds a schedule (the child stays where they are), then starts it.
    c.page.click('.tab[data-activity="canvas"]')
    c.page.wait_for_selector("#board")
    t.page.click('.tab[data-activity="schedule"]')
    t.page.click('[data-action="example-morning"]')
    t.page.wait_for_selector('.schedule[data-steps="5"]')
    assert c.page.is_visible("#board")
    t.page.click('[data-action="reset"]')
    c.page.wait_for_selector('.schedule[data-steps="5"]', timeout=10000)
    for p in (t, c):
        assert p.console_errors == [], p.console_errors


def test_CTL6_a_therapist_who_reloads_keeps_the_followed_page_and_page_1_brings_the_child(room):
    t, c = room
    t.page.click('.bar-toggles [data-setting="follow"]')
    t.page.click('[data-action="page-add"]')
    t.page.wait_for_function("document.querySelector('#board').dataset.page !== 'p1'")
    second = t.page.get_attribute("#board", "data-page")
    first = t.page.get_attribute(".pagebtn >> nth=0", "data-page")
    assert first != second
    c.page.wait_for_function("p => document.querySelector('#board').dataset.page === p", arg=second,
                             timeout=10000)

    t.page.reload()
    t.wait_connected()
    t.page.wait_for_function("p => document.querySelector('#board').dataset.page === p", arg=second,
                             timeout=10000)
    assert c.page.get_attribute("#board", "data-page") == second

    t.page.click(f'[data-page="{first}"]')
    c.page.wait_for_function("p => document.querySelector('#board').dataset.page === p", arg=first,
                             timeout=10000)
    for p in (t, c):
        assert p.console_errors == [], p.console_errors
