"""AUTH3: a guest the therapist removed for the session (CTL4 `remove`, the link not
revoked) finds their room page closed ("The therapist has closed your visit for
today.") and the room's pictures gone, not only their socket, until the next session."""
import pytest

from tests.unit.assets.test_uploads import png, post, share_in_story, status

CLOSED = "The therapist has closed your visit for today."


def control(pr, room_id, who, action, op_id, **body):
    ack = pr.engine.control(room_id, who, {"op_id": op_id, "action": action, **body},
                            known_participant=pr.storage.get_participant)
    assert ack["ok"], ack
    return ack


def enter(pr, room_id, who):
    """What the guest's `sync` does: come into the room (the session starts)."""
    return pr.engine.join(room_id, -1, lambda payload: None, lambda: None, participant=who)


@pytest.fixture
def visit(pr, therapist, room, make_guest):
    """A therapist's picture shown in a story of the room, and a child who came in."""
    up = post(therapist, png()).get_json()["upload"]
    share_in_story(pr, therapist, room, up["ref"])
    control(pr, room.id, therapist.participant, "settings", "open", changes={"auto_admit": True})
    guest = make_guest(room.links["child"])
    child = pr.storage.get_participant(guest.participant_id)
    assert isinstance(enter(pr, room.id, child), int)
    return guest, child, f"/rooms/{room.id}/uploads/{up['id']}.webp"


def test_AUTH3_a_removed_guest_finds_the_room_page_and_pictures_closed_until_next_session(
        pr, therapist, room, visit):
    guest, child, picture = visit
    assert guest.get(f"/room/{room.id}").status_code == 200
    assert status(guest, picture) == 200
    control(pr, room.id, therapist.participant, "remove", "rm", pid=child["id"])
    r = guest.get(f"/room/{room.id}")
    assert r.status_code == 403 and CLOSED in r.get_data(as_text=True)
    assert status(guest, picture) == 404
    assert status(guest, picture.replace(".webp", "/thumb.webp")) == 404
    assert status(therapist, picture) == 200               # the therapist still sees it
    # The next session lets them back in.
    control(pr, room.id, therapist.participant, "end", "end")
    r = guest.get(f"/room/{room.id}")
    assert r.status_code == 200 and CLOSED not in r.get_data(as_text=True)
    assert status(guest, picture) == 200


def test_AUTH3_joining_again_on_the_same_link_stays_closed(pr, app, therapist, room, visit,
                                                             make_guest):
    _, child, picture = visit
    control(pr, room.id, therapist.participant, "remove", "rm", pid=child["id"])
    again = make_guest(room.links["child"], name="Sam again")
    r = again.get(f"/room/{room.id}")
    assert r.status_code == 403 and CLOSED in r.get_data(as_text=True)
    assert status(again, picture) == 404
