"""The therapist runs the room, in two browsers (CTL1, CTL3, CTL4, CTL6): a guest
waits until let in, "Pause guests" shows the child a calm overlay and blocks
drawing, follow-me moves the child to the activity the therapist shows, and ending
the session shows the child the goodbye page. A guest who reads Spanish gets the shell
in Spanish while the therapist's stays English (issue 16)."""
import os

import pytest

from tests.e2e.people import Person, therapist_creates_room

pytestmark = pytest.mark.browser


def test_waiting_room_pause_follow_me_and_goodbye(browser, server, artifacts):
    t = Person(browser, server.url, viewport={"width": 1366, "height": 768})
    c = Person(browser, server.url, viewport={"width": 1024, "height": 768}, has_touch=True)
    try:
        link = therapist_creates_room(t, waiting_room=True)
        t.page.click('[data-action="open-room"]')
        t.wait_connected()

        # CTL1: the child waits on a calm screen; the therapist lets them in.
        c.goto(link)
        c.page.click('label.avatar:has(input[value="fox"])')
        c.page.click('[data-action="join"]')
        c.page.wait_for_selector('body[data-screen="waiting"] .guest-screen', timeout=15000)
        c.page.screenshot(path=os.path.join(artifacts, "controls-child-waiting-1024x768.png"))
        t.page.wait_for_selector('.lobby-row [data-action="admit"]', timeout=15000)
        t.page.screenshot(path=os.path.join(artifacts, "controls-therapist-knock-1366x768.png"))
        t.page.click('.lobby-row [data-action="admit"]')
        c.page.wait_for_selector('body[data-screen=""]', timeout=15000)
        c.page.wait_for_selector("#board", timeout=15000)
        t.page.wait_for_selector('[data-participant][data-online="true"] >> nth=1', timeout=10000)

        # CTL3: pause — the child sees the overlay and cannot draw.
        t.page.click('.bar-toggles [data-setting="freeze"]')
        c.page.wait_for_selector('body[data-screen="frozen"] .guest-screen', timeout=10000)
        c.page.screenshot(path=os.path.join(artifacts, "controls-child-paused-1024x768.png"))
        c.draw_line()
        c.page.wait_for_timeout(500)   # give a (wrongly) sent stroke time to come back
        assert c.board_attr("items") == "0" and t.board_attr("items") == "0"
        t.page.click('.bar-toggles [data-setting="freeze"]')
        c.page.wait_for_selector('body[data-screen=""]', timeout=10000)
        c.page.click('[data-color="#e53935"]')
        c.draw_line()
        t.wait_items(1)

        # CTL6: follow me — the child sees the therapist's canvas page, then the
        # activity the therapist switches to.
        t.page.click('.bar-toggles [data-setting="follow"]')
        t.page.click('[data-action="page-add"]')
        t.page.wait_for_function("document.querySelector('#board').dataset.page !== 'p1'")
        new_page = t.board_attr("page")
        c.page.wait_for_function("p => document.querySelector('#board').dataset.page === p",
                                 arg=new_page, timeout=10000)
        t.page.click('.bar-tabs [data-activity="sandtray"]')
        c.page.wait_for_selector('.bar-tabs [data-activity="sandtray"].on', timeout=10000)
        assert c.page.is_disabled('.bar-tabs [data-activity="canvas"]')
        c.page.screenshot(path=os.path.join(artifacts, "controls-child-follows-1024x768.png"))

        # The room panel, then CTL4: end the session — the child gets the goodbye page.
        t.page.click('[data-action="room-panel"]')
        t.page.wait_for_selector(".room-panel:not([hidden])")
        t.page.screenshot(path=os.path.join(artifacts, "controls-therapist-panel-1366x768.png"))
        t.page.click('[data-action="end-session"]')
        t.page.click('[data-action="confirm-yes"]')
        c.page.wait_for_selector('body[data-fatal="session_ended"]', timeout=15000)
        c.page.screenshot(path=os.path.join(artifacts, "controls-child-goodbye-1024x768.png"))
        for p in (t, c):
            assert p.console_errors == [], p.console_errors
    finally:
        t.close()
        c.close()


def test_a_guest_who_reads_spanish_gets_the_room_shell_in_spanish_and_the_therapist_english(browser, server):
    """Issue 16: the child picks Spanish on the join link (?lang=es); the waiting room,
    the top bar and the goodbye are Spanish on the child's tablet while the therapist's
    knock strip, toggles and role labels stay English."""
    t = Person(browser, server.url, viewport={"width": 1366, "height": 768})
    c = Person(browser, server.url, viewport={"width": 1024, "height": 768}, has_touch=True)
    try:
        link = therapist_creates_room(t, waiting_room=True)
        t.page.click('[data-action="open-room"]')
        t.wait_connected()

        c.goto(link + ("&" if "?" in link else "?") + "lang=es")
        c.page.click('label.avatar:has(input[value="fox"])')
        c.page.click('[data-action="join"]')
        c.page.wait_for_selector('body[data-screen="waiting"] .guest-screen', timeout=15000)
        assert c.page.get_attribute("html", "lang") == "es"
        assert c.page.inner_text(".guest-card h1") == "Tu terapeuta te dejará entrar muy pronto."
        assert c.page.inner_text('.guest-card [data-action="leave"]').strip() == "Salir"

        t.page.wait_for_selector('.lobby-row [data-action="admit"]', timeout=15000)
        assert "is waiting" in t.page.inner_text(".lobby-row .lobby-text")
        assert t.page.inner_text('.lobby-row [data-action="admit"]') == "Let in"
        t.page.click('.lobby-row [data-action="admit"]')
        c.page.wait_for_selector('body[data-screen=""]', timeout=15000)
        t.page.wait_for_selector('[data-participant][data-online="true"] >> nth=1', timeout=10000)

        # The top bar: each reads their own language.
        assert c.page.get_attribute(".bar .leave", "aria-label") == "Salir de la sala"
        assert c.page.get_attribute(".bar-people", "aria-label") == "Personas en la sala"
        assert c.page.inner_text(".bar .pill").strip() == "Conectado"
        assert c.page.inner_text('.bar-people [data-role="therapist"] .role') == "Terapeuta"
        assert t.page.get_attribute(".bar .leave", "aria-label") == "Leave the room"
        assert t.page.inner_text(".bar .pill").strip() == "Connected"
        assert t.page.inner_text('.bar-toggles [data-setting="freeze"]').strip() == "Pause guests"
        t.page.wait_for_selector('.bar-people [data-role="child"]', timeout=10000)
        assert t.page.inner_text('.bar-people [data-role="child"] .role') == "Child"

        # The goodbye, in Spanish for the child.
        t.page.click('[data-action="room-panel"]')
        t.page.click('[data-action="end-session"]')
        assert t.page.inner_text(".modal-q") == "End the session for everyone?"
        t.page.click('[data-action="confirm-yes"]')
        c.page.wait_for_selector('body[data-fatal="session_ended"]', timeout=15000)
        assert c.page.inner_text(".fatal-card h1") == "La sesión terminó."
        assert c.page.inner_text(".fatal-card p") == "¡Gracias por jugar hoy!"
        assert c.page.inner_text(".fatal-card .big-btn") == "Listo"
        for p in (t, c):
            assert p.console_errors == [], p.console_errors
    finally:
        t.close()
        c.close()
