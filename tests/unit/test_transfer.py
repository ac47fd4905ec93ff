"""Moving rooms between stores (rooms/transfer.py): a real room (ops through the
engine, a snapshot, invites, participants) goes SQLite -> Redis -> SQLite and every
record and the whole op log come back identical; bad files and collisions are refused
before anything is written; the Flask CLI commands do the same from the shell."""
import io
import json

import pytest

from activities import build_registry
from app import create_app
from rooms import transfer
from rooms.engine import Engine
from rooms.redis_storage import RedisStorage
from rooms.storage import SQLiteStorage
from tests.unit.payloads import op, stroke


def everything(store):
    """Every record of a store, as comparable data."""
    out = {"therapists": store.list_therapists(), "rooms": {}}
    for th in out["therapists"]:
        for room in store.list_rooms(th["id"]):
            rid = room["id"]
            out["rooms"][rid] = {"room": room, "invites": store.list_invites(rid),
                                 "participants": store.list_participants(rid),
                                 "snapshot": store.load_snapshot(rid),
                                 "ops": store.ops_since(rid, 0)}
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
    return room["id"]


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


def move(src, dst, room_id=None):
    buf = io.StringIO()
    transfer.export_data(src, buf, room_id)
    text = buf.getvalue()
    counts = transfer.import_data(dst, io.StringIO(text))
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
        assert everything(dst) == everything(src)
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
        assert isinstance(app.extensions["playroom"].storage, RedisStorage)
        assert app.config["INSTANCE_PATH"] == str(tmp_path)
        assert not isinstance(app.extensions["socketio"].server.manager, socketio.PubSubManager)
    finally:
        app.extensions["playroom"].storage.close()
