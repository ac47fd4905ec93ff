"""RATE4 / RATE5 without a server process: the participants one invite link may
create, and the start-up check that guards the transport queue caps."""
import re

import pytest

from rooms.transport import tuning as transport

DEVICES = 6         # participants one invite link may make (RATE5)


def _path(link):
    return re.sub(r"^https?://[^/]+", "", link)


def test_RATE5_one_invite_link_creates_only_a_few_participants(app, room, make_guest, pr):
    cap = DEVICES
    guests = [make_guest(room.links["child"]) for _ in range(cap - 1)]
    # One more browser has the form open while the last place is taken.
    slow = app.test_client()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      slow.get(_path(room.links["child"])).get_data(as_text=True)).group(1)
    guests.append(make_guest(room.links["child"]))
    r = slow.post(_path(room.links["child"]), data={"csrf_token": token, "name": "X", "avatar": "fox"})
    assert r.status_code == 403 and 'data-reason="used_up"' in r.get_data(as_text=True)
    page = app.test_client().get(_path(room.links["child"]))
    assert page.status_code == 403
    assert "too many devices" in page.get_data(as_text=True)
    assert len(pr.storage.list_participants(room.id)) == cap
    # Those who joined still get back in, and the other role's link is its own.
    back = guests[0].get(_path(room.links["child"]))
    assert back.status_code == 302 and back.location.endswith(f"/room/{room.id}")
    assert make_guest(room.links["parent"]).room_id == room.id


def test_RATE5_a_new_link_lets_new_devices_in_again(room, make_guest, therapist, post_form,
                                                   read_dashboard):
    for _ in range(DEVICES):
        make_guest(room.links["child"])
    assert post_form(therapist, "/dashboard", f"/rooms/{room.id}/invites/child", {}).status_code == 302
    fresh = read_dashboard(therapist).links(room.id)["child"]
    assert make_guest(fresh).room_id == room.id


def test_RATE4_the_installed_transport_libraries_can_be_capped():
    transport.check_patchable()      # what app.py runs at start-up (cap_queues)


def test_RATE4_start_up_refuses_to_patch_library_internals_that_changed():
    class Socket:                    # an engine.io Socket without the queue methods
        def send(self, pkt):
            pass

    class Base:                      # a simple-websocket without its reader
        pass
    with pytest.raises(RuntimeError, match="cannot cap the transport queues"):
        transport.check_patchable(Socket, Base)
