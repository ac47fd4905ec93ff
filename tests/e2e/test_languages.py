"""A language per person in one room (issue 16): the therapist reads English on a
laptop, the child Spanish on a tablet and the parent Spanish on a phone. Join,
waiting room, check-in, a ready story read together (each in their own language, the
page turns in sync), the schedule, goodbye. At every step each screen's visible
strings are held against the catalogs: no English message on a guest's screen, no
Spanish one on the therapist's."""
import glob
import os
import re

import pytest
from babel.messages.pofile import read_po

from tests.e2e.people import Person, therapist_creates_room
from tests.support import ROOT

pytestmark = pytest.mark.browser

# Every text a person can see or hear on the page: text nodes of rendered elements
# and the labels read out (aria-label, title, placeholder, alt).
_VISIBLE = """
() => {
  const out = [];
  const seen = (e) => e.checkVisibility({checkOpacity: true, checkVisibilityCSS: true});
  for (const e of document.querySelectorAll('body *')) {
    if (['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE'].includes(e.tagName) || !seen(e)) continue;
    for (const n of e.childNodes) {
      if (n.nodeType === 3 && n.textContent.trim()) out.push(n.textContent.trim());
    }
    for (const a of ['aria-label', 'title', 'placeholder', 'alt']) {
      const v = e.getAttribute(a);
      if (v && v.trim()) out.push(v.trim());
    }
  }
  return out;
}
"""


def _catalog_pairs():
    """(English, Spanish) of every message whose Spanish differs from its English."""
    pairs = []
    for path in glob.glob(os.path.join(ROOT, "**", "translations", "es", "LC_MESSAGES", "*.po"),
                          recursive=True):
        if "/node_modules/" in path or "/.venv/" in path:
            continue
        with open(path, "rb") as f:
            for m in read_po(f, locale="es"):
                if not m.id:
                    continue
                ids = [m.id] if isinstance(m.id, str) else list(m.id)
                strs = [m.string] if isinstance(m.string, str) else list(m.string)
                for en in ids:
                    for es in strs:
                        if es and es != en:
                            pairs.append((en, es))
    return pairs


PAIRS = _catalog_pairs()


def _pattern(message):
    """A message as a regex: its placeholders match anything."""
    parts = re.split(r"(\{\w+\}|%\(\w+\)s)", message)
    return re.compile("".join(".+?" if re.fullmatch(r"\{\w+\}|%\(\w+\)s", p) else re.escape(p)
                              for p in parts), re.S)


# Words that are the same in both languages or are names of people and rooms.
NAMES = {"Dr. Rivera", "Sam, 7", "Sam", "Ana", "Mamá", "Playroom"}
def _has_words(message):
    """Letters outside its placeholders ("{n} {sense}" says nothing by itself)."""
    return re.search(r"[^\W\d_]{2,}", re.sub(r"\{\w+\}|%\(\w+\)s", " ", message)) is not None


ENGLISH = sorted({en for en, _ in PAIRS if _has_words(en) and en not in NAMES})
SPANISH = sorted({es for _, es in PAIRS if _has_words(es) and es not in NAMES})
EN_PATTERNS = [(m, _pattern(m)) for m in ENGLISH]
ES_PATTERNS = [(m, _pattern(m)) for m in SPANISH]


def foreign(person, wrong, right, what):
    """The strings on person's screen that are messages of the other language (and
    not also a message of their own: a word both languages share)."""
    found = []
    for s in dict.fromkeys(person.page.evaluate(_VISIBLE)):
        if s in NAMES:
            continue
        hit = next((m for m, rx in wrong if rx.fullmatch(s)), None)
        if hit and not any(rx.fullmatch(s) for _, rx in right):
            found.append(f"{what}: {s!r} (catalog message {hit!r})")
    return found


def check(t, guests, step, problems):
    problems += [f"[{step}] therapist {p}" for p in foreign(t, ES_PATTERNS, EN_PATTERNS, "Spanish")]
    for g in guests:
        problems += [f"[{step}] {g.who} {p}" for p in foreign(g, EN_PATTERNS, ES_PATTERNS, "English")]


def join(person, link, name):
    person.goto(link)
    person.page.wait_for_selector('html[lang="es"]')
    assert person.page.locator("h1").inner_text() == "¡Hola!"
    person.page.click('label.avatar >> nth=1')
    person.page.fill('input[name="name"]', name)
    person.page.click('[data-action="join"]')
    person.page.wait_for_url("**/room/**")


def test_therapist_in_english_child_and_parent_in_spanish(browser, server, artifacts):
    t = Person(browser, server.url, viewport={"width": 1366, "height": 768}, locale="en-US")
    c = Person(browser, server.url, viewport={"width": 768, "height": 1024}, has_touch=True,
               locale="es-MX")
    p = Person(browser, server.url, viewport={"width": 390, "height": 844}, has_touch=True,
               locale="es-US")
    c.who, p.who = "child", "parent"
    problems = []
    shot = lambda who, step: who.page.screenshot(   # noqa: E731
        path=os.path.join(artifacts, f"languages-{who.who}-{step}.png"))
    t.who = "therapist"
    try:
        child_link = therapist_creates_room(t, waiting_room=True)
        parent_link = t.page.input_value('input[data-link="parent"]')
        t.page.click('[data-action="open-room"]')
        t.wait_connected()
        assert t.page.get_attribute("html", "lang") == "en"

        # Join and the waiting room, in Spanish; the therapist lets both in.
        join(c, child_link, "Ana")
        join(p, parent_link, "Mamá")
        for g in (c, p):
            g.page.wait_for_selector('body[data-screen="waiting"] .guest-screen', timeout=15000)
            assert g.page.get_attribute("html", "lang") == "es"
        check(t, (c, p), "waiting", problems)
        shot(c, "waiting")
        for _ in range(2):
            t.page.click('.lobby-row [data-action="admit"] >> nth=0', timeout=15000)
            t.page.wait_for_timeout(300)
        for g in (c, p):
            g.page.wait_for_selector('body[data-screen=""]', timeout=15000)
            g.wait_connected()
        check(t, (c, p), "room", problems)
        shot(c, "room")
        shot(p, "room")

        # Check-in: the therapist asks, the child answers with a face.
        t.page.click('.tab[data-activity="checkin"]')
        t.page.click('[data-action="ask"][data-moment="start"]')
        c.page.wait_for_selector('#feelings[data-asked="start"]', timeout=10000)
        check(t, (c,), "check-in", problems)
        shot(c, "checkin")
        c.page.click('[data-feeling="4"]')
        t.page.wait_for_selector('[data-checkin][data-value="4"][data-moment="start"]', timeout=10000)

        # A ready story read together: the same page, each in their own language.
        t.page.click('.tab[data-activity="stories"]')
        t.page.click('.st-card[data-story="worried-school"] [data-action="read"]')
        for g in (c, p):
            g.page.click('.tab[data-activity="stories"]') if not g.page.is_visible("#story-page") else None
            g.page.wait_for_selector('#story-page[data-story="worried-school"][data-page="0"]', timeout=10000)
        t.page.click('[data-action="next"]')
        for g in (c, p):
            g.page.wait_for_selector('#story-page[data-story="worried-school"][data-page="1"]', timeout=10000)
        en_text = t.page.inner_text('#story-page [data-action="speak"]')
        es_text = c.page.inner_text('#story-page [data-action="speak"]')
        assert es_text == p.page.inner_text('#story-page [data-action="speak"]')
        assert en_text != es_text and c.page.get_attribute("html", "lang") == "es"
        check(t, (c, p), "story", problems)
        shot(c, "story")
        shot(p, "story")

        # The schedule the therapist starts reaches the guests.
        t.page.click('.tab[data-activity="schedule"]')
        t.page.click('[data-action="example-morning"]')
        t.page.wait_for_selector('.schedule[data-steps="5"]')
        t.page.click('[data-action="reset"]')
        c.page.wait_for_selector('.schedule[data-steps="5"]', timeout=10000)
        check(t, (c,), "schedule", problems)
        shot(c, "schedule")

        # Goodbye.
        t.page.click('[data-action="room-panel"]')
        t.page.wait_for_selector(".room-panel:not([hidden])")
        check(t, (), "room panel", problems)
        t.page.click('[data-action="end-session"]')
        t.page.click('[data-action="confirm-yes"]')
        for g in (c, p):
            g.page.wait_for_selector('body[data-fatal="session_ended"]', timeout=15000)
        check(t, (c, p), "goodbye", problems)
        shot(c, "goodbye")
        assert problems == [], "\n".join(problems)
        for who in (t, c, p):
            assert who.console_errors == [], who.console_errors
    finally:
        for who in (t, c, p):
            who.close()
