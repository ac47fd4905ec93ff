"""Stories in two browsers (STORY2, STORY3): the therapist opens a story and turns a page,
the child's tablet shows the same page and turns on; the child ticks a checklist step
and the therapist sees it and records a prompt level; the therapist copies a story
and edits it, and a title with script tags is shown as text. Screenshots at tablet
size go to test-artifacts/."""
import os
import re

import pytest

from activities import stories
from tests.e2e.people import big_enough, open_activity

pytestmark = pytest.mark.browser

TABLET = {"width": 1024, "height": 768}


@pytest.fixture
def pair(session_for):
    """The therapist at a desktop and the child on a tablet, both on the stories."""
    return open_activity(session_for(TABLET), "stories", ".stories")


def on_page(person, story, page):
    person.page.wait_for_selector(f'#story-page[data-story="{story}"][data-page="{page}"]', timeout=10000)


def test_STORY2_reading_together_and_ticking_a_checklist(pair, artifacts):
    t, c = pair
    c.page.wait_for_selector('.stories[data-view="shelf"] .st-wait')
    c.page.screenshot(path=os.path.join(artifacts, "stories-waiting-tablet-1024x768.png"))

    # The therapist opens a story and turns a page; the child's tablet follows.
    t.page.click('.st-card[data-story="worried-school"] [data-action="read"]')
    on_page(c, "worried-school", 0)
    t.page.click('[data-action="next"]')
    on_page(c, "worried-school", 1)
    text = stories.READY["worried-school"]["pages"][1]["text"]
    assert c.page.inner_text('#story-page [data-action="speak"]') == text
    # The child turns on; the therapist sees it.
    c.page.click('[data-action="next"]')
    on_page(t, "worried-school", 2)
    for sel in ('[data-action="next"]', '[data-action="prev"]', '[data-action="speak"]', '[data-action="silent"]'):
        big_enough(c, sel)
    imgs = c.page.locator("#story-page img.st-scene-pic")
    assert imgs.count() == len(stories.READY["worried-school"]["pages"][2]["pics"])
    assert imgs.first.bounding_box()["height"] >= 150
    # Tapping the text with no local voice (headless) is harmless; silent mode toggles.
    c.page.click('[data-action="speak"]')
    c.page.click('[data-action="silent"]')
    c.page.wait_for_selector('[data-action="silent"][aria-pressed="true"]')
    c.page.screenshot(path=os.path.join(artifacts, "stories-page-tablet-1024x768.png"))

    # A checklist: the child ticks a step, the therapist sees it and records a prompt level.
    t.page.click('[data-action="shelf"]')
    t.page.click('.st-card[data-task-card="morning"] [data-action="task"]')
    c.page.wait_for_selector('#task[data-task="morning"]')
    c.page.click('#task [data-step="0"] [data-action="tick"]')
    t.page.wait_for_selector('#task [data-step="0"][data-done="true"]', timeout=10000)
    t.page.click('#task [data-step="0"] [data-level="gestural"]')
    t.page.wait_for_selector('#task [data-step="0"] [data-level="gestural"][aria-pressed="true"]')
    c.page.wait_for_selector('#task [data-step="0"][data-done="true"]')
    assert c.page.locator("[data-level]").count() == 0       # prompt levels are the therapist's
    big_enough(c, '#task [data-step="1"] [data-action="tick"]')
    c.page.screenshot(path=os.path.join(artifacts, "stories-checklist-tablet-1024x768.png"))
    t.page.screenshot(path=os.path.join(artifacts, "stories-checklist-therapist-1366x768.png"))
    assert not t.console_errors and not c.console_errors, (t.console_errors, c.console_errors)


def test_STORY4_therapist_copies_and_edits_a_story_and_text_stays_text(pair, artifacts):
    t, c = pair
    t.page.click('.st-card[data-story="friend"] [data-action="copy"]')
    card = t.page.locator('.st-card[data-mine="true"]')
    card.wait_for()
    card.locator('[data-action="edit"]').click()
    t.page.wait_for_selector(".st-editor")
    title = "<script>window.__pwned = 1</script> <b>Sam</b>"
    t.page.fill('.st-editor [name="title"]', title)
    t.page.press('.st-editor [name="title"]', "Enter")
    t.page.fill('.st-editor [name="text"]', "Sam says hi & waves.")
    t.page.locator('.st-editor [name="title"]').focus()     # blur the text: it is sent
    t.page.fill('.st-editor input[type="search"]', "dragon")
    t.page.click('.st-editor [data-pick="dragon"]')
    t.page.click('.st-editor [data-action="add-page"]')
    sid = t.page.get_attribute("#story-page", "data-story")
    on_page(c, sid, 1)
    c.page.click('[data-action="prev"]')
    on_page(t, sid, 0)
    c.page.wait_for_selector('#story-page img[src$="/dragon.svg"]')
    assert c.page.inner_text(".st-title") == title
    assert c.page.inner_text('#story-page [data-action="speak"]') == "Sam says hi & waves."
    assert c.page.evaluate("window.__pwned") is None
    assert c.page.locator(".st-title b").count() == 0
    t.page.screenshot(path=os.path.join(artifacts, "stories-editor-therapist-1366x768.png"))
    c.page.screenshot(path=os.path.join(artifacts, "stories-edited-tablet-1024x768.png"))
    assert not t.console_errors and not c.console_errors, (t.console_errors, c.console_errors)


def test_STORY4_text_being_typed_survives_a_change_from_elsewhere(pair):
    """The therapist is typing a page's text when a change to the same story arrives
    (here: renamed in a second tab). The editor is rebuilt for the new title, but the
    unsent words, and the focus, stay; leaving the field sends them."""
    t, c = pair
    t.page.click('[data-action="new"]')
    t.page.wait_for_selector(".st-editor")
    sid = t.page.get_attribute("#story-page", "data-story")
    on_page(c, sid, 0)
    t.page.fill('.st-editor [name="text"]', "Half-typed words")
    second = t.context.new_page()
    second.goto(t.page.url)
    second.wait_for_selector('body[data-conn="connected"]', timeout=15000)
    second.click('.tab[data-activity="stories"]')
    second.wait_for_selector(f'#story-page[data-story="{sid}"]')
    second.click('.st-top [data-action="edit"]')
    second.fill('.st-editor [name="title"]', "Renamed elsewhere")
    second.press('.st-editor [name="title"]', "Enter")
    t.page.wait_for_function(
        "() => document.querySelector('.st-editor [name=\"title\"]').value === 'Renamed elsewhere'", timeout=10000)
    assert t.page.input_value('.st-editor [name="text"]') == "Half-typed words"
    assert t.page.evaluate("document.activeElement && document.activeElement.name") == "text"
    t.page.locator('.st-editor [name="title"]').focus()
    c.page.wait_for_function(
        "() => document.querySelector('#story-page [data-action=\"speak\"]').innerText === 'Half-typed words'",
        timeout=10000)
    assert c.page.inner_text(".st-title") == "Renamed elsewhere"
    second.close()
    assert not t.console_errors and not c.console_errors, (t.console_errors, c.console_errors)


def picture_file(tmp_path):
    """A real photo-like JPEG with GPS EXIF, as a therapist's phone would make it."""
    from PIL import Image
    im = Image.new("RGB", (640, 480), (250, 200, 40))
    im.paste((40, 120, 220), (0, 240, 640, 480))
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (52.0, 22.0, 1.5)}
    path = tmp_path / "our-dog.jpg"
    im.save(path, "JPEG", exif=exif)
    return str(path)


def image_loaded(person, selector):
    person.page.wait_for_function(
        "sel => { const i = document.querySelector(sel); return i && i.complete && i.naturalWidth > 0; }",
        arg=selector, timeout=10000)


def test_UPL1_story_with_an_uploaded_picture_read_together_and_a_checklist_tick(pair, artifacts, tmp_path):
    """Acceptance: the therapist makes a story with an uploaded picture; the child turns
    its pages; the child ticks a checklist step; both screens show the same page and tick."""
    t, c = pair
    t.page.click('[data-action="new"]')
    t.page.wait_for_selector(".st-editor")
    sid = t.page.get_attribute("#story-page", "data-story")
    t.page.fill('.st-editor [name="title"]', "Our dog Rex")
    t.page.press('.st-editor [name="title"]', "Enter")
    t.page.fill('.st-editor [name="text"]', "This is Rex. Rex likes walks.")
    t.page.locator('.st-editor [name="title"]').focus()
    t.page.set_input_files('.st-editor input[type="file"][data-action="upload-file"]', picture_file(tmp_path))
    t.page.wait_for_selector(".st-upload-status.ok", timeout=15000)
    t.page.wait_for_selector('.st-editor [data-chosen^="upload:"]')
    t.page.wait_for_selector('.st-editor .st-pick-own[data-pick^="upload:"]')
    t.page.click('.st-editor [data-action="add-page"]')
    t.page.fill('.st-editor [name="text"]', "Rex sleeps in his basket.")
    t.page.locator('.st-editor [name="title"]').focus()
    on_page(c, sid, 1)
    # The child goes back to the first page and sees the uploaded picture.
    c.page.click('[data-action="prev"]')
    on_page(t, sid, 0)
    image_loaded(c, "#story-page img.pic-upload")
    assert c.page.inner_text(".st-title") == "Our dog Rex"
    c.page.screenshot(path=os.path.join(artifacts, "stories-upload-tablet-1024x768.png"))
    t.page.screenshot(path=os.path.join(artifacts, "stories-upload-editor-1366x768.png"))
    c.page.click('[data-action="next"]')
    on_page(t, sid, 1)
    assert c.page.inner_text('#story-page [data-action="speak"]') == "Rex sleeps in his basket."
    # Undo on the therapist's screen takes the last text edit back (UNDO1).
    t.page.click('.st-top [data-action="undo"]')
    t.page.wait_for_function("() => document.querySelector('#story-page [data-action=\"speak\"]').innerText === ''")
    c.page.wait_for_function("() => document.querySelector('#story-page [data-action=\"speak\"]').innerText === ''")
    t.page.click('.st-top [data-action="redo"]')
    c.page.wait_for_function(
        "() => document.querySelector('#story-page [data-action=\"speak\"]').innerText === 'Rex sleeps in his basket.'")
    # A checklist: the child ticks a step; both screens show the tick.
    t.page.click('[data-action="shelf"]')
    t.page.click('.st-card[data-task-card="morning"] [data-action="task"]')
    c.page.wait_for_selector('#task[data-task="morning"]')
    c.page.click('#task [data-step="1"] [data-action="tick"]')
    for p in (t, c):
        p.page.wait_for_selector('#task [data-step="1"][data-done="true"]', timeout=10000)
    # Nobody else's request left the app's own origin.
    for p in (t, c):
        assert all(u.startswith(t.base) or u.startswith("data:") or u.startswith("blob:") for u in p.requests)
    assert not t.console_errors and not c.console_errors, (t.console_errors, c.console_errors)


def test_STORY5_the_pdf_button_downloads_the_story(pair):
    """The shelf's PDF button uses the room's generic download URL (urls.download)."""
    t, c = pair
    with t.page.expect_download(timeout=20000) as info:
        t.page.click('.st-card[data-story="bedtime"] [data-action="pdf"]')
    dl = info.value
    assert f"/rooms/{t.page.url.rsplit('/room/', 1)[1]}/download/stories/bedtime.pdf" in dl.url
    assert dl.suggested_filename.endswith(".pdf")
    with open(dl.path(), "rb") as f:
        data = f.read()
    assert data.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", data)) == len(stories.READY["bedtime"]["pages"])
    assert not t.console_errors, t.console_errors


def test_UPL1_a_deleted_picture_shows_a_calm_stand_in_not_a_broken_image(pair, tmp_path):
    """The therapist deletes an uploaded picture a story still uses: the child's page
    shows the picture set's camera instead of the browser's broken-image sign."""
    t, c = pair
    t.page.click('[data-action="new"]')
    t.page.wait_for_selector(".st-editor")
    sid = t.page.get_attribute("#story-page", "data-story")
    t.page.set_input_files('.st-editor input[type="file"][data-action="upload-file"]', picture_file(tmp_path))
    t.page.wait_for_selector(".st-upload-status.ok", timeout=15000)
    ref = t.page.get_attribute('.st-editor [data-chosen^="upload:"]', "data-chosen")
    on_page(c, sid, 0)
    image_loaded(c, "#story-page img.pic-upload")
    status = t.page.evaluate(
        """async (id) => {
             const list = await (await fetch('/uploads', {headers: {Accept: 'application/json'}})).json();
             const r = await fetch('/uploads/' + id, {method: 'DELETE', headers: {'X-CSRFToken': list.csrf}});
             return r.status;
           }""", ref.split(":", 1)[1])
    assert status == 200
    c.page.reload()
    c.page.wait_for_selector('body[data-conn="connected"]', timeout=15000)
    c.page.click('.tab[data-activity="stories"]')
    on_page(c, sid, 0)
    image_loaded(c, '#story-page img.pic-upload[data-gone="true"]')
    assert c.page.get_attribute('#story-page img[data-gone="true"]', "src").endswith("/pictures/camera.svg")
    assert not c.console_errors or all("404" in e for e in c.console_errors), c.console_errors


# A device with a local English and a local Spanish voice (headless Chromium has none):
# what the reader asks to be said, in which language and with which voice.
FAKE_VOICES = """
(() => {
  const voices = [
    {name: "Local English", lang: "en-US", localService: true, default: true, voiceURI: "en"},
    {name: "Local Spanish", lang: "es-MX", localService: true, default: false, voiceURI: "es"},
    {name: "Cloud Spanish", lang: "es-ES", localService: false, default: false, voiceURI: "es-cloud"},
  ];
  window.__spoken = [];
  class Utterance { constructor(text) { this.text = text; this.lang = ""; this.voice = null; } }
  Object.defineProperty(window, "SpeechSynthesisUtterance", {value: Utterance, configurable: true});
  Object.defineProperty(window, "speechSynthesis", {configurable: true, value: {
    getVoices: () => voices, cancel() {},
    speak: (u) => window.__spoken.push({text: u.text, lang: u.lang, voice: u.voice && u.voice.name}),
  }});
})();
"""


def test_issue16_reading_together_in_two_languages_read_aloud_in_the_readers(browser, server):
    """The therapist reads in English, the child in Spanish: the same story, the same page
    turns; each sees their own language; the child's tap reads the Spanish text with the
    local Spanish voice. An own story carries the language it was written in."""
    from tests.e2e.people import Person, therapist_creates_room

    t = Person(browser, server.url, viewport={"width": 1366, "height": 768})
    c = Person(browser, server.url, viewport=TABLET, has_touch=True, locale="es-MX")
    try:
        c.context.add_init_script(FAKE_VOICES)
        link = therapist_creates_room(t)
        c.goto(link + "?lang=es")
        c.page.click("label.avatar >> nth=0")
        c.page.click('[data-action="join"]')
        c.page.wait_for_url("**/room/**")
        c.wait_connected()
        t.page.click('[data-action="open-room"]')
        t.wait_connected()
        open_activity((t, c), "stories", ".stories")
        assert c.page.inner_text(".st-wait-text") == "Ya casi viene un cuento"
        assert "Ready stories" in t.page.inner_text(".story-shelf")

        t.page.click('.st-card[data-story="turns"] [data-action="read"]')
        on_page(c, "turns", 0)
        t.page.click('[data-action="next"]')
        on_page(c, "turns", 1)
        speak = '#story-page [data-action="speak"]'
        assert t.page.inner_text(speak) == stories.READY["turns"]["pages"][1]["text"]
        assert c.page.inner_text(speak) == "Mientras espero mi turno, el otro niño está jugando. " \
                                           "Esperar se puede sentir largo y difícil."
        assert c.page.inner_text(".st-title") == "Tomar turnos"
        assert c.page.get_attribute(f"{speak} [lang]", "lang") == "es"
        assert c.page.get_attribute('[data-action="next"]', "aria-label") == "Página siguiente"
        c.page.click('[data-action="next"]')
        on_page(t, "turns", 2)
        c.page.click(speak)
        spoken = c.page.evaluate("window.__spoken")
        assert spoken[-1] == {"text": c.page.inner_text(speak), "lang": "es-MX", "voice": "Local Spanish"}

        # The therapist's own story is in English (their language): the child's screen
        # marks it so, and reads it with the English voice.
        t.page.click('[data-action="shelf"]')
        t.page.click('[data-action="new"]')
        t.page.wait_for_selector(".st-editor")
        sid = t.page.get_attribute("#story-page", "data-story")
        t.page.fill('.st-editor [name="text"]', "We go to the park.")
        t.page.locator('.st-editor [name="title"]').focus()
        on_page(c, sid, 0)
        c.page.wait_for_function(
            "() => document.querySelector('#story-page [data-action=\"speak\"]').innerText === 'We go to the park.'",
            timeout=10000)
        assert c.page.get_attribute(f"{speak} [lang]", "lang") == "en"
        c.page.click(speak)
        assert c.page.evaluate("window.__spoken")[-1] == {"text": "We go to the park.", "lang": "en-US",
                                                         "voice": "Local English"}
        # Written in Spanish instead: the language picker of the editor.
        t.page.select_option('.st-editor [name="lang"]', "es")
        c.page.wait_for_selector(f'{speak} [lang="es"]', timeout=10000)
        assert not t.console_errors and not c.console_errors, (t.console_errors, c.console_errors)
    finally:
        t.close()
        c.close()
