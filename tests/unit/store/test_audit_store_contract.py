"""The security audit chain (rooms/store/audit_store.py) on SQLite and on a real
redis-server: append-only, one chain, per-therapist views, tampering shows."""
import json
import threading

import pytest

from rooms.store import audit_store
from tests.unit.store.test_storage_contract import open_store, store  # noqa: F401


def ev(kind, therapist_id=None, target="", at=None):
    actor = f"therapist:{therapist_id}" if therapist_id else "system"
    return audit_store.event(kind, target, actor=actor, address="10.0.0.9",
                             therapist_id=therapist_id, at=at)


def alter(store, seq, **changes):  # noqa: F811
    """Edit one stored row by hand, as someone with the database file would."""
    if hasattr(store, "r"):
        key = store._security_key()
        row = json.loads(store.r.lindex(key, seq - 1))
        store.r.lset(key, seq - 1, json.dumps({**row, **changes}))
    else:
        sets = ", ".join(f"{k}=?" for k in changes)
        with store._lock:
            store._db.execute(f"UPDATE security_log SET {sets} WHERE seq=?", (*changes.values(), seq))


def delete(store, seq):  # noqa: F811
    if hasattr(store, "r"):
        key = store._security_key()
        store.r.lrem(key, 1, store.r.lindex(key, seq - 1))
    else:
        with store._lock:
            store._db.execute("DELETE FROM security_log WHERE seq=?", (seq,))


def fill(store, n=5):  # noqa: F811
    for i in range(n):
        store.append_security_event(ev(f"kind-{i}", therapist_id=1 + i % 2, target=f"t{i}",
                                       at=1000.0 + i))


def test_AUDIT1_rows_chain_and_each_therapist_sees_their_own(open_store, store):  # noqa: F811
    first = store.append_security_event(ev("sign-in", 7, at=100.5))
    assert first["seq"] == 1 and first["prev_hash"] == audit_store.GENESIS
    second = store.append_security_event(ev("room-created", 8, "room abc", at=101.25))
    third = store.append_security_event(ev("export-data", None, "everything", at=102.0))
    assert second["prev_hash"] == first["hash"] and third["prev_hash"] == second["hash"]
    again = open_store()
    assert again.list_security_events(7) == [first]
    assert again.list_security_events(8) == [second]
    assert again.list_security_events() == [third, second, first]          # newest first
    assert again.list_security_events(limit=2) == [third, second]
    assert again.security_chain() == [first, second, third]
    assert audit_store.verify(again.security_chain()) == (3, None)


def test_AUDIT1_concurrent_appends_from_two_stores_never_fork(open_store):  # noqa: F811
    stores = [open_store(), open_store()]

    def append(s, n):
        for i in range(25):
            s.append_security_event(ev(f"k{n}-{i}", therapist_id=n + 1))
    threads = [threading.Thread(target=append, args=(s, n)) for n, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    chain = stores[0].security_chain()
    assert [r["seq"] for r in chain] == list(range(1, 51))
    assert audit_store.verify(chain) == (50, None)


@pytest.mark.parametrize("change", [{"target": "nothing to see"}, {"actor": "system"},
                                    {"at": 1.0}, {"address": None}, {"kind": "sign-in"}])
def test_AUDIT2_an_altered_row_is_named(store, change):  # noqa: F811
    fill(store)
    assert audit_store.verify(store.security_chain()) == (5, None)
    alter(store, 3, **change)
    assert audit_store.verify(store.security_chain()) == (3, "row 3 was altered (its hash does not match)")


def test_AUDIT2_a_rehashed_row_breaks_the_next_link(store):  # noqa: F811
    """Someone who alters a row and fixes its own hash still breaks row 4's link."""
    fill(store)
    row = store.security_chain()[2]
    forged = {**row, "target": "forged"}
    alter(store, 3, target="forged", hash=audit_store.row_hash(row["prev_hash"], forged))
    assert audit_store.verify(store.security_chain()) == (4, "row 4 does not link to the row before it")


def test_AUDIT2_a_deleted_row_is_named(store):  # noqa: F811
    fill(store)
    delete(store, 2)
    assert audit_store.verify(store.security_chain()) == (3, "row 3 follows row 1 (row 2 is missing)")


def test_AUDIT3_restore_puts_a_chain_only_into_an_empty_log(open_store, store):  # noqa: F811
    chain, prev = [], None
    for i in range(3):
        prev = audit_store.chained(prev, i + 1, ev(f"k{i}", therapist_id=4, at=50.0 + i))
        chain.append(prev)
    store.restore_security_rows(chain)
    again = open_store()
    assert again.security_chain() == chain and again.list_security_events(4) == chain[::-1]
    with pytest.raises(ValueError):
        again.restore_security_rows(chain)
    assert again.security_chain() == chain
    fourth = again.append_security_event(ev("after", therapist_id=4))
    assert fourth["seq"] == 4 and audit_store.verify(again.security_chain()) == (4, None)


def test_AUDIT2_an_unreadable_row_is_named(store):  # noqa: F811
    fill(store, 3)
    if hasattr(store, "r"):
        store.r.lset(store._security_key(), 1, "not json")
    else:
        with store._lock:
            store._db.execute("UPDATE security_log SET at='soon' WHERE seq=2")
    assert audit_store.verify(store.security_chain())[0] == 2
