"""The visual schedule in two browsers (SCHED1): the therapist builds a first–then
board, the child taps one step and drags the next onto "All done" on a touch tablet
and the therapist sees both; a step's timer runs as a shrinking disc on both screens;
at the end the child picks a prize. Screenshots (desktop and 1024×768 tablet) go to
test-artifacts/."""
import os

import pytest

from tests.e2e.people import big_enough, open_activity

pytestmark = pytest.mark.browser

TABLET = {"width": 1024, "height": 768}


@pytest.fixture
def pair(session_for):
    """The therapist at a desktop and the child on a tablet, both on the schedule."""
    return open_activity(session_for(TABLET), "schedule", ".schedule")


def done_ids(person):
    return person.page.eval_on_selector_all("#sc-done .sc-done-item", "els => els.map(e => e.dataset.step)")


def test_SCHED1_first_then_board_tap_drag_timer_and_prize(pair, artifacts):
    t, c = pair
    c.page.wait_for_selector(".sc-empty")
    t.page.click('[data-action="example-morning"]')
    c.page.wait_for_selector('.schedule[data-steps="5"] .sc-step[data-slot="first"]')
    first = c.page.get_attribute('.sc-step[data-slot="first"]', "data-step")
    then = c.page.get_attribute('.sc-step[data-slot="then"]', "data-step")
    big_enough(c, '.sc-step[data-slot="first"]', px=200)
    c.page.screenshot(path=os.path.join(artifacts, "schedule-first-then-tablet-1024x768.png"))

    # The child taps "First": it moves to "All done" on both screens.
    c.page.tap(f'.sc-step[data-step="{first}"]')
    t.page.wait_for_selector(f'#sc-done .sc-done-item[data-step="{first}"]', timeout=10000)
    c.page.wait_for_selector(f'.sc-step[data-slot="first"][data-step="{then}"]')

    # The child drags the next step onto "All done".
    card = c.page.locator(f'.sc-step[data-step="{then}"]').bounding_box()
    zone = c.page.locator("#sc-done").bounding_box()
    m = c.page.mouse
    m.move(card["x"] + card["width"] / 2, card["y"] + card["height"] / 2)
    m.down()
    for k in range(1, 11):
        m.move(card["x"] + card["width"] / 2 + (zone["x"] + 80 - card["x"] - card["width"] / 2) * k / 10,
               card["y"] + card["height"] / 2 + (zone["y"] + zone["height"] / 2 - card["y"] - card["height"] / 2) * k / 10)
    m.up()
    t.page.wait_for_selector(f'#sc-done .sc-done-item[data-step="{then}"]', timeout=10000)
    assert done_ids(t) == done_ids(c) == [first, then]

    # The third step has a timer: the child starts it; both screens show it running.
    c.page.wait_for_selector('.sc-first [data-action="timer"]')
    big_enough(c, '.sc-first [data-action="timer"]')
    c.page.click('.sc-first [data-action="timer"]')
    for p in (t, c):
        p.page.wait_for_function(
            "() => { const b = document.querySelector('.sc-timer[data-running=\"true\"]');"
            " return b && Number(b.dataset.left) > 0 && Number(b.dataset.left) <= 120; }", timeout=10000)
        assert p.page.locator(".sc-timer[data-running='true'] .sc-disc-left").count() == 1
    c.page.screenshot(path=os.path.join(artifacts, "schedule-timer-tablet-1024x768.png"))
    t.page.screenshot(path=os.path.join(artifacts, "schedule-therapist-1366x768.png"))

    # The therapist offers two prizes and switches to the list; the child finishes.
    t.page.click('.sc-editor [data-offer="kite"]')
    t.page.click('.sc-editor [data-offer="teddy"]')
    t.page.click('[data-action="layout-list"]')
    c.page.wait_for_selector('.schedule[data-layout="list"]')
    c.page.screenshot(path=os.path.join(artifacts, "schedule-list-tablet-1024x768.png"))
    while c.page.locator(".sc-list .sc-step").count():
        n = len(done_ids(c))
        c.page.tap(".sc-list .sc-step >> nth=0")
        c.page.wait_for_function("n => document.querySelectorAll('#sc-done .sc-done-item').length > n", arg=n)
    c.page.wait_for_selector('.schedule[data-all-done="true"] .sc-reward[data-reward="teddy"]')
    big_enough(c, '.sc-reward[data-reward="teddy"]', px=120)
    c.page.tap('.sc-reward[data-reward="teddy"]')
    t.page.wait_for_selector('.sc-reward[data-reward="teddy"][aria-pressed="true"]', timeout=10000)
    c.page.wait_for_selector('.sc-reward[data-reward="teddy"][aria-pressed="true"]')
    c.page.screenshot(path=os.path.join(artifacts, "schedule-prize-tablet-1024x768.png"))
    # The child's undo takes back only their own last op (the prize).
    c.page.click('[data-action="undo"]')
    t.page.wait_for_selector('.sc-reward[data-reward="teddy"][aria-pressed="false"]', timeout=10000)
    assert not t.console_errors and not c.console_errors, (t.console_errors, c.console_errors)


def test_SCHED2_words_being_typed_survive_the_child_ticking_a_step(pair):
    """The therapist is rewording a step while the child taps another one done: the
    editor is rebuilt for the tick, but the unsent words and the focus stay."""
    t, c = pair
    t.page.click('[data-action="example-morning"]')
    t.page.click('[data-action="layout-list"]')
    c.page.wait_for_selector('.schedule[data-steps="5"][data-layout="list"] .sc-list .sc-step')
    first = c.page.get_attribute(".sc-list .sc-step >> nth=0", "data-step")
    last = t.page.locator(".sc-edit-row").last.get_attribute("data-row")
    field = f'.sc-edit-row[data-row="{last}"] [name="text"]'
    t.page.fill(field, "Shoes on, then out")
    c.page.tap(f'.sc-list .sc-step[data-step="{first}"]')
    t.page.wait_for_selector(f'.sc-edit-row.done[data-row="{first}"]', timeout=10000)
    assert t.page.input_value(field) == "Shoes on, then out"
    assert t.page.evaluate("document.activeElement && document.activeElement.dataset.draft") == f"step:{last}"
    t.page.keyboard.press("Tab")                      # leaving the field sends the words
    c.page.wait_for_function(
        "id => [...document.querySelectorAll('.sc-list .sc-step')].some(e => e.dataset.step === id"
        " && e.textContent.includes('Shoes on, then out'))", arg=last, timeout=10000)
    assert not t.console_errors and not c.console_errors, (t.console_errors, c.console_errors)


def test_the_editor_offers_timers_from_ten_seconds(pair):
    """The protocol takes a step timer from 10 s; the editor offered one minute at least
    (issue 14). The therapist gives the first step a 10 s timer; the child sees it."""
    t, c = pair
    t.page.click('[data-action="example-morning"]')
    c.page.wait_for_selector('.schedule[data-steps="5"]')
    select = t.page.locator('.sc-editor select[name="secs"]').first
    values = select.evaluate("s => [...s.options].map(o => Number(o.value))")
    assert values[:4] == [0, 10, 20, 30] and min(v for v in values if v) == 10
    select.select_option("10")
    c.page.wait_for_selector('.sc-first [data-action="timer"]:has-text("10 s")')
