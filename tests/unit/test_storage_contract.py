"""The storage contract every backend honours (rooms/storage.py docstring).

The tests run once per entry in BACKENDS; a Redis backend is added by writing its
factory (start a real redis-server on a free loopback port) and listing it there.
"""
import json

import pytest

from rooms.storage import SQLiteStorage


def _sqlite(tmp_path):
    return SQLiteStorage(str(tmp_path / "contract.sqlite3"))


BACKENDS = {"sqlite": _sqlite}


@pytest.fixture(params=sorted(BACKENDS))
def store(request, tmp_path):
    backend = BACKENDS[request.param](tmp_path)
    yield backend
    backend.close()


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


def test_sqlite_data_survives_reopening(tmp_path):
    path = str(tmp_path / "reopen.sqlite3")
    first = SQLiteStorage(path)
    th = first.create_therapist("kim@example.org", "Dr. Kim", "hash")
    room = first.create_room(th["id"], "Sam", {})
    append(first, room["id"], n=1)
    first.close()
    again = SQLiteStorage(path)
    try:
        assert again.last_seq(room["id"]) == 1
        assert append(again, room["id"], n=2) == (2, True)
    finally:
        again.close()
