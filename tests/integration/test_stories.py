"""Stories over real sockets: page turns are shared live (STORY2), guests cannot edit or
record prompt levels, task-analysis ticks and prompt levels are stored with the
server's time and survive a restart (STORY3, DUR1), the PDF is the owner's (STORY5)."""
import re
import signal

import requests

from activities import stories
from tests.support import wait_for

from .conftest import assert_alive, send_op


def op(user, t, d):
    return send_op(user, t, d, a="stories")


def seen(user, t, pred=lambda d: True):
    return [o for o in user.received("op") if o["a"] == "stories" and o["t"] == t and pred(o["d"])]


def test_STORY2_therapist_opens_child_turns_parent_sees_the_same_page(room):
    therapist, child, parent = room.user("therapist"), room.user("child"), room.user("parent")
    assert op(therapist, "open", {"story": "worried-school"})["ok"]
    ack = op(child, "page", {"page": 2})
    assert ack["ok"], ack
    for u in (therapist, parent):
        got = wait_for(lambda: seen(u, "page"), what="page turn")[0]
        assert got["d"] == {"page": 2} and got["seq"] == ack["seq"] and got["by"] == child.me
    st = room.snapshot()["activities"]["stories"]
    assert st["view"] == "story" and st["open"] == {"story": "worried-school", "page": 2}
    # The parent may not turn pages until the therapist lets the parent play.
    assert op(parent, "page", {"page": 3})["code"] == "forbidden"
    assert therapist.call("settings", {"parent_may_play": True}) == {"ok": True}
    assert op(parent, "page", {"page": 3})["ok"]


def test_STORY2_guests_editing_or_recording_prompts_is_refused_and_stores_nothing(room, server):
    therapist, child = room.user("therapist"), room.user("child")
    assert op(therapist, "story.copy", {"id": "mine", "from": "friend"})["ok"]
    before = room.snapshot()
    for t, d in [("page.text", {"id": "mine", "page": 0, "text": "hacked"}),
                 ("story.title", {"id": "mine", "title": "<script>alert(1)</script>"}),
                 ("story.delete", {"id": "mine"}),
                 ("task.prompt", {"task": "morning", "step": 0, "level": "verbal"}),
                 ("task.reset", {"task": "morning"})]:
        ack = op(child, t, d)
        assert ack["ok"] is False and ack["code"] == "forbidden", (t, ack)
    for t, d, code in [("page.text", {"id": "mine", "page": 0, "text": "x" * 241}, "invalid"),
                       ("page.pics", {"id": "mine", "page": 0, "pics": ["no-such"]}, "invalid"),
                       ("page.text", {"id": "mine", "page": 9, "text": "x"}, "no_such_page"),
                       ("page.text", {"id": "friend", "page": 0, "text": "x"}, "invalid")]:
        ack = op(therapist, t, d)
        assert ack["code"] == code, (t, ack)
    after = room.snapshot()
    assert after["seq"] == before["seq"] and after["activities"] == before["activities"]
    # Script tags in a title are stored as the text they are.
    title = "<script>alert(1)</script>"
    assert op(therapist, "story.title", {"id": "mine", "title": title})["ok"]
    assert room.snapshot()["activities"]["stories"]["stories"]["mine"]["title"] == title
    assert_alive(server)


def test_STORY3_ticks_and_prompt_levels_survive_a_restart(fresh_server, room_factory):
    room = room_factory(fresh_server)
    therapist, child = room.user("therapist"), room.user("child")
    assert op(therapist, "task.open", {"task": "morning"})["ok"]
    assert op(child, "task.tick", {"task": "morning", "step": 0, "done": True})["ok"]
    assert op(child, "task.tick", {"task": "morning", "step": 1, "done": True})["ok"]
    assert op(therapist, "task.prompt", {"task": "morning", "step": 1, "level": "verbal"})["ok"]
    tick = wait_for(lambda: seen(therapist, "task.tick", lambda d: d["step"] == 1), what="tick")[0]
    assert tick["by"] == child.me and tick["d"]["at"] > 0      # stamped by the server
    fresh_server.restart(signal.SIGTERM)
    st = room.snapshot()["activities"]["stories"]
    assert st["view"] == "task" and st["task"] == "morning"
    n = len(stories.TASKS["morning"]["steps"])
    assert st["progress"]["morning"]["done"] == [True, True] + [False] * (n - 2)
    assert st["progress"]["morning"]["prompts"][:2] == [None, "verbal"]


def test_STORY5_pdf_only_for_the_owning_therapist(room):
    url = f"{room.base}/rooms/{room.id}/download/stories/bedtime.pdf"
    r = room.therapist.http.get(url, timeout=20)
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    pages = re.findall(rb"/Type\s*/Page\b(?!s)", r.content)
    assert len(pages) == len(stories.READY["bedtime"]["pages"])
    assert room.child.http.get(url, timeout=10, allow_redirects=False).status_code in (302, 401, 404)
    anon = requests.get(url, timeout=10, allow_redirects=False)
    assert anon.status_code in (302, 401)
