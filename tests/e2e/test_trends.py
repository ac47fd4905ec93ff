"""Issue 17 part 4 in the browser: after three sessions with check-ins and prompt
levels (played over Socket.IO, ended with "End session"), the therapist's records page
shows the trends as inline SVG charts — on a 390 px phone and a 1366 px laptop,
nothing off-screen, no sideways scroll, no serious axe finding, no request to
another host; the table alternative opens. Screenshots: test-artifacts/trends-*.png.
"""
import os
import re
import time

import pytest

from tests.e2e.layout import axe_problems, reach_problems
from tests.e2e.people import Person
from tests.support import Actions, SocketUser, wait_for

pytestmark = pytest.mark.browser

PASSWORD = "a long enough password"
SESSIONS = [(2, 3, "physical", "verbal"), (3, 4, "verbal", "gestural"), (4, 5, "gestural", "independent")]


def op(user, a, t, d):
    ack = user.op(t, d, a=a, op_id=f"op-{time.monotonic_ns()}")
    assert ack["ok"], (t, ack)


def play_sessions(http, room_id, child_link):
    """Three sessions: the child comes in (which starts a session), the therapist
    records a start and an end check-in and prompt levels of two steps of "Washing my
    hands", then ends the session; waits for each record."""
    th = SocketUser(http, room_id).connect()
    try:
        for k, (start, end, step0, step1) in enumerate(SESSIONS):
            guest = Actions(http.base)
            guest.join(child_link)
            child = SocketUser(guest, room_id).connect()
            op(th, "checkin", "checkin", {"id": f"s{k}", "value": start, "moment": "start"})
            op(th, "stories", "task.prompt", {"task": "handwashing", "step": 0, "level": step0})
            op(th, "stories", "task.prompt", {"task": "handwashing", "step": 1, "level": step1})
            op(th, "checkin", "checkin", {"id": f"e{k}", "value": end, "moment": "end"})
            ack = th.call("control", {"op_id": f"end-{k}-{time.monotonic_ns()}", "action": "end"})
            assert ack["ok"], ack
            child.close()
            wait_for(lambda: len(re.findall(r'data-record="', http.get(f"/rooms/{room_id}/records").text)) == k + 1,
                     timeout=20, what=f"the record of session {k + 1}")
    finally:
        th.close()


@pytest.fixture
def trend_room(server):
    http = Actions(server.url)
    email = http.register(password=PASSWORD, name="Dr. Kim")
    room_id, links = http.create_room("Sam, 7")
    play_sessions(http, room_id, links["child"])
    return email, room_id


@pytest.mark.parametrize("size,touch", [((390, 844), True), ((1366, 768), False)])
def test_SAFE1_trend_charts_fit_the_screen_read_in_words_and_load_nothing_from_elsewhere(browser, server, trend_room, artifacts, size, touch):
    email, room_id = trend_room
    w, h = size
    p = Person(browser, server.url, viewport={"width": w, "height": h}, has_touch=touch, bypass_csp=True)
    hosts = []
    p.page.on("request", lambda r: hosts.append(r.url) if not r.url.startswith(server.url) else None)
    try:
        p.goto("/login")
        p.page.fill('input[name="email"]', email)
        p.page.fill('input[name="password"]', PASSWORD)
        p.page.click('button[type="submit"]')
        p.page.wait_for_url("**/dashboard")
        p.goto(f"/rooms/{room_id}/records")
        charts = p.page.locator("[data-trends] svg[role=img]")
        assert charts.count() == 2
        desc = charts.nth(0).locator("desc").text_content()
        assert [m.groups() for m in re.finditer(r"start (\d) of 5 \(\w+\); end (\d) of 5", desc)] == \
            [(str(a), str(b)) for a, b, _, _ in SESSIONS]
        grid = charts.nth(1).locator("desc").text_content()
        assert "Step 1, Turn on the water:" in grid and grid.endswith("1 of 7.")
        # every chart fits the screen's width (it scales, the page does not scroll sideways)
        for i in range(2):
            box = charts.nth(i).bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= w, (i, box)
            assert box["width"] > 150, (i, box)            # scaled, not squashed to nothing
        p.page.screenshot(path=os.path.join(artifacts, f"trends-{w}x{h}.png"), full_page=True)
        # the table alternative opens and stays in the page's width too
        p.page.locator("[data-trend=prompts] summary").click()
        table = p.page.locator("[data-trend=prompts] table")
        assert "independent" in table.text_content() and "1 of 7" in table.text_content()
        problems = reach_problems(p.page, page_scrolls=True) + axe_problems(p.page)
        p.page.screenshot(path=os.path.join(artifacts, f"trends-{w}x{h}-table.png"), full_page=True)
        assert problems == [], "\n".join(problems)
        assert hosts == [] and p.console_errors == []
    finally:
        p.close()
