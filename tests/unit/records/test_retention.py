"""Record retention (rooms/records/retention.py): records older than their therapist's setting
are deleted by the command and by the periodic task — and nothing else is."""
import time

import pytest

from rooms.records import retention

DAY = 86400


def make_record(storage, room, ended_days_ago, now):
    ended = now - ended_days_ago * DAY
    return storage.create_record({
        "room_id": room["id"], "therapist_id": room["therapist_id"], "room_name": room["name"],
        "started_at": ended - 3600, "ended_at": ended, "first_seq": 1, "last_seq": 2,
        "participants": [], "timeline": []},
        [{"name": "01-canvas-p1.png", "caption": "x", "png": b"\x89PNG-fake"}])


@pytest.fixture
def world(storage):
    """Kim keeps records 30 days and has two rooms; Lee keeps them forever; Jo 7 days
    but has only fresh records. Each has an old and a new record where it matters."""
    now = time.time()
    kim = storage.create_therapist("kim@example.org", "Dr. Kim", "h")
    lee = storage.create_therapist("lee@example.org", "Dr. Lee", "h")
    jo = storage.create_therapist("jo@example.org", "Dr. Jo", "h")
    storage.set_retention_days(kim["id"], 30)
    storage.set_retention_days(jo["id"], 7)
    k1 = storage.create_room(kim["id"], "Sam", {})
    k2 = storage.create_room(kim["id"], "Ben", {})
    lr = storage.create_room(lee["id"], "Ada", {})
    jr = storage.create_room(jo["id"], "Max", {})
    w = {"now": now, "kim": kim, "lee": lee, "jo": jo, "rooms": (k1, k2, lr, jr),
         "old": [make_record(storage, k1, 31, now), make_record(storage, k2, 400, now)],
         "kept": [make_record(storage, k1, 29, now), make_record(storage, k2, 1, now),
                  make_record(storage, lr, 400, now), make_record(storage, jr, 6.9, now)]}
    w["old_note"] = storage.add_note(w["old"][0]["id"], "old note")
    w["kept_note"] = storage.add_note(w["kept"][0]["id"], "kept note")
    storage.append_op(k1["id"], "p", "o1", "canvas", "stroke", "do", None, "{}")
    return w


def assert_only_old_records_gone(storage, w):
    for rec in w["old"]:
        assert storage.get_record(rec["id"]) is None
        assert storage.get_record_picture(rec["id"], 0) is None
    assert storage.get_note(w["old_note"]["id"]) is None
    for rec in w["kept"]:
        assert storage.get_record(rec["id"]) == rec
        assert storage.get_record_picture(rec["id"], 0) == b"\x89PNG-fake"
    assert storage.get_note(w["kept_note"]["id"]) == w["kept_note"]
    # Nothing else: rooms, their op logs, accounts and settings stay.
    for room in w["rooms"]:
        assert storage.get_room(room["id"]) is not None
    assert len(storage.ops_since(w["rooms"][0]["id"], 0)) == 1
    assert storage.get_retention_days(w["kim"]["id"]) == 30
    assert storage.get_therapist(w["lee"]["id"]) is not None


def test_apply_retention_deletes_only_records_older_than_the_setting(storage, world):
    assert retention.apply_retention(storage, now=world["now"]) == 2
    assert_only_old_records_gone(storage, world)
    log = storage.list_audit(world["kim"]["id"])
    assert [e["action"] for e in log] == ["retention", "retention"]
    assert {e["record_id"] for e in log} == {r["id"] for r in world["old"]}
    assert storage.list_audit(world["lee"]["id"]) == []
    # AUDIT1: the security chain has them too, done by "system"
    events = storage.list_security_events(world["kim"]["id"])
    assert [(e["kind"], e["actor"]) for e in events] == [("record-delete", "system")] * 2
    assert {e["target"].split(":")[0] for e in events} == {f"record {r['id']}" for r in world["old"]}
    # A second run finds nothing more.
    assert retention.apply_retention(storage, now=world["now"]) == 0


def test_forever_keeps_everything(storage, world):
    storage.set_retention_days(world["kim"]["id"], None)
    assert retention.apply_retention(storage, now=world["now"]) == 0
    assert all(storage.get_record(r["id"]) for r in world["old"] + world["kept"])


def test_the_flask_command(app, pr, world, monkeypatch):
    """`flask --app app retention` on the app's own storage."""
    monkeypatch.delenv("PLAYROOM_INSTANCE", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    storage = pr.storage
    # Rebuild the same world in the app's storage.
    now = world["now"]
    th = storage.create_therapist("kim@example.org", "Dr. Kim", "h")
    storage.set_retention_days(th["id"], 30)
    room = storage.create_room(th["id"], "Sam", {})
    old, new = make_record(storage, room, 31, now), make_record(storage, room, 29, now)
    result = app.test_cli_runner().invoke(args=["retention"])
    assert result.exit_code == 0, result.output
    assert "Deleted 1 session record(s)" in result.output
    assert storage.get_record(old["id"]) is None and storage.get_record(new["id"]) == new


def test_the_command_uses_the_servers_instance_folder(app, tmp_path, monkeypatch):
    """PLAYROOM_INSTANCE names the server's data, as for `python app.py`."""
    from rooms.store.sqlite_store import SQLiteStorage
    other = tmp_path / "served"
    other.mkdir()
    store = SQLiteStorage(str(other / "playroom.sqlite3"))
    try:
        th = store.create_therapist("kim@example.org", "Dr. Kim", "h")
        store.set_retention_days(th["id"], 1)
        room = store.create_room(th["id"], "Sam", {})
        old = make_record(store, room, 2, time.time())
        monkeypatch.setenv("PLAYROOM_INSTANCE", str(other))
        monkeypatch.delenv("REDIS_URL", raising=False)
        result = app.test_cli_runner().invoke(args=["retention"])
        assert result.exit_code == 0 and "Deleted 1" in result.output, result.output
        assert store.get_record(old["id"]) is None
    finally:
        store.close()


class Stop(Exception):
    pass


def test_the_periodic_task_runs_each_interval_and_survives_a_failing_run(storage, world,
                                                                        monkeypatch):
    slept, runs = [], []
    real = retention.apply_retention

    def flaky(store, now=None):
        runs.append(1)
        if len(runs) == 1:
            raise RuntimeError("database busy")
        return real(store, now=world["now"])

    def sleep(seconds):
        slept.append(seconds)
        if len(slept) == 4:
            raise Stop()
    monkeypatch.setattr(retention, "apply_retention", flaky)
    with pytest.raises(Stop):
        retention.retention_loop(storage, sleep, 3600)
    assert slept == [60, 3600, 3600, 3600] and len(runs) == 3
    assert_only_old_records_gone(storage, world)
