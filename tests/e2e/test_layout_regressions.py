"""Layout regressions of issue 14, each as a person meets it in the browser:
(1) pages added on Draw survive a trip to another activity, (2) the stories shelf is
not squeezed by the sand tray's stylesheet, (3) the waiting-room strip does not cover
the therapist's tools. Screenshots of what they show go to test-artifacts/."""
import os

import pytest

from tests.e2e.layout import reach_problems, settle
from tests.e2e.people import Person, open_activity, therapist_creates_room
from tests.support import wait_for

pytestmark = pytest.mark.browser


def page_buttons(person):
    return person.page.locator(".cv-pages .pagebtn").count()


def test_page_buttons_survive_switching_to_sand_tray_and_back(session_for):
    t, c = session_for({"width": 1024, "height": 768})
    t.page.click('[data-action="page-add"]')
    for p in (t, c):
        wait_for(lambda: page_buttons(p) == 2, what="the new page's button")
    open_activity((t, c), "sandtray", ".st-tray")
    open_activity((t, c), "canvas", "#board")
    for p in (t, c):
        settle(p.page)
        assert page_buttons(p) == 2, "both pages can still be picked after coming back to Draw"
    c.page.click('.cv-pages .pagebtn >> nth=1')
    wait_for(lambda: c.board_attr("page") != "p1", what="the child on page 2")


def test_stories_shelf_uses_the_stage_after_the_sand_tray(session_for, artifacts):
    t, _ = session_for({"width": 1024, "height": 768})
    open_activity((t,), "sandtray", ".st-tray")
    open_activity((t,), "stories", ".stories h2")
    settle(t.page)
    t.page.screenshot(path=os.path.join(artifacts, "stories-shelf-after-sandtray-1366x768.png"))
    stage = t.page.locator("#stage").bounding_box()
    cards = t.page.locator(".stories .st-cards >> nth=1").bounding_box()
    assert cards["width"] > stage["width"] * 0.8, (cards, stage)


def test_knock_strip_leaves_the_therapists_tools_free(browser, server, artifacts):
    size = {"width": 1366, "height": 768}
    t = Person(browser, server.url, viewport=size)
    c = Person(browser, server.url, viewport={"width": 390, "height": 844}, has_touch=True)
    try:
        link = therapist_creates_room(t, waiting_room=True)
        t.page.click('[data-action="open-room"]')
        t.wait_connected()
        c.goto(link)
        c.page.click('label.avatar:has(input[value="fox"])')
        c.page.click('[data-action="join"]')
        c.page.wait_for_selector('body[data-screen="waiting"] .guest-screen', timeout=15000)
        c.page.screenshot(path=os.path.join(artifacts, "waiting-screen-child-phone-390x844.png"))
        t.page.wait_for_selector('.lobby-row [data-action="admit"]', timeout=15000)
        settle(t.page)
        name = f"knock-strip-therapist-{size['width']}x{size['height']}.png"
        t.page.screenshot(path=os.path.join(artifacts, name))
        problems = reach_problems(t.page, selector=".cv-tools button, .cv-side button, .lobby-row button")
        assert problems == [], "\n".join(problems)
        t.page.click('[data-tool="pen"]')
        t.page.click('.lobby-row [data-action="admit"]')
        c.page.wait_for_selector("#board", timeout=15000)
    finally:
        t.close()
        c.close()


def test_a_selected_figure_leaves_the_tray_and_the_shelf_room_on_a_small_phone(session_for, artifacts):
    """Issue 14: on a 360 px phone the therapist's selected figure's twelve actions
    wrapped onto three rows, squeezing the tray to 57x45 px and the figures to nothing.
    They now keep one row that scrolls, and the shelf scrolls as one column."""
    t, _ = session_for({"width": 1024, "height": 768})
    t.page.set_viewport_size({"width": 360, "height": 740})
    open_activity((t,), "sandtray", "#tray")
    t.page.locator(".st-grid [data-fig]").first.click()
    tray = t.page.locator("#tray").bounding_box()
    t.page.mouse.click(tray["x"] + tray["width"] * 0.4, tray["y"] + tray["height"] * 0.5)
    t.page.locator("#tray .fig:not(.ghost)").first.click()
    t.page.wait_for_selector("#tray .fig.selected")
    settle(t.page)
    t.page.screenshot(path=os.path.join(artifacts, "sandtray-selected-therapist-360x740.png"))
    tray = t.page.locator("#tray").bounding_box()
    assert tray["width"] >= 180 and tray["height"] >= 120, tray
    assert t.page.locator(".st-actions").bounding_box()["height"] <= 64       # one row
    problems = reach_problems(t.page, 0, ".st-actions button, .st-grid [data-fig], .st-cats button")
    assert problems == [], "\n".join(problems)
