"""Moving rooms between stores (rooms/store/transfer.py): a real room (ops through the
engine, a snapshot, invites, participants, uploads with their files, a session record
with pictures and notes, audit entries, a retention setting) goes SQLite -> Redis ->
SQLite and every record, the whole op log and every file come back identical; bad
files and collisions are refused before anything is written; the Flask CLI commands
do the same from the shell."""
import io
import json
import os

import pytest
from PIL import Image

from activities.registry import build_registry
from app import create_app
from rooms.records import service as records
from rooms.store import transfer
from rooms.assets import uploads
from rooms.core.engine import Engine
from rooms.store.redis_store import RedisStorage
from rooms.store.sqlite_store import SQLiteStorage
from tests.support import ROOT
from tests.unit.payloads import op, stroke


def files_under(root, keyring=None):
    """{relative path: bytes} of every file under `root` (upload files), opened with
    `keyring` when they are sealed at rest (each store seals under its own key)."""
    out = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            with open(path, "rb") as f:
                data = f.read()
            rel = os.path.relpath(path, root)
            if keyring is not None:
                uid = os.path.splitext(name)[0]
                data = keyring.open(data, uploads.UploadStore.aad(uid, rel.startswith("thumbs")))
            out[rel] = data
    return out


def everything(store, uploads_root=None):
    """Every record of a store (and the upload files under `uploads_root`), as
    comparable data."""
    out = {"therapists": store.list_therapists(), "rooms": {}, "uploads": {}, "retention": {},
           "audit": {}}
    for th in out["therapists"]:
        tid = th["id"]
        out["uploads"][tid] = store.list_uploads(tid)
        out["retention"][tid] = store.get_retention_days(tid)
        out["audit"][tid] = store.list_audit(tid, limit=100_000)
        for room in store.list_rooms(tid):
            rid = room["id"]
            out["rooms"][rid] = {"room": room, "invites": store.list_invites(rid),
                                 "participants": store.list_participants(rid),
                                 "snapshot": store.load_snapshot(rid),
                                 "ops": store.ops_since(rid, 0),
                                 "records": [{"record": store.get_record(r["id"]),
                                              "pictures": [(p, store.get_record_picture(r["id"], p["idx"]))
                                                           for p in store.list_record_pictures(r["id"])],
                                              "notes": store.list_notes(r["id"])}
                                             for r in store.list_records(rid)],
                                 "safety": {first: store.get_safety(rid, first)      # SAFE2
                                            for first in store.safety_sessions(rid)}}
    if uploads_root is not None:
        out["files"] = files_under(uploads_root, getattr(store, "keyring", None))
    return out


def make_room(store, email="kim@example.org", strokes=30):
    """A therapist and a room used for real: invites (one revoked), a child and a
    parent, strokes through the engine, an undo, a snapshot, more ops after it."""
    th = store.create_therapist(email, "Dr. Kim", "pbkdf2:sha256$hash")
    room = store.create_room(th["id"], "Sam 🦊, 7", {"child_may_draw": True, "parent_may_play": True})
    tag = email[0]
    child_inv = store.create_invite(room["id"], "child", tag + "c" * 63, 2_000_000_000.5)
    parent_inv = store.create_invite(room["id"], "parent", tag + "p" * 63, 2_000_000_000.0)
    store.revoke_invite(parent_inv["id"])
    child = store.create_participant(room["id"], "child", "Sam", "fox", child_inv["id"])
    parent = store.create_participant(room["id"], "parent", "Mum", "owl", parent_inv["id"])
    engine = Engine(store, build_registry(), lambda *a: None, snapshot_every=20)
    people = [{"id": child["id"], "role": "child"}, {"id": parent["id"], "role": "parent"},
              {"id": f"th-{th['id']}", "role": "therapist"}]
    for k in range(strokes):
        ack = engine.submit(room["id"], people[k % 3], op("stroke", stroke(f"s{k}"), op_id=f"op-{k}"))
        assert ack["ok"], ack
    undo = engine.history(room["id"], people[0], {"op_id": "u1", "a": "canvas", "action": "undo"})
    assert undo["ok"], undo
    engine.unload(room["id"])
    assert store.load_snapshot(room["id"]) is not None
    store.save_safety(room["id"], 1, '{"location": "home, 12 Oak St", "contact_phone": "555"}')
    return room["id"]


def add_upload(store, therapist_id, root, color=(200, 40, 40)):
    """A real picture through the sanitiser, its files under `root`, its metadata in
    `store`, as the upload page does it."""
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(buf, "PNG")
    clean = uploads.sanitise(buf.getvalue())
    uid = uploads.new_upload_id()
    uploads.UploadStore(root, getattr(store, "keyring", None)).save(uid, clean)
    store.create_upload(uid, therapist_id, clean.width, clean.height, len(clean.data))
    return uid


def make_full_room(store, root, email="kim@example.org"):
    """make_room, plus two uploads (real files), a session record written by the record
    service (with its rendered pictures), two notes (one edited), audit entries and a
    retention setting."""
    rid = make_room(store, email)
    tid = store.get_room(rid)["therapist_id"]
    add_upload(store, tid, root)
    add_upload(store, tid, root, (0, 90, 200))
    registry = build_registry()
    engine = Engine(store, registry, lambda *a: None)
    states = {name: engine.state(rid, name)[1] for name in registry.names()}
    rec = records.RecordService(store, registry, ROOT).close_session(rid, 1, store.last_seq(rid),
                                                                      states)
    assert rec is not None and store.list_record_pictures(rec["id"])
    note = store.add_note(rec["id"], "Sam drew a dragon 🐉, calmer after breathing.")
    store.add_note(rec["id"], "Ask about school next week.")
    store.update_note(note["id"], "Sam drew a dragon 🐉; calmer after breathing.")
    store.add_audit(tid, "view", "Session of today", record_id=rec["id"], room_id=rid)
    store.add_audit(tid, "export_pdf", "Session of today — PDF", record_id=rec["id"], room_id=rid)
    store.add_audit(tid, "retention", "Deleted automatically: older than 30 days", record_id="gone")
    store.set_retention_days(tid, 30)
    return rid


@pytest.fixture
def sqlite_factory(tmp_path):
    opened = []

    def make(name):
        opened.append(SQLiteStorage(str(tmp_path / f"{name}.sqlite3")))
        return opened[-1]
    yield make
    for s in opened:
        s.close()


@pytest.fixture
def redis_store(redis_url):
    s = RedisStorage(redis_url)
    yield s
    s.close()


def move(src, dst, room_id=None, src_root=None, dst_root=None):
    buf = io.StringIO()
    transfer.export_data(src, buf, room_id, src_root)
    text = buf.getvalue()
    counts = transfer.import_data(dst, io.StringIO(text), dst_root)
    return text, counts


def test_round_trip_sqlite_redis_sqlite_keeps_every_record_and_the_op_log(sqlite_factory,
                                                                           redis_store):
    first = sqlite_factory("first")
    rid = make_room(first)
    other = make_room(first, email="lee@example.org", strokes=5)
    before = everything(first)
    assert len(before["rooms"][rid]["ops"]) >= 31 and before["rooms"][rid]["snapshot"]

    text, counts = move(first, redis_store)
    assert counts["room"] == 2 and counts["op"] == sum(len(r["ops"]) for r in before["rooms"].values())
    assert everything(redis_store) == before

    back = sqlite_factory("back")
    text2, _ = move(redis_store, back)
    assert everything(back) == before
    # the files differ only in the time of export
    assert text.splitlines()[1:] == text2.splitlines()[1:]

    # the moved room goes on where it stopped: next seq, dedupe of old op ids, invites
    last = before["rooms"][rid]["room"]["seq"]
    child = before["rooms"][rid]["participants"][0]["id"]
    assert redis_store.append_op(rid, child, "op-0", "canvas", "stroke", "do", None, "{}") == (1, False)
    assert redis_store.append_op(rid, child, "new", "canvas", "stroke", "do", None, "{}") == (last + 1, True)
    assert redis_store.find_invite("k" + "c" * 63)["revoked_at"] is None
    assert redis_store.find_invite("k" + "p" * 63)["revoked_at"] is not None
    assert everything(redis_store)["rooms"][other] == before["rooms"][other]


def test_round_trip_carries_uploads_records_pictures_notes_audit_and_retention(
        sqlite_factory, redis_store, tmp_path):
    roots = [str(tmp_path / name / "uploads") for name in ("a", "b", "c")]
    first = sqlite_factory("first")
    rid = make_full_room(first, roots[0])
    other = make_room(first, email="lee@example.org", strokes=5)
    before = everything(first, roots[0])
    tid = before["rooms"][rid]["room"]["therapist_id"]
    assert len(before["uploads"][tid]) == 2 and len(before["files"]) == 4
    [rec] = before["rooms"][rid]["records"]
    assert rec["pictures"] and len(rec["notes"]) == 2 and len(before["audit"][tid]) == 3
    assert before["retention"][tid] == 30 and before["rooms"][other]["records"] == []

    text, counts = move(first, redis_store, src_root=roots[0], dst_root=roots[1])
    assert counts["upload"] == 2 and counts["upload file"] == 4
    assert (counts["record"], counts["note"], counts["audit"], counts["retention"]) == (1, 2, 3, 1)
    assert counts["record_picture"] == len(rec["pictures"])
    assert everything(redis_store, roots[1]) == before

    back = sqlite_factory("back")
    text2, _ = move(redis_store, back, src_root=roots[1], dst_root=roots[2])
    assert everything(back, roots[2]) == before
    assert text.splitlines()[1:] == text2.splitlines()[1:]
    # the same bytes: upload files, record pictures (real PNGs), op logs
    assert files_under(roots[2]) == files_under(roots[0])
    for _, png in everything(back)["rooms"][rid]["records"][0]["pictures"]:
        with Image.open(io.BytesIO(png)) as img:
            assert img.format == "PNG"
    assert back.ops_since(rid, 0) == first.ops_since(rid, 0)
    note = before["rooms"][rid]["records"][0]["notes"]
    assert any(n["updated_at"] > n["created_at"] for n in note)
    # what was restored in Redis is kept under the usual keys: deleting the room
    # deletes its records, pictures and notes there too
    assert redis_store.delete_room(rid)
    assert redis_store.get_record(rec["record"]["id"]) is None
    assert redis_store.list_record_pictures(rec["record"]["id"]) == []
    assert all(redis_store.get_note(n["id"]) is None for n in rec["notes"])


def test_rooms_of_one_therapist_move_one_at_a_time_with_their_records(sqlite_factory,
                                                                       redis_store, tmp_path):
    src_root, dst_root = str(tmp_path / "a"), str(tmp_path / "b")
    first = sqlite_factory("first")
    a = make_full_room(first, src_root)
    tid = first.get_room(a)["therapist_id"]
    b = first.create_room(tid, "Second", {})["id"]
    first.add_audit(tid, "view", "Session of another day", record_id="r-b", room_id=b)

    _, counts = move(first, redis_store, room_id=a, src_root=src_root, dst_root=dst_root)
    # the room's audit entries, not the therapist's others; all of the therapist's uploads
    assert counts["audit"] == 2 and counts["upload"] == 2 and counts["retention"] == 1
    assert redis_store.get_room(b) is None
    assert {e["room_id"] for e in redis_store.list_audit(tid)} == {a}

    _, counts = move(first, redis_store, room_id=b, src_root=src_root, dst_root=dst_root)
    # the therapist, their uploads (same files) and retention are there already
    assert counts == {"room": 1, "audit": 1}
    mine = everything(first, src_root)
    theirs = everything(redis_store, dst_root)
    assert theirs["rooms"] == mine["rooms"] and theirs["files"] == mine["files"]
    assert theirs["uploads"] == mine["uploads"] and theirs["retention"] == mine["retention"]
    # the entry about no room (a retention deletion) comes only with the whole export
    assert len(theirs["audit"][tid]) == 3 and len(mine["audit"][tid]) == 4


@pytest.fixture
def full_export(sqlite_factory, tmp_path):
    """The whole export of a SQLite store with a full room, as lines of text."""
    root = str(tmp_path / "src-uploads")
    first = sqlite_factory("first")
    make_full_room(first, root)
    buf = io.StringIO()
    transfer.export_data(first, buf, uploads_root=root)
    return buf.getvalue().splitlines()


@pytest.mark.parametrize("damage, message", [
    (lambda lines: lines[:len(lines) // 2], "cut short"),
    (lambda lines: "\n".join(lines)[:len("\n".join(lines)) // 2].splitlines(), "not JSON|cut short"),
    (lambda lines: ['{"format": "playroom-export", "version": 2, "scope": "all"}'] + lines[1:],
     "version 2"),
    (lambda lines: lines[:1] + lines[2:], "not earlier in the file"),      # no therapist line
    (lambda lines: [ln.replace('"png":"', '"png":"*') for ln in lines], "not base64"),
])
def test_a_damaged_full_export_writes_nothing_not_even_files(full_export, redis_store, tmp_path,
                                                             damage, message):
    root = str(tmp_path / "dst-uploads")
    bad = "\n".join(damage(full_export)) + "\n"
    with pytest.raises(transfer.TransferError, match=message):
        transfer.import_data(redis_store, io.StringIO(bad), root)
    assert redis_store.list_therapists() == [] and not os.path.exists(root)
    assert redis_store.r.dbsize() == 0


def _records_of(lines, kind):
    return [json.loads(ln)["record"] for ln in lines[1:-1] if json.loads(ln)["kind"] == kind]


@pytest.mark.parametrize("collide, message", [
    ("upload", "upload .* exists with other data"),
    ("file", "picture file of upload .* differs"),
    ("retention", "keeps records 7 days here"),
    ("record", "session record .* exists already"),
    ("note", "note .* exists already"),
])
def test_a_collision_with_the_target_writes_nothing(full_export, redis_store, tmp_path,
                                                    collide, message):
    root = str(tmp_path / "dst-uploads")
    [th] = _records_of(full_export, "therapist")
    redis_store.restore("therapist", th)               # the same therapist, already moved
    up = _records_of(full_export, "upload")[0]
    if collide == "upload":
        redis_store.create_upload(up["id"], th["id"], 1, 1, 1)
    elif collide == "file":
        os.makedirs(root)
        with open(os.path.join(root, up["id"] + ".webp"), "wb") as f:
            f.write(b"another picture")
    elif collide == "retention":
        redis_store.set_retention_days(th["id"], 7)
    else:                                 # the same record (or note) id under another room
        room = redis_store.create_room(th["id"], "Elsewhere", {})
        rec = _records_of(full_export, "record")[0]
        if collide == "record":
            redis_store.restore("record", {**rec, "room_id": room["id"]})
        else:
            other = redis_store.create_record({**rec, "room_id": room["id"]})
            redis_store.restore("note", {**_records_of(full_export, "note")[0],
                                         "record_id": other["id"]})
    before = everything(redis_store, root)
    with pytest.raises(transfer.TransferError, match=message):
        transfer.import_data(redis_store, io.StringIO("\n".join(full_export) + "\n"), root)
    assert everything(redis_store, root) == before


def test_audit_entries_restored_out_of_order_keep_the_logs_order(sqlite_factory, redis_store):
    """A reused therapist may have newer entries than the ones a later move brings."""
    th = {"id": 4, "email": "kim@example.org", "name": "Dr. Kim", "password_hash": "h",
          "created_at": 1.5}
    logs = []
    for store in (sqlite_factory("s"), redis_store):
        store.restore("therapist", th)
        for at, detail in [(5.0, "a"), (1.0, "b"), (3.0, "c"), (3.0, "d"), (0.5, "e"), (9.0, "f")]:
            store.restore("audit", {"therapist_id": 4, "at": at, "action": "view", "record_id": None,
                                    "room_id": None, "detail": detail})
        logs.append(store.list_audit(4))
    assert logs[0] == logs[1]
    assert [e["detail"] for e in logs[1]] == ["f", "a", "d", "c", "b", "e"]


def test_a_moved_room_loads_to_the_same_state(sqlite_factory, redis_store):
    first = sqlite_factory("first")
    rid = make_room(first, strokes=45)
    move(first, redis_store, room_id=rid)
    a = Engine(first, build_registry(), lambda *x: None)
    b = Engine(redis_store, build_registry(), lambda *x: None)
    assert a.state(rid, "canvas") == b.state(rid, "canvas")
    assert a.state(rid, "canvas")[0] == first.last_seq(rid)


def test_one_room_moves_alone_and_its_therapist_is_reused(sqlite_factory, redis_store):
    first = sqlite_factory("first")
    a = make_room(first)
    th = first.get_room(a)["therapist_id"]
    b = first.create_room(th, "Second", {})["id"]
    first.append_op(b, "p", "x", "canvas", "stroke", "do", None, "{}")
    move(first, redis_store, room_id=a)
    assert redis_store.get_room(b) is None and redis_store.get_room(a) == first.get_room(a)
    _, counts = move(first, redis_store, room_id=b)       # the therapist is there already
    assert "therapist" not in counts and counts["room"] == 1
    assert everything(redis_store) == everything(first)
    # a new therapist in the target gets a fresh id, not one of the moved ones
    assert redis_store.create_therapist("new@example.org", "New", "h")["id"] > th


def test_collisions_are_refused_before_anything_is_written(sqlite_factory):
    first, second = sqlite_factory("first"), sqlite_factory("second")
    rid = make_room(first)
    buf = io.StringIO()
    transfer.export_data(first, buf)
    transfer.import_data(second, io.StringIO(buf.getvalue()))
    snapshot = everything(second)
    with pytest.raises(transfer.TransferError, match="exists already"):
        transfer.import_data(second, io.StringIO(buf.getvalue()))
    assert everything(second) == snapshot
    # the same email under another id
    third = sqlite_factory("third")
    third.create_therapist("x@example.org", "Someone", "h")         # takes id 1
    third.create_therapist("kim@example.org", "Someone", "h")       # kim, under id 2
    with pytest.raises(transfer.TransferError, match="another therapist"):
        transfer.import_data(third, io.StringIO(buf.getvalue()))
    assert third.get_room(rid) is None


@pytest.mark.parametrize("damage, message", [
    (lambda lines: lines[:-1], "cut short"),
    (lambda lines: lines[:-3] + lines[-1:], "should hold"),
    (lambda lines: ['{"format": "something else"}'] + lines[1:], "not a Playroom export"),
    (lambda lines: ['{"format": "playroom-export", "version": 99}'] + lines[1:], "version"),
    (lambda lines: lines[:2] + ["{not json"] + lines[2:], "line 3: not JSON"),
    (lambda lines: lines[:2] + ['{"kind": "secret", "record": {}}'] + lines[2:], "unknown record kind"),
    (lambda lines: lines + ['{"kind": "op", "record": {}}'], "after the end marker"),
    (lambda lines: lines[:2] + ['{"kind": "room", "record": {"id": "x"}}'] + lines[2:], "lacks"),
    (lambda lines: lines[:2] + ['{"kind": "note", "record": {"id": "n", "record_id": "r", '
                                '"text": "", "created_at": 1, "updated_at": 1}}'] + lines[2:],
     "not earlier in the file"),
])
def test_damaged_files_are_refused_and_nothing_is_written(sqlite_factory, damage, message):
    first, second = sqlite_factory("first"), sqlite_factory("second")
    make_room(first, strokes=3)
    buf = io.StringIO()
    transfer.export_data(first, buf)
    bad = "\n".join(damage(buf.getvalue().splitlines())) + "\n"
    with pytest.raises(transfer.TransferError, match=message):
        transfer.import_data(second, io.StringIO(bad))
    assert second.list_therapists() == []


def test_export_of_an_unknown_room_is_an_error(sqlite_factory):
    with pytest.raises(transfer.TransferError, match="no room"):
        transfer.export_data(sqlite_factory("s"), io.StringIO(), "nope")


def test_flask_cli_export_then_import_into_redis(tmp_path, redis_url):
    sqlite_app = create_app({"INSTANCE_PATH": str(tmp_path / "a")})
    redis_app = create_app({"INSTANCE_PATH": str(tmp_path / "b"), "REDIS_URL": redis_url,
                            "MESSAGE_QUEUE": False})
    src = sqlite_app.extensions["playroom"].storage
    dst = redis_app.extensions["playroom"].storage
    try:
        rid = make_room(src)
        add_upload(src, src.get_room(rid)["therapist_id"], str(tmp_path / "a" / "uploads"))
        out = tmp_path / "room.jsonl"
        r = sqlite_app.test_cli_runner().invoke(args=["export-data", "--room", rid, str(out)])
        assert r.exit_code == 0 and "exported" in r.output, r.output
        first = json.loads(out.read_text().splitlines()[0])
        assert (first["format"], first["scope"]) == ("playroom-export", "room")
        again = sqlite_app.test_cli_runner().invoke(args=["export-data", str(out)])
        assert again.exit_code != 0 and "exists" in again.output
        missing = sqlite_app.test_cli_runner().invoke(args=["export-data", "--room", "nope",
                                                            str(tmp_path / "x.jsonl")])
        assert missing.exit_code != 0 and "no room" in missing.output
        assert not (tmp_path / "x.jsonl").exists()
        r = redis_app.test_cli_runner().invoke(args=["import-data", str(out)])
        assert r.exit_code == 0 and "imported" in r.output, r.output
        assert everything(dst, str(tmp_path / "b" / "uploads")) == \
            everything(src, str(tmp_path / "a" / "uploads"))
        assert len(files_under(str(tmp_path / "b" / "uploads"))) == 2
        r = redis_app.test_cli_runner().invoke(args=["import-data", str(out)])
        assert r.exit_code != 0 and "exists already" in r.output
    finally:
        src.close()
        dst.close()


def test_flask_cli_app_reads_the_store_from_the_environment(monkeypatch, tmp_path, redis_url):
    """`flask --app app ...` calls create_app() without config: REDIS_URL and
    PLAYROOM_INSTANCE come from the environment, and a command opens no message queue."""
    import socketio
    monkeypatch.setenv("PLAYROOM_INSTANCE", str(tmp_path))
    monkeypatch.setenv("REDIS_URL", redis_url)
    app = create_app()
    try:
        assert isinstance(app.extensions["playroom"].storage.inner, RedisStorage)
        assert app.config["INSTANCE_PATH"] == str(tmp_path)
        assert not isinstance(app.extensions["socketio"].server.manager, socketio.PubSubManager)
    finally:
        app.extensions["playroom"].storage.close()
