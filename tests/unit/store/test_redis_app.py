"""The app on Redis: with REDIS_URL set, create_app keeps everything in Redis (issue 8,
first step), and the whole path a person takes works on it unchanged."""
import os

import pytest

import app as app_module
from app import create_app
from rooms.store.redis_store import RedisStorage
from tests.support import ROOT
from tests.unit.payloads import op, stroke


@pytest.fixture
def app_config(redis_url):
    return {"REDIS_URL": redis_url}


def test_REDIS_URL_selects_the_redis_storage_and_no_sqlite_file(app, pr, redis_url):
    assert isinstance(pr.storage.inner, RedisStorage) and pr.storage.url == redis_url
    assert not os.path.exists(os.path.join(app.config["INSTANCE_PATH"], "playroom.sqlite3"))


def test_register_create_join_and_draw_on_redis(app, pr, therapist, room, make_guest, post_form,
                                                read_dashboard, tmp_path, redis_url):
    # register + create a room went through the real forms (fixtures); both are in Redis
    assert pr.storage.get_therapist_by_email(therapist.email)["id"] == therapist.therapist_id
    assert [r["id"] for r in pr.storage.list_rooms(therapist.therapist_id)] == [room.id]
    assert set(room.links) == {"child", "parent"}

    child = make_guest(room.links["child"], name="Sam", avatar="fox")
    part = pr.storage.get_participant(child.participant_id)
    assert (part["room_id"], part["role"], part["name"]) == (room.id, "child", "Sam")
    assert child.get(f"/room/{room.id}").status_code == 200

    me = {"id": child.participant_id, "role": "child"}
    first = op("stroke", stroke("kid-1"), op_id="kid-op-1")
    assert pr.engine.submit(room.id, me, first) == {"ok": True, "seq": 1}
    assert pr.engine.submit(room.id, therapist.participant, op("stroke", stroke("th-1")))["seq"] == 2
    assert pr.engine.submit(room.id, me, first) == {"ok": True, "seq": 1, "duplicate": True}
    assert [(o["seq"], o["by"]) for o in pr.storage.ops_since(room.id, 0)] == \
        [(1, child.participant_id), (2, therapist.participant["id"])]
    r = therapist.get(f"/rooms/{room.id}/export/canvas/p1.png")
    assert r.status_code == 200 and r.mimetype == "image/png"

    # a second app on the same Redis (a restarted process) has all of it
    pr.engine.unload(room.id)                               # writes a snapshot
    # (every process on one Redis shares the data key: here the first app's key file)
    again = create_app({"INSTANCE_PATH": str(tmp_path / "again"), "ASYNC_MODE": "threading",
                        "TESTING": True, "ASSETS_ROOT": ROOT, "REDIS_URL": redis_url,
                        "DATA_KEY_FILE": os.path.join(app.config["INSTANCE_PATH"], "data.key")})
    try:
        pr2 = again.extensions["playroom"]
        assert pr2.storage.load_snapshot(room.id)[0] == 2
        seq, state = pr2.engine.state(room.id, "canvas")
        assert seq == 2 and "kid-1" in repr(state) and "th-1" in repr(state)
        assert pr2.engine.submit(room.id, me, op("stroke", stroke("kid-2")))["seq"] == 3
    finally:
        again.extensions["playroom"].storage.close()

    # deleting the room on the dashboard leaves nothing of it in Redis
    assert post_form(therapist, "/dashboard", f"/rooms/{room.id}/delete", {}).status_code == 302
    assert pr.storage.get_room(room.id) is None
    assert pr.storage.get_participant(child.participant_id) is None
    assert not [k for k in pr.storage.r.keys("*") if room.id in k or ":invite" in k
                or ":participant" in k]
    assert room.id not in read_dashboard(therapist).sections


def test_main_reads_REDIS_URL_from_the_environment(monkeypatch, tmp_path, redis_url):
    served = {}
    monkeypatch.setattr(app_module, "serve", lambda app, host, port, mode: served.update(app=app))
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("PLAYROOM_ASYNC_MODE", "threading")
    monkeypatch.setenv("PLAYROOM_INSTANCE", str(tmp_path))
    app_module.main()
    storage = served["app"].extensions["playroom"].storage
    try:
        assert isinstance(storage.inner, RedisStorage) and storage.url == redis_url
    finally:
        storage.close()


def test_without_REDIS_URL_the_app_stays_on_sqlite(tmp_path):
    plain = create_app({"INSTANCE_PATH": str(tmp_path), "ASYNC_MODE": "threading"})
    storage = plain.extensions["playroom"].storage
    try:
        assert not isinstance(storage.inner, RedisStorage)
        assert os.path.exists(os.path.join(str(tmp_path), "playroom.sqlite3"))
    finally:
        storage.close()
