"""The storage contract every backend honours (rooms/store/sqlite_store.py docstring).

The tests run once per entry in BACKENDS: SQLite in a temporary file, and Redis on a
real redis-server the tests start on a free loopback port (tests/conftest.py,
`redis_server`; emptied before each test). A factory returns a function that opens
one more instance on the test's data, as another process would.
"""
import json
import sqlite3
import threading

import pytest

from rooms.store.crypto import Keyring
from rooms.store.redis_store import RedisStorage
from rooms.store.sealed import SealedStorage
from rooms.store.sqlite_store import SQLiteStorage

# What creating a record under a missing parent raises (SQLite: its foreign keys).
MISSING_PARENT = (KeyError, sqlite3.IntegrityError)


def _sqlite(request, tmp_path):
    path = str(tmp_path / "contract.sqlite3")
    return lambda: SQLiteStorage(path)


def _redis(request, tmp_path):
    url = request.getfixturevalue("redis_url")
    return lambda: RedisStorage(url)


def _sealed(plain):
    """The same backend behind SealedStorage (encryption at rest keeps the contract)."""
    def opener(request, tmp_path):
        open_inner = plain(request, tmp_path)
        keyring = Keyring({"k1": bytes(range(32))}, "k1")
        return lambda: SealedStorage(open_inner(), keyring)
    return opener


BACKENDS = {"sqlite": _sqlite, "redis": _redis,
            "sealed-sqlite": _sealed(_sqlite), "sealed-redis": _sealed(_redis)}


@pytest.fixture(params=sorted(BACKENDS))
def open_store(request, tmp_path):
    """open_store() -> a new storage instance on this test's data (closed at the end)."""
    opener = BACKENDS[request.param](request, tmp_path)
    opened = []

    def open_():
        opened.append(opener())
        return opened[-1]
    yield open_
    for s in opened:
        s.close()


@pytest.fixture
def store(open_store):
    return open_store()


@pytest.fixture
def th(store):
    return store.create_therapist("kim@example.org", "Dr. Kim", "hash")


@pytest.fixture
def room(store, th):
    return store.create_room(th["id"], "Sam, 7", {"child_may_draw": True})


def append(store, room_id, pid="p", op_id=None, n=None, t="stroke", kind="do", target=None,
           payload=None):
    return store.append_op(room_id, pid, op_id or f"op-{n}", "canvas", t, kind, target,
                           json.dumps(payload if payload is not None else {"n": n}))


class TestTherapists:
    def test_create_and_get(self, store):
        rec = store.create_therapist("kim@example.org", "Dr. Kim", "hash")
        assert (rec["email"], rec["name"], rec["password_hash"]) == ("kim@example.org", "Dr. Kim", "hash")
        assert store.get_therapist(rec["id"]) == rec
        assert store.get_therapist_by_email("kim@example.org") == rec

    def test_email_is_unique(self, store):
        first = store.create_therapist("kim@example.org", "Dr. Kim", "hash")
        assert store.create_therapist("kim@example.org", "Someone Else", "other") is None
        assert store.get_therapist_by_email("kim@example.org") == first

    def test_unknown_is_none(self, store):
        assert store.get_therapist(12345) is None
        assert store.get_therapist_by_email("nobody@example.org") is None

    def test_AUTH4_end_sessions_moves_the_session_epoch_on(self, open_store, store):
        rec = store.create_therapist("kim@example.org", "Dr. Kim", "hash")
        other = store.create_therapist("lee@example.org", "Dr. Lee", "hash")
        assert rec["session_epoch"] == 0
        assert store.end_sessions(rec["id"]) == 1 and store.end_sessions(rec["id"]) == 2
        again = open_store()                      # another process sees it at once
        assert again.get_therapist(rec["id"])["session_epoch"] == 2
        assert again.get_therapist_by_email("kim@example.org")["session_epoch"] == 2
        assert again.get_therapist(other["id"]) == other            # only theirs
        assert store.end_sessions(12345) is None and store.get_therapist(12345) is None
        assert store.end_sessions("1:x") is None


class TestRooms:
    def test_create_get(self, store, th):
        room = store.create_room(th["id"], "Sam, 7", {"child_may_draw": True, "parent_may_play": False})
        assert room["name"] == "Sam, 7" and room["therapist_id"] == th["id"]
        assert room["settings"] == {"child_may_draw": True, "parent_may_play": False}
        assert room["seq"] == 0
        assert store.get_room(room["id"]) == room

    def test_room_ids_are_unguessable_and_distinct(self, store, th):
        ids = {store.create_room(th["id"], f"r{k}", {})["id"] for k in range(20)}
        assert len(ids) == 20 and all(len(i) >= 12 for i in ids)

    def test_list_only_the_therapists_rooms_newest_first(self, store, th):
        other = store.create_therapist("lee@example.org", "Dr. Lee", "hash")
        a = store.create_room(th["id"], "A", {})
        store.create_room(other["id"], "Not mine", {})
        b = store.create_room(th["id"], "B", {})
        assert [r["id"] for r in store.list_rooms(th["id"])] == [b["id"], a["id"]]
        assert [r["name"] for r in store.list_rooms(other["id"])] == ["Not mine"]

    def test_update_settings(self, store, room):
        store.update_settings(room["id"], {"child_may_draw": False})
        assert store.get_room(room["id"])["settings"] == {"child_may_draw": False}

    def test_delete(self, store, room):
        assert store.delete_room(room["id"]) is True
        assert store.get_room(room["id"]) is None
        assert store.delete_room(room["id"]) is False

    def test_unknown_room_is_none(self, store):
        assert store.get_room("nope") is None


class TestInvites:
    def test_create_find_by_hash(self, store, room):
        inv = store.create_invite(room["id"], "child", "h" * 64, 2_000_000_000.0)
        assert (inv["room_id"], inv["role"], inv["token_hash"]) == (room["id"], "child", "h" * 64)
        assert inv["expires_at"] == 2_000_000_000.0 and inv["revoked_at"] is None
        assert store.find_invite("h" * 64) == inv
        assert store.get_invite(inv["id"]) == inv
        assert store.find_invite("x" * 64) is None

    def test_revoke_once(self, store, room):
        inv = store.create_invite(room["id"], "child", "h1", 2e9)
        assert store.revoke_invite(inv["id"]) is True
        revoked = store.find_invite("h1")
        assert revoked["revoked_at"] is not None
        assert store.revoke_invite(inv["id"]) is False
        assert store.find_invite("h1")["revoked_at"] == revoked["revoked_at"]

    def test_list_per_room_in_creation_order(self, store, room, th):
        other = store.create_room(th["id"], "Other", {})
        a = store.create_invite(room["id"], "child", "h1", 2e9)
        store.create_invite(other["id"], "child", "h2", 2e9)
        b = store.create_invite(room["id"], "parent", "h3", 2e9)
        assert [i["id"] for i in store.list_invites(room["id"])] == [a["id"], b["id"]]


class TestParticipants:
    def test_create_get_list(self, store, room, th):
        inv = store.create_invite(room["id"], "child", "h1", 2e9)
        p = store.create_participant(room["id"], "child", "Sam", "fox", inv["id"])
        assert (p["room_id"], p["role"], p["name"], p["avatar"], p["invite_id"]) == \
            (room["id"], "child", "Sam", "fox", inv["id"])
        q = store.create_participant(room["id"], "parent", "Mum", "owl")
        other = store.create_room(th["id"], "Other", {})
        store.create_participant(other["id"], "child", "Alex", "cat")
        assert store.get_participant(p["id"]) == p
        assert [x["id"] for x in store.list_participants(room["id"])] == [p["id"], q["id"]]
        assert store.get_participant("nope") is None


class TestOpLog:
    def test_SEQ1_append_assigns_1_to_n(self, store, room):
        assert [append(store, room["id"], n=k) for k in range(1, 6)] == [(k, True) for k in range(1, 6)]
        assert store.last_seq(room["id"]) == 5
        assert store.get_room(room["id"])["seq"] == 5

    def test_SEQ2_duplicate_returns_original_seq_and_writes_nothing(self, store, room):
        append(store, room["id"], op_id="a", n=1)
        append(store, room["id"], op_id="b", n=2)
        assert append(store, room["id"], op_id="a", payload={"n": "changed"}) == (1, False)
        assert store.last_seq(room["id"]) == 2
        ops = store.ops_since(room["id"], 0)
        assert [o["op_id"] for o in ops] == ["a", "b"] and ops[0]["d"] == {"n": 1}
        assert append(store, room["id"], op_id="c", n=3) == (3, True)

    def test_SEQ2_op_ids_are_scoped_per_participant(self, store, room):
        assert append(store, room["id"], pid="kid", op_id="x") == (1, True)
        assert append(store, room["id"], pid="mum", op_id="x") == (2, True)
        assert store.find_op(room["id"], "kid", "x") == 1
        assert store.find_op(room["id"], "mum", "x") == 2
        assert store.find_op(room["id"], "dad", "x") is None

    def test_SEQ1_rooms_have_independent_sequences(self, store, room, th):
        other = store.create_room(th["id"], "Other", {})
        append(store, room["id"], n=1)
        append(store, room["id"], n=2)
        assert append(store, other["id"], n=1) == (1, True)
        assert append(store, room["id"], op_id="same-id", n=3) == (3, True)
        assert append(store, other["id"], op_id="same-id", n=2) == (2, True)
        assert store.last_seq(other["id"]) == 2

    def test_ops_since_in_order_with_all_fields(self, store, room):
        append(store, room["id"], pid="th-1", op_id="a", n=1)
        append(store, room["id"], pid="kid", op_id="b", t="items.remove", kind="undo",
               target="kid", payload={"page": "p1", "ids": ["s1"]})
        append(store, room["id"], pid="kid", op_id="c", n=3)
        ops = store.ops_since(room["id"], 1)
        assert [o["seq"] for o in ops] == [2, 3]
        first = ops[0]
        assert (first["by"], first["op_id"], first["a"], first["t"], first["kind"], first["target"]) == \
            ("kid", "b", "canvas", "items.remove", "undo", "kid")
        assert first["d"] == {"page": "p1", "ids": ["s1"]}
        assert isinstance(first["ts"], float)

    def test_ops_since_limit_and_bounds(self, store, room):
        for k in range(1, 8):
            append(store, room["id"], n=k)
        assert [o["seq"] for o in store.ops_since(room["id"], 2, limit=3)] == [3, 4, 5]
        assert store.ops_since(room["id"], 7) == []
        assert store.ops_since(room["id"], 100) == []
        assert store.ops_since(room["id"], 2, limit=0) == []
        assert [o["seq"] for o in store.ops_since(room["id"], 5, limit=10)] == [6, 7]
        assert [o["seq"] for o in store.ops_since(room["id"], 0)] == list(range(1, 8))

    @pytest.mark.parametrize("gone", ["deleted", "never existed"])
    def test_append_to_a_missing_room_raises_and_writes_nothing(self, store, room, gone):
        room_id = room["id"] if gone == "deleted" else "no-such-room"
        if gone == "deleted":
            append(store, room_id, n=1)
            store.delete_room(room_id)
        with pytest.raises(KeyError):
            append(store, room_id, op_id="late", n=2)
        assert store.ops_since(room_id, 0) == []
        assert store.find_op(room_id, "p", "late") is None
        assert store.last_seq(room_id) == 0
        assert store.get_room(room_id) is None


class TestSnapshots:
    def test_none_until_saved(self, store, room):
        assert store.load_snapshot(room["id"]) is None

    def test_keeps_the_newest_seq(self, store, room):
        store.save_snapshot(room["id"], 5, '{"v": 5}')
        assert store.load_snapshot(room["id"]) == (5, '{"v": 5}')
        store.save_snapshot(room["id"], 3, '{"v": 3}')          # late, older writer
        assert store.load_snapshot(room["id"]) == (5, '{"v": 5}')
        store.save_snapshot(room["id"], 9, '{"v": 9}')
        assert store.load_snapshot(room["id"]) == (9, '{"v": 9}')

    def test_per_room(self, store, room, th):
        other = store.create_room(th["id"], "Other", {})
        store.save_snapshot(room["id"], 5, "a")
        assert store.load_snapshot(other["id"]) is None


def test_delete_room_removes_everything_it_held(store, room, th):
    keep = store.create_room(th["id"], "Keep", {})
    inv = store.create_invite(room["id"], "child", "h-del", 2e9)
    part = store.create_participant(room["id"], "child", "Sam", "fox", inv["id"])
    append(store, room["id"], n=1)
    store.save_snapshot(room["id"], 1, "{}")
    kept_inv = store.create_invite(keep["id"], "child", "h-keep", 2e9)
    kept_part = store.create_participant(keep["id"], "child", "Alex", "cat", kept_inv["id"])
    append(store, keep["id"], n=1)

    assert store.delete_room(room["id"])
    assert store.get_room(room["id"]) is None
    assert store.list_invites(room["id"]) == []
    assert store.find_invite("h-del") is None and store.get_invite(inv["id"]) is None
    assert store.get_participant(part["id"]) is None and store.list_participants(room["id"]) == []
    assert store.ops_since(room["id"], 0) == []
    assert store.load_snapshot(room["id"]) is None
    assert [r["id"] for r in store.list_rooms(th["id"])] == [keep["id"]]
    # the neighbour is untouched
    assert store.find_invite("h-keep") == kept_inv
    assert store.get_participant(kept_part["id"]) == kept_part
    assert len(store.ops_since(keep["id"], 0)) == 1


def test_data_survives_reopening(open_store):
    first = open_store()
    th = first.create_therapist("kim@example.org", "Dr. Kim", "hash")
    room = first.create_room(th["id"], "Sam", {})
    append(first, room["id"], n=1)
    first.close()
    again = open_store()
    assert again.get_therapist(th["id"]) == th
    assert again.last_seq(room["id"]) == 1
    assert append(again, room["id"], n=2) == (2, True)
    assert append(again, room["id"], n=1) == (1, False)


class TestRecords:
    """Both backends give back the same fields with the same types."""

    def test_fields_and_types(self, store, th, room):
        assert set(th) == {"id", "email", "name", "password_hash", "created_at", "session_epoch"}
        assert type(th["id"]) is int and type(th["created_at"]) is float
        assert type(th["session_epoch"]) is int
        assert set(room) == {"id", "therapist_id", "name", "settings", "seq", "created_at"}
        assert type(room["therapist_id"]) is int and type(room["seq"]) is int
        inv = store.create_invite(room["id"], "child", "h1", 2_000_000_000)    # an int expiry
        assert set(inv) == {"id", "room_id", "role", "token_hash", "created_at", "expires_at",
                            "revoked_at"}
        assert type(inv["expires_at"]) is float and inv["expires_at"] == 2e9
        part = store.create_participant(room["id"], "child", "Sam", "fox")
        assert set(part) == {"id", "room_id", "role", "name", "avatar", "invite_id", "created_at"}
        assert part["invite_id"] is None and type(part["created_at"]) is float
        append(store, room["id"], n=1)
        assert set(store.ops_since(room["id"], 0)[0]) == {"seq", "by", "op_id", "a", "t", "kind",
                                                          "target", "d", "ts"}

    def test_values_round_trip_exactly(self, store):
        th = store.create_therapist("zoë+🦊@example.org", "Dr. Zoë \"Z\" O'Neil", "h:a$h")
        assert store.get_therapist_by_email("zoë+🦊@example.org") == th
        assert th["name"] == "Dr. Zoë \"Z\" O'Neil" and th["password_hash"] == "h:a$h"
        settings = {"child_may_draw": True, "zero": 0, "tenth": 0.1, "big": 2**53 + 1,
                    "none": None, "nested": [1, "ü", {"x": []}], "fox": "🦊"}
        room = store.create_room(th["id"], "Sam 🦊, 7", settings)
        assert store.get_room(room["id"])["settings"] == settings
        assert store.get_room(room["id"])["name"] == "Sam 🦊, 7"
        part = store.create_participant(room["id"], "child", "", "", None)
        assert (part["name"], part["avatar"], part["invite_id"]) == ("", "", None)
        expiry = 1_900_000_000.123456
        inv = store.create_invite(room["id"], "parent", "tøken", expiry)
        assert store.find_invite("tøken")["expires_at"] == expiry
        payload = {"pts": [0.1, 1e-7, 123456.789, -0.0], "s": "ü🦊", "n": None, "t": True}
        append(store, room["id"], pid=part["id"], op_id="ü", target=None, payload=payload)
        store.append_op(room["id"], part["id"], "", "canvas", "stroke", "undo", "", "[]")
        first, second = store.ops_since(room["id"], 0)
        assert first["d"] == payload and first["target"] is None and first["op_id"] == "ü"
        assert (second["op_id"], second["target"], second["d"]) == ("", "", [])
        assert store.find_op(room["id"], part["id"], "") == 2
        store.save_snapshot(room["id"], 2, '{"ü": "🦊"}')
        assert store.load_snapshot(room["id"]) == (2, '{"ü": "🦊"}')
        assert store.get_invite(inv["id"]) == inv


def test_records_under_a_missing_parent_are_refused_and_nothing_is_written(store, room, th):
    store.delete_room(room["id"])
    with pytest.raises(MISSING_PARENT):
        store.create_invite(room["id"], "child", "h-late", 2e9)
    assert store.find_invite("h-late") is None and store.list_invites(room["id"]) == []
    with pytest.raises(MISSING_PARENT):
        store.create_participant(room["id"], "child", "Sam", "fox")
    assert store.list_participants(room["id"]) == []
    with pytest.raises(MISSING_PARENT):
        store.save_snapshot(room["id"], 1, "{}")
    assert store.load_snapshot(room["id"]) is None
    store.update_settings(room["id"], {"child_may_draw": False})
    assert store.get_room(room["id"]) is None
    assert store.revoke_invite("no-such-invite") is False
    with pytest.raises(MISSING_PARENT):
        store.create_room(987654, "Nobody's", {})
    assert store.list_rooms(987654) == []


def test_ids_that_name_other_records_find_nothing(store, room, th):
    """Ids come from URLs and messages: none may reach another record (in Redis, a
    key with a suffix such as `<room>:ops`)."""
    rid = room["id"]
    inv = store.create_invite(rid, "child", "h1", 2e9)
    part = store.create_participant(rid, "child", "Sam", "fox", inv["id"])
    append(store, rid, n=1)
    store.save_snapshot(rid, 1, "{}")
    for suffix in (":ops", ":op-ids", ":invites", ":participants", ":snapshot", ":rooms", ":"):
        bad = rid + suffix
        assert store.get_room(bad) is None
        assert store.ops_since(bad, 0) == [] and store.last_seq(bad) == 0
        assert store.load_snapshot(bad) is None and store.find_op(bad, "p", "op-1") is None
        assert store.list_invites(bad) == [] and store.list_participants(bad) == []
        with pytest.raises(KeyError):
            append(store, bad, op_id="evil")
        store.update_settings(bad, {"evil": True})
        assert store.delete_room(bad) is False
        assert store.get_invite(inv["id"] + suffix) is None
        assert store.revoke_invite(inv["id"] + suffix) is False
        assert store.get_participant(part["id"] + suffix) is None
        assert store.get_therapist(f"{th['id']}{suffix}") is None
        assert store.list_rooms(f"{th['id']}{suffix}") == []
    assert store.get_room(rid) == room | {"seq": 1}
    assert store.last_seq(rid) == 1 and store.get_invite(inv["id"]) == inv
    assert store.get_participant(part["id"]) == part


@pytest.mark.parametrize("instances", ["one shared", "one per writer"])
def test_SEQ1_SEQ2_concurrent_appends_get_consecutive_seqs_and_dedupe(open_store, store, room,
                                                                      instances):
    """Writers append at once; two writers per participant send the same op ids (every
    op races its own retry). Seqs are 1..N with no gap or repeat, each op is stored
    once, both senders of an op get its one seq, and a participant's ops keep their
    order. "one per writer" opens a storage per thread, as separate processes would."""
    writers, per = 8, 40
    stores = [store if instances == "one shared" else open_store() for _ in range(writers)]
    barrier = threading.Barrier(writers)
    results, errors = [None] * writers, []

    def work(k):
        pid = f"p{k // 2}"
        try:
            barrier.wait(10)
            results[k] = [append(stores[k], room["id"], pid=pid, op_id=f"op-{i}",
                                 payload={"by": pid, "i": i}) for i in range(per)]
        except BaseException as e:   # reported below, in the test's thread
            errors.append(e)
    threads = [threading.Thread(target=work, args=(k,)) for k in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    total = writers // 2 * per
    assert sorted(seq for res in results for seq, created in res if created) == \
        list(range(1, total + 1))
    for k in range(0, writers, 2):
        a, b = results[k], results[k + 1]
        assert [seq for seq, _ in a] == [seq for seq, _ in b]
        assert all(ca != cb for (_, ca), (_, cb) in zip(a, b))
    ops = store.ops_since(room["id"], 0)
    assert [o["seq"] for o in ops] == list(range(1, total + 1))
    assert store.last_seq(room["id"]) == total
    for k in range(0, writers, 2):
        mine = [o for o in ops if o["by"] == f"p{k // 2}"]
        assert [o["op_id"] for o in mine] == [f"op-{i}" for i in range(per)]
        assert [o["d"] for o in mine] == [{"by": f"p{k // 2}", "i": i} for i in range(per)]
        assert [o["seq"] for o in mine] == [seq for seq, _ in results[k]]


# ------------------------------------------------------------------ uploads (issue 6)

UP_A, UP_B, UP_O = "A" * 22, "B-b_" * 5 + "bb", "O" * 22


class TestUploads:
    """Metadata of therapists' uploaded pictures (the files are rooms/assets/uploads.py's)."""

    def test_create_get_list_newest_first_with_the_same_fields_and_types(self, store, th):
        other = store.create_therapist("lee@example.org", "Dr. Lee", "hash")
        a = store.create_upload(UP_A, th["id"], 640, 480, 12345)
        store.create_upload(UP_O, other["id"], 10, 10, 99)
        b = store.create_upload(UP_B, th["id"], 100, 200, 4321)
        assert (a["id"], a["therapist_id"], a["width"], a["height"], a["bytes"]) == \
            (UP_A, th["id"], 640, 480, 12345)
        assert set(a) == {"id", "therapist_id", "width", "height", "bytes", "created_at"}
        assert all(type(a[k]) is int for k in ("therapist_id", "width", "height", "bytes"))
        assert type(a["created_at"]) is float and type(a["id"]) is str
        assert store.get_upload(UP_A) == a
        assert [u["id"] for u in store.list_uploads(th["id"])] == [UP_B, UP_A]
        assert store.list_uploads(th["id"])[0] == b
        assert [u["id"] for u in store.list_uploads(other["id"])] == [UP_O]
        assert store.count_uploads(th["id"]) == 2 and store.count_uploads(987654) == 0

    def test_a_used_id_is_refused_and_the_first_kept(self, store, th):
        first = store.create_upload(UP_A, th["id"], 1, 2, 3)
        with pytest.raises((ValueError, sqlite3.IntegrityError)):
            store.create_upload(UP_A, th["id"], 7, 8, 9)
        assert store.get_upload(UP_A) == first and store.count_uploads(th["id"]) == 1

    def test_delete_once_and_only_that_one(self, store, th):
        store.create_upload(UP_A, th["id"], 1, 1, 1)
        keep = store.create_upload(UP_B, th["id"], 2, 2, 2)
        assert store.delete_upload(UP_A) is True
        assert store.get_upload(UP_A) is None
        assert store.delete_upload(UP_A) is False
        assert store.list_uploads(th["id"]) == [keep] and store.count_uploads(th["id"]) == 1

    def test_ids_that_name_other_records_find_nothing(self, store, th):
        up = store.create_upload(UP_A, th["id"], 1, 1, 1)
        for bad in ("nope", UP_A + ":x", ":", f"{th['id']}:uploads", ""):
            assert store.get_upload(bad) is None
            assert store.delete_upload(bad) is False
        assert store.list_uploads(f"{th['id']}:uploads") == []
        assert store.count_uploads(f"{th['id']}:uploads") == 0
        assert store.get_upload(up["id"]) == up

    def test_under_a_missing_therapist_is_refused_and_nothing_is_written(self, store):
        with pytest.raises(MISSING_PARENT):
            store.create_upload(UP_A, 987654, 1, 1, 1)
        assert store.get_upload(UP_A) is None and store.list_uploads(987654) == []

    def test_survive_reopening_and_the_deletion_of_a_room(self, open_store, store, th, room):
        up = store.create_upload(UP_A, th["id"], 3, 4, 5)
        store.delete_room(room["id"])
        assert open_store().get_upload(UP_A) == up
        assert open_store().list_uploads(th["id"]) == [up]


# ------------------------------------------------------------------ Redis only

@pytest.fixture
def redis_store(redis_url):
    store = RedisStorage(redis_url)
    yield store
    store.close()


def test_redis_delete_room_leaves_no_key_behind(redis_store):
    r = redis_store.r
    th = redis_store.create_therapist("kim@example.org", "Dr. Kim", "hash")
    keep = redis_store.create_room(th["id"], "Keep", {})
    before = set(r.keys("*"))
    room = redis_store.create_room(th["id"], "Sam", {})
    inv = redis_store.create_invite(room["id"], "child", "h-del", 2e9)
    redis_store.revoke_invite(inv["id"])
    redis_store.create_invite(room["id"], "parent", "h-del-2", 2e9)
    redis_store.create_participant(room["id"], "child", "Sam", "fox", inv["id"])
    for k in range(1, 4):
        append(redis_store, room["id"], n=k)
    redis_store.save_snapshot(room["id"], 3, "{}")
    redis_store.room_here(room["id"], "host:1:ab", 2e9)       # a process serving it (SCALE2)
    assert len(set(r.keys("*")) - before) >= 10
    assert redis_store.delete_room(room["id"])
    assert set(r.keys("*")) == before
    assert redis_store.list_rooms(th["id"]) == [keep]


def test_redis_keys_are_namespaced_and_readable(redis_store):
    th = redis_store.create_therapist("kim@example.org", "Dr. Kim", "hash")
    room = redis_store.create_room(th["id"], "Sam", {})
    inv = redis_store.create_invite(room["id"], "child", "tok", 2e9)
    part = redis_store.create_participant(room["id"], "child", "Sam", "fox")
    append(redis_store, room["id"], pid=part["id"], op_id="a", n=1)
    redis_store.save_snapshot(room["id"], 1, "{}")
    rid, tid = room["id"], th["id"]
    assert set(redis_store.r.keys("*")) == {
        "pr:therapists:next-id", f"pr:therapist:{tid}", f"pr:therapist:{tid}:rooms",
        "pr:therapist-email:kim@example.org",
        f"pr:room:{rid}", f"pr:room:{rid}:invites", f"pr:room:{rid}:participants",
        f"pr:room:{rid}:ops", f"pr:room:{rid}:op-ids", f"pr:room:{rid}:snapshot",
        f"pr:invite:{inv['id']}", "pr:invite-token:tok", f"pr:participant:{part['id']}"}


def test_redis_append_reloads_its_script_after_a_script_flush(redis_store, redis_url):
    """EVALSHA falls back to loading the script (a restarted Redis has none cached)."""
    th = redis_store.create_therapist("kim@example.org", "Dr. Kim", "hash")
    room = redis_store.create_room(th["id"], "Sam", {})
    assert append(redis_store, room["id"], n=1) == (1, True)
    redis_store.r.script_flush()
    assert append(redis_store, room["id"], n=2) == (2, True)
    assert append(redis_store, room["id"], n=1) == (1, False)


def test_redis_ops_since_reads_long_logs_in_chunks(redis_store, monkeypatch):
    import rooms.store.redis_store as mod
    monkeypatch.setattr(mod, "_HMGET_CHUNK", 3)
    th = redis_store.create_therapist("kim@example.org", "Dr. Kim", "hash")
    room = redis_store.create_room(th["id"], "Sam", {})
    for k in range(1, 11):
        append(redis_store, room["id"], n=k)
    assert [o["d"]["n"] for o in redis_store.ops_since(room["id"], 0)] == list(range(1, 11))
    assert [o["seq"] for o in redis_store.ops_since(room["id"], 1, limit=7)] == list(range(2, 9))


# ------------------------------------------------------------------ issue 7 part B:
# session records, pictures, notes, audit log, retention, failed sign-ins (both backends)

def _record(room, started=1000.0, ended=2000.0, **kw):
    return {"room_id": room["id"], "therapist_id": room["therapist_id"],
            "room_name": room["name"], "started_at": started, "ended_at": ended,
            "first_seq": 1, "last_seq": 9,
            "participants": [{"id": "p1", "name": "Sam 🦊", "role": "child"}],
            "timeline": [{"seq": 1, "at": 1000.5, "who": "Sam", "role": "child",
                          "kind": "join", "text": "joined", "data": {"n": None}}], **kw}


PNG_A, PNG_B = b"\x89PNG\r\n\x1a\n-a-\x00\xff", b"\x89PNG\r\n\x1a\n-b-" + bytes(range(256))


class TestSessionRecords:
    def test_create_get_list_with_pictures(self, store, room):
        rec = store.create_record(_record(room), [{"name": "01-canvas-p1.png", "caption": "Page 1",
                                                   "png": PNG_A},
                                                  {"name": "02-sandtray.png", "caption": None,
                                                   "png": PNG_B}])
        assert set(rec) == {"id", "room_id", "therapist_id", "room_name", "started_at", "ended_at",
                            "first_seq", "last_seq", "participants", "timeline", "created_at"}
        assert type(rec["therapist_id"]) is int and type(rec["started_at"]) is float
        assert type(rec["first_seq"]) is int and type(rec["created_at"]) is float
        assert rec["participants"] == _record(room)["participants"]
        assert rec["timeline"] == _record(room)["timeline"]
        assert store.get_record(rec["id"]) == rec
        assert store.list_record_pictures(rec["id"]) == [
            {"idx": 0, "name": "01-canvas-p1.png", "caption": "Page 1"},
            {"idx": 1, "name": "02-sandtray.png", "caption": None}]
        assert store.get_record_picture(rec["id"], 0) == PNG_A
        assert store.get_record_picture(rec["id"], 1) == PNG_B
        assert store.get_record_picture(rec["id"], 2) is None
        later = store.create_record(_record(room, started=3000.0, ended=3500.0))
        listed = store.list_records(room["id"])
        assert [r["id"] for r in listed] == [later["id"], rec["id"]]        # newest first
        assert "timeline" not in listed[0] and listed[1]["participants"] == rec["participants"]

    def test_delete_record_takes_its_pictures_and_notes(self, store, room):
        rec = store.create_record(_record(room), [{"name": "a.png", "caption": "", "png": PNG_A}])
        keep = store.create_record(_record(room))
        note = store.add_note(rec["id"], "private")
        kept_note = store.add_note(keep["id"], "kept")
        assert store.delete_record(rec["id"]) is True
        assert store.get_record(rec["id"]) is None and store.get_note(note["id"]) is None
        assert store.list_record_pictures(rec["id"]) == [] and store.list_notes(rec["id"]) == []
        assert store.get_record_picture(rec["id"], 0) is None
        assert store.delete_record(rec["id"]) is False
        assert [r["id"] for r in store.list_records(room["id"])] == [keep["id"]]
        assert store.get_note(kept_note["id"]) == kept_note

    def test_deleting_the_room_deletes_records_pictures_and_notes(self, store, room, th):
        other = store.create_room(th["id"], "Other", {})
        rec = store.create_record(_record(room), [{"name": "a.png", "caption": "x", "png": PNG_A}])
        note = store.add_note(rec["id"], "private")
        kept = store.create_record(_record(other))
        assert store.delete_room(room["id"])
        assert store.get_record(rec["id"]) is None and store.list_records(room["id"]) == []
        assert store.get_record_picture(rec["id"], 0) is None and store.get_note(note["id"]) is None
        assert store.get_record(kept["id"]) == kept

    def test_a_record_of_a_missing_room_is_refused(self, store, room):
        store.delete_room(room["id"])
        with pytest.raises(MISSING_PARENT):
            store.create_record(_record(room), [{"name": "a.png", "caption": "", "png": PNG_A}])
        assert store.list_records(room["id"]) == []
        with pytest.raises(MISSING_PARENT):
            store.add_note("no-such-record", "text")

    def test_records_ended_before(self, store, room, th):
        old = store.create_record(_record(room, started=100.0, ended=200.0))
        store.create_record(_record(room, started=300.0, ended=400.0))
        other_th = store.create_therapist("lee@example.org", "Dr. Lee", "hash")
        other_room = store.create_room(other_th["id"], "Jo", {})
        store.create_record(_record(other_room, started=100.0, ended=150.0))
        assert store.records_ended_before(th["id"], 300.0) == [old["id"]]
        assert store.records_ended_before(th["id"], 100.0) == []

    def test_ids_that_name_other_records_find_nothing(self, store, room):
        rec = store.create_record(_record(room), [{"name": "a.png", "caption": "", "png": PNG_A}])
        note = store.add_note(rec["id"], "n")
        for suffix in (":pictures", ":png", ":notes", ":"):
            assert store.get_record(rec["id"] + suffix) is None
            assert store.list_record_pictures(rec["id"] + suffix) == []
            assert store.get_record_picture(rec["id"] + suffix, 0) is None
            assert store.delete_record(rec["id"] + suffix) is False
            assert store.get_note(note["id"] + suffix) is None
            assert store.update_note(note["id"] + suffix, "evil") is False
            assert store.delete_note(note["id"] + suffix) is False
            assert store.list_records(room["id"] + suffix) == []
        assert store.get_record(rec["id"]) == rec and store.get_note(note["id"]) == note


class TestNotes:
    def test_add_edit_delete(self, store, room):
        rec = store.create_record(_record(room))
        first = store.add_note(rec["id"], "Sam <b>drew</b> a dragon 🐉")
        second = store.add_note(rec["id"], "second")
        assert set(first) == {"id", "record_id", "text", "created_at", "updated_at"}
        assert first["text"] == "Sam <b>drew</b> a dragon 🐉"            # stored as given
        assert type(first["created_at"]) is float
        assert [n["id"] for n in store.list_notes(rec["id"])] == [first["id"], second["id"]]
        assert store.update_note(first["id"], "changed") is True
        changed = store.get_note(first["id"])
        assert changed["text"] == "changed" and changed["updated_at"] >= first["updated_at"]
        assert changed["created_at"] == first["created_at"]
        assert store.delete_note(first["id"]) is True and store.delete_note(first["id"]) is False
        assert store.update_note(first["id"], "gone") is False
        assert [n["id"] for n in store.list_notes(rec["id"])] == [second["id"]]


class TestAuditRetentionLogins:
    def test_audit_log_newest_first_per_therapist(self, store, th, room):
        other = store.create_therapist("lee@example.org", "Dr. Lee", "hash")
        store.add_audit(th["id"], "view", "Session of 1 Jan", record_id="r1", room_id=room["id"])
        store.add_audit(th["id"], "export", "PDF", record_id="r1", room_id=room["id"])
        store.add_audit(other["id"], "view", "other's")
        log = store.list_audit(th["id"])
        assert [e["action"] for e in log] == ["export", "view"]
        assert set(log[0]) == {"at", "action", "record_id", "room_id", "detail"}
        assert log[1]["record_id"] == "r1" and type(log[1]["at"]) is float
        assert [e["detail"] for e in store.list_audit(other["id"])] == ["other's"]
        assert store.list_audit(other["id"])[0]["room_id"] is None
        assert len(store.list_audit(th["id"], limit=1)) == 1
        with pytest.raises(MISSING_PARENT):
            store.add_audit(987654, "view", "nobody")

    def test_audit_entries_outlive_the_record_and_the_room(self, store, th, room):
        rec = store.create_record(_record(room))
        store.add_audit(th["id"], "delete", "Session", record_id=rec["id"], room_id=room["id"])
        store.delete_room(room["id"])
        assert [e["action"] for e in store.list_audit(th["id"])] == ["delete"]

    def test_retention_setting(self, store, th):
        other = store.create_therapist("lee@example.org", "Dr. Lee", "hash")
        assert store.get_retention_days(th["id"]) is None
        store.set_retention_days(th["id"], 30)
        store.set_retention_days(other["id"], 7)
        assert store.get_retention_days(th["id"]) == 30
        assert store.retention_settings() == sorted([(th["id"], 30), (other["id"], 7)])
        store.set_retention_days(th["id"], None)
        assert store.get_retention_days(th["id"]) is None
        assert store.retention_settings() == [(other["id"], 7)]
        with pytest.raises(MISSING_PARENT):
            store.set_retention_days(987654, 5)

    def test_login_failures_count_per_key_within_a_window(self, store):
        for at in (100.0, 200.0, 300.0):
            store.add_login_failure("email:kim@example.org", at=at)
        store.add_login_failure("ip:10.0.0.1", at=300.0)
        assert store.count_login_failures("email:kim@example.org", since=150.0) == 2
        assert store.count_login_failures("email:kim@example.org", since=0.0) == 3
        assert store.count_login_failures("ip:10.0.0.1", since=0.0) == 1
        store.add_login_failure("email:kim@example.org", at=300.0)      # same second counts twice
        assert store.count_login_failures("email:kim@example.org", since=250.0) == 2
        store.clear_login_failures("email:kim@example.org")
        assert store.count_login_failures("email:kim@example.org", since=0.0) == 0
        assert store.count_login_failures("ip:10.0.0.1", since=0.0) == 1


def test_redis_delete_room_leaves_no_record_key_behind(redis_store):
    r = redis_store.r
    th = redis_store.create_therapist("kim@example.org", "Dr. Kim", "hash")
    redis_store.create_room(th["id"], "Keep", {})
    before = set(r.keys("*"))
    room = redis_store.create_room(th["id"], "Sam", {})
    rec = redis_store.create_record(_record(room), [{"name": "a.png", "caption": "", "png": PNG_A}])
    redis_store.add_note(rec["id"], "note")
    gone = redis_store.create_record(_record(room))
    redis_store.add_note(gone["id"], "note")
    redis_store.delete_record(gone["id"])
    assert len(set(r.keys("*")) - before) >= 6
    assert redis_store.delete_room(room["id"])
    assert set(r.keys("*")) == before


# ------------------------------------------------------------------ moving data (issue 8)
# list_therapists() and restore() (rooms/store/transfer.py moves rooms between stores with them).

def test_list_therapists_in_id_order(store):
    a = store.create_therapist("a@example.org", "A", "h")
    b = store.create_therapist("b@example.org", "B", "h")
    assert store.list_therapists() == [a, b]


def test_restore_keeps_ids_seqs_and_times_and_the_store_goes_on(store):
    th = {"id": 7, "email": "kim@example.org", "name": "Dr. Kim", "password_hash": "h",
          "created_at": 1_700_000_000.25}
    room = {"id": "roomA", "therapist_id": 7, "name": "Sam", "settings": {"child_may_draw": True},
            "seq": 0, "created_at": 1_700_000_001.5}
    inv = {"id": "invA", "room_id": "roomA", "role": "child", "token_hash": "t" * 64,
           "created_at": 1_700_000_002.0, "expires_at": 2e9, "revoked_at": 1_700_000_003.0}
    part = {"id": "kidA", "room_id": "roomA", "role": "child", "name": "Sam", "avatar": "fox",
            "invite_id": "invA", "created_at": 1_700_000_004.0}
    ops = [{"room_id": "roomA", "seq": s, "by": "kidA", "op_id": f"op-{s}", "a": "canvas",
            "t": "stroke", "kind": "do", "target": None, "d": {"n": s, "x": [0.1, 2]},
            "ts": 1_700_000_010.0 + s} for s in (1, 2, 3)]
    for kind, rec in [("therapist", th), ("room", room), ("invite", inv), ("participant", part)]:
        store.restore(kind, rec)
    for o in ops:
        store.restore("op", o)
    # An export from before AUTH4 has no session epoch: it starts at 0.
    assert store.get_therapist(7) == {**th, "session_epoch": 0}
    assert store.get_therapist_by_email("kim@example.org") == {**th, "session_epoch": 0}
    assert store.get_room("roomA") == {**room, "seq": 3}
    assert store.find_invite("t" * 64) == inv and store.get_participant("kidA") == part
    assert store.ops_since("roomA", 0) == [{k: v for k, v in o.items() if k != "room_id"} for o in ops]
    assert store.find_op("roomA", "kidA", "op-2") == 2
    # the store carries on after restored data: next seq, dedupe, fresh therapist ids
    assert append(store, "roomA", pid="kidA", op_id="op-1") == (1, False)
    assert append(store, "roomA", pid="kidA", op_id="new") == (4, True)
    assert store.create_therapist("new@example.org", "New", "h")["id"] > 7


def test_restore_refuses_duplicates_and_orphans_and_writes_nothing(store, th, room):
    rec = dict(store.get_room(room["id"]))
    with pytest.raises(Exception):
        store.restore("room", rec)                      # exists already
    with pytest.raises(Exception):
        store.restore("therapist", dict(th))
    append(store, room["id"], n=1)
    op = {"room_id": room["id"], "seq": 1, "by": "other", "op_id": "other", "a": "canvas",
          "t": "stroke", "kind": "do", "target": None, "d": {}, "ts": 1.0}
    with pytest.raises(Exception):
        store.restore("op", op)                         # seq 1 is taken
    with pytest.raises(MISSING_PARENT):
        store.restore("op", {**op, "room_id": "no-room", "seq": 5})
    with pytest.raises(MISSING_PARENT):
        store.restore("participant", {"id": "p9", "room_id": "no-room", "role": "child",
                                      "name": "", "avatar": "", "invite_id": None, "created_at": 1.0})
    with pytest.raises(KeyError):
        store.restore("secret", {})
    assert [o["op_id"] for o in store.ops_since(room["id"], 0)] == ["op-1"]
    assert store.get_participant("p9") is None and store.last_seq("no-room") == 0


def test_AUTH4_restore_keeps_the_session_epoch(store):
    th = {"id": 7, "email": "kim@example.org", "name": "Dr. Kim", "password_hash": "h",
          "created_at": 1_700_000_000.25, "session_epoch": 3}
    store.restore("therapist", th)
    assert store.get_therapist(7) == th           # a cookie ended before the move stays ended


def test_AUTH4_an_sqlite_database_from_before_the_session_epoch_gets_it(tmp_path):
    path = str(tmp_path / "old.sqlite3")
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE therapists (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, "
               "name TEXT NOT NULL, password_hash TEXT NOT NULL, created_at REAL NOT NULL)")
    db.execute("INSERT INTO therapists VALUES (1, 'kim@example.org', 'Dr. Kim', 'h', 1.5)")
    db.commit()
    db.close()
    store = SQLiteStorage(path)
    try:
        assert store.get_therapist(1) == {"id": 1, "email": "kim@example.org", "name": "Dr. Kim",
                                          "password_hash": "h", "created_at": 1.5,
                                          "session_epoch": 0}
        assert store.end_sessions(1) == 1
    finally:
        store.close()
    store = SQLiteStorage(path)                   # opening it again changes nothing more
    try:
        assert store.get_therapist(1)["session_epoch"] == 1
    finally:
        store.close()


class TestSessionSafety:
    """Issue 15 part 7: where the child is and whom to call, per room session."""

    def test_saved_per_session_replaced_and_seen_by_another_process(self, open_store, store, room):
        assert store.get_safety(room["id"], 1) is None
        store.save_safety(room["id"], 1, '{"location": "home"}')
        store.save_safety(room["id"], 1, '{"location": "grandma\'s, 3 Elm Rd"}')
        store.save_safety(room["id"], 9, '{"location": "school"}')
        again = open_store()
        assert again.get_safety(room["id"], 1) == '{"location": "grandma\'s, 3 Elm Rd"}'
        assert again.get_safety(room["id"], 9) == '{"location": "school"}'
        assert again.safety_sessions(room["id"]) == [1, 9]

    def test_no_room_no_safety_and_deleting_the_room_takes_it(self, store, room):
        with pytest.raises(KeyError):
            store.save_safety("nope", 1, "{}")
        store.save_safety(room["id"], 1, "{}")
        store.delete_room(room["id"])
        assert store.get_safety(room["id"], 1) is None
        assert store.safety_sessions(room["id"]) == []
        assert store.get_safety("a:b", 1) is None

    def test_deleting_the_sessions_record_takes_its_safety_details(self, store, room):
        """A deleted (or expired, retention) record leaves no address behind."""
        rec = store.create_record(_record(room))                     # first_seq 1
        store.save_safety(room["id"], 1, '{"location": "home"}')
        store.save_safety(room["id"], 20, '{"location": "school"}')  # another session
        assert store.delete_record(rec["id"]) is True
        assert store.get_safety(room["id"], 1) is None
        assert store.get_safety(room["id"], 20) == '{"location": "school"}'
