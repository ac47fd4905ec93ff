"""Encryption at rest (issue 15 part 4, README "Encryption at rest"): with the app as
it starts by default, a child's nickname, a private note, a session record and an
uploaded picture leave no readable trace in the SQLite file (and its WAL), in Redis
(every value, and an uncompressed dump), or in the instance folder; everything still
reads back through the app; export -> import into a store with another key works;
`rotate-key` re-encrypts everything and keeps it readable."""
import base64
import io
import json
import os

import pytest
import redis as redis_lib
from PIL import Image

from app import create_app
from rooms.store.crypto import CryptoError, Keyring, read_keyring_file
from tests.support import ROOT
from tests.unit.assets.test_uploads import fetch, post
from tests.unit.payloads import op, stroke
from tests.unit.store.test_transfer import everything

MARKER = "QUOKKA93"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(params=["sqlite", "redis"])
def app_config(request):
    if request.param == "redis":
        return {"REDIS_URL": request.getfixturevalue("redis_url")}
    return {}


@pytest.fixture
def room(therapist, create_room):
    """Therapists name a room after the child: the name is sealed too."""
    return create_room(therapist, name=f"Sam's room {MARKER}")


def instance_bytes(app):
    """Every file under the instance folder except the key file, concatenated."""
    out = b""
    for folder, _, names in os.walk(app.config["INSTANCE_PATH"]):
        for name in names:
            if name != "data.key":
                with open(os.path.join(folder, name), "rb") as f:
                    out += f.read()
    return out


def redis_bytes(app, redis_server):
    """Every value of every key as Redis hands it out, plus an uncompressed RDB dump."""
    if not app.config.get("REDIS_URL"):
        return b""
    r = redis_lib.Redis.from_url(app.config["REDIS_URL"])
    out = []
    for key in r.scan_iter("*"):
        kind = r.type(key)
        if kind == b"hash":
            out += [k + v for k, v in r.hgetall(key).items()]
        elif kind == b"string":
            out.append(r.get(key))
        elif kind == b"zset":
            out += r.zrange(key, 0, -1)
        elif kind == b"list":
            out += r.lrange(key, 0, -1)
        out.append(key)
    r.config_set("rdbcompression", "no")     # LZF could hide a plain string from a grep
    r.save()
    with open(os.path.join(redis_server.workdir, r.config_get("dbfilename")["dbfilename"]),
              "rb") as f:
        out.append(f.read())
    return b"".join(out)


def a_used_room(app, pr, therapist, room, make_guest, post_form):
    """The child joins as "Sam <MARKER>" (presence op with the name), draws; the
    session ends into a record (timeline and pictures); the therapist writes a private
    note and uploads a picture; the room is unloaded (snapshot)."""
    child = make_guest(room.links["child"], name=f"Sam {MARKER}")
    me = pr.storage.get_participant(child.participant_id)
    pr.engine.present(room.id, me)
    ack = pr.engine.submit(room.id, {"id": me["id"], "role": "child"}, op("stroke", stroke("s1")))
    assert ack["ok"], ack
    ack = pr.engine.submit(room.id, therapist.participant, op(
        "page.save", {"page": "p1", "id": "keep1", "caption": f"{MARKER} drew her house"}))
    assert ack["ok"], ack
    states = {name: pr.engine.state(room.id, name)[1] for name in pr.registry.names()}
    rec = pr.records.close_session(room.id, 1, pr.storage.last_seq(room.id), states)
    assert rec is not None and pr.storage.list_record_pictures(rec["id"])
    r = post_form(therapist, f"/records/{rec['id']}", f"/records/{rec['id']}/notes",
                  {"text": f"Private: {MARKER} talked about school"})
    assert r.status_code == 302
    buf = io.BytesIO()
    Image.new("RGB", (120, 80), (10, 120, 200)).save(buf, "PNG")
    upload = post(therapist, buf.getvalue()).get_json()["upload"]
    pr.storage.save_safety(room.id, 1, json.dumps({"location": f"home {MARKER}"}))   # SAFE2
    pr.engine.unload(room.id)                         # writes the snapshot
    assert pr.storage.load_snapshot(room.id) is not None
    return rec, upload


def assert_nothing_readable(app, redis_server):
    stored = instance_bytes(app) + redis_bytes(app, redis_server)
    assert MARKER.encode() not in stored
    assert PNG_MAGIC not in stored and b"iVBORw0KGgo" not in stored   # record pictures (raw, base64)
    assert b"WEBP" not in stored                                       # uploaded pictures


def assert_reads_back(client, pr, room, rec, upload):
    page = client.get(f"/records/{rec['id']}").get_data(as_text=True)
    assert f"Private: {MARKER} talked about school" in page
    assert f"Sam {MARKER}" in page                                   # who, in the timeline
    assert f"{MARKER} drew her house" in page                        # a saved page's caption
    assert f"Sam&#39;s room {MARKER}" in page or f"Sam's room {MARKER}" in page
    assert any(p["name"] == f"Sam {MARKER}" for p in pr.storage.list_participants(room.id))
    pic = fetch(client, f"/records/{rec['id']}/pictures/0.png")
    assert pic.status_code == 200 and pic.data.startswith(PNG_MAGIC)
    for path in (f"/rooms/{room.id}/uploads/{upload['id']}.webp",
                 f"/rooms/{room.id}/uploads/{upload['id']}/thumb.webp"):
        r = fetch(client, path)
        assert r.status_code == 200 and r.data[8:12] == b"WEBP", path
    assert f"Sam {MARKER}" in pr.storage.load_snapshot(room.id)[1]   # the room's presence list
    assert any(op["d"].get("name") == f"Sam {MARKER}" for op in pr.storage.ops_since(room.id, 0))


def test_a_childs_name_notes_records_and_pictures_are_unreadable_at_rest(
        app, pr, therapist, room, make_guest, post_form, redis_server):
    rec, upload = a_used_room(app, pr, therapist, room, make_guest, post_form)
    assert_nothing_readable(app, redis_server)
    assert_reads_back(therapist, pr, room, rec, upload)


def test_export_is_plaintext_and_import_seals_under_the_targets_key(
        app, pr, therapist, room, make_guest, post_form, redis_server, tmp_path):
    rec, upload = a_used_room(app, pr, therapist, room, make_guest, post_form)
    out = tmp_path / "all.jsonl"
    r = app.test_cli_runner().invoke(args=["export-data", str(out)])
    assert r.exit_code == 0, r.output
    assert MARKER in out.read_text()                  # documented: protect the export file
    target = create_app({"INSTANCE_PATH": str(tmp_path / "target"), "ASYNC_MODE": "threading",
                         "TESTING": True, "ASSETS_ROOT": ROOT, "MESSAGE_QUEUE": False})
    try:
        r = target.test_cli_runner().invoke(args=["import-data", str(out)])
        assert r.exit_code == 0, r.output
        theirs = target.extensions["playroom"].storage
        assert theirs.keyring.current != pr.storage.keyring.current
        uploads = os.path.join(target.config["INSTANCE_PATH"], "uploads")
        assert everything(theirs, uploads) == \
            everything(pr.storage, os.path.join(app.config["INSTANCE_PATH"], "uploads"))
        assert_nothing_readable(target, redis_server)
    finally:
        target.extensions["playroom"].storage.close()


def test_rotate_key_reencrypts_everything_and_it_stays_readable(
        app, pr, therapist, room, make_guest, post_form, redis_server):
    rec, upload = a_used_room(app, pr, therapist, room, make_guest, post_form)
    key_file = os.path.join(app.config["INSTANCE_PATH"], "data.key")
    old = read_keyring_file(key_file)
    old_name = pr.storage.inner.list_participants(room.id)[0]["name"]
    before = everything(pr.storage, os.path.join(app.config["INSTANCE_PATH"], "uploads"))
    r = app.test_cli_runner().invoke(args=["rotate-key"])
    assert r.exit_code == 0, r.output
    new = read_keyring_file(key_file)
    assert list(new.keys) == [new.current] and new.current not in old.keys
    assert everything(pr.storage, os.path.join(app.config["INSTANCE_PATH"], "uploads")) == before
    assert_nothing_readable(app, redis_server)
    # the old key alone opens nothing any more: every value was sealed again, and the
    # old ciphertext is gone from the SQLite file and its WAL too
    raw = pr.storage.inner.list_participants(room.id)[0]
    with pytest.raises(CryptoError, match="does not hold"):
        old.open_text(raw["name"], f"participants.name|{room.id}")
    # SAFE2: the session's location was sealed again under the new key alone
    assert MARKER in new.open_text(pr.storage.inner.get_safety(room.id, 1), f"session_safety|{room.id}|1")
    if not app.config.get("REDIS_URL"):
        assert old_name.split(":", 1)[1].encode() not in instance_bytes(app)
    assert_reads_back(therapist, pr, room, rec, upload)


def test_an_interrupted_rotation_is_finished_by_running_it_again(
        app, pr, therapist, room, make_guest, post_form, redis_server):
    """A crash after the new key was written (both keys kept) and before any value was
    sealed again: the next run finishes with that key and drops the old one."""
    rec, upload = a_used_room(app, pr, therapist, room, make_guest, post_form)
    key_file = os.path.join(app.config["INSTANCE_PATH"], "data.key")
    old = read_keyring_file(key_file)
    both = Keyring({**old.keys, "k-new": os.urandom(32)}, "k-new")
    with open(key_file, "w") as f:
        json.dump(both.to_file(), f)
    r = app.test_cli_runner().invoke(args=["rotate-key"])
    assert r.exit_code == 0, r.output
    assert list(read_keyring_file(key_file).keys) == ["k-new"]
    fresh = create_app({"INSTANCE_PATH": app.config["INSTANCE_PATH"], "ASYNC_MODE": "threading",
                        "TESTING": True, "ASSETS_ROOT": ROOT, "MESSAGE_QUEUE": False,
                        "OPEN_SIGNUP": True, **({"REDIS_URL": app.config["REDIS_URL"]}
                                                if app.config.get("REDIS_URL") else {})})
    try:
        storage = fresh.extensions["playroom"].storage
        assert storage.keyring.current == "k-new"
        assert [n["text"] for n in storage.list_notes(rec["id"])] == \
            [f"Private: {MARKER} talked about school"]
        assert any(p["name"] == f"Sam {MARKER}" for p in storage.list_participants(room.id))
    finally:
        fresh.extensions["playroom"].storage.close()


def test_an_app_with_another_data_key_refuses_to_start_on_the_data(app, pr, therapist, room):
    """A lost data.key silently replaced by a new one (or a worker given another key)
    would write values nobody can read next to the old ones: the app stops with the
    reason instead."""
    config = {"INSTANCE_PATH": app.config["INSTANCE_PATH"], "ASYNC_MODE": "threading",
              "DATABASE": app.config["DATABASE"], "MESSAGE_QUEUE": False,
              "DATA_KEY": base64.b64encode(os.urandom(32)).decode(),
              **({"REDIS_URL": app.config["REDIS_URL"]} if app.config.get("REDIS_URL") else {})}
    with pytest.raises(SystemExit, match="cannot read the stored data with this data key.*"
                                         "does not hold"):
        create_app(config)


def test_rotate_key_refuses_a_key_from_the_environment_and_changes_nothing(tmp_path):
    key = base64.b64encode(os.urandom(32)).decode()
    app = create_app({"INSTANCE_PATH": str(tmp_path), "ASYNC_MODE": "threading",
                      "MESSAGE_QUEUE": False, "DATA_KEY": key})
    try:
        r = app.test_cli_runner().invoke(args=["rotate-key"])
        assert r.exit_code != 0 and "PLAYROOM_DATA_KEY" in r.output
        assert not (tmp_path / "data.key").exists()
    finally:
        app.extensions["playroom"].storage.close()
