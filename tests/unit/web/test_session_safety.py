"""Where the child is, whom to call, the crisis lines (issue 15 part 7, SAFE2):
rooms/web/safety.py. Owner only; stored per session, sealed at rest; bad input 400."""
import io
import json
import re
import zipfile

import pytest

from tests.conftest import link_path
from tests.pdftools import pdf_text

from tests.unit.store.test_encryption_at_rest import instance_bytes, redis_bytes

LOCATION = "home, 12 Oak St, Springfield WOMBAT71"
GOOD = {"location": LOCATION, "contact_name": "Ana (mum) WOMBAT72",
        "contact_phone": "+1 555 010 2030"}


@pytest.fixture(params=["sqlite", "redis"])
def app_config(request):
    if request.param == "redis":
        return {"REDIS_URL": request.getfixturevalue("redis_url")}
    return {}


def token(client):
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"',
                     client.get("/dashboard").get_data(as_text=True)).group(1)


def post(client, room_id, body):
    return client.post(f"/rooms/{room_id}/safety", json=body,
                       headers={"X-CSRFToken": token(client)})


@pytest.fixture
def open_session(pr, room, therapist):
    """The therapist is in the room: its session is open."""
    pr.engine.present(room.id, {**therapist.participant, "name": "Dr. Kim", "avatar": "owl"})
    return pr.engine.room_state(room.id)[1]["session"]["start"]


def test_SAFE2_the_therapist_records_and_reads_back_this_sessions_details(
        therapist, room, open_session, pr):
    r = post(therapist, room.id, GOOD)
    assert r.status_code == 200, r.get_json()
    card = therapist.get(f"/rooms/{room.id}/safety").get_json()
    assert {k: card[k] for k in GOOD} == GOOD and card["session"] == open_session
    assert card["crisis_lines"] == ["988 Suicide & Crisis Lifeline — call or text 988 (US)",
                                    "Emergency services — call 911 (US)"]


def test_SAFE2_sealed_at_rest(app, therapist, room, open_session, pr, redis_server):
    assert post(therapist, room.id, GOOD).status_code == 200
    stored = instance_bytes(app) + redis_bytes(app, redis_server)
    assert b"WOMBAT71" not in stored and b"WOMBAT72" not in stored


@pytest.mark.parametrize("body", [
    {**GOOD, "location": "x" * 201},
    {**GOOD, "contact_name": "Ana\x07"},
    {**GOOD, "contact_phone": "555\n010"},
    {**GOOD, "location": "\ud800"},
    {**GOOD, "location": 12},
    {**GOOD, "extra": "x"},
    ["not", "an", "object"],
])
def test_SAFE2_TEXT1_bad_details_are_refused_and_nothing_is_stored(
        therapist, room, open_session, pr, body):
    r = post(therapist, room.id, body)
    assert r.status_code == 400 and r.get_json()["error"] == "invalid"
    assert pr.storage.get_safety(room.id, open_session) is None


def test_SAFE2_no_open_session_stores_nothing(therapist, room, pr):
    r = post(therapist, room.id, GOOD)
    assert r.status_code == 409
    assert therapist.get(f"/rooms/{room.id}/safety").get_json()["location"] == ""


def test_SAFE2_another_therapist_gets_404_and_a_guest_or_stranger_gets_nothing(
        therapist, room, open_session, make_therapist, make_guest, client, pr):
    assert post(therapist, room.id, GOOD).status_code == 200
    other = make_therapist()
    assert other.get(f"/rooms/{room.id}/safety").status_code == 404
    assert post(other, room.id, {**GOOD, "location": "elsewhere"}).status_code == 404
    guest = make_guest(room.links["child"])
    for c in (guest, client):
        r = c.get(f"/rooms/{room.id}/safety")
        assert r.status_code == 302 and "/login" in r.location
        assert "WOMBAT" not in r.get_data(as_text=True)
    assert therapist.get(f"/rooms/{room.id}/safety").get_json()["location"] == LOCATION


def test_crisis_lines_come_from_the_setting(app, therapist, room):
    app.config["CRISIS_LINES"] = "Childline 0800 1111 | 999"
    assert therapist.get(f"/rooms/{room.id}/safety").get_json()["crisis_lines"] == [
        "Childline 0800 1111", "999"]


def test_SAFE2_the_sessions_record_page_pdf_and_zip_say_where_the_child_was(
        app, therapist, room, open_session, pr, join):
    assert post(therapist, room.id, GOOD).status_code == 200
    join(app.test_client(), room.links["parent"], location="gran's WOMBAT75")
    rec = pr.records.close_session(room.id, open_session, pr.storage.last_seq(room.id), {})
    assert rec is not None
    page = therapist.get(f"/records/{rec['id']}").get_data(as_text=True)
    assert f"Child was at: {LOCATION}" in page
    assert "Emergency contact: Ana (mum) WOMBAT72, +1 555 010 2030" in page
    assert "The parent said on joining: gran&#39;s WOMBAT75" in page
    text = " ".join(pdf_text(therapist.get(f"/records/{rec['id']}/record.pdf").data).split())
    assert f"Child was at: {LOCATION}" in text
    assert "Emergency contact: Ana (mum) WOMBAT72, +1 555 010 2030" in text
    assert "The parent said on joining: gran's WOMBAT75" in text
    with zipfile.ZipFile(io.BytesIO(therapist.get(f"/records/{rec['id']}/record.zip").data)) as z:
        assert json.loads(z.read("record.json"))["safety"] == {**GOOD, "parent_location": "gran's WOMBAT75"}
    # Deleting the record takes them too (retention deletes records the same way).
    assert pr.storage.delete_record(rec["id"])
    assert pr.storage.get_safety(room.id, open_session) is None


def test_SAFE2_a_parent_confirms_the_location_on_joining_for_the_therapist_only(
        app, therapist, room, open_session, pr, join):
    parent = app.test_client()
    page = parent.get(link_path(room.links["parent"])).get_data(as_text=True)
    assert 'name="location"' in page                     # asked: a session is open
    child_page = app.test_client().get(link_path(room.links["child"])).get_data(as_text=True)
    assert 'name="location"' not in child_page           # a child is never asked
    r = join(parent, room.links["parent"], name="Alex", avatar="bear",
             location="at grandma's WOMBAT73")
    assert r.status_code == 302 and "WOMBAT73" not in r.get_data(as_text=True)
    assert "WOMBAT73" not in parent.get(r.location).get_data(as_text=True)
    assert post(therapist, room.id, GOOD).status_code == 200     # keeps the parent's answer
    card = therapist.get(f"/rooms/{room.id}/safety").get_json()
    assert card["parent_location"] == "at grandma's WOMBAT73" and card["location"] == LOCATION
    # A child's link cannot write it, even by posting the field.
    join(app.test_client(), room.links["child"], location="WOMBAT74")
    assert "WOMBAT74" not in json.dumps(therapist.get(f"/rooms/{room.id}/safety").get_json())


def test_SAFE2_the_parent_is_not_asked_when_no_session_is_open(app, room):
    page = app.test_client().get(link_path(room.links["parent"])).get_data(as_text=True)
    assert 'name="location"' not in page
