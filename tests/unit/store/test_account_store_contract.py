"""The storage contract of rooms/store/account_store.py (sign-ins, passwords, admins), on
SQLite and on a real redis-server, with the fixtures of test_storage_contract."""
import pytest

from tests.unit.store.test_storage_contract import MISSING_PARENT, open_store, store  # noqa: F401


@pytest.fixture
def kim(store):  # noqa: F811
    return store.create_therapist("kim@example.org", "Dr. Kim", "old-hash")


def test_AUTH7_set_password_replaces_the_hash_and_moves_the_epoch_on(open_store, store, kim):  # noqa: F811
    lee = store.create_therapist("lee@example.org", "Dr. Lee", "lee-hash")
    assert store.set_password(kim["id"], "new-hash") == 1
    again = open_store()
    rec = again.get_therapist(kim["id"])
    assert rec["password_hash"] == "new-hash" and rec["session_epoch"] == 1
    assert again.get_therapist(lee["id"]) == lee
    assert store.set_password(999, "h") is None and store.get_therapist(999) is None
    assert store.set_password("1:x", "h") is None


def test_AUTH7_sign_ins_are_listed_newest_first_and_end_one_by_one(open_store, store, kim):  # noqa: F811
    lee = store.create_therapist("lee@example.org", "Dr. Lee", "h")
    store.add_sign_in(kim["id"], "a" * 22, "10.0.0.1", "Firefox on Linux", at=100.5)
    store.add_sign_in(kim["id"], "b" * 22, "10.0.0.2", "Safari on iPad", at=200.25)
    store.add_sign_in(lee["id"], "c" * 22, "10.0.0.3", "Chrome", at=150.0)
    again = open_store()
    assert again.list_sign_ins(kim["id"]) == [
        {"id": "b" * 22, "therapist_id": kim["id"], "created_at": 200.25, "seen_at": 200.25,
         "address": "10.0.0.2", "agent": "Safari on iPad"},
        {"id": "a" * 22, "therapist_id": kim["id"], "created_at": 100.5, "seen_at": 100.5,
         "address": "10.0.0.1", "agent": "Firefox on Linux"}]
    again.touch_sign_in("a" * 22, 300.0)
    assert store.get_sign_in("a" * 22)["seen_at"] == 300.0
    assert store.end_sign_in(lee["id"], "a" * 22) is False          # not theirs
    assert store.end_sign_in(kim["id"], "a" * 22) is True
    assert store.end_sign_in(kim["id"], "a" * 22) is False
    assert store.get_sign_in("a" * 22) is None
    assert [s["id"] for s in store.list_sign_ins(kim["id"])] == ["b" * 22]
    assert store.get_sign_in("nope") is None and store.get_sign_in("x:y") is None


def test_AUTH7_end_sign_ins_keeps_only_the_one_named(store, kim):  # noqa: F811
    lee = store.create_therapist("lee@example.org", "Dr. Lee", "h")
    for n, sid in enumerate(("a", "b", "c")):
        store.add_sign_in(kim["id"], sid * 22, "10.0.0.1", "x", at=100.0 + n)
    store.add_sign_in(lee["id"], "d" * 22, "10.0.0.1", "x", at=100.0)
    assert store.end_sign_ins(kim["id"], keep="b" * 22) == 2
    assert [s["id"] for s in store.list_sign_ins(kim["id"])] == ["b" * 22]
    assert store.end_sign_ins(kim["id"]) == 1 and store.list_sign_ins(kim["id"]) == []
    assert [s["id"] for s in store.list_sign_ins(lee["id"])] == ["d" * 22]


def test_a_sign_in_or_admin_of_no_therapist_is_refused(store):  # noqa: F811
    with pytest.raises(MISSING_PARENT):
        store.add_sign_in(4242, "a" * 22, "10.0.0.1", "x")
    assert store.get_sign_in("a" * 22) is None
    with pytest.raises(MISSING_PARENT):
        store.set_admin(4242)
    assert store.is_admin(4242) is False


def test_admins(open_store, store, kim):  # noqa: F811
    assert store.is_admin(kim["id"]) is False
    store.set_admin(kim["id"])
    store.set_admin(kim["id"])
    assert open_store().is_admin(kim["id"]) is True
    store.set_admin(kim["id"], False)
    assert store.is_admin(kim["id"]) is False


def test_AUTH11_totp_secret_and_steps_that_work_once(open_store, store, kim):  # noqa: F811
    assert store.get_totp(kim["id"]) is None
    assert store.use_totp_step(kim["id"], 5) is False            # none set
    store.set_totp(kim["id"], "JBSWY3DPEHPK3PXP")
    again = open_store()
    assert again.get_totp(kim["id"]) == {"secret": "JBSWY3DPEHPK3PXP", "last_step": -1}
    assert store.use_totp_step(kim["id"], 100) is True
    assert again.use_totp_step(kim["id"], 100) is False          # the same code again
    assert store.use_totp_step(kim["id"], 99) is False           # an older one
    assert store.use_totp_step(kim["id"], 101) is True
    assert again.get_totp(kim["id"])["last_step"] == 101
    store.set_recovery_codes(kim["id"], ["h1", "h2"])
    store.set_totp(kim["id"], None)
    assert store.get_totp(kim["id"]) is None and store.count_recovery_codes(kim["id"]) == 0
    with pytest.raises(MISSING_PARENT):
        store.set_totp(4242, "JBSWY3DPEHPK3PXP")
    assert store.get_totp(4242) is None


def test_AUTH11_recovery_codes_are_single_use_and_replaced_as_a_set(open_store, store, kim):  # noqa: F811
    store.set_recovery_codes(kim["id"], ["h1", "h2", "h3"])
    again = open_store()
    assert again.count_recovery_codes(kim["id"]) == 3
    assert store.use_recovery_code(kim["id"], "h2") is True
    assert again.use_recovery_code(kim["id"], "h2") is False
    assert store.use_recovery_code(kim["id"], "nope") is False
    assert store.count_recovery_codes(kim["id"]) == 2
    store.set_recovery_codes(kim["id"], ["h9"])
    assert store.use_recovery_code(kim["id"], "h1") is False
    assert store.use_recovery_code(kim["id"], "h9") is True
    with pytest.raises(MISSING_PARENT):
        store.set_recovery_codes(4242, ["h1"])
    assert store.count_recovery_codes(4242) == 0


def test_the_account_language_is_kept_per_therapist(open_store, store, kim):  # noqa: F811
    """Issue 16 part 3: the therapist's account language, None until set."""
    lee = store.create_therapist("lee@example.org", "Dr. Lee", "h")
    assert store.get_language(kim["id"]) is None
    store.set_language(kim["id"], "es")
    again = open_store()
    assert again.get_language(kim["id"]) == "es" and again.get_language(lee["id"]) is None
    again.set_language(kim["id"], "en")
    assert store.get_language(kim["id"]) == "en"
    assert store.get_language(999) is None and store.get_language("1:x") is None
    with pytest.raises(MISSING_PARENT):
        store.set_language(4242, "es")
    with pytest.raises(ValueError):
        store.set_language(kim["id"], "xx")
    assert store.get_language(4242) is None and store.get_language(kim["id"]) == "en"
