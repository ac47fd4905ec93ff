"""ROUTE1 in the browser: the page's socket names its room in the Engine.IO URL, on
the WebSocket and on every long-poll, so nginx can keep a room on one process."""
import os
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.support import wait_for

pytestmark = pytest.mark.browser


BLOCKED = """window.WebSocket = class {
  constructor() {
    setTimeout(() => { this.onerror && this.onerror(new Event("error"));
                       this.onclose && this.onclose({code: 1006, reason: ""}); }, 20);
  }
  send() {}
  close() {}
};"""


def socket_requests(urls):
    return [parse_qs(urlsplit(u).query) for u in urls if "/socket.io/" in u]


def test_ROUTE1_the_page_puts_its_room_in_every_socket_request(session_for, artifacts):
    t, c = session_for({"width": 390, "height": 844})
    room_id = c.page.url.rstrip("/").rsplit("/", 1)[1]
    sockets = []
    t.page.on("websocket", lambda ws: sockets.append(ws.url))
    t.page.reload()
    t.wait_connected()
    wait_for(lambda: sockets, what="the therapist's WebSocket")
    assert [q.get("room") for q in socket_requests(sockets)] == [[room_id]]

    # A school that blocks WebSockets (here: every WebSocket fails as it opens, as
    # behind a proxy that refuses the upgrade): the child falls back to long-polling,
    # and every poll carries the room too.
    c.context.add_init_script(BLOCKED)
    c.requests.clear()
    c.page.reload()
    c.wait_connected()
    c.page.click('[data-color="#e53935"]')
    c.draw_line()
    t.wait_items(1)
    polls = [q for q in socket_requests(c.requests) if q.get("transport") == ["polling"]]
    assert len(polls) >= 3, polls
    assert all(q.get("room") == [room_id] for q in polls), polls
    c.page.screenshot(path=os.path.join(artifacts, "routing-phone-polling.png"))
