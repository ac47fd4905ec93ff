"""Social stories and task analysis: the ready library (sentence-type rule), the pure
reducer and its inverses, strict validation and state checks, who may do what, the
pipeline (stamps, refusals, undo, replay after a restart) and the PDF for home."""
import copy
import json
import re

import pytest

from activities.registry import build_registry

from activities import stories

from activities.stories import library as story_library
from activities.contract import Rejected
from rooms.assets import pictures
from rooms.core.engine import Engine
from activities.contract.protocol import (CHILD, E_CONFLICT, E_FORBIDDEN, E_FULL, E_INVALID, E_NO_PAGE,
                            E_NOTHING, PARENT, THERAPIST)
from tests.pdftools import colourful_pixels, pdf_page_png, pdf_text, pdf_words
from tests.unit.core.test_engine import Broadcasts
from activities.contract.i18n import ENGLISH, Catalogs
from rooms.web import i18n

T0 = 1_700_000_000.0


def run(state, *ops):
    for t, d in ops:
        state, _ = stories.apply(state, t, d, by="th")
    return state


def valid(t, d):
    out = stories.validate(t, d)
    assert not isinstance(out, Rejected), out
    return out


def own(state=None, sid="r1", src="angry"):
    return run(state or stories.initial_state(), ("story.copy", {"id": sid, "from": src}))


# ====================================================================== library (STORY1)

TOPICS = ["first-visit", "angry", "worried-school", "doctor", "bedtime", "friend", "turns",
          "calm-body"]


def test_STORY1_the_library_has_the_eight_stories_under_ten_pages():
    assert len(stories.READY) >= 8
    assert set(TOPICS) <= set(stories.READY)
    for s in stories.READY.values():
        assert 3 <= len(s["pages"]) < 10, s["id"]


@pytest.mark.parametrize("sid", story_library.STORY_ORDER)
def test_STORY1_descriptive_and_perspective_outnumber_directive_two_to_one(sid):
    kinds = [k for _, k, _ in story_library.sentences(sid)]
    assert set(kinds) <= {story_library.D, story_library.P, story_library.C, story_library.A}
    d_p = kinds.count(story_library.D) + kinds.count(story_library.P)
    directive = kinds.count(story_library.C)
    assert directive >= 1, "a social story coaches gently at least once"
    assert d_p >= 2 * directive, (sid, d_p, directive)


@pytest.mark.parametrize("sid", story_library.STORY_ORDER)
def test_STORY1_ready_pages_are_valid_pages(sid):
    for page in stories.READY[sid]["pages"]:
        assert stories.validate("page.add", {"id": "x", "page": 0, **page}) == \
            {"id": "x", "page": 0, **page}
        assert all(p in pictures.CATALOG for p in page["pics"])


def test_STORY1_directive_sentences_are_worded_positively():
    for sid in story_library.STORY_ORDER:
        for _, kind, s in story_library.sentences(sid):
            if kind == story_library.C:
                assert not re.search(r"\b(don't|do not|never|must|stop)\b", s, re.I), s


# Twemoji files of pictures that show the action (issue 14: a child who cannot read
# saw a smile for "Brush teeth", a mirror for "Get dressed", a drop for washing).
SHOWS_THE_ACTION = {"Brush teeth": "1faa5", "Get dressed": "1f455", "Wash hands and face": "1f9fc",
                    "Add soap": "1f9fc", "Put on shoes": "1f45f", "Turn on the water": "1f6b0"}


def test_STORY3_checklist_steps_show_their_action_in_the_picture():
    steps = [st for task in story_library.tasks().values() for st in task["steps"]]
    seen = {st["text"] for st in steps if st["text"] in SHOWS_THE_ACTION}
    assert seen == set(SHOWS_THE_ACTION)
    for st in steps:
        if st["text"] in SHOWS_THE_ACTION:
            assert pictures.CATALOG[st["pic"]][0] == SHOWS_THE_ACTION[st["text"]], st


def test_STORY3_task_lists_use_pictures_from_the_set():
    assert "morning" in stories.TASKS
    for t in stories.TASKS.values():
        assert 3 <= len(t["steps"]) <= 12
        assert all(step["pic"] in pictures.CATALOG and step["text"] for step in t["steps"])


def test_client_config_is_json_with_the_library():
    cfg = stories.client_config()
    json.dumps(cfg, allow_nan=False)
    assert cfg["ready_order"] == story_library.STORY_ORDER
    assert "task.prompt" in cfg["ops"] and "story.put" not in cfg["ops"]


# ====================================================================== reducer + inverses

def edits():
    """(t, d) edits that all apply to own() (story r1, a copy of "angry", 6 pages)."""
    return [
        ("story.title", {"id": "r1", "title": "When Sam feels angry"}),
        ("page.text", {"id": "r1", "page": 2, "text": "I breathe like a dragon."}),
        ("page.pics", {"id": "r1", "page": 0, "pics": ["dragon", "fire"]}),
        ("page.add", {"id": "r1", "page": 6, "pics": ["star"], "text": "The end."}),
        ("page.add", {"id": "r1", "page": 0, "pics": ["book"], "text": ""}),
        ("page.remove", {"id": "r1", "page": 3}),
        ("page.move", {"id": "r1", "from": 0, "to": 5}),
        ("story.delete", {"id": "r1"}),
        ("story.copy", {"id": "r2", "from": "r1"}),
        ("story.create", {"id": "r3", "title": "My new story"}),
        ("task.tick", {"task": "morning", "step": 2, "done": True}),
        ("task.prompt", {"task": "morning", "step": 2, "level": "verbal"}),
        ("open", {"story": "r1", "page": 5}),
        ("story.lang", {"id": "r1", "lang": "es"}),
        ("story.copy", {"id": "r4", "from": "bedtime", "lang": "es"}),
    ]


@pytest.mark.parametrize("t,d", edits(), ids=[t for t, _ in edits()])
def test_UNDO1_every_op_has_an_inverse_that_restores_the_state(t, d):
    before = own()
    frozen = copy.deepcopy(before)
    after, inverse = stories.apply(before, t, d)
    assert before == frozen, "apply must not mutate its input"
    assert after != before and inverse is not None
    restored, redo = stories.apply(after, *inverse)
    assert restored == before
    assert stories.apply(restored, *redo)[0] == after


def test_copy_makes_an_independent_room_story():
    s = own()
    assert s["stories"]["r1"]["title"] == stories.READY["angry"]["title"]
    s = run(s, ("page.text", {"id": "r1", "page": 0, "text": "changed"}))
    assert stories.READY["angry"]["pages"][0]["text"] != "changed"
    assert stories.story(s, "angry")["pages"][0]["text"] != "changed"


def test_reading_opens_turns_and_closes():
    s = run(stories.initial_state(), ("open", {"story": "bedtime", "page": 0}),
            ("page", {"page": 3}))
    assert (s["view"], s["open"]) == ("story", {"story": "bedtime", "page": 3})
    s = run(s, ("task.open", {"task": "morning"}))
    assert s["view"] == "task" and s["open"]["page"] == 3
    assert run(s, ("close", {}))["view"] == "shelf"


def test_removing_pages_of_the_open_story_keeps_the_page_in_range():
    s = run(own(), ("open", {"story": "r1", "page": 5}), ("page.remove", {"id": "r1", "page": 5}))
    assert s["open"] == {"story": "r1", "page": 4}
    s = run(s, ("story.delete", {"id": "r1"}))
    assert s["view"] == "shelf" and s["open"]["story"] is None


def test_stale_ops_are_no_ops():
    s = own()
    for t, d in [("page.text", {"id": "gone", "page": 0, "text": "x"}),
                 ("page.remove", {"id": "r1", "page": 9}),
                 ("page.move", {"id": "r1", "from": 9, "to": 0}),
                 ("story.delete", {"id": "gone"}),
                 ("task.tick", {"task": "morning", "step": 0, "done": False})]:
        assert stories.apply(s, t, d) == (s, None)


def test_task_reset_is_undone_by_restore():
    s = run(stories.initial_state(), ("task.tick", {"task": "morning", "step": 0, "done": True}),
            ("task.prompt", {"task": "morning", "step": 0, "level": "model"}))
    reset, inverse = stories.apply(s, "task.reset", {"task": "morning"})
    assert reset["progress"]["morning"]["done"] == [False] * len(stories.TASKS["morning"]["steps"])
    assert stories.apply(reset, *inverse)[0] == s


# ====================================================================== validation (bad input)

@pytest.mark.parametrize("t,d", [
    ("story.title", {"id": "r1", "title": "x" * (stories.TITLE_CHARS + 1)}),
    ("story.title", {"id": "r1", "title": "   "}),
    ("story.title", {"id": "r1", "title": "two\nlines"}),
    ("page.text", {"id": "r1", "page": 0, "text": "x" * (stories.TEXT_CHARS + 1)}),
    ("page.text", {"id": "r1", "page": 0, "text": "bell\x07"}),
    ("page.text", {"id": "r1", "page": stories.MAX_PAGES, "text": "x"}),
    ("page.text", {"id": "r1", "page": -1, "text": "x"}),
    ("page.pics", {"id": "r1", "page": 0, "pics": ["no-such-picture"]}),
    ("page.pics", {"id": "r1", "page": 0, "pics": []}),
    ("page.pics", {"id": "r1", "page": 0, "pics": ["cat", "dog", "fox", "owl"]}),
    ("page.pics", {"id": "r1", "page": 0, "pics": "cat"}),
    ("page.add", {"id": "r1", "page": 0, "pics": ["cat"]}),
    ("story.copy", {"id": "../x", "from": "angry"}),
    ("open", {"story": "angry", "page": True}),
    ("page", {"page": 1.5}),
    ("task.tick", {"task": "morning", "step": 0, "done": 1}),
    ("task.tick", {"task": "nosuch", "step": 0, "done": True}),
    ("task.prompt", {"task": "morning", "step": 0, "level": "shouting"}),
    ("task.prompt", {"task": "morning", "step": 0, "level": "verbal", "at": 1}),
    ("close", {"extra": 1}),
    ("story.delete", None),
])
def test_bad_payloads_are_rejected_never_clamped(t, d):
    out = stories.validate(t, d)
    assert isinstance(out, Rejected) and out.code == E_INVALID, out


def test_script_tags_in_a_title_are_stored_as_text():
    title = "<script>alert(1)</script>"
    s = run(own(), ("story.title", valid("story.title", {"id": "r1", "title": title})))
    assert s["stories"]["r1"]["title"] == title


@pytest.mark.parametrize("t,d,code", [
    ("open", {"story": "nosuch", "page": 0}, E_INVALID),
    ("open", {"story": "angry", "page": 6}, E_NO_PAGE),
    ("page", {"page": 1}, E_NOTHING),                              # nothing open
    ("page.text", {"id": "angry", "page": 0, "text": "x"}, E_INVALID),   # ready: copy first
    ("page.text", {"id": "r1", "page": 6, "text": "x"}, E_NO_PAGE),
    ("page.pics", {"id": "r1", "page": 6, "pics": ["cat"]}, E_NO_PAGE),
    ("page.add", {"id": "r1", "page": 7, "pics": ["cat"], "text": ""}, E_NO_PAGE),
    ("page.remove", {"id": "r1", "page": 6}, E_NO_PAGE),
    ("page.move", {"id": "r1", "from": 0, "to": 6}, E_NO_PAGE),
    ("story.copy", {"id": "r1", "from": "angry"}, E_CONFLICT),
    ("story.copy", {"id": "bedtime", "from": "angry"}, E_CONFLICT),
    ("story.copy", {"id": "r9", "from": "nosuch"}, E_INVALID),
    ("story.delete", {"id": "angry"}, E_INVALID),
    ("task.tick", {"task": "morning", "step": 8, "done": True}, E_NO_PAGE),
    ("task.prompt", {"task": "handwashing", "step": 7, "level": None}, E_NO_PAGE),
])
def test_state_checks_refuse_with_a_reason(t, d, code):
    out = stories.check(own(), t, valid(t, d))
    assert isinstance(out, Rejected) and out.code == code, out


def test_too_many_pages_and_stories_are_refused():
    s = own()
    for i in range(stories.MAX_PAGES - len(s["stories"]["r1"]["pages"])):
        s = run(s, ("page.add", {"id": "r1", "page": 0, "pics": ["cat"], "text": str(i)}))
    assert len(s["stories"]["r1"]["pages"]) == stories.MAX_PAGES
    out = stories.check(s, "page.add", {"id": "r1", "page": 0, "pics": ["cat"], "text": ""})
    assert out.code == E_FULL
    for i in range(stories.MAX_STORIES - 1):
        s = run(s, ("story.create", {"id": f"n{i}", "title": "t"}))
    assert stories.check(s, "story.create", {"id": "one-more", "title": "t"}).code == E_FULL
    one = run(own(), ("story.create", {"id": "solo", "title": "t"}))
    assert stories.check(one, "page.remove", {"id": "solo", "page": 0}).code == E_INVALID


# ====================================================================== who may do what (STORY2)

ON = {"child_may_draw": True, "parent_may_play": True}
OFF = {"child_may_draw": False, "parent_may_play": False}
ALL = [t for t, s in stories.OPS.items() if s.client] + ["history"]


@pytest.mark.parametrize("role,settings,allowed", [
    (THERAPIST, OFF, set(ALL)),
    (CHILD, ON, {"page", "task.tick", "history"}),
    (PARENT, ON, {"page", "task.tick", "history"}),
    (CHILD, OFF, set()),
    (PARENT, OFF, set()),
], ids=["therapist", "child-may", "parent-may", "child-not", "parent-not"])
def test_STORY2_who_may_do_what(role, settings, allowed):
    for t in ALL:
        assert stories.may(role, t, settings) is (t in allowed), t


# ====================================================================== the pipeline

@pytest.fixture
def people(storage, room_id):
    th = storage.get_room(room_id)["therapist_id"]
    out = {THERAPIST: {"id": f"th-{th}", "role": THERAPIST}}
    for role, name in ((CHILD, "Sam"), (PARENT, "Mum")):
        p = storage.create_participant(room_id, role, name, "fox")
        out[role] = {"id": p["id"], "role": role}
    return out


@pytest.fixture
def engine(storage):
    return Engine(storage, build_registry(), Broadcasts(), clock=lambda: T0)


def send(engine, room_id, who, t, d, op_id=None):
    return engine.submit(room_id, who, {"op_id": op_id or f"o{t}{json.dumps(d)}{who['id']}"[:64],
                                        "a": "stories", "t": t, "d": d})


def st(engine, room_id):
    return engine.state(room_id, "stories")[1]


def test_STORY2_guests_turn_pages_but_never_edit_or_record_prompts(engine, room_id, people):
    th, child, parent = people[THERAPIST], people[CHILD], people[PARENT]
    assert send(engine, room_id, th, "open", {"story": "doctor"})["ok"]
    assert send(engine, room_id, child, "page", {"page": 1})["ok"]
    assert send(engine, room_id, parent, "page", {"page": 2})["code"] == E_FORBIDDEN
    assert st(engine, room_id)["open"]["page"] == 1
    before = copy.deepcopy(st(engine, room_id))
    for who in (child, parent):
        assert send(engine, room_id, who, "story.copy", {"id": "g1", "from": "doctor"})["code"] == E_FORBIDDEN
        assert send(engine, room_id, who, "task.prompt",
                    {"task": "morning", "step": 0, "level": "verbal"})["code"] == E_FORBIDDEN
        assert send(engine, room_id, who, "open", {"story": "bedtime"})["code"] == E_FORBIDDEN
    assert st(engine, room_id) == before


def test_STORY3_ticks_and_prompt_levels_are_stamped_and_undoable(engine, room_id, people, storage):
    th, child = people[THERAPIST], people[CHILD]
    assert send(engine, room_id, child, "task.tick", {"task": "morning", "step": 0, "done": True})["ok"]
    assert send(engine, room_id, th, "task.prompt",
                {"task": "morning", "step": 0, "level": "gestural"})["ok"]
    ops = [o for o in storage.ops_since(room_id, 0) if o["a"] == "stories"]
    assert [o["d"]["at"] for o in ops] == [T0, T0]
    p = st(engine, room_id)["progress"]["morning"]
    assert p["done"][0] is True and p["prompts"][0] == "gestural"
    ack = engine.history(room_id, child, {"op_id": "u1", "a": "stories", "action": "undo"})
    assert ack["ok"], ack
    assert st(engine, room_id)["progress"]["morning"]["done"][0] is False


def test_DUR1_stories_and_task_data_survive_a_restart(storage, room_id, people):
    e1 = Engine(storage, build_registry(), Broadcasts(), clock=lambda: T0)
    th, child = people[THERAPIST], people[CHILD]
    assert send(e1, room_id, th, "story.copy", {"id": "mine", "from": "friend"})["ok"]
    assert send(e1, room_id, th, "page.text", {"id": "mine", "page": 0, "text": "Hi!"})["ok"]
    assert send(e1, room_id, child, "task.tick", {"task": "handwashing", "step": 3, "done": True})["ok"]
    assert send(e1, room_id, th, "task.prompt", {"task": "handwashing", "step": 3, "level": "model"})["ok"]
    e2 = Engine(storage, build_registry(), Broadcasts(), clock=lambda: T0 + 999)
    assert st(e2, room_id) == st(e1, room_id)
    assert st(e2, room_id)["progress"]["handwashing"]["prompts"][3] == "model"


# ====================================================================== PDF (STORY5)

def pdf_pages(data):
    assert data.startswith(b"%PDF")
    return len(re.findall(rb"/Type\s*/Page\b(?!s)", data))


def test_STORY5_pdf_has_one_page_per_story_page():
    for sid in ("angry", "first-visit"):
        assert pdf_pages(stories.pdf(stories.initial_state(), sid, pictures_root())) == \
            len(stories.READY[sid]["pages"])


def pictures_root():
    from tests.support import ASSETS
    return ASSETS


def own_story(title, texts, pics=("owl",)):
    state = stories.initial_state()
    state["stories"]["mine"] = {"id": "mine", "title": title, "from": None,
                                "pages": [{"pics": list(pics), "text": t} for t in texts]}
    return state


def test_STORY5_pdf_text_layer_has_the_story():
    """pdftotext gets the title and every page's text (a screen reader reads it)."""
    data = stories.pdf(stories.initial_state(), "angry", pictures_root())
    text = " ".join(pdf_text(data).split())
    assert stories.READY["angry"]["title"] in text
    for page in stories.READY["angry"]["pages"]:
        assert " ".join(page["text"].split()) in text


def test_STORY5_pdf_has_language_title_and_alt_text_for_every_picture():
    """A screen reader knows the language, the title, and what each picture shows."""
    data = stories.pdf(stories.initial_state(), "angry", pictures_root())
    assert b"/Lang (en)" in data
    assert f"/Title ({stories.READY['angry']['title']})".encode() in data
    for page in stories.READY["angry"]["pages"]:
        for p in page["pics"]:
            label = pictures.CATALOG[p][1].replace("(", "\\(").replace(")", "\\)")   # PDF escapes
            assert f"/Alt ({label})".encode() in data, p


def test_STORY5_pdf_page_shows_the_picture():
    data = stories.pdf(stories.initial_state(), "bedtime", pictures_root())
    img = pdf_page_png(data)
    assert img.getpixel((3, 3)) == (255, 255, 255)
    w, h = img.size
    assert colourful_pixels(img, (w // 6, h // 8, w - w // 6, h // 2)) > 200


def test_STORY5_pdf_emoji_in_the_title_is_its_picture():
    """DejaVu has no emoji: the owl in the title is Twemoji's owl, drawn in the title
    line (coloured pixels where the text alone is black)."""
    data = stories.pdf(own_story("\U0001F989 Owl night", ["Hoo."], pics=["star"]), "mine",
                       pictures_root())
    img = pdf_page_png(data, dpi=60)
    title_band = (0, 0, img.width // 3, img.height // 10)
    assert colourful_pixels(img, title_band) > 20
    assert "Owl night" in pdf_text(data)


def test_STORY5_pdf_a_100_letter_word_wraps_inside_the_page():
    word = "b" * 100
    data = stories.pdf(own_story("Long", [f"A {word} word"]), "mine", pictures_root())
    words = pdf_words(data)
    assert all(x1 <= width for _, _, x1, width in words)
    assert "".join(w for w, *_ in words if set(w.rstrip("-")) == {"b"}).replace("-", "") == word


def pdf_url(room_id, sid, fmt="pdf", activity="stories"):
    """The generic download route of rooms/web/pages.py (activities' `download`)."""
    return f"/rooms/{room_id}/download/{activity}/{sid}.{fmt}"


def test_STORY5_pdf_route_for_the_owner_only(therapist, make_therapist, room, pr, client):
    th = therapist.participant
    assert pr.engine.submit(room.id, th, {"op_id": "c1", "a": "stories", "t": "story.copy",
                                          "d": {"id": "home", "from": "turns"}})["ok"]
    assert pr.engine.submit(room.id, th, {"op_id": "c2", "a": "stories", "t": "page.remove",
                                          "d": {"id": "home", "page": 0}})["ok"]
    r = therapist.get(pdf_url(room.id, "home"))
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert "attachment" in r.headers["Content-Disposition"]
    title = stories.READY["turns"]["title"]
    safe = "".join(c for c in title if c.isalnum() or c in " -_").strip()
    assert f'{safe}.pdf' in r.headers["Content-Disposition"]
    assert pdf_pages(r.data) == len(stories.READY["turns"]["pages"]) - 1
    assert therapist.get(pdf_url(room.id, "nosuch")).status_code == 404
    other = make_therapist()
    assert other.get(pdf_url(room.id, "home")).status_code == 404
    assert other.get(pdf_url(room.id, "angry")).status_code == 404
    anon = client.get(pdf_url(room.id, "home"))
    assert anon.status_code in (302, 401) and "login" in anon.headers.get("Location", "login")
    # The old activity-specific route is gone.
    assert therapist.get(f"/rooms/{room.id}/stories/home.pdf").status_code == 404


def test_STORY5_guests_cannot_fetch_the_pdf(room, make_guest):
    for role in ("child", "parent"):
        guest = make_guest(room.links[role])
        r = guest.get(pdf_url(room.id, "angry"), follow_redirects=False)
        assert r.status_code in (302, 401, 404)
        assert not r.data.startswith(b"%PDF")


def test_download_route_404s_for_unknown_activity_key_format_and_room(therapist, room):
    assert therapist.get(pdf_url(room.id, "angry")).status_code == 200
    for url in (pdf_url(room.id, "angry", activity="nosuch"),    # no such activity
                pdf_url(room.id, "nosuch"),                       # no such story
                pdf_url(room.id, "angry", fmt="png"),             # a format it does not make
                pdf_url(room.id, "angry", fmt="exe"),
                pdf_url("nosuch-room", "angry")):                 # no such room
        assert therapist.get(url).status_code == 404, url


def test_download_route_404s_for_an_activity_without_download(therapist, room, pr):
    without = [n for n in pr.registry.names() if not hasattr(pr.registry.get(n), "download")]
    assert "canvas" in without
    for name in without:
        assert therapist.get(pdf_url(room.id, "current", activity=name)).status_code == 404
        assert therapist.get(pdf_url(room.id, "current", fmt="png", activity=name)).status_code == 404


def test_download_is_the_activity_interface():
    from activities.contract import DownloadContext
    data, mime, name = stories.download(stories.initial_state(), "angry", "pdf",
                                        DownloadContext(pictures_root()))
    assert mime == "application/pdf" and name.endswith(".pdf")
    assert pdf_pages(data) == len(stories.READY["angry"]["pages"])
    for key, fmt in (("nosuch", "pdf"), ("angry", "png"), ("angry", "PDF")):
        with pytest.raises(KeyError):
            stories.download(stories.initial_state(), key, fmt, DownloadContext(pictures_root()))


def test_room_page_gives_the_download_url_template_to_the_therapist_only(therapist, room, make_guest):
    def urls(client):
        return client.get(f"/room/{room.id}").get_data(as_text=True)
    assert f"/rooms/{room.id}/download/{{activity}}/{{key}}.{{fmt}}" in urls(therapist)
    guest = make_guest(room.links["child"])
    assert "/download/" not in urls(guest)


def test_practice_tasks_are_the_checklists_and_the_levels_the_validator_accepts():
    """The trend charts name a step and order its levels from practice_tasks(): every
    checklist with all its steps, and exactly the levels a `task.prompt` may set, from
    independent to the most help."""
    practice = stories.practice_tasks()
    assert list(practice["tasks"]) == story_library.TASK_ORDER
    for tid, task in practice["tasks"].items():
        assert task["steps"] == [s["text"] for s in stories.TASKS[tid]["steps"]]
        last = len(task["steps"]) - 1
        for level in practice["levels"]:
            assert not isinstance(stories.validate("task.prompt", {"task": tid, "step": last, "level": level}),
                                  Rejected)
    assert practice["levels"][0] == "independent" and practice["levels"][-1] == "physical"
    assert set(practice["levels"]) == set(stories.PROMPT_LEVELS)


# ====================================================================== languages (issue 16)

ES = Catalogs([(folder, domain) for domain, folder, _ in i18n.domains()]).translator("es")


def test_ready_stories_in_spanish_have_the_same_pages_pictures_and_sentence_types():
    """People reading together in English and Spanish turn the same pages: every ready
    story has the same ids, page count and pictures in Spanish, and every sentence
    (and so its type) is written in Spanish."""
    es, en = story_library.stories(ES), story_library.stories()
    assert list(es) == list(en)
    for sid, s in es.items():
        assert s["title"] != en[sid]["title"], sid
        assert [p["pics"] for p in s["pages"]] == [p["pics"] for p in en[sid]["pages"]]
        for i, kind, sentence in story_library.sentences(sid):
            spanish = ES.gettext(sentence)
            assert spanish != sentence and spanish in s["pages"][i]["text"], (sid, sentence)
            if kind == story_library.C:      # gently worded: "Puedo…", never "debo"
                assert re.search(r"\bpuedo\b", spanish, re.I), spanish
                assert not re.search(r"\b(debo|debes|tienes que|tengo que|nunca|no)\b", spanish, re.I), spanish


def test_client_config_is_in_the_readers_language_and_copies_in_every_language():
    cfg = stories.client_config(ES)
    json.dumps(cfg, allow_nan=False)
    assert cfg["lang"] == "es" and cfg["languages"] == {"en": "English", "es": "Español"}
    assert cfg["ready"]["bedtime"]["title"] == "La hora de dormir"
    assert cfg["ready"]["angry"]["pages"][0]["text"].startswith("A veces siento enojo.")
    assert cfg["tasks"]["handwashing"]["title"] == "Lavarme las manos"
    assert cfg["tasks"]["handwashing"]["steps"][1]["text"] == "Mojarme las manos"
    assert cfg["prompt_names"]["physical"] == "físico"
    assert cfg["copies"]["en"]["bedtime"]["title"] == "Bedtime"
    assert cfg["copies"]["es"]["bedtime"]["title"] == "La hora de dormir"
    assert cfg["copies"] == stories.client_config()["copies"]         # whoever reads
    assert "story.lang" in cfg["ops"]
    assert stories.client_config()["ready"] == stories.READY          # English unchanged


def test_own_stories_carry_their_language():
    assert valid("story.create", {"id": "n", "title": "x"})["lang"] == "en"
    assert valid("story.copy", {"id": "n", "from": "angry", "lang": "es"})["lang"] == "es"
    for t, d in [("story.create", {"id": "n", "title": "x", "lang": "fr"}),
                 ("story.copy", {"id": "n", "from": "angry", "lang": "en_XA"}),
                 ("story.lang", {"id": "n", "lang": None}), ("story.lang", {"id": "n"})]:
        assert isinstance(stories.validate(t, d), Rejected), (t, d)
    s = run(stories.initial_state(),
            ("story.create", valid("story.create", {"id": "n", "title": "Mi cuento", "lang": "es"})),
            ("story.copy", valid("story.copy", {"id": "c", "from": "bedtime", "lang": "es"})),
            ("story.copy", valid("story.copy", {"id": "c2", "from": "n", "lang": "en"})))
    assert s["stories"]["n"]["lang"] == "es"
    assert s["stories"]["c"]["title"] == "La hora de dormir" and s["stories"]["c"]["lang"] == "es"
    assert s["stories"]["c"]["pages"][0]["text"].startswith("Cuando oscurece")
    assert s["stories"]["c2"]["lang"] == "es"                 # a room story keeps its own
    old = own_story("Old", ["Stored before languages."])      # no "lang": English
    assert stories.story_lang(old["stories"]["mine"]) == "en"
    changed, inverse = stories.apply(old, "story.lang", {"id": "mine", "lang": "es"})
    assert changed["stories"]["mine"]["lang"] == "es" and inverse == ("story.lang", {"id": "mine", "lang": "en"})
    assert isinstance(stories.check(stories.initial_state(), "story.lang", {"id": "angry", "lang": "es"}),
                      Rejected)                               # a ready story is not the room's


def one_line(data):
    return " ".join(pdf_text(data).split())


def test_STORY5_a_ready_story_pdf_in_both_languages_with_text_extractable():
    """The downloader's language: headings, text, alt text and the PDF's /Lang."""
    state = stories.initial_state()
    en = stories.pdf(state, "angry", pictures_root())
    es = stories.pdf(state, "angry", pictures_root(), ES)
    assert b"/Lang (en)" in en and b"/Lang (es)" in es
    assert pdf_pages(es) == pdf_pages(en) == len(stories.READY["angry"]["pages"])
    text_en, text_es = one_line(en), one_line(es)
    assert "When I feel angry" in text_en and "Cuando siento enojo" in text_es
    for page in story_library.stories(ES)["angry"]["pages"]:
        assert " ".join(page["text"].split()) in text_es
    assert "Sometimes I feel angry." in text_en and "angry" not in text_es
    assert "/Title (Cuando siento enojo)".encode() in es


def test_STORY5_an_own_story_pdf_is_in_its_own_language_whoever_downloads_it():
    state = own_story("Mi cuento del parque", ["Vamos al parque con mamá."])
    state["stories"]["mine"]["lang"] = "es"
    for tr in (ENGLISH, ES):
        data = stories.pdf(state, "mine", pictures_root(), tr)
        assert b"/Lang (es)" in data
        assert "Vamos al parque con mamá." in one_line(data)
    old = own_story("Park day", ["We go to the park."])            # stored before: English
    assert b"/Lang (en)" in stories.pdf(old, "mine", pictures_root(), ES)


def test_download_names_a_ready_story_in_the_downloaders_language():
    from activities.contract import DownloadContext
    data, mime, name = stories.download(stories.initial_state(), "bedtime", "pdf",
                                        DownloadContext(assets=pictures_root(), tr=ES))
    assert mime == "application/pdf" and name == "La hora de dormir.pdf"
    assert "Antes de dormir me baño" in one_line(data)


def test_record_lines_in_the_translators_language():
    ops = [{"seq": i + 1, "by": "th", "a": "stories", "t": t, "kind": kind, "d": d, "ts": 1000.0 + i,
            "op_id": f"o{i}", "target": None} for i, (t, d, kind) in enumerate([
                ("open", {"story": "angry", "page": 0}, "do"),
                ("page", {"page": 3}, "do"),
                ("open", {"story": "bedtime", "page": 0}, "do"),
                ("task.open", {"task": "handwashing"}, "do"),
                ("task.tick", {"task": "handwashing", "step": 1, "done": True}, "do"),
                ("task.tick", {"task": "handwashing", "step": 1, "done": False}, "undo"),
                ("task.prompt", {"task": "handwashing", "step": 1, "level": "verbal"}, "do"),
                ("task.reset", {"task": "handwashing"}, "do")])]
    n, m = len(stories.READY["angry"]["pages"]), len(stories.READY["bedtime"]["pages"])
    assert [e["text"] for e in stories.record_entries(ops, stories.initial_state(), tr=ES)] == [
        f"leyó el cuento “Cuando siento enojo” (2 páginas de {n})",
        f"leyó el cuento “La hora de dormir” (página 1 de {m})",
        "abrió la lista de pasos “Lavarme las manos”",
        "marcó el paso 2 “Mojarme las manos” (Lavarme las manos)",
        "desmarcó el paso 2 “Mojarme las manos” (Lavarme las manos) (deshecho)",
        "nivel de ayuda del paso 2 “Mojarme las manos”: verbal (Lavarme las manos)",
        "reinició la lista de pasos “Lavarme las manos”"]
    english = [e["text"] for e in stories.record_entries(ops, stories.initial_state())]
    assert english[0] == f"read the story “When I feel angry” (2 pages of {n})"
    assert english[1] == f"read the story “Bedtime” (page 1 of {m})"
    # A room's own story keeps the title it was written with.
    state = own_story("Mi cuento", ["Hola."])
    (entry,) = stories.record_entries([{**ops[0], "d": {"story": "mine", "page": 0}}], state, tr=ES)
    assert entry["text"] == "leyó el cuento “Mi cuento” (página 1 de 1)"


def test_the_child_reads_the_ready_stories_in_spanish_the_therapist_in_english(app, room, therapist, join):
    """Same room, same story ids and pages; each person's room page carries the library
    and the stories' interface words in their own language."""
    import json as _json
    from tests.conftest import link_path

    def config_of(resp):
        m = re.search(r'<script type="application/json" id="playroom-config">(.*?)</script>',
                      resp.get_data(as_text=True), re.S)
        return _json.loads(m.group(1))

    def stories_cfg(cfg):
        (spec,) = [a for a in cfg["activities"] if a["name"] == "stories"]
        return spec

    guest = app.test_client()
    guest.get(link_path(room.links["child"]) + "?lang=es")
    join(guest, room.links["child"], name="Ana", avatar="fox")
    kid = config_of(guest.get(f"/room/{room.id}"))
    th = config_of(therapist.get(f"/room/{room.id}", headers={"Accept-Language": "en"}))
    es, en = stories_cfg(kid), stories_cfg(th)
    assert es["title"] == "Cuentos" and en["title"] == "Stories"
    assert es["config"]["ready"]["turns"]["title"] == "Tomar turnos"
    assert en["config"]["ready"]["turns"]["title"] == "Taking turns"
    assert [len(s["pages"]) for s in es["config"]["ready"].values()] == \
        [len(s["pages"]) for s in en["config"]["ready"].values()]
    assert kid["i18n"]["messages"]["A story is coming soon"] == "Ya casi viene un cuento"
    assert kid["i18n"]["messages"]["Tap to hear it"] == "Toca para escucharlo"
