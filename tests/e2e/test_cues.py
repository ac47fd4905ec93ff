"""A child who cannot read, and a parent on a phone (issue 14, part 3).

Every state a guest meets is said by a picture (and a cue: tone and local voice,
recorded in body[data-cue]); the breathing exercise shows its time left as a
shrinking slice; a step timer's start and end are said to the child by a picture
and a cue, once; a remote cursor's name label gets out of the way of what was just
stamped; the goodbye's OK leads a guest to a goodbye page. The acceptance
test plays the parent on a 390×844 phone, touch only, through a whole family
session, checking at every step that every control is reachable (the layout
guard's own checks). Screenshots go to test-artifacts/cues/."""
import os
from urllib.parse import urlparse

import pytest

from tests.e2e.layout import INTERACTIVE, reach_problems, settle
from tests.e2e.people import Person, therapist_creates_room
from tests.support import Actions, SocketUser, wait_for

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 768}
TABLET = {"width": 1024, "height": 768}


@pytest.fixture
def shots(artifacts):
    d = os.path.join(artifacts, "cues")
    os.makedirs(d, exist_ok=True)
    return lambda person, name: person.page.screenshot(path=os.path.join(d, name + ".png"))


def parent_link(t):
    link = t.page.input_value('input[data-link="parent"]')
    assert "/j/" in link
    return link


def big_picture(page, selector, px=88):
    """The state's picture is shown, large enough to be the message."""
    box = page.locator(selector).first.bounding_box()
    return bool(box) and box["width"] >= px and box["height"] >= px


def reachable(page, where, within=None):
    """The layout guard's check at this step; over a full-screen state (waiting,
    private time, goodbye) the controls that count are the ones it offers."""
    settle(page)
    selector = f"{within} :is({INTERACTIVE})" if within else INTERACTIVE
    if within:
        assert page.locator(selector).count() > 0, f"{where}: no way on or out"
    problems = reach_problems(page, selector=selector)
    assert problems == [], f"{where}: {problems}"


def cue(page):
    return page.evaluate("document.body.dataset.cue || ''")


def tap(page, selector):
    page.locator(selector).first.tap()


def test_a_parent_on_a_phone_through_a_whole_family_session(browser, server, shots):
    t = Person(browser, server.url, viewport=LAPTOP)
    p = Person(browser, server.url, viewport=PHONE, has_touch=True, is_mobile=True)
    try:
        therapist_creates_room(t, waiting_room=True)
        link = parent_link(t)
        t.page.click('[data-action="open-room"]')
        t.wait_connected()

        # Join: a picture-first page, no owl (the therapist's), everything reachable.
        p.goto(link)
        assert p.page.locator('input[name="avatar"][value="owl"]').count() == 0
        settle(p.page)
        assert reach_problems(p.page, page_scrolls=True) == []
        tap(p.page, 'label.avatar:has(input[value="bear"])')
        tap(p.page, '[data-action="join"]')

        # Wait: the waiting screen says it by its picture (and a cue).
        p.page.wait_for_selector('body[data-screen="waiting"] .guest-screen', timeout=15000)
        assert big_picture(p.page, ".screen-waiting .guest-pic")
        assert cue(p.page) == "waiting"
        reachable(p.page, "waiting", ".guest-screen")
        shots(p, "parent-phone-waiting")

        # Let in: a waving hand, then the room; every tool and tab within reach.
        t.page.click('.lobby-row [data-action="admit"]', timeout=15000)
        p.page.wait_for_selector('body[data-screen=""]', timeout=15000)
        p.wait_connected()
        p.page.wait_for_selector("#board")
        assert cue(p.page) == "let_in"
        p.page.wait_for_selector(".guest-welcome", state="detached", timeout=5000)
        reachable(p.page, "in the room")
        shots(p, "parent-phone-room-watching")

        # Play when allowed: the therapist lets parents play; the parent stamps by touch.
        assert p.page.is_disabled('[data-action="stamps"]')
        t.page.click('[data-action="room-panel"]')
        t.page.check('.room-panel [data-setting="parent_may_play"]')
        p.page.wait_for_selector('[data-action="stamps"]:not([disabled])', timeout=10000)
        assert cue(p.page) == "your_turn"
        p.page.wait_for_selector(".guest-welcome", state="detached", timeout=5000)
        tap(p.page, '[data-action="stamps"]')
        tap(p.page, '.stamps-drawer [data-stamp="star"]')
        box = p.page.locator("#board").bounding_box()
        p.page.touchscreen.tap(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
        t.wait_items(1)
        p.wait_items(1)
        reachable(p.page, "playing")
        shots(p, "parent-phone-playing")

        # Private time: the parent's screen says so by its picture.
        t.page.check('.room-panel [data-setting="private"]')
        p.page.wait_for_selector('body[data-screen="private_time"] .guest-screen', timeout=10000)
        assert big_picture(p.page, ".screen-private_time .guest-pic")
        assert cue(p.page) == "private_time"
        reachable(p.page, "private time", ".guest-screen")
        shots(p, "parent-phone-private-time")
        t.page.uncheck('.room-panel [data-setting="private"]')
        p.page.wait_for_selector('body[data-screen=""]', timeout=15000)
        p.wait_items(1)
        reachable(p.page, "after private time")

        # Goodbye: a picture, then OK leads to a goodbye page, not the sign-up page.
        t.page.click('[data-action="end-session"]')
        t.page.click('[data-action="confirm-yes"]')
        p.page.wait_for_selector('body[data-fatal="session_ended"]', timeout=15000)
        assert big_picture(p.page, ".fatal-pic")
        assert cue(p.page) == "goodbye"
        reachable(p.page, "goodbye", ".fatal")
        shots(p, "parent-phone-goodbye")
        tap(p.page, ".fatal-card a.big-btn")
        p.page.wait_for_selector('[data-page="goodbye"]', timeout=10000)
        assert urlparse(p.page.url).path == "/bye"
        assert big_picture(p.page, '[data-page="goodbye"] .big-pic')
        assert p.page.locator('a[href*="register"], a[href*="login"], form').count() == 0
        settle(p.page)
        assert reach_problems(p.page, page_scrolls=True) == []
        shots(p, "parent-phone-bye")

        for person in (t, p):
            assert person.console_errors == [], person.console_errors
            foreign = [u for u in person.requests
                       if not u.startswith(server.url) and not u.startswith(("data:", "blob:"))]
            assert foreign == [], f"requests to other hosts: {foreign}"
    finally:
        t.close()
        p.close()


@pytest.fixture
def pair(browser, server):
    """A therapist on a laptop and a child on a touch tablet in one room."""
    people = []

    def make():
        t = Person(browser, server.url, viewport=LAPTOP)
        c = Person(browser, server.url, viewport=TABLET, has_touch=True)
        people.extend((t, c))
        link = therapist_creates_room(t)
        t.page.click('[data-action="open-room"]')
        t.wait_connected()
        c.goto(link)
        c.page.click('label.avatar:has(input[value="fox"])')
        c.page.click('[data-action="join"]')
        c.wait_connected()
        return t, c

    yield make
    for person in people:
        person.close()


def test_breathing_shows_the_time_left_as_a_shrinking_slice(pair, shots):
    t, c = pair()
    for person in (t, c):
        person.page.click('.tab[data-activity="calm"]')
    t.page.click('[data-card="pacer"]')
    t.page.click('[data-pattern="balloon"]')
    t.page.click('[data-action="pacer-start"]')
    c.page.wait_for_selector('#pacer[data-running="true"][data-synced="true"]', timeout=10000)
    disc = c.page.locator("#pacer .calm-disc.pacer-left")
    # Beside the breathing shape, big enough to see, and shrinking as time passes.
    assert disc.is_visible()
    shape = c.page.locator("#pacer .calm-visual-box").bounding_box()
    box = disc.bounding_box()
    assert box["width"] >= 40 and box["y"] < shape["y"] + shape["height"] + 120
    first = int(disc.get_attribute("data-remaining-ms"))
    wait_for(lambda: int(disc.get_attribute("data-remaining-ms")) < first - 1000, what="time left shrinking")
    assert c.page.evaluate("document.querySelector('#pacer .pacer-left path').getAttribute('d')") != ""
    shots(c, "child-tablet-breathing-time-left")


def therapist_socket(t, server):
    """A socket of the therapist's own (the browser's cookies) in the room on screen."""
    actions = Actions(server.url)
    for ck in t.context.cookies():
        actions.http.cookies.set(ck["name"], ck["value"])
    return SocketUser(actions, urlparse(t.page.url).path.rsplit("/", 1)[1]).connect()


def cues_given(page):
    return int(page.evaluate("document.body.dataset.cues || '0'"))


def schedule_with_a_timed_step(pair, server, secs):
    """Therapist and child on the schedule, whose one step "Wait" has a `secs` timer,
    added over the therapist's own socket (the editor offers a minute and more; the
    protocol takes 10 s)."""
    t, c = pair()
    for person in (t, c):
        person.page.click('.tab[data-activity="schedule"]')
        person.page.wait_for_selector(".schedule")
    sock = therapist_socket(t, server)
    try:
        ack = sock.op("step.add", {"id": "st-wait", "pos": 0, "pic": "hourglass", "text": "Wait", "secs": secs},
                      a="schedule")
        assert ack["ok"], ack
    finally:
        sock.close()
    return t, c


def test_a_step_timer_running_out_is_said_to_the_child_by_a_bell_once(pair, server, shots):
    t, c = schedule_with_a_timed_step(pair, server, 10)
    c.page.wait_for_selector('.sc-first [data-action="timer"]', timeout=10000)
    pictures = c.page.evaluate("JSON.parse(document.getElementById('playroom-config').textContent).pictures")

    # The therapist starts it: the child sees the timer picture and gets the cue.
    t.page.click('.sc-first [data-action="timer"]')
    c.page.wait_for_function("() => document.body.dataset.cue === 'timer_running'", timeout=10000)
    running = c.page.locator('.guest-welcome[data-cue="timer_running"] img.guest-pic')
    assert running.get_attribute("src") == pictures["calm-timer"]["url"]

    # It runs out: a bell, big, and the cue; in the disc's place a bell stays.
    c.page.wait_for_function("() => document.body.dataset.cue === 'timer_over'", timeout=20000)
    bell = c.page.locator('.guest-welcome[data-cue="timer_over"] img.guest-pic')
    assert bell.get_attribute("src") == pictures["bell"]["url"]
    assert big_picture(c.page, '.guest-welcome[data-cue="timer_over"] img.guest-pic')
    c.page.wait_for_selector('.sc-timer.over img.sc-bell')
    shots(c, "child-tablet-timer-over")
    # The timer sits below its card, never over the card's FIRST label or its words.
    timer = c.page.locator(".sc-first .sc-timer").bounding_box()
    for covered in (".sc-first .sc-slot", ".sc-first .sc-step-text", ".sc-first .sc-step-pic"):
        box = c.page.locator(covered).bounding_box()
        apart = (timer["x"] >= box["x"] + box["width"] or box["x"] >= timer["x"] + timer["width"]
                 or timer["y"] >= box["y"] + box["height"] or box["y"] >= timer["y"] + timer["height"])
        assert apart, (covered, box, timer)
    given = cues_given(c.page)
    # Said once: the board's ticks and re-renders say nothing more …
    c.page.wait_for_timeout(1000)
    assert cues_given(c.page) == given
    # … nor does a reload a moment later, though the timer's end is still recent.
    c.page.reload()
    c.wait_connected()
    c.page.click('.tab[data-activity="schedule"]')
    c.page.wait_for_selector('.sc-timer.over[data-left="0"] img.sc-bell', timeout=10000)
    c.page.wait_for_timeout(500)
    assert c.page.evaluate("document.body.dataset.cue || ''") == ""
    # The therapist's screen is not spoken to.
    assert t.page.evaluate("document.body.dataset.cue || ''") == ""
    for person in (t, c):
        assert person.console_errors == [], person.console_errors


def test_a_resting_cursor_label_gets_out_of_the_way_of_a_stamp(pair, shots):
    t, c = pair()
    t.page.click('[data-action="stamps"]')
    t.page.click('.stamps-drawer [data-stamp="star"]')
    box = t.page.locator("#board").bounding_box()
    x, y = box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.4
    t.page.mouse.move(x - 30, y - 30)
    t.page.mouse.move(x, y, steps=5)
    t.page.mouse.click(x, y)
    c.wait_items(1)
    c.page.wait_for_selector(".cv-cursors .cursor:not([hidden]) .cursor-label")
    # While the cursor is still shown, its label fades away from the stamp it covered.
    wait_for(lambda: c.page.evaluate("""() => {
        const n = document.querySelector('.cv-cursors .cursor');
        return n && !n.hidden && getComputedStyle(n.querySelector('.cursor-label')).opacity === '0'; }"""),
             timeout=6, what="the resting cursor's label to fade while its dot stays")
    shots(c, "child-tablet-cursor-at-rest")
    # It comes back when the cursor moves again.
    t.page.mouse.move(x + 40, y + 20, steps=5)
    wait_for(lambda: c.page.evaluate(
        "!document.querySelector('.cv-cursors .cursor').classList.contains('still')"), what="label back")


def test_UNDO4_the_childs_undo_and_redo_are_greyed_out_with_nothing_to_take_back(pair, shots):
    t, c = pair()
    undo, redo = '[data-action="undo"]', '[data-action="redo"]'

    def greyed(sel):
        return c.page.evaluate("""s => { const b = document.querySelector(s);
            return b.disabled && b.getAttribute('aria-disabled') === 'true'
                && Number(getComputedStyle(b).opacity) < 0.6; }""", sel)

    c.page.wait_for_selector("#board")
    wait_for(lambda: greyed(undo) and greyed(redo), what="nothing to undo or redo yet")
    shots(c, "child-tablet-undo-greyed")
    c.draw_line()
    t.wait_items(1)
    wait_for(lambda: not greyed(undo) and greyed(redo), what="undo after a stroke")
    c.page.locator(undo).tap()
    t.wait_items(0)
    wait_for(lambda: greyed(undo) and not greyed(redo), what="redo after undo")
    c.page.locator(redo).tap()
    t.wait_items(1)
    wait_for(lambda: not greyed(undo) and greyed(redo), what="undo again after redo")


def _apart(a, b):
    return (a["x"] >= b["x"] + b["width"] - 0.5 or b["x"] >= a["x"] + a["width"] - 0.5
            or a["y"] >= b["y"] + b["height"] - 0.5 or b["y"] >= a["y"] + a["height"] - 0.5)


def _inside(inner, outer):
    return (inner["x"] >= outer["x"] - 0.5 and inner["y"] >= outer["y"] - 0.5
            and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 0.5
            and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + 0.5)


def test_a_running_first_then_timer_fits_a_phone_both_ways(pair, server, shots):
    """The layout guard never runs a timer: with one running, on a phone upright the
    timer was cut off at the left and the pictures spilled out of their cards, and held
    sideways the timer fell below the screen and the card covered "All done"."""
    t, c = schedule_with_a_timed_step(pair, server, 60)
    c.page.wait_for_selector('.sc-first [data-action="timer"]', timeout=10000)
    t.page.click('.sc-first [data-action="timer"]')
    c.page.wait_for_selector('.sc-first .sc-timer[data-running="true"]', timeout=10000)
    for name, vp in (("upright", {"width": 390, "height": 844}), ("sideways", {"width": 844, "height": 390})):
        c.page.set_viewport_size(vp)
        c.page.wait_for_timeout(2500)          # the welcome cue has faded
        shots(c, f"child-phone-{name}-timer-running")
        assert reach_problems(c.page, 48) == [], name
        zone = c.page.locator(".sc-done-zone").bounding_box()
        for slot in ("first", "then"):
            card = c.page.locator(f".sc-{slot} .sc-step").bounding_box()
            assert _apart(card, zone), (name, slot, card, zone)
            assert _inside(c.page.locator(f".sc-{slot} .sc-step-pic").bounding_box(), card), (name, slot)


def test_UNDO4_undo_and_redo_are_greyed_out_in_the_sand_tray_and_the_checklist_too(pair, shots):
    """The canvas greyed out Undo/Redo with nothing to take back; the sand tray and
    the stories' checklist kept theirs bright (issue 14's last UNDO4 point)."""
    t, c = pair()
    undo, redo = '[data-action="undo"]', '[data-action="redo"]'

    def greyed(sel):
        return c.page.evaluate("""s => { const b = document.querySelector(s);
            return Boolean(b) && b.disabled && b.getAttribute('aria-disabled') === 'true'; }""", sel)

    # Sand tray: place a figure by tap-tap, undo it, redo it.
    for p in (t, c):
        p.page.click('.tab[data-activity="sandtray"]')
        p.page.wait_for_selector("#tray")
    wait_for(lambda: greyed(undo) and greyed(redo), what="nothing to undo in the tray yet")
    c.page.locator(".st-grid [data-fig]").first.tap()
    tray = c.page.locator("#tray").bounding_box()
    c.page.touchscreen.tap(tray["x"] + tray["width"] * 0.4, tray["y"] + tray["height"] * 0.5)
    t.page.wait_for_selector("#tray .fig:not(.ghost)")
    wait_for(lambda: not greyed(undo) and greyed(redo), what="undo after placing a figure")
    shots(c, "child-tablet-sandtray-undo")
    c.page.locator(undo).tap()
    t.page.wait_for_selector("#tray .fig:not(.ghost)", state="detached")
    wait_for(lambda: greyed(undo) and not greyed(redo), what="redo after undo in the tray")

    # The stories' checklist: tick a step, undo.
    t.page.click('.tab[data-activity="stories"]')
    t.page.wait_for_selector(".stories")
    t.page.locator('[data-action="task"]').first.click()
    c.page.wait_for_selector("#task")
    wait_for(lambda: greyed(undo) and greyed(redo), what="nothing to undo on the checklist yet")
    c.page.locator('#task [data-step="0"] [data-action="tick"]').tap()
    t.page.wait_for_selector('#task [data-step="0"][data-done="true"]')
    wait_for(lambda: not greyed(undo), what="undo after a tick")
    c.page.locator(undo).tap()
    t.page.wait_for_selector('#task [data-step="0"][data-done="false"]')
    wait_for(lambda: greyed(undo) and not greyed(redo), what="redo after undoing the tick")
