"""Home practice in the browser (issue 17 part 3, the acceptance test): the therapist
assigns a home pack; a child opens the home link on a phone, goes offline, ticks two
steps and checks in, comes back online; the next session's record lists those steps
and the check-in, each once. Revoking the link ends access at once."""
import os

from tests.e2e.people import Person, therapist_creates_room
from tests.support import wait_for

PHONE = {"width": 390, "height": 844}


def make_home_link(t):
    """From the dashboard: Home practice → a story, the morning checklist, a check-in →
    the home link (shown once)."""
    t.goto("/dashboard")
    t.page.click('[data-action="home-practice"]')
    t.page.check('input[name="story"][value="stories|story:first-visit"]')
    t.page.check('input[name="steps"][value="stories|task:morning"]')
    t.page.check('input[name="checkin"]')
    t.page.click('[data-action="send-home-pack"]')
    link = t.page.input_value('input[data-link="home"]')
    assert "/h/" in link and link.endswith("/")
    return link


def wait_queue(person, n):
    """Polled from here: the page's CSP (kept on: the service worker is registered
    under it) forbids the eval that wait_for_function's polling uses."""
    wait_for(lambda: person.page.evaluate("document.body.dataset.queue") == str(n), timeout=20,
             what=f"{n} actions waiting to be sent")


def test_a_child_practises_offline_at_home_and_the_next_record_lists_it_once(browser, server,
                                                                             artifacts):
    t = Person(browser, server.url, viewport={"width": 1366, "height": 768})
    kid = Person(browser, server.url, viewport=PHONE, has_touch=True, is_mobile=True)
    try:
        therapist_creates_room(t)
        link = make_home_link(t)
        t.page.screenshot(path=os.path.join(artifacts, "home-manage-link-1366x768.png"),
                          full_page=True)

        # The child opens the link on a phone: no account, no live session.
        kid.goto(link)
        kid.page.wait_for_selector('[data-action="open"]')
        # The page is kept for offline use once its service worker controls it.
        wait_for(lambda: kid.page.evaluate("Boolean(navigator.serviceWorker.controller)"),
                 timeout=20, what="the service worker controls the page")
        kid.page.screenshot(path=os.path.join(artifacts, "home-tiles-390x844.png"))

        # Offline from here: the page still opens (from the service worker's copy).
        kid.context.set_offline(True)
        kid.page.reload()
        kid.page.wait_for_selector('[data-action="open"]')
        steps_tile = kid.page.locator('[data-action="open"]').nth(1)
        steps_tile.tap()
        kid.page.locator('[data-action="step"][data-step="0"]').tap()
        kid.page.locator('[data-action="step"][data-step="1"]').tap()
        wait_queue(kid, 2)
        assert kid.page.get_attribute('[data-action="step"][data-step="0"]', "aria-pressed") == "true"
        kid.page.screenshot(path=os.path.join(artifacts, "home-steps-offline-390x844.png"))
        kid.page.locator('[data-action="home"]').first.tap()
        kid.page.locator('[data-action="open"]').nth(2).tap()
        kid.page.locator('[data-action="feel"][data-value="4"]').tap()
        wait_queue(kid, 3)
        kid.page.wait_for_selector('[data-status="queued"], [data-status="offline"]')
        kid.page.screenshot(path=os.path.join(artifacts, "home-checkin-offline-390x844.png"))

        # Back online: everything is sent, once.
        kid.context.set_offline(False)
        kid.page.evaluate("window.dispatchEvent(new Event('online'))")
        wait_queue(kid, 0)
        kid.page.wait_for_selector('[data-status="sent"]', timeout=20000)
        # Reloading online shows what was done (the server's log), nothing queued.
        kid.page.reload()
        kid.page.wait_for_selector('[data-action="open"]')
        wait_queue(kid, 0)

        # The therapist's home page says the family practised.
        t.page.reload()
        assert "2 of 8 steps done" in t.page.inner_text("body")

        # The next session: the therapist opens the room and ends the session; its
        # record lists the two steps and the check-in, each once.
        t.goto("/dashboard")
        t.page.click('[data-action="open-room"]')
        t.wait_connected()
        t.page.click('[data-action="room-panel"]')
        t.page.click('[data-action="end-session"]')
        t.page.click('[data-action="confirm-yes"]')
        rec_link = t.page.wait_for_selector('[data-action="open-record"]', timeout=15000)
        with t.context.expect_page() as opened:
            rec_link.click()
        rec = opened.value
        rec.wait_for_url("**/records/*", timeout=20000)
        body = rec.inner_text("body")
        for line in ("At home: did “Wake up” (Getting ready in the morning, step 1)",
                     "At home: did “Use the toilet” (Getting ready in the morning, step 2)",
                     "At home: checked in — 4 (good)",
                     "Practised at home 1 time since the last session"):
            assert body.count(line) == 1, (line, body)
        rec.screenshot(path=os.path.join(artifacts, "home-in-record-1366x768.png"), full_page=True)

        # Switching the link off ends access at once, with a friendly page.
        t.goto("/dashboard")
        t.page.click('[data-action="home-practice"]')
        t.page.click('[data-action="revoke-home-link"]')
        kid.page.reload()
        kid.page.wait_for_selector("text=This link was switched off")
        kid.page.screenshot(path=os.path.join(artifacts, "home-switched-off-390x844.png"))
        for p in (t, kid):
            assert not [e for e in p.console_errors if "404" not in e and "410" not in e], \
                p.console_errors
        # No request left the server's host.
        host = server.url.split("//")[1]
        assert all(u.split("//")[1].startswith(host) for u in kid.requests
                   if u.startswith("http")), kid.requests
    finally:
        t.close()
        kid.close()
