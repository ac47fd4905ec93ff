"""SAFE2 on real server processes: the therapist records where the child is and the
emergency contact while the child and the parent are connected (python-socketio
clients recording every event they receive, named or not); neither ever arrives on a
guest's socket — not live, not in a late joiner's snapshot, not after the session
ends — while the therapist reads them back over HTTP."""

from tests.support import Actions, csrf, wait_for

MARKERS = ("KOALA81", "KOALA82", "555-0199")
DETAILS = {"location": "dad's flat, 4 Birch Lane KOALA81", "contact_name": "Jo KOALA82",
           "contact_phone": "555-0199"}


def recording(room, role):
    """A guest socket that keeps every event, also ones the app does not name."""
    u = room.user(role, connect=False)
    u.sio.on("*", lambda event, *args: u.events.append((event, args)))
    return u.connect()


def post_safety(actions, room_id, body):
    token = csrf(actions.get("/dashboard").text)
    return actions.http.post(f"{actions.base}/rooms/{room_id}/safety", json=body,
                             headers={"X-CSRFToken": token}, timeout=10)


def test_SAFE2_guests_sockets_never_carry_the_location_or_the_contact(room):
    therapist = room.user("therapist")
    guests = [recording(room, "child"), recording(room, "parent")]
    r = post_safety(room.therapist, room.id, DETAILS)
    assert r.status_code == 200, r.text
    assert room.therapist.get(f"/rooms/{room.id}/safety").json()["location"] == DETAILS["location"]

    # Room traffic still reaches the guests after it (so they were listening) …
    assert therapist.op("page.add", {"page": "p2"})["ok"]
    for g in guests:
        wait_for(lambda g=g: any(ev == "op" and d["t"] == "page.add" for ev, d in g.events),
                 what="the therapist's op on a guest socket")
    late = recording(room, "child")               # … and a late joiner gets a snapshot
    wait_for(lambda: late.state is not None, what="late joiner's state")
    ack = therapist.call("control", {"op_id": "c-end-1", "action": "end"})
    assert ack["ok"], ack
    for g in guests + [late]:
        wait_for(lambda g=g: any(ev == "bye" for ev, _ in g.events), what="goodbye")

    # What a guest could fetch over HTTP: the sign-in page, never the details.
    for who in (room.child, room.parent):
        page = who.get(f"/rooms/{room.id}/safety")
        assert "/login" in page.url and not any(m in page.text for m in MARKERS)
    for g in guests + [late]:
        wire = repr(g.events)
        assert len(g.events) > 3 and not any(m in wire for m in MARKERS), g.role


def test_SAFE2_another_therapist_gets_404_and_stores_nothing(room, server):
    room.user("therapist")
    other = Actions(server.url)
    other.register()
    assert other.get(f"/rooms/{room.id}/safety").status_code == 404
    assert post_safety(other, room.id, DETAILS).status_code == 404
    assert room.therapist.get(f"/rooms/{room.id}/safety").json()["location"] == ""
