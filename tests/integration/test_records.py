"""Session records through a real server (issue 7 acceptance: "a scripted session
produces a record whose timeline matches the ops; the PDF and ZIP open and contain
the snapshots"). The therapist and the child play over python-socketio, the therapist
ends the session with the `control` event, and the record is read back over HTTP."""
import io
import json
import re
import zipfile

from PIL import Image

from tests.integration.conftest import new_id, send_op
from tests.support import Actions, stroke, wait_for


def record_ids(actions, room_id):
    r = actions.get(f"/rooms/{room_id}/records")
    assert r.status_code == 200, r.status_code
    return re.findall(r'data-record="([^"]+)"', r.text)


def play_a_session(room):
    """Check-in, drawing, a sand tray with a saved tray, breathing, then End session.
    Returns (therapist socket, child socket, what was sent)."""
    th, child = room.user("therapist"), room.user("child")
    sent = {"strokes": 3}
    ack = send_op(child, "checkin", {"id": "c1", "value": 4, "moment": "start"}, a="checkin")
    sent["checkin_by"] = "Sam"
    if not ack["ok"]:                     # the therapist may check in for the child
        ack = send_op(th, "checkin", {"id": "c1", "value": 4, "moment": "start"}, a="checkin")
        sent["checkin_by"] = "Dr. Kim"
    assert ack["ok"], ack
    drawer = child
    for k in range(sent["strokes"]):
        ack = send_op(drawer, "stroke", stroke(page="p1", sid=new_id(f"s{k}-")))
        if not ack["ok"] and drawer is child:
            drawer = th
            ack = send_op(drawer, "stroke", stroke(page="p1", sid=new_id(f"s{k}-")))
        assert ack["ok"], ack
    sent["drawer"] = "Sam" if drawer is child else "Dr. Kim"
    for t, d in (("place", {"id": "f1", "fig": "dragon", "x": 30, "y": 20}),
                 ("place", {"id": "f2", "fig": "house", "x": 50, "y": 30}),
                 ("tray.save", {"id": "s1"})):
        ack = send_op(th, t, d, a="sandtray")
        assert ack["ok"], (t, ack)
    for t, d in (("pacer.start", {"pattern": "balloon", "rounds": 5}), ("pacer.stop", {})):
        ack = send_op(th, t, d, a="calm")
        assert ack["ok"], (t, ack)
    ack = th.call("control", {"op_id": new_id("end-"), "action": "end"})
    assert ack["ok"], ack
    return th, child, sent


def test_a_scripted_session_produces_a_record_matching_its_ops(room):
    th, child, sent = play_a_session(room)
    (rid,) = wait_for(lambda: record_ids(room.therapist, room.id), timeout=20,
                      what="the session record")
    r = room.therapist.get(f"/records/{rid}")
    assert r.status_code == 200
    r = room.therapist.get(f"/records/{rid}/record.zip")
    assert r.status_code == 200
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        data = json.loads(z.read("record.json"))
        pngs = [n for n in z.namelist() if n.endswith(".png")]
        for name in pngs:
            with Image.open(io.BytesIO(z.read(name))) as img:
                assert img.format == "PNG" and img.width > 500
    lines = [(e["who"], e["kind"], e["text"]) for e in data["timeline"]]
    kinds = [k for _, k, _ in lines]
    assert kinds[0] == "session" and lines[0][2] == "Session started"
    assert lines[-1] == ("Dr. Kim", "session", "ended the session")
    assert ("Sam", "join", "joined") in lines
    assert (sent["checkin_by"], "checkin", "checked in: 4 of 5, good (start of session)") in lines
    assert (sent["drawer"], "drawing", "drew on the canvas: 3 strokes") in lines
    assert ("Dr. Kim", "snapshot", "saved the sand tray as a picture") in lines
    assert ("Dr. Kim", "sandtray", "placed 2 figures in the sand tray") in lines
    breathing = [e for e in data["timeline"] if e["kind"] == "breathing"]
    assert len(breathing) == 1 and breathing[0]["data"]["name"] == "Balloon"
    assert 0 <= breathing[0]["data"]["seconds"] < 60
    seqs = [e["seq"] for e in data["timeline"]]
    assert seqs == sorted(seqs)
    # The snapshots: the saved tray, the drawing and the tray as it was left.
    assert [p["caption"] for p in data["pictures"]] == [
        "Saved sand tray", "Drawing, page 1", "Sand tray at the end of the session"]
    assert len(pngs) == 3
    names = {p["name"]: p["role"] for p in data["participants"]}
    assert names.get("Sam") == "child" and names.get("Dr. Kim") == "therapist"
    # The PDF: a timeline page and one page per picture.
    r = room.therapist.get(f"/records/{rid}/record.pdf")
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", r.content)) == 1 + 3
    audit = room.therapist.get("/account/audit").text
    assert re.findall(r'<tr data-action="(\w+)">', audit) == ["export", "export", "view"]


def test_nobody_else_reaches_the_record_over_http(room, server):
    play_a_session(room)
    (rid,) = wait_for(lambda: record_ids(room.therapist, room.id), timeout=20,
                      what="the session record")
    other = Actions(server.url)
    other.register(name="Dr. Lee")
    paths = [f"/rooms/{room.id}/records", f"/records/{rid}", f"/records/{rid}/pictures/0.png",
             f"/records/{rid}/record.pdf", f"/records/{rid}/record.zip"]
    for who in (other, room.child, room.parent, Actions(server.url)):
        for path in paths:
            assert who.get(path, allow_redirects=False).status_code == 404, path
    other.http.close()
    assert record_ids(room.therapist, room.id) == [rid]
