"""Session records (rooms/records/service.py): the timeline built from a scripted session's ops,
each activity's record_entries / record_pictures, the stored record, and the PDF and
ZIP exports. Pure functions and real SQLite storage; no sockets."""
import io
import json
import re
import zipfile

import pytest
from PIL import Image

from activities.registry import build_registry

from activities import calm

from activities import canvas

from activities import checkin

from activities import sandtray

from activities import stories
from rooms.records import service as records
from tests.support import ROOT
from tests.unit.payloads import stamp, stroke
from tests.unit.record_session import T0, Session, scripted_session


@pytest.fixture
def registry():
    return build_registry()


@pytest.fixture
def people(storage, room_id):
    room = storage.get_room(room_id)
    child = storage.create_participant(room_id, "child", "Sam", "fox")
    parent = storage.create_participant(room_id, "parent", "Alex", "owl")
    return {"therapist": f"th-{room['therapist_id']}", "child": child["id"],
            "parent": parent["id"]}


def people_list(storage, room_id, people):
    return storage.list_participants(room_id) + [
        {"id": people["therapist"], "name": "Dr. Kim", "role": "therapist"}]


# ====================================================================== timeline

def test_timeline_of_a_scripted_session_matches_its_ops(storage, room_id, registry, people):
    s = scripted_session(storage, room_id, registry, people)
    ops = storage.ops_since(room_id, 0)
    tl = records.build_timeline(ops, people_list(storage, room_id, people), registry,
                                states=s.states, ended_at=T0 + 1000)
    lines = [(e["who"], e["kind"], e["text"]) for e in tl]
    assert [e["seq"] for e in tl] == sorted(e["seq"] for e in tl)
    assert lines[0] == (None, "session", "Session started")
    assert lines[-1] == ("Dr. Kim", "session", "ended the session")
    assert ("Sam", "join", "joined") in lines
    assert ("Dr. Kim", "admit", "let Sam in") in lines
    assert ("Sam", "checkin", "checked in: 2 of 5, upset (start of session)") in lines
    assert ("Sam", "checkin", "checked in: 5 of 5, great (end of session)") in lines
    # The breathing exercise: 60 -> 100 s with a 10 s pause = 30 s, three 10 s breaths.
    breathing = [e for e in tl if e["kind"] == "breathing"]
    assert breathing[0]["text"] == "started breathing “Balloon”: 30 s (3 of 5 breaths)"
    assert breathing[0]["data"]["seconds"] == 30 and breathing[0]["at"] == T0 + 60
    assert breathing[0]["data"]["completed"] is False
    # The second one runs until the session ends (50 s) but its 2 breaths take 32 s.
    assert breathing[1]["data"] == {"pattern": "box4", "name": "Box 4-4-4-4", "total": 2,
                                    "seconds": 32, "breaths": 2, "completed": True}
    # Follow-me switches: a page turn inside the canvas is not a second switch.
    switches = [e["data"]["activity"] for e in tl if e["kind"] == "switch"]
    assert switches == ["checkin", "calm", "canvas", "sandtray"]
    assert ("Dr. Kim", "switch", "showed everyone Draw") in lines
    assert ("Dr. Kim", "settings", "locked the room (no new joins)") in lines
    assert ("Dr. Kim", "settings", "turned follow me off") in lines
    assert ("Sam", "drawing", "drew on the canvas: 3 strokes") in lines
    assert ("Dr. Kim", "drawing", "drew on the canvas: 1 stamp") in lines
    assert ("Sam", "sandtray", "placed 2 figures in the sand tray") in lines
    snap = [e for e in tl if e["kind"] == "snapshot"]
    assert snap[0]["data"]["picture"] == "s1" and snap[0]["who"] == "Dr. Kim"
    assert ("Dr. Kim", "story", "read the story “When I feel angry” (3 pages of "
            f"{len(stories.READY['angry']['pages'])})") in lines
    assert ("Sam", "task.tick", "ticked step 1 “Wake up” (Getting ready in the morning)") in lines
    assert ("Dr. Kim", "task.prompt",
            "prompt level for step 1 “Wake up”: verbal (Getting ready in the morning)") in lines
    assert ("Dr. Kim", "private", "started private child time") in lines
    assert ("Dr. Kim", "remove", "removed Alex and switched off their link") in lines
    assert ("Alex", "leave", "left") in lines
    assert all(e["role"] in ("therapist", "child", "parent") for e in tl[1:])


def test_timeline_keeps_going_when_an_activity_fails_or_lacks_the_function(storage, room_id,
                                                                            registry, people):
    class Broken:
        NAME, TITLE = "broken", "Broken"

        @staticmethod
        def record_entries(ops, state=None, ended_at=None):
            raise RuntimeError("bug")

    class Silent:
        NAME, TITLE = "silent", "Silent"     # no record_entries at all

    registry.add(Broken)
    registry.add(Silent)
    ops = [{"seq": 1, "by": "x", "a": "broken", "t": "x", "kind": "do", "d": {}, "ts": T0},
           {"seq": 2, "by": "x", "a": "silent", "t": "x", "kind": "do", "d": {}, "ts": T0},
           {"seq": 3, "by": "x", "a": "room", "t": "session", "kind": "do",
            "d": {"state": "end", "at": T0}, "ts": T0},
           {"seq": 4, "by": "x", "a": "room", "t": "mystery", "kind": "do", "d": {}, "ts": T0}]
    tl = records.build_timeline(ops, [], registry)
    assert [(e["seq"], e["text"], e["who"]) for e in tl] == [(3, "ended the session", None),
                                                             (4, "room: mystery", None)]


# ====================================================================== activities

def ops_of(*specs, by="p1"):
    return [{"seq": i + 1, "by": b or by, "a": "x", "t": t, "kind": kind, "d": d,
             "ts": T0 + i, "op_id": f"o{i}", "target": None}
            for i, (t, d, kind, b) in enumerate(specs)]


def test_calm_breathing_durations_leave_out_pauses_and_stop_at_the_planned_breaths():
    ops = ops_of(("pacer.start", {"pattern": "478", "rounds": 4, "minutes": None, "at": T0}, "do", None),
                 ("pacer.pause", {"at": T0 + 19}, "do", None),
                 ("pacer.resume", {"at": T0 + 100}, "do", None),
                 ("pacer.start", {"pattern": "balloon", "rounds": None, "minutes": 1,
                                  "at": T0 + 110}, "do", None),
                 ("timer.start", {"minutes": 5, "at": T0 + 120}, "do", None))
    out = calm.record_entries(ops, calm.initial_state(), ended_at=T0 + 1000)
    first, second = [e for e in out if e["kind"] == "breathing"]
    # 19 s before the pause + 10 s after it, ended by the next start.
    assert first["data"]["seconds"] == 29 and first["data"]["breaths"] == 1
    assert first["text"] == "started breathing “4-7-8”: 29 s (1 of 4 breaths)"
    # One minute of balloon breaths (10 s each): 6 breaths, capped at 60 s.
    assert second["data"]["seconds"] == 60 and second["data"]["completed"] is True
    assert second["text"] == "started breathing “Balloon”: 1 min (6 of 6 breaths)"
    assert [e["text"] for e in out if e["kind"] == "timer"] == ["started a 5 min timer"]


def test_calm_an_undone_start_ends_the_exercise_and_saved_patterns_keep_their_name():
    paused = {"pattern": "mine", "name": "Mine", "timing": [2, 0, 2, 0], "total": 3,
              "started_at": None, "paused_at": None, "paused_total": 0, "running": False}
    ops = ops_of(("pattern.save", {"id": "mine", "name": "Slow waves", "inhale": 2, "hold": 0,
                                   "exhale": 2, "hold2": 0, "visual": "orb"}, "do", None),
                 ("pacer.start", {"pattern": "mine", "rounds": 3, "minutes": None, "at": T0 + 1},
                  "do", None),
                 ("pacer.restore", {"pacer": paused}, "undo", None))
    (entry,) = calm.record_entries(ops, None, ended_at=T0 + 500)
    assert entry["text"] == "started breathing “Slow waves”: 1 s (0 of 3 breaths)"


def test_checkin_entries_say_value_moment_and_taking_back():
    ops = ops_of(("ask", {"id": "q", "moment": "end", "at": T0}, "do", "th-1"),
                 ("checkin", {"id": "q", "value": 3, "moment": "end", "at": T0 + 1}, "do", "kid"),
                 ("checkin.remove", {"id": "q"}, "undo", "kid"),
                 ("checkin.delete", {"id": "old"}, "do", "th-1"))
    out = checkin.record_entries(ops)
    assert [(e["by"], e["kind"], e["text"]) for e in out] == [
        ("th-1", "ask", "asked for a check-in (end of session)"),
        ("kid", "checkin", "checked in: 3 of 5, okay (end of session)"),
        ("kid", "checkin.undo", "took back a check-in"),
        ("th-1", "checkin.delete", "deleted a check-in")]


def test_canvas_entries_count_per_person_and_pictures_only_of_pages_with_ink():
    ops = ops_of(("stroke", stroke(sid="a"), "do", "kid"), ("stroke", stroke(sid="b"), "do", "kid"),
                 ("stamp", stamp(sid="c"), "do", "kid"), ("page.add", {"page": "p2"}, "do", "th"),
                 ("clear", {"page": "p1"}, "do", "th"), ("items.restore", {"page": "p1"}, "undo", "th"))
    out = canvas.record_entries(ops)
    assert [(e["by"], e["text"]) for e in out] == [
        ("kid", "drew on the canvas: 2 strokes and 1 stamp"), ("th", "added a drawing page"),
        ("th", "cleared a drawing page")]
    state = canvas.initial_state()
    assert canvas.record_pictures(state) == []
    state, _ = canvas.apply(state, "page.add", {"page": "p2"})
    state, _ = canvas.apply(state, "stroke", stroke(page="p2"), by="kid")
    assert canvas.record_pictures(state) == [("p2", "Drawing, page 2")]


def test_sandtray_entries_and_pictures():
    ops = ops_of(("place", {"id": "f", "fig": "dragon", "x": 1, "y": 1, "rot": 0, "scale": 1,
                            "flip": False}, "do", "kid"),
                 ("sand", {"tool": "dig", "r": 3, "pts": [10, 10]}, "do", "kid"),
                 ("tray.save", {"id": "s1", "at": T0}, "do", "th"),
                 ("tray.new", {"id": "t2"}, "do", "th"))
    out = sandtray.record_entries(ops)
    assert [e["text"] for e in out] == ["placed 1 figure and shaped the sand in the sand tray",
                                        "saved the sand tray as a picture",
                                        "started a fresh sand tray"]
    assert out[1]["data"] == {"picture": "s1", "caption": "Saved sand tray"}
    state = sandtray.initial_state()
    assert sandtray.record_pictures(state) == []
    state, _ = sandtray.apply(state, "sand", {"tool": "dig", "r": 3, "pts": [10, 10]})
    assert sandtray.record_pictures(state) == [("current", "Sand tray at the end of the session")]


def test_stories_entries_read_pages_ticks_prompts_and_undo():
    ops = ops_of(("open", {"story": "angry", "page": 0}, "do", "th"),
                 ("page", {"page": 3}, "do", "kid"),
                 ("close", {}, "do", "th"),
                 ("task.tick", {"task": "handwashing", "step": 1, "done": True, "at": T0}, "do", "kid"),
                 ("task.tick", {"task": "handwashing", "step": 1, "done": False}, "undo", "kid"),
                 ("task.prompt", {"task": "handwashing", "step": 1, "level": None, "at": T0}, "do", "th"),
                 ("task.reset", {"task": "handwashing"}, "do", "th"))
    out = stories.record_entries(ops, stories.initial_state())
    n = len(stories.READY["angry"]["pages"])
    assert [e["text"] for e in out] == [
        f"read the story “When I feel angry” (2 pages of {n})",
        "ticked step 2 “Wet my hands” (Washing my hands)",
        "unticked step 2 “Wet my hands” (Washing my hands) (undo)",
        "cleared the prompt level of step 2 “Wet my hands” (Washing my hands)",
        "reset the checklist “Washing my hands”"]
    assert out[0]["data"]["pages"] == [0, 3]


def test_every_activity_entry_has_the_documented_shape(storage, room_id, registry, people):
    """Where an activity has record_entries, its entries are {seq, at, by, kind, text,
    data} with seqs of its own ops, and the text never names a person."""
    s = scripted_session(storage, room_id, registry, people)
    ops = storage.ops_since(room_id, 0)
    seen = 0
    for name in registry.names():
        fn = getattr(registry.get(name), "record_entries", None)
        if fn is None:
            continue
        mine = [o for o in ops if o["a"] == name]
        if not mine:
            continue                 # an activity the scripted session does not use
        out = fn(mine, s.states[name], T0 + 1000)
        assert out, name
        for e in out:
            assert set(e) == {"seq", "at", "by", "kind", "text", "data"}, (name, e)
            assert e["seq"] in {o["seq"] for o in mine} and isinstance(e["data"], dict)
            assert not any(n in e["text"] for n in ("Sam", "Alex", "Dr. Kim")), e
        seen += 1
    assert seen >= 5          # canvas, sandtray, calm, checkin, stories


# ====================================================================== the service

@pytest.fixture
def service(storage, registry):
    return records.RecordService(storage, registry, ROOT)


def test_close_session_stores_timeline_pictures_and_people(storage, room_id, registry, people,
                                                          service):
    s = scripted_session(storage, room_id, registry, people)
    last = storage.last_seq(room_id)
    rec = service.close_session(room_id, 1, last, s.states)
    assert rec["started_at"] == T0 and rec["ended_at"] == T0 + 1000
    assert (rec["first_seq"], rec["last_seq"]) == (1, last)
    assert sorted((p["name"], p["role"]) for p in rec["participants"]) == [
        ("Alex", "parent"), ("Dr. Kim", "therapist"), ("Sam", "child")]
    assert rec["timeline"][0]["text"] == "Session started"
    pics = storage.list_record_pictures(rec["id"])
    # The saved tray, then the canvas page and the tray as they were at the end.
    assert [p["caption"] for p in pics] == ["Saved sand tray", "Drawing, page 1",
                                            "Sand tray at the end of the session"]
    for p in pics:
        with Image.open(io.BytesIO(storage.get_record_picture(rec["id"], p["idx"]))) as img:
            assert img.format == "PNG" and img.width > 500
    # The record stands alone: the op log can go, the record stays the same.
    storage._run("DELETE FROM ops WHERE room_id=?", (room_id,))
    assert storage.get_record(rec["id"]) == rec
    # Calling again for the same session does not write a second record.
    assert service.close_session(room_id, 1, last, s.states)["id"] == rec["id"]
    assert len(storage.list_records(room_id)) == 1


def test_close_session_of_only_this_sessions_ops_and_untouched_activities_get_no_picture(
        storage, room_id, registry, people, service):
    s = Session(storage, room_id, registry)
    s.op(people["child"], "canvas", "stroke", stroke(sid="last-week"))
    first = s.op(people["therapist"], "room", "session", {"state": "start"}, at=T0)
    s.op(people["child"], "checkin", "checkin", {"id": "a", "value": 4, "moment": "start"}, at=T0 + 1)
    last = s.op(people["therapist"], "room", "session", {"state": "end"}, at=T0 + 60)
    rec = service.close_session(room_id, first, last, s.states)
    assert [e["kind"] for e in rec["timeline"]] == ["session", "checkin", "session"]
    assert storage.list_record_pictures(rec["id"]) == []      # the canvas was not used
    assert service.close_session("no-such-room", 1, 2, {}) is None


def test_close_session_never_raises(storage, room_id, registry, service, caplog):
    storage.append_op(room_id, "x", "o1", "room", "session", "do", None, '{"state": "start"}')
    assert service.close_session(room_id, "not a number", 1, {}) is None
    assert "building the record" in caplog.text


# ====================================================================== exports

def pdf_pages(data):
    assert data.startswith(b"%PDF")
    return len(re.findall(rb"/Type\s*/Page\b(?!s)", data))


def pdf_images(data):
    """The page images Pillow embedded (JPEG streams), opened with Pillow."""
    out = []
    for m in re.finditer(rb"/DCTDecode.*?stream\r?\n", data, re.S):
        end = data.index(b"endstream", m.end())
        with Image.open(io.BytesIO(data[m.end():end])) as img:
            img.load()
            out.append(img.copy())
    return out


@pytest.fixture
def stored(storage, room_id, registry, people, service):
    s = scripted_session(storage, room_id, registry, people)
    rec = service.close_session(room_id, 1, storage.last_seq(room_id), s.states)
    pics = [{**p, "png": storage.get_record_picture(rec["id"], p["idx"])}
            for p in storage.list_record_pictures(rec["id"])]
    return rec, pics


def test_pdf_has_the_timeline_and_one_page_per_picture(stored):
    rec, pics = stored
    notes = [{"text": "Sam <b>was</b> brave 🦊", "created_at": T0, "updated_at": T0}]
    data = records.record_pdf(rec, pics, notes)
    assert pdf_pages(data) == 1 + len(pics)
    images = pdf_images(data)
    assert len(images) == 1 + len(pics)
    assert all(img.size == records.PAGE for img in images)
    for img in images[1:]:           # each picture page shows a picture, not a blank page
        assert img.convert("L").crop((100, 200, 1140, 900)).getextrema()[0] < 200


def test_pdf_timeline_runs_onto_more_pages_when_long(stored):
    rec, _ = stored
    long = {**rec, "timeline": rec["timeline"] * 12}
    assert pdf_pages(records.record_pdf(long, [])) >= 3


def test_zip_holds_the_pngs_and_record_json(stored):
    rec, pics = stored
    notes = [{"text": "note", "created_at": T0, "updated_at": T0 + 1}]
    with zipfile.ZipFile(io.BytesIO(records.record_zip(rec, pics, notes))) as z:
        names = z.namelist()
        assert names[0] == "record.json" and len(names) == 1 + len(pics)
        data = json.loads(z.read("record.json"))
        assert data["timeline"] == rec["timeline"] and data["room"] == "Sam, 7"
        assert [p["file"] for p in data["pictures"]] == names[1:]
        assert data["notes"] == [{"text": "note", "created_at": T0, "updated_at": T0 + 1}]
        for name in names[1:]:
            assert name.endswith(".png")
            with Image.open(io.BytesIO(z.read(name))) as img:
                assert img.format == "PNG"


def test_room_settings_as_rooms_control_names_them(registry):
    """lock / freeze / follow / private flags and per-role permissions, and a guest
    named only by their presence op (no participant row)."""
    ops = [{"seq": 1, "by": "th-1", "a": "room", "t": "presence", "kind": "do", "ts": T0,
            "d": {"pid": "g1", "online": True, "name": "Robin", "role": "child", "at": T0}},
           {"seq": 2, "by": "th-1", "a": "room", "t": "settings", "kind": "do", "ts": T0,
            "d": {"lock": True, "freeze": False, "private": True, "at": T0 + 1,
                  "perms": {"child": {"canvas": False, "switch": True}}}}]
    tl = records.build_timeline(ops, [{"id": "th-1", "name": "Dr. Kim", "role": "therapist"}],
                                registry)
    assert [(e["who"], e["kind"], e["text"]) for e in tl] == [
        ("Robin", "join", "joined"),
        ("Dr. Kim", "settings", "locked the room (no new joins)"),
        ("Dr. Kim", "settings", "let everyone play again"),
        ("Dr. Kim", "private", "started private child time"),
        ("Dr. Kim", "settings", "stopped the child from being able to play in Draw"),
        ("Dr. Kim", "settings", "let the child switch activities")]


def test_WORK1_the_record_is_built_in_a_worker_and_stored_after(storage, room_id, registry, people):
    from rooms.core.offload import Offload
    calls = []

    def worker(fn, *args):                   # run() wraps the work: (_captured, fn, args)
        calls.append((args[0].__name__, storage.list_records(room_id)))
        return fn(*args)
    service = records.RecordService(storage, registry, ROOT, offload=Offload(worker))
    s = scripted_session(storage, room_id, registry, people)
    rec = service.close_session(room_id, 1, storage.last_seq(room_id), s.states)
    assert calls == [("_contents", [])]      # timeline and pictures, before anything is stored
    assert rec["timeline"] and storage.list_record_pictures(rec["id"])
