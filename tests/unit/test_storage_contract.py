"""The storage contract every backend honours (rooms/storage.py docstring).

The tests run once per entry in BACKENDS: SQLite in a temporary file, and Redis on a
real redis-server the tests start on a free loopback port (tests/conftest.py,
`redis_server`; emptied before each test). A factory returns a function that opens
one more instance on the test's data, as another process would.
"""
import json
import sqlite3
import threading

import pytest

from rooms.redis_storage import RedisStorage
from rooms.storage import SQLiteStorage

# What creating a record under a missing parent raises (SQLite: its foreign keys).
MISSING_PARENT = (KeyError, sqlite3.IntegrityError)


def _sqlite(request, tmp_path):
    path = str(tmp_path / "contract.sqlite3")
    return lambda: SQLiteStorage(path)


def _redis(request, tmp_path):
    url = request.getfixturevalue("redis_url")
    return lambda: RedisStorage(url)


BACKENDS = {"sqlite": _sqlite, "redis": _redis}


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
        assert set(th) == {"id", "email", "name", "password_hash", "created_at"}
        assert type(th["id"]) is int and type(th["created_at"]) is float
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
    assert len(set(r.keys("*")) - before) >= 9
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
    import rooms.redis_storage as mod
    monkeypatch.setattr(mod, "_HMGET_CHUNK", 3)
    th = redis_store.create_therapist("kim@example.org", "Dr. Kim", "hash")
    room = redis_store.create_room(th["id"], "Sam", {})
    for k in range(1, 11):
        append(redis_store, room["id"], n=k)
    assert [o["d"]["n"] for o in redis_store.ops_since(room["id"], 0)] == list(range(1, 11))
    assert [o["seq"] for o in redis_store.ops_since(room["id"], 1, limit=7)] == list(range(2, 9))
