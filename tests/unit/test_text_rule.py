"""TEXT1: text a person writes (story titles and pages, breathing-pattern names,
schedule steps, names and notes in forms) must be real Unicode text. A lone surrogate
("\\ud800": JSON can carry it, UTF-8 cannot) or a control character is refused with
`invalid` and nothing is stored; text that was stored before the rule (an old room)
never makes a page or a download fail."""
import io
import json
import zipfile

import pytest

from activities.contract.protocol import DEFAULT_SETTINGS, E_INVALID
from tests.unit.record_session import T0, Session

SURROGATE = "\ud800"
BAD_TEXT = [SURROGATE, "Sam\udfff", "\x9bcolour", "tab\there"]


def text_ops(bad):
    """(activity, op type, payload) for every free-text field of the activities, the
    text field holding `bad`."""
    return [
        ("stories", "story.create", {"id": "s1", "title": bad}),
        ("stories", "story.title", {"id": "mine", "title": bad}),
        ("stories", "page.text", {"id": "mine", "page": 0, "text": bad}),
        ("stories", "page.add", {"id": "mine", "page": 1, "pics": ["star"], "text": bad}),
        ("calm", "pattern.save", {"id": "p1", "name": bad, "inhale": 4, "hold": 0, "exhale": 6,
                                  "hold2": 0, "visual": "orb"}),
        ("schedule", "step.add", {"id": "a2", "pos": 0, "pic": "owl", "text": bad, "secs": 0}),
        ("schedule", "step.edit", {"id": "a1", "pic": "owl", "text": bad, "secs": 0}),
    ]


def submit(pr, who, a, t, d, op_id):
    return pr.engine.submit(who["room"], who["p"], {"op_id": op_id, "a": a, "t": t, "d": d})


@pytest.fixture
def th(pr, therapist, room):
    """The therapist in the room, with a story of their own and a schedule step."""
    who = {"room": room.id, "p": therapist.participant}
    assert submit(pr, who, "stories", "story.create", {"id": "mine", "title": "Mine"}, "mk1")["ok"]
    assert submit(pr, who, "schedule", "step.add",
                  {"id": "a1", "pos": 0, "pic": "owl", "text": "Shoes", "secs": 0}, "mk2")["ok"]
    return who


@pytest.mark.parametrize("bad", BAD_TEXT, ids=["surrogate", "surrogate-inside", "c1", "tab"])
@pytest.mark.parametrize("case", range(len(text_ops(""))),
                         ids=[f"{a}-{t}" for a, t, _ in text_ops("")])
def test_TEXT1_broken_text_is_refused_with_invalid_and_stores_nothing(pr, th, bad, case):
    a, t, d = text_ops(bad)[case]
    seq = pr.storage.last_seq(th["room"])
    before = json.dumps(pr.engine.state(th["room"], a)[1], sort_keys=True)
    ack = submit(pr, th, a, t, d, "bad")
    assert ack["ok"] is False and ack["code"] == E_INVALID, ack
    assert pr.storage.last_seq(th["room"]) == seq
    assert json.dumps(pr.engine.state(th["room"], a)[1], sort_keys=True) == before


def test_TEXT1_real_text_in_any_language_is_still_welcome(pr, th):
    title = "Zoë 🦊 日本語 — «ok»"
    assert submit(pr, th, "stories", "story.title", {"id": "mine", "title": title}, "ok1")["ok"]
    assert submit(pr, th, "stories", "page.text",
                  {"id": "mine", "page": 0, "text": "Line one\nline two 😀"}, "ok2")["ok"]
    assert pr.engine.state(th["room"], "stories")[1]["stories"]["mine"]["title"] == title


# ------------------------------------------------------------------ forms

@pytest.mark.parametrize("name", ["Sam\x00", "\x1b[31mSam", "Sam\x85"], ids=["nul", "escape", "c1"])
def test_TEXT1_a_join_name_with_control_characters_is_refused(app, room, join, pr, name):
    r = join(app.test_client(), room.links["child"], name=name)
    assert r.status_code == 400 and "plain text" in r.get_data(as_text=True)
    assert pr.storage.list_participants(room.id) == []


def test_TEXT1_a_room_name_with_control_characters_is_refused(therapist, post_form, pr):
    post_form(therapist, "/dashboard", "/rooms", {"name": "Sam\x07"})
    assert pr.storage.list_rooms(therapist.therapist_id) == []


# ------------------------------------------------------------------ text stored before TEXT1

@pytest.fixture
def old_record(therapist, pr):
    """A session record of a room whose story, breathing pattern and schedule step hold
    lone surrogates: ops written straight to storage (their JSON escapes them), as an
    older server accepted them."""
    storage = pr.storage
    room = storage.create_room(therapist.therapist_id, "Sam, 7", dict(DEFAULT_SETTINGS))
    child = storage.create_participant(room["id"], "child", "Sam", "fox")
    th, kid = therapist.participant["id"], child["id"]
    s = Session(storage, room["id"], pr.registry)
    s.op(th, "room", "session", {"state": "start"}, at=T0)
    s.op(th, "room", "presence", {"pid": kid, "online": True}, at=T0 + 1)
    s.op(th, "stories", "story.create", {"id": "old", "title": "Bad \ud800 title"})
    s.op(th, "stories", "page.text", {"id": "old", "page": 0, "text": "broken \udfff text"})
    s.op(th, "stories", "open", {"story": "old", "page": 0})
    s.op(th, "calm", "pattern.save", {"id": "p1", "name": "Calm \ud83d", "inhale": 4, "hold": 0,
                                      "exhale": 6, "hold2": 0, "visual": "orb"})
    s.op(th, "schedule", "step.add", {"id": "a1", "pos": 0, "pic": "owl", "text": "Go \udc00",
                                      "secs": 0})
    s.op(th, "room", "session", {"state": "end"}, at=T0 + 100)
    rec = pr.records.close_session(room["id"], 1, storage.last_seq(room["id"]), s.states)
    assert rec is not None
    return rec


def test_TEXT1_record_page_pdf_and_zip_of_old_broken_text_answer_200(therapist, old_record):
    rid = old_record["id"]
    page = therapist.get(f"/records/{rid}")
    assert page.status_code == 200
    assert "Bad \ufffd title" in page.get_data(as_text=True)         # shown, replaced
    pdf = therapist.get(f"/records/{rid}/record.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    z = therapist.get(f"/records/{rid}/record.zip")
    assert z.status_code == 200
    with zipfile.ZipFile(io.BytesIO(z.data)) as f:
        data = json.loads(f.read("record.json").decode("utf-8"))
    assert any("Bad \ufffd title" in e["text"] for e in data["timeline"])


def test_TEXT1_story_pdf_of_old_broken_text_answers_200(therapist, pr, old_record):
    r = therapist.get(f"/rooms/{old_record['room_id']}/download/stories/old.pdf")
    assert r.status_code == 200 and r.data.startswith(b"%PDF")
