"""Two people in two browser contexts: a therapist and a child drawing together."""
import os

import pytest

from tests.e2e.people import RED, count_near
from tests.support import wait_for

pytestmark = pytest.mark.browser


def test_child_draws_therapist_sees_it_and_it_survives_reloads(session_for, server, artifacts):
    t, c = session_for({"width": 1024, "height": 768})
    # The therapist sees the child in the presence list.
    t.page.wait_for_selector('[data-participant][data-online="true"] >> nth=1', timeout=10000)

    c.page.click('[data-color="#e53935"]')
    c.draw_line()
    c.wait_items(1)
    t.wait_items(1)
    assert count_near(t.board_png(), RED) > 50, "the therapist's board shows the red stroke"

    c.page.screenshot(path=os.path.join(artifacts, "room-tablet-1024x768.png"))
    t.page.screenshot(path=os.path.join(artifacts, "room-desktop-1366x768.png"))

    for p in (t, c):
        p.page.reload()
        p.wait_connected()
        p.wait_items(1)
        assert count_near(p.board_png(), RED) > 50, "the stroke is still there after a reload"

    for p in (t, c):
        foreign = [u for u in p.requests
                   if not u.startswith(server.url) and not u.startswith(("data:", "blob:"))]
        assert foreign == [], f"requests to other hosts: {foreign}"
        assert p.console_errors == [], p.console_errors


def test_stroke_drawn_while_server_is_down_arrives_after_restart(session_for, server, artifacts):
    t, c = session_for({"width": 768, "height": 1024})
    server.stop()
    c.page.wait_for_selector('body[data-conn="reconnecting"]', timeout=15000)
    c.page.click('[data-color="#e53935"]')
    c.draw_line(0.2, 0.2, 0.5, 0.8)
    # Kept and shown locally while the server is away.
    wait_for(lambda: c.board_attr("pending") == "1", what="pending stroke")
    assert count_near(c.board_png(), RED) > 50
    c.page.screenshot(path=os.path.join(artifacts, "room-tablet-portrait-offline.png"))

    server.start()
    c.wait_connected()
    c.wait_items(1)
    t.wait_connected()
    t.wait_items(1)
    assert count_near(t.board_png(), RED) > 50


@pytest.mark.parametrize("size", [(1366, 768), (1180, 820)], ids=["laptop-1366", "tablet-1180"])
def test_the_top_bar_is_one_row_for_therapist_and_child(session_for, size):
    """Six activity tabs, two people, the therapist's switches and the connection
    state fit one row on a common laptop and a landscape tablet, so the board keeps
    its height. The connected pill may shrink to its dot; its words stay for screen
    readers."""
    t, c = session_for({"width": size[0], "height": size[1]})
    t.page.set_viewport_size({"width": size[0], "height": size[1]})
    for p in (t, c):
        p.page.wait_for_selector('.pill[data-state="connected"]')
        tab = p.page.locator(".bar-tabs .tab").first.bounding_box()
        bar = p.page.locator("header.bar").bounding_box()
        assert bar["height"] < tab["height"] + 30, (size, bar, tab)    # one row of tabs
        leave = p.page.locator("header.bar .leave").bounding_box()
        assert leave["y"] < tab["y"] + tab["height"], (size, leave, tab)
        assert p.page.locator(".pill").text_content() == "Connected"
        assert p.page.locator(".bar-tabs .tab").count() == 6
