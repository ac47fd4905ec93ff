"""Session record pages through the Flask test client (rooms/web/records.py): the
owner sees, exports and deletes a record and writes private notes; another
therapist, a guest and nobody signed in get 404 for every record URL and change
nothing; views, exports and deletions land in the audit log."""
import io
import re
import zipfile

import pytest
from PIL import Image

from rooms.core import invites
from activities.contract.protocol import DEFAULT_SETTINGS
from tests.pdftools import pdf_text
from tests.support import csrf
from tests.unit.record_session import scripted_session


def text(resp):
    return resp.get_data(as_text=True)


def token_from(client, page="/account/settings"):
    return csrf(text(client.get(page)))


@pytest.fixture
def owner(make_therapist):
    return make_therapist(name="Dr. Kim")


@pytest.fixture
def rec(owner, pr):
    """A room of `owner` with a guest, a finished scripted session and its record."""
    storage = pr.storage
    room = storage.create_room(owner.therapist_id, "Sam, 7", dict(DEFAULT_SETTINGS))
    child = storage.create_participant(room["id"], "child", "Sam", "fox")
    parent = storage.create_participant(room["id"], "parent", "Alex", "owl")
    people = {"therapist": f"th-{owner.therapist_id}", "child": child["id"], "parent": parent["id"]}
    s = scripted_session(storage, room["id"], pr.registry, people)
    record = pr.records.close_session(room["id"], 1, storage.last_seq(room["id"]), s.states)
    assert record is not None
    return record


def urls(rec):
    rid = rec["id"]
    return [f"/rooms/{rec['room_id']}/records", f"/records/{rid}", f"/records/{rid}/pictures/0.png",
            f"/records/{rid}/record.pdf", f"/records/{rid}/record.zip",
            f"/rooms/{rec['room_id']}/checkins.pdf", f"/rooms/{rec['room_id']}/records/session/1"]


def actions(pr, therapist_id):
    return [e["action"] for e in pr.storage.list_audit(therapist_id)]


# ====================================================================== the owner

def test_owner_sees_the_list_and_the_record_and_the_view_is_audited(owner, rec, pr):
    r = owner.get(f"/rooms/{rec['room_id']}/records")
    assert r.status_code == 200 and f'data-record="{rec["id"]}"' in text(r)
    r = owner.get(f"/records/{rec['id']}")
    page = text(r)
    assert r.status_code == 200
    assert "Session started" in page and "Sam checked in: 2 of 5, upset (start of session)" in page
    assert "started breathing “Balloon”: 30 s (3 of 5 breaths)" in page
    assert page.count('<li class="entry') == len(rec["timeline"])
    n = len(pr.storage.list_record_pictures(rec["id"]))
    assert n == 3 and page.count(f'/records/{rec["id"]}/pictures/') == 2 * n
    assert actions(pr, owner.therapist_id) == ["view"]
    entry = pr.storage.list_audit(owner.therapist_id)[0]
    assert entry["record_id"] == rec["id"] and entry["room_id"] == rec["room_id"]
    assert "Sam" not in entry["detail"]          # the log outlives the room: no names


def test_picture_pdf_and_zip_downloads_and_exports_are_audited(owner, rec, pr):
    r = owner.get(f"/records/{rec['id']}/pictures/0.png")
    assert r.status_code == 200 and r.mimetype == "image/png"
    assert "no-store" in r.headers["Cache-Control"]
    with Image.open(io.BytesIO(r.data)) as img:
        assert img.format == "PNG"
    assert owner.get(f"/records/{rec['id']}/pictures/99.png").status_code == 404
    r = owner.get(f"/records/{rec['id']}/record.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf" and r.data.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", r.data)) == 1 + 3
    assert "attachment" in r.headers["Content-Disposition"]
    r = owner.get(f"/records/{rec['id']}/record.zip")
    assert r.status_code == 200 and r.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(r.data)) as z:
        assert z.namelist()[0] == "record.json"
        assert sum(n.endswith(".png") for n in z.namelist()) == 3
    assert actions(pr, owner.therapist_id) == ["export", "export"]
    assert [e["detail"].rsplit(" ", 1)[-1] for e in pr.storage.list_audit(owner.therapist_id)] == \
        ["ZIP", "PDF"]


def test_checkin_trend_sheet_lists_the_rooms_checkins_and_is_audited(owner, rec, pr):
    """The trend sheet: the check-ins of the room's sessions as text, grouped by the
    session they belong to, plus one from outside a session; the export is audited."""
    room_id = rec["room_id"]
    r = owner.get(f"/rooms/{room_id}/records")
    assert f"/rooms/{room_id}/checkins.pdf" in text(r)
    r = owner.get(f"/rooms/{room_id}/checkins.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert "attachment" in r.headers["Content-Disposition"]
    words = " ".join(pdf_text(r.data).split())
    assert "Check-ins — Sam, 7" in words
    assert "start: 2 of 5, upset" in words and "end: 5 of 5, great" in words
    assert "outside a session" not in words      # both belong to the recorded session
    assert actions(pr, owner.therapist_id) == ["export"]


def test_records_page_charts_checkins_and_prompt_levels_for_the_owner(owner, rec, pr):
    """Issue 17 part 4: the room's records page shows the check-ins (start 2, end 5)
    and the checklist's prompt levels (step 1 verbal) of its sessions as inline SVG
    with words for a screen reader, and as tables."""
    from rooms.records.trends import short_day
    page = text(owner.get(f"/rooms/{rec['room_id']}/records"))
    assert "Over the weeks" in page and page.count('role="img"') == 2
    day = short_day(rec["started_at"])
    assert f"session of {day}: start 2 of 5 (upset); end 5 of 5 (great)" in page
    assert "Prompt levels per step: Getting ready in the morning" in page
    assert f"Step 1, Wake up: {day} verbal." in page
    assert "<td>2 (upset)</td><td>5 (great)</td>" in page
    assert "<td>verbal</td>" in page and "<td>0 of 8</td>" in page
    assert "<script" not in page.split("data-trends", 1)[1].split("</section>", 1)[0]


def test_records_page_of_a_room_without_sessions_has_no_charts(owner, pr):
    room = pr.storage.create_room(owner.therapist_id, "New", dict(DEFAULT_SETTINGS))
    page = text(owner.get(f"/rooms/{room['id']}/records"))
    assert "No session records yet" in page and "Over the weeks" not in page


def test_nobody_else_sees_the_trends(make_therapist, client, make_guest, rec, pr):
    """Another therapist, nobody signed in and a guest of the room: 404, no chart."""
    token, _ = invites.issue(pr.storage, rec["room_id"], "child", 3600)
    for who in (make_therapist(name="Dr. Lee"), client, make_guest(f"http://localhost/j/{token}")):
        r = who.get(f"/rooms/{rec['room_id']}/records")
        assert r.status_code == 404 and "Over the weeks" not in text(r) and "upset" not in text(r)


def test_end_session_link_leads_to_the_record_once_it_is_written(owner, rec, pr):
    """Issue 17: "End session" shows a link to /rooms/<room>/records/session/<first seq>:
    the record when written, meanwhile a page that looks again by itself."""
    room_id = rec["room_id"]
    r = owner.get(f"/rooms/{room_id}/records/session/{rec['first_seq']}")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/records/{rec['id']}")
    r = owner.get(f"/rooms/{room_id}/records/session/{rec['last_seq'] + 1}")
    assert r.status_code == 202 and "being written" in text(r)
    assert '<meta http-equiv="refresh" content="1">' in text(r)


def test_room_page_gives_the_record_link_to_the_therapist_only(owner, rec, make_guest, pr):
    room_id = rec["room_id"]
    page = text(owner.get(f"/room/{room_id}"))
    assert f"/rooms/{room_id}/records/session/{{first}}" in page
    token, _ = invites.issue(pr.storage, room_id, "child", 3600)
    guest = make_guest(f"http://localhost/j/{token}")
    assert "/records/session/" not in text(guest.get(f"/room/{room_id}"))


def test_owner_deletes_a_record_with_csrf_only(owner, rec, pr):
    rid = rec["id"]
    note = pr.storage.add_note(rid, "private")
    assert owner.post(f"/records/{rid}/delete").status_code == 400        # no CSRF token
    assert pr.storage.get_record(rid) is not None
    r = owner.post(f"/records/{rid}/delete", data={"csrf_token": token_from(owner)})
    assert r.status_code == 302 and r.location.endswith(f"/rooms/{rec['room_id']}/records")
    assert pr.storage.get_record(rid) is None and pr.storage.get_note(note["id"]) is None
    assert pr.storage.get_record_picture(rid, 0) is None
    assert actions(pr, owner.therapist_id) == ["delete"]
    assert owner.get(f"/records/{rid}").status_code == 404


def test_audit_page_lists_views_exports_and_deletions(owner, rec, pr):
    owner.get(f"/records/{rec['id']}")
    owner.get(f"/records/{rec['id']}/record.pdf")
    owner.post(f"/records/{rec['id']}/delete", data={"csrf_token": token_from(owner)})
    page = text(owner.get("/account/audit"))
    assert [a for a in re.findall(r'<tr data-action="(\w+)">', page)] == ["delete", "export", "view"]
    assert "Viewed" in page and "Exported" in page and "Deleted" in page
    assert "Sam, 7" in page            # the room still exists: its name is looked up


# ====================================================================== private notes

def test_notes_add_edit_delete_stored_as_text_and_shown_escaped(owner, rec, pr):
    rid = rec["id"]
    evil = '<script>alert("x")</script> Sam said "no"'
    r = owner.post(f"/records/{rid}/notes", data={"csrf_token": token_from(owner), "text": evil})
    assert r.status_code == 302
    (note,) = pr.storage.list_notes(rid)
    assert note["text"] == evil
    page = text(owner.get(f"/records/{rid}"))
    assert evil not in page and "&lt;script&gt;alert(" in page
    r = owner.post(f"/records/{rid}/notes/{note['id']}",
                   data={"csrf_token": token_from(owner), "text": "calmer today"})
    assert r.status_code == 302 and pr.storage.get_note(note["id"])["text"] == "calmer today"
    r = owner.post(f"/records/{rid}/notes/{note['id']}", data={"csrf_token": token_from(owner),
                                                               "text": ""})
    assert pr.storage.get_note(note["id"])["text"] == "calmer today"    # empty: refused
    r = owner.post(f"/records/{rid}/notes", data={"csrf_token": token_from(owner),
                                                  "text": "x" * 5001})
    assert len(pr.storage.list_notes(rid)) == 1
    r = owner.post(f"/records/{rid}/notes/{note['id']}/delete",
                   data={"csrf_token": token_from(owner)})
    assert r.status_code == 302 and pr.storage.list_notes(rid) == []


def test_notes_are_never_in_the_room_page(owner, rec, pr):
    pr.storage.add_note(rec["id"], "private-note-words-7f3a")
    r = owner.get(f"/room/{rec['room_id']}")
    assert r.status_code == 200 and "private-note-words-7f3a" not in text(r)


def test_a_note_of_another_record_cannot_be_reached_through_mine(owner, rec, pr):
    other = pr.storage.create_record({**rec, "timeline": []})
    note = pr.storage.add_note(other["id"], "other record's note")
    r = owner.post(f"/records/{rec['id']}/notes/{note['id']}",
                   data={"csrf_token": token_from(owner), "text": "changed"})
    assert r.status_code == 404
    r = owner.post(f"/records/{rec['id']}/notes/{note['id']}/delete",
                   data={"csrf_token": token_from(owner)})
    assert r.status_code == 404
    assert pr.storage.get_note(note["id"])["text"] == "other record's note"


# ====================================================================== everyone else

def assert_refused_everywhere(client, rec, pr, token):
    for url in urls(rec):
        assert client.get(url).status_code == 404, url
    rid = rec["id"]
    note = pr.storage.add_note(rid, "mine")
    for url, data in ((f"/records/{rid}/delete", {}), (f"/records/{rid}/notes", {"text": "x"}),
                      (f"/records/{rid}/notes/{note['id']}", {"text": "x"}),
                      (f"/records/{rid}/notes/{note['id']}/delete", {})):
        assert client.post(url, data={"csrf_token": token, **data}).status_code == 404, url
    assert pr.storage.get_record(rid) == rec
    assert [n["text"] for n in pr.storage.list_notes(rid)] == ["mine"]


def test_another_therapist_gets_404_everywhere_and_changes_nothing(make_therapist, owner, rec, pr):
    other = make_therapist(name="Dr. Lee")
    assert_refused_everywhere(other, rec, pr, token_from(other))
    assert pr.storage.list_audit(owner.therapist_id) == []
    assert pr.storage.list_audit(other.therapist_id) == []


def test_nobody_signed_in_gets_404_not_a_login_page(client, rec, pr, owner):
    assert_refused_everywhere(client, rec, pr, token_from(client, "/login"))
    assert client.get("/account/audit").status_code == 404
    assert client.get("/account/settings").status_code == 404


def test_a_guest_of_the_room_gets_404(make_guest, rec, pr):
    token, _ = invites.issue(pr.storage, rec["room_id"], "child", 3600)
    guest = make_guest(f"http://localhost/j/{token}")
    assert guest.room_id == rec["room_id"]
    assert_refused_everywhere(guest, rec, pr, token_from(guest, "/login"))


def test_deleting_the_room_deletes_its_records_and_notes(owner, rec, pr):
    note = pr.storage.add_note(rec["id"], "n")
    r = owner.post(f"/rooms/{rec['room_id']}/delete", data={"csrf_token": token_from(owner)})
    assert r.status_code == 302
    assert pr.storage.get_record(rec["id"]) is None and pr.storage.get_note(note["id"]) is None
    assert pr.storage.get_record_picture(rec["id"], 0) is None
    assert owner.get(f"/rooms/{rec['room_id']}/records").status_code == 404


# ====================================================================== settings

def test_retention_setting_page(owner, pr):
    page = text(owner.get("/account/settings"))
    assert '<option selected value="forever">' in page
    r = owner.post("/account/settings", data={"csrf_token": token_from(owner), "days": "30"})
    assert r.status_code == 302 and pr.storage.get_retention_days(owner.therapist_id) == 30
    assert '<option selected value="30">' in text(owner.get("/account/settings"))
    r = owner.post("/account/settings", data={"csrf_token": token_from(owner), "days": "3"})
    assert r.status_code == 400 and pr.storage.get_retention_days(owner.therapist_id) == 30
    r = owner.post("/account/settings", data={"csrf_token": token_from(owner), "days": "forever"})
    assert pr.storage.get_retention_days(owner.therapist_id) is None


def test_refusals_are_logged(make_therapist, rec, caplog):
    other = make_therapist(name="Dr. Lee")
    with caplog.at_level("WARNING", logger="playroom.records_web"):
        assert other.get(f"/records/{rec['id']}/pictures/0.png").status_code == 404
    assert f"refused record '{rec['id']}' to therapist {other.therapist_id}" in caplog.text
