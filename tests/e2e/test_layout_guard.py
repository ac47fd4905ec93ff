"""The layout guard itself: it passes a page a person can use and names what a person
cannot reach. Without these, a change to the guard could quietly stop it failing."""
import pytest

from tests.e2e.layout import reach_problems

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport=PHONE, has_touch=True)
    yield ctx.new_page()
    ctx.close()


def rows(n):
    return "".join(f"<tr><td>row {i}</td><td>something happened</td></tr>" for i in range(n))


def test_a_long_scrollable_table_on_a_scrolling_page_is_reachable(page):
    """A long audit table (a focusable region so a keyboard can scroll it sideways)
    is taller than a phone: the page scrolls to it, nothing is out of reach."""
    page.set_content(f"""<!doctype html><main style="font:16px sans-serif;margin:16px">
      <h1>Security log</h1>
      <div tabindex="0" role="region" aria-label="log" style="overflow-x:auto;max-width:100%">
        <table>{rows(80)}</table></div>
      <button style="min-width:48px;min-height:48px">Next</button></main>""")
    assert reach_problems(page, page_scrolls=True) == []


def test_a_region_wider_than_the_phone_is_named(page):
    page.set_content(f"""<!doctype html><main style="margin:16px">
      <div tabindex="0" role="region" aria-label="log" style="width:600px">
        <table>{rows(80)}</table></div></main>""")
    problems = reach_problems(page, page_scrolls=True)
    assert any(p.startswith("outside the 390x844 viewport: div") for p in problems), problems


def test_a_button_off_screen_or_covered_or_small_is_named(page):
    page.set_content("""<!doctype html><div style="position:fixed;inset:0">
      <button id="off" style="position:absolute;left:360px;top:10px;width:60px;height:48px">Off</button>
      <button id="under" style="position:absolute;left:10px;top:100px;width:60px;height:48px">Under</button>
      <div style="position:absolute;left:0;top:90px;width:200px;height:80px;background:#fff"></div>
      <button id="tiny" style="position:absolute;left:10px;top:300px;width:30px;height:30px">t</button>
    </div>""")
    problems = reach_problems(page, min_tap=48)
    assert any("outside the 390x844 viewport: button#off" in p for p in problems), problems
    assert any(p.startswith("covered: button#under") for p in problems), problems
    assert any("smaller than 48 px to tap: button#tiny" in p for p in problems), problems
    # A tall element is only excused on a page that scrolls: the room never does.
    page.set_content(f"""<!doctype html><div tabindex="0" style="height:2000px">{rows(3)}</div>""")
    assert any(p.startswith("outside the 390x844 viewport: div") for p in reach_problems(page)), \
        reach_problems(page)
